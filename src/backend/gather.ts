// Indexing along one axis with static indices: gather (take) and its transpose, scatter-add.
// Both see the operand as [outer, axis, inner] (a stride change when its layout allows, else one
// row-major copy) and run one flat loop: no view or buffer per index, which made a take of 10^5
// scalars allocate 10^5 views.
import { type DType, allocate } from "../core/dtype.js";
import { type Arr, groupedView, sizeOf, view } from "./ndarray-view.js";

/** `a` as [prod(dims before axis), a.shape[axis], prod(dims after axis)]. */
function aroundAxis(a: Arr, axis: number): Arr {
  const nd = a.shape.length;
  return groupedView(a, a.shape.map((_, d) => d), [axis, 1, nd - axis - 1]);
}

export function gather(a: Arr, indices: readonly number[], axis: number, dtype: DType): Arr {
  const shape = [...a.shape];
  shape[axis] = indices.length;
  const out = allocate(dtype, sizeOf(shape), shape);
  if (out.length === 0) return view(out, shape);
  const g = aroundAxis(a, axis);
  const [outer, , inner] = g.shape;
  const [so, sk, si] = g.stride;
  const d = g.data, K = indices.length;
  let q = 0;
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < K; k++) {
      let p = g.offset + o * so + indices[k] * sk;
      for (let i = 0; i < inner; i++, p += si) out[q++] = d[p];
    }
  }
  return view(out, shape);
}

/** out[..., indices[k], ...] += a[..., k, ...]: repeated indices accumulate. */
export function scatterAdd(a: Arr, indices: readonly number[], axis: number, size: number, dtype: DType): Arr {
  const shape = [...a.shape];
  shape[axis] = size;
  const out = allocate(dtype, sizeOf(shape), shape);
  if (out.length === 0 || a.size === 0) return view(out, shape);
  const g = aroundAxis(a, axis);
  const [outer, K, inner] = g.shape;
  const [so, sk, si] = g.stride;
  const d = g.data;
  // A bool buffer holds only 0 and 1: accumulating there is a logical or.
  const isBool = dtype === "bool";
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < K; k++) {
      let p = g.offset + o * so + k * sk;
      let q = (o * size + indices[k]) * inner;
      for (let i = 0; i < inner; i++, p += si, q++) out[q] = isBool ? (out[q] + d[p] !== 0 ? 1 : 0) : out[q] + d[p];
    }
  }
  return view(out, shape);
}
