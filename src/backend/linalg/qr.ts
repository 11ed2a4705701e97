// Householder QR (LAPACK dgeqr2 + dorg2r): column j's reflector H = I - tau v v^T (v[0] = 1) maps
// A[j:, j] onto beta e_1, with dlarfg's sign choice beta = -sign(alpha) ||x||, so R's diagonal
// signs match LAPACK's (and NumPy's). Q is formed explicitly by applying the reflectors to the
// identity in reverse order. Beyond NB columns both are blocked (dgeqrf / dorgqr): NB reflectors
// are applied at once as I - V T V^T with products on the backend's matmul. A single reflector is
// applied in two row-major passes: w = v^T A over contiguous rows, then A -= tau v w^T row by row.
import { type FloatArray, allocLike, checkStack, norm2, storeInto, workCopy } from "./common.js";
import { addProduct, rows, transposed } from "./subtract-product.js";

// Reflectors per block of the blocked factorization and of forming Q.
const NB = 32;

export type QrMode = "reduced" | "complete" | "r";

export interface QrResult<T extends FloatArray> {
  /** [batch, m, k] ("reduced", k = min(m, n)) or [batch, m, m] ("complete"); null for mode "r". */
  q: T | null;
  /** [batch, k, n] ("reduced", "r") or [batch, m, n] ("complete"), upper triangular. */
  r: T;
}

/** A = Q R for `batch` m x n matrices, in numpy.linalg.qr's modes. */
export function qr<T extends FloatArray>(a: T, batch: number, m: number, n: number, mode: QrMode = "reduced"): QrResult<T> {
  checkStack("qr", "a", a, batch, [m, n]);
  const k = Math.min(m, n);
  const rRows = mode === "complete" ? m : k;
  const qCols = mode === "complete" ? m : k;
  const r = allocLike(a, batch * rRows * n);
  const q = mode === "r" ? null : allocLike(a, batch * m * qCols);
  const tau = new Float64Array(k), wv = new Float64Array(Math.max(n, m));
  for (let t = 0; t < batch; t++) {
    const w = workCopy(a, t, m * n);
    householder(w, m, n, tau, wv);
    const rt = new Float64Array(rRows * n);
    for (let i = 0; i < k; i++) for (let j = i; j < n; j++) rt[i * n + j] = w[i * n + j];
    storeInto(r, t, rt);
    if (q) storeInto(q, t, formQ(w, m, n, tau, qCols, wv));
  }
  return { q, r };
}

/**
 * Reduces `w` (m x n) in place: R on and above the diagonal, the reflectors' v below it, tau aside.
 * Beyond NB reflectors it is blocked as dgeqrf: each panel of NB columns is reduced column by
 * column, then applied to the columns right of it at once as I - V T^T V^T (products on matmul).
 */
function householder(w: Float64Array, m: number, n: number, tau: Float64Array, wv: Float64Array): void {
  const k = Math.min(m, n);
  const blocked = k > NB;
  for (let j0 = 0; j0 < k; j0 += NB) {
    const j1 = Math.min(j0 + NB, k), end = blocked ? j1 : n;
    for (let j = j0; j < j1; j++) {
      tau[j] = makeReflector(w, j * n + j, m - j, n);
      applyReflector(w, n, m, j, j + 1, end, w, j, n, tau[j], wv);
    }
    if (end < n) applyBlock(w, n, m, j0, j1, end, n, w, n, tau, true);
  }
}

/**
 * Applies the block reflector H_j0 ... H_{j1-1} = I - V T V^T (or, with `transpose`, its
 * transpose H_{j1-1} ... H_j0) to rows j0..m-1 and columns c0..c1-1 of `x` (row length xn). V's
 * columns are the reflectors stored below the diagonal of `vs` (row length vn), unit on it;
 * T is upper triangular, built as dlarft (forward, columnwise).
 */
function applyBlock(x: Float64Array, xn: number, m: number, j0: number, j1: number, c0: number, c1: number, vs: Float64Array, vn: number, tau: Float64Array, transpose: boolean): void {
  const rowsV = m - j0, nb = j1 - j0, cols = c1 - c0;
  const v = new Float64Array(rowsV * nb);
  for (let i = 0; i < rowsV; i++) for (let c = 0; c < nb && c <= i; c++) v[i * nb + c] = i === c ? 1 : vs[(j0 + i) * vn + j0 + c];
  const t = new Float64Array(nb * nb), z = new Float64Array(nb);
  for (let c = 0; c < nb; c++) {
    const tc = tau[j0 + c];
    t[c * nb + c] = tc;
    // T[0:c, c] = -tau_c T[0:c, 0:c] (V[:, 0:c]^T v_c), v_c being zero above row c.
    z.fill(0, 0, c);
    for (let i = c; i < rowsV; i++) {
      const vic = v[i * nb + c];
      for (let r = 0; r < c; r++) z[r] += v[i * nb + r] * vic;
    }
    for (let r = 0; r < c; r++) {
      let acc = 0;
      for (let q = r; q < c; q++) acc += t[r * nb + q] * z[q];
      t[r * nb + c] = -tc * acc;
    }
  }
  // X -= V op(T) (V^T X)
  const w1 = new Float64Array(nb * cols), w2 = new Float64Array(nb * cols);
  addProduct(w1, 0, cols, transposed(v, 0, nb), rows(x, j0 * xn + c0, xn), nb, rowsV, cols, 1);
  addProduct(w2, 0, cols, transpose ? transposed(t, 0, nb) : rows(t, 0, nb), rows(w1, 0, cols), nb, nb, cols, 1);
  addProduct(x, j0 * xn + c0, xn, rows(v, 0, nb), rows(w2, 0, cols), rowsV, nb, cols, -1);
}

