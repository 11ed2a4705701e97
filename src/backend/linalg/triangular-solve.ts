// Triangular solves with many right-hand sides (BLAS dtrsm): op(A) X = B or X op(A) = B, with
// op(A) = A or A^T. As LAPACK's blocked/recursive trsm: the rows (left side) or columns (right
// side) of X are split in halves, the half solved first updates the other by one product on the
// backend's matmul (the WebAssembly GEMM), and only diagonal blocks of at most NB rows are left.
// Those are applied as their small inverse by one more product when that pays, else substituted.
// op(A) is read in place through a row and a column stride (A^T is A with the strides swapped),
// so no transposed copy is made; a float32 A is copied once to float64.
import { DTypeError } from "../../core/errors.js";
import { view } from "../ndarray-view.js";
import { batchMatmul } from "../structural.js";
import { type FloatArray, allocLike, checkStack, eachInPlace } from "./common.js";
import { type Block, addProduct } from "./subtract-product.js";
import { type Workspace, f64Workspace, workspaceGemm, workspaceOf } from "../wasm/resident.js";

/**
 * Largest diagonal block: the rest of the work is products. 16 rather than 32: inverting a block
 * is JavaScript work growing as NB^3 per block (NB^2 per row solved), and with the products on
 * resident operands the extra level of recursion costs less (measured 7-10% faster at n = 200).
 */
const NB = 16;
/** From this many multiply-adds up, a diagonal block is applied as its inverse by one product. */
const INVERSE_MIN = 8192;

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

/** The triangle T = op(A): T[i, j] is data[offset + i * rowStride + j * colStride]; lower says which half holds it. */
export interface Triangle extends Block {
  lower: boolean;
  unit: boolean;
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
  if (k > 1 && n * n * k >= INVERSE_MIN && residentSolve(a, b, out, batch, m, k, n, shared, opts)) return out;
  const data = a instanceof Float64Array ? a : Float64Array.from(a);
  const tr: Triangle = {
    data, offset: 0, lower: opts.lower !== opts.transposeA, unit: opts.unitDiagonal,
    rowStride: opts.transposeA ? 1 : n, colStride: opts.transposeA ? n : 1,
  };
  eachInPlace(b, out, batch, m * k, (x, o, t) => {
    tr.offset = shared ? 0 : t * n * n;
    if (opts.leftSide) solveLeftT(tr, x, o, n, k);
    else solveRight(tr, x, o, m, n, n, lowerSolution(tr, x, o, m, n));
  });
  return out;
}

/**
 * Scratch of a resident solve of an m x k X (wasm/resident.ts): a diagonal block's inverse and its
 * product with NB rows or columns of X. Callers that solve in their own workspace reserve this.
 */
export const solveScratch = (m: number, k: number): number => NB * NB + NB * Math.max(m, k);

/**
 * The solve with A and B resident in wasm memory (every product of the recursion then runs in
 * place there: see wasm/resident.ts), one matrix at a time; false when there is no workspace.
 */
function residentSolve(a: FloatArray, b: FloatArray, out: FloatArray, batch: number, m: number, k: number, n: number, shared: boolean, opts: TriangularSolveOptions): boolean {
  const ws = f64Workspace(n * n + m * k, Math.max(m, k), solveScratch(m, k));
  if (ws === null) return false;
  const heap = ws.heap, xo = n * n;
  const tr: Triangle = {
    data: heap, offset: 0, lower: opts.lower !== opts.transposeA, unit: opts.unitDiagonal,
    rowStride: opts.transposeA ? 1 : n, colStride: opts.transposeA ? n : 1,
  };
  for (let t = 0; t < batch; t++) {
    if (t === 0 || !shared) heap.set(a.subarray(shared ? 0 : t * n * n, (shared ? 1 : t + 1) * n * n), 0);
    heap.set(b.subarray(t * m * k, (t + 1) * m * k), xo);
    if (opts.leftSide) solveLeftT(tr, heap, xo, n, k);
    else solveRight(tr, heap, xo, m, n, n, lowerSolution(tr, heap, xo, m, n));
    out.set(heap.subarray(xo, xo + m * k), t * m * k);
  }
  return true;
}

/**
 * X1 = T11^-1 X1 (left) or X1 T11^-1 (right) for the diagonal block on i0..i1-1, by one product in
 * the workspace: the inverse and the product go to its scratch, then the product over X1.
 */
