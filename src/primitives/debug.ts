// debug_callback: calls a JS function with the concrete values of its operands, wherever the
// program runs — now, or later when a staged program (jit) runs. It has no outputs, so it is
// marked effectful for dead-code elimination to keep it.
import { fromArr } from "../core/convert.js";
import { dtypeOfTypedArray } from "../core/dtype.js";
import type { Label } from "../core/label.js";
import { type Primitive, definePrimitive } from "../core/primitive.js";
import type { Tensor } from "../core/tensor.js";
import { bind } from "../core/trace.js";
import { slice, squeeze } from "./shape.js";

export type DebugCallbackParams = { callback: Label<(args: Tensor[]) => void> };

export const debugCallbackP: Primitive<DebugCallbackParams> = definePrimitive<DebugCallbackParams>("debug_callback", (self) => ({
  impl: (args, { callback }) => {
    callback.value(args.map((a) => fromArr(a, dtypeOfTypedArray(a.data) ?? "float64")));
    return [];
  },
  abstractEval: () => [],
  // The callback sees primal values: under a derivative it runs once, on the primals (the jvp
  // rule supplied for a non-differentiable primitive binds the primals alone).
  differentiable: false,
  // Under vmap it runs once per example, in order, on that example's values (as JAX's).
  batch: (args, dims, params, axisSize) => {
    for (let i = 0; i < axisSize; i++) {
      const example = args.map((a, k) => {
        const d = dims[k];
        if (d === null) return a;
        const start = a.shape.map((_, j) => (j === d ? i : 0));
        const limit = a.shape.map((n, j) => (j === d ? i + 1 : n));
        return squeeze(slice(a, start, limit), [d]);
      });
      bind(self, example, params);
    }
    return [[], []];
  },
  effectful: true,
  cost: () => ({ flops: 0, transcendentals: 0 }),
}));
