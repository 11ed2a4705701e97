// vmap: the trace that carries a batch axis with every value, and the batched version of a jaxpr.
import { JacobiError, ShapeError, fmtShape } from "../core/errors.js";
import { Label } from "../core/label.js";
import type { BatchDim, Params, Primitive } from "../core/primitive.js";
import { ShapedArray } from "../core/shaped-array.js";
import { type Tensor, Tracer } from "../core/tensor.js";
import { type CustomCallParams, type MainTrace, type Trace, bind, checkOutputsLive, withMain } from "../core/trace.js";
import type { ClosedJaxpr } from "../ir/jaxpr.js";
import { axisOps } from "./axis-ops.js";
import type { CustomJvpParams, CustomVjpParams, FlatBwd, FlatFn, FlatFwd, FlatJvpRule } from "./custom-rules.js";
import { evalJaxpr, jaxprAsFun } from "./eval.js";
import { stageCall, traceToJaxpr } from "./staging.js";

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
  readonly staging = false;
  constructor(
    readonly main: MainTrace,
    readonly axisSize: number,
  ) {}

  private unpack(args: Tensor[]): { vals: Tensor[]; dims: BatchDim[]; batched: boolean } {
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
    return { vals, dims, batched };
  }

  private wrap(outs: Tensor[], dims: BatchDim[] | null): Tensor[] {
    const res = new Array<Tensor>(outs.length);
    for (let i = 0; i < outs.length; i++) res[i] = new BatchTracer(this.main, outs[i], dims === null ? null : dims[i]);
    return res;
  }

  processPrimitive(prim: Primitive<any>, args: Tensor[], params: Params): Tensor[] {
    const { vals, dims, batched } = this.unpack(args);
    if (!batched) return this.wrap(bind(prim, vals, params), null);
    if (!prim.batch) throw new JacobiError(`vmap of ${prim.name} is not supported (it has no batch rule)`);
    const [outs, odims] = prim.batch(vals, dims, params, this.axisSize);
    return this.wrap(outs, odims);
  }

  /**
   * A custom call under vmap is staged first (closure conversion: tracers the function closes over
   * become leading inputs, so its rules see only values of their own level), then the function and
   * its rules are batched and the call is bound again below.
   */
  private batchCustomCall(prim: Primitive<any>, args: Tensor[], p: CustomJvpParams | CustomVjpParams): { vals: Tensor[]; dims: BatchDim[]; numConsts: number; fun: Label<FlatFn> } | null {
    if (!args.some((a) => a instanceof BatchTracer && a.main === this.main && a.bdim !== null)) return null;
    const { call, hoisted } = stageCall(prim.name, p.fun.value, args);
    const { vals, dims } = this.unpack([...hoisted, ...args]);
    const size = this.axisSize;
    const batched = batchJaxpr(call, dims, vals.map((v) => v.aval), size, call.jaxpr.outs.map(() => true)).jaxpr;
    return { vals, dims, numConsts: p.numConsts + hoisted.length, fun: new Label(jaxprAsFun(batched), String(p.fun)) };
  }

  /** The function and the JVP rule are batched (tangents carry their batch axes where their primals do). */
  processCustomJvpCall(prim: Primitive<any>, args: Tensor[], params: CustomCallParams): Tensor[] {
    const p = params as CustomJvpParams;
    const b = this.batchCustomCall(prim, args, p);
    if (b === null) return this.wrap(bind(prim, this.unpack(args).vals, params), null);
    const size = this.axisSize;
    const xdims = b.dims.slice(b.numConsts);
    const m = xdims.length;
    const rule = p.jvp.value;
    const jvp: FlatJvpRule = (ps, ts) => {
      let nOut = 0;
      const outs = vmapFlat(
        (pt) => {
          const [po, to] = rule(pt.slice(0, m), pt.slice(m));
          nOut = po.length;
          return [...po, ...to];
        },
        [...ps, ...ts],
        [...xdims, ...xdims],
        () => 0,
        size,
      );
      return [outs.slice(0, nOut), outs.slice(nOut)];
    };
    const { call: _staged, ...rest } = p;
    const outs = bind(prim, b.vals, { ...rest, numConsts: b.numConsts, fun: b.fun, jvp: new Label(jvp, String(p.jvp)) });
    return this.wrap(outs, outs.map(() => 0));
  }

  /**
   * `fwd` and `bwd` are batched: residuals and output cotangents arrive batched at 0; each input
   * cotangent goes back to its input's batch axis, summed over the batch for an unbatched input.
   */
  processCustomVjpCall(prim: Primitive<any>, args: Tensor[], params: CustomCallParams): Tensor[] {
    const p = params as CustomVjpParams;
    const b = this.batchCustomCall(prim, args, p);
    if (b === null) return this.wrap(bind(prim, this.unpack(args).vals, params), null);
    const size = this.axisSize;
    const xdims = b.dims.slice(b.numConsts);
    const { fwd, bwd } = { fwd: p.fwd.value, bwd: p.bwd.value };
    const batchedFwd: FlatFwd = (xs) => {
      let nOut = 0;
      const outs = vmapFlat(
        (ys) => {
          const [o, r] = fwd(ys);
          nOut = o.length;
          return [...o, ...r];
        },
        xs,
        xdims,
        () => 0,
        size,
      );
      return [outs.slice(0, nOut), outs.slice(nOut)];
    };
    const batchedBwd: FlatBwd = (res, cts) => {
      const nRes = res.length;
      const rc = [...res, ...cts];
      const cs = vmapFlat((ys) => bwd(ys.slice(0, nRes), ys.slice(nRes)), rc, rc.map(() => 0), () => 0, size);
      const ops = axisOps();
      return cs.map((c, i) => (xdims[i] === null ? ops.sumLeading(c) : ops.moveAxis(c, 0, xdims[i] as number)));
    };
    const { call: _staged, ...rest } = p;
    const outs = bind(prim, b.vals, {
      ...rest,
      numConsts: b.numConsts,
      fun: b.fun,
      fwd: new Label(batchedFwd, String(p.fwd)),
      bwd: new Label(batchedBwd, String(p.bwd)),
    });
    return this.wrap(outs, outs.map(() => 0));
  }
}

