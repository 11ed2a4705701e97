// Determinants from LU factors: det A = parity(P) * prod(diag U), and its sign and log-magnitude
// summed in logs so that large matrices neither overflow nor underflow.
import { type FloatArray, allocLike, checkStack } from "./common.js";
import { lu } from "./lu.js";

export interface SlogdetResult<T extends FloatArray> {
  /** [batch]: +1, -1, 0 for a singular matrix, NaN when the input holds NaN. */
  sign: T;
  /** [batch]: log |det A|, -Inf for a singular matrix. */
  logabsdet: T;
}

/** Sign and log |det| of `batch` n x n matrices, as numpy.linalg.slogdet / JAX's (0 and -Inf when singular). */
export function slogdet<T extends FloatArray>(a: T, batch: number, n: number): SlogdetResult<T> {
  checkStack("slogdet", "a", a, batch, [n, n]);
  const f = lu(a, batch, n, n);
  const sign = allocLike(a, batch), logabsdet = allocLike(a, batch);
  for (let t = 0; t < batch; t++) {
    let s = parity(f.pivots, t, n), l = 0, zero = false;
    for (let i = 0; i < n; i++) {
      const d = f.lu[t * n * n + i * n + i];
      if (d === 0) zero = true;
      s *= Math.sign(d);
      l += Math.log(Math.abs(d));
    }
    sign[t] = zero ? 0 : s;
    logabsdet[t] = zero ? -Infinity : l;
  }
  return { sign, logabsdet };
}

/** det A of `batch` n x n matrices: the product of U's diagonal with the permutation's parity. */
export function det<T extends FloatArray>(a: T, batch: number, n: number): T {
  checkStack("det", "a", a, batch, [n, n]);
  const f = lu(a, batch, n, n);
  const out = allocLike(a, batch);
  for (let t = 0; t < batch; t++) {
    let p = parity(f.pivots, t, n);
    for (let i = 0; i < n; i++) p *= f.lu[t * n * n + i * n + i];
    out[t] = p;
  }
  return out;
}

/** (-1)^(number of actual interchanges) of matrix t's pivots. */
function parity(pivots: Int32Array, t: number, n: number): number {
  let s = 1;
  for (let i = 0; i < n; i++) if (pivots[t * n + i] !== i) s = -s;
  return s;
}
