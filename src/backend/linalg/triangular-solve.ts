// Triangular solves with many right-hand sides (BLAS dtrsm): op(A) X = B or X op(A) = B, with
// op(A) = A or A^T. Row-major storage decides the loop orders: on the left side each row of X is
// its row of B minus a combination of the rows of X already solved (contiguous row updates, four
// rows per pass); on the right side each row of X is an independent small solve whose updates run
// along contiguous rows of op(A). A transposed A is transposed once into the working copy, so
// the inner loops never walk a column.
import { DTypeError } from "../../core/errors.js";
import { type FloatArray, allocLike, checkStack, eachInPlace } from "./common.js";
import { subtractProduct } from "./subtract-product.js";

// Block size of the solves: the diagonal blocks are solved by JavaScript loops, the rest is products.
const NB = 32;

export interface TriangularSolveOptions {
  /** Solve op(A) X = B (true) or X op(A) = B (false, JAX's default). */
  leftSide: boolean;
  /** A is lower (true) or upper (false) triangular; the other triangle is never read. */
  lower: boolean;
  /** op(A) = A^T instead of A. */
  transposeA: boolean;
  /** Take A's diagonal as ones (it is not read). */
  unitDiagonal: boolean;
}

/**
 * X with op(A) X = B (leftSide) or X op(A) = B, for `batch` right-hand-side matrices B of m x k.
 * A is n x n with n = m on the left side and n = k on the right; `a` holds either `batch`
 * matrices or one matrix shared by every B. A zero on the diagonal gives Inf/NaN, as dtrsm.
 */
export function triangularSolve<T extends FloatArray>(a: T, b: T, batch: number, m: number, k: number, opts: TriangularSolveOptions): T {
  const n = opts.leftSide ? m : k;
  checkStack("triangularSolve", "b", b, batch, [m, k]);
  const shared = a.length === n * n && batch !== 1;
  if (!shared) checkStack("triangularSolve", "a", a, batch, [n, n]);
  if (a instanceof Float32Array !== b instanceof Float32Array) {
    throw new DTypeError(`triangularSolve: a and b must have the same element type, got ${a.constructor.name} and ${b.constructor.name}`);
  }
  const out = allocLike(b, batch * m * k);
  // op(A) as a row-major triangle T, and whether T is lower.
  const lowerT = opts.lower !== opts.transposeA;
  const tri = new Float64Array(n * n);
  if (shared) triangle(a, 0, n, opts.transposeA, tri);
  eachInPlace(b, out, batch, m * k, (x, o, t) => {
    if (!shared) triangle(a, t, n, opts.transposeA, tri);
    if (opts.leftSide) solveLeft(tri, x, o, n, k, lowerT, opts.unitDiagonal);
    else solveRight(tri, x, o, m, n, lowerT, opts.unitDiagonal);
  });
  return out;
}

/** Matrix t of `a` into `w` as float64, transposed when asked. */
function triangle(a: FloatArray, t: number, n: number, transpose: boolean, w: Float64Array): void {
  const o = t * n * n;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) w[transpose ? j * n + i : i * n + j] = a[o + i * n + j];
}

/**
 * T X = B for the n x k X at offset `xo` of `x`, in place. Blocks of NB rows in order of
 * dependence (forward when T is lower): each first subtracts T's block row times the rows already
 * solved (one product on the backend's matmul), then is solved on its own. One right-hand side is
 * solved unblocked, a dot product per row.
 */
export function solveLeft(tri: Float64Array, x: Float64Array, xo: number, n: number, k: number, lowerT: boolean, unit: boolean): void {
  if (k === 1) {
    solveLeftBlock(tri, x, xo, n, k, lowerT, unit, 0, n);
    return;
  }
  for (let b = 0; b * NB < n; b++) {
    const i0 = lowerT ? b * NB : Math.max(0, n - (b + 1) * NB);
    const i1 = lowerT ? Math.min(n, i0 + NB) : n - b * NB;
    if (lowerT) subtractProduct(x, xo + i0 * k, k, tri, i0 * n, n, x, xo, k, i1 - i0, i0, k, false);
    else subtractProduct(x, xo + i0 * k, k, tri, i0 * n + i1, n, x, xo + i1 * k, k, i1 - i0, n - i1, k, false);
    solveLeftBlock(tri, x, xo, n, k, lowerT, unit, i0, i1);
  }
}

/** Rows i0..i1-1 of T X = B, given that the rows outside the block are already subtracted. */
function solveLeftBlock(tri: Float64Array, x: Float64Array, xo: number, n: number, k: number, lowerT: boolean, unit: boolean, i0: number, i1: number): void {
  for (let s = i0; s < i1; s++) {
    const i = lowerT ? s : i1 - 1 - (s - i0);
    const ri = xo + i * k, ti = i * n;
    // The solved rows p of the block: i0..i-1 (lower) or i+1..i1-1 (upper).
    const p0 = lowerT ? i0 : i + 1, p1 = lowerT ? i : i1;
    if (k === 1) {
      let v = x[ri];
      for (let p = p0; p < p1; p++) v -= tri[ti + p] * x[xo + p];
      x[ri] = unit ? v : v / tri[ti + i];
      continue;
    }
    let p = p0;
    for (; p + 3 < p1; p += 4) {
      const l0 = tri[ti + p], l1 = tri[ti + p + 1], l2 = tri[ti + p + 2], l3 = tri[ti + p + 3];
      const r0 = xo + p * k, r1 = r0 + k, r2 = r1 + k, r3 = r2 + k;
      for (let c = 0; c < k; c++) x[ri + c] -= l0 * x[r0 + c] + l1 * x[r1 + c] + l2 * x[r2 + c] + l3 * x[r3 + c];
    }
    for (; p < p1; p++) {
      const l = tri[ti + p], r = xo + p * k;
      for (let c = 0; c < k; c++) x[ri + c] -= l * x[r + c];
    }
    if (!unit) {
      const d = tri[ti + i];
      for (let c = 0; c < k; c++) x[ri + c] /= d;
    }
  }
}

/**
 * X T = B for the m x n X at offset `xo`, in place. B[r, j] = sum over p of X[r, p] T[p, j], so
 * for upper T column j needs the columns before it and for lower T those after it: blocks of NB
 * columns in that order, each first subtracting the product of the solved columns with T's block
 * column, then solved row by row.
 */
function solveRight(tri: Float64Array, x: Float64Array, xo: number, m: number, n: number, lowerT: boolean, unit: boolean): void {
  for (let b = 0; b * NB < n; b++) {
    const j0 = lowerT ? Math.max(0, n - (b + 1) * NB) : b * NB;
    const j1 = lowerT ? n - b * NB : Math.min(n, j0 + NB);
    if (lowerT) subtractProduct(x, xo + j0, n, x, xo + j1, n, tri, j1 * n + j0, n, m, n - j1, j1 - j0, false);
    else subtractProduct(x, xo + j0, n, x, xo, n, tri, j0, n, m, j0, j1 - j0, false);
    for (let r = 0; r < m; r++) {
      const rr = xo + r * n;
      for (let s = j0; s < j1; s++) {
        // Once solved, column j is subtracted from the block's columns it feeds.
        const j = lowerT ? j1 - 1 - (s - j0) : s;
        const tj = j * n;
        let v = x[rr + j];
        if (!unit) v /= tri[tj + j];
        x[rr + j] = v;
        if (lowerT) for (let q = j0; q < j; q++) x[rr + q] -= v * tri[tj + q];
        else for (let q = j + 1; q < j1; q++) x[rr + q] -= v * tri[tj + q];
      }
    }
  }
}
