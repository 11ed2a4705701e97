// reduce_window and the two kernels of its max's derivative: each output element folds one window
// of the (padded, dilated) operand, read through the offset table windowOffsets builds once.
import { type DType, allocate } from "../core/dtype.js";
import { type WindowPlacement, windowOffsets } from "./conv.js";
import { type Arr, contiguous, rowMajorStrides, sizeOf, view } from "./ndarray-view.js";

export interface WindowGeometry extends WindowPlacement {
  window: readonly number[];
}

/** The identity of max for a dtype: what padding reads as. */
export function maxIdentity(dtype: DType): number {
  return dtype === "float64" || dtype === "float32" ? -Infinity : dtype === "int32" ? -2147483648 : 0;
}

/** Sum or max over each window; padding contributes the identity (0, or maxIdentity). */
export function reduceWindow(kind: "sum" | "max", x: Arr, g: WindowGeometry, outShape: readonly number[], dtype: DType): Arr {
  const offs = windowOffsets(x.shape, x.stride, g.window, outShape, g);
  const K = sizeOf(g.window), P = sizeOf(outShape);
  const acc = new Float64Array(P).fill(kind === "sum" ? 0 : maxIdentity(dtype));
  const src = x.data, base = x.offset;
  for (let k = 0; k < K; k++) {
    const ko = k * P;
    if (kind === "sum") {
      for (let p = 0; p < P; p++) {
        const o = offs[ko + p];
        if (o >= 0) acc[p] += src[base + o];
      }
    } else {
      for (let p = 0; p < P; p++) {
        const o = offs[ko + p];
        // NaN propagates, as XLA's max.
        if (o >= 0) {
          const v = src[base + o];
          if (v > acc[p] || v !== v) acc[p] = v;
        }
      }
    }
  }
  if (dtype === "float64") return view(acc, outShape);
  const out = allocate(dtype, P);
  for (let p = 0; p < P; p++) out[p] = acc[p];
  return view(out, outShape);
}

/**
 * For each window of `x`: the row-major offset of its first largest element, or -1 for a window
 * lying wholly in padding. `x` must be row-major.
 */
function windowArgmax(x: Arr, g: WindowGeometry, outShape: readonly number[]): Int32Array {
  const offs = windowOffsets(x.shape, rowMajorStrides(x.shape), g.window, outShape, g);
  const K = sizeOf(g.window), P = sizeOf(outShape);
  const best = new Int32Array(P).fill(-1);
  const src = x.data, base = x.offset;
  for (let k = 0; k < K; k++) {
    const ko = k * P;
    for (let p = 0; p < P; p++) {
      const o = offs[ko + p];
      if (o < 0) continue;
      const b = best[p];
      if (b < 0 || src[base + o] > src[base + b]) best[p] = o;
    }
  }
  return best;
}

/** out[p] = t at the position of window p's maximum of x (t and x of one shape): max's tangent. */
export function selectAndGatherAdd(t: Arr, x: Arr, g: WindowGeometry, outShape: readonly number[], dtype: DType): Arr {
  const best = windowArgmax(contiguous(x), g, outShape);
  const tc = contiguous(t);
  const out = allocate(dtype, best.length);
  for (let p = 0; p < best.length; p++) if (best[p] >= 0) out[p] = tc.data[tc.offset + best[p]];
  return view(out, outShape);
}

/** The transpose of selectAndGatherAdd: ct[p] added at the position of window p's maximum of x. */
export function selectAndScatterAdd(ct: Arr, x: Arr, g: WindowGeometry, outShape: readonly number[], dtype: DType): Arr {
  const best = windowArgmax(contiguous(x), g, ct.shape);
  const c = contiguous(ct);
  const out = allocate(dtype, sizeOf(outShape));
  for (let p = 0; p < best.length; p++) if (best[p] >= 0) out[best[p]] += c.data[c.offset + p];
  return view(out, outShape);
}