function applyInverseResident(ws: Workspace, t: Triangle, xo: number, ldx: number, rowsX: number, i0: number, i1: number, left: boolean): void {
  const heap = ws.heap, nb = i1 - i0, inv = ws.scratch, tmp = inv + NB * NB;
  // Typed-array builtins for the contiguous copies (the workspace's memory is unshared but for
  // matrices large enough to share products with threads, where these copies do not count).
  heap.set(invertBlock(t, i0, i1).subarray(0, nb * nb), inv);
  if (left) {
    // X1 is nb x ldx (all of X's columns).
    const len = nb * ldx, x1 = xo + i0 * ldx;
    heap.fill(0, tmp, tmp + len);
    workspaceGemm(ws, tmp, ldx, inv, nb, 1, x1, ldx, 1, nb, nb, ldx, true);
    heap.copyWithin(x1, tmp, tmp + len);
  } else {
    // X1 is rowsX x nb, columns i0..i1-1 of rows ldx apart: a loop, not a call per short row.
    heap.fill(0, tmp, tmp + rowsX * nb);
    workspaceGemm(ws, tmp, nb, xo + i0, ldx, 1, inv, nb, 1, rowsX, nb, nb, true);
    for (let r = 0, src = tmp; r < rowsX; r++) for (let j = 0, dst = xo + r * ldx + i0; j < nb; j++) heap[dst + j] = heap[src++];
  }
}

/**
 * T X = B for the n x k X at offset `xo` of `x`, in place, with T the row-major n x n triangle
 * `tri` (lower when lowerT; unit diagonal when `unit`): the LU solves' entry.
 */
export function solveLeft(tri: Float64Array, x: Float64Array, xo: number, n: number, k: number, lowerT: boolean, unit: boolean): void {
  solveLeftT({ data: tri, offset: 0, rowStride: n, colStride: 1, lower: lowerT, unit }, x, xo, n, k);
}

/** The block of T from row i0 and column j0. */
const sub = (t: Triangle, i0: number, j0: number): Block => ({ data: t.data, offset: t.offset + i0 * t.rowStride + j0 * t.colStride, rowStride: t.rowStride, colStride: t.colStride });

/**
 * T X = B in place by recursion on row halves (an explicit stack: every walk in the project is
 * iterative). The half solved first (the top when T is lower) feeds the other through one product
 * X2 -= T21 X1. One right-hand side is a single substitution.
 */
function solveLeftT(t: Triangle, x: Float64Array, xo: number, n: number, k: number): void {
  if (k === 1) {
    solveVector(t, x, xo, 0, n);
    return;
  }
  // [i0, i1]: a range to solve; [i0, i1, h]: the update of the range's second half by its first.
  const stack: number[][] = [[0, n]];
  while (stack.length > 0) {
    const [i0, i1, h] = stack.pop() as number[];
    if (h !== undefined) {
      if (t.lower) addProduct(x, xo + h * k, k, sub(t, h, i0), rowsOf(x, xo + i0 * k, k), i1 - h, h - i0, k, -1);
      else addProduct(x, xo + i0 * k, k, sub(t, i0, h), rowsOf(x, xo + h * k, k), h - i0, i1 - h, k, -1);
    } else if (i1 - i0 <= NB) {
      const nb = i1 - i0;
      const ws = workspaceOf(x);
      if (nb * nb * k < INVERSE_MIN) substituteRows(t, x, xo, k, i0, i1);
      else if (ws !== null) applyInverseResident(ws, t, xo, k, nb, i0, i1, true);
      else {
        // X1 = T11^-1 B1, written back over B1.
        const p = batchMatmul(view(invertBlock(t, i0, i1), [1, nb, nb], [0, nb, 1], 0), view(x, [1, nb, k], [0, k, 1], xo + i0 * k), "float64");
        x.set(p.data.subarray(p.offset, p.offset + nb * k) as Float64Array, xo + i0 * k);
      }
    } else {
      // Split on a multiple of NB, so that the leaves are full blocks.
      const mid = i0 + Math.ceil((i1 - i0) / (2 * NB)) * NB;
      const [first, second] = t.lower ? [[i0, mid], [mid, i1]] : [[mid, i1], [i0, mid]];
      // Popped in reverse: the first half, the update, the second half.
      stack.push(second, [i0, i1, mid], first);
    }
  }
}