/**
 * dlarfg on the `len` elements of `x` from `o` at stride `s` (alpha first, then the vector x'):
 * overwrites alpha with beta = -sign(alpha) ||(alpha, x')|| and x' with v' (v = [1, v']) so that
 * (I - tau v v^T) maps the vector onto beta e_1; returns tau (0, leaving x alone, when x' = 0).
 */
export function makeReflector(x: Float64Array, o: number, len: number, s: number): number {
  const alpha = x[o];
  const xnorm = norm2(x, o + s, len - 1, s);
  if (xnorm === 0) return 0;
  const beta = (alpha >= 0 ? -1 : 1) * Math.hypot(alpha, xnorm);
  const scale = 1 / (alpha - beta);
  for (let i = 1, p = o + s; i < len; i++, p += s) x[p] *= scale;
  x[o] = beta;
  return (beta - alpha) / beta;
}

/**
 * Applies H = I - tau v v^T to rows r0..m-1 and columns c0..c1-1 of `x` (row length xn), where
 * v[0] = 1 and v[i] = vs[(r0 + i) * vn + vc] below it.
 */
export function applyReflector(x: Float64Array, xn: number, m: number, r0: number, c0: number, c1: number, vs: Float64Array, vc: number, vn: number, tau: number, wv: Float64Array): void {
  if (tau === 0 || c0 >= c1) return;
  const x0 = r0 * xn;
  for (let c = c0; c < c1; c++) wv[c] = x[x0 + c];
  for (let i = r0 + 1; i < m; i++) {
    const vi = vs[i * vn + vc], xi = i * xn;
    for (let c = c0; c < c1; c++) wv[c] += vi * x[xi + c];
  }
  for (let c = c0; c < c1; c++) {
    wv[c] *= tau;
    x[x0 + c] -= wv[c];
  }
  for (let i = r0 + 1; i < m; i++) {
    const vi = vs[i * vn + vc], xi = i * xn;
    for (let c = c0; c < c1; c++) x[xi + c] -= vi * wv[c];
  }
}

/**
 * The first qCols columns of H_0 H_1 ... H_{k-1} (m x qCols), from the reflectors stored in `w`
 * (row length n; k = min(m, n)), as dorgqr: applied to the identity from the last reflector back,
 * in blocks of NB beyond NB reflectors.
 */
export function formQ(w: Float64Array, m: number, n: number, tau: Float64Array, qCols: number, wv: Float64Array): Float64Array {
  const k = Math.min(m, n);
  const q = new Float64Array(m * qCols);
  for (let i = 0; i < qCols; i++) q[i * qCols + i] = 1;
  if (k > NB) {
    for (let j0 = Math.floor((k - 1) / NB) * NB; j0 >= 0; j0 -= NB) applyBlock(q, qCols, m, j0, Math.min(j0 + NB, k), j0, qCols, w, n, tau, false);
    return q;
  }
  // H_j touches rows j.. only, and columns before j are still identity columns there.
  for (let j = k - 1; j >= 0; j--) applyReflector(q, qCols, m, j, j, qCols, w, j, n, tau[j], wv);
  return q;
}

/**
 * Q^T for the n x n orthogonal Q = diag(1, H_0 H_1 ... H_{n-3}) of a tridiagonal or bidiagonal
 * reduction, whose reflector j acts on indices j+1..n-1: `vAt(i, j)` (i > j + 1) reads v_j[i],
 * the leading v_j[j + 1] = 1 being implied. Formed as dorgtr / dorgbr do, through formQ.
 */
export function borderedQt(vAt: (i: number, j: number) => number, n: number, tau: Float64Array): Float64Array {
  const z = new Float64Array(n * n);
  if (n === 0) return z;
  z[0] = 1;
  const m = n - 1, r = Math.max(0, n - 2);
  const y = new Float64Array(m * r);
  for (let i = 1; i < m; i++) for (let j = 0; j < Math.min(i, r); j++) y[i * r + j] = vAt(i + 1, j);
  const q = formQ(y, m, r, tau, m, new Float64Array(m));
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) z[(i + 1) * n + j + 1] = q[j * m + i];
  return z;
}
