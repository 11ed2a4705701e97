// Axis reductions: the reduced axes are moved last by a stride permutation (no copy), then each
// output element folds its block with a generated loop.
import { type DType, type TypedArray, allocate } from "../core/dtype.js";
import { type Arr, sizeOf, transposeView, view } from "./ndarray-view.js";

export type ReduceKind = "sum" | "max" | "min" | "prod" | "argmax" | "argmin";

const INIT: Record<ReduceKind, string> = {
  sum: "0",
  prod: "1",
  max: "-Infinity",
  min: "Infinity",
  argmax: "-Infinity",
  argmin: "Infinity",
};
// NaN wins max/min (it propagates, as in NumPy); the first NaN or extreme wins argmax/argmin.
const STEP: Record<ReduceKind, string> = {
  sum: "acc += x;",
  prod: "acc *= x;",
  max: "if (x !== x) { acc = x; break; } if (x > acc) acc = x;",
  min: "if (x !== x) { acc = x; break; } if (x < acc) acc = x;",
  argmax: "if (x !== x) { best = k; break; } if (x > acc || k === 0) { acc = x; best = k; }",
  argmin: "if (x !== x) { best = k; break; } if (x < acc || k === 0) { acc = x; best = k; }",
};

type RKernel = (data: TypedArray, off: number, outShape: number[], outStr: number[], inShape: number[], inStr: number[], out: TypedArray) => void;
const cache = new Map<ReduceKind, RKernel>();

function compile(kind: ReduceKind): RKernel {
  let k = cache.get(kind);
  if (k) return k;
  const arg = kind === "argmax" || kind === "argmin";
  const src = `
    const no = outShape.length, ni = inShape.length;
    const n = out.length;
    let inner = 1; for (const d of inShape) inner *= d;
    const oidx = new Int32Array(no), iidx = new Int32Array(ni);
    let base = off;
    for (let o = 0; o < n; o++) {
      let acc = ${INIT[kind]}; let best = 0; let p = base;
      iidx.fill(0);
      for (let k = 0; k < inner; k++) {
        const x = data[p];
        ${STEP[kind]}
        for (let d = ni - 1; d >= 0; d--) {
          iidx[d]++; p += inStr[d];
          if (iidx[d] < inShape[d]) break;
          p -= inStr[d] * inShape[d]; iidx[d] = 0;
        }
      }
      out[o] = ${arg ? "best" : "acc"};
      for (let d = no - 1; d >= 0; d--) {
        oidx[d]++; base += outStr[d];
        if (oidx[d] < outShape[d]) break;
        base -= outStr[d] * outShape[d]; oidx[d] = 0;
      }
    }`;
  k = new Function("data", "off", "outShape", "outStr", "inShape", "inStr", "out", src) as RKernel;
  cache.set(kind, k);
  return k;
}

/** Reduces `a` over `axes` (sorted, distinct) into a row-major array of the kept axes. */
export function reduce(kind: ReduceKind, a: Arr, axes: readonly number[], dtype: DType): Arr {
  const kept = a.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const t = transposeView(a, [...kept, ...axes]);
  const nk = kept.length;
  const outShape = t.shape.slice(0, nk);
  const out = allocate(dtype, sizeOf(outShape));
  if (out.length > 0) {
    const inShape = t.shape.slice(nk);
    const inStr = t.stride.slice(nk);
    // A contiguous reduced block folds as one flat run.
    let flat = inShape.length > 1;
    let s = inStr[inStr.length - 1];
    for (let d = inShape.length - 1; d >= 0 && flat; d--) {
      if (inStr[d] !== s) flat = false;
      s *= inShape[d];
    }
    const [ish, ist] = flat ? [[sizeOf(inShape)], [inStr[inStr.length - 1]]] : [inShape, inStr];
    compile(kind)(t.data, t.offset, outShape, t.stride.slice(0, nk), ish, ist, out);
  }
  return view(out, outShape);
}
