import type { Params, Primitive } from "../core/primitive.js";
import type { ShapedArray } from "../core/shaped-array.js";
import { ArrayTensor, type Tensor, Tracer } from "../core/tensor.js";
import { type MainTrace, type Trace, checkOutputsLive, withMain } from "../core/trace.js";
import { readFlat } from "../backend/ndarray-view.js";
import { type Atom, ClosedJaxpr, Eqn, Jaxpr, Literal, Var } from "./jaxpr.js";

/** A value being staged into a jaxpr: abstract, known only by shape and dtype. */
export class JaxprTracer extends Tracer {
  constructor(
    readonly main: MainTrace,
    readonly aval: ShapedArray,
    readonly v: Var,
  ) {
    super();
  }
  concrete(): null {
    return null;
  }
}

/**
 * Records every primitive applied to its tracers as an equation, in execution order. Values from
 * below (concrete arrays, tracers of outer transformations) enter as constants: scalars inline as
 * literals, anything else as a const binder. This is how `makeJaxpr` stages a function and how
 * `linearize` keeps the linear (tangent) part of a JVP while the primal part runs eagerly.
 */
export class BuilderTrace implements Trace {
  readonly eqns: Eqn[] = [];
  private readonly constVars = new Map<Tensor, Var>();

  constructor(readonly main: MainTrace) {}

  newArg(aval: ShapedArray): JaxprTracer {
    return new JaxprTracer(this.main, aval, new Var(aval));
  }

  atom(x: Tensor): Atom {
    if (x instanceof JaxprTracer && x.main === this.main) return x.v;
    if (x instanceof ArrayTensor && x.aval.ndim === 0) return new Literal(readFlat(x.arr, 0), x.aval);
    let v = this.constVars.get(x);
    if (v === undefined) {
      v = new Var(x.aval);
      this.constVars.set(x, v);
    }
    return v;
  }

  processPrimitive(prim: Primitive<any>, args: Tensor[], params: Params): Tensor[] {
    // Loops rather than map: one call per recorded equation, so its garbage adds up in long chains.
    const n = args.length;
    const inputs = new Array<Atom>(n);
    const inAvals = new Array<ShapedArray>(n);
    for (let i = 0; i < n; i++) {
      inputs[i] = this.atom(args[i]);
      inAvals[i] = args[i].aval;
    }
    const avals = prim.abstractEval(inAvals, params);
    const outs = new Array<Var>(avals.length);
    const tracers = new Array<Tensor>(avals.length);
    for (let i = 0; i < avals.length; i++) {
      outs[i] = new Var(avals[i]);
      tracers[i] = new JaxprTracer(this.main, avals[i], outs[i]);
    }
    this.eqns.push(new Eqn(prim, inputs, params, outs));
    return tracers;
  }

  /** Closes the recording over `ins` -> `outs`, dropping equations and constants no output needs. */
  build(ins: JaxprTracer[], outs: Tensor[]): ClosedJaxpr {
    // Outputs need not have gone through bind: a dead tracer here would become a constant.
    checkOutputsLive(outs);
    const outAtoms = outs.map((o) => this.atom(o));
    const live = new Set<Var>();
    for (const a of outAtoms) if (a instanceof Var) live.add(a);
    const kept: Eqn[] = [];
    for (let i = this.eqns.length - 1; i >= 0; i--) {
      const e = this.eqns[i];
      let used = false;
      // A variable is defined once: after its equation it can leave the set, which then holds
      // only the values live at this point (a handful for a long chain, not a million).
      for (const v of e.outBinders) if (live.delete(v)) used = true;
      if (!used) continue;
      kept.push(e);
      for (const a of e.inputs) if (a instanceof Var) live.add(a);
    }
    kept.reverse();
    const constBinders: Var[] = [];
    const consts: Tensor[] = [];
    for (const [t, v] of this.constVars) {
      if (live.has(v)) {
        constBinders.push(v);
        consts.push(t);
      }
    }
    return new ClosedJaxpr(new Jaxpr(constBinders, ins.map((t) => t.v), kept, outAtoms), consts);
  }
}

/** Stages `f` on abstract inputs of the given avals into a closed jaxpr. */
export function traceToJaxpr(transform: string, avals: ShapedArray[], f: (args: Tensor[]) => Tensor[]): ClosedJaxpr {
  return withMain(
    transform,
    (main) => new BuilderTrace(main),
    (main) => {
      const b = main.trace as BuilderTrace;
      const ins = avals.map((a) => b.newArg(a));
      return b.build(ins, f(ins));
    },
  );
}
