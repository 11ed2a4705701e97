// Shared helpers of the linear-algebra kernel tests: the NumPy/SciPy fixture, element-wise
// comparison that understands NaN and ±Infinity, small dense products and norms, and seeded
// random matrices.
import { readFileSync } from "node:fs";
import * as assert from "uvu/assert";
import { seeded } from "../../../src/core/random.js";

export type Nested = number | string | boolean | Nested[];

/** tests/fixtures/linalg.json with "NaN"/"Infinity"/"-Infinity" strings turned back into numbers. */
export function loadFixture(): any {
  const text = readFileSync(new URL("../../fixtures/linalg.json", import.meta.url), "utf8");
  return JSON.parse(text, (_k, v) => (v === "NaN" ? NaN : v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : v));
}

/** Leaves of nested lists in row-major order. */
export const flat = (x: Nested): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);

/** The dims of a nested list. */
export function dims(x: Nested): number[] {
  const out: number[] = [];
  let v = x;
  while (Array.isArray(v)) {
    out.push(v.length);
    v = v[0];
  }
  return out;
}

/** Every element within `tol` relative to max(1, |want|); NaN matches NaN, infinities match exactly. */
export function near(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    const ok = Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= tol * Math.max(1, Math.abs(w));
    if (!ok) assert.unreachable(`${what}[${i}]: got ${g}, want ${w} (got ${Array.from(got).slice(0, 12)} ..., want ${Array.from(want).slice(0, 12)} ...)`);
  }
}

/** [m, k] @ [k, n] (transposing either operand first when asked), row-major, in float64. */
export function matmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number, ta = false, tb = false): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const x = ta ? a[p * m + i] : a[i * k + p];
      if (tb) for (let j = 0; j < n; j++) c[i * n + j] += x * b[j * k + p];
      else for (let j = 0; j < n; j++) c[i * n + j] += x * b[p * n + j];
    }
  }
  return c;
}

export const fro = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
};

/** ||a - b||_F / ||b||_F. */
export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s) / fro(b);
}

/** ||Q^T Q - I||_F for the columns of an m x c row-major Q. */
export function orthogonalityError(q: ArrayLike<number>, m: number, c: number): number {
  const g = matmul(q, q, c, m, c, true, false);
  for (let i = 0; i < c; i++) g[i * c + i] -= 1;
  return fro(g);
}

/** Uniform [-1, 1) entries from a seeded generator. */
export function randomMatrix(len: number, seed: number): Float64Array {
  const rnd = seeded(seed);
  return Float64Array.from({ length: len }, () => 2 * rnd() - 1);
}

/** A well-conditioned symmetric positive-definite n x n matrix: G G^T + n I. */
export function spdMatrix(n: number, seed: number): Float64Array {
  const g = randomMatrix(n * n, seed);
  const a = matmul(g, g, n, n, n, false, true);
  for (let i = 0; i < n; i++) a[i * n + i] += n;
  return a;
}

/** Columns of an m x c row-major matrix flipped so that each one's largest-magnitude entry is positive. */
export function fixColumnSigns(q: ArrayLike<number>, m: number, c: number): Float64Array {
  const out = Float64Array.from(q);
  for (let j = 0; j < c; j++) {
    let best = 0;
    for (let i = 1; i < m; i++) if (Math.abs(out[i * c + j]) > Math.abs(out[best * c + j]) + 1e-9) best = i;
    if (out[best * c + j] < 0) for (let i = 0; i < m; i++) out[i * c + j] = -out[i * c + j];
  }
  return out;
}

/** Rows flipped likewise (for Vt). */
export function fixRowSigns(q: ArrayLike<number>, r: number, n: number): Float64Array {
  const t = new Float64Array(r * n);
  for (let i = 0; i < r; i++) for (let j = 0; j < n; j++) t[j * r + i] = q[i * n + j];
  const f = fixColumnSigns(t, n, r);
  const out = new Float64Array(r * n);
  for (let i = 0; i < r; i++) for (let j = 0; j < n; j++) out[i * n + j] = f[j * r + i];
  return out;
}
