// Reductions and normalisers of jax.nn: logsumexp, logmeanexp, softmax, logSoftmax, standardize,
// oneHot. Each takes JAX's `where` (which elements take part) and handles an empty reduced axis
// without a maximum (the log of an empty sum is -inf; the softmax of nothing is empty).
import { ShapeError, fmtShape } from "../core/errors.js";
import type { DType } from "../core/dtype.js";
import type { Axis, Tensor, TensorLike } from "../core/tensor.js";
import { np } from "../numpy/index.js";
import { T, broadcastShapes, toFloat } from "../numpy/promote.js";
import { normAxes } from "../numpy/reductions.js";
import { checkBoolean, checkOptions } from "../optim/options.js";
import { DTypeError } from "../core/errors.js";

/** `where`, as a bool Tensor broadcast to `shape` (or null when not given). */
function whereMask(name: string, where: TensorLike | undefined, shape: readonly number[]): Tensor | null {
  if (where === undefined || where === null) return null;
  let w = T(where, `${name}: where`);
  if (w.dtype !== "bool") w = np.notEqual(w, 0);
  broadcastShapes(name, [shape, w.shape]);
  return np.broadcastTo(w, [...shape]);
}

/**
 * The maximum over `axes` (kept as size-1 axes) of the elements taking part, with -inf/+inf/NaN
 * maxima (and empty reductions) replaced by 0, and no derivative: the shift that keeps exp finite.
 */
function safeMax(x: Tensor, axes: number[]): Tensor {
  const keepShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  if (axes.some((a) => x.shape[a] === 0)) return np.zeros(keepShape, x.dtype);
  const m = np.max(x, axes, { keepdims: true });
  return np.stopGradient(np.where(np.less(np.abs(m), Infinity), m, 0));
}

const dropAxes = (t: Tensor, axes: number[], keepdims: boolean): Tensor => (keepdims || axes.length === 0 ? t : np.squeeze(t, axes));

export interface LogsumexpOptions {
  /** Scale factors of exp(x), broadcast against x; a negative sum needs `returnSign`. */
  b?: TensorLike;
  keepdims?: boolean;
  /** Return [log|sum|, sign(sum)] instead of log(sum). */
  returnSign?: boolean;
  /** Elements to include. */
  where?: TensorLike;
}

/**
 * log(sum(b * exp(x))) over `axis` (all axes by default), stably: the maximum is subtracted and
 * added back (not differentiated through), so logsumexp([1000, 1000]) is 1000 + log 2 and its
 * gradient [0.5, 0.5]. With `b` a negative sum is NaN unless `returnSign` asks for [log|s|, sign s].
 */
export function logsumexp(x: TensorLike, axis?: Axis, opts?: LogsumexpOptions & { returnSign?: false }): Tensor;
export function logsumexp(x: TensorLike, axis: Axis, opts: LogsumexpOptions & { returnSign: true }): [Tensor, Tensor];
export function logsumexp(x: TensorLike, axis?: Axis, opts: LogsumexpOptions = {}): Tensor | [Tensor, Tensor] {
  const name = "nn.logsumexp";
  checkOptions(name, opts, ["b", "keepdims", "returnSign", "where"]);
  const keepdims = checkBoolean(name, "keepdims", opts.keepdims ?? false);
  const returnSign = checkBoolean(name, "returnSign", opts.returnSign ?? false);
  let a = toFloat(T(x, `${name}: argument 0`));
  let b: Tensor | null = null;
  if (opts.b !== undefined) {
    b = T(opts.b, `${name}: b`);
    const shape = broadcastShapes(name, [a.shape, b.shape]);
    a = np.broadcastTo(a, shape);
    b = np.broadcastTo(b, shape);
    // Terms with b = 0 take no part, even where x is +inf.
    a = np.where(np.notEqual(b, 0), a, -Infinity);
  }
  const axes = normAxes(name, axis, a.shape);
  const w = whereMask(name, opts.where, a.shape);
  const xs = w ? np.where(w, a, -Infinity) : a;
  const m = safeMax(xs, axes);
  let e = np.exp(np.subtract(xs, m));
  if (b) e = np.multiply(e, b);
  const s = np.sum(e, axes, { keepdims: true });
  const sign = np.sign(s);
  let out = np.add(np.log(np.abs(s)), m);
  out = dropAxes(out, axes, keepdims);
  if (returnSign) return [out, dropAxes(sign, axes, keepdims)];
  if (b) out = np.where(np.less(dropAxes(sign, axes, keepdims), 0), NaN, out);
  return out;
}

