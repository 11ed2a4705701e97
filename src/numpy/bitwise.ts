// NumPy's bitwise functions, with broadcasting and weak-int promotion. right_shift is arithmetic
// on int32 and logical on uint32, as jnp.right_shift chooses.
import type { Tensor, TensorLike } from "../core/tensor.js";
import * as B from "../primitives/bitwise.js";
import { T, promoteArgs } from "./promote.js";

const binary = (name: string, f: (a: Tensor, b: Tensor) => Tensor) => (a: TensorLike, b: TensorLike): Tensor => {
  const [x, y] = promoteArgs(name, [a, b]);
  return f(x, y);
};

export const bitwiseAnd = binary("bitwiseAnd", B.bitwiseAnd);
export const bitwiseOr = binary("bitwiseOr", B.bitwiseOr);
export const bitwiseXor = binary("bitwiseXor", B.bitwiseXor);
export const bitwiseNot = (x: TensorLike): Tensor => B.bitwiseNot(T(x, "bitwiseNot: argument 0"));
export const invert = bitwiseNot;
export const leftShift = binary("leftShift", B.shiftLeft);
export const rightShift = binary("rightShift", (x, y) => (x.dtype === "uint32" ? B.shiftRightLogical(x, y) : B.shiftRightArithmetic(x, y)));
