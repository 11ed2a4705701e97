// Running sums, products, maxima and minima along one axis (forward or reversed), in one pass over
// a strided view: the operand is seen as [outer, axis, inner] and each (outer, inner) line is
// accumulated in a local. One loop per kind, so no closure runs per element.
import { type DType, allocate } from "../core/dtype.js";
import { type Arr, groupedView, sizeOf, view } from "./ndarray-view.js";

export type CumulativeKind = "sum" | "prod" | "max" | "min";

export function cumulative(a: Arr, axis: number, reverse: boolean, kind: CumulativeKind, dtype: DType): Arr {
  const shape = a.shape;
  const out = allocate(dtype, sizeOf(shape), shape);
  if (out.length === 0) return view(out, shape);
  const g = groupedView(a, shape.map((_, d) => d), [axis, 1, shape.length - axis - 1]);
  const [outer, n, inner] = g.shape;
  const [so, sk, si] = g.stride;
  const d = g.data;
  // Integer products wrap modulo 2^32 as XLA's (a float product of two int32 would round).
  const intProduct = kind === "prod" && dtype !== "float64" && dtype !== "float32";
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const src = g.offset + o * so + i * si, dst = o * n * inner + i;
      // Position c of the scan is element k = c (or n - 1 - c reversed) of the line.
      const first = reverse ? n - 1 : 0, dk = reverse ? -1 : 1;
      let acc = kind === "sum" ? 0 : d[src + first * sk];
      if (kind !== "sum") out[dst + first * inner] = acc;
      const c0 = kind === "sum" ? 0 : 1;
      switch (kind) {
        case "sum":
          for (let c = c0, k = first; c < n; c++, k += dk) out[dst + k * inner] = acc += d[src + k * sk];
          break;
        case "prod":
          if (intProduct) for (let c = c0, k = first + dk; c < n; c++, k += dk) out[dst + k * inner] = acc = Math.imul(acc, d[src + k * sk]);
          else for (let c = c0, k = first + dk; c < n; c++, k += dk) out[dst + k * inner] = acc *= d[src + k * sk];
          break;
        case "max":
          for (let c = c0, k = first + dk; c < n; c++, k += dk) out[dst + k * inner] = acc = Math.max(acc, d[src + k * sk]);
          break;
        case "min":
          for (let c = c0, k = first + dk; c < n; c++, k += dk) out[dst + k * inner] = acc = Math.min(acc, d[src + k * sk]);
          break;
      }
    }
  }
  return view(out, shape);
}
