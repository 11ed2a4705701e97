// Householder QR (LAPACK dgeqr2 + dorg2r): column j's reflector H = I - tau v v^T (v[0] = 1) maps
// A[j:, j] onto beta e_1, with dlarfg's sign choice beta = -sign(alpha) ||x||, so R's diagonal
// signs match LAPACK's (and NumPy's). Q is formed explicitly by applying the reflectors to the
// identity in reverse order. Each reflector is applied in two row-major passes: w = v^T A over
// contiguous rows, then A -= tau v w^T row by row.
import { type FloatArray, allocLike, checkStack, norm2, storeInto, workCopy } from "./common.js";

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

/** Reduces `w` (m x n) in place: R on and above the diagonal, the reflectors' v below it, tau aside. */
function householder(w: Float64Array, m: number, n: number, tau: Float64Array, wv: Float64Array): void {
  const k = Math.min(m, n);
  for (let j = 0; j < k; j++) {
    tau[j] = makeReflector(w, j * n + j, m - j, n);
    applyReflector(w, n, m, j, j + 1, n, w, j, n, tau[j], wv);
  }
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

/** The first qCols columns of H_0 H_1 ... H_{k-1} (m x qCols), from the reflectors stored in `w`. */
export function formQ(w: Float64Array, m: number, n: number, tau: Float64Array, qCols: number, wv: Float64Array): Float64Array {
  const k = Math.min(m, n);
  const q = new Float64Array(m * qCols);
  for (let i = 0; i < qCols; i++) q[i * qCols + i] = 1;
  // Backwards: H_j touches rows j.. only, and columns before j are still identity columns there.
  for (let j = k - 1; j >= 0; j--) applyReflector(q, qCols, m, j, j, qCols, w, j, n, tau[j], wv);
  return q;
}
