// Scalar kernels of the special functions (float64, ~1e-15 relative where the function is well
// conditioned), and a loop applying one to a strided array.
import { type DType, allocate } from "../core/dtype.js";
import { type Arr, contiguous, sizeOf, view } from "./ndarray-view.js";

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const SQRT_PI = 1.7724538509055160;

/**
 * erf for |x| < 2.5 from the all-positive series erf(x) = 2/sqrt(pi) x e^(-x^2) sum (2x^2)^n / (2n+1)!!
 * (no cancellation, unlike the alternating Taylor series).
 */
function erfSeries(x: number): number {
  const x2 = x * x, r = 2 * x2;
  let term = 1, sum = 1;
  for (let n = 1; n < 200; n++) {
    term *= r / (2 * n + 1);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return TWO_OVER_SQRT_PI * x * Math.exp(-x2) * sum;
}

/**
 * erfc for x >= 0.5 from Laplace's continued fraction
 * erfc(x) = e^(-x^2)/sqrt(pi) * 2x / (2x^2 + 1 - 1*2 / (2x^2 + 5 - 3*4 / (2x^2 + 9 - ...))),
 * evaluated by the modified Lentz method.
 */
function erfcFraction(x: number): number {
  // For x >= 1 every partial denominator stays positive, so Lentz's zero guards are not needed.
  const z = 2 * x * x;
  let f = z + 1, c = f, d = 0;
  for (let n = 1; n < 5000; n++) {
    const a = -(2 * n - 1) * (2 * n);
    const b = z + 1 + 4 * n;
    d = 1 / (b + a * d);
    c = b + a / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return (Math.exp(-x * x) / SQRT_PI) * ((2 * x) / f);
}

export function erf(x: number): number {
  if (x !== x) return x;
  const a = Math.abs(x);
  if (a < 2.5) return erfSeries(x);
  if (a > 6) return x > 0 ? 1 : -1;
  const r = 1 - erfcFraction(a);
  return x > 0 ? r : -r;
}

export function erfc(x: number): number {
  if (x !== x) return x;
  if (x < 1) return 1 - erf(x);
  if (x > 27.3) return 0;
  return erfcFraction(x);
}

// Giles, "Approximating the erfinv function" (GPU Computing Gems Jade, 2011): the double-precision
// version, three polynomials in w = -log(1 - x^2) (shifted, or in sqrt(w) for the tails), highest
// degree first. XLA's ErfInv (and so JAX's erf_inv on float64) evaluates the same polynomials.
const ERFINV_W_LT_6_25 = [
  -3.6444120640178196996e-21, -1.685059138182016589e-19, 1.2858480715256400167e-18, 1.115787767802518096e-17,
  -1.333171662854620906e-16, 2.0972767875968561637e-17, 6.6376381343583238325e-15, -4.0545662729752068639e-14,
  -8.1519341976054721522e-14, 2.6335093153082322977e-12, -1.2975133253453532498e-11, -5.4154120542946279317e-11,
  1.051212273321532285e-9, -4.1126339803469836976e-9, -2.9070369957882005086e-8, 4.2347877827932403518e-7,
  -1.3654692000834678645e-6, -1.3882523362786468719e-5, 0.0001867342080340571352, -0.00074070253416626697512,
  -0.0060336708714301490533, 0.24015818242558961693, 1.6536545626831027356,
];
const ERFINV_W_LT_16 = [
  2.2137376921775787049e-9, 9.0756561938885390979e-8, -2.7517406297064545428e-7, 1.8239629214389227755e-8,
  1.5027403968909827627e-6, -4.013867526981545969e-6, 2.9234449089955446044e-6, 1.2475304481671778723e-5,
  -4.7318229009055733981e-5, 6.8284851459573175448e-5, 2.4031110387097893999e-5, -0.0003550375203628474796,
  0.00095328937973738049703, -0.0016882755560235047313, 0.0024914420961078508066, -0.0037512085075692412107,
  0.005370914553590063617, 1.0052589676941592334, 3.0838856104922207635,
];
const ERFINV_W_GE_16 = [
  -2.7109920616438573243e-11, -2.5556418169965252055e-10, 1.5076572693500548083e-9, -3.7894654401267369937e-9,
  7.6157012080783393804e-9, -1.4960026627149240478e-8, 2.9147953450901080826e-8, -6.7711997758452339498e-8,
  2.2900482228026654717e-7, -9.9298272942317002539e-7, 4.5260625972231537039e-6, -1.9681778105531670567e-5,
  7.5995277030017761139e-5, -0.00021503011930044477347, -0.00013871931833623122026, 1.0103004648645343977,
  4.8499064014085844221,
];

function horner(c: readonly number[], w: number): number {
  let p = c[0];
  for (let i = 1; i < c.length; i++) p = c[i] + p * w;
  return p;
}

export function erfInv(x: number): number {
  const a = Math.abs(x);
  if (!(a < 1)) return a === 1 ? x * Infinity : NaN;
  // w = -log(1 - x^2); near |x| = 1 as -log((1 - a)(1 + a)), where 1 - a is exact, because
  // rounding x * x first would cost up to half the digits there.
  const w = a < 0.5 ? -Math.log1p(-x * x) : -Math.log((1 - a) * (1 + a));
  if (w < 6.25) return horner(ERFINV_W_LT_6_25, w - 3.125) * x;
  if (w < 16) return horner(ERFINV_W_LT_16, Math.sqrt(w) - 3.25) * x;
  return horner(ERFINV_W_GE_16, Math.sqrt(w) - 5) * x;
}

// Giles's single-precision version, evaluated in float32 arithmetic (every step rounded with
// Math.fround) as XLA's ErfInv does for float32, so that float32 normals match JAX's bits.
const ERFINV32_W_LT_5 = [2.81022636e-8, 3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941].map(Math.fround);
const ERFINV32_W_GE_5 = [-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682].map(Math.fround);

export function erfInv32(x: number): number {
  const f = Math.fround;
  x = f(x);
  const a = Math.abs(x);
  if (!(a < 1)) return a === 1 ? x * Infinity : NaN;
  let w = -f(Math.log1p(-f(x * x)));
  let c: number[];
  if (w < 5) {
    w = f(w - 2.5);
    c = ERFINV32_W_LT_5;
  } else {
    w = f(f(Math.sqrt(w)) - 3);
    c = ERFINV32_W_GE_5;
  }
  let p = c[0];
  for (let i = 1; i < c.length; i++) p = f(c[i] + f(p * w));
  return f(p * x);
}

// Lanczos's approximation with g = 7 and 9 terms (Godfrey's coefficients):
// Gamma(z + 1) = sqrt(2 pi) t^(z + 1/2) e^(-t) A(z), t = z + g + 1/2.
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const LOG_SQRT_2PI = 0.91893853320467274;

export function lgamma(x: number): number {
  if (x !== x) return x;
  if (!Number.isFinite(x)) return Infinity;
  if (x < 0.5) {
    // Reflection: lgamma(x) = log(pi / |sin(pi x)|) - lgamma(1 - x); sin(pi x) from the distance
    // to the nearest integer, so that it is exactly 0 at the poles.
    const fr = Math.abs(x) - Math.floor(Math.abs(x));
    const s = Math.sin(Math.PI * (fr > 0.5 ? 1 - fr : fr));
    if (s === 0) return Infinity;
    return Math.log(Math.PI / s) - lgamma(1 - x);
  }
  if (x === 1 || x === 2) return 0;
  const z = x - 1;
  let acc = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) acc += LANCZOS[i] / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return LOG_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(acc);
}

/** digamma by the recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10, then the asymptotic series. */
export function digamma(x: number): number {
  if (x !== x || x === Infinity) return x;
  if (x <= 0) {
    if (x === Math.floor(x)) return NaN;
    // Reflection: psi(x) = psi(1 - x) - pi / tan(pi x), the argument reduced to (-1/2, 1/2].
    const r = x - Math.round(x);
    return digamma(1 - x) - Math.PI / Math.tan(Math.PI * r);
  }
  let acc = 0;
  while (x < 10) {
    acc -= 1 / x;
    x += 1;
  }
  const i2 = 1 / (x * x);
  const series = i2 * (1 / 12 - i2 * (1 / 120 - i2 * (1 / 252 - i2 * (1 / 240 - i2 * (1 / 132 - i2 * (691 / 32760 - i2 / 12))))));
  return acc + Math.log(x) - 0.5 / x - series;
}

/**
 * d x / d a for a Gamma(a, 1) sample x, by implicit differentiation of its CDF P(a, x) = u:
 * dx/da = -(dP/da) / (dP/dx) (Figurnov et al., "Implicit reparameterization gradients", 2018;
 * JAX's random_gamma_grad). P's power series (x < a + 1) or the continued fraction of Q = 1 - P
 * (Numerical Recipes' gcf) is evaluated together with its derivative in a (forward-mode dual
 * numbers); the common factor x^a e^-x / Gamma(a) cancels in the ratio, so nothing overflows.
 */
export function gammaSampleGrad(a: number, x: number): number {
  if (!(a > 0) || !(x > 0) || !Number.isFinite(x)) return x === 0 ? 0 : NaN;
  const lx = Math.log(x), dg = digamma(a);
  if (x < a + 1) {
    // P = E S / a with S = sum t_n, t_n = t_{n-1} x / (a + n); dt_n/da = -t_n sum_{k<=n} 1/(a + k).
    let t = 1, s = 1, ds = 0, r = 0;
    for (let n = 1; n < 10000; n++) {
      t *= x / (a + n);
      r += 1 / (a + n);
      s += t;
      ds -= t * r;
      if (t < 1e-17 * s) break;
    }
    return -x * ((lx - dg) * s / a + ds / a - s / (a * a));
  }
  // Q = E h, h the continued fraction 1/(x+1-a- 1(1-a)/(x+3-a- 2(2-a)/(x+5-a- ...))).
  let b = x + 1 - a;
  const db = -1;
  let c = 1e300, dc = 0;
  let d = 1 / b, dd = 1 / (b * b);
  let h = d, dh = dd;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a), dan = i;
    b += 2;
    const den = an * d + b, dden = dan * d + an * dd + db;
    const cn = b + an / c, dcn = db + (dan * c - an * dc) / (c * c);
    c = cn;
    dc = dcn;
    d = 1 / den;
    dd = -dden / (den * den);
    const del = d * c, ddel = dd * c + d * dc;
    dh = dh * del + h * ddel;
    h *= del;
    // The derivative converges more slowly than the value: wait for both.
    if (Math.abs(del - 1) < 1e-16 && Math.abs(ddel) < 1e-16) break;
  }
  return x * ((lx - dg) * h + dh);
}

