// Axis reductions. sum/prod/max/min walk the input once in memory order (innermost loop along
// the smallest stride) and fold into the output: a reduced axis that is innermost accumulates in
// a register, a kept axis that is innermost updates a contiguous row of the output, so reducing a
// leading axis (as vmap and broadcast transposes do) never walks a column. argmax/argmin fold
// each output's block in index order, since "first occurrence" is defined by index.
import { type DType, type TypedArray, allocate } from "../core/dtype.js";
import { type Arr, sizeOf, transposeView, view } from "./ndarray-view.js";
import { codegen, interpretedArg, interpretedFold } from "./no-eval.js";

export type ReduceKind = "sum" | "max" | "min" | "prod" | "argmax" | "argmin";
export type FoldKind = "sum" | "max" | "min" | "prod";
/** A fold's statement: a kind, with integer products told apart (they wrap at every step). */
export type FoldStep = FoldKind | "iprod" | "uprod";

export const INIT: Record<ReduceKind | FoldStep, number> = {
  sum: 0,
  prod: 1,
  iprod: 1,
  uprod: 1,
  max: -Infinity,
  min: Infinity,
  argmax: -Infinity,
  argmin: Infinity,
};
// NaN wins max/min (it propagates, as in NumPy): once the accumulator is NaN no comparison moves it.
// Fused loops (fusion.ts) fold with the same statements, so their results are the same bits.
export const FOLD: Record<FoldStep, string> = {
  sum: "acc += x;",
  prod: "acc *= x;",
  // Integer products wrap modulo 2^32 at every step, as NumPy's: exact at any length (a float64
  // running product loses the low bits once it passes 2^53).
  iprod: "acc = Math.imul(acc, x);",
  uprod: "acc = Math.imul(acc, x) >>> 0;",
  max: "if (x > acc || x !== x) acc = x;",
  min: "if (x < acc || x !== x) acc = x;",
};

/**
 * Folds `data` into `out` over an iteration space of `n.length` dims (outermost first); `si` and
 * `so` are the input and output strides of each dim (`so` is 0 along reduced dims).
 */
type FoldKernel = (data: TypedArray, off: number, n: number[], si: number[], so: number[], out: TypedArray) => void;
const foldCache = new Map<FoldStep, FoldKernel>();

function compileFold(kind: FoldStep): FoldKernel {
  if (!codegen.enabled) return interpretedFold(kind);
  let k = foldCache.get(kind);
  if (k) return k;
  const src = `
    const nd = n.length, last = nd - 1;
    const L = n[last], s = si[last], t = so[last];
    let outer = 1;
    for (let d = 0; d < last; d++) outer *= n[d];
    const idx = new Int32Array(nd);
    let pi = off, po = 0;
    for (let o = 0; o < outer; o++) {
      if (t === 0) {
        let acc = out[po], p = pi;
        for (let j = 0; j < L; j++, p += s) { const x = data[p]; ${FOLD[kind]} }
        out[po] = acc;
      } else {
        for (let j = 0, p = pi, q = po; j < L; j++, p += s, q += t) { let acc = out[q]; const x = data[p]; ${FOLD[kind]} out[q] = acc; }
      }
      for (let d = last - 1; d >= 0; d--) {
        idx[d]++; pi += si[d]; po += so[d];
        if (idx[d] < n[d]) break;
        pi -= si[d] * n[d]; po -= so[d] * n[d]; idx[d] = 0;
      }
    }`;
  k = new Function("data", "off", "n", "si", "so", "out", src) as FoldKernel;
  foldCache.set(kind, k);
  return k;
}

