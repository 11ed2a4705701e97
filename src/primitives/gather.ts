// XLA's gather and scatter-add, after JAX's lax/slicing.py: indices are an operand (traced like any
// value, index vector along their last axis), so indexing works under jit, vmap and scan. gather
// is linear in the operand and scatter-add in operand and updates; each is the other's transpose.
// Out-of-range windows follow JAX's modes: "clip" clamps the start, "fill" fills a gathered window
// with `fillValue` and drops a scattered one.
import { type GatherDims, type IndexMode, type ScatterDims, gather as gatherKernel, scatter as scatterKernel } from "../backend/index.js";
import { view } from "../backend/index.js";
import { fromArr } from "../core/convert.js";
import { isInteger } from "../core/dtype.js";
import { DTypeError, ShapeError, fmtShape } from "../core/errors.js";
import { type BatchDim, type Primitive, type PrimitiveRules, UndefPrimal, Zero, definePrimitive } from "../core/primitive.js";
import { ShapedArray } from "../core/shaped-array.js";
import { onnxGather, onnxScatterAdd } from "./onnx-rules.js";
import type { Tensor } from "../core/tensor.js";
import { bind1 } from "../core/trace.js";
import { broadcastBatch, moveBatchAxis } from "./batching.js";
import { convertElementType } from "./elementwise.js";
import { movementCost } from "./metadata.js";
import { linearTranspose } from "./rule-helpers.js";
import { broadcastInDim, concatenate, reshape } from "./shape.js";
import { full, instantiate, isZero } from "./util.js";

export type { GatherDims, IndexMode, ScatterDims } from "../backend/index.js";

export type GatherParams = GatherDims & { sliceSizes: number[]; mode: IndexMode; fillValue: number };
export type ScatterParams = ScatterDims & { mode: IndexMode };

const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => i + from);
const sorted = (xs: readonly number[]): boolean => xs.every((x, i) => i === 0 || xs[i - 1] < x);

function checkIndices(name: string, indices: ShapedArray, k: number): void {
  if (!isInteger(indices.dtype)) throw new DTypeError(`${name}: indices must be integers, got ${indices.dtype}`);
  if (indices.ndim === 0 || indices.shape[indices.ndim - 1] !== k) {
    throw new ShapeError(`${name}: indices of shape ${fmtShape(indices.shape)} must end in an index vector of length ${k} (one entry per mapped operand axis)`);
  }
}

function checkAxes(name: string, what: string, axes: readonly number[], rank: number): void {
  if (!sorted(axes) || axes.some((a) => !Number.isInteger(a) || a < 0 || a >= rank)) {
    throw new ShapeError(`${name}: ${what} ${fmtShape(axes)} must be increasing axes below ${rank}`);
  }
}

function gatherShape([x, i]: ShapedArray[], p: GatherParams): number[] {
  checkIndices("gather", i, p.startIndexMap.length);
  if (p.sliceSizes.length !== x.ndim || p.sliceSizes.some((s, d) => !Number.isInteger(s) || s < 0 || s > x.shape[d])) {
    throw new ShapeError(`gather: slice sizes ${fmtShape(p.sliceSizes)} do not fit an operand of shape ${fmtShape(x.shape)}`);
  }
  checkAxes("gather", "collapsed slice dims", p.collapsedSliceDims, x.ndim);
  if (p.collapsedSliceDims.some((d) => p.sliceSizes[d] !== 1)) throw new ShapeError(`gather: collapsed slice dims ${fmtShape(p.collapsedSliceDims)} must have slice size 1 (slice sizes ${fmtShape(p.sliceSizes)})`);
  if (p.startIndexMap.some((d) => !Number.isInteger(d) || d < 0 || d >= x.ndim) || new Set(p.startIndexMap).size !== p.startIndexMap.length) {
    throw new ShapeError(`gather: start index map ${fmtShape(p.startIndexMap)} must name distinct axes of an operand of shape ${fmtShape(x.shape)}`);
  }
  const windowSizes = p.sliceSizes.filter((_, d) => !p.collapsedSliceDims.includes(d));
  const rank = i.ndim - 1 + windowSizes.length;
  if (p.offsetDims.length !== windowSizes.length) throw new ShapeError(`gather: ${p.offsetDims.length} offset dims for ${windowSizes.length} uncollapsed slice axes`);
  checkAxes("gather", "offset dims", p.offsetDims, rank);
  const shape: number[] = [];
  let b = 0, w = 0;
  for (let d = 0; d < rank; d++) shape.push(p.offsetDims.includes(d) ? windowSizes[w++] : i.shape[b++]);
  return shape;
}

