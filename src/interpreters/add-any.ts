// add_any: the sum of two tangents or cotangents (JAX's add_jaxvals). The interpreters add
// tangents when a value is used twice, without reaching up into the primitives layer for `add`.
import { mapN } from "../backend/index.js";
import { DTypeError, ShapeError, fmtShape } from "../core/errors.js";
import { type Primitive, type Tangent, definePrimitive } from "../core/primitive.js";
import { ShapedArray, sameShape } from "../core/shaped-array.js";
import type { Tensor } from "../core/tensor.js";
import { bind1 } from "../core/trace.js";
import { alignBatch } from "./axis-ops.js";
import { isZero } from "./zeros.js";
import { elementwiseSparsity } from "./sparsity.js";

export const addAnyP: Primitive = definePrimitive("add_any", (self) => ({
  impl: ([a, b], _p, [out]) => [mapN("x0 + x1", [a, b], out.dtype)],
  elementwiseExpr: () => "x0 + x1",
  abstractEval: ([a, b]) => {
    if (!sameShape(a.shape, b.shape)) throw new ShapeError(`add_any: operands must have equal shapes, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
    if (a.dtype !== b.dtype) throw new DTypeError(`add_any: operands must have equal dtypes, got ${a.dtype} and ${b.dtype}`);
    return [a.weakType && !b.weakType ? b : a.weakType === b.weakType ? a : new ShapedArray(a.shape, a.dtype, false)];
  },
  jvp: ([a, b], [ta, tb]) => [[addAny(a, b)], [addTangents(ta, tb)]],
  transpose: ([ct]) => [ct, ct],
  batch: (args, dims, _params, axisSize) => [[bind1(self, alignBatch(args, dims, axisSize))], [0]],
  linear: true,
  notation: ([a, b]) => `${a} + ${b}`,
  sparsity: elementwiseSparsity,
  onnx: (ctx, ins) => ctx.node("Add", ins),
}));

export const addAny = (a: Tensor, b: Tensor): Tensor => bind1(addAnyP, [a, b]);

/** The sum of two tangents, keeping symbolic zeros symbolic. */
export function addTangents(a: Tangent, b: Tangent): Tangent {
  if (isZero(a)) return b;
  if (isZero(b)) return a;
  return addAny(a, b);
}
