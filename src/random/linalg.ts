// The two factorizations the random module needs, as composites of np functions over leading
// batch axes: a lower Cholesky factor (for multivariateNormal and scipy.stats.multivariateNormal)
// and the Q of A = QR with R's diagonal positive (for orthogonal). Built from differentiable,
// batchable np functions, so samples and log densities differentiate through them. They stand in
// until np.linalg has Cholesky and QR primitives; n steps of O(n^2) work each, for the small
// matrices that covariances and rotations usually are.
import type { Tensor } from "../core/tensor.js";
import { np } from "../numpy/index.js";

/** Lower Cholesky factor of symmetric positive-definite [..., n, n] (Cholesky–Crout by columns); NaN where not positive definite. */
export function cholesky(a: Tensor): Tensor {
  const n = a.shape[a.ndim - 1];
  const cols: Tensor[] = [];
  for (let j = 0; j < n; j++) {
    let v = np.take(a, j, a.ndim - 1);
    if (j > 0) {
      const prev = np.stack(cols, -1);
      v = np.subtract(v, np.sum(np.multiply(prev, np.expandDims(np.take(prev, j, prev.ndim - 2), -2)), -1));
    }
    const d = np.sqrt(np.take(v, j, v.ndim - 1));
    const below = np.array(Array.from({ length: n }, (_, i) => i >= j));
    cols.push(np.where(below, np.divide(v, np.expandDims(d, -1)), 0));
  }
  return np.stack(cols, -1);
}

/** y with L y = b for lower-triangular L [..., n, n] and b [..., n] (forward substitution). */
export function solveLower(l: Tensor, b: Tensor): Tensor {
  const n = l.shape[l.ndim - 1];
  const ys: Tensor[] = [];
  for (let i = 0; i < n; i++) {
    const row = np.take(l, i, l.ndim - 2);
    let r = np.take(b, i, b.ndim - 1);
    if (i > 0) {
      const known = np.stack(ys, -1);
      r = np.subtract(r, np.sum(np.multiply(np.take(row, np.arange(0, i, 1, "int32"), row.ndim - 1), known), -1));
    }
    ys.push(np.divide(r, np.take(row, i, row.ndim - 1)));
  }
  return np.stack(ys, -1);
}

/**
 * Q of A = QR for square [..., n, n] with diag(R) > 0: Gram–Schmidt, every column orthogonalised
 * twice (CGS2: orthogonal to rounding for well-conditioned A). This Q is unique, so it is JAX's
 * Householder Q times sign(diag R), the same numbers up to rounding.
 */
export function positiveQ(a: Tensor): Tensor {
  const n = a.shape[a.ndim - 1];
  const cols: Tensor[] = [];
  for (let j = 0; j < n; j++) {
    let v = np.take(a, j, a.ndim - 1);
    for (let pass = 0; pass < 2 && cols.length > 0; pass++) {
      const q = np.stack(cols, -1);
      const coef = np.sum(np.multiply(q, np.expandDims(v, -1)), -2);
      v = np.subtract(v, np.sum(np.multiply(q, np.expandDims(coef, -2)), -1));
    }
    cols.push(np.divide(v, np.sqrt(np.sum(np.multiply(v, v), -1, { keepdims: true }))));
  }
  return np.stack(cols, -1);
}
