// Indexing along one axis with static indices: gather (take) and its transpose, scatter-add.
import type { DType } from "../core/dtype.js";
import { type Arr, assignInto, empty, sliceView, view } from "./ndarray-view.js";
import { mapN } from "./elementwise.js";

function axisSlice(a: Arr, axis: number, i: number): Arr {
  const start = a.shape.map((_, d) => (d === axis ? i : 0));
  const limit = a.shape.map((n, d) => (d === axis ? i + 1 : n));
  return sliceView(a, start, limit, a.shape.map(() => 1));
}

export function gather(a: Arr, indices: readonly number[], axis: number, dtype: DType): Arr {
  const shape = [...a.shape];
  shape[axis] = indices.length;
  const out = empty(shape, dtype);
  indices.forEach((idx, k) => assignInto(axisSlice(out, axis, k), axisSlice(a, axis, idx)));
  return out;
}

/** out[..., indices[k], ...] += a[..., k, ...]: repeated indices accumulate. */
export function scatterAdd(a: Arr, indices: readonly number[], axis: number, size: number, dtype: DType): Arr {
  const shape = [...a.shape];
  shape[axis] = size;
  const out = empty(shape, dtype);
  indices.forEach((idx, k) => {
    const dst = axisSlice(out, axis, idx);
    const sum = mapN("x0 + x1", [dst, axisSlice(a, axis, k)], dtype);
    assignInto(dst, sum);
  });
  return view(out.data, out.shape);
}
