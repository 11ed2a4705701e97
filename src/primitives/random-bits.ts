// threefry2x32 as a primitive, as JAX's threefry2x32_p: four uint32 operands of one shape (key
// words, counter words) to two uint32 outputs. Its outputs are bits, so their tangents are zero;
// it is elementwise, so under vmap every batch axis lines up at 0 and it runs once.
import { threefry2x32 as kernel } from "../backend/index.js";
import { DTypeError } from "../core/errors.js";
import { definePrimitive } from "../core/primitive.js";
import type { Tensor } from "../core/tensor.js";
import { bind } from "../core/trace.js";
import { vectorizedBatch } from "./batching.js";
import { checkSameShapes } from "./util.js";

export const threefry2x32P = definePrimitive("threefry2x32", (self) => ({
  impl: ([k0, k1, x0, x1]) => kernel(k0, k1, x0, x1),
  abstractEval: (avals) => {
    checkSameShapes("threefry2x32", avals);
    if (avals.some((a) => a.dtype !== "uint32")) throw new DTypeError(`threefry2x32: operands must be uint32, got ${avals.map((a) => a.dtype).join(", ")}`);
    const out = avals[0].strong();
    return [out, out];
  },
  differentiable: false,
  batch: vectorizedBatch(self),
}));

/** The threefry2x32 block function applied elementwise: same-shaped uint32 key and counter words. */
export function threefry2x32(k0: Tensor, k1: Tensor, x0: Tensor, x1: Tensor): [Tensor, Tensor] {
  const [y0, y1] = bind(threefry2x32P, [k0, k1, x0, x1]);
  return [y0, y1];
}
