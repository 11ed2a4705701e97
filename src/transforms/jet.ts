// jet: Taylor mode as jax.experimental.jet. The user speaks in derivatives (term k is the k-th
// derivative along the input path); the rules work in Taylor coefficients (term k / k!), where
// every recurrence is a plain Cauchy product, so the conversion happens here, once, at the boundary.
import { isAllZero } from "../backend/index.js";
import { isFloat } from "../core/dtype.js";
import { JacobiError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";
import { unflatten } from "../core/tree.js";
import { evalJaxpr } from "../interpreters/eval.js";
import { type JetRule, type JetRuleOf, jetFlat } from "../interpreters/jet.js";
import type { Primitive } from "../core/primitive.js";
import { type CheckpointParams, checkpointP } from "./checkpoint.js";
import { controlFlowJetRules } from "./jet-control-flow.js";
import { jetRuleOf } from "../primitives/jet-rules.js";
import { markZero, scale } from "../primitives/jet-series.js";
import { convertElementType } from "../primitives/elementwise.js";
import { zerosLike } from "../primitives/util.js";
import { type Fn, type LooseArgs, type TensorResult, checkFn, checkLike, checkTree, flattenFun, inputLeaves, requireFloat } from "./common.js";

/** A checkpoint's jet is its body's: Taylor mode keeps no residuals, so there is nothing to recompute. */
const checkpointJet: JetRule = (primals, series, params) => {
  const { jaxpr } = params as CheckpointParams;
  return jetFlat((xs) => evalJaxpr(jaxpr.jaxpr, jaxpr.consts, xs), primals, series, ruleOf);
};
const ruleOf: JetRuleOf = (prim: Primitive<any>) => (prim === checkpointP ? checkpointJet : (controlFlowJetRules.get(prim) ?? jetRuleOf(prim)));

/**
 * `[f(...primals), seriesOut]`: `series[i]` lists the terms of input i's path (term k its k-th
 * derivative, each term shaped like `primals[i]`), the same number K for every input; `seriesOut`
 * lists the K derivatives of the output along that path, each shaped like the output.
 */
export function jet<F extends Fn>(f: F, primals: LooseArgs<F>, series: readonly (readonly unknown[])[]): [TensorResult<F>, TensorResult<F>[]];
export function jet(f: Fn, primals: unknown[], series: readonly (readonly unknown[])[]): unknown[] {
  checkFn(f, "jet");
  if (!Array.isArray(primals)) throw new JacobiError(`jet: primals must be an array with one entry per argument of the function, got ${typeof primals}`);
  if (!Array.isArray(series) || series.length !== primals.length || !series.every((s) => Array.isArray(s))) {
    throw new JacobiError(`jet: series must be an array with one list of terms per primal (${primals.length})`);
  }
  const order = series.length === 0 ? 0 : series[0].length;
  if (order === 0 || series.some((s) => s.length !== order)) {
    throw new JacobiError(`jet: every input needs the same number (at least one) of series terms, got ${JSON.stringify(series.map((s) => s.length))}`);
  }
  const [ps, pdef] = inputLeaves(primals, "jet: primal");
  requireFloat(ps, "jet", "a primal");
  // Per input leaf, its Taylor coefficients: term k of the user's series divided by k!.
  const coefs: Tensor[][] = ps.map(() => []);
  let fact = 1;
  for (let k = 0; k < order; k++) {
    fact *= k + 1;
    const [ts, tdef] = inputLeaves(series.map((s) => s[k]), `jet: series term ${k}`);
    checkTree(`series term ${k}`, "jet", tdef, pdef);
    ts.forEach((t, i) => {
      checkLike(`series term ${k} of leaf`, "jet", t, ps[i].aval, i);
      const c = scale(convertElementType(t, ps[i].dtype), 1 / fact);
      // A term known to be zero lets the rules skip its products.
      const a = t.concrete();
      coefs[i].push(a !== null && isAllZero(a) ? markZero(c) : c);
    });
  }
  const [fFlat, outTree] = flattenFun(f, pdef, "jet");
  const [po, so] = jetFlat(fFlat, ps, coefs, ruleOf);
  const out = outTree();
  const terms: unknown[] = [];
  fact = 1;
  for (let k = 0; k < order; k++) {
    fact *= k + 1;
    const c = fact;
    terms.push(unflatten(out, po.map((p, i) => (so[i] === null || !isFloat(p.dtype) ? zerosLike(p) : scale((so[i] as Tensor[])[k], c)))));
  }
  return [unflatten(out, po), terms];
}
