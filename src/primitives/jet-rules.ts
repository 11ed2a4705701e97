// Taylor-mode (jet) rules for the primitives that do not declare their own: each maps the primal
// inputs and their Taylor coefficients x_k / k! (k = 1..K; null for a constant input) to the primal
// outputs and theirs. The recurrences are the classical ones (Griewank & Walther, ch. 13): every
// coefficient of an output is one Cauchy product over the lower ones, so order K costs O(K^2).
// A function known by its derivative (asin, erf, lgamma, ...) integrates the series of that
// derivative; the few primitives with no practical recurrence take the rule their JVP implies
// (jet-from-jvp.ts), and this table also gathers the structural and linear-algebra tables.
import { isFloat } from "../core/dtype.js";
import type { Params, Primitive } from "../core/primitive.js";
import type { Tensor } from "../core/tensor.js";
import { bind } from "../core/trace.js";
import { addAnyP } from "../interpreters/add-any.js";
import { customLinP } from "../interpreters/custom-rules.js";
import { type JetRule, type JetRuleOf, jetFlat } from "../interpreters/jet.js";
import { convGeneralDilatedP } from "./conv.js";
import { cumsumP } from "./cumulative.js";
import { dotGeneralP } from "./dot.js";
import {
  abs,
  absP,
  acos,
  acosP,
  add,
  addP,
  asin,
  asinP,
  atan,
  atan2,
  atan2P,
  atanP,
  cbrt,
  cbrtP,
  floor,
  rem,
  remP,
  sign,
  convertElementTypeP,
  cos,
  cosP,
  cosh,
  coshP,
  expm1,
  expm1P,
  rsqrt,
  rsqrtP,
  sinh,
  sinhP,
  tan,
  tanP,
  convertElementType as cast,
  div,
  divP,
  eq,
  exp,
  expP,
  ge,
  gt,
  integerPowP,
  log,
  log1p,
  log1pP,
  logP,
  lt,
  maxP,
  minP,
  mul,
  mulP,
  neg,
  negP,
  pow,
  powP,
  select,
  selectP,
  sin,
  sinP,
  sqrt,
  sqrtP,
  sub,
  subP,
  tanh,
  tanhP,
} from "./elementwise.js";
import { gatherP, scatterAddP } from "./gather.js";
import { jetFromJvp } from "./jet-from-jvp.js";
import { linalgJetRules } from "./jet-rules-linalg.js";
import { structuralJetRules } from "./jet-rules-structural.js";
import { type Coefs, cauchy, full, isZ, markZero, orderOf, productSeries, scale } from "./jet-series.js";
import { reduceMax, reduceMaxP, reduceMin, reduceMinP, reduceSum, reduceSumP } from "./reduce.js";
import { reduceWindowSumP } from "./reduce-window.js";
import { broadcastInDim, broadcastInDimP, concatenateP, padP, reshapeP, sliceP, squeezeP, transposeP } from "./shape.js";
import {
  betaincP,
  digamma,
  digammaP,
  erf,
  erfInv,
  erfInvP,
  erfP,
  erfc,
  erfcP,
  igammaGradAP,
  igammaP,
  igammacP,
  lgamma,
  lgammaP,
  randomGammaGradP,
  trigamma,
} from "./special.js";
import { fullLike, zerosLike } from "./util.js";

export type { JetRule };
// Zero-aware arithmetic on coefficients of one shape.
const zsub = (a: Tensor, b: Tensor): Tensor => (isZ(b) ? a : isZ(a) ? neg(b) : sub(a, b));
const zdiv = (a: Tensor, b: Tensor): Tensor => (isZ(a) ? a : div(a, b));
const zneg = (a: Tensor): Tensor => (isZ(a) ? a : neg(a));

/**
 * The elementwise Cauchy sum Σ_{j=lo..hi} w(j) a_j b_{k-j} (w = 1 when absent) as a coefficient of
 * the elementwise recurrences: a marked zero when every term has a known zero factor.
 */
