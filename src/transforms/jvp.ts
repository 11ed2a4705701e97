import { type Params, type Primitive, type Tangent, Zero } from "../core/primitive.js";
import type { ShapedArray } from "../core/shaped-array.js";
import { type Tensor, Tracer } from "../core/tensor.js";
import { type MainTrace, type Trace, bind, checkOutputsLive, withMain } from "../core/trace.js";
import { JacobiError } from "../core/errors.js";
import { isZero } from "../primitives/util.js";

/** A primal value with its tangent (forward mode); its concrete value is the primal's. */
export class JvpTracer extends Tracer {
  constructor(
    readonly main: MainTrace,
    readonly primal: Tensor,
    readonly tangent: Tangent,
  ) {
    super();
  }
  get aval(): ShapedArray {
    return this.primal.aval;
  }
  concrete() {
    return this.primal.concrete();
  }
  protected override wrapped(): Tensor {
    return this.primal;
  }
}

export class JvpTrace implements Trace {
  constructor(readonly main: MainTrace) {}

  lift(x: Tensor): JvpTracer {
    if (x instanceof JvpTracer && x.main === this.main) return x;
    return new JvpTracer(this.main, x, new Zero(x.aval.strong()));
  }

  processPrimitive(prim: Primitive<any>, args: Tensor[], params: Params): Tensor[] {
    // Loops rather than map/every: this runs once per operation under every derivative.
    const n = args.length;
    const primals = new Array<Tensor>(n);
    const tangents = new Array<Tangent>(n);
    let allZero = true;
    for (let i = 0; i < n; i++) {
      // What lift does, without wrapping a constant in a tracer only to unwrap it.
      const a = args[i];
      if (a instanceof JvpTracer && a.main === this.main) {
        primals[i] = a.primal;
        tangents[i] = a.tangent;
        if (!isZero(a.tangent)) allZero = false;
      } else {
        primals[i] = a;
        tangents[i] = new Zero(a.aval.strong());
      }
    }
    let po: Tensor[], to: Tangent[];
    if (allZero) {
      po = bind(prim, primals, params);
      to = po.map((o) => new Zero(o.aval.strong()));
    } else {
      if (!prim.jvp) throw new JacobiError(`differentiation of ${prim.name} in forward mode is not supported (it has no jvp rule)`);
      [po, to] = prim.jvp(primals, tangents, params);
    }
    const outs = new Array<Tensor>(po.length);
    for (let i = 0; i < po.length; i++) outs[i] = new JvpTracer(this.main, po[i], to[i]);
    return outs;
  }
}

/**
 * Pushes a JVP level, runs `f` on tracers pairing `primals` with `tangents`, and returns the
 * output primals and tangents (Zero where an output does not depend on the inputs).
 */
export function jvpFlat(f: (xs: Tensor[]) => Tensor[], primals: Tensor[], tangents: Tangent[], transform = "jvp"): [Tensor[], Tangent[]] {
  return withMain(
    transform,
    (main) => new JvpTrace(main),
    (main) => {
      const ins = primals.map((p, i) => new JvpTracer(main, p, tangents[i]));
      const outs = f(ins);
      // An output that never went through bind has not been checked: lift would wrap a dead
      // inner tracer as a constant with a silently zero tangent.
      checkOutputsLive(outs);
      const trace = main.trace as JvpTrace;
      const lifted = outs.map((o) => trace.lift(o));
      return [lifted.map((o) => o.primal), lifted.map((o) => o.tangent)];
    },
  );
}
