// ndarray views over typed arrays and the layout operations the kernels share (stride tricks for
// transpose, slice and broadcast; row-major copies when a layout cannot be kept).
import ndarray from "ndarray";
// The type by name: the shipped .d.ts then needs no esModuleInterop in the consumer's tsconfig.
import type { NdArray } from "ndarray";
import { type DType, type TypedArray, allocate } from "../core/dtype.js";
import { codegen } from "./no-eval.js";
import { PlainNdarray } from "./plain-ndarray.js";
import { stridedAssign } from "./strided-assign.js";

export type Arr = NdArray<TypedArray>;

// ndarray's wrapper inspects the buffer's type on every call; for 0-d views (one per scalar
// operation) its class is taken once per buffer type and constructed directly.
const zeroDim = new Map<unknown, new (data: TypedArray, offset: number) => Arr>();

export function view(data: TypedArray, shape: readonly number[], stride?: readonly number[], offset = 0): Arr {
  // ndarray compiles its view classes with new Function: without code generation, plain views.
  if (!codegen.enabled) return new PlainNdarray(data, [...shape], stride ? [...stride] : rowMajorStrides(shape), offset) as unknown as Arr;
  if (shape.length === 0) {
    let C = zeroDim.get(data.constructor);
    if (C === undefined) {
      C = (ndarray(data, [], [], offset) as unknown as { constructor: new (data: TypedArray, offset: number) => Arr }).constructor;
      zeroDim.set(data.constructor, C);
    }
    return new C(data, offset);
  }
  const st = stride ? [...stride] : rowMajorStrides(shape);
  return ndarray(data, [...shape], st, offset) as Arr;
}

export function rowMajorStrides(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = s;
    s *= shape[i];
  }
  return st;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function empty(shape: readonly number[], dtype: DType): Arr {
  return view(allocate(dtype, sizeOf(shape), shape), shape);
}

/** A constant array with no per-element storage: one element seen through zero strides. */
export function filled(shape: readonly number[], value: number, dtype: DType): Arr {
  const data = allocate(dtype, 1);
  data[0] = value;
  return view(data, shape, shape.map(() => 0), 0);
}

/** True when every element of `a` is the one at its offset (a broadcast scalar or a `filled` constant). */
export function isSingleElement(a: Arr): boolean {
  for (let d = 0; d < a.shape.length; d++) if (a.stride[d] !== 0 && a.shape[d] !== 1) return false;
  return true;
}

export function isRowMajor(a: Arr): boolean {
  let s = 1;
  for (let i = a.shape.length - 1; i >= 0; i--) {
    if (a.shape[i] !== 1 && a.stride[i] !== s) return false;
    s *= a.shape[i];
  }
  return true;
}

/** A row-major array with the same elements; `a` itself when it already is one starting at 0. */
export function contiguous(a: Arr): Arr {
  if (isRowMajor(a) && a.offset === 0 && a.data.length === sizeOf(a.shape)) return a;
  const out = view(allocate(dtypeOf(a), sizeOf(a.shape)), a.shape);
  if (out.size > 0) {
    if (a.shape.length === 0) out.data[0] = a.data[a.offset];
    else stridedAssign(out, a);
  }
  return out;
}

/** The elements in row-major order as a fresh typed array (never aliasing `a`). */
export function toFlatCopy(a: Arr): TypedArray {
  const c = contiguous(a);
  return c === a ? a.data.slice() : c.data;
}

export function dtypeOf(a: Arr): DType {
  const d = a.data;
  if (d instanceof Float64Array) return "float64";
  if (d instanceof Float32Array) return "float32";
  if (d instanceof Int32Array) return "int32";
  if (d instanceof Uint32Array) return "uint32";
  return "bool";
}

/** Reads element `i` (row-major position) of any strided view. */
export function readFlat(a: Arr, i: number): number {
  let off = a.offset;
  for (let d = a.shape.length - 1; d >= 0; d--) {
    const n = a.shape[d];
    off += (i % n) * a.stride[d];
    i = Math.floor(i / n);
  }
  return a.data[off];
}

export function transposeView(a: Arr, perm: readonly number[]): Arr {
  return view(a.data, perm.map((p) => a.shape[p]), perm.map((p) => a.stride[p]), a.offset);
}

export function reshapeView(a: Arr, shape: readonly number[]): Arr {
  const c = isRowMajor(a) ? a : contiguous(a);
  return view(c.data, shape, rowMajorStrides(shape), c.offset);
}

/**
 * `a` with its axes permuted by `perm` and then merged into consecutive groups of `counts[g]`
 * axes each (an empty group becomes a size-1 axis). A stride change when every group is laid out
 * uniformly in memory (row-major, transposed, broadcast, or sliced along its outer axis), a
 * row-major copy otherwise.
 */
export function groupedView(a: Arr, perm: readonly number[], counts: readonly number[]): Arr {
  const shape: number[] = [];
  const stride: number[] = [];
  let at = 0;
  let ok = true;
  for (const count of counts) {
    let size = 1;
    let st = 0;
    // Walk the whole group from its innermost axis out (its size is needed by the copy too),
    // checking that each step is uniform.
    for (let g = count - 1; g >= 0; g--) {
      const d = perm[at + g];
      const n = a.shape[d];
      if (n === 1) continue;
      if (size === 1) st = a.stride[d];
      else if (a.stride[d] !== st * size) ok = false;
      size *= n;
    }
    shape.push(size);
    stride.push(st);
    at += count;
  }
  if (ok) return view(a.data, shape, stride, a.offset);
  return reshapeView(contiguous(transposeView(a, perm)), shape);
}

export function broadcastInDimView(a: Arr, shape: readonly number[], dims: readonly number[]): Arr {
  const stride = shape.map(() => 0);
  dims.forEach((od, i) => {
    stride[od] = a.shape[i] === 1 && shape[od] !== 1 ? 0 : a.stride[i];
  });
  return view(a.data, shape, stride, a.offset);
}

export function sliceView(a: Arr, start: readonly number[], limit: readonly number[], steps: readonly number[]): Arr {
  let off = a.offset;
  const shape: number[] = [];
  const stride: number[] = [];
  for (let d = 0; d < a.shape.length; d++) {
    const st = steps[d];
    off += start[d] * a.stride[d];
    shape.push(Math.max(0, Math.ceil((limit[d] - start[d]) / st)));
    stride.push(a.stride[d] * st);
  }
  return view(a.data, shape, stride, off);
}

/** Writes `src` into the region of `dst` that `dstView` selects (both the same shape). */
export function assignInto(dstView: Arr, src: Arr): void {
  if (dstView.size === 0) return;
  if (dstView.shape.length === 0) dstView.data[dstView.offset] = src.data[src.offset];
  else stridedAssign(dstView, src);
}