const coefSum = (a: Coefs, b: Coefs, k: number, lo: number, hi: number, w?: (j: number) => number): Tensor =>
  cauchy(a, b, k, lo, hi, mul, w) ?? markZero(zerosLike(a[0]));

/** y = exp(w) given y_0: y_k = (1/k) Σ_{j=1..k} j w_j y_{k-j}. */
function expSeries(y0: Tensor, w: Coefs, order: number): Tensor[] {
  const y = [y0];
  for (let k = 1; k <= order; k++) y.push(coefSum(w, y, k, 1, k, (j) => j / k));
  return y.slice(1);
}

/** y = log(x) given y_0: y_k = (x_k - (1/k) Σ_{j=1..k-1} j y_j x_{k-j}) / x_0. */
function logSeries(y0: Tensor, x: Coefs, order: number): Tensor[] {
  const y = [y0];
  for (let k = 1; k <= order; k++) {
    y.push(zdiv(zsub(x[k], coefSum(y, x, k, 1, k - 1, (j) => j / k)), x[0]));
  }
  return y.slice(1);
}

/** z = a / b given z_0: z_k = (a_k - Σ_{i=1..k} b_i z_{k-i}) / b_0. */
function quotientSeries(z0: Tensor, a: Coefs, b: Coefs, order: number): Tensor[] {
  const z = [z0];
  for (let k = 1; k <= order; k++) z.push(zdiv(zsub(a[k], coefSum(b, z, k, 1, k)), b[0]));
  return z.slice(1);
}

/** A unary rule from the primal function and the recurrence of the coefficients. */
const unary =
  (f: (x: Tensor) => Tensor, coefs: (y0: Tensor, x: Coefs, order: number) => Tensor[]): JetRule =>
  ([x], [s]) => {
    const y0 = f(x);
    return [[y0], [coefs(y0, full(x, s, (s as Tensor[]).length), (s as Tensor[]).length)]];
  };

/**
 * A primitive linear in its float inputs, applied termwise: coefficient k of the output is the
 * primitive on the inputs' coefficients k, a constant float input contributing zeros (pad's padding
 * value, select's constant branch) and non-float inputs (predicates, indices) kept as they are.
 */
function linearJet(prim: Primitive<any>, termParams: (p: Params) => Params = (p) => p): JetRule {
  return (primals, series, params) => {
    const tp = termParams(params);
    const order = orderOf(series);
    const outs = bind(prim, primals, params);
    const terms: Tensor[][] = outs.map(() => []);
    for (let k = 0; k < order; k++) {
      const args = primals.map((x, i) => (series[i] !== null ? (series[i] as Tensor[])[k] : isFloat(x.dtype) ? zerosLike(x) : x));
      bind(prim, args, tp).forEach((o, j) => terms[j].push(o));
    }
    return [outs, terms];
  };
}

/**
 * A bilinear primitive (mul, dot_general, conv): the Cauchy product of its two inputs' series,
 * skipping the products with a known-zero factor (a constant's terms, a path along a line).
 */
function bilinearJet(prim: Primitive<any>): JetRule {
  return ([a, b], [sa, sb], params) => {
    const order = orderOf([sa, sb]);
    const f = (x: Tensor, y: Tensor): Tensor => bind(prim, [x, y], params)[0];
    const [out, ...terms] = productSeries(full(a, sa, order), full(b, sb, order), order, f);
    return [[out], [terms]];
  };
}

const divJet: JetRule = ([a, b], [sa, sb]) => {
  const order = orderOf([sa, sb]);
  const z0 = div(a, b);
  return [[z0], [quotientSeries(z0, full(a, sa, order), full(b, sb, order), order)]];
};

/** sin and cos together (s' = c x', c' = -s x'); with `sign` 1, sinh and cosh (c' = s x'). */
function sinCos(x: Tensor, s: Tensor[], sign = -1): [Coefs, Coefs] {
  const X = [x, ...s];
  const S = [sign < 0 ? sin(x) : sinh(x)], C = [sign < 0 ? cos(x) : cosh(x)];
  for (let k = 1; k <= s.length; k++) {
    S.push(coefSum(X, C, k, 1, k, (j) => j / k));
    C.push(coefSum(X, S, k, 1, k, (j) => (sign * j) / k));
  }
  return [S, C];
}