const rowsOf = (data: Float64Array, offset: number, ld: number): Block => ({ data, offset, rowStride: ld, colStride: 1 });

/**
 * T x = b for one vector of rows i0..i1-1. With T's rows contiguous, each x_i is a dot product
 * with the solved part; with its columns contiguous (A^T), each solved x_i is subtracted from the
 * rest along T's column (the axpy form), so that both walk memory in order.
 */
function solveVector(t: Triangle, x: Float64Array, xo: number, i0: number, i1: number): void {
  const { data, offset, rowStride: rs, colStride: cs, lower, unit } = t;
  for (let s = i0; s < i1; s++) {
    const i = lower ? s : i1 - 1 - (s - i0);
    const ti = offset + i * rs;
    if (cs === 1) {
      const p0 = lower ? i0 : i + 1, p1 = lower ? i : i1;
      let v = x[xo + i];
      for (let p = p0; p < p1; p++) v -= data[ti + p] * x[xo + p];
      x[xo + i] = unit ? v : v / data[ti + i];
    } else {
      const v = unit ? x[xo + i] : x[xo + i] / data[ti + i * cs];
      x[xo + i] = v;
      const col = offset + i * cs;
      if (lower) for (let p = i + 1; p < i1; p++) x[xo + p] -= v * data[col + p * rs];
      else for (let p = i0; p < i; p++) x[xo + p] -= v * data[col + p * rs];
    }
  }
}

/** Rows i0..i1-1 of T X = B by substitution (k > 1), the rows outside the block already subtracted. */
function substituteRows(t: Triangle, x: Float64Array, xo: number, k: number, i0: number, i1: number): void {
  const { data, offset, rowStride: rs, colStride: cs, lower, unit } = t;
  for (let s = i0; s < i1; s++) {
    const i = lower ? s : i1 - 1 - (s - i0);
    const ri = xo + i * k, ti = offset + i * rs;
    // The solved rows p of the block: i0..i-1 (lower) or i+1..i1-1 (upper).
    for (let p = lower ? i0 : i + 1; p < (lower ? i : i1); p++) {
      const l = data[ti + p * cs], r = xo + p * k;
      for (let c = 0; c < k; c++) x[ri + c] -= l * x[r + c];
    }
    if (!unit) {
      const d = data[ti + i * cs];
      for (let c = 0; c < k; c++) x[ri + c] /= d;
    }
  }
}

const blockInverse = new Float64Array(NB * NB);

/**
 * The inverse of T's diagonal block on rows and columns i0..i1-1 (at most NB), by substitution on
 * the identity, as a row-major nb x nb matrix with zeros in the other triangle. Applying it by a
 * product (as the blocked trsm of MAGMA and cuBLAS do) replaces substitution along all k columns,
 * which runs ~10x slower per multiply-add in JavaScript than the WebAssembly product; it adds a
 * rounding error of the order of the small block's condition number times eps.
 */
function invertBlock(t: Triangle, i0: number, i1: number): Float64Array {
  const { data, rowStride: rs, colStride: cs, lower, unit } = t;
  const nb = i1 - i0, y = blockInverse;
  y.fill(0, 0, nb * nb);
  // Row r of the inverse from the rows solved before it: bottom-up for an upper block.
  for (let s = 0; s < nb; s++) {
    const r = lower ? s : nb - 1 - s;
    const tr = t.offset + (i0 + r) * rs + i0 * cs, yr = r * nb;
    y[yr + r] = 1;
    for (let q = lower ? 0 : r + 1; q < (lower ? r : nb); q++) {
      const l = data[tr + q * cs], yq = q * nb;
      for (let c = lower ? 0 : q; c < (lower ? q + 1 : nb); c++) y[yr + c] -= l * y[yq + c];
    }
    if (!unit) {
      const d = data[tr + r * cs];
      for (let c = 0; c < nb; c++) y[yr + c] /= d;
    }
  }
  return y;
}

/**
 * Whether X T = B has a lower-triangular X, so that solveRight may skip its zero rows: T lower, B
 * lower triangular (B[i, j] = 0 for j > i; here in x at xo, m x n) and T's triangle finite with a
 * nonzero diagonal. X = B T^-1 is then a product of lower-triangular matrices: the cotangent
 * Phi(L^T Lbar) L^-1 of the Cholesky gradient is such a solve, at half the work. The rows skipped
 * keep B's zeros; with a non-finite T or a zero pivot the full solve would put NaN there.
 */
