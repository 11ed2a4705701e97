// Statistics and truth reductions (issue 10 item 4), composites of sum/mean/sort as in jax.numpy.
import { ShapeError, fmtShape } from "../core/errors.js";
import type { Axis, Tensor, TensorLike } from "../core/tensor.js";
import * as E from "fp-ts/lib/Either.js";
import { type Validator, boolean, checkOptions, numberWhere, oneOf } from "../core/validate.js";
import { array } from "./creation.js";
import { take } from "./indexing.js";
import { add, divide, multiply, notEqual, equal, greater, sqrt, subtract, astype } from "./math.js";
import { toFloat, toTensor, broadcastTo } from "./promote.js";
import { mean, normAxes, sum } from "./reductions.js";
import { reshape, flatten, transpose } from "./shape.js";
import { sort } from "./sorting.js";

const anything: Validator<TensorLike> = (v) => E.right(v as TensorLike);
const ddofNumber = numberWhere("a finite number", Number.isFinite);
const VAR_OPTIONS = { ddof: ddofNumber, keepdims: boolean };

/** The variance: mean squared deviation, divided by n - ddof. */
function variance(name: string, x: TensorLike, axis: Axis, opts: unknown): Tensor {
  const { ddof = 0, keepdims = false } = checkOptions(name, opts, VAR_OPTIONS);
  const t = toFloat(toTensor(x, `${name}: argument 0`));
  const axes = normAxes(name, axis, t.shape);
  const n = axes.reduce((a, i) => a * t.shape[i], 1);
  const c = subtract(t, mean(t, axes, { keepdims: true }));
  return divide(sum(multiply(c, c), axes, { keepdims }), Math.max(n - ddof, 0));
}
export const var_ = (x: TensorLike, axis?: Axis, opts?: { ddof?: number; keepdims?: boolean }): Tensor => variance("np.var", x, axis, opts);
export const std = (x: TensorLike, axis?: Axis, opts?: { ddof?: number; keepdims?: boolean }): Tensor => sqrt(variance("np.std", x, axis, opts));

/** The weighted mean; `weights` has `a`'s shape or is 1-D along a single `axis`. With `returned`, also the weight sum. */
export function average(a: TensorLike, axis?: Axis, opts?: { weights?: TensorLike; returned?: boolean; keepdims?: boolean }): Tensor | [Tensor, Tensor] {
  const o = checkOptions("np.average", opts, { weights: anything, returned: boolean, keepdims: boolean });
  const t = toFloat(toTensor(a, "average: argument 0"));
  const axes = normAxes("average", axis, t.shape);
  const keepdims = o.keepdims ?? false;
  if (o.weights === undefined) {
    const m = mean(t, axes, { keepdims });
    return o.returned ? [m, broadcastTo(array(axes.reduce((p, i) => p * t.shape[i], 1), t.dtype), m.shape)] : m;
  }
  let w = toFloat(toTensor(o.weights, "average: weights"));
  if (w.ndim !== t.ndim || w.shape.some((d, i) => d !== t.shape[i])) {
    if (w.ndim !== 1 || axes.length !== 1 || w.shape[0] !== t.shape[axes[0]]) {
      throw new ShapeError(`average: weights of shape ${fmtShape(w.shape)} differ from the array's ${fmtShape(t.shape)}; 1-D weights need a single axis of that length`);
    }
    w = reshape(w, t.shape.map((d, i) => (i === axes[0] ? d : 1)));
  }
  const ws = sum(broadcastTo(w, t.shape), axes, { keepdims });
  const avg = divide(sum(multiply(t, w), axes, { keepdims }), ws);
  return o.returned ? [avg, ws] : avg;
}

const QUANTILE_OPTIONS = { method: oneOf("linear"), keepdims: boolean };

/**
 * Quantiles by linear interpolation between order statistics (NumPy's default method): position
 * (n - 1) q in the sorted data. `q` is concrete; its axes come first in the result, as NumPy's.
 */
export function quantile(a: TensorLike, q: number | number[], axis?: number | null, opts?: { method?: "linear"; keepdims?: boolean }): Tensor {
  const o = checkOptions("np.quantile", opts, QUANTILE_OPTIONS);
  let t = toFloat(toTensor(a, "quantile: argument 0"));
  const qs = Array.isArray(q) ? q : [q];
  if (qs.some((v) => typeof v !== "number" || !(v >= 0 && v <= 1))) throw new ShapeError(`quantile: q must be in [0, 1], got ${JSON.stringify(q)}`);
  const given = t.shape;
  if (axis === undefined || axis === null) t = flatten(t);
  const [ax] = normAxes("quantile", axis ?? 0, t.shape);
  const n = t.shape[ax];
  if (n === 0) throw new ShapeError(`quantile: cannot take a quantile of an empty axis (shape ${fmtShape(given)})`);
  const s = sort(t, ax);
  const pos = qs.map((v) => (n - 1) * v);
  const lo = pos.map(Math.floor), hi = pos.map((p) => Math.min(Math.ceil(p), n - 1));
  const frac = pos.map((p, i) => p - lo[i]);
  // Moved to the front so the q axis leads: [nq, ...rest].
  const front = transpose(s, [ax, ...s.shape.map((_, i) => i).filter((i) => i !== ax)]);
  const vlo = take(front, array(lo, "int32"), 0), vhi = take(front, array(hi, "int32"), 0);
  const f = reshape(array(frac, s.dtype), [qs.length, ...front.shape.slice(1).map(() => 1)]);
  let out = add(vlo, multiply(subtract(vhi, vlo), f));
  if (o.keepdims) {
    const kept = axis === undefined || axis === null ? given.map(() => 1) : given.map((d, i) => (i === ax ? 1 : d));
    out = reshape(out, [qs.length, ...kept]);
  }
  return Array.isArray(q) ? out : reshape(out, out.shape.slice(1));
}

export function median(a: TensorLike, axis?: number | null, opts?: { keepdims?: boolean }): Tensor {
  const o = checkOptions("np.median", opts, { keepdims: boolean });
  return quantile(a, 0.5, axis, o);
}

const TRUTH_OPTIONS = { keepdims: boolean };
/** How many entries are truthy (non-zero; NaN counts) along `axis`, as int32. */
export function countNonzero(x: TensorLike, axis?: Axis, opts?: { keepdims?: boolean }): Tensor {
  const o = checkOptions("np.countNonzero", opts, TRUTH_OPTIONS);
  const t = toTensor(x, "countNonzero: argument 0");
  return sum(astype(notEqual(t, 0), "int32"), axis, o);
}
/** Whether any entry is truthy (false for an empty axis). */
export function any(x: TensorLike, axis?: Axis, opts?: { keepdims?: boolean }): Tensor {
  const o = checkOptions("np.any", opts, TRUTH_OPTIONS);
  return reshape(greater(countNonzero(x, axis), 0), keepShape(x, axis, o.keepdims, "np.any"));
}
/** Whether every entry is truthy (true for an empty axis). */
export function all(x: TensorLike, axis?: Axis, opts?: { keepdims?: boolean }): Tensor {
  const o = checkOptions("np.all", opts, TRUTH_OPTIONS);
  const t = toTensor(x, "all: argument 0");
  return reshape(equal(sum(astype(equal(t, 0), "int32"), axis), 0), keepShape(t, axis, o.keepdims, "np.all"));
}

function keepShape(x: TensorLike, axis: Axis, keepdims: boolean | undefined, name: string): number[] {
  const t = toTensor(x, `${name}: argument 0`);
  const axes = normAxes(name, axis, t.shape);
  return keepdims ? t.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : t.shape.filter((_, i) => !axes.includes(i));
}
