// jax.scipy.special's functions: the special-function primitives, and composites of them. Inputs
// are promoted to floating point; tails are computed where they do not underflow (ndtri, logNdtr).
import type { Tensor, TensorLike } from "../core/tensor.js";
import { customJvp } from "../transforms/custom-jvp.js";
import { np } from "../numpy/index.js";
import { T, promoteArgs, toFloat } from "../numpy/promote.js";
import { logsumexp as nnLogsumexp } from "../nn/normalizers.js";
import * as S from "../primitives/special.js";

const F = (x: TensorLike, where: string): Tensor => toFloat(T(x, where));

export const erf = (x: TensorLike): Tensor => S.erf(F(x, "scipy.special.erf: x"));
export const erfc = (x: TensorLike): Tensor => S.erfc(F(x, "scipy.special.erfc: x"));
export const erfinv = (x: TensorLike): Tensor => S.erfInv(F(x, "scipy.special.erfinv: x"));
export const gammaln = (x: TensorLike): Tensor => S.lgamma(F(x, "scipy.special.gammaln: x"));
export const digamma = (x: TensorLike): Tensor => S.digamma(F(x, "scipy.special.digamma: x"));

/** log(p / (1 - p)). */
export function logit(p: TensorLike): Tensor {
  const x = F(p, "scipy.special.logit: p");
  return np.log(np.divide(x, np.subtract(1, x)));
}

/** 1 / (1 + e^-x). */
export function expit(x: TensorLike): Tensor {
  const t = F(x, "scipy.special.expit: x");
  return np.divide(1, np.add(1, np.exp(np.negative(t))));
}

type Binary = (a: Tensor, b: Tensor) => Tensor;
const lazy = new Map<string, Binary>();

/**
 * `x * g(y)`, 0 where x = 0 (even where g(y) is infinite), with JAX's derivative rule
 * d = dx g(y) + dy x g'(y): the value's select does not hide log(y) from the derivative in x.
 */
function xTimes(name: string, g: (y: Tensor) => Tensor, dg: (x: Tensor, y: Tensor) => Tensor): Binary {
  let f = lazy.get(name);
  if (f === undefined) {
    const value = (x: Tensor, y: Tensor) => np.where(np.equal(x, 0), 0, np.multiply(x, g(y)));
    const c = customJvp(value);
    c.defjvp(([x, y]: Tensor[], [tx, ty]: Tensor[]) => [value(x, y), np.add(np.multiply(tx, g(y)), np.multiply(ty, dg(x, y)))]);
    f = c as unknown as Binary;
    lazy.set(name, f);
  }
  return f;
}

/** x log(y), 0 where x = 0 (even at y = 0). */
export function xlogy(x: TensorLike, y: TensorLike): Tensor {
  const [a, b] = promoteArgs("scipy.special.xlogy", [x, y], { float: true });
  return xTimes("xlogy", np.log, (u, v) => np.divide(u, v))(a, b);
}

/** x log(1 + y), 0 where x = 0. */
export function xlog1py(x: TensorLike, y: TensorLike): Tensor {
  const [a, b] = promoteArgs("scipy.special.xlog1py", [x, y], { float: true });
  return xTimes("xlog1py", np.log1p, (u, v) => np.divide(u, np.add(1, v)))(a, b);
}

export const logsumexp = nnLogsumexp;

/** The regularized lower incomplete gamma function P(a, x). */
export function gammainc(a: TensorLike, x: TensorLike): Tensor {
  const [at, xt] = promoteArgs("scipy.special.gammainc", [a, x], { float: true });
  return S.igamma(at, xt);
}

/** The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x). */
export function gammaincc(a: TensorLike, x: TensorLike): Tensor {
  const [at, xt] = promoteArgs("scipy.special.gammaincc", [a, x], { float: true });
  return S.igammac(at, xt);
}

/** The regularized incomplete beta function I_x(a, b); differentiable in x only, as JAX's. */
export function betainc(a: TensorLike, b: TensorLike, x: TensorLike): Tensor {
  const [at, bt, xt] = promoteArgs("scipy.special.betainc", [a, b, x], { float: true });
  return S.betainc(at, bt, xt);
}

/** The standard normal CDF, 0.5 erfc(-x / sqrt 2): accurate in relative terms in the lower tail. */
export function ndtr(x: TensorLike): Tensor {
  const t = F(x, "scipy.special.ndtr: x");
  return np.multiply(0.5, S.erfc(np.multiply(t, -Math.SQRT1_2)));
}

