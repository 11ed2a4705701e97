import { broadcastInDimView, reshapeView, sizeOf, sliceView, transposeView } from "../backend/index.js";
import { concatenate as concatKernel, pad as padKernel } from "../backend/index.js";
import { ShapeError, fmtShape } from "../core/errors.js";
import { type Primitive, UndefPrimal, definePrimitive } from "../core/primitive.js";
import { ShapedArray, sameShape } from "../core/shaped-array.js";
import type { Tensor } from "../core/tensor.js";
import { bind, bind1 } from "../core/trace.js";
import { batchAtFront } from "./batching.js";
import { movementCost } from "./metadata.js";
import { reduceSum } from "./reduce.js";
import { frontBatch, linearJvp, linearTranspose } from "./rule-helpers.js";
import { checkSameDTypes, zerosLike } from "./util.js";
import { int64s, onnxBroadcastInDim, onnxPad, onnxReshape } from "./onnx-rules.js";
import { movementSparsity } from "../interpreters/sparsity.js";

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

// ---- broadcast_in_dim ----
type BroadcastInDimParams = { shape: number[]; broadcastDimensions: number[] };
export const broadcastInDimP: Primitive<BroadcastInDimParams> = definePrimitive("broadcast_in_dim", (self) => ({
  impl: ([x], { shape, broadcastDimensions }) => [broadcastInDimView(x, shape, broadcastDimensions)],
  abstractEval: ([x], { shape, broadcastDimensions: dims }) => {
    const ok =
      dims.length === x.ndim &&
      dims.every((d, i) => Number.isInteger(d) && d >= 0 && d < shape.length && (i === 0 || d > dims[i - 1])) &&
      x.shape.every((n, i) => n === 1 || n === shape[dims[i]]);
    if (!ok) throw new ShapeError(`broadcast_in_dim: cannot broadcast shape ${fmtShape(x.shape)} to ${fmtShape(shape)} along dimensions ${fmtShape(dims)}`);
    return [new ShapedArray(shape, x.dtype, x.weakType)];
  },
  jvp: linearJvp(self),
  transpose: linearTranspose((ct, [{ aval: x }], { shape, broadcastDimensions: dims }) => {
    const summed = range(shape.length).filter((d) => {
      const i = dims.indexOf(d);
      return i < 0 || (x.shape[i] === 1 && shape[d] !== 1);
    });
    return [reshape(reduceSum(ct, summed), x.shape)];
  }),
  batch: frontBatch(self, ({ shape, broadcastDimensions }, axisSize) => ({
    shape: [axisSize, ...shape],
    broadcastDimensions: [0, ...broadcastDimensions.map((b) => b + 1)],
  })),
  linear: true,
  cost: movementCost,
  sparsity: movementSparsity(self),
  onnx: onnxBroadcastInDim,
}));
export function broadcastInDim(x: Tensor, shape: readonly number[], broadcastDimensions: readonly number[]): Tensor {
  if (sameShape(x.aval.shape, shape) && broadcastDimensions.every((d, i) => d === i)) return x;
  return bind1(broadcastInDimP, [x], { shape: [...shape], broadcastDimensions: [...broadcastDimensions] });
}

// ---- reshape ----
type ReshapeParams = { newSizes: number[] };
export const reshapeP: Primitive<ReshapeParams> = definePrimitive("reshape", (self) => ({
  impl: ([x], { newSizes }) => [reshapeView(x, newSizes)],
  abstractEval: ([x], { newSizes }) => {
    if (!newSizes.every((n) => Number.isInteger(n) && n >= 0) || sizeOf(newSizes) !== x.size) {
      throw new ShapeError(`reshape: cannot reshape an array of shape ${fmtShape(x.shape)} (size ${x.size}) into shape ${fmtShape(newSizes)}`);
    }
    return [new ShapedArray(newSizes, x.dtype, x.weakType)];
  },
  jvp: linearJvp(self),
  transpose: linearTranspose((ct, [x]) => [reshape(ct, x.aval.shape)]),
  batch: frontBatch(self, ({ newSizes }, axisSize) => ({ newSizes: [axisSize, ...newSizes] })),
  linear: true,
  cost: movementCost,
  sparsity: movementSparsity(self),
  onnx: onnxReshape,
}));
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(x.aval.shape, shape)) return x;
  return bind1(reshapeP, [x], { newSizes: [...shape] });
}

