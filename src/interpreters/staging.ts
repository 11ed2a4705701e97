// Staging: the trace that records equations instead of computing, and what is built on it —
// tracing a function to a jaxpr, and closure conversion for primitives that carry a function.
import { readFlat } from "../backend/index.js";
import { Label } from "../core/label.js";
import type { Params, Primitive } from "../core/primitive.js";
import type { ShapedArray } from "../core/shaped-array.js";
import { ArrayTensor, type Tensor, Tracer } from "../core/tensor.js";
import { type CustomCallParams, type MainTrace, type Trace, checkOutputsLive, withMain } from "../core/trace.js";
import { checked } from "../ir/check-jaxpr.js";
import { type Atom, ClosedJaxpr, Eqn, Jaxpr, Literal, Var } from "../ir/jaxpr.js";
import { dce } from "./dce.js";
import { jaxprAsFun } from "./eval.js";

/** A value being staged into a jaxpr: abstract, known only by shape and dtype. */
/** The output avals of `prim` applied to `args` (a staging trace's one question to the primitive). */
export function outAvals(prim: Primitive<any>, args: Tensor[], params: Params): ShapedArray[] {
  const n = args.length;
  const inAvals = new Array<ShapedArray>(n);
  for (let i = 0; i < n; i++) inAvals[i] = args[i].aval;
  return prim.abstractEval(inAvals, params);
}

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
  readonly staging = true;
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

  /** Records `prim` applied to `args` with outputs of `avals`, and returns their tracers. */
  private record(prim: Primitive<any>, args: Tensor[], params: Params, avals: ShapedArray[]): Tensor[] {
    // Loops rather than map: one call per recorded equation, so its garbage adds up in long chains.
    const n = args.length;
    const inputs = new Array<Atom>(n);
    for (let i = 0; i < n; i++) inputs[i] = this.atom(args[i]);
    const outs = new Array<Var>(avals.length);
    const tracers = new Array<Tensor>(avals.length);
    for (let i = 0; i < avals.length; i++) {
      outs[i] = new Var(avals[i]);
      tracers[i] = new JaxprTracer(this.main, avals[i], outs[i]);
    }
    this.eqns.push(new Eqn(prim, inputs, params, outs));
    return tracers;
  }

  processPrimitive(prim: Primitive<any>, args: Tensor[], params: Params): Tensor[] {
    return this.record(prim, args, params, outAvals(prim, args, params));
  }

  /** A custom call is staged with its function traced into a jaxpr, so its rules survive staging. */
  private stageCustomCall(prim: Primitive<any>, args: Tensor[], params: CustomCallParams): Tensor[] {
    const { call, hoisted } = stageCall(prim.name, params.fun.value, args);
    const numConsts = ((params.numConsts as number | undefined) ?? 0) + hoisted.length;
    const staged = { ...params, call, numConsts, fun: new Label(jaxprAsFun(call), String(params.fun)) };
    return this.record(prim, [...hoisted, ...args], staged, call.jaxpr.outs.map((a) => a.aval));
  }
  processCustomJvpCall(prim: Primitive<any>, args: Tensor[], params: CustomCallParams): Tensor[] {
    return this.stageCustomCall(prim, args, params);
  }
  processCustomVjpCall(prim: Primitive<any>, args: Tensor[], params: CustomCallParams): Tensor[] {
    return this.stageCustomCall(prim, args, params);
  }

  /** Closes the recording over `ins` -> `outs`, dropping equations and constants no output needs. */
  build(ins: JaxprTracer[], outs: Tensor[]): ClosedJaxpr {
    // Outputs need not have gone through bind: a dead tracer here would become a constant.
    checkOutputsLive(outs);
    const outAtoms = outs.map((o) => this.atom(o));
    const { jaxpr, free } = dce(new Jaxpr([], ins.map((t) => t.v), this.eqns, outAtoms));
    const constBinders: Var[] = [];
    const consts: Tensor[] = [];
    for (const [t, v] of this.constVars) {
      if (free.has(v)) {
        constBinders.push(v);
        consts.push(t);
      }
    }
    return new ClosedJaxpr(new Jaxpr(constBinders, jaxpr.inBinders, jaxpr.eqns, jaxpr.outs), consts);
  }
}

/** Stages `f` on abstract inputs of the given avals into a closed jaxpr. */
export function traceToJaxpr(transform: string, avals: readonly ShapedArray[], f: (args: Tensor[]) => Tensor[]): ClosedJaxpr {
  return withMain(
    transform,
    (main) => new BuilderTrace(main),
    (b) => {
      const ins = avals.map((a) => b.newArg(a));
      return b.build(ins, f(ins));
    },
  );
}

export interface StagedCall {
  /** The function as a jaxpr whose inputs are `[...hoisted, ...leaves]`; its constants are concrete. */
  call: ClosedJaxpr;
  /** Values of transformations the function closed over, passed as leading inputs. */
  hoisted: Tensor[];
}

/**
 * Traces `fun` on abstract values shaped like `leaves`. Tracers it closes over become leading
 * inputs of the jaxpr (closure conversion): an equation's inputs are all that a trace looks at, so a
 * closed-over tracer hidden in the constants would escape the transformation it belongs to.
 */
export function stageCall(transform: string, fun: (xs: Tensor[]) => Tensor[], leaves: readonly Tensor[]): StagedCall {
  const closed = traceToJaxpr(transform, leaves.map((l) => l.aval), fun);
  const j = closed.jaxpr;
  const keptBinders: Var[] = [];
  const kept: Tensor[] = [];
  const hoistedBinders: Var[] = [];
  const hoisted: Tensor[] = [];
  closed.consts.forEach((c, i) => {
    if (c instanceof Tracer) {
      hoistedBinders.push(j.constBinders[i]);
      hoisted.push(c);
    } else {
      keptBinders.push(j.constBinders[i]);
      kept.push(c);
    }
  });
  return { call: checked(new ClosedJaxpr(new Jaxpr(keptBinders, [...hoistedBinders, ...j.inBinders], j.eqns, j.outs), kept)), hoisted };
}
