// The one evaluator of jaxprs: binds each equation in order, so the same walk computes values
// (on concrete inputs), re-stages (under makeJaxpr or jit), differentiates or batches (on tracers).
import { scalar } from "../core/convert.js";
import { InternalError } from "../core/errors.js";
import type { Params, Primitive } from "../core/primitive.js";
import type { Tensor } from "../core/tensor.js";
import { bind } from "../core/trace.js";
import { type Atom, type ClosedJaxpr, type Jaxpr, Var } from "../ir/jaxpr.js";

/** An input of a planned step: a slot of the environment, or a literal made into a tensor once. */
type Ref = number | Tensor;

interface Step {
  prim: Primitive<any>;
  params: Params;
  ins: Ref[];
  outs: number[];
  /** Slots read for the last time by this step: dropped, so a long chain keeps a few buffers alive. */
  frees: number[];
}

/** A jaxpr laid out for evaluation: every variable has an array slot, fixed once per jaxpr. */
export interface Plan {
  readonly size: number;
  readonly constSlots: number[];
  readonly inSlots: number[];
  readonly steps: Step[];
  readonly outs: Ref[];
}

const plans = new WeakMap<Jaxpr, Plan>();

/**
 * The evaluation plan of `jaxpr`, made on first use and kept with it: a loop body or a jit program
 * is evaluated many times, and a Map lookup per variable per step was a visible cost.
 */
export function planOf(jaxpr: Jaxpr): Plan {
  let plan = plans.get(jaxpr);
  if (plan === undefined) plans.set(jaxpr, (plan = makePlan(jaxpr)));
  return plan;
}

function makePlan(j: Jaxpr): Plan {
  const slots = new Map<Var, number>();
  const define = (v: Var): number => {
    const s = slots.size;
    slots.set(v, s);
    return s;
  };
  const constSlots = j.constBinders.map(define);
  const inSlots = j.inBinders.map(define);
  const ref = (a: Atom): Ref => {
    if (!(a instanceof Var)) return scalar(a.value, a.aval.dtype, a.aval.weakType);
    const s = slots.get(a);
    if (s === undefined) throw new InternalError("a jaxpr variable is used before it is defined");
    return s;
  };
  const steps: Step[] = j.eqns.map((e) => ({ prim: e.primitive, params: e.params, ins: e.inputs.map(ref), outs: e.outBinders.map(define), frees: [] }));
  const outs = j.outs.map(ref);
  // Last uses, found backwards: a slot is freed by the last step that reads it, unless an output
  // reads it too.
  const seen = new Uint8Array(slots.size);
  for (const r of outs) if (typeof r === "number") seen[r] = 1;
  for (let i = steps.length - 1; i >= 0; i--) {
    const st = steps[i];
    for (const r of st.ins) {
      if (typeof r === "number" && seen[r] === 0) {
        seen[r] = 1;
        st.frees.push(r);
      }
    }
  }
  return { size: slots.size, constSlots, inSlots, steps, outs };
}

/**
 * Called with each value as it is defined (constants, inputs, equation outputs), which it may
 * replace: how the teaching tables observe a run and perturb values to ask for their adjoints.
 */
export type Tap = (v: Var, value: Tensor) => Tensor;

/** Evaluates a jaxpr with a loop over its equations (no recursion, so any length works). */
export function evalJaxpr(jaxpr: Jaxpr, consts: readonly Tensor[], args: readonly Tensor[], tap?: Tap): Tensor[] {
  const plan = planOf(jaxpr);
  const env = new Array<Tensor | undefined>(plan.size);
  const define = tap === undefined ? (s: number, _v: Var, t: Tensor) => void (env[s] = t) : (s: number, v: Var, t: Tensor) => void (env[s] = tap(v, t));
  for (let i = 0; i < plan.constSlots.length; i++) define(plan.constSlots[i], jaxpr.constBinders[i], consts[i]);
  for (let i = 0; i < plan.inSlots.length; i++) define(plan.inSlots[i], jaxpr.inBinders[i], args[i]);
  const steps = plan.steps;
  for (let i = 0; i < steps.length; i++) {
    const st = steps[i];
    const ins = st.ins;
    const vals = new Array<Tensor>(ins.length);
    for (let k = 0; k < ins.length; k++) {
      const r = ins[k];
      vals[k] = typeof r === "number" ? (env[r] as Tensor) : r;
    }
    const outs = bind(st.prim, vals, st.params);
    for (const s of st.frees) env[s] = undefined;
    const binders = jaxpr.eqns[i].outBinders;
    for (let k = 0; k < st.outs.length; k++) define(st.outs[k], binders[k], outs[k]);
  }
  return plan.outs.map((r) => (typeof r === "number" ? (env[r] as Tensor) : r));
}

export const evalClosed = (c: ClosedJaxpr, args: readonly Tensor[]): Tensor[] => evalJaxpr(c.jaxpr, c.consts, args);

/** A closed jaxpr as a function of flat inputs. */
export const jaxprAsFun =
  (c: ClosedJaxpr) =>
  (xs: Tensor[]): Tensor[] =>
    evalJaxpr(c.jaxpr, c.consts, xs);
