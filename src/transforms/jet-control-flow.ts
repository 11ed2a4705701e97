// Taylor-mode (jet) rules for control flow: cond, while, scan and the checkpointed scan's tangent
// map. Like the JVP rules, they stage the jet of each branch or body into a jaxpr over the primals
// followed by the Taylor coefficients, and bind the primitive again with the coefficients as extra
// operands, carries or xs: the loop stays a loop (no unrolling), and the result composes with
// every other transformation. A body's jet runs with the lookup of the jet running the rule, so
// checkpoint, nested control flow and every other rule apply inside it.
import type { Primitive } from "../core/primitive.js";
import type { Tensor } from "../core/tensor.js";
import { bind } from "../core/trace.js";
import { checked } from "../ir/check-jaxpr.js";
import { type ClosedJaxpr, Var } from "../ir/jaxpr.js";
import { evalClosed } from "../interpreters/eval.js";
import { type JetRule, type JetRuleOf, jetFlat } from "../interpreters/jet.js";
import { traceToJaxpr } from "../interpreters/staging.js";
import { type CondParams, condP } from "../primitives/control-flow/cond.js";
import { type ScanParams, type ScanRevolveParams, jointScan, scanP, scanRevolveP } from "../primitives/control-flow/scan.js";
import { inAvals, pick, range, rebind, same } from "../primitives/control-flow/util.js";
import { type WhileParams, whileP } from "../primitives/control-flow/while.js";
import { orderOf } from "../primitives/jet-series.js";
import { isKnownZero, markZero } from "../primitives/jet-zeros.js";
import { zerosLike } from "../primitives/util.js";

type Series = Tensor[] | null;

/**
 * Which inputs carry coefficients into the loop or branches: not those without a series (never a
 * non-float value: the jet trace gives those none), nor those whose coefficients are all known
 * zeros (a constant's).
 */
const having = (series: readonly Series[]): boolean[] => series.map((s) => s !== null && !s.every(isKnownZero));

/**
 * Per input, which coefficients are known zeros, for inputs that stay the same in every step or
 * branch (null for a carry, whose coefficients change). A term of the user's path given as zeros
 * (a path along a line) stays a known zero inside the body, so its rules skip the products.
 */
type Zeros = (readonly boolean[] | null)[];
const zerosOf = (series: readonly Series[]): Zeros => series.map((s) => (s === null ? null : s.map(isKnownZero)));
const noZeros = (n: number): Zeros => new Array<null>(n).fill(null);

/** The coefficients of the inputs flagged in `has`, input after input; a null series becomes zeros. */
function coefsOf(primals: readonly Tensor[], series: readonly Series[], has: readonly boolean[], order: number): Tensor[] {
  return primals.flatMap((p, i) => (!has[i] ? [] : (series[i] ?? range(0, order).map(() => zerosLike(p)))));
}

/** Splits flat outputs `[...primals, ...coefficients of those flagged in has]` back into series. */
function seriesOf(outs: readonly Tensor[], n: number, has: readonly boolean[], order: number): [Tensor[], Series[]] {
  let k = n;
  return [outs.slice(0, n), has.map((h) => (h ? outs.slice(k, (k += order)) : null))];
}

interface JetJaxpr {
  /** Inputs `[...primals, ...coefficients of the inputs with a series]`, outputs likewise. */
  jaxpr: ClosedJaxpr;
  /** For each output: whether its coefficients are among the outputs. */
  outHas: boolean[];
}

/**
 * The jet of `c` staged into a jaxpr: the inputs flagged in `has` come with `order` coefficients
 * each (those flagged in `zeros` are used as known zeros); an output gets coefficients when it
 * depends on one of them or is flagged in `force` (then zeros), so that every branch, or a body and
 * its carry, agree.
 */