// ---- transpose ----
type TransposeParams = { permutation: number[] };
export const transposeP: Primitive<TransposeParams> = definePrimitive("transpose", (self) => ({
  impl: ([x], { permutation }) => [transposeView(x, permutation)],
  abstractEval: ([x], { permutation }) => {
    const ok = permutation.length === x.ndim && [...permutation].sort((a, b) => a - b).every((p, i) => p === i);
    if (!ok) throw new ShapeError(`transpose: permutation ${fmtShape(permutation)} is not a permutation of the axes of shape ${fmtShape(x.shape)}`);
    return [new ShapedArray(permutation.map((p) => x.shape[p]), x.dtype, x.weakType)];
  },
  jvp: linearJvp(self),
  transpose: linearTranspose((ct, _args, { permutation }) => {
    const inverse = new Array<number>(permutation.length);
    permutation.forEach((p, i) => (inverse[p] = i));
    return [transpose(ct, inverse)];
  }),
  batch: frontBatch(self, ({ permutation }) => ({ permutation: [0, ...permutation.map((p) => p + 1)] })),
  linear: true,
  cost: movementCost,
  sparsity: movementSparsity(self),
  onnx: (ctx, [x], { permutation }) => ctx.node("Transpose", [x], { perm: { ints: permutation } }),
}));
export function transpose(x: Tensor, permutation: readonly number[]): Tensor {
  if (permutation.every((p, i) => p === i) && permutation.length === x.ndim) return x;
  return bind1(transposeP, [x], { permutation: [...permutation] });
}

// ---- squeeze ----
type SqueezeParams = { dimensions: number[] };
export const squeezeP: Primitive<SqueezeParams> = definePrimitive("squeeze", (self) => ({
  impl: ([x], { dimensions }) => [reshapeView(x, x.shape.filter((_, i) => !dimensions.includes(i)))],
  abstractEval: ([x], { dimensions }) => {
    for (const d of dimensions) {
      if (!(d >= 0 && d < x.ndim) || x.shape[d] !== 1) throw new ShapeError(`squeeze: cannot squeeze axis ${d} of shape ${fmtShape(x.shape)} (it must have size 1)`);
    }
    return [new ShapedArray(x.shape.filter((_, i) => !dimensions.includes(i)), x.dtype, x.weakType)];
  },
  jvp: linearJvp(self),
  transpose: linearTranspose((ct, [x]) => [reshape(ct, x.aval.shape)]),
  batch: frontBatch(self, ({ dimensions }) => ({ dimensions: dimensions.map((a) => a + 1) })),
  linear: true,
  cost: movementCost,
  sparsity: movementSparsity(self),
  onnx: onnxReshape,
}));
export const squeeze = (x: Tensor, dimensions: number[]): Tensor => (dimensions.length === 0 ? x : bind1(squeezeP, [x], { dimensions }));

// ---- slice ----
type SliceParams = { startIndices: number[]; limitIndices: number[]; strides: number[] };
export const sliceP: Primitive<SliceParams> = definePrimitive("slice", (self) => ({
  impl: ([x], { startIndices, limitIndices, strides }) => [sliceView(x, startIndices, limitIndices, strides)],
  abstractEval: ([x], { startIndices: start, limitIndices: limit, strides }) => {
    const ok =
      start.length === x.ndim && limit.length === x.ndim && strides.length === x.ndim &&
      x.shape.every((n, i) => Number.isInteger(start[i]) && Number.isInteger(limit[i]) && 0 <= start[i] && start[i] <= limit[i] && limit[i] <= n && strides[i] >= 1);
    if (!ok) throw new ShapeError(`slice: start ${fmtShape(start)}, limit ${fmtShape(limit)}, strides ${fmtShape(strides)} do not fit shape ${fmtShape(x.shape)}`);
    return [new ShapedArray(x.shape.map((_, i) => Math.max(0, Math.ceil((limit[i] - start[i]) / strides[i]))), x.dtype, x.weakType)];
  },
  jvp: linearJvp(self),
  transpose: linearTranspose((ct, [x], { startIndices, strides }) => {
    if (ct.size === 0) return [zerosLike(x)];
    const hi = x.aval.shape.map((n, i) => n - (startIndices[i] + (ct.shape[i] - 1) * strides[i] + 1));
    return [pad(ct, 0, startIndices, hi, strides.map((s) => s - 1))];
  }),
  batch: frontBatch(self, ({ startIndices, limitIndices, strides }, axisSize) => ({
    startIndices: [0, ...startIndices],
    limitIndices: [axisSize, ...limitIndices],
    strides: [1, ...strides],
  })),
  linear: true,
  cost: movementCost,
  sparsity: movementSparsity(self),
  onnx: (ctx, [x], { startIndices, limitIndices, strides }) =>
    ctx.node("Slice", [x, int64s(ctx, startIndices), int64s(ctx, limitIndices), int64s(ctx, startIndices.map((_, i) => i)), int64s(ctx, strides)]),
}));
export function slice(x: Tensor, startIndices: number[], limitIndices: number[], strides?: number[]): Tensor {
  return bind1(sliceP, [x], { startIndices, limitIndices, strides: strides ?? startIndices.map(() => 1) });
}

