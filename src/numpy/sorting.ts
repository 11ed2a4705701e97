// Sorting and scans (issue 10): np.sort/argsort on the stable sort primitive (its JVP gathers the
// tangents with the permutation), the cumulative functions on JAX's cumsum/cumprod/cummax/cummin
// primitives (primitives/cumulative.ts, with lax.associativeScan), diff by slicing, searchsorted
// by a binary search of gathers (JAX's default method).
import { DTypeError, JacobiError, ShapeError, fmtShape } from "../core/errors.js";
import { isFloat } from "../core/dtype.js";
import type { Axis, Tensor, TensorLike } from "../core/tensor.js";
import { boolean, checkOptions, oneOf } from "../core/validate.js";
import { cumulative as cumulativePrim } from "../primitives/cumulative.js";
export { associativeScan } from "../primitives/cumulative.js";
import { add, convertElementType, le, lt, neg, select, sub } from "../primitives/elementwise.js";
import { andP, notP, shiftRightArithmeticP } from "../primitives/bitwise.js";
import { bind1 } from "../core/trace.js";
import { full } from "../primitives/util.js";
import { gatherDynamic, iota } from "../primitives/gather.js";
import { broadcastInDim, reshape, slice as slicePrim } from "../primitives/shape.js";
import { sort as sortPrim } from "../primitives/sort.js";
import { toTensor } from "./promote.js";
import { normAxes } from "./reductions.js";

function axisOf(where: string, x: Tensor, axis: number): number {
  return normAxes(where, axis, x.shape)[0];
}

/** The array flattened when axis is null (NumPy's convention), with the axis to work along. */
function along(where: string, x: TensorLike, axis: Axis | undefined, dflt: number | null): [Tensor, number] {
  let t = toTensor(x, `${where}: argument 0`);
  const a = axis === undefined ? dflt : axis;
  if (a === null) {
    t = reshape(t, [t.size]);
    return [t, 0];
  }
  if (Array.isArray(a)) throw new ShapeError(`${where}: axis must be a single integer or null, got ${JSON.stringify(a)}`);
  if (t.ndim === 0) throw new ShapeError(`${where}: needs an array of rank at least 1, got shape []`);
  return [t, axisOf(where, t, a)];
}

const positions = (t: Tensor, axis: number): Tensor => broadcastInDim(iota(t.shape[axis]), t.shape, [axis]);

/** Sorted along `axis` (default -1; null sorts the flattened array). NaN sorts last. */
export function sort(x: TensorLike, axis: number | null = -1): Tensor {
  const [t, ax] = along("np.sort", x, axis, -1);
  return sortPrim([t], ax)[0];
}

/** Indices that sort `x` along `axis`, stably (equal values keep their order), as int32. */
export function argsort(x: TensorLike, axis: number | null = -1): Tensor {
  const [t, ax] = along("np.argsort", x, axis, -1);
  return sortPrim([t, positions(t, ax)], ax)[1];
}

/** The k largest values along the last axis, largest first, and their indices (the lower index first among ties). */
export function topK(x: TensorLike, k: number): [Tensor, Tensor] {
  const t = toTensor(x, "lax.topK: operand");
  if (t.ndim === 0) throw new ShapeError("lax.topK: needs an array of rank at least 1, got shape []");
  const ax = t.ndim - 1, n = t.shape[ax];
  if (!Number.isInteger(k) || k < 0 || k > n) throw new JacobiError(`lax.topK: k must be an integer in [0, ${n}] for shape ${fmtShape(t.shape)}, got ${k}`);
  // Descending and stable: sort ascending by a key that reverses the order, -x for floats and ~x
  // (= -x - 1, which cannot overflow) for integers and bools.
  const key = isFloat(t.dtype) ? neg(t) : bind1(notP, [t]);
  const [, vals, idx] = sortPrim([key, t, positions(t, ax)], ax);
  const start = t.shape.map(() => 0), limit = [...t.shape];
  limit[ax] = k;
  return [slicePrim(vals, start, limit), slicePrim(idx, start, limit)];
}

const scanOptions = { reverse: boolean };

function sliceAxis(x: Tensor, axis: number, start: number, stop: number): Tensor {
  const s = x.shape.map(() => 0), l = [...x.shape];
  s[axis] = start, l[axis] = stop;
  return slicePrim(x, s, l);
}