/** 0, 1, ..., n-1 as an int32 Tensor. */
export function iota(n: number): Tensor {
  const d = new Int32Array(n);
  for (let k = 0; k < n; k++) d[k] = k;
  return fromArr(view(d, [n]), "int32");
}

/**
 * Indices with the batch axis in front and the example number prepended to every index vector: the
 * operand's batch axis becomes one more indexed axis (JAX's _gather_batching_rule).
 */
function withBatchIndex(i: Tensor, axisSize: number): Tensor {
  const shape = [...i.shape.slice(0, -1), 1];
  const counts = broadcastInDim(convertElementType(iota(axisSize), i.dtype), shape, [0]);
  return concatenate([counts, i], i.ndim - 1);
}

const gatherRules = (self: Primitive<GatherParams>): PrimitiveRules<GatherParams> => ({
  impl: ([x, i], p, [o]) => [gatherKernel(x, i, p, p.sliceSizes, p.mode, p.fillValue, o.shape, o.dtype)],
  abstractEval: (avals, p) => [new ShapedArray(gatherShape(avals, p), avals[0].dtype, avals[0].weakType)],
  jvp: ([x, i], [tx], p) => [[bind1(self, [x, i], p)], [isZero(tx) ? new Zero(new ShapedArray(gatherShape([x.aval, i.aval], p), x.dtype)) : bind1(self, [tx, i], { ...p, fillValue: 0 })]],
  transpose: linearTranspose((ct, [x, i], p) => [
    scatterAddDynamic(full(x.aval.shape, 0, x.aval.dtype), i as Tensor, ct, { updateWindowDims: p.offsetDims, insertedWindowDims: p.collapsedSliceDims, scatterDimsToOperandDims: p.startIndexMap, mode: p.mode }),
    null,
  ]),
  batch: ([x, i], [xd, id], p, axisSize) => {
    const shift = (ds: readonly number[]) => ds.map((d) => d + 1);
    if (id === null) {
      const out = bind1(self, [moveBatchAxis(x, xd as number, 0), i], {
        ...p,
        offsetDims: [0, ...shift(p.offsetDims)],
        collapsedSliceDims: shift(p.collapsedSliceDims),
        startIndexMap: shift(p.startIndexMap),
        sliceSizes: [axisSize, ...p.sliceSizes],
      });
      return [[out], [0]];
    }
    const ib = moveBatchAxis(i, id, 0);
    if (xd === null) return [[bind1(self, [x, ib], { ...p, offsetDims: shift(p.offsetDims) })], [0]];
    const out = bind1(self, [moveBatchAxis(x, xd, 0), withBatchIndex(ib, axisSize)], {
      ...p,
      offsetDims: shift(p.offsetDims),
      collapsedSliceDims: [0, ...shift(p.collapsedSliceDims)],
      startIndexMap: [0, ...shift(p.startIndexMap)],
      sliceSizes: [1, ...p.sliceSizes],
    });
    return [[out], [0]];
  },
  linear: true,
  cost: movementCost,
  notation: ([x, i]) => `${x}[${i}]`,
  onnx: onnxGather,
});

export const gatherP: Primitive<GatherParams> = definePrimitive("gather", gatherRules);

