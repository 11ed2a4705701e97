import type { Tensor } from "../core/tensor.js";
import { bind } from "../core/trace.js";
import { scalar } from "../core/convert.js";
import { type Atom, type ClosedJaxpr, type Jaxpr, Var } from "./jaxpr.js";
import { VarTable, slotRange } from "./var-table.js";

/** Evaluates a jaxpr with a loop over its equations (no recursion, so any length works). */
export function evalJaxpr(jaxpr: Jaxpr, consts: Tensor[], args: Tensor[]): Tensor[] {
  // Id-indexed tables rather than Maps: this runs every equation of jit-on-tracers, applyLinear
  // and the linear part of jacobian, where hashing each Var was a visible cost.
  const [lo, hi] = slotRange(jaxpr);
  const env = new VarTable<Tensor>(lo, hi);
  jaxpr.constBinders.forEach((v, i) => env.set(v, consts[i]));
  jaxpr.inBinders.forEach((v, i) => env.set(v, args[i]));
  const read = (a: Atom): Tensor => (a instanceof Var ? (env.get(a) as Tensor) : scalar(a.value, a.aval.dtype, a.aval.weakType));
  // Values are dropped after their last use: a long chain then holds a few live buffers, not all
  // of them (retaining a million intermediates made the garbage collector the main cost).
  const lastUse = new VarTable<number>(lo, hi);
  const eqns = jaxpr.eqns;
  for (let i = 0; i < eqns.length; i++) for (const a of eqns[i].inputs) if (a instanceof Var) lastUse.set(a, i);
  for (const a of jaxpr.outs) if (a instanceof Var) lastUse.set(a, eqns.length);
  for (let i = 0; i < eqns.length; i++) {
    const e = eqns[i];
    const ins = e.inputs;
    const vals = new Array<Tensor>(ins.length);
    for (let j = 0; j < ins.length; j++) vals[j] = read(ins[j]);
    const outs = bind(e.primitive, vals, e.params);
    for (const a of ins) if (a instanceof Var && lastUse.get(a) === i) env.delete(a);
    const binders = e.outBinders;
    for (let j = 0; j < binders.length; j++) env.set(binders[j], outs[j]);
  }
  return jaxpr.outs.map(read);
}

export const evalClosed = (c: ClosedJaxpr, args: Tensor[]): Tensor[] => evalJaxpr(c.jaxpr, c.consts, args);
