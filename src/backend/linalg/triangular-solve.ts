// Triangular solves with many right-hand sides (BLAS dtrsm): op(A) X = B or X op(A) = B, with
// op(A) = A or A^T. Row-major storage decides the loop orders: on the left side each row of X is
// its row of B minus a combination of the rows of X already solved (contiguous row updates, four
// rows per pass); on the right side each row of X is an independent small solve whose updates run
// along contiguous rows of op(A). A transposed A is transposed once into the working copy, so
// the inner loops never walk a column.
import { DTypeError } from "../../core/errors.js";
import { type FloatArray, allocLike, checkStack, eachInPlace } from "./common.js";

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
 * T X = B for the n x k X at offset `xo` of `x`, in place: rows in order of dependence (forward
 * when T is lower). One right-hand side is a dot product per row; more are row updates.
 */
export function solveLeft(tri: Float64Array, x: Float64Array, xo: number, n: number, k: number, lowerT: boolean, unit: boolean): void {
  for (let s = 0; s < n; s++) {
    const i = lowerT ? s : n - 1 - s;
    const ri = xo + i * k, ti = i * n;
    // The solved rows p are 0..i-1 (lower) or i+1..n-1 (upper).
    const p0 = lowerT ? 0 : i + 1, p1 = lowerT ? i : n;
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

/** X T = B for the m x n X at offset `xo`, in place: each row solved on its own, columns in order of dependence. */
function solveRight(tri: Float64Array, x: Float64Array, xo: number, m: number, n: number, lowerT: boolean, unit: boolean): void {
  for (let r = 0; r < m; r++) {
    const rr = xo + r * n;
    for (let s = 0; s < n; s++) {
      // B[r, j] = sum over p of X[r, p] T[p, j]: for upper T column j needs the columns before it,
      // for lower T those after it; once solved it is subtracted from the columns it feeds.
      const j = lowerT ? n - 1 - s : s;
      const tj = j * n;
      let v = x[rr + j];
      if (!unit) v /= tri[tj + j];
      x[rr + j] = v;
      if (lowerT) for (let q = 0; q < j; q++) x[rr + q] -= v * tri[tj + q];
      else for (let q = j + 1; q < n; q++) x[rr + q] -= v * tri[tj + q];
    }
  }
}