export function checkScatter(name: string, [x, i, u]: ShapedArray[], p: ScatterDims): ShapedArray {
  checkIndices(name, i, p.scatterDimsToOperandDims.length);
  if (u.dtype !== x.dtype) throw new DTypeError(`${name}: updates must have the operand's dtype ${x.dtype}, got ${u.dtype}`);
  checkAxes(name, "inserted window dims", p.insertedWindowDims, x.ndim);
  checkAxes(name, "update window dims", p.updateWindowDims, u.ndim);
  const scatterRank = u.ndim - p.updateWindowDims.length;
  const windowAxes = range(x.ndim).filter((d) => !p.insertedWindowDims.includes(d));
  const batch = i.shape.slice(0, -1);
  const scatterSizes = u.shape.filter((_, a) => !p.updateWindowDims.includes(a));
  if (
    p.updateWindowDims.length !== windowAxes.length ||
    scatterRank !== batch.length ||
    scatterSizes.some((s, k) => s !== batch[k]) ||
    p.updateWindowDims.some((a, k) => u.shape[a] > x.shape[windowAxes[k]])
  ) {
    throw new ShapeError(`${name}: updates of shape ${fmtShape(u.shape)} do not fit an operand of shape ${fmtShape(x.shape)} with indices of shape ${fmtShape(i.shape)}`);
  }
  if (p.scatterDimsToOperandDims.some((d) => !Number.isInteger(d) || d < 0 || d >= x.ndim) || new Set(p.scatterDimsToOperandDims).size !== p.scatterDimsToOperandDims.length) {
    throw new ShapeError(`${name}: scatter dims ${fmtShape(p.scatterDimsToOperandDims)} must name distinct axes of an operand of shape ${fmtShape(x.shape)}`);
  }
  return new ShapedArray(x.shape, x.dtype, x.weakType && u.weakType);
}

/** The gather that reads what a scatter with these dimension numbers writes (fill mode reads 0). */
export function gatherForScatter(x: Tensor, i: Tensor, updatesShape: readonly number[], p: ScatterParams): Tensor {
  let j = 0;
  const sliceSizes = x.shape.map((_, d) => (p.insertedWindowDims.includes(d) ? 1 : updatesShape[p.updateWindowDims[j++]]));
  return bind1(gatherP, [x, i], { offsetDims: p.updateWindowDims, collapsedSliceDims: p.insertedWindowDims, startIndexMap: p.scatterDimsToOperandDims, sliceSizes, mode: p.mode, fillValue: 0 });
}

/** JAX's _scatter_batching_rule: operand and updates batched at 0; batched indices index the batch axis too. */
export function scatterBatch(self: Primitive<ScatterParams>): NonNullable<PrimitiveRules<ScatterParams>["batch"]> {
  return ([x, i, u], [xd, id, ud], p, axisSize) => {
    const front = (t: Tensor, d: BatchDim) => (d === null ? broadcastBatch(t, axisSize) : moveBatchAxis(t, d, 0));
    const shift = (ds: readonly number[]) => ds.map((d) => d + 1);
    const xb = front(x, xd), ub = front(u, ud);
    if (id === null) {
      return [[bind1(self, [xb, i, ub], { ...p, updateWindowDims: [0, ...shift(p.updateWindowDims)], insertedWindowDims: shift(p.insertedWindowDims), scatterDimsToOperandDims: shift(p.scatterDimsToOperandDims) })], [0]];
    }
    const ib = withBatchIndex(moveBatchAxis(i, id, 0), axisSize);
    return [[bind1(self, [xb, ib, ub], { ...p, updateWindowDims: shift(p.updateWindowDims), insertedWindowDims: [0, ...shift(p.insertedWindowDims)], scatterDimsToOperandDims: [0, ...shift(p.scatterDimsToOperandDims)] })], [0]];
  };
}

export const scatterAddP: Primitive<ScatterParams> = definePrimitive("scatter_add", (self) => ({
  impl: ([x, i, u], p, [o]) => [scatterKernel(x, i, u, p, p.mode, "add", o.dtype)],
  abstractEval: (avals, p) => [checkScatter("scatter_add", avals, p)],
  jvp: ([x, i, u], [tx, , tu], p) => {
    const out = bind1(self, [x, i, u], p);
    if (isZero(tx) && isZero(tu)) return [[out], [new Zero(out.aval.strong())]];
    return [[out], [bind1(self, [instantiate(tx), i, instantiate(tu)], p)]];
  },
  transpose: linearTranspose((ct, [x, i, u], p) => [x instanceof UndefPrimal ? ct : null, null, u instanceof UndefPrimal ? gatherForScatter(ct, i as Tensor, u.aval.shape, p) : null]),
  batch: scatterBatch(self),
  linear: true,
  // One addition per update element (the updates are the last operand).
  cost: (ins) => ({ flops: ins[ins.length - 1].size, transcendentals: 0 }),
  notation: ([x, i, u]) => `${x}.at[${i}].add(${u})`,
  onnx: onnxScatterAdd,
}));