/** tanh: y' = (1 - y^2) x', with u = 1 - y^2 updated as each y_k appears; with `sign` 1, tan (u = 1 + y^2). */
const tanhCoefs = (y0: Tensor, x: Coefs, order: number, sign = -1): Tensor[] => {
  const y = [y0], u = [add(fullLike(y0, 1), scale(mul(y0, y0), sign))];
  for (let k = 1; k <= order; k++) {
    y.push(coefSum(x, u, k, 1, k, (j) => j / k));
    const yy = coefSum(y, y, k, 0, k);
    u.push(sign < 0 ? zneg(yy) : yy);
  }
  return y.slice(1);
};

/** sqrt: y^2 = x, so y_k = (x_k - Σ_{i=1..k-1} y_i y_{k-i}) / (2 y_0). */
const sqrtCoefs = (y0: Tensor, x: Coefs, order: number): Tensor[] => {
  const y = [y0];
  const twoY0 = scale(y0, 2);
  for (let k = 1; k <= order; k++) {
    y.push(zdiv(zsub(x[k], coefSum(y, y, k, 1, k - 1)), twoY0));
  }
  return y.slice(1);
};

/** x^n by binary powering of series (exact, and defined at x = 0); n < 0 as 1 / x^|n|. */
const integerPowJet: JetRule = ([x], [s], { y: n }) => {
  const order = (s as Tensor[]).length;
  const m = Math.abs(n as number);
  let acc: Coefs | null = null;
  let base = full(x, s, order);
  for (let e = m; e > 0; e >>= 1) {
    if (e & 1) acc = acc === null ? base : productSeries(acc, base, order);
    if (e > 1) base = productSeries(base, base, order);
  }
  if (acc === null) return [[fullLike(x, 1)], [null]];
  if ((n as number) > 0) return [[acc[0]], [acc.slice(1)]];
  const one = fullLike(x, 1);
  const z0 = div(one, acc[0]);
  return [[z0], [quotientSeries(z0, full(one, null, order), acc, order)]];
};

/**
 * x^p. A constant exponent: from x z' = p z x', k x_0 z_k = Σ_{j=1..k} (p j - (k - j)) x_j z_{k-j}.
 * A varying one: exp(p log x).
 */
const powJet: JetRule = ([x, p], [sx, sp]) => {
  const order = orderOf([sx, sp]);
  const z0 = pow(x, p);
  const X = full(x, sx, order);
  if (sp === null) {
    const z = [z0];
    for (let k = 1; k <= order; k++) {
      let acc: Tensor | null = null;
      for (let j = 1; j <= k; j++) {
        if (isZ(X[j]) || isZ(z[k - j])) continue;
        const w = sub(scale(p, j), fullLike(p, k - j));
        const t = mul(w, mul(X[j], z[k - j]));
        acc = acc === null ? t : add(acc, t);
      }
      z.push(acc === null ? markZero(zerosLike(x)) : div(acc, scale(x, k)));
    }
    return [[z0], [z.slice(1)]];
  }
  const L = [log(x), ...logSeries(log(x), X, order)];
  const P = full(p, sp, order);
  const w = productSeries(P, L, order);
  return [[z0], [expSeries(z0, w, order)]];
};

/** max/min: each coefficient follows the operand the primal chose. */
const extremumJet =
  (f: (a: Tensor, b: Tensor) => Tensor, pick: (a: Tensor, b: Tensor) => Tensor): JetRule =>
  ([a, b], [sa, sb]) => {
    const order = orderOf([sa, sb]);
    const A = full(a, sa, order), B = full(b, sb, order);
    const m = pick(a, b);
    return [[f(a, b)], [A.slice(1).map((ak, i) => select(m, ak, B[i + 1]))]];
  };

/** |x|: the coefficients take the sign of the primal, x >= 0 counting as positive (as the JVP rule). */
const absJet: JetRule = ([x], [s]) => {
  const pos = ge(x, zerosLike(x));
  return [[abs(x)], [(s as Tensor[]).map((c) => select(pos, c, neg(c)))]];
};

