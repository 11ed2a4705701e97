// Elementwise activations, as jax.nn defines them, composed from np functions (no primitives of
// their own). Kinks use `where` on the side JAX takes, so derivatives there match JAX's.
import { ShapeError, fmtShape } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { np } from "../numpy/index.js";
import { T, toFloat } from "../numpy/promote.js";
import { normAxes } from "../numpy/reductions.js";
import { erfc } from "../scipy/special.js";
import { checkBoolean, checkOptions } from "../optim/options.js";

/** max(x, 0), with derivative 0 at 0 (as JAX); NaN stays NaN, as max(NaN, 0) is NaN. */
export function relu(x: TensorLike): Tensor {
  const t = T(x, "nn.relu: argument 0");
  return np.where(np.lessEqual(t, 0), 0, t);
}

/** min(max(x, 0), 6), with derivative 0 at both kinks (JAX's custom rule) and NaN kept. */
export function relu6(x: TensorLike): Tensor {
  const t = T(x, "nn.relu6: argument 0");
  return np.where(np.lessEqual(t, 0), 0, np.where(np.greaterEqual(t, 6), 6, t));
}

/** 1 / (1 + e^-x), computed from e^-|x| so that it never overflows and its gradient stays finite. */
export function sigmoid(x: TensorLike): Tensor {
  const t = T(x, "nn.sigmoid: argument 0");
  const z = np.exp(np.negative(np.abs(t)));
  const d = np.add(z, 1);
  return np.where(np.greaterEqual(t, 0), np.reciprocal(d), np.divide(z, d));
}

/**
 * log(1 + e^x) = relu(x) + log1p(e^-|x|): finite for any x. Both kinks at 0 take the x >= 0 side
 * (|x|' = 1 there), so their derivatives add up to the true sigmoid(0) = 1/2.
 */
export function softplus(x: TensorLike): Tensor {
  const t = T(x, "nn.softplus: argument 0");
  return np.add(np.where(np.greaterEqual(t, 0), t, 0), np.log1p(np.exp(np.negative(np.abs(t)))));
}

/** log(sigmoid(x)) = -softplus(-x), finite for any x. */
export function logSigmoid(x: TensorLike): Tensor {
  return np.negative(softplus(np.negative(T(x, "nn.logSigmoid: argument 0"))));
}

/** x / (|x| + 1). */
export function softSign(x: TensorLike): Tensor {
  const t = T(x, "nn.softSign: argument 0");
  return np.divide(t, np.add(np.abs(t), 1));
}

/** x * sigmoid(x) (also called swish). */
export function silu(x: TensorLike): Tensor {
  const t = T(x, "nn.silu: argument 0");
  return np.multiply(t, sigmoid(t));
}
export const swish = silu;

