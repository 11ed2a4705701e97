// Scaled dot-product attention, as jax.nn.dot_product_attention's XLA path (its grouped-query
// heads included), composed from matmul and softmax. One difference: JAX runs the softmax in
// float32 whatever the input dtype; here it runs in the logits' dtype, so float64 stays float64.
import { DTypeError, ShapeError, fmtShape } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { np } from "../numpy/index.js";
import { T, broadcastShapes, toFloat } from "../numpy/promote.js";
import { checkBoolean, checkNumber, checkOptions } from "../optim/options.js";
import { softmax } from "./normalizers.js";

export interface AttentionOptions {
  /** Added to the logits; 4-D (or fewer dims, padded in front) broadcastable to [B, N, T, S]. */
  bias?: TensorLike;
  /** Boolean; true where a query may attend to a key. Broadcastable to [B, N, T, S]. */
  mask?: TensorLike;
  /** Query t attends only to keys s <= t. */
  isCausal?: boolean;
  /** Multiplies the logits; 1 / sqrt(H) by default. */
  scale?: number;
}

const ensure4d = (t: Tensor): Tensor => (t.ndim >= 4 ? t : np.reshape(t, [...Array(4 - t.ndim).fill(1), ...t.shape]));

function largeNegative(dtype: string): number {
  // JAX's -0.7 * finfo(dtype).max: far below any real logit, yet exp(it - max) is exactly 0
  // without the inf - inf = NaN a -inf would give in an all-masked row.
  return -0.7 * (dtype === "float32" ? 3.4028234663852886e38 : Number.MAX_VALUE);
}

/**
 * softmax(q k^T * scale + bias, masked) v over query [B, T, N, H] (or [T, N, H]) and key and value
 * [B, S, K, H] (or [S, K, H]); N must be a multiple of K (grouped-query attention, K = 1 being
 * multi-query). Returns the query's shape.
 */
export function dotProductAttention(query: TensorLike, key: TensorLike, value: TensorLike, opts: AttentionOptions = {}): Tensor {
  const name = "nn.dotProductAttention";
  checkOptions(name, opts, ["bias", "mask", "isCausal", "scale"]);
  const q0 = toFloat(T(query, `${name}: query`)), k0 = toFloat(T(key, `${name}: key`)), v0 = toFloat(T(value, `${name}: value`));
  const shapes = `query ${fmtShape(q0.shape)}, key ${fmtShape(k0.shape)}, value ${fmtShape(v0.shape)}`;
  if (![3, 4].includes(q0.ndim) || k0.ndim !== q0.ndim || v0.ndim !== q0.ndim) {
    throw new ShapeError(`${name}: query, key and value must all be [B, T, N, H] or all [T, N, H], got ${shapes}`);
  }
  const q = ensure4d(q0), k = ensure4d(k0), v = ensure4d(v0);
  const [B, T_, N, H] = q.shape;
  const [, S, K] = k.shape;
  if (v.shape.some((d, i) => d !== k.shape[i])) throw new ShapeError(`${name}: value must have key's shape, got ${shapes}`);
  if (k.shape[0] !== B || k.shape[3] !== H) throw new ShapeError(`${name}: key must share query's batch and head sizes, got ${shapes}`);
  if (K === 0 || N % K !== 0) throw new ShapeError(`${name}: the number of query heads must be a multiple of the key/value heads, got ${shapes}`);
  const scale = opts.scale === undefined ? 1 / Math.sqrt(H) : checkNumber(name, "scale", opts.scale);
  const isCausal = checkBoolean(name, "isCausal", opts.isCausal ?? false);

  // Grouped heads: query head n reads key/value head floor(n / G), as JAX's reshape to [K, G].
  const G = N / K;
  const repeatHeads = (t: Tensor): Tensor => (G === 1 ? t : np.reshape(np.broadcastTo(np.expandDims(t, 3), [B, S, K, G, H]), [B, S, N, H]));
  const kh = repeatHeads(k), vh = repeatHeads(v);

  let logits = np.multiply(np.matmul(np.transpose(q, [0, 2, 1, 3]), np.transpose(kh, [0, 2, 3, 1])), scale); // [B, N, T, S]
  const full = [B, N, T_, S];
  const fit = (t: Tensor, what: string): Tensor => {
    const t4 = ensure4d(t);
    if (t4.ndim !== 4) throw new ShapeError(`${name}: ${what} must have at most 4 dimensions, got shape ${fmtShape(t.shape)}`);
    try {
      broadcastShapes(name, [t4.shape, full]);
    } catch {
      throw new ShapeError(`${name}: ${what} of shape ${fmtShape(t.shape)} does not broadcast to the logits' [B, N, T, S] = ${fmtShape(full)}`);
    }
    return t4;
  };
  if (opts.bias !== undefined) logits = np.add(logits, fit(T(opts.bias, `${name}: bias`), "bias"));
  let keep: Tensor | null = null;
  if (opts.mask !== undefined) {
    const m = T(opts.mask, `${name}: mask`);
    if (m.dtype !== "bool") throw new DTypeError(`${name}: mask must be a bool array (true where attention is allowed; pass additive masks as bias), got ${m.dtype}`);
    keep = fit(m, "mask");
  }
  if (isCausal) {
    const causal = np.lessEqual(np.reshape(np.arange(0, S, 1, "int32"), [1, S]), np.reshape(np.arange(0, T_, 1, "int32"), [T_, 1]));
    keep = keep ? np.where(keep, causal, false) : causal;
  }
  if (keep) logits = np.where(keep, logits, largeNegative(logits.dtype));
  const probs = softmax(logits, -1);
  const out = np.transpose(np.matmul(probs, np.transpose(vh, [0, 2, 1, 3])), [0, 2, 1, 3]); // [B, T, N, H]
  return np.reshape(out, q0.shape);
}
