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
  assert.ok(Math.abs(m - mu) < 5 * seMean, `${what}: mean ${m}, want ${mu} ± 5 × ${seMean}`);
  assert.ok(Math.abs(s2 - v) < 5 * seVar, `${what}: variance ${s2}, want ${v} ± 5 × ${seVar}`);
}