/** log(mean(exp(x))) over `axis` (all by default): logsumexp minus the log of the count taking part. */
export function logmeanexp(x: TensorLike, axis?: Axis, opts: { where?: TensorLike; keepdims?: boolean } = {}): Tensor {
  const name = "nn.logmeanexp";
  checkOptions(name, opts, ["where", "keepdims"]);
  const a = toFloat(T(x, `${name}: argument 0`));
  const lse = logsumexp(a, axis, opts);
  const axes = normAxes(name, axis, a.shape);
  const w = whereMask(name, opts.where, a.shape);
  const count = w
    ? np.astype(np.sum(w, axes, { keepdims: opts.keepdims ?? false }), lse.dtype)
    : axes.reduce((n, i) => n * a.shape[i], 1);
  return np.subtract(lse, np.log(np.astype(count, lse.dtype)));
}

/** Shared by softmax and logSoftmax: the masked input and the shift. */
function shifted(name: string, x: TensorLike, axis: Axis, opts: { where?: TensorLike }): { xs: Tensor; m: Tensor; axes: number[]; w: Tensor | null } {
  checkOptions(name, opts, ["where"]);
  const t = toFloat(T(x, `${name}: argument 0`));
  const axes = normAxes(name, axis, t.shape);
  const w = whereMask(name, opts.where, t.shape);
  const xs = w ? np.where(w, t, -Infinity) : t;
  return { xs, m: safeMax(xs, axes), axes, w };
}

/** exp(x) / sum(exp(x)) along `axis` (-1 by default); elements outside `where` get 0. */
export function softmax(x: TensorLike, axis: Axis = -1, opts: { where?: TensorLike } = {}): Tensor {
  const { xs, m, axes, w } = shifted("nn.softmax", x, axis, opts);
  const u = np.exp(np.subtract(xs, m));
  const r = np.divide(u, np.sum(u, axes, { keepdims: true }));
  return w ? np.where(w, r, 0) : r;
}

/** x - logsumexp(x) along `axis` (-1 by default); elements outside `where` get -inf. */
export function logSoftmax(x: TensorLike, axis: Axis = -1, opts: { where?: TensorLike } = {}): Tensor {
  const { xs, m, axes, w } = shifted("nn.logSoftmax", x, axis, opts);
  const s = np.subtract(xs, m);
  const r = np.subtract(s, np.log(np.sum(np.exp(s), axes, { keepdims: true })));
  return w ? np.where(w, r, -Infinity) : r;
}

/**
 * (x - mean) / sqrt(variance + epsilon) along `axis` (-1 by default); the mean and variance
 * (JAX's E[x^2] - E[x]^2) are computed over the elements in `where` unless given.
 */
export function standardize(
  x: TensorLike,
  axis: Axis = -1,
  opts: { mean?: TensorLike; variance?: TensorLike; epsilon?: number; where?: TensorLike } = {},
): Tensor {
  const name = "nn.standardize";
  checkOptions(name, opts, ["mean", "variance", "epsilon", "where"]);
  const t = toFloat(T(x, `${name}: argument 0`));
  const axes = normAxes(name, axis, t.shape);
  const w = whereMask(name, opts.where, t.shape);
  const avg = (v: Tensor): Tensor =>
    w ? np.divide(np.sum(np.where(w, v, 0), axes, { keepdims: true }), np.astype(np.sum(w, axes, { keepdims: true }), v.dtype)) : np.mean(v, axes, { keepdims: true });
  const mean = opts.mean === undefined ? avg(t) : T(opts.mean, `${name}: mean`);
  const variance = opts.variance === undefined ? np.subtract(avg(np.square(t)), np.square(mean)) : T(opts.variance, `${name}: variance`);
  return np.multiply(np.subtract(t, mean), np.reciprocal(np.sqrt(np.add(variance, opts.epsilon ?? 1e-5))));
}

/** Encodes integer indices as one-hot vectors along a new axis (`axis`, -1 by default); out-of-range indices give all zeros. */
export function oneHot(x: TensorLike, numClasses: number, opts: { dtype?: DType; axis?: number } = {}): Tensor {
  const name = "nn.oneHot";
  checkOptions(name, opts, ["dtype", "axis"]);
  if (!Number.isInteger(numClasses) || numClasses < 0) throw new ShapeError(`${name}: numClasses must be a non-negative integer, got ${numClasses}`);
  const t = T(x, `${name}: argument 0`);
  if (t.dtype === "bool") throw new DTypeError(`${name}: indices must be numbers, got a bool array`);
  const nd = t.ndim + 1;
  const axis = opts.axis ?? -1;
  if (!Number.isInteger(axis) || axis < -nd || axis >= nd) throw new ShapeError(`${name}: axis ${axis} is out of bounds for the result of rank ${nd} (input shape ${fmtShape(t.shape)})`);
  const pos = axis < 0 ? axis + nd : axis;
  const classesShape = Array.from({ length: nd }, (_, i) => (i === pos ? numClasses : 1));
  const classes = np.reshape(np.arange(0, numClasses, 1, t.dtype === "float32" || t.dtype === "float64" ? t.dtype : "int32"), classesShape);
  return np.astype(np.equal(np.expandDims(t, pos), classes), opts.dtype ?? "float64");
}