/**
 * reduce_max/min: each coefficient is that of the chosen element, averaged over ties (as the JVP
 * rule shares the tangent).
 */
const extremeReduceJet =
  (f: (x: Tensor, axes: number[]) => Tensor): JetRule =>
  ([x], [s], { axes }) => {
    const ax = axes as number[];
    const out = f(x, ax);
    const kept = x.shape.map((_, i) => i).filter((i) => !ax.includes(i));
    const mask = cast(eq(x, broadcastInDim(out, x.shape, kept)), x.dtype);
    const count = reduceSum(mask, ax);
    return [[out], [(s as Tensor[]).map((c) => div(reduceSum(mul(c, mask), ax), count))]];
  };

/**
 * y' = c u x' (u's coefficients u_0..u_{K-1} given): matching t^{k-1}, y_k = (c/k) Σ_{j=1..k} j x_j u_{k-j}.
 * The integration step of every rule whose derivative factor u has a series of its own.
 */
const integrate = (x: Coefs, u: Coefs, order: number, c = 1): Tensor[] =>
  Array.from({ length: order }, (_, i) => coefSum(x, u, i + 1, 1, i + 1, (j) => (c * j) / (i + 1)));

/** c + sign x^2 to order `order` (1 - x^2, 1 + x^2, -x^2). */
function shiftedSquare(x: Coefs, order: number, c: number, sign: number): Coefs {
  const sq = scale(mul(x[0], x[0]), sign);
  const w = [c === 0 ? sq : add(fullLike(x[0], c), sq)];
  for (let k = 1; k <= order; k++) {
    const xx = coefSum(x, x, k, 0, k);
    w.push(sign < 0 ? zneg(xx) : xx);
  }
  return w;
}

/** 1 / w to order `order`: the quotient recurrence with a constant numerator. */
function reciprocal(w: Coefs, order: number): Coefs {
  const r0 = div(fullLike(w[0], 1), w[0]);
  return [r0, ...quotientSeries(r0, full(fullLike(w[0], 1), null, order), w, order)];
}

/** asin (c = 1) and acos (c = -1): y' = c x' / sqrt(1 - x^2), the series of 1/sqrt(1 - x^2) from sqrt's and the quotient's. */
const arcsinCoefs =
  (c: number) =>
  (_y0: Tensor, x: Coefs, order: number): Tensor[] => {
    const w = shiftedSquare(x, order - 1, 1, -1);
    const r0 = sqrt(w[0]);
    return integrate(x, reciprocal([r0, ...sqrtCoefs(r0, w, order - 1)], order - 1), order, c);
  };

/** erf (c = 2/sqrt(pi)) and erfc (its negative): y' = c exp(-x^2) x', exp's recurrence on -x^2. */
const erfCoefs =
  (c: number) =>
  (_y0: Tensor, x: Coefs, order: number): Tensor[] => {
    const w = shiftedSquare(x, order - 1, 0, -1);
    const e0 = exp(w[0]);
    return integrate(x, [e0, ...expSeries(e0, w, order - 1)], order, c);
  };

/**
 * erf_inv: y' = (sqrt(pi)/2) exp(y^2) x', where the factor depends on y itself; each y_k needs
 * the factor's coefficients below k only, so y and e = exp(y^2) grow together.
 */
const erfInvCoefs = (y0: Tensor, x: Coefs, order: number): Tensor[] => {
  const c = Math.sqrt(Math.PI) / 2;
  const y = [y0], w = [mul(y0, y0)], e = [exp(w[0])];
  for (let k = 1; k <= order; k++) {
    y.push(coefSum(x, e, k, 1, k, (j) => (c * j) / k));
    if (k === order) break;
    w.push(coefSum(y, y, k, 0, k));
    e.push(coefSum(w, e, k, 1, k, (j) => j / k));
  }
  return y.slice(1);
};

