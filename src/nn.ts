import type { Axis, Tensor, TensorLike } from "./core/tensor.js";
import { np } from "./numpy/index.js";
import { T } from "./numpy/promote.js";

/** max(x, 0), with derivative 0 at 0 (as JAX); NaN stays NaN, as max(NaN, 0) is NaN. */
export function relu(x: TensorLike): Tensor {
  const t = T(x);
  return np.where(np.lessEqual(t, 0), 0, t);
}

/** 1 / (1 + e^-x), computed from e^-|x| so that it never overflows and its gradient stays finite. */
export function sigmoid(x: TensorLike): Tensor {
  const t = T(x);
  const z = np.exp(np.negative(np.abs(t)));
  const d = np.add(z, 1);
  return np.where(np.greaterEqual(t, 0), np.reciprocal(d), np.divide(z, d));
}

/**
 * log(1 + e^x) = relu(x) + log1p(e^-|x|): finite for any x. Both kinks at 0 take the x >= 0 side
 * (|x|' = 1 there), so their derivatives add up to the true sigmoid(0) = 1/2.
 */
export function softplus(x: TensorLike): Tensor {
  const t = T(x);
  return np.add(np.where(np.greaterEqual(t, 0), t, 0), np.log1p(np.exp(np.negative(np.abs(t)))));
}

/** log(sum(exp(x))) stably: the max is subtracted and added back (not differentiated through). */
export function logsumexp(x: TensorLike, axis?: Axis, opts: { keepdims?: boolean } = {}): Tensor {
  const t = T(x);
  const m = np.stopGradient(np.max(t, axis, { keepdims: true }));
  const safe = np.where(np.less(np.abs(m), Infinity), m, 0);
  const s = np.log(np.sum(np.exp(np.subtract(t, safe)), axis, { keepdims: true }));
  const out = np.add(s, safe);
  return opts.keepdims ? out : np.squeeze(out, axis === undefined || axis === null ? undefined : axis);
}

export function logSoftmax(x: TensorLike, axis: Axis = -1): Tensor {
  return np.subtract(x, logsumexp(x, axis, { keepdims: true }));
}
export function softmax(x: TensorLike, axis: Axis = -1): Tensor {
  return np.exp(logSoftmax(x, axis));
}

export const nn = { relu, sigmoid, softplus, logsumexp, softmax, logSoftmax };
