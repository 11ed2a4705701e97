// XLA's gather and scatter on strided buffers, with the index vector along the last axis of the
// indices. Each kernel precomputes the flat offsets of one window (in the operand, the updates and
// the output) and of every batch position once, then runs plain loops over typed arrays: no view
// or closure per index, so an embedding lookup of 10^5 rows allocates nothing per row.
import { type DType, allocate } from "../core/dtype.js";
import { type Arr, contiguous, rowMajorStrides, sizeOf, toFlatCopy, view } from "./ndarray-view.js";

/** Out-of-range starts: "clip" clamps the window into the operand, "fill" fills (gather) or drops (scatter) it. */
export type IndexMode = "clip" | "fill";

export type GatherDims = {
  offsetDims: readonly number[];
  collapsedSliceDims: readonly number[];
  startIndexMap: readonly number[];
};

export type ScatterDims = {
  updateWindowDims: readonly number[];
  insertedWindowDims: readonly number[];
  scatterDimsToOperandDims: readonly number[];
};

export type ScatterKind = "add" | "set" | "mul" | "min" | "max";

/** sum_d i_d * strides[d] for every multi-index i of `sizes`, in row-major order. */
function offsetsOf(sizes: readonly number[], strides: readonly number[]): Float64Array {
  const n = sizeOf(sizes);
  const out = new Float64Array(n);
  const nd = sizes.length;
  const idx = new Array<number>(nd).fill(0);
  let off = 0;
  for (let k = 0; k < n; k++) {
    out[k] = off;
    for (let d = nd - 1; d >= 0; d--) {
      if (++idx[d] < sizes[d]) {
        off += strides[d];
        break;
      }
      off -= (sizes[d] - 1) * strides[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** The indices as one flat row-major buffer, with its batch shape (every axis but the last). */
function flatIndices(indices: Arr): { data: ArrayLike<number>; offset: number; batch: number[]; k: number } {
  const c = contiguous(indices);
  const k = indices.shape[indices.shape.length - 1];
  return { data: c.data, offset: c.offset, batch: indices.shape.slice(0, -1), k };
}

/**
 * Window starts along each operand axis for batch position b (read from the indices through
 * `map`); null when the window leaves the operand and `mode` is "fill".
 */
function startOffset(
  idx: ArrayLike<number>,
  at: number,
  map: readonly number[],
  shape: readonly number[],
  window: readonly number[],
  strides: readonly number[],
  mode: IndexMode,
): number | null {
  let off = 0;
  for (let j = 0; j < map.length; j++) {
    const d = map[j], hi = shape[d] - window[d];
    let s = idx[at + j];
    if (s < 0 || s > hi) {
      if (mode === "fill") return null;
      s = s < 0 ? 0 : hi;
    }
    off += s * strides[d];
  }
  return off;
}

export function gather(operand: Arr, indices: Arr, dims: GatherDims, sliceSizes: readonly number[], mode: IndexMode, fillValue: number, outShape: readonly number[], dtype: DType): Arr {
  const out = allocate(dtype, sizeOf(outShape), outShape);
  if (out.length === 0) return view(out, outShape);
  const { data: idx, offset: io, batch, k } = flatIndices(indices);
  const outStrides = rowMajorStrides(outShape);
  const batchPos = outShape.map((_, i) => i).filter((i) => !dims.offsetDims.includes(i));
  const batchOut = offsetsOf(batch, batchPos.map((p) => outStrides[p]));
  // Window axis d of the operand lands on output axis offsetDims[j] (j counts uncollapsed axes).
  const winOutStrides: number[] = [];
  let j = 0;
  for (let d = 0; d < sliceSizes.length; d++) winOutStrides.push(dims.collapsedSliceDims.includes(d) ? 0 : outStrides[dims.offsetDims[j++]]);
  // Rows of the window contiguous in both operand and output (an embedding row) are copied whole.
  const last = sliceSizes.length - 1;
  const run = last >= 0 && operand.stride[last] === 1 && winOutStrides[last] === 1 ? sliceSizes[last] : 1;
  const rowSizes = run > 1 ? sliceSizes.map((s, d) => (d === last ? 1 : s)) : sliceSizes;
  const winOp = offsetsOf(rowSizes, operand.stride);
  const winOut = offsetsOf(rowSizes, winOutStrides);
  const src = operand.data, W = winOp.length;
  for (let b = 0; b < batchOut.length; b++) {
    const start = startOffset(idx, io + b * k, dims.startIndexMap, operand.shape, sliceSizes, operand.stride, mode);
    const ob = batchOut[b];
    if (start === null) {
      for (let w = 0; w < W; w++) out.fill(fillValue, ob + winOut[w], ob + winOut[w] + run);
    } else if (run > 1) {
      const base = operand.offset + start;
      for (let w = 0; w < W; w++) out.set(src.subarray(base + winOp[w], base + winOp[w] + run), ob + winOut[w]);
    } else {
      const base = operand.offset + start;
      for (let w = 0; w < W; w++) out[ob + winOut[w]] = src[base + winOp[w]];
    }
  }
  return view(out, outShape);
}

/** The operand with each update window combined in (`kind`), in order: with "set", the last write wins. */
export function scatter(operand: Arr, indices: Arr, updates: Arr, dims: ScatterDims, mode: IndexMode, kind: ScatterKind, dtype: DType): Arr {
  const shape = operand.shape;
  const out = toFlatCopy(operand);
  if (out.length === 0 || updates.size === 0) return view(out, shape);
  const { data: idx, offset: io, batch, k } = flatIndices(indices);
  const outStrides = rowMajorStrides(shape);
  const window: number[] = [];
  const winUpdStrides: number[] = [];
  let j = 0;
  for (let d = 0; d < shape.length; d++) {
    if (dims.insertedWindowDims.includes(d)) {
      window.push(1), winUpdStrides.push(0);
    } else {
      const u = dims.updateWindowDims[j++];
      window.push(updates.shape[u]), winUpdStrides.push(updates.stride[u]);
    }
  }
  const scatterAxes = updates.shape.map((_, i) => i).filter((i) => !dims.updateWindowDims.includes(i));
  const batchUpd = offsetsOf(batch, scatterAxes.map((a) => updates.stride[a]));
  const winUpd = offsetsOf(window, winUpdStrides);
  const winOut = offsetsOf(window, outStrides);
  const u = updates.data, W = winOut.length;
  const isBool = dtype === "bool", isInt = dtype === "int32" || dtype === "uint32";
  for (let b = 0; b < batchUpd.length; b++) {
    const start = startOffset(idx, io + b * k, dims.scatterDimsToOperandDims, shape, window, outStrides, mode);
    if (start === null) continue;
    const ub = updates.offset + batchUpd[b];
    switch (kind) {
      case "set":
        for (let w = 0; w < W; w++) out[start + winOut[w]] = u[ub + winUpd[w]];
        break;
      case "add":
        // A bool buffer holds only 0 and 1: accumulating there is a logical or.
        if (isBool) for (let w = 0; w < W; w++) out[start + winOut[w]] = out[start + winOut[w]] + u[ub + winUpd[w]] !== 0 ? 1 : 0;
        else for (let w = 0; w < W; w++) out[start + winOut[w]] += u[ub + winUpd[w]];
        break;
      case "mul":
        // Integer products wrap modulo 2^32 (imul), as XLA's; a float product of two int32 would round.
        if (isInt || isBool) for (let w = 0; w < W; w++) out[start + winOut[w]] = Math.imul(out[start + winOut[w]], u[ub + winUpd[w]]);
        else for (let w = 0; w < W; w++) out[start + winOut[w]] *= u[ub + winUpd[w]];
        break;
      case "min":
        for (let w = 0; w < W; w++) out[start + winOut[w]] = Math.min(out[start + winOut[w]], u[ub + winUpd[w]]);
        break;
      case "max":
        for (let w = 0; w < W; w++) out[start + winOut[w]] = Math.max(out[start + winOut[w]], u[ub + winUpd[w]]);
        break;
    }
  }
  return view(out, shape);
}