/** P(a, x) by its power series e^-x x^a / Gamma(a + 1) sum_n x^n / ((a + 1) ... (a + n)), for x < a + 1. */
function igammaSeries(a: number, x: number): number {
  let t = 1, s = 1;
  for (let n = 1; n < 10000; n++) {
    t *= x / (a + n);
    s += t;
    if (t < 1e-17 * s) break;
  }
  return Math.exp(-x + a * Math.log(x) - lgamma(a + 1)) * s;
}

/** Q(a, x) by the continued fraction of Numerical Recipes' gcf (modified Lentz), for x >= a + 1. */
function igammacFraction(a: number, x: number): number {
  let b = x + 1 - a, c = 1e300, d = 1 / b, h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = 1 / (an * d + b);
    c = b + an / c;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return Math.exp(-x + a * Math.log(x) - lgamma(a)) * h;
}

/** The regularized lower incomplete gamma function P(a, x) (JAX's igamma, SciPy's gammainc). */
export function igamma(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) return x === 0 && a === 0 ? NaN : NaN;
  if (x === 0) return 0;
  if (x === Infinity) return 1;
  return x < a + 1 ? igammaSeries(a, x) : 1 - igammacFraction(a, x);
}

/** Q(a, x) = 1 - P(a, x), computed directly where it is small (JAX's igammac, SciPy's gammaincc). */
export function igammac(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) return NaN;
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  return x < a + 1 ? 1 - igammaSeries(a, x) : igammacFraction(a, x);
}

