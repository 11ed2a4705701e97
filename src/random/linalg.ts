// The factorizations the random module and scipy.stats need, in the shapes they use them: JAX's
// lower Cholesky factor (input symmetrized), a lower-triangular solve against vectors, and the Q
// of A = QR with R's diagonal made positive (jax.random.orthogonal's sign correction). All are the
// linear-algebra primitives, so they differentiate, batch and jit.
import type { Tensor } from "../core/tensor.js";
import { triangularSolve } from "../lax/linalg.js";
import { np } from "../numpy/index.js";
import { cholesky as npCholesky, qr } from "../numpy/linalg-decomp.js";

/** Lower Cholesky factor of symmetric positive-definite [..., n, n]; NaN where not positive definite. */
export const cholesky = (a: Tensor): Tensor => npCholesky(a);

/** y with L y = b for lower-triangular L [..., n, n] and vectors b [..., n]; batch axes broadcast. */
export function solveLower(l: Tensor, b: Tensor): Tensor {
  const y = triangularSolve(l, np.expandDims(b, -1), { leftSide: true, lower: true });
  return np.squeeze(y, -1);
}

/** Q of A = QR for square [..., n, n], times sign(diag R): the unique Q with R's diagonal positive, as JAX's orthogonal. */
export function positiveQ(a: Tensor): Tensor {
  const [q, r] = qr(a);
  const n = a.shape[a.ndim - 1];
  const d = np.sum(np.multiply(r, np.eye(n, n, 0, r.dtype)), -1);
  return np.multiply(q, np.expandDims(np.divide(d, np.abs(d)), -2));
}
