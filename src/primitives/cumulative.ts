// cumsum as JAX's primitive: linear, its transpose the running sum the other way. (cumprod,
// cummax and cummin are associative scans in numpy/sorting.ts, differentiated through them.)
import { cumsum as cumsumKernel } from "../backend/cumulative.js";
import { ShapeError, fmtShape } from "../core/errors.js";
import { type Primitive, definePrimitive } from "../core/primitive.js";
import type { Tensor } from "../core/tensor.js";
import { bind1 } from "../core/trace.js";
import { frontBatch, linearJvp, linearTranspose } from "./rule-helpers.js";

type CumsumParams = { axis: number; reverse: boolean };

export const cumsumP: Primitive<CumsumParams> = definePrimitive<CumsumParams>("cumsum", (self) => ({
  impl: ([x], { axis, reverse }, [o]) => [cumsumKernel(x, axis, reverse, o.dtype)],
  abstractEval: ([x], { axis }) => {
    if (!(Number.isInteger(axis) && axis >= 0 && axis < x.ndim)) throw new ShapeError(`cumsum: axis ${axis} is out of bounds for shape ${fmtShape(x.shape)}`);
    return [x];
  },
  jvp: linearJvp(self),
  transpose: linearTranspose((ct, _args, { axis, reverse }) => [cumsum(ct, axis, !reverse)]),
  batch: frontBatch(self, (p) => ({ ...p, axis: p.axis + 1 })),
  linear: true,
  notation: ([x], { axis, reverse }) => `cumsum${reverse ? " reversed" : ""}[axis=${axis}] ${x}`,
}));

export const cumsum = (x: Tensor, axis: number, reverse = false): Tensor => bind1(cumsumP, [x], { axis, reverse });
