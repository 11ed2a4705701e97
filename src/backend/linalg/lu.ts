// LU factorization with partial pivoting, P A = L U, blocked right-looking as LAPACK's dgetrf:
// factor a panel of NB columns with row pivoting (dgetf2), apply the panel's unit-lower block to
// the rows to its right (dtrsm), then update the trailing matrix by one rank-NB product (dgemm,
// on the backend's matmul).
// Row interchanges swap whole rows at once, which is where dgetrf's dlaswp calls leave them.
import { ShapeError } from "../../core/errors.js";
import { type FloatArray, allocLike, checkStack, eachInPlace } from "./common.js";
import { subtractProduct } from "./subtract-product.js";

const NB = 32;
// Below this magnitude 1/pivot overflows, so the column is divided instead (dgetf2's sfmin test).
const SFMIN = 2.2250738585072014e-308;

export interface LuResult<T extends FloatArray> {
  /** [batch, m, n]: U on and above the diagonal, L's multipliers below it (its unit diagonal implied). */
  lu: T;
  /** [batch, min(m, n)], 0-based: row i was interchanged with row pivots[i] at step i (LAPACK's ipiv - 1). */
  pivots: Int32Array;
  /** [batch, m], 0-based: row i of L U is row permutation[i] of A, i.e. A[permutation] = L U. */
  permutation: Int32Array;
}

/**
 * LU factors of `batch` m x n matrices, as JAX's `lax.linalg.lu` returns them. A singular matrix
 * factors without error (a zero pivot is left in U, as dgetrf reports with INFO > 0): solves and
 * determinants built on it then give Inf/NaN or 0 as LAPACK's do.
 */
export function lu<T extends FloatArray>(a: T, batch: number, m: number, n: number): LuResult<T> {
  checkStack("lu", "a", a, batch, [m, n]);
  const k = Math.min(m, n);
  const out = allocLike(a, batch * m * n);
  const pivots = new Int32Array(batch * k);
  const permutation = new Int32Array(batch * m);
  eachInPlace(a, out, batch, m * n, (w, o, t) => factor(w, o, m, n, pivots.subarray(t * k, (t + 1) * k), permutation.subarray(t * m, (t + 1) * m)));
  return { lu: out, pivots, permutation };
}

/** Factors the m x n matrix at offset `o` of `w` in place. */
export function factor(w: Float64Array, o: number, m: number, n: number, piv: Int32Array, perm: Int32Array): void {
  const k = Math.min(m, n);
  for (let i = 0; i < m; i++) perm[i] = i;
  for (let j0 = 0; j0 < k; j0 += NB) {
    const j1 = Math.min(j0 + NB, k);
    panel(w, o, m, n, j0, j1, piv, perm);
    if (j1 < n) {
      // U12 = L11^-1 A12 (unit lower), then A22 -= L21 U12.
      for (let r = j0 + 1; r < j1; r++) rowUpdate(w, o, n, r, j0, r, j1);
      subtractProduct(w, o + j1 * n + j1, n, w, o + j1 * n + j0, n, w, o + j0 * n + j1, n, m - j1, j1 - j0, n - j1, false);
    }
  }
}

/** Unblocked pivoted elimination of columns j0..j1-1 below row j0 (an interchange swaps whole rows). */
function panel(w: Float64Array, o: number, m: number, n: number, j0: number, j1: number, piv: Int32Array, perm: Int32Array): void {
  for (let j = j0; j < j1; j++) {
    // First index of the largest magnitude, as idamax (a NaN pivot is kept, not skipped).
    let p = j, best = Math.abs(w[o + j * n + j]);
    for (let i = j + 1; i < m; i++) {
      const v = Math.abs(w[o + i * n + j]);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    piv[j] = p;
    if (p !== j) {
      const rj = o + j * n, rp = o + p * n;
      for (let c = 0; c < n; c++) {
        const x = w[rj + c];
        w[rj + c] = w[rp + c];
        w[rp + c] = x;
      }
      const q = perm[j];
      perm[j] = perm[p];
      perm[p] = q;
    }
    const d = w[o + j * n + j];
    if (d !== 0) {
      if (Math.abs(d) >= SFMIN) {
        const inv = 1 / d;
        for (let i = j + 1; i < m; i++) w[o + i * n + j] *= inv;
      } else {
        for (let i = j + 1; i < m; i++) w[o + i * n + j] /= d;
      }
    }
    const rj = o + j * n;
    for (let i = j + 1; i < m; i++) {
      const ri = o + i * n, l = w[ri + j];
      for (let c = j + 1; c < j1; c++) w[ri + c] -= l * w[rj + c];
    }
  }
}

/**
 * Row `i`, columns c0..n-1: w[i, c] -= sum over p in p0..p1-1 of w[i, p] w[p, c] (the U12 rows of
 * a panel, each depending on the ones above it). Four rows of U per pass, so each element of row i
 * is loaded and stored once per four products.
 */
function rowUpdate(w: Float64Array, o: number, n: number, i: number, p0: number, p1: number, c0: number): void {
  const ri = o + i * n;
  let p = p0;
  for (; p + 3 < p1; p += 4) {
    const l0 = w[ri + p], l1 = w[ri + p + 1], l2 = w[ri + p + 2], l3 = w[ri + p + 3];
    const u0 = o + p * n, u1 = u0 + n, u2 = u1 + n, u3 = u2 + n;
    for (let c = c0; c < n; c++) w[ri + c] -= l0 * w[u0 + c] + l1 * w[u1 + c] + l2 * w[u2 + c] + l3 * w[u3 + c];
  }
  for (; p < p1; p++) {
    const l = w[ri + p], u = o + p * n;
    for (let c = c0; c < n; c++) w[ri + c] -= l * w[u + c];
  }
}

/**
 * The permutation (A[permutation] = L U) that LAPACK-style `pivots` ([batch, k], 0-based
 * interchanges) describe for matrices of m rows, as jax.lax.linalg.lu_pivots_to_permutation.
 * Pivots outside 0..m-1 are a ShapeError.
 */
export function pivotsToPermutation(pivots: Int32Array, batch: number, m: number): Int32Array {
  const k = batch === 0 ? 0 : pivots.length / batch;
  checkStack("pivotsToPermutation", "pivots", pivots, batch, [k]);
  const out = new Int32Array(batch * m);
  for (let t = 0; t < batch; t++) {
    const perm = out.subarray(t * m, (t + 1) * m);
    for (let i = 0; i < m; i++) perm[i] = i;
    for (let i = 0; i < k; i++) {
      const p = pivots[t * k + i];
      if (!(p >= 0 && p < m) || i >= m) throw new ShapeError(`pivotsToPermutation: pivot ${p} at position ${i} is outside 0..${m - 1}`);
      const q = perm[i];
      perm[i] = perm[p];
      perm[p] = q;
    }
  }
  return out;
}
