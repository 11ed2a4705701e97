// Buffers that creation functions fill: identity matrices, arithmetic progressions, and plain JS
// values packed into a typed array (bool stored as 0/1).
import { type DType, allocate } from "../core/dtype.js";
import { type Arr, readFlat, view } from "./ndarray-view.js";

/** [n, cols] with ones on diagonal `k` (k > 0 above the main diagonal). */
export function eyeArr(n: number, cols: number, k: number, dtype: DType): Arr {
  const data = allocate(dtype, n * cols, [n, cols]);
  for (let i = 0; i < n; i++) {
    const j = i + k;
    if (j >= 0 && j < cols) data[i * cols + j] = 1;
  }
  return view(data, [n, cols]);
}

/** start, start + step, ... (`count` values); `last`, when given, replaces the final value exactly. */
export function progressionArr(start: number, step: number, count: number, dtype: DType, last?: number): Arr {
  const data = allocate(dtype, count, [count]);
  for (let i = 0; i < count; i++) data[i] = start + i * step;
  if (last !== undefined && count > 1) data[count - 1] = last;
  return view(data, [count]);
}

/** Packs JS numbers and booleans (already validated) into a row-major array of `shape`. */
export function packValues(values: readonly (number | boolean)[], shape: readonly number[], dtype: DType): Arr {
  const out = allocate(dtype, values.length, shape);
  const isBool = dtype === "bool";
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = typeof v === "boolean" ? Number(v) : isBool ? Number(v !== 0) : v;
  }
  return view(out, shape);
}

/** True when every element of `a` (any strides) is zero. */
export function isAllZero(a: Arr): boolean {
  for (let i = 0; i < a.size; i++) if (readFlat(a, i) !== 0) return false;
  return true;
}
