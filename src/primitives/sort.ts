// `sort` as JAX's lax.sort with num_keys = 1: operands of one shape, all permuted along
// `dimension` into the stable order of the first. Used by the random samplers for permutation
// indices and top-k selection, where every output that is used is an integer: it is declared not
// differentiable (JAX's sort JVP gathers tangents with the permutation, which needs a dynamic
// gather this library does not have yet).
import { sortAlong } from "../backend/sort.js";
import { ShapeError, fmtShape } from "../core/errors.js";
import { type Primitive, definePrimitive } from "../core/primitive.js";
import type { Tensor } from "../core/tensor.js";
import { bind } from "../core/trace.js";
import { batchAtFront } from "./batching.js";
import { checkSameShapes } from "./util.js";

type SortParams = { dimension: number };

export const sortP: Primitive<SortParams> = definePrimitive<SortParams>("sort", (self) => ({
  impl: (args, { dimension }) => sortAlong(args, dimension),
  abstractEval: (avals, { dimension }) => {
    checkSameShapes("sort", avals);
    if (!(Number.isInteger(dimension) && dimension >= 0 && dimension < avals[0].ndim)) {
      throw new ShapeError(`sort: dimension ${dimension} is out of bounds for shape ${fmtShape(avals[0].shape)}`);
    }
    return avals.map((a) => a.strong());
  },
  differentiable: false,
  batch: (args, dims, { dimension }, axisSize) => {
    const outs = bind(self, batchAtFront(args, dims, axisSize), { dimension: dimension + 1 });
    return [outs, outs.map(() => 0)];
  },
}));

/** Sorts `operands` along `dimension` (negative counts from the end) by the first, stably. */
export function sort(operands: Tensor[], dimension = -1): Tensor[] {
  const nd = operands[0].ndim;
  return bind(sortP, operands, { dimension: dimension < 0 ? dimension + nd : dimension });
}

