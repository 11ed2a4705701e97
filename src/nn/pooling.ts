// nn.maxPool and nn.avgPool with flax.linen's conventions: channels last, the window and strides
// over the axes between the leading batch axes and the trailing feature axis (an input with no
// batch axis is pooled as one example), padding "VALID" by default.
import { describe } from "../core/convert.js";
import { JacobiError, ShapeError, fmtShape } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { boolean, checkOptions } from "../core/validate.js";
import { type Padding, reduceWindow } from "../lax/conv.js";
import { divide } from "../numpy/math.js";
import { maxIdentity } from "../primitives/reduce-window.js";
import { full } from "../primitives/util.js";
import { toFloat, toTensor } from "../numpy/promote.js";

function pool(where: string, x: Tensor, init: number, kind: "max" | "sum", window: unknown, strides: unknown, padding: unknown): Tensor {
  if (!Array.isArray(window) || window.length === 0 || !window.every((w) => Number.isInteger(w) && w >= 1)) {
    throw new JacobiError(`${where}: window must be a non-empty list of positive integers, got ${describe(window)}`);
  }
  const n = window.length;
  const batchAxes = x.ndim - n - 1;
  if (batchAxes < 0) throw new ShapeError(`${where}: an input of shape ${fmtShape(x.shape)} has no room for a ${n}-d window and a feature axis`);
  const st = strides ?? window.map(() => 1);
  if (!Array.isArray(st) || st.length !== n) throw new JacobiError(`${where}: strides must be a list of ${n} positive integers, got ${describe(strides)}`);
  const lead = Array.from({ length: batchAxes }, () => 1);
  let pads: Padding;
  if (typeof padding === "string") pads = padding as "SAME" | "VALID";
  else {
    if (!Array.isArray(padding) || padding.length !== n) throw new JacobiError(`${where}: padding must be "SAME", "VALID" or ${n} pairs [lo, hi], got ${describe(padding)}`);
    pads = [...lead.map((): [number, number] => [0, 0]), ...(padding as [number, number][]), [0, 0]];
  }
  return reduceWindow(x, init, kind, [...lead, ...window, 1], [...lead, ...(st as number[]), 1], pads);
}

/** The largest element of each window (flax.linen.max_pool). */
export function maxPool(x: TensorLike, window: readonly number[], strides?: readonly number[] | null, padding: Padding = "VALID"): Tensor {
  const t = toTensor(x, "nn.maxPool: x");
  return pool("nn.maxPool", t, maxIdentity(t.dtype), "max", window, strides, padding);
}

export interface AvgPoolOptions {
  /** Count padded cells in each window's size (true, flax's default) or only the input's (false). */
  countIncludePad?: boolean;
}

/** The mean of each window (flax.linen.avg_pool): a windowed sum over the window's size. */
export function avgPool(x: TensorLike, window: readonly number[], strides?: readonly number[] | null, padding: Padding = "VALID", opts: AvgPoolOptions = {}): Tensor {
  const where = "nn.avgPool";
  const { countIncludePad = true } = checkOptions(where, opts, { countIncludePad: boolean });
  const t = toFloat(toTensor(x, `${where}: x`));
  const sums = pool(where, t, 0, "sum", window, strides, padding);
  if (countIncludePad) return divide(sums, window.reduce((a, b) => a * b, 1));
  // The cells of each window that lie in the input, counted on ones of one example and one feature.
  const ones = full(t.shape.map((d, i) => (i < t.ndim - window.length - 1 || i === t.ndim - 1 ? 1 : d)), 1, t.dtype);
  return divide(sums, pool(where, ones, 0, "sum", window, strides, padding));
}