// Acklam's rational approximations of the normal quantile (relative error < 1.2e-9), polished by
// one Halley step against ndtr, which makes them accurate to rounding.
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const poly = (c: number[], x: Tensor): Tensor => c.slice(1).reduce((acc: Tensor, k) => np.add(np.multiply(acc, x), k), np.multiply(np.onesLike(x), c[0]));

/** The lower-tail quantile for q in (0, 1/2]: a negative number (or 0 at 1/2). */
function lowerQuantile(q: Tensor): Tensor {
  const tail = np.less(q, 0.02425);
  // Each branch sees a harmless q where the other one applies.
  const qt = np.where(tail, q, 0.01);
  const s = np.sqrt(np.multiply(-2, np.log(qt)));
  const xt = np.divide(poly(C, s), np.add(np.multiply(poly(D, s), s), 1));
  const h = np.subtract(np.where(tail, 0.25, q), 0.5), r = np.multiply(h, h);
  const xc = np.divide(np.multiply(poly(A, r), h), np.add(np.multiply(poly(B, r), r), 1));
  const x0 = np.where(tail, xt, xc);
  // Halley: u = (ndtr(x) - q) / phi(x), written with q factored out so that nothing under- or overflows.
  const ratio = np.subtract(np.divide(ndtr(x0), q), 1);
  const u = np.multiply(ratio, np.exp(np.add(np.add(np.multiply(0.5, np.multiply(x0, x0)), np.log(q)), 0.5 * Math.log(2 * Math.PI))));
  return np.subtract(x0, np.divide(u, np.add(1, np.multiply(np.multiply(0.5, x0), u))));
}

function ndtriValue(p: Tensor): Tensor {
  const upper = np.greater(p, 0.5);
  const q = np.where(upper, np.subtract(1, p), p);
  // q in (0, 1/2] inside the domain; 0 at the ends, negative or NaN outside.
  const valid = np.greater(q, 0);
  const x = lowerQuantile(np.where(valid, q, 0.5));
  const v = np.where(upper, np.negative(x), x);
  return np.where(np.equal(p, 0), -Infinity, np.where(np.equal(p, 1), Infinity, np.where(valid, v, NaN)));
}

let ndtriFn: ((p: Tensor) => Tensor) | null = null;

/** The standard normal quantile; its derivative is sqrt(2 pi) e^(x^2/2). */
export function ndtri(p: TensorLike): Tensor {
  if (ndtriFn === null) {
    const f = customJvp((q: Tensor) => ndtriValue(q));
    f.defjvp(([q]: Tensor[], [t]: Tensor[]) => {
      const x = ndtriValue(q);
      return [x, np.multiply(t, np.multiply(Math.sqrt(2 * Math.PI), np.exp(np.multiply(0.5, np.multiply(x, x)))))];
    });
    ndtriFn = f as unknown as (p: Tensor) => Tensor;
  }
  return ndtriFn(F(p, "scipy.special.ndtri: p"));
}

/**
 * log of the standard normal CDF: log1p(-ndtr(-x)) above 0, log(ndtr(x)) down to -20, and the
 * asymptotic series -x^2/2 - log(-x) - log(2 pi)/2 + log(1 + sum_n (-1)^n (2n-1)!! / x^(2n)) below
 * (JAX splits at 8 and -20; from 0 up, log1p keeps the digits log(1 - tiny) loses; eight terms of
 * the series make it accurate to rounding at -20).
 */
export function logNdtr(x: TensorLike): Tensor {
  const t = F(x, "scipy.special.logNdtr: x");
  const hi = np.greater(t, 0), lo = np.less(t, -20);
  const xm = np.clip(t, -20, 0);
  const mid = np.log(ndtr(xm));
  const xh = np.maximum(t, 0);
  const high = np.log1p(np.negative(ndtr(np.negative(xh))));
  const xl = np.minimum(t, -20);
  const i2 = np.divide(1, np.multiply(xl, xl));
  let series = np.zerosLike(xl), term = np.onesLike(xl);
  for (let n = 1; n <= 8; n++) {
    term = np.multiply(term, np.multiply(i2, -(2 * n - 1)));
    series = np.add(series, term);
  }
  const low = np.add(np.subtract(np.multiply(-0.5, np.multiply(xl, xl)), np.log(np.negative(xl))), np.subtract(np.log1p(series), 0.5 * Math.log(2 * Math.PI)));
  return np.where(hi, high, np.where(lo, low, mid));
}
