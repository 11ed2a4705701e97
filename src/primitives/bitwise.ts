// Bitwise and shift primitives on integers (and/or/xor/not also on bool), with JAX's names. They
// are piecewise constant, so their tangents are zero, as for comparisons. Shift amounts are read
// as unsigned, as XLA does: an amount of 32 or more (or a negative int32 one) shifts every bit
// out, which JS's `<<`/`>>>` (they take the amount modulo 32) would not.
import { mapN } from "../backend/index.js";
import { type DType, isInteger } from "../core/dtype.js";
import { DTypeError } from "../core/errors.js";
import { type Primitive, definePrimitive } from "../core/primitive.js";
import type { ShapedArray } from "../core/shaped-array.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { asTensor } from "../core/convert.js";
import { bind1 } from "../core/trace.js";
import { vectorizedBatch } from "./batching.js";
import { infix, prefix } from "./metadata.js";
import { naryAval } from "./util.js";

type Expr = (dtype: DType) => string;

function checkKinds(name: string, avals: ShapedArray[], allowBool: boolean): void {
  for (const a of avals) {
    if (!isInteger(a.dtype) && !(allowBool && a.dtype === "bool")) {
      throw new DTypeError(`${name}: expected ${allowBool ? "integer or bool" : "integer"} operands, got ${avals.map((v) => v.dtype).join(" and ")}`);
    }
  }
}

function bitwise(name: string, expr: Expr, allowBool: boolean, notation: (operands: string[]) => string): Primitive {
  return definePrimitive(name, (self) => ({
    impl: (args, _p, [out]) => [mapN(expr(out.dtype), args, out.dtype)],
    elementwiseExpr: (_p, d) => expr(d),
    abstractEval: (avals) => {
      checkKinds(name, avals, allowBool);
      return [naryAval(name, avals)];
    },
    differentiable: false,
    batch: vectorizedBatch(self),
    notation,
  }));
}

export const andP = bitwise("and", () => "x0 & x1", true, infix("&"));
export const orP = bitwise("or", () => "x0 | x1", true, infix("|"));
export const xorP = bitwise("xor", () => "x0 ^ x1", true, infix("^"));
// ~ on a bool's 0/1 would give -1/-2, both truthy: flip the one bit instead.
export const notP = bitwise("not", (d) => (d === "bool" ? "x0 ^ 1" : "~x0"), true, prefix("~"));
export const shiftLeftP = bitwise("shift_left", () => "(x1 >>> 0) >= 32 ? 0 : x0 << x1", false, infix("<<"));
export const shiftRightLogicalP = bitwise("shift_right_logical", () => "(x1 >>> 0) >= 32 ? 0 : x0 >>> x1", false, infix(">>>"));
// On the bit pattern: the top bit fills in (a uint32 operand is shifted as its int32 reinterpretation).
export const shiftRightArithmeticP = bitwise("shift_right_arithmetic", () => "x0 >> ((x1 >>> 0) >= 32 ? 31 : x1)", false, infix(">>"));

export const bitwiseAnd = (a: Tensor, b: Tensor): Tensor => bind1(andP, [a, b]);
export const bitwiseOr = (a: Tensor, b: Tensor): Tensor => bind1(orP, [a, b]);
export const bitwiseXor = (a: Tensor, b: Tensor): Tensor => bind1(xorP, [a, b]);
export const bitwiseNot = (a: Tensor): Tensor => bind1(notP, [a]);
export const shiftLeft = (a: Tensor, b: Tensor): Tensor => bind1(shiftLeftP, [a, b]);
export const shiftRightLogical = (a: Tensor, b: Tensor): Tensor => bind1(shiftRightLogicalP, [a, b]);
export const shiftRightArithmetic = (a: Tensor, b: Tensor): Tensor => bind1(shiftRightArithmeticP, [a, b]);

/** jax.lax's shifts, taking any TensorLike; operands must already share shape and dtype, as in lax. */
export const laxShifts = {
  shiftLeft: (a: TensorLike, b: TensorLike): Tensor => shiftLeft(asTensor(a, "lax.shiftLeft: x"), asTensor(b, "lax.shiftLeft: y")),
  shiftRightLogical: (a: TensorLike, b: TensorLike): Tensor => shiftRightLogical(asTensor(a, "lax.shiftRightLogical: x"), asTensor(b, "lax.shiftRightLogical: y")),
  shiftRightArithmetic: (a: TensorLike, b: TensorLike): Tensor => shiftRightArithmetic(asTensor(a, "lax.shiftRightArithmetic: x"), asTensor(b, "lax.shiftRightArithmetic: y")),
};
