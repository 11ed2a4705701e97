// lax's dynamic slicing on the gather and scatter primitives: the starts may be traced (jit, vmap,
// scan bodies). As JAX's, negative starts count from the end and every start is then clamped so
// that the window fits inside the operand.
import { asTensor } from "../core/convert.js";
import { JacobiError, ShapeError, fmtShape } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import type { Fixed, Output, TensorTree } from "../core/tree.js";
import { bind1 } from "../core/trace.js";
import { checkOptions, boolean } from "../core/validate.js";
import { convertElementType } from "../primitives/elementwise.js";
import { gatherDynamic } from "../primitives/gather.js";
import { scatterP } from "../primitives/scatter.js";
import { concatenate, reshape, squeeze } from "../primitives/shape.js";
import { indexTensor } from "../numpy/indexing.js";
import { associativeScan, topK } from "../numpy/sorting.js";
import { add, lt, select } from "../primitives/elementwise.js";
import { full } from "../primitives/util.js";

/** The starts as one int32 index vector of length `rank`, negative ones wrapped. */
function startVector(where: string, starts: TensorLike | readonly TensorLike[], shape: readonly number[]): Tensor {
  const parts = Array.isArray(starts) ? starts.map((s, d) => indexTensor(s, `${where}: start ${d}`)) : [indexTensor(starts as TensorLike, `${where}: starts`)];
  const flat = parts.map((p) => {
    if (p.ndim > 1 || (Array.isArray(starts) && p.ndim !== 0)) throw new ShapeError(`${where}: each start must be a scalar, got shape ${fmtShape(p.shape)}`);
    return reshape(p, [p.size]);
  });
  const v = flat.length === 1 ? flat[0] : concatenate(flat, 0);
  if (v.shape[0] !== shape.length) throw new ShapeError(`${where}: ${v.shape[0]} start indices for an operand of shape ${fmtShape(shape)}`);
  const dims = asTensor(Int32Array.from(shape), where);
  return select(lt(v, full(v.shape, 0, "int32")), add(v, dims), v);
}

/** x[starts[0] : starts[0] + sizes[0], ...], starts clamped into range. */
export function dynamicSlice(x: TensorLike, starts: TensorLike | readonly TensorLike[], sizes: readonly number[]): Tensor {
  const t = asTensor(x, "lax.dynamicSlice: operand");
  if (!Array.isArray(sizes) || sizes.length !== t.ndim || sizes.some((s, d) => !Number.isInteger(s) || s < 0 || s > t.shape[d])) {
    throw new ShapeError(`lax.dynamicSlice: slice sizes ${JSON.stringify(sizes)} do not fit an operand of shape ${fmtShape(t.shape)}`);
  }
  const i = startVector("lax.dynamicSlice", starts, t.shape);
  const all = t.shape.map((_, d) => d);
  return gatherDynamic(t, i, { offsetDims: all, collapsedSliceDims: [], startIndexMap: all, sliceSizes: [...sizes], mode: "clip", fillValue: 0 });
}

/** x with `update` written at `starts` (clamped so that it fits). */
export function dynamicUpdateSlice(x: TensorLike, update: TensorLike, starts: TensorLike | readonly TensorLike[]): Tensor {
  const t = asTensor(x, "lax.dynamicUpdateSlice: operand");
  let u = asTensor(update, "lax.dynamicUpdateSlice: update");
  if (u.ndim !== t.ndim || u.shape.some((s, d) => s > t.shape[d])) {
    throw new ShapeError(`lax.dynamicUpdateSlice: an update of shape ${fmtShape(u.shape)} does not fit an operand of shape ${fmtShape(t.shape)}`);
  }
  if (u.dtype !== t.dtype) u = convertElementType(u, t.dtype, u.weakType);
  const i = startVector("lax.dynamicUpdateSlice", starts, t.shape);
  const all = t.shape.map((_, d) => d);
  return bind1(scatterP, [t, i, u], { updateWindowDims: all, insertedWindowDims: [], scatterDimsToOperandDims: all, mode: "clip" });
}

/** The index `i` along `axis` (kept as an axis of size 1 unless keepdims is false). */
export function dynamicIndexInDim(x: TensorLike, i: TensorLike, axis = 0, opts?: { keepdims?: boolean }): Tensor {
  const { keepdims = true } = checkOptions("lax.dynamicIndexInDim", opts, { keepdims: boolean });
  const t = asTensor(x, "lax.dynamicIndexInDim: operand");
  if (!Number.isInteger(axis) || axis < -t.ndim || axis >= t.ndim) throw new ShapeError(`lax.dynamicIndexInDim: axis ${axis} is out of bounds for shape ${fmtShape(t.shape)}`);
  const ax = axis < 0 ? axis + t.ndim : axis;
  const starts = t.shape.map((_, d): TensorLike => (d === ax ? i : 0));
  const out = dynamicSlice(t, starts, t.shape.map((s, d) => (d === ax ? 1 : s)));
  return keepdims ? out : squeeze(out, [ax]);
}

/**
 * JAX's lax.map(f, xs): f applied to each slice of xs along its leading axis, sequentially (a scan
 * with no carry), the results stacked. `scan` is lax.scan, passed in by lax.ts.
 */
export function laxMap(scan: (f: (c: Tensor, x: any) => [Tensor, unknown], init: Tensor, xs: any) => [Tensor, any]) {
  // Typed as the other lax loops: f gets one slice of xs (Tensor leaves); the results stack into Tensors.
  return <X extends Output, Y extends Output>(f: (x: Fixed<TensorTree<X>>) => Y, xs: X): TensorTree<Y> => {
    if (typeof f !== "function") throw new JacobiError("lax.map: f must be a function");
    return scan((c, x) => [c, f(x)], full([], 0, "int32"), xs)[1];
  };
}

export const laxIndexing = { dynamicSlice, dynamicUpdateSlice, dynamicIndexInDim, topK, associativeScan };
