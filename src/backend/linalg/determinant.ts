// Determinants from LU factors: det A = parity(P) * prod(diag U), and its sign and log-magnitude
// summed in logs so that large matrices neither overflow nor underflow. The factors live in one
// float64 scratch matrix reused across the batch.
import { type FloatArray, allocLike, checkStack } from "./common.js";
import { factor } from "./lu.js";

export interface SlogdetResult<T extends FloatArray> {
  /** [batch]: +1, -1, 0 for a singular matrix, NaN when the input holds NaN. */
  sign: T;
  /** [batch]: log |det A|, -Inf for a singular matrix. */
  logabsdet: T;
}

/** Sign and log |det| of `batch` n x n matrices, as numpy.linalg.slogdet / JAX's (0 and -Inf when singular). */
export function slogdet<T extends FloatArray>(a: T, batch: number, n: number): SlogdetResult<T> {
  checkStack("slogdet", "a", a, batch, [n, n]);
  const sign = allocLike(a, batch), logabsdet = allocLike(a, batch);
  eachFactored(a, batch, n, (t, f, piv) => {
    let s = parity(piv, n), l = 0, zero = false;
    for (let i = 0; i < n; i++) {
      const d = f[i * n + i];
      if (d === 0) zero = true;
      s *= Math.sign(d);
      l += Math.log(Math.abs(d));
    }
    sign[t] = zero ? 0 : s;
    logabsdet[t] = zero ? -Infinity : l;
  });
  return { sign, logabsdet };
}

/** det A of `batch` n x n matrices: the product of U's diagonal with the permutation's parity. */
export function det<T extends FloatArray>(a: T, batch: number, n: number): T {
  checkStack("det", "a", a, batch, [n, n]);
  const out = allocLike(a, batch);
  eachFactored(a, batch, n, (t, f, piv) => {
    let p = parity(piv, n);
    for (let i = 0; i < n; i++) p *= f[i * n + i];
    out[t] = p;
  });
  return out;
}

/** Calls `fn` with each matrix's float64 LU factors and pivots. */
function eachFactored(a: FloatArray, batch: number, n: number, fn: (t: number, f: Float64Array, piv: Int32Array) => void): void {
  const f = new Float64Array(n * n), piv = new Int32Array(n), perm = new Int32Array(n);
  for (let t = 0; t < batch; t++) {
    const o = t * n * n;
    for (let i = 0; i < n * n; i++) f[i] = a[o + i];
    factor(f, 0, n, n, piv, perm);
    fn(t, f, piv);
  }
}

/** (-1)^(number of actual interchanges). */
function parity(piv: Int32Array, n: number): number {
  let s = 1;
  for (let i = 0; i < n; i++) if (piv[i] !== i) s = -s;
  return s;
}
