// Symmetric eigensolver in two stages, as LAPACK's dsyev: Householder reduction to tridiagonal
// form T = Q^T A Q (dsytd2, lower), then the implicit QL algorithm with Wilkinson-type shifts on
// T (the EISPACK tql2 / dsteqr iteration), whose plane rotations are accumulated into Q.
//
// The eigenvectors are kept as the rows of Z = V^T while iterating, so that every rotation
// combines two contiguous rows instead of two strided columns; V is transposed out at the end.
import { type FloatArray, allocLike, checkStack, normalizeRows, storeInto, workCopy } from "./common.js";
import { borderedQt, makeReflector } from "./qr.js";

const EPS = 2.220446049250313e-16;

export interface EighResult<T extends FloatArray> {
  /** [batch, n] eigenvalues in ascending order. */
  w: T;
  /** [batch, n, n] orthonormal eigenvectors as columns (v[:, i] belongs to w[i]); null without vectors. */
  v: T | null;
}

/**
 * Eigenvalues (ascending) and eigenvectors of `batch` symmetric n x n matrices, as
 * numpy.linalg.eigh with UPLO = 'L': only the lower triangle is read. A matrix holding NaN or
 * Inf gives all-NaN values and vectors. No sign convention is imposed on the eigenvectors (LAPACK
 * imposes none either), and the vectors of a repeated eigenvalue are some orthonormal basis of its
 * eigenspace.
 */
export function eigh<T extends FloatArray>(a: T, batch: number, n: number, vectors = true): EighResult<T> {
  checkStack("eigh", "a", a, batch, [n, n]);
  const w = allocLike(a, batch * n);
  const v = vectors ? allocLike(a, batch * n * n) : null;
  const d = new Float64Array(n), e = new Float64Array(n), tau = new Float64Array(n), p = new Float64Array(n), vk = new Float64Array(n);
  for (let t = 0; t < batch; t++) {
    const x = workCopy(a, t, n * n);
    let finite = true;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        const s = x[i * n + j];
        if (!Number.isFinite(s)) finite = false;
        x[j * n + i] = s;
      }
    }
    if (!finite) {
      w.fill(NaN, t * n, (t + 1) * n);
      if (v) v.fill(NaN, t * n * n, (t + 1) * n * n);
      continue;
    }
    tridiagonalize(x, n, d, e, tau, p, vk);
    // Q^T from the reflectors left in column k below the subdiagonal.
    const z = vectors ? borderedQt((i, k) => x[i * n + k], n, tau) : null;
    tql(d, e, n, z);
    if (z) normalizeRows(z, n, n);
    const order = Array.from(d.keys()).sort((i, j) => d[i] - d[j]);
    for (let i = 0; i < n; i++) w[t * n + i] = d[order[i]];
    if (v && z) {
      const out = new Float64Array(n * n);
      for (let j = 0; j < n; j++) {
        const zr = order[j] * n;
        for (let i = 0; i < n; i++) out[i * n + j] = z[zr + i];
      }
      storeInto(v, t, out);
    }
  }
  return { w, v };
}

/**
 * Reduces the full symmetric `x` in place: diagonal into d, subdiagonal into e[0..n-2] (e[n-1] =
 * 0), reflector k's vector below the subdiagonal of column k (its leading 1 implied) and tau[k].
 */
function tridiagonalize(x: Float64Array, n: number, d: Float64Array, e: Float64Array, tau: Float64Array, p: Float64Array, v: Float64Array): void {
  tau.fill(0);
  for (let k = 0; k + 2 < n; k++) {
    const tk = makeReflector(x, (k + 1) * n + k, n - k - 1, n);
    if (tk === 0) continue;
    tau[k] = tk;
    // A22 := H A22 H with H = I - tau v v^T: p = tau A22 v, q = p - (tau/2)(p.v) v,
    // A22 -= v q^T + q v^T, with v (v[k + 1] = 1) copied out of column k to be read contiguously.
    v[k + 1] = 1;
    for (let i = k + 2; i < n; i++) v[i] = x[i * n + k];
    let pv = 0;
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      let s = 0;
      for (let j = k + 1; j < n; j++) s += x[ri + j] * v[j];
      p[i] = tk * s;
      pv += p[i] * v[i];
    }
    const half = 0.5 * tk * pv;
    for (let i = k + 1; i < n; i++) p[i] -= half * v[i];
    for (let i = k + 1; i < n; i++) {
      const ri = i * n, vi = v[i], qi = p[i];
      for (let j = k + 1; j < n; j++) x[ri + j] -= vi * p[j] + qi * v[j];
    }
  }
  for (let i = 0; i < n; i++) {
    d[i] = x[i * n + i];
    e[i] = i + 1 < n ? x[(i + 1) * n + i] : 0;
  }
}

/**
 * Implicit QL on the tridiagonal (d, e) with e[i] coupling i and i+1: eigenvalues into d
 * (unsorted); each rotation of rows i, i+1 is applied to the rows of `z` when given.
 */
function tql(d: Float64Array, e: Float64Array, n: number, z: Float64Array | null): void {
  let shift = 0, tst = 0;
  for (let l = 0; l < n; l++) {
    tst = Math.max(tst, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > EPS * tst) m++;
    // Deflation: e[m] is negligible, so d[l..m] is an unreduced block; iterate until e[l] is.
    while (m > l) {
      // Shift from the leading 2x2 block's eigenvalue nearer d[l] (Wilkinson), moved into d.
      const g0 = d[l];
      let p = (d[l + 1] - g0) / (2 * e[l]);
      let r = Math.hypot(p, 1);
      if (p < 0) r = -r;
      d[l] = e[l] / (p + r);
      d[l + 1] = e[l] * (p + r);
      const dl1 = d[l + 1];
      const h0 = g0 - d[l];
      for (let i = l + 2; i < n; i++) d[i] -= h0;
      shift += h0;
      // One implicit QL sweep from the bottom of the block up, chasing the bulge.
      p = d[m];
      let c = 1, c2 = 1, c3 = 1, s = 0, s2 = 0;
      const el1 = e[l + 1];
      for (let i = m - 1; i >= l; i--) {
        c3 = c2;
        c2 = c;
        s2 = s;
        const g = c * e[i], h = c * p;
        r = Math.hypot(p, e[i]);
        e[i + 1] = s * r;
        s = e[i] / r;
        c = p / r;
        p = c * d[i] - s * g;
        d[i + 1] = h + s * (c * g + s * d[i]);
        if (z) {
          const zi = i * n, zj = zi + n;
          for (let k = 0; k < n; k++) {
            const a = z[zi + k], b = z[zj + k];
            z[zj + k] = s * a + c * b;
            z[zi + k] = c * a - s * b;
          }
        }
      }
      // e[l] / dl1 first: el1 * e[l] alone overflows (or underflows) for entries near 1e±155.
      p = -s * s2 * c3 * el1 * (e[l] / dl1);
      e[l] = s * p;
      d[l] = c * p;
      if (!(Math.abs(e[l]) > EPS * tst)) break;
    }
    d[l] += shift;
    e[l] = 0;
  }
}