/**
 * Runs `f` once on batched inputs: `inAxes[i]` is the batch axis of `args[i]` (null: not batched).
 * Outputs get their batch axis at `outAxes[i]` (null: must not depend on the batch).
 */
export function vmapFlat(f: (xs: Tensor[]) => Tensor[], args: Tensor[], inAxes: readonly BatchDim[], outAxes: (i: number) => BatchDim, axisSize?: number): Tensor[] {
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
    (_trace, main) => {
      const ins = args.map((a, i) => new BatchTracer(main, a, inAxes[i]));
      const outs = f(ins);
      // An unbatched output is returned as it is, without a bind that would check it.
      checkOutputsLive(outs);
      const ops = axisOps();
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
        return bdim === null ? ops.moveAxis(ops.broadcastBatch(val, n), 0, to) : ops.moveAxis(val, bdim, to);
      });
    },
  );
}

/**
 * A closed jaxpr batched along axis `dims[i]` of each input (null: not batched): outputs are
 * batched at axis 0 when they depend on the batch or are flagged in `force` (`outB` says which).
 */
export function batchJaxpr(
  c: ClosedJaxpr,
  dims: readonly BatchDim[],
  inAvals: readonly ShapedArray[],
  size: number,
  force: readonly boolean[],
): { jaxpr: ClosedJaxpr; outB: boolean[] } {
  let outB: boolean[] = [];
  const jaxpr = traceToJaxpr("vmap", inAvals, (args) =>
    withMain(
      "vmap",
      (main) => new BatchTrace(main, size),
      (_trace, main) => {
        const outs = evalJaxpr(c.jaxpr, c.consts, args.map((a, i) => new BatchTracer(main, a, dims[i])));
        const ops = axisOps();
        outB = [];
        return outs.map((o, i) => {
          const [val, d] = o instanceof BatchTracer && o.main === main ? [o.val, o.bdim] : [o, null];
          if (d === null) {
            outB.push(force[i]);
            return force[i] ? ops.broadcastBatch(val, size) : val;
          }
          outB.push(true);
          return ops.moveAxis(val, d, 0);
        });
      },
    ),
  );
  return { jaxpr, outB };
}

/** The avals of `c`'s inputs with a leading batch axis of `size` where `inB` is set. */
export const batchedAvals = (c: ClosedJaxpr, inB: readonly boolean[], size: number): ShapedArray[] =>
  c.jaxpr.inBinders.map((v, i) => (inB[i] ? new ShapedArray([size, ...v.aval.shape], v.aval.dtype, v.aval.weakType) : v.aval));