/** dP(a, x)/da: minus the gamma sample derivative times dP/dx = x^(a-1) e^-x / Gamma(a). */
export function igammaGradA(a: number, x: number): number {
  if (!(a > 0) || !(x > 0) || x === Infinity) return x === 0 || x === Infinity ? 0 : NaN;
  return -gammaSampleGrad(a, x) * Math.exp(-x + (a - 1) * Math.log(x) - lgamma(a));
}

/** The continued fraction of the incomplete beta function (Numerical Recipes' betacf). */
function betaFraction(a: number, b: number, x: number): number {
  const qab = a + b, qap = a + 1, qam = a - 1;
  let c = 1, d = 1 / (1 - (qab * x) / qap);
  let h = d;
  for (let m = 1; m < 10000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 / (1 + aa * d);
    c = 1 + aa / c;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 / (1 + aa * d);
    c = 1 + aa / c;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b) (JAX's regularized_incomplete_beta, SciPy's betainc). */
export function betainc(a: number, b: number, x: number): number {
  if (!(a > 0) || !(b > 0) || !(x >= 0 && x <= 1)) return NaN;
  if (x === 0 || x === 1) return x;
  const front = Math.exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  // The fraction converges fast below the mean; above it, use I_x(a, b) = 1 - I_(1-x)(b, a).
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(a, b, x)) / a : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/** Applies a scalar function of three same-shaped arrays elementwise, into a fresh array of `dtype`. */
export function mapScalar3(f: (a: number, b: number, c: number) => number, a: Arr, b: Arr, c: Arr, dtype: DType): Arr {
  const n = sizeOf(a.shape);
  const out = allocate(dtype, n, a.shape);
  const [ca, cb, cc] = [contiguous(a), contiguous(b), contiguous(c)];
  for (let i = 0; i < n; i++) out[i] = f(ca.data[ca.offset + i], cb.data[cb.offset + i], cc.data[cc.offset + i]);
  return view(out, a.shape);
}

/** Applies a scalar function elementwise, writing a fresh row-major array of `dtype`. */
export function mapScalar(f: (x: number) => number, a: Arr, dtype: DType): Arr {
  const n = sizeOf(a.shape);
  const out = allocate(dtype, n, a.shape);
  const c = contiguous(a), d = c.data, o = c.offset;
  for (let i = 0; i < n; i++) out[i] = f(d[o + i]);
  return view(out, a.shape);
}

/** Applies a scalar function of two same-shaped arrays elementwise, into a fresh array of `dtype`. */
export function mapScalar2(f: (a: number, b: number) => number, a: Arr, b: Arr, dtype: DType): Arr {
  const n = sizeOf(a.shape);
  const out = allocate(dtype, n, a.shape);
  const ca = contiguous(a), cb = contiguous(b), da = ca.data, db = cb.data, oa = ca.offset, ob = cb.offset;
  for (let i = 0; i < n; i++) out[i] = f(da[oa + i], db[ob + i]);
  return view(out, a.shape);
}
