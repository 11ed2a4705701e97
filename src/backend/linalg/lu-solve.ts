// Solves and inverses from LU factors (LAPACK's dgetrs / dgesv / dgetri route): permute the
// right-hand sides, then one unit-lower and one upper triangular solve, each with all right-hand
// sides at once.
import { DTypeError } from "../../core/errors.js";
import { type FloatArray, allocLike, checkStack, storeInto } from "./common.js";
import { lu } from "./lu.js";
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
  const x = new Float64Array(n * k);
  let f: Float64Array = new Float64Array(0);
  for (let t = 0; t < batch; t++) {
    const tf = shared ? 0 : t;
    if (t === 0 || !shared) f = factors(luFactors, tf, n, transpose);
    const po = tf * n, bo = t * n * k;
    if (!transpose) {
      // L U X = B[perm]
      for (let i = 0; i < n; i++) {
        const src = bo + permutation[po + i] * k;
        for (let c = 0; c < k; c++) x[i * k + c] = b[src + c];
      }
      solveLeft(f, x, n, k, true, true);
      solveLeft(f, x, n, k, false, false);
      storeInto(out, t, x);
    } else {
      // U^T L^T (P X) = B: f holds (LU)^T, whose lower triangle is U^T and strict upper L^T.
      for (let i = 0; i < n * k; i++) x[i] = b[bo + i];
      solveLeft(f, x, n, k, true, false);
      solveLeft(f, x, n, k, false, true);
      for (let i = 0; i < n; i++) {
        const dst = bo + permutation[po + i] * k;
        for (let c = 0; c < k; c++) out[dst + c] = x[i * k + c];
      }
    }
  }
  return out;
}

function factors(f: FloatArray, t: number, n: number, transpose: boolean): Float64Array {
  const w = new Float64Array(n * n);
  const o = t * n * n;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) w[transpose ? j * n + i : i * n + j] = f[o + i * n + j];
  return w;
}

/** X with A X = B for `batch` square A (n x n) and B (n x k): LU with partial pivoting, then luSolve. */
export function solve<T extends FloatArray>(a: T, b: T, batch: number, n: number, k: number): T {
  checkStack("solve", "a", a, batch, [n, n]);
  const f = lu(a, batch, n, n);
  return luSolve(f.lu, f.permutation, b, batch, n, k);
}

/** A^-1 of `batch` n x n matrices (via LU); a singular matrix gives Inf/NaN entries, as JAX's inv. */
export function inverse<T extends FloatArray>(a: T, batch: number, n: number): T {
  checkStack("inverse", "a", a, batch, [n, n]);
  const eye = allocLike(a, batch * n * n);
  for (let t = 0; t < batch; t++) for (let i = 0; i < n; i++) eye[t * n * n + i * n + i] = 1;
  return solve(a, eye, batch, n, n);
}