/** cbrt, z = x^(1/3): the constant-exponent power recurrence k x_0 z_k = Σ_{j=1..k} (j/3 - (k - j)) x_j z_{k-j}. */
const cbrtCoefs = (z0: Tensor, x: Coefs, order: number): Tensor[] => {
  const z = [z0];
  for (let k = 1; k <= order; k++) z.push(zdiv(coefSum(x, z, k, 1, k, (j) => (j / 3 - (k - j)) / k), x[0]));
  return z.slice(1);
};

/**
 * A unary rule whose derivative factor `u` is a composite (digamma's trigamma, lgamma's digamma):
 * y' = u(x) x', u's series to order K-1 from a jet of the composite (with the running jet's
 * rules), then integrated. One jet of u per application, not one per order.
 */
const integralOf =
  (f: (x: Tensor) => Tensor, u: (x: Tensor) => Tensor): JetRule =>
  ([x], [s], _params, ruleOf: JetRuleOf) => {
    const xs = s as Tensor[];
    const order = xs.length;
    const [[u0], [us]] = order === 1 ? [[u(x)], [[]]] : jetFlat(([v]) => [u(v)], [x], [xs.slice(0, order - 1)], ruleOf);
    return [[f(x)], [integrate([x, ...xs], [u0, ...(us as Tensor[])], order)]];
  };

/**
 * atan2(y, x): h' = (x y' - y x') / (x^2 + y^2) (the JVP's formula, defined wherever it is,
 * also for x = 0), a quotient of series of order K-1, then integrated.
 */
const atan2Jet: JetRule = ([y, x], [sy, sx]) => {
  const order = orderOf([sy, sx]);
  const Y = full(y, sy, order), X = full(x, sx, order);
  // The series of the path's derivative: (m + 1) c_{m+1}.
  const deriv = (c: Coefs) => c.slice(1).map((ck, m) => scale(ck, m + 1));
  const dY = deriv(Y), dX = deriv(X);
  const num: Tensor[] = [], den: Tensor[] = [];
  for (let m = 0; m < order; m++) {
    num.push(zsub(coefSum(X, dY, m, 0, m), coefSum(Y, dX, m, 0, m)));
    den.push(add(coefSum(X, X, m, 0, m), coefSum(Y, Y, m, 0, m)));
  }
  const q0 = div(num[0], den[0]);
  const q = [q0, ...quotientSeries(q0, num, den, order - 1)];
  return [[atan2(y, x)], [q.map((qk, m) => scale(qk, 1 / (m + 1)))]];
};

/**
 * rem(a, b) = a - b trunc(a / b), trunc locally constant (JAX's JVP: d/da = 1, d/db = -trunc(a/b)):
 * coefficients a_k - trunc(a_0 / b_0) b_k, piecewise as the primal.
 */
const remJet: JetRule = ([a, b], [sa, sb]) => {
  const order = orderOf([sa, sb]);
  const A = full(a, sa, order), B = full(b, sb, order);
  const q = div(a, b);
  const t = mul(sign(q), floor(abs(q)));
  return [[rem(a, b)], [A.slice(1).map((ak, i) => zsub(ak, isZ(B[i + 1]) ? B[i + 1] : mul(B[i + 1], t)))]];
};

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

