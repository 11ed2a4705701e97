import { JacobiError } from "../core/errors.js";
import { type Tangent, UndefPrimal, Zero } from "../core/primitive.js";
import type { Tensor } from "../core/tensor.js";
import { bind } from "../core/trace.js";
import { scalar } from "../core/convert.js";
import { type Atom, type Jaxpr, Var } from "../ir/jaxpr.js";
import { addTangents } from "../primitives/elementwise.js";
import { isZero } from "../primitives/util.js";
import { VarTable, slotRange } from "../ir/var-table.js";

/**
 * Reverse mode: walks a linear jaxpr backwards (a loop over its equations), pulling the output
 * cotangents back through each equation's transpose rule. Inputs are the linear unknowns
 * (UndefPrimal); constants are the residuals the forward pass stored.
 */
export function backwardPass(jaxpr: Jaxpr, consts: Tensor[], cts: Tangent[]): Tangent[] {
  const [lo, hi] = slotRange(jaxpr);
  const linear = new VarTable<true>(lo, hi);
  for (const v of jaxpr.inBinders) linear.set(v, true);
  const env = new VarTable<Tensor>(lo, hi);
  jaxpr.constBinders.forEach((v, i) => env.set(v, consts[i]));
  const read = (a: Atom): Tensor => (a instanceof Var ? (env.get(a) as Tensor) : scalar(a.value, a.aval.dtype, a.aval.weakType));
  const isLinear = (a: Atom): a is Var => a instanceof Var && linear.has(a);

  // Equations that touch no linear value are evaluated forward (residual computations).
  const linearEqns = [];
  for (const e of jaxpr.eqns) {
    if (e.inputs.some(isLinear)) {
      for (const v of e.outBinders) linear.set(v, true);
      linearEqns.push(e);
    } else {
      const outs = bind(e.primitive, e.inputs.map(read), e.params);
      e.outBinders.forEach((v, i) => env.set(v, outs[i]));
    }
  }

  const ctEnv = new VarTable<Tangent>(lo, hi);
  const accumulate = (v: Var, ct: Tangent | null): void => {
    if (ct === null || isZero(ct)) return;
    const prev = ctEnv.get(v);
    ctEnv.set(v, prev === undefined ? ct : addTangents(prev, ct));
  };
  jaxpr.outs.forEach((a, i) => {
    if (isLinear(a)) accumulate(a, cts[i]);
  });

  for (let i = linearEqns.length - 1; i >= 0; i--) {
    const e = linearEqns[i];
    const ctsOut = e.outBinders.map((v) => {
      const ct = ctEnv.get(v);
      ctEnv.delete(v);
      return ct ?? new Zero(v.aval);
    });
    if (ctsOut.every(isZero)) continue;
    if (!e.primitive.transpose) {
      throw new JacobiError(`reverse-mode differentiation of ${e.primitive.name} is not supported (it is not linear and has no transpose rule)`);
    }
    const args = e.inputs.map((a) => (isLinear(a) ? new UndefPrimal(a.aval) : read(a)));
    const ctsIn = e.primitive.transpose(ctsOut, args, e.params);
    e.inputs.forEach((a, j) => {
      if (isLinear(a)) accumulate(a, ctsIn[j]);
    });
  }
  return jaxpr.inBinders.map((v) => ctEnv.get(v) ?? new Zero(v.aval));
}
