import type { Tensor } from "../core/tensor.js";
import { bind } from "../core/trace.js";
import { scalar } from "../core/convert.js";
import { type Atom, type ClosedJaxpr, type Jaxpr, Var } from "./jaxpr.js";

/** Evaluates a jaxpr with a loop over its equations (no recursion, so any length works). */
export function evalJaxpr(jaxpr: Jaxpr, consts: Tensor[], args: Tensor[]): Tensor[] {
  const env = new Map<Var, Tensor>();
  jaxpr.constBinders.forEach((v, i) => env.set(v, consts[i]));
  jaxpr.inBinders.forEach((v, i) => env.set(v, args[i]));
  const read = (a: Atom): Tensor => (a instanceof Var ? (env.get(a) as Tensor) : scalar(a.value, a.aval.dtype, a.aval.weakType));
  for (const e of jaxpr.eqns) {
    const outs = bind(e.primitive, e.inputs.map(read), e.params);
    e.outBinders.forEach((v, i) => env.set(v, outs[i]));
  }
  return jaxpr.outs.map(read);
}

export const evalClosed = (c: ClosedJaxpr, args: Tensor[]): Tensor[] => evalJaxpr(c.jaxpr, c.consts, args);
