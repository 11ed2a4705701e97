// Taylor mode: the trace that carries, with every value, its truncated Taylor series (the tangent
// of forward mode carried to higher order), and the jet of a function of flat inputs.
import { isFloat } from "../core/dtype.js";
import { JacobiError } from "../core/errors.js";
import type { Params, Primitive } from "../core/primitive.js";
import type { ShapedArray } from "../core/shaped-array.js";
import { type Tensor, Tracer } from "../core/tensor.js";
import { type CustomCallParams, type MainTrace, type Trace, bind, checkOutputsLive, withMain } from "../core/trace.js";

/** A primal with its Taylor coefficients x_k / k! (k = 1..K), or null when it is constant here. */
export class JetTracer extends Tracer {
  constructor(
    readonly main: MainTrace,
    readonly primal: Tensor,
    readonly series: Tensor[] | null,
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

/**
 * A primitive's Taylor-mode rule (the rules live above this layer, in primitives/jet-rules.ts);
 * `ruleOf` is the lookup of the jet running it, for a rule that runs a jet of its own.
 */
export type JetRule = (primals: Tensor[], series: (Tensor[] | null)[], params: Params, ruleOf: JetRuleOf) => [Tensor[], (Tensor[] | null)[]];
export type JetRuleOf = (prim: Primitive<any>) => JetRule | undefined;

export class JetTrace implements Trace {
  readonly staging = false;
  constructor(
    readonly main: MainTrace,
    private readonly ruleOf: JetRuleOf,
  ) {}

  lift(x: Tensor): JetTracer {
    if (x instanceof JetTracer && x.main === this.main) return x;
    return new JetTracer(this.main, x, null);
  }

  processPrimitive(prim: Primitive<any>, args: Tensor[], params: Params): Tensor[] {
    const ins = args.map((a) => this.lift(a));
    const primals = ins.map((t) => t.primal);
    const series = ins.map((t) => t.series);
    if (series.every((s) => s === null) || !prim.differentiable) {
      return bind(prim, primals, params).map((o) => new JetTracer(this.main, o, null));
    }
    const rule = this.ruleOf(prim);
    if (rule === undefined) throw new JacobiError(`jet: the primitive ${prim.name} has no Taylor-mode (jet) rule`);
    const [po, so] = rule(primals, series, params, this.ruleOf);
    // Integer and bool outputs carry no series (their derivatives are zero).
    return po.map((o, i) => new JetTracer(this.main, o, isFloat(o.dtype) ? so[i] : null));
  }

  /** A user-written derivative rule is first order only: Taylor mode runs the function itself. */
  processCustomJvpCall(_prim: Primitive<any>, args: Tensor[], params: CustomCallParams): Tensor[] {
    return params.fun.value(args);
  }

  processCustomVjpCall(_prim: Primitive<any>, args: Tensor[], params: CustomCallParams): Tensor[] {
    return params.fun.value(args);
  }
}

/**
 * Pushes a jet level, runs `f` on tracers pairing `primals` with their Taylor coefficients (null:
 * constant), and returns the output primals and coefficients (null where an output is constant).
 */
export function jetFlat(f: (xs: Tensor[]) => Tensor[], primals: Tensor[], series: (Tensor[] | null)[], ruleOf: JetRuleOf): [Tensor[], (Tensor[] | null)[]] {
  return withMain(
    "jet",
    (main) => new JetTrace(main, ruleOf),
    (trace, main) => {
      const outs = f(primals.map((p, i) => new JetTracer(main, p, series[i])));
      checkOutputsLive(outs);
      const lifted = outs.map((o) => trace.lift(o));
      return [lifted.map((o) => o.primal), lifted.map((o) => o.series)];
    },
  );
}