function jetJaxpr(c: ClosedJaxpr, has: readonly boolean[], zeros: Zeros, order: number, force: readonly boolean[], ruleOf: JetRuleOf): JetJaxpr {
  const avals = inAvals(c);
  const coefAvals = avals.flatMap((a, i) => (has[i] ? range(0, order).map(() => a.strong()) : []));
  let outHas: boolean[] = [];
  const jaxpr = traceToJaxpr("jet", [...avals, ...coefAvals], (xs) => {
    const [primals, staged] = seriesOf(xs, avals.length, has, order);
    const series = staged.map((s, i) => s?.map((x, k) => (zeros[i]?.[k] ? markZero(zerosLike(x)) : x)) ?? null);
    const [po, so] = jetFlat((ys) => evalClosed(c, ys), primals, series, ruleOf);
    outHas = so.map((s, i) => s !== null || force[i]);
    return [...po, ...coefsOf(po, so, outHas, order)];
  });
  return { jaxpr: checked(jaxpr), outHas };
}

/** A cond of the branches' jets: the index has no series; an output has one if any branch gives it one. */
const condJet: JetRule = (primals, series, params, ruleOf) => {
  const { branches } = params as CondParams;
  const [index, ...ops] = primals;
  const opSeries = series.slice(1);
  const has = having(opSeries);
  const order = orderOf(opSeries);
  const nOut = branches[0].jaxpr.outs.length;
  const zeros = zerosOf(opSeries);
  let jets = branches.map((b) => jetJaxpr(b, has, zeros, order, new Array<boolean>(nOut).fill(false), ruleOf));
  const union = range(0, nOut).map((i) => jets.some((j) => j.outHas[i]));
  if (jets.some((j) => !same(j.outHas, union))) jets = branches.map((b) => jetJaxpr(b, has, zeros, order, union, ruleOf));
  const outs = bind(condP, [index, ...ops, ...coefsOf(ops, opSeries, has, order)], { branches: jets.map((j) => j.jaxpr) });
  return seriesOf(outs, nOut, union, order);
};

/**
 * A while loop carrying the coefficients with the primals: the predicate sees the primals only
 * (its consts' series do not matter: the trip count is locally constant), the body is the jet of
 * the body. A carry has a series if it starts with one or an iteration gives it one: a fixpoint.
 */
const whileJet: JetRule = (primals, series, params, ruleOf) => {
  const { condJaxpr, bodyJaxpr, condNconsts: nCond, bodyNconsts: nBody } = params as WhileParams;
  const order = orderOf(series);
  const bc = primals.slice(nCond, nCond + nBody), init = primals.slice(nCond + nBody);
  const bcSeries = series.slice(nCond, nCond + nBody), initSeries = series.slice(nCond + nBody);
  const bcHas = having(bcSeries);
  let carryHas = having(initSeries);
  const zeros = [...zerosOf(bcSeries), ...noZeros(init.length)];
  let body = jetJaxpr(bodyJaxpr, [...bcHas, ...carryHas], zeros, order, carryHas, ruleOf);
  while (!same(body.outHas, carryHas)) {
    carryHas = body.outHas;
    body = jetJaxpr(bodyJaxpr, [...bcHas, ...carryHas], zeros, order, carryHas, ruleOf);
  }
  const bcCoefs = coefsOf(bc, bcSeries, bcHas, order), initCoefs = coefsOf(init, initSeries, carryHas, order);
  // The staged body takes (consts, carry, their coefficients); the loop wants (consts and
  // theirs, then the carry and its coefficients).
  const ins = body.jaxpr.jaxpr.inBinders;
  const n = init.length, nc = bcCoefs.length;
  const bodyJ = rebind(body.jaxpr, [...ins.slice(0, nBody), ...ins.slice(nBody + n, nBody + n + nc), ...ins.slice(nBody, nBody + n), ...ins.slice(nBody + n + nc)]);
  const condJ = rebind(condJaxpr, [...condJaxpr.jaxpr.inBinders, ...ins.slice(nBody + n + nc).map((v) => new Var(v.aval))]);
  const outs = bind(whileP, [...primals.slice(0, nCond), ...bc, ...bcCoefs, ...init, ...initCoefs], {
    condJaxpr: condJ,
    bodyJaxpr: bodyJ,
    condNconsts: nCond,
    bodyNconsts: nBody + nc,
  });
  return seriesOf(outs, n, carryHas, order);
};

/**
 * The jet of a scan as a scan: the body is the jet of the body, the consts, carry and xs come with
 * their coefficients (an xs coefficient is stacked like its xs), and so do the carry and the ys.
 * length, reverse and snapshots stay: the scan of the jet is checkpointed like the scan.
 */
