import { ShapeError, fmtShape } from "../core/errors.js";
import type { BatchDim, Params, Primitive } from "../core/primitive.js";
import { ShapedArray } from "../core/shaped-array.js";
import { type Tensor, Tracer } from "../core/tensor.js";
import { type MainTrace, type Trace, bind, checkOutputsLive, withMain } from "../core/trace.js";
import { JacobiError } from "../core/errors.js";
import { broadcastBatch, moveBatchAxis } from "../primitives/batching.js";

/** A value with a batch axis at `bdim` (or none: the same for every example). */
export class BatchTracer extends Tracer {
  readonly aval: ShapedArray;
  constructor(
    readonly main: MainTrace,
    readonly val: Tensor,
    readonly bdim: BatchDim,
  ) {
    super();
    const a = val.aval;
    this.aval = bdim === null ? a : new ShapedArray(a.shape.filter((_, i) => i !== bdim), a.dtype, a.weakType);
  }
  concrete() {
    // Per-example values differ; only an unbatched value has one concrete value.
    return this.bdim === null ? this.val.concrete() : null;
  }
  protected override wrapped(): Tensor | null {
    return this.bdim === null ? this.val : null;
  }
}

export class BatchTrace implements Trace {
  constructor(
    readonly main: MainTrace,
    readonly axisSize: number,
  ) {}
  processPrimitive(prim: Primitive<any>, args: Tensor[], params: Params): Tensor[] {
    // Loops rather than map/every: this runs once per operation under every vmap.
    const n = args.length;
    const vals = new Array<Tensor>(n);
    const dims = new Array<BatchDim>(n);
    let batched = false;
    for (let i = 0; i < n; i++) {
      const a = args[i];
      if (a instanceof BatchTracer && a.main === this.main) {
        vals[i] = a.val;
        dims[i] = a.bdim;
        if (a.bdim !== null) batched = true;
      } else {
        vals[i] = a;
        dims[i] = null;
      }
    }
    let outs: Tensor[], odims: BatchDim[] | null = null;
    if (!batched) outs = bind(prim, vals, params);
    else {
      if (!prim.batch) throw new JacobiError(`vmap of ${prim.name} is not supported (it has no batch rule)`);
      [outs, odims] = prim.batch(vals, dims, params);
    }
    const res = new Array<Tensor>(outs.length);
    for (let i = 0; i < outs.length; i++) res[i] = new BatchTracer(this.main, outs[i], odims === null ? null : odims[i]);
    return res;
  }
}

/**
 * Runs `f` once on batched inputs: `inAxes[i]` is the batch axis of `args[i]` (null: not batched).
 * Outputs get their batch axis at `outAxes[i]` (null: must not depend on the batch).
 */
export function vmapFlat(f: (xs: Tensor[]) => Tensor[], args: Tensor[], inAxes: BatchDim[], outAxes: (i: number) => BatchDim, axisSize?: number): Tensor[] {
  let size = axisSize;
  args.forEach((a, i) => {
    const d = inAxes[i];
    if (d === null) return;
    const n = a.shape[d];
    if (size === undefined) size = n;
    else if (n !== size) {
      throw new ShapeError(`vmap: inconsistent sizes for the mapped axis: input ${i} has size ${n} along axis ${d} (shape ${fmtShape(a.shape)}), but the batch size is ${size}`);
    }
  });
  if (size === undefined) throw new JacobiError("vmap: at least one input must be mapped (all inAxes are null) or an axisSize given");
  const n = size;
  return withMain(
    "vmap",
    (main) => new BatchTrace(main, n),
    (main) => {
      const ins = args.map((a, i) => new BatchTracer(main, a, inAxes[i]));
      const outs = f(ins);
      // An unbatched output is returned as it is, without a bind that would check it.
      checkOutputsLive(outs);
      return outs.map((o, i) => {
        const want = outAxes(i);
        const [val, bdim] = o instanceof BatchTracer && o.main === main ? [o.val, o.bdim] : [o, null];
        if (want === null) {
          if (bdim !== null) throw new ShapeError(`vmap: output ${i} is batched, but outAxes gives null for it`);
          return val;
        }
        const nd = val.ndim + (bdim === null ? 1 : 0);
        const to = want < 0 ? want + nd : want;
        if (to < 0 || to >= nd) throw new ShapeError(`vmap: outAxes ${want} is out of range for output ${i} of rank ${nd - 1}`);
        return bdim === null ? moveBatchAxis(broadcastBatch(val, n), 0, to) : moveBatchAxis(val, bdim, to);
      });
    },
  );
}