// ---- pad (the padding value is a static number) ----
type PadParams = { lo: number[]; hi: number[]; interior: number[]; value: number };
export const padP: Primitive<PadParams> = definePrimitive("pad", (self) => ({
  impl: ([x], { lo, hi, interior, value }, [o]) => [padKernel(x, value, lo, hi, interior, o.dtype)],
  abstractEval: ([x], { lo, hi, interior }) => {
    const ok = [lo, hi, interior].every((v) => v.length === x.ndim && v.every((n) => Number.isInteger(n) && n >= 0));
    if (!ok) throw new ShapeError(`pad: padding lo ${fmtShape(lo)}, hi ${fmtShape(hi)}, interior ${fmtShape(interior)} must be non-negative integers, one per axis of shape ${fmtShape(x.shape)}`);
    return [new ShapedArray(x.shape.map((d, i) => lo[i] + hi[i] + d + Math.max(0, d - 1) * interior[i]), x.dtype, x.weakType)];
  },
  // Affine in x: the padding value is a constant, so the tangent is padded with zeros.
  jvp: linearJvp(self, (p) => ({ ...p, value: 0 })),
  transpose: linearTranspose((ct, [x], { lo, interior }) => {
    const limit = x.aval.shape.map((d, i) => lo[i] + d + Math.max(0, d - 1) * interior[i]);
    return [slice(ct, lo, limit, interior.map((s) => s + 1))];
  }),
  batch: frontBatch(self, (p) => ({ lo: [0, ...p.lo], hi: [0, ...p.hi], interior: [0, ...p.interior], value: p.value })),
  linear: true,
  cost: movementCost,
  sparsity: movementSparsity(self),
  onnx: onnxPad,
}));
export function pad(x: Tensor, value: number, lo: number[], hi: number[], interior?: number[]): Tensor {
  return bind1(padP, [x], { lo, hi, interior: interior ?? lo.map(() => 0), value });
}

// ---- concatenate ----
type ConcatParams = { dimension: number };
export const concatenateP: Primitive<ConcatParams> = definePrimitive("concatenate", (self) => ({
  impl: (xs, { dimension }, [o]) => [concatKernel(xs, dimension, o.dtype)],
  abstractEval: (avals, { dimension }) => {
    const a0 = avals[0];
    const bad = () =>
      new ShapeError(`concatenate: shapes ${avals.map((a) => fmtShape(a.shape)).join(", ")} must agree except along axis ${dimension}`);
    if (avals.length === 0) throw new ShapeError("concatenate: needs at least one array");
    if (!(dimension >= 0 && dimension < a0.ndim)) throw new ShapeError(`concatenate: axis ${dimension} is out of bounds for shape ${fmtShape(a0.shape)}`);
    for (const a of avals) {
      if (a.ndim !== a0.ndim || !a.shape.every((n, i) => i === dimension || n === a0.shape[i])) throw bad();
    }
    checkSameDTypes("concatenate", avals);
    const shape = [...a0.shape];
    shape[dimension] = avals.reduce((s, a) => s + a.shape[dimension], 0);
    return [new ShapedArray(shape, a0.dtype, avals.every((a) => a.weakType))];
  },
  jvp: linearJvp(self),
  transpose: linearTranspose((ct, xs, { dimension }) => {
    let at = 0;
    return xs.map((x) => {
      const shape = x.aval.shape;
      const start = shape.map((_, i) => (i === dimension ? at : 0));
      const limit = shape.map((n, i) => (i === dimension ? at + n : ct.shape[i]));
      at += shape[dimension];
      return x instanceof UndefPrimal ? slice(ct, start, limit) : null;
    });
  }),
  batch: (xs, dims, { dimension }, axisSize) => [bind(self, batchAtFront(xs, dims, axisSize), { dimension: dimension + 1 }), [0]],
  linear: true,
  cost: movementCost,
  sparsity: movementSparsity(self),
  onnx: (ctx, xs, { dimension }) => ctx.node("Concat", xs, { axis: { i: dimension } }),
}));
export const concatenate = (xs: Tensor[], dimension: number): Tensor => (xs.length === 1 ? xs[0] : bind1(concatenateP, xs, { dimension }));

