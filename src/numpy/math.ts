import { DTypeError } from "../core/errors.js";
import { isFloat } from "../core/dtype.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import * as elementwiseOps from "../primitives/elementwise.js";
import { toTensor, broadcastShapes, broadcastTo, promoteArgs, toFloat } from "./promote.js";

type UnaryFn = (x: TensorLike) => Tensor;
type BinaryFn = (a: TensorLike, b: TensorLike) => Tensor;

const floatUnary = (name: string, f: (x: Tensor) => Tensor): UnaryFn => (x) => f(toFloat(toTensor(x, `${name}: argument 0`)));
const anyUnary = (name: string, f: (x: Tensor) => Tensor): UnaryFn => (x) => f(toTensor(x, `${name}: argument 0`));
const binary = (name: string, f: (a: Tensor, b: Tensor) => Tensor, float = false): BinaryFn => (a, b) => {
  const [x, y] = promoteArgs(name, [a, b], { float });
  return f(x, y);
};

export const add = binary("add", elementwiseOps.add);
// NumPy and JAX refuse to subtract or negate booleans (a bool buffer would hold -1 or wrap).
const noBool = (name: string, instead: string, x: Tensor): Tensor => {
  if (x.dtype === "bool") throw new DTypeError(`${name}: boolean operands are not supported, as in NumPy; use ${instead}`);
  return x;
};
export const subtract = binary("subtract", (x, y) => elementwiseOps.sub(noBool("subtract", "np.bitwiseXor or np.notEqual", x), y));
export const multiply = binary("multiply", elementwiseOps.mul);
export const divide = binary("divide", elementwiseOps.div, true);
export const maximum = binary("maximum", elementwiseOps.max);
export const minimum = binary("minimum", elementwiseOps.min);
export const arctan2 = binary("arctan2", elementwiseOps.atan2, true);

/** x ** y; an integer JS exponent becomes integer_pow (exact, and differentiable at 0). */
export function power(a: TensorLike, b: TensorLike): Tensor {
  if (typeof b === "number" && Number.isInteger(b) && Math.abs(b) <= 1024) {
    const x = toTensor(a, "power: argument 0");
    return elementwiseOps.integerPow(b < 0 ? toFloat(x) : x, b);
  }
  const [x, y] = promoteArgs("power", [a, b]);
  return elementwiseOps.pow(x, y);
}

export const negative = anyUnary("negative", (x) => elementwiseOps.neg(noBool("negative", "np.invert", x)));
export const abs = anyUnary("abs", elementwiseOps.abs);
export const sign = anyUnary("sign", elementwiseOps.sign);
export const exp = floatUnary("exp", elementwiseOps.exp);
export const log = floatUnary("log", elementwiseOps.log);
export const log1p = floatUnary("log1p", elementwiseOps.log1p);
export const expm1 = floatUnary("expm1", elementwiseOps.expm1);
export const sqrt = floatUnary("sqrt", elementwiseOps.sqrt);
export const sin = floatUnary("sin", elementwiseOps.sin);
export const cos = floatUnary("cos", elementwiseOps.cos);
export const tan = floatUnary("tan", elementwiseOps.tan);
export const arcsin = floatUnary("arcsin", elementwiseOps.asin);
export const arccos = floatUnary("arccos", elementwiseOps.acos);
export const arctan = floatUnary("arctan", elementwiseOps.atan);
export const sinh = floatUnary("sinh", elementwiseOps.sinh);
export const cosh = floatUnary("cosh", elementwiseOps.cosh);
export const tanh = floatUnary("tanh", elementwiseOps.tanh);
export const square: UnaryFn = (x) => elementwiseOps.integerPow(toTensor(x, "square: argument 0"), 2);
export const reciprocal: UnaryFn = (x) => elementwiseOps.integerPow(toFloat(toTensor(x, "reciprocal: argument 0")), -1);
const intIdentity = (name: string, f: (x: Tensor) => Tensor): UnaryFn => (x) => {
  const t = toTensor(x, `${name}: argument 0`);
  return isFloat(t.dtype) ? f(t) : t;
};
export const floor = intIdentity("floor", elementwiseOps.floor);
export const ceil = intIdentity("ceil", elementwiseOps.ceil);
export const round = intIdentity("round", elementwiseOps.round);

export function clip(x: TensorLike, lo: TensorLike | null, hi: TensorLike | null): Tensor {
  let out = toTensor(x, "clip: argument 0");
  // Checked here so that a mismatch names clip, not the maximum/minimum it is made of.
  const bounds = [lo, hi].filter((b) => b !== null && b !== undefined).map((b, i) => toTensor(b, `clip: bound ${i}`).shape);
  broadcastShapes("clip", [out.shape, ...bounds]);
  if (lo !== null && lo !== undefined) out = maximum(out, lo);
  if (hi !== null && hi !== undefined) out = minimum(out, hi);
  return out;
}

const cmp = (name: string, f: (a: Tensor, b: Tensor) => Tensor): BinaryFn => binary(name, f);
export const less = cmp("less", elementwiseOps.lt);
export const lessEqual = cmp("lessEqual", elementwiseOps.le);
export const greater = cmp("greater", elementwiseOps.gt);
export const greaterEqual = cmp("greaterEqual", elementwiseOps.ge);
export const equal = cmp("equal", elementwiseOps.eq);
export const notEqual = cmp("notEqual", elementwiseOps.ne);

/** Elementwise `cond ? x : y` with broadcasting; a non-bool condition means `cond != 0`. */
export function where(cond: TensorLike, x: TensorLike, y: TensorLike): Tensor {
  let c = toTensor(cond, "where: argument 0");
  const xt = toTensor(x, "where: argument 1"), yt = toTensor(y, "where: argument 2");
  const shape = broadcastShapes("where", [c.shape, xt.shape, yt.shape]);
  if (c.dtype !== "bool") c = notEqual(c, 0);
  const [xx, yy] = promoteArgs("where", [typeof x === "number" ? x : xt, typeof y === "number" ? y : yt]);
  return elementwiseOps.select(broadcastTo(c, shape, "where"), broadcastTo(xx, shape, "where"), broadcastTo(yy, shape, "where"));
}

export function astype(x: TensorLike, dtype: string): Tensor {
  const t = toTensor(x, "astype: argument 0");
  if (!["float64", "float32", "int32", "uint32", "bool"].includes(dtype)) throw new DTypeError(`astype: unknown dtype ${JSON.stringify(dtype)}`);
  return elementwiseOps.convertElementType(t, dtype as never);
}

export const stopGradient = (x: TensorLike): Tensor => elementwiseOps.stopGradient(toTensor(x, "stopGradient: argument 0"));