type CumOpts = { reverse?: boolean };

/** NumPy's cumulative functions: bool and int32 inputs sum/multiply as int32, as NumPy on 32-bit ints. */
function cumulative(name: string, x: TensorLike, axis: number | null | undefined, opts: CumOpts | undefined, run: (t: Tensor, ax: number, reverse: boolean) => Tensor): Tensor {
  const { reverse = false } = checkOptions(`np.${name}`, opts, scanOptions);
  const [t, ax] = along(`np.${name}`, x, axis === undefined ? null : axis, null);
  const v = t.dtype === "bool" ? convertElementType(t, "int32") : t;
  return run(v, ax, reverse);
}

export const cumsum = (x: TensorLike, axis?: number | null, opts?: CumOpts): Tensor => cumulative("cumsum", x, axis, opts, (t, ax, r) => cumulativePrim("sum", t, ax, r));
export const cumprod = (x: TensorLike, axis?: number | null, opts?: CumOpts): Tensor => cumulative("cumprod", x, axis, opts, (t, ax, r) => cumulativePrim("prod", t, ax, r));
export const cummax = (x: TensorLike, axis?: number | null, opts?: CumOpts): Tensor => cumulative("cummax", x, axis, opts, (t, ax, r) => cumulativePrim("max", t, ax, r));
export const cummin = (x: TensorLike, axis?: number | null, opts?: CumOpts): Tensor => cumulative("cummin", x, axis, opts, (t, ax, r) => cumulativePrim("min", t, ax, r));

/** The n-th discrete difference along `axis` (default -1). */
export function diff(x: TensorLike, n = 1, axis = -1): Tensor {
  const t = toTensor(x, "np.diff: argument 0");
  if (t.ndim === 0) throw new ShapeError("np.diff: needs an array of rank at least 1, got shape []");
  if (!Number.isInteger(n) || n < 0) throw new JacobiError(`np.diff: order n must be a non-negative integer, got ${n}`);
  const ax = axisOf("np.diff", t, axis);
  let out = t.dtype === "bool" ? convertElementType(t, "int32") : t;
  for (let k = 0; k < n && out.shape[ax] > 0; k++) {
    const m = out.shape[ax];
    out = sub(sliceAxis(out, ax, 1, m), sliceAxis(out, ax, 0, m - 1));
  }
  return out;
}

/**
 * Where each value of `v` would be inserted into the sorted 1-D `a` to keep it sorted: the count of
 * elements below it (side "left") or not above it ("right"), as int32. A binary search, as JAX's
 * default method: ceil(log2(n + 1)) halvings, each one gather of `a` at every query's midpoint.
 * Not differentiable (its output is an integer).
 */
export function searchsorted(a: TensorLike, v: TensorLike, opts?: { side?: "left" | "right" }): Tensor {
  const { side = "left" } = checkOptions("np.searchsorted", opts, { side: oneOf("left", "right") });
  const s = toTensor(a, "np.searchsorted: a");
  let q = toTensor(v, "np.searchsorted: v");
  if (s.ndim !== 1) throw new ShapeError(`np.searchsorted: a must be 1-D, got shape ${fmtShape(s.shape)}`);
  if (q.dtype !== s.dtype) {
    if (!isFloat(s.dtype) && isFloat(q.dtype)) throw new DTypeError(`np.searchsorted: values of dtype ${q.dtype} in an array of dtype ${s.dtype}; convert one of them`);
    q = convertElementType(q, s.dtype, q.weakType);
  }
  const n = s.shape[0], shape = q.shape;
  const int = (c: number) => full(shape, c, "int32");
  let lo = int(0), hi = int(n);
  for (let step = 0; step < Math.ceil(Math.log2(n + 1)); step++) {
    const active = lt(lo, hi);
    const mid = bind1(shiftRightArithmeticP, [add(lo, hi), int(1)]);
    const at = gatherDynamic(s, reshape(mid, [...shape, 1]), { offsetDims: [], collapsedSliceDims: [0], startIndexMap: [0], sliceSizes: [1], mode: "clip", fillValue: 0 });
    const below = side === "left" ? lt(at, q) : le(at, q);
    lo = select(bind1(andP, [active, below]), add(mid, int(1)), lo);
    hi = select(bind1(andP, [active, bind1(notP, [below])]), mid, hi);
  }
  return lo;
}
