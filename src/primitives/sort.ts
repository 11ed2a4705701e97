// `sort` as JAX's lax.sort with num_keys = 1: operands of one shape, all permuted along
// `dimension` into the stable order of the first. Its JVP is JAX's: sort an iota along with the
// operands to learn the permutation, and gather every tangent with it.
import { sortAlong } from "../backend/index.js";
import { ShapeError, fmtShape } from "../core/errors.js";
import { type Primitive, Zero, definePrimitive } from "../core/primitive.js";
import type { Tensor } from "../core/tensor.js";
import { bind } from "../core/trace.js";
import { batchAtFront } from "./batching.js";
import { iota, takeAlong } from "./gather.js";
import { broadcastInDim } from "./shape.js";
import { checkSameShapes, isZero } from "./util.js";

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
  jvp: (primals, tangents, { dimension }) => {
    const shape = primals[0].shape;
    const positions = broadcastInDim(iota(shape[dimension]), shape, [dimension]);
    const outs = bind(self, [...primals, positions], { dimension });
    const perm = outs.pop() as Tensor;
    return [outs, tangents.map((t, k) => (isZero(t) ? new Zero(outs[k].aval.strong()) : takeAlong(t, perm, dimension)))];
  },
  // About n log2 n comparisons per sorted row.
  cost: ([x], _outs, { dimension }) => ({ flops: x.size * Math.ceil(Math.log2(Math.max(2, x.shape[dimension]))), transcendentals: 0 }),
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