const scanJet: JetRule = (primals, series, params, ruleOf) => {
  const p = params as ScanParams;
  const { jaxpr, numConsts: nConsts, numCarry: nCarry } = p;
  const order = orderOf(series);
  const nIn = primals.length, nXs = nIn - nConsts - nCarry;
  const nOut = jaxpr.jaxpr.outs.length, nYs = nOut - nCarry;
  const has = having(series);
  const constHas = has.slice(0, nConsts), xsHas = has.slice(nConsts + nCarry);
  let carryHas = has.slice(nConsts, nConsts + nCarry);
  const noYs = new Array<boolean>(nYs).fill(false);
  // A row of stacked known zeros is a known zero: the xs keep theirs in every step.
  const zeros = [...zerosOf(series.slice(0, nConsts)), ...noZeros(nCarry), ...zerosOf(series.slice(nConsts + nCarry))];
  let body = jetJaxpr(jaxpr, [...constHas, ...carryHas, ...xsHas], zeros, order, [...carryHas, ...noYs], ruleOf);
  while (!same(body.outHas.slice(0, nCarry), carryHas)) {
    carryHas = body.outHas.slice(0, nCarry);
    body = jetJaxpr(jaxpr, [...constHas, ...carryHas, ...xsHas], zeros, order, [...carryHas, ...noYs], ruleOf);
  }
  const yHas = body.outHas.slice(nCarry);
  // The staged body has (consts, carry, xs, their coefficients) and returns (carry, ys, their
  // coefficients); the scan wants each group followed by its coefficients.
  const coefCount = (flags: readonly boolean[]): number => flags.filter(Boolean).length * order;
  const nCc = coefCount(constHas), nCarryC = coefCount(carryHas), nXc = coefCount(xsHas), nYc = coefCount(yHas);
  const at = (start: number, n: number): number[] => range(start, start + n);
  const inOrder = [...at(0, nConsts), ...at(nIn, nCc), ...at(nConsts, nCarry), ...at(nIn + nCc, nCarryC), ...at(nConsts + nCarry, nXs), ...at(nIn + nCc + nCarryC, nXc)];
  const outOrder = [...at(0, nCarry), ...at(nOut, nCarryC), ...at(nCarry, nYs), ...at(nOut + nCarryC, nYc)];
  const j = body.jaxpr.jaxpr;
  const newBody = rebind(body.jaxpr, pick(j.inBinders, inOrder), pick(j.outs, outOrder));
  const args = pick([...primals, ...coefsOf(primals, series, [...constHas, ...carryHas, ...xsHas], order)], inOrder);
  const outs = bind(scanP, args, { ...p, jaxpr: newBody, numConsts: nConsts + nCc, numCarry: nCarry + nCarryC });
  const [carry, carrySeries] = seriesOf(outs.slice(0, nCarry + nCarryC), nCarry, carryHas, order);
  const [ys, ySeries] = seriesOf(outs.slice(nCarry + nCarryC), nYs, yHas, order);
  return [
    [...carry, ...ys],
    [...carrySeries, ...ySeries],
  ];
};

/**
 * The checkpointed scan's tangent map is the tangent half of a joint scan over its body's JVP;
 * snapshots matter only when reversing it, so its jet is that scan's jet.
 */
const scanRevolveJet: JetRule = (primals, series, params, ruleOf) => {
  const p = params as ScanRevolveParams;
  const forward = (xs: Tensor[]): Tensor[] => jointScan(p.jvp, { jaxpr: p.jvp, length: p.length, reverse: p.reverse, numConsts: p.layout.numConsts, numCarry: p.layout.numCarry }, p.layout, xs)[1];
  return jetFlat(forward, primals, series, ruleOf);
};

/** The control-flow primitives' jet rules; the jets of their bodies use the lookup of the jet running them. */
export const controlFlowJetRules = new Map<Primitive<any>, JetRule>([
  [condP, condJet],
  [whileP, whileJet],
  [scanP, scanJet],
  [scanRevolveP, scanRevolveJet],
]);
