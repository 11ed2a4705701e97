// multivariateNormal and orthogonal as JAX's: mean + cholesky(cov) z with z standard normal of
// shape [...shape, n] (JAX's default method), and the Q factor of a standard normal matrix with
// R's diagonal made positive (Haar-distributed orthogonal matrices).
import { JacobiError, ShapeError, fmtShape } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { np } from "../numpy/index.js";
import { broadcastShapes } from "../numpy/promote.js";
import { checkKey, checkShapeArg, type Shape } from "./keys.js";
import { cholesky, positiveQ } from "./linalg.js";
import { type DTypeOptions, type FloatDType, checkOptions, floatDType, normalImpl } from "./samplers.js";

export interface MultivariateNormalOptions {
  dtype?: FloatDType;
  /** Only "cholesky" (JAX's default); JAX's "eigh" and "svd" need eigendecompositions not here yet. */
  method?: "cholesky";
}

/**
 * `multivariateNormal(key, mean, cov, shape?, { dtype, method })`: mean + L z, L the lower Cholesky
 * factor of cov; shape defaults to the broadcast of mean's and cov's batch shapes, as JAX.
 */
export function multivariateNormal(key: TensorLike, mean: TensorLike, cov: TensorLike, shape?: Shape | number, opts: MultivariateNormalOptions = {}): Tensor {
  const where = "random.multivariateNormal";
  checkOptions(where, opts, ["dtype", "method"]);
  if ((opts.method ?? "cholesky") !== "cholesky") throw new JacobiError(`${where}: method ${JSON.stringify(opts.method)} is not supported; only "cholesky" (JAX's default)`);
  const k = checkKey(key, where);
  let [m, c] = [np.array(mean), np.array(cov)];
  if (m.ndim < 1) throw new ShapeError(`${where}: mean must have at least one dimension, got shape ${fmtShape(m.shape)}`);
  const n = m.shape[m.ndim - 1];
  if (c.ndim < 2 || c.shape[c.ndim - 1] !== n || c.shape[c.ndim - 2] !== n) {
    throw new ShapeError(`${where}: cov must have shape [..., ${n}, ${n}] to match mean of shape ${fmtShape(m.shape)}, got ${fmtShape(c.shape)}`);
  }
  const dtype = floatDType(where, opts.dtype ?? (m.dtype === "float32" && c.dtype === "float32" ? "float32" : "float64"));
  [m, c] = [np.astype(m, dtype), np.astype(c, dtype)];
  const batch = broadcastShapes(where, [m.shape.slice(0, -1), c.shape.slice(0, -2)]);
  const s = shape === undefined ? batch : checkShapeArg(shape, where);
  broadcastShapes(where, [s, batch]);
  const z = normalImpl(k, [...s, n], dtype);
  return np.add(m, np.sum(np.multiply(cholesky(c), np.expandDims(z, -2)), -1));
}

/** `orthogonal(key, n, shape = [], { dtype })`: Haar-random n x n orthogonal matrices of shape [...shape, n, n]. */
export function orthogonal(key: TensorLike, n: number, shape: Shape | number = [], opts: DTypeOptions = {}): Tensor {
  const where = "random.orthogonal";
  checkOptions(where, opts, ["dtype"]);
  if (!Number.isInteger(n) || n < 0) throw new JacobiError(`${where}: n must be a non-negative integer, got ${n}`);
  const k = checkKey(key, where);
  const s = checkShapeArg(shape, where);
  const dtype = floatDType(where, opts.dtype);
  return positiveQ(normalImpl(k, [...s, n, n], dtype));
}
