// Running sums along one axis (forward or reversed), in one pass over a strided view: the operand
// is seen as [outer, axis, inner] and each (outer, inner) line is accumulated in a local.
import { type DType, allocate } from "../core/dtype.js";
import { type Arr, groupedView, sizeOf, view } from "./ndarray-view.js";

export function cumsum(a: Arr, axis: number, reverse: boolean, dtype: DType): Arr {
  const shape = a.shape;
  const out = allocate(dtype, sizeOf(shape), shape);
  if (out.length === 0) return view(out, shape);
  const g = groupedView(a, shape.map((_, d) => d), [axis, 1, shape.length - axis - 1]);
  const [outer, n, inner] = g.shape;
  const [so, sk, si] = g.stride;
  const d = g.data;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let acc = 0;
      const src = g.offset + o * so + i * si, dst = o * n * inner + i;
      if (reverse) {
        for (let k = n - 1; k >= 0; k--) out[dst + k * inner] = acc += d[src + k * sk];
      } else {
        for (let k = 0; k < n; k++) out[dst + k * inner] = acc += d[src + k * sk];
      }
    }
  }
  return view(out, shape);
}