/** Binds gather with JAX's defaults for the dimension numbers given. */
export const gatherDynamic = (x: Tensor, i: Tensor, p: GatherParams): Tensor => bind1(gatherP, [x, i], p);
export const scatterAddDynamic = (x: Tensor, i: Tensor, u: Tensor, p: ScatterParams): Tensor => bind1(scatterAddP, [x, i, u], p);

/** Indices known when the operation is applied, checked here, as a [n, 1] int32 Tensor. */
function staticIndexTensor(name: string, indices: readonly number[], size: number): Tensor {
  const bad = indices.find((v) => !Number.isInteger(v) || v < 0 || v >= size);
  if (bad !== undefined) throw new ShapeError(`${name}: index ${bad} is out of bounds for an axis of size ${size}`);
  return fromArr(view(Int32Array.from(indices), [indices.length, 1]), "int32");
}

/** x[..., indices, ...] along `axis` with static in-range indices (take, reversed slices). */
export function gather(x: Tensor, indices: readonly number[], axis: number): Tensor {
  if (!(Number.isInteger(axis) && axis >= 0 && axis < x.ndim)) throw new ShapeError(`take: axis ${axis} is out of bounds for shape ${fmtShape(x.shape)}`);
  const i = staticIndexTensor("take", indices, x.shape[axis]);
  // No index into an empty axis: the result is empty too, and a window of one would not fit.
  if (x.shape[axis] === 0) return full(x.shape, 0, x.dtype);
  const others = range(x.ndim).filter((d) => d !== axis);
  return gatherDynamic(x, i, { offsetDims: others, collapsedSliceDims: [axis], startIndexMap: [axis], sliceSizes: x.shape.map((s, d) => (d === axis ? 1 : s)), mode: "clip", fillValue: 0 });
}

/** out[..., indices[k], ...] += x[..., k, ...] along `axis`, out's axis of length `size`: repeated indices accumulate. */
export function scatterAdd(x: Tensor, indices: readonly number[], axis: number, size: number): Tensor {
  if (!(Number.isInteger(axis) && axis >= 0 && axis < x.ndim) || x.shape[axis] !== indices.length) {
    throw new ShapeError(`scatter_add: axis ${axis} of shape ${fmtShape(x.shape)} must have one entry per index (${indices.length})`);
  }
  const i = staticIndexTensor("scatter_add", indices, size);
  const shape = x.shape.map((s, d) => (d === axis ? size : s));
  const others = range(x.ndim).filter((d) => d !== axis);
  return scatterAddDynamic(full(shape, 0, x.dtype), i, x, { updateWindowDims: others, insertedWindowDims: [axis], scatterDimsToOperandDims: [axis], mode: "clip" });
}

/**
 * x[..., idx[..., j, ...], ...] along `axis`, idx of x's shape but for that axis (NumPy's
 * take_along_axis without broadcasting): one gather whose index vectors name every axis.
 */
export function takeAlong(x: Tensor, idx: Tensor, axis: number, mode: IndexMode = "clip", fillValue = 0): Tensor {
  const shape = idx.shape;
  const comps = shape.map((s, d) => reshape(d === axis ? idx : broadcastInDim(convertElementType(iota(s), idx.dtype), shape, [d]), [...shape, 1]));
  const all = shape.map((_, d) => d);
  return gatherDynamic(x, concatenate(comps, shape.length), { offsetDims: [], collapsedSliceDims: all, startIndexMap: all, sliceSizes: shape.map(() => 1), mode, fillValue });
}
