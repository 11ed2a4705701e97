// Reverse mode: transposing a linear jaxpr, equation by equation, from its outputs back.
import { JacobiError } from "../core/errors.js";
import { type Tangent, UndefPrimal, Zero } from "../core/primitive.js";
import type { ShapedArray } from "../core/shaped-array.js";
import type { Tensor } from "../core/tensor.js";
import { type Atom, type ClosedJaxpr, Jaxpr, Var } from "../ir/jaxpr.js";
import { VarTable, slotRange } from "../ir/var-table.js";
import { scalar } from "../core/convert.js";
import { addTangents } from "./add-any.js";
import { evalJaxpr } from "./eval.js";
import { partialEval } from "./partial-eval.js";
import { traceToJaxpr } from "./staging.js";
import { instantiate, isZero } from "./zeros.js";

/**
 * Walks a linear jaxpr backwards (a loop over its equations), pulling the output cotangents back
 * through each equation's transpose rule. Inputs are the linear unknowns (UndefPrimal); constants
 * are the residuals the forward pass stored. Equations that touch no linear value (residual
 * computations, such as a checkpoint's replay) are partially evaluated first.
 */
export function backwardPass(jaxpr: Jaxpr, consts: readonly Tensor[], cts: readonly Tangent[]): Tangent[] {
  const pe = partialEval(jaxpr, jaxpr.inBinders.map(() => true));
  const [lo, hi] = slotRange(jaxpr);
  const env = new VarTable<Tensor>(lo, hi);
  jaxpr.constBinders.forEach((v, i) => env.set(v, consts[i]));
  if (pe.knownEqns.length > 0) {
    const known = new Jaxpr(jaxpr.constBinders, [], pe.knownEqns, pe.residuals);
    const vals = evalJaxpr(known, consts, []);
    pe.residuals.forEach((v, i) => env.set(v, vals[i]));
  }
  const read = (a: Atom): Tensor => (a instanceof Var ? (env.get(a) as Tensor) : scalar(a.value, a.aval.dtype, a.aval.weakType));

  const ctEnv = new VarTable<Tangent>(lo, hi);
  const accumulate = (v: Var, ct: Tangent | null): void => {
    if (ct === null || isZero(ct)) return;
    const prev = ctEnv.get(v);
    ctEnv.set(v, prev === undefined ? ct : addTangents(prev, ct));
  };
  jaxpr.outs.forEach((a, i) => {
    if (pe.isUnknown(a)) accumulate(a, cts[i]);
  });

  const linearEqns = pe.unknownEqns;
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
    const args = e.inputs.map((a) => (pe.isUnknown(a) ? new UndefPrimal(a.aval) : read(a)));
    const ctsIn = e.primitive.transpose(ctsOut, args, e.params);
    e.inputs.forEach((a, j) => {
      if (pe.isUnknown(a)) accumulate(a, ctsIn[j]);
    });
  }
  return jaxpr.inBinders.map((v) => ctEnv.get(v) ?? new Zero(v.aval));
}

/**
 * Transposes a call whose jaxpr is linear in the inputs given as UndefPrimal: the other inputs
 * become constants and the backward pass replays the equations that depend on them only (the
 * recomputation of a checkpoint) before pulling the cotangents back.
 */
export function transposeCall(call: ClosedJaxpr, cts: Tangent[], args: (Tensor | UndefPrimal)[]): (Tangent | null)[] {
  const j = call.jaxpr;
  const knownBinders = [...j.constBinders];
  const known: Tensor[] = [...call.consts];
  const linBinders: Var[] = [];
  const linAt: number[] = [];
  args.forEach((a, i) => {
    if (a instanceof UndefPrimal) {
      linBinders.push(j.inBinders[i]);
      linAt.push(i);
    } else {
      knownBinders.push(j.inBinders[i]);
      known.push(a);
    }
  });
  const res = backwardPass(new Jaxpr(knownBinders, linBinders, j.eqns, j.outs), known, cts);
  const out: (Tangent | null)[] = args.map(() => null);
  linAt.forEach((i, k) => (out[i] = res[k]));
  return out;
}

/**
 * The transpose of a jaxpr linear in the inputs flagged in `lin`, as a jaxpr: (the other inputs,
 * `pre` extra inputs, output cotangents) -> `post(pre, cotangents of the linear inputs)`.
 */
export function transposeJaxpr(
  c: ClosedJaxpr,
  lin: readonly boolean[],
  pre: readonly ShapedArray[] = [],
  post: (pre: Tensor[], cts: Tangent[]) => Tensor[] = (_p, cts) => cts.map(instantiate),
): ClosedJaxpr {
  const j = c.jaxpr;
  const res = j.inBinders.filter((_, i) => !lin[i]);
  const linear = j.inBinders.filter((_, i) => lin[i]);
  const re = new Jaxpr([...j.constBinders, ...res], linear, j.eqns, j.outs);
  const ctAvals = j.outs.map((a) => a.aval.strong());
  const avals = [...res.map((v) => v.aval), ...pre, ...ctAvals];
  return traceToJaxpr("transpose", avals, (args) => {
    const resVals = args.slice(0, res.length);
    const preVals = args.slice(res.length, res.length + pre.length);
    const ctVals = args.slice(res.length + pre.length);
    return post(preVals, backwardPass(re, [...c.consts, ...resVals], ctVals));
  });
}

/** Pulls cotangents of a linear jaxpr's outputs back to its inputs; never returns symbolic zeros. */
export function pullback(lin: ClosedJaxpr, cts: readonly Tangent[]): Tensor[] {
  return backwardPass(lin.jaxpr, lin.consts, cts).map(instantiate);
}
