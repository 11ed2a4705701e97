import { gather as gatherKernel, scatterAdd as scatterKernel } from "../backend/gather.js";
import { ShapeError, fmtShape } from "../core/errors.js";
import { type Primitive, definePrimitive } from "../core/primitive.js";
import { ShapedArray } from "../core/shaped-array.js";
import type { Tensor } from "../core/tensor.js";
import { bind1 } from "../core/trace.js";
import { movementCost } from "./metadata.js";
import { frontBatch, linearJvp, linearTranspose } from "./rule-helpers.js";

/** Indices are static (known when the operation is applied), as for NumPy-style integer indexing. */
type GatherParams = { indices: number[]; axis: number };
type ScatterParams = { indices: number[]; axis: number; size: number };

export const gatherP: Primitive<GatherParams> = definePrimitive("gather", (self) => ({
  impl: ([x], { indices, axis }, [o]) => [gatherKernel(x, indices, axis, o.dtype)],
  abstractEval: ([x], { indices, axis }) => {
    if (!(axis >= 0 && axis < x.ndim)) throw new ShapeError(`take: axis ${axis} is out of bounds for shape ${fmtShape(x.shape)}`);
    const bad = indices.find((i) => !Number.isInteger(i) || i < 0 || i >= x.shape[axis]);
    if (bad !== undefined) throw new ShapeError(`take: index ${bad} is out of bounds for axis ${axis} with size ${x.shape[axis]} (shape ${fmtShape(x.shape)})`);
    const shape = [...x.shape];
    shape[axis] = indices.length;
    return [new ShapedArray(shape, x.dtype, x.weakType)];
  },
  jvp: linearJvp(self),
  transpose: linearTranspose((ct, [x], { indices, axis }) => [scatterAdd(ct, indices, axis, x.aval.shape[axis])]),
  batch: frontBatch(self, ({ indices, axis }) => ({ indices, axis: axis + 1 })),
  linear: true,
  cost: movementCost,
}));

export const scatterAddP: Primitive<ScatterParams> = definePrimitive("scatter_add", (self) => ({
  impl: ([x], { indices, axis, size }, [o]) => [scatterKernel(x, indices, axis, size, o.dtype)],
  abstractEval: ([x], { indices, axis, size }) => {
    if (!(axis >= 0 && axis < x.ndim) || x.shape[axis] !== indices.length) {
      throw new ShapeError(`scatter_add: axis ${axis} of shape ${fmtShape(x.shape)} must have one entry per index (${indices.length})`);
    }
    // An index past `size` would write into a neighbouring row of the output.
    const bad = indices.find((i) => !Number.isInteger(i) || i < 0 || i >= size);
    if (bad !== undefined) throw new ShapeError(`scatter_add: index ${bad} is out of bounds for an output axis of size ${size}`);
    const shape = [...x.shape];
    shape[axis] = size;
    return [new ShapedArray(shape, x.dtype, x.weakType)];
  },
  jvp: linearJvp(self),
  transpose: linearTranspose((ct, _args, { indices, axis }) => [gather(ct, indices, axis)]),
  batch: frontBatch(self, (p) => ({ ...p, axis: p.axis + 1 })),
  linear: true,
  // One addition per input element.
  cost: ([x]) => ({ flops: x.size, transcendentals: 0 }),
}));

export const gather = (x: Tensor, indices: number[], axis: number): Tensor => bind1(gatherP, [x], { indices, axis });
export const scatterAdd = (x: Tensor, indices: number[], axis: number, size: number): Tensor => bind1(scatterAddP, [x], { indices, axis, size });
