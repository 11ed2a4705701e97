// Statistics helpers for the sampler tests: Kolmogorov–Smirnov distance against an exact CDF and
// moment checks in standard errors. Seeds are fixed, so every test is deterministic.
import * as assert from "uvu/assert";

/** sup |F_n - F| of the sample against the CDF `cdf`. */
export function ksDistance(xs: number[], cdf: (x: number) => number): number {
  const s = [...xs].sort((a, b) => a - b), n = s.length;
  let d = 0;
  s.forEach((x, i) => {
    const f = cdf(x);
    d = Math.max(d, Math.abs((i + 1) / n - f), Math.abs(f - i / n));
  });
  return d;
}

/** The KS test at level 0.001 (critical value 1.95 / sqrt(n)). */
export function passesKs(xs: number[], cdf: (x: number) => number, what: string): void {
  const d = ksDistance(xs, cdf), crit = 1.95 / Math.sqrt(xs.length);
  assert.ok(d < crit, `${what}: KS distance ${d} above the 0.1% critical value ${crit}`);
}

export const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
export const variance = (xs: number[]): number => {
  const m = mean(xs);
  return xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1);
};

/**
 * Sample mean within 5 standard errors of `mu` (sd = sqrt(var) known exactly), and the sample
 * variance within 5 standard errors of `v` (the variance of s^2 from the fourth central moment m4).
 */
export function momentsAgree(xs: number[], mu: number, v: number, m4: number, what: string): void {
  const n = xs.length, m = mean(xs), s2 = variance(xs);
  const seMean = Math.sqrt(v / n), seVar = Math.sqrt((m4 - ((n - 3) / (n - 1)) * v * v) / n);
  assert.ok(Math.abs(m - mu) <= 5 * seMean, `${what}: mean ${m}, want ${mu} ± 5 × ${seMean}`);
  assert.ok(Math.abs(s2 - v) <= 5 * seVar, `${what}: variance ${s2}, want ${v} ± 5 × ${seVar}`);
}

/** ln Gamma by Lanczos (g = 7, 9 terms), for the reference CDFs below (x > 0). */
function lnGamma(x: number): number {
  const g = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  const z = x - 1;
  let a = g[0];
  for (let i = 1; i < 9; i++) a += g[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The regularized lower incomplete gamma function P(a, x): the Gamma(a, 1) CDF. */
export function gammaCdf(a: number, x: number): number {
  if (x <= 0) return 0;
  const lead = Math.exp(-x + a * Math.log(x) - lnGamma(a));
  if (x < a + 1) {
    let t = 1 / a, s = t;
    for (let n = 1; n < 1000 && t > 1e-17 * s; n++) s += (t *= x / (a + n));
    return lead * s;
  }
  let b = x + 1 - a, c = 1e300, d = 1 / b, h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = 1 / (an * d + b);
    c = b + an / c;
    h *= d * c;
    if (Math.abs(d * c - 1) < 1e-16) break;
  }
  return 1 - lead * h;
}

/** The regularized incomplete beta function I_x(a, b): the Beta(a, b) CDF (continued fraction). */
export function betaCdf(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - betaCdf(b, a, 1 - x);
  const lead = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log1p(-x)) / a;
  let c = 1, d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / d;
  let h = d;
  for (let m = 1; m < 1000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 / (1 + aa * d);
    c = 1 + aa / c;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 / (1 + aa * d);
    c = 1 + aa / c;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return lead * h;
}

/** Mean, variance and fourth central moment of Beta(a, b). */
export function betaMoments(a: number, b: number): [number, number, number] {
  const s = a + b, v = (a * b) / (s * s * (s + 1));
  const excess = (6 * ((a - b) ** 2 * (s + 1) - a * b * (s + 2))) / (a * b * (s + 2) * (s + 3));
  return [a / s, v, (excess + 3) * v * v];
}