function lowerSolution(t: Triangle, x: Float64Array, xo: number, m: number, n: number): boolean {
  if (!t.lower || m < 2 * NB) return false;
  for (let i = 0; i < m; i++) for (let p = xo + i * n + i + 1, end = xo + (i + 1) * n; p < end; p++) if (x[p] !== 0) return false;
  const { data, offset, rowStride: rs, colStride: cs, unit } = t;
  for (let i = 0; i < n; i++) {
    // v - v is NaN exactly when v is NaN or infinite; a unit diagonal is not read.
    for (let j = 0, p = offset + i * rs; j < (unit ? i : i + 1); j++, p += cs) if (data[p] - data[p] !== 0) return false;
    if (!unit && data[offset + i * (rs + cs)] === 0) return false;
  }
  return true;
}

/**
 * X T = B for the m x n X at offset `xo` (rows `ldx` apart), in place. B[r, j] is the sum over p of X[r, p] T[p, j],
 * so for upper T column j needs the columns before it and for lower T those after it: the same
 * recursion as on the left, over column halves, with updates X2 -= X1 T12 and diagonal blocks
 * applied as X1 T11^-1 (or substituted row by row when the product would not pay). With
 * `lowerX` (see lowerSolution) each column block is solved on the rows from its first column down.
 */
export function solveRight(t: Triangle, x: Float64Array, xo0: number, m0: number, n: number, ldx: number, lowerX = false): void {
  const stack: number[][] = [[0, n]];
  while (stack.length > 0) {
    const [j0, j1, h] = stack.pop() as number[];
    // With a lower-triangular X (T lower), rows above column j0 are zero in every column from j0 on.
    const r0 = lowerX ? Math.min(j0, m0) : 0;
    const xo = xo0 + r0 * ldx, m = m0 - r0;
    if (h !== undefined) {
      if (t.lower) addProduct(x, xo + j0, ldx, rowsOf(x, xo + h, ldx), sub(t, h, j0), m, j1 - h, h - j0, -1);
      else addProduct(x, xo + h, ldx, rowsOf(x, xo + j0, ldx), sub(t, j0, h), m, h - j0, j1 - h, -1);
    } else if (j1 - j0 <= NB) {
      const nb = j1 - j0;
      const ws = workspaceOf(x);
      if (m * nb * nb < INVERSE_MIN) substituteColumns(t, x, xo, m, ldx, j0, j1);
      else if (ws !== null) applyInverseResident(ws, t, xo, ldx, m, j0, j1, false);
      else {
        const p = batchMatmul(view(x, [1, m, nb], [0, ldx, 1], xo + j0), view(invertBlock(t, j0, j1), [1, nb, nb], [0, nb, 1], 0), "float64");
        const pd = p.data;
        for (let r = 0, src = p.offset; r < m; r++) for (let j = 0, dst = xo + r * ldx + j0; j < nb; j++) x[dst + j] = pd[src++];
      }
    } else {
      const mid = j0 + Math.ceil((j1 - j0) / (2 * NB)) * NB;
      const [first, second] = t.lower ? [[mid, j1], [j0, mid]] : [[j0, mid], [mid, j1]];
      stack.push(second, [j0, j1, mid], first);
    }
  }
}

/** Columns j0..j1-1 of X T = B by substitution, row by row, the other columns already subtracted. */
function substituteColumns(t: Triangle, x: Float64Array, xo: number, m: number, ldx: number, j0: number, j1: number): void {
  const { data, offset, rowStride: rs, colStride: cs, lower, unit } = t;
  for (let r = 0; r < m; r++) {
    const rr = xo + r * ldx;
    for (let s = j0; s < j1; s++) {
      // Once solved, column j is subtracted from the block's columns it feeds.
      const j = lower ? j1 - 1 - (s - j0) : s;
      const tj = offset + j * rs;
      let v = x[rr + j];
      if (!unit) v /= data[tj + j * cs];
      x[rr + j] = v;
      if (lower) for (let q = j0; q < j; q++) x[rr + q] -= v * data[tj + q * cs];
      else for (let q = j + 1; q < j1; q++) x[rr + q] -= v * data[tj + q * cs];
    }
  }
}