const rules = new Map<Primitive<any>, JetRule>([
  [asinP, unary(asin, arcsinCoefs(1))],
  [acosP, unary(acos, arcsinCoefs(-1))],
  // atan: y' = x' / (1 + x^2).
  [atanP, unary(atan, (_y0, x, order) => integrate(x, reciprocal(shiftedSquare(x, order - 1, 1, 1), order - 1), order))],
  [atan2P, atan2Jet],
  [cbrtP, unary(cbrt, cbrtCoefs)],
  [remP, remJet],
  [erfP, unary(erf, erfCoefs(TWO_OVER_SQRT_PI))],
  [erfcP, unary(erfc, erfCoefs(-TWO_OVER_SQRT_PI))],
  [erfInvP, unary(erfInv, erfInvCoefs)],
  [lgammaP, integralOf(lgamma, digamma)],
  [digammaP, integralOf(digamma, trigamma)],
  [mulP, bilinearJet(mulP)],
  [dotGeneralP, bilinearJet(dotGeneralP)],
  [convGeneralDilatedP, bilinearJet(convGeneralDilatedP)],
  [divP, divJet],
  [expP, unary(exp, (y0, x, order) => expSeries(y0, x, order))],
  [logP, unary(log, logSeries)],
  // log(1 + x): the log recurrence, whose only use of x_0 is the divisor 1 + x_0.
  [log1pP, unary(log1p, (y0, x, order) => logSeries(y0, [add(fullLike(x[0], 1), x[0]), ...x.slice(1)], order))],
  [absP, absJet],
  [reduceMaxP, extremeReduceJet(reduceMax)],
  [reduceMinP, extremeReduceJet(reduceMin)],
  [sinP, ([x], [s]) => [[sin(x)], [sinCos(x, s as Tensor[])[0].slice(1)]]],
  [cosP, ([x], [s]) => [[cos(x)], [sinCos(x, s as Tensor[])[1].slice(1)]]],
  [tanhP, unary(tanh, tanhCoefs)],
  [sqrtP, unary(sqrt, sqrtCoefs)],
  [tanP, unary(tan, (y0, x, order) => tanhCoefs(y0, x, order, 1))],
  [sinhP, ([x], [s]) => [[sinh(x)], [sinCos(x, s as Tensor[], 1)[0].slice(1)]]],
  [coshP, ([x], [s]) => [[cosh(x)], [sinCos(x, s as Tensor[], 1)[1].slice(1)]]],
  // expm1 and exp differ by a constant: the same coefficients, from e^x_0 = expm1(x_0) + 1.
  [expm1P, unary(expm1, (y0, x, order) => expSeries(add(y0, fullLike(y0, 1)), x, order))],
  // 1 / sqrt(x): the quotient recurrence on sqrt's series.
  [rsqrtP, unary(rsqrt, (y0, x, order) => {
    const r = sqrt(x[0]);
    return quotientSeries(y0, full(fullLike(r, 1), null, order), [r, ...sqrtCoefs(r, x, order)], order);
  })],
  [integerPowP, integerPowJet],
  [powP, powJet],
  [maxP, extremumJet((a, b) => bind(maxP, [a, b])[0], gt)],
  [minP, extremumJet((a, b) => bind(minP, [a, b])[0], lt)],
]);
for (const p of [negP, addP, subP, addAnyP, selectP, convertElementTypeP, reduceSumP, broadcastInDimP, reshapeP, transposeP, squeezeP, sliceP, concatenateP, gatherP, scatterAddP, cumsumP, reduceWindowSumP]) {
  rules.set(p, linearJet(p));
}
// The padding value is a constant: the coefficients are padded with zeros.
rules.set(padP, linearJet(padP, (p) => ({ ...p, value: 0 })));
// No closed-form recurrence is practical for these: their derivatives involve other special
// functions (igamma_grad_a, itself a series in a), so each takes the rule its JVP implies, which
// also mirrors the JVP where it is not differentiable (a shape argument, random_gamma_grad).
for (const p of [igammaP, igammacP, igammaGradAP, randomGammaGradP, betaincP]) rules.set(p, jetFromJvp(p));
// custom_lin (a customVjp function's tangent map inside a JVP) is linear in its tangents and
// known only by its transpose; its JVP rule says so, and the rule it implies mirrors it: under jet,
// as under nested jvp, evaluating it forward is forward mode, which a customVjp function refuses.
rules.set(customLinP, jetFromJvp(customLinP));
// Sorting, cumulative, scatter and window primitives, and the linear-algebra factorizations, have
// their tables in modules of their own.
for (const table of [structuralJetRules, linalgJetRules]) for (const [p, rule] of table) rules.set(p, rule);

/** The jet rule of `prim`: its own declared one, else this module's; undefined when it has none. */
export const jetRuleOf = (prim: Primitive<any>): JetRule | undefined => (prim.jet as JetRule | undefined) ?? rules.get(prim);