function fold(kind: FoldStep, a: Arr, axes: readonly number[], out: Float64Array): void {
  // Output strides (row-major over the kept axes; 0 along reduced axes).
  const so = new Array<number>(a.shape.length).fill(0);
  let s = 1;
  for (let d = a.shape.length - 1; d >= 0; d--) {
    if (axes.includes(d)) continue;
    so[d] = s;
    s *= a.shape[d];
  }
  // Innermost = smallest input stride; on ties a reduced axis goes inner (register accumulation).
  const dims = a.shape.map((_, d) => d).filter((d) => a.shape[d] !== 1);
  dims.sort((x, y) => Math.abs(a.stride[y]) - Math.abs(a.stride[x]) || so[y] - so[x]);
  const n: number[] = [], si: number[] = [], sO: number[] = [];
  for (const d of dims) {
    const k = n.length - 1;
    // Merge with the previous (outer) dim when both strides continue it.
    if (k >= 0 && si[k] === a.stride[d] * a.shape[d] && sO[k] === so[d] * a.shape[d]) {
      n[k] *= a.shape[d];
      si[k] = a.stride[d];
      sO[k] = so[d];
    } else {
      n.push(a.shape[d]);
      si.push(a.stride[d]);
      sO.push(so[d]);
    }
  }
  if (n.length === 0) {
    n.push(1);
    si.push(0);
    sO.push(0);
  }
  compileFold(kind)(a.data, a.offset, n, si, sO, out);
}

type ArgKernel = (data: TypedArray, off: number, outShape: number[], outStr: number[], len: number, step: number, out: TypedArray) => void;
const argCache = new Map<"argmax" | "argmin", ArgKernel>();

function compileArg(kind: "argmax" | "argmin"): ArgKernel {
  if (!codegen.enabled) return interpretedArg(kind);
  let k = argCache.get(kind);
  if (k) return k;
  const cmp = kind === "argmax" ? ">" : "<";
  // The first NaN wins, else the first extreme.
  const src = `
    const no = outShape.length, n = out.length;
    const oidx = new Int32Array(no);
    let base = off;
    for (let o = 0; o < n; o++) {
      let acc = ${INIT[kind]}, best = 0;
      for (let j = 0, p = base; j < len; j++, p += step) {
        const x = data[p];
        if (x !== x) { best = j; break; }
        if (x ${cmp} acc || j === 0) { acc = x; best = j; }
      }
      out[o] = best;
      for (let d = no - 1; d >= 0; d--) {
        oidx[d]++; base += outStr[d];
        if (oidx[d] < outShape[d]) break;
        base -= outStr[d] * outShape[d]; oidx[d] = 0;
      }
    }`;
  k = new Function("data", "off", "outShape", "outStr", "len", "step", "out", src) as ArgKernel;
  argCache.set(kind, k);
  return k;
}

/** The fold that computes `kind` into a `dtype` result (products of integers wrap at every step). */
export const foldKindFor = (kind: FoldKind, dtype: DType): FoldStep =>
  kind !== "prod" ? kind : dtype === "int32" ? "iprod" : dtype === "uint32" ? "uprod" : kind;

/** Reduces `a` over `axes` (sorted, distinct) into a row-major array of the kept axes. */
export function reduce(kind: ReduceKind, a: Arr, axes: readonly number[], dtype: DType): Arr {
  const kept = a.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const outShape = kept.map((d) => a.shape[d]);
  const out = allocate(dtype, sizeOf(outShape));
  if (out.length === 0) return view(out, outShape);
  if (kind === "argmax" || kind === "argmin") {
    // argmax/argmin reduce exactly one axis.
    const t = transposeView(a, [...kept, ...axes]);
    const nk = kept.length;
    compileArg(kind)(t.data, t.offset, outShape, t.stride.slice(0, nk), sizeOf(t.shape.slice(nk)), t.stride[nk] ?? 0, out);
    return view(out, outShape);
  }
  // Partial results live in float64 (an int32 or bool buffer cannot hold ±Infinity, and float32
  // sums round once at the end), then convert to the output dtype.
  const acc = out instanceof Float64Array ? out : new Float64Array(out.length);
  const init = INIT[kind];
  if (init !== 0) acc.fill(init);
  if (sizeOf(a.shape) > 0) fold(foldKindFor(kind, dtype), a, axes, acc);
  if (acc !== out) for (let i = 0; i < out.length; i++) out[i] = acc[i];
  return view(out, outShape);
}
