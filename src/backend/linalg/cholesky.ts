// Cholesky factorization A = L L^T of symmetric positive-definite matrices, recursive as LAPACK's
// dpotrf2: the panel below a factored block is a triangular solve and the trailing update one
// product, both on the backend's matmul (the WebAssembly GEMM), so only small diagonal blocks run
// as JavaScript loops (row-major: dot products of contiguous row segments).
import { type FloatArray, allocLike, checkStack, eachInPlace } from "./common.js";
import { addProduct, rows, transposed } from "./subtract-product.js";
import { solveRight, solveScratch } from "./triangular-solve.js";
import { f64Workspace } from "../wasm/resident.js";

/** Largest diagonal block factored directly; the rest of the work is products on the backend's matmul. */
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
  // Past one diagonal block the work is products: in wasm memory, the matrix is copied in and out
  // once instead of operands and products around each of them.
  const ws = n > NB ? f64Workspace(n * n, n, solveScratch(n, n)) : null;
  if (ws !== null) {
    const w = ws.heap;
    for (let t = 0; t < batch; t++) {
      w.set(a.subarray(t * n * n, (t + 1) * n * n), 0);
      const bad = factor(w, 0, n);
      if (bad !== 0) {
        info[t] = bad;
        w.fill(NaN, 0, n * n);
      }
      l.set(w.subarray(0, n * n), t * n * n);
    }
    return { l, info };
  }
  eachInPlace(a, l, batch, n * n, (w, o, t) => {
    const bad = factor(w, o, n);
    if (bad !== 0) {
      info[t] = bad;
      w.fill(NaN, o, o + n * n);
    }
  });
  return { l, info };
}

/**
 * Factors the matrix at offset `o` of `w` in place into its lower triangle (upper zeroed); returns
 * 0 or the failing 1-based column. Recursive on halves as LAPACK's dpotrf2, with an explicit
 * stack: factor A11 = L11 L11^T, solve L21 L11^T = A21 (a right-side triangular solve, products
 * on the backend's matmul), subtract A22 -= L21 L21^T (one product), factor A22. Blocks of at most
 * NB columns are factored directly.
 */
function factor(w: Float64Array, o: number, n: number): number {
  // [i0, i1]: factor that diagonal block; [i0, i1, h]: solve and update with the split at h.
  const stack: number[][] = [[0, n]];
  while (stack.length > 0) {
    const [i0, i1, h] = stack.pop() as number[];
    if (h !== undefined) {
      const nb = h - i0, n2 = i1 - h;
      // L21 L11^T = A21: L11^T is L11 read with its strides swapped.
      solveRight({ data: w, offset: o + i0 * n + i0, rowStride: 1, colStride: n, lower: false, unit: false }, w, o + h * n + i0, n2, nb, n);
      // The whole square of A22 (one product); its upper part is never read and is zeroed at the end.
      addProduct(w, o + h * n + h, n, rows(w, o + h * n + i0, n), transposed(w, o + h * n + i0, n), n2, nb, n2, -1);
    } else if (i1 - i0 <= NB) {
      const bad = factorBlock(w, o, n, i0, i1);
      if (bad !== 0) return bad;
    } else {
      const mid = i0 + Math.ceil((i1 - i0) / (2 * NB)) * NB;
      // Popped in reverse: A11, the solve and update, A22.
      stack.push([mid, i1], [i0, i1, mid], [i0, mid]);
    }
  }
  // A plain loop: one fill() call per row costs more than the zeros for small matrices.
  for (let i = 0; i < n; i++) for (let p = o + i * n + i + 1; p < o + (i + 1) * n; p++) w[p] = 0;
  return 0;
}

/**
 * The diagonal block on rows and columns i0..i1-1, row by row (Cholesky-Banachiewicz): every
 * update from columns before i0 is already subtracted. Returns 0 or the failing 1-based column.
 */
function factorBlock(w: Float64Array, o: number, n: number, i0: number, i1: number): number {
  for (let i = i0; i < i1; i++) {
    const ri = o + i * n;
    for (let j = i0; j < i; j++) {
      const rj = o + j * n;
      let s = w[ri + j];
      for (let p = i0; p < j; p++) s -= w[ri + p] * w[rj + p];
      w[ri + j] = s / w[rj + j];
    }
    let d = w[ri + i];
    for (let p = i0; p < i; p++) d -= w[ri + p] * w[ri + p];
    if (!(d > 0)) return i + 1;
    w[ri + i] = Math.sqrt(d);
  }
  return 0;
}
