// Cholesky factorization A = L L^T of symmetric positive-definite matrices, blocked right-looking
// (LAPACK dpotrf's algorithm by panels): factor a diagonal block, solve the panel below it, then
// subtract the panel's outer product from the trailing matrix (dsyrk, as products on the backend's
// matmul). Row-major storage makes every inner loop of the panel a dot product of two contiguous
// row segments.
import { type FloatArray, allocLike, checkStack, eachInPlace } from "./common.js";
import { subtractProduct } from "./subtract-product.js";

/** Panel width: the panel (JavaScript) against the products (matmul); 32 measured best at n = 200, ahead of 16, 24 and 48. */
const NB = 32;

export interface CholeskyResult<T extends FloatArray> {
  /** [batch, n, n] lower-triangular factors, zeros above the diagonal. */
  l: T;
  /**
   * Per matrix, 0 when it factored, else LAPACK's INFO: the 1-based column whose pivot was not
   * positive (or NaN). That matrix's `l` is then all NaN, as JAX's cholesky returns on CPU.
   */
  info: Int32Array;
}

/**
 * Lower Cholesky factors of `batch` n x n matrices. Only the lower triangle of each input is read
 * (as dpotrf with UPLO = 'L'); the caller symmetrizes first if it wants JAX's `symmetrize_input`.
 * A matrix that is not positive definite gives an all-NaN factor and a non-zero `info`.
 */
export function cholesky<T extends FloatArray>(a: T, batch: number, n: number): CholeskyResult<T> {
  checkStack("cholesky", "a", a, batch, [n, n]);
  const l = allocLike(a, batch * n * n);
  const info = new Int32Array(batch);
  eachInPlace(a, l, batch, n * n, (w, o, t) => {
    const bad = factor(w, o, n);
    if (bad !== 0) {
      info[t] = bad;
      w.fill(NaN, o, o + n * n);
    }
  });
  return { l, info };
}

/** Factors the matrix at offset `o` of `w` in place into its lower triangle (upper zeroed); returns 0 or the failing 1-based column. */
function factor(w: Float64Array, o: number, n: number): number {
  for (let k0 = 0; k0 < n; k0 += NB) {
    const k1 = Math.min(k0 + NB, n);
    // Diagonal block and the panel below it, row by row (Cholesky-Banachiewicz within the panel):
    // the trailing updates of earlier panels are already subtracted, so only columns k0.. count.
    // Row i stays in L1 while it is combined with the panel rows above it.
    for (let i = k0; i < n; i++) {
      const ri = o + i * n;
      const jEnd = Math.min(i, k1);
      for (let j = k0; j < jEnd; j++) {
        const rj = o + j * n;
        let s = w[ri + j];
        for (let p = k0; p < j; p++) s -= w[ri + p] * w[rj + p];
        w[ri + j] = s / w[rj + j];
      }
      if (i < k1) {
        let d = w[ri + i];
        for (let p = k0; p < i; p++) d -= w[ri + p] * w[ri + p];
        if (!(d > 0)) return i + 1;
        w[ri + i] = Math.sqrt(d);
      }
    }
    if (k1 < n) trailingUpdate(w, o, n, k0, k1);
  }
  // A plain loop: one fill() call per row costs more than the zeros for small matrices.
  for (let i = 0; i < n; i++) for (let p = o + i * n + i + 1; p < o + (i + 1) * n; p++) w[p] = 0;
  return 0;
}

/**
 * A22 -= L21 L21^T on rows and columns k1..n-1, where L21 is columns k0..k1-1: one product per
 * block of NB rows, covering the columns up to the block's last row (the lower triangle, plus the
 * upper part of the diagonal block, which is never read and is zeroed at the end).
 */
function trailingUpdate(w: Float64Array, o: number, n: number, k0: number, k1: number): void {
  for (let i0 = k1; i0 < n; i0 += NB) {
    const i1 = Math.min(i0 + NB, n);
    subtractProduct(w, o + i0 * n + k1, n, w, o + i0 * n + k0, n, w, o + k1 * n + k0, n, i1 - i0, k1 - k0, i1 - k1, true);
  }
}