/** x * tanh(softplus(x)). */
export function mish(x: TensorLike): Tensor {
  const t = T(x, "nn.mish: argument 0");
  return np.multiply(t, np.tanh(softplus(t)));
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * The Gaussian error linear unit. `approximate` (the default, as JAX's) is the tanh form
 * x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); otherwise the exact x/2 erfc(-x/sqrt 2).
 */
export function gelu(x: TensorLike, opts: { approximate?: boolean } = {}): Tensor {
  checkOptions("nn.gelu", opts, ["approximate"]);
  const approximate = checkBoolean("nn.gelu", "approximate", opts.approximate ?? true);
  const t = toFloat(T(x, "nn.gelu: argument 0"));
  if (!approximate) return np.multiply(np.multiply(0.5, t), erfc(np.multiply(np.negative(t), Math.SQRT1_2)));
  const inner = np.multiply(SQRT_2_OVER_PI, np.add(t, np.multiply(0.044715, np.power(t, 3))));
  return np.multiply(t, np.multiply(0.5, np.add(1, np.tanh(inner))));
}

/** x for x > 0, alpha (e^x - 1) otherwise; expm1 only sees the non-positive side, so it never overflows. */
export function elu(x: TensorLike, alpha: TensorLike = 1): Tensor {
  const t = T(x, "nn.elu: argument 0");
  const pos = np.greater(t, 0);
  return np.where(pos, t, np.multiply(alpha, np.expm1(np.where(pos, 0, t))));
}

/** max(x, 0) + alpha (e^(min(x, 0) / alpha) - 1). */
export function celu(x: TensorLike, alpha: TensorLike = 1): Tensor {
  const t = T(x, "nn.celu: argument 0");
  return np.add(np.maximum(t, 0), np.multiply(alpha, np.expm1(np.divide(np.minimum(t, 0), alpha))));
}

const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

/** scale * elu(x, alpha) with the self-normalizing constants of Klambauer et al. */
export function selu(x: TensorLike): Tensor {
  return np.multiply(SELU_SCALE, elu(T(x, "nn.selu: argument 0"), SELU_ALPHA));
}

/** x for x >= 0, negativeSlope * x otherwise (slope 0.01 by default, as JAX). */
export function leakyRelu(x: TensorLike, negativeSlope: TensorLike = 0.01): Tensor {
  const t = T(x, "nn.leakyRelu: argument 0");
  return np.where(np.greaterEqual(t, 0), t, np.multiply(negativeSlope, t));
}

/** x clipped to [-1, 1], derivative 1 on the closed interval (as JAX's). */
export function hardTanh(x: TensorLike): Tensor {
  const t = T(x, "nn.hardTanh: argument 0");
  return np.where(np.greater(t, 1), 1, np.where(np.less(t, -1), -1, t));
}

/** relu6(x + 3) / 6 (JAX's definition, as torch's hardsigmoid). */
export function hardSigmoid(x: TensorLike): Tensor {
  return np.divide(relu6(np.add(T(x, "nn.hardSigmoid: argument 0"), 3)), 6);
}

/** (x + sqrt(x^2 + b)) / 2, b = 4 by default. */
export function squareplus(x: TensorLike, b: TensorLike = 4): Tensor {
  const t = T(x, "nn.squareplus: argument 0");
  return np.divide(np.add(t, np.sqrt(np.add(np.square(t), b))), 2);
}

/** 0 for x <= -1, (x + 1)^2 / 4 between, x for x >= 1. */
export function sparsePlus(x: TensorLike): Tensor {
  const t = T(x, "nn.sparsePlus: argument 0");
  return np.where(np.lessEqual(t, -1), 0, np.where(np.greaterEqual(t, 1), t, np.divide(np.square(np.add(t, 1)), 4)));
}

/** The first half of x along `axis` times the sigmoid of the second half. */
export function glu(x: TensorLike, axis = -1): Tensor {
  const t = T(x, "nn.glu: argument 0");
  const [a] = normAxes("nn.glu", axis, t.shape);
  const n = t.shape[a];
  if (n % 2 !== 0) throw new ShapeError(`nn.glu: the size of axis ${a} must be even to split it in two, got shape ${fmtShape(t.shape)}`);
  const lead = Array.from({ length: a }, () => null);
  const first = np.slice(t, ...lead, [0, n / 2]);
  const second = np.slice(t, ...lead, [n / 2, n]);
  return np.multiply(first, sigmoid(second));
}

const LN2 = Math.log(2);

/** log(1 - e^-x), accurately for every x > 0 (undefined for x < 0). */
export function log1mexp(x: TensorLike): Tensor {
  const t = toFloat(T(x, "nn.log1mexp: argument 0"));
  // Mächler's two forms: log(-expm1(-x)) is accurate for small x, log1p(-e^-x) for large x. Each
  // form sees a harmless input where it is not used, so its derivative there is finite and the
  // zero cotangent the where sends it stays zero: the derivative is 1 / expm1(x), as JAX's rule.
  const small = np.less(t, LN2);
  const a = np.where(small, t, 1), b = np.where(small, 1, t);
  return np.where(small, np.log(np.negative(np.expm1(np.negative(a)))), np.log1p(np.negative(np.exp(np.negative(b)))));
}
