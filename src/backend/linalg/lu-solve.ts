// Solves and inverses from LU factors (LAPACK's dgetrs / dgesv / dgetri route): permute the
// right-hand sides, then one unit-lower and one upper triangular solve, each with all right-hand
// sides at once. Scratch matrices are allocated once per call and reused across the batch.
import { DTypeError } from "../../core/errors.js";
import { type FloatArray, allocLike, checkStack } from "./common.js";
import { factor } from "./lu.js";
import { solveLeft } from "./triangular-solve.js";

/**
 * X with A X = B (or A^T X = B when `transpose`), given `lu` and `permutation` from `lu()` of A:
 * `batch` B's of n x k; `luFactors` holds `batch` factorizations or one shared by every B. A
 * singular A (zero pivot) gives Inf/NaN, as dgetrs.
 */
export function luSolve<T extends FloatArray>(luFactors: T, permutation: Int32Array, b: T, batch: number, n: number, k: number, transpose = false): T {
  checkStack("luSolve", "b", b, batch, [n, k]);
  const shared = luFactors.length === n * n && batch !== 1;
  if (!shared) checkStack("luSolve", "lu", luFactors, batch, [n, n]);
  checkStack("luSolve", "permutation", permutation, shared ? 1 : batch, [n]);
  if (luFactors instanceof Float32Array !== b instanceof Float32Array) {
    throw new DTypeError(`luSolve: lu and b must have the same element type, got ${luFactors.constructor.name} and ${b.constructor.name}`);
  }
  const out = allocLike(b, batch * n * k);
  const f = new Float64Array(n * n), x = new Float64Array(n * k);
  for (let t = 0; t < batch; t++) {
    const tf = shared ? 0 : t;
    if (t === 0 || !shared) {
      // Transposed, the factors' lower triangle is U^T and their strict upper one L^T.
      const o = tf * n * n;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) f[transpose ? j * n + i : i * n + j] = luFactors[o + i * n + j];
    }
    substitute(f, permutation, tf * n, b, t * n * k, x, n, k, transpose);
    out.set(x, t * n * k);
  }
  return out;
}

/**
 * X into `x` from the float64 factors `f` (transposed when `transpose`) and B at `bo` of `b`:
 * L U X = B[perm], or U^T L^T (P X) = B.
 */
function substitute(f: Float64Array, perm: Int32Array, po: number, b: FloatArray, bo: number, x: Float64Array, n: number, k: number, transpose: boolean): void {
  if (!transpose) {
    for (let i = 0; i < n; i++) {
      const src = bo + perm[po + i] * k;
      for (let c = 0; c < k; c++) x[i * k + c] = b[src + c];
    }
    solveLeft(f, x, 0, n, k, true, true);
    solveLeft(f, x, 0, n, k, false, false);
    return;
  }
  const y = new Float64Array(n * k);
  for (let i = 0; i < n * k; i++) y[i] = b[bo + i];
  solveLeft(f, y, 0, n, k, true, false);
  solveLeft(f, y, 0, n, k, false, true);
  for (let i = 0; i < n; i++) {
    const dst = perm[po + i] * k;
    for (let c = 0; c < k; c++) x[dst + c] = y[i * k + c];
  }
}

/** X with A X = B for `batch` square A (n x n) and B (n x k): LU with partial pivoting, then substitution. */
export function solve<T extends FloatArray>(a: T, b: T, batch: number, n: number, k: number): T {
  checkStack("solve", "a", a, batch, [n, n]);
  checkStack("solve", "b", b, batch, [n, k]);
  if (a instanceof Float32Array !== b instanceof Float32Array) {
    throw new DTypeError(`solve: a and b must have the same element type, got ${a.constructor.name} and ${b.constructor.name}`);
  }
  const out = allocLike(b, batch * n * k);
  const f = new Float64Array(n * n), x = new Float64Array(n * k);
  const piv = new Int32Array(n), perm = new Int32Array(n);
  for (let t = 0; t < batch; t++) {
    const o = t * n * n;
    for (let i = 0; i < n * n; i++) f[i] = a[o + i];
    factor(f, 0, n, n, piv, perm);
    substitute(f, perm, 0, b, t * n * k, x, n, k, false);
    out.set(x, t * n * k);
  }
  return out;
}

/** A^-1 of `batch` n x n matrices (via LU); a singular matrix gives Inf/NaN entries, as JAX's inv. */
export function inverse<T extends FloatArray>(a: T, batch: number, n: number): T {
  checkStack("inverse", "a", a, batch, [n, n]);
  const eye = allocLike(a, batch * n * n);
  for (let t = 0; t < batch; t++) for (let i = 0; i < n; i++) eye[t * n * n + i * n + i] = 1;
  return solve(a, eye, batch, n, n);
}
