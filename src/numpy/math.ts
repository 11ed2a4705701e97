import { DTypeError } from "../core/errors.js";
import { isFloat } from "../core/dtype.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import * as P from "../primitives/elementwise.js";
import { T, broadcastShapes, broadcastTo, promoteArgs, toFloat } from "./promote.js";

type U = (x: TensorLike) => Tensor;
type B = (a: TensorLike, b: TensorLike) => Tensor;

const floatUnary = (name: string, f: (x: Tensor) => Tensor): U => (x) => f(toFloat(T(x, `${name}: argument 0`)));
const anyUnary = (name: string, f: (x: Tensor) => Tensor): U => (x) => f(T(x, `${name}: argument 0`));
const binary = (name: string, f: (a: Tensor, b: Tensor) => Tensor, float = false): B => (a, b) => {
  const [x, y] = promoteArgs(name, [a, b], { float });
  return f(x, y);
};

export const add = binary("add", P.add);
export const subtract = binary("subtract", P.sub);
export const multiply = binary("multiply", P.mul);
export const divide = binary("divide", P.div, true);
export const maximum = binary("maximum", P.max);
export const minimum = binary("minimum", P.min);
export const arctan2 = binary("arctan2", P.atan2, true);

/** x ** y; an integer JS exponent becomes integer_pow (exact, and differentiable at 0). */
export function power(a: TensorLike, b: TensorLike): Tensor {
  if (typeof b === "number" && Number.isInteger(b) && Math.abs(b) <= 1024) {
    const x = T(a, "power: argument 0");
    return P.integerPow(b < 0 ? toFloat(x) : x, b);
  }
  const [x, y] = promoteArgs("power", [a, b]);
  return P.pow(x, y);
}

export const negative = anyUnary("negative", P.neg);
export const abs = anyUnary("abs", P.abs);
export const sign = anyUnary("sign", P.sign);
export const exp = floatUnary("exp", P.exp);
export const log = floatUnary("log", P.log);
export const log1p = floatUnary("log1p", P.log1p);
export const expm1 = floatUnary("expm1", P.expm1);
export const sqrt = floatUnary("sqrt", P.sqrt);
export const sin = floatUnary("sin", P.sin);
export const cos = floatUnary("cos", P.cos);
export const tan = floatUnary("tan", P.tan);
export const arcsin = floatUnary("arcsin", P.asin);
export const arccos = floatUnary("arccos", P.acos);
export const arctan = floatUnary("arctan", P.atan);
export const sinh = floatUnary("sinh", P.sinh);
export const cosh = floatUnary("cosh", P.cosh);
export const tanh = floatUnary("tanh", P.tanh);
export const square: U = (x) => P.integerPow(T(x, "square: argument 0"), 2);
export const reciprocal: U = (x) => P.integerPow(toFloat(T(x, "reciprocal: argument 0")), -1);
const intIdentity = (name: string, f: (x: Tensor) => Tensor): U => (x) => {
  const t = T(x, `${name}: argument 0`);
  return isFloat(t.dtype) ? f(t) : t;
};
export const floor = intIdentity("floor", P.floor);
export const ceil = intIdentity("ceil", P.ceil);
export const round = intIdentity("round", P.round);

export function clip(x: TensorLike, lo: TensorLike | null, hi: TensorLike | null): Tensor {
  let out = T(x, "clip: argument 0");
  // Checked here so that a mismatch names clip, not the maximum/minimum it is made of.
  const bounds = [lo, hi].filter((b) => b !== null && b !== undefined).map((b, i) => T(b, `clip: bound ${i}`).shape);
  broadcastShapes("clip", [out.shape, ...bounds]);
  if (lo !== null && lo !== undefined) out = maximum(out, lo);
  if (hi !== null && hi !== undefined) out = minimum(out, hi);
  return out;
}

const cmp = (name: string, f: (a: Tensor, b: Tensor) => Tensor): B => binary(name, f);
export const less = cmp("less", P.lt);
export const lessEqual = cmp("lessEqual", P.le);
export const greater = cmp("greater", P.gt);
export const greaterEqual = cmp("greaterEqual", P.ge);
export const equal = cmp("equal", P.eq);
export const notEqual = cmp("notEqual", P.ne);

/** Elementwise `cond ? x : y` with broadcasting; a non-bool condition means `cond != 0`. */
export function where(cond: TensorLike, x: TensorLike, y: TensorLike): Tensor {
  let c = T(cond, "where: argument 0");
  const xt = T(x, "where: argument 1"), yt = T(y, "where: argument 2");
  const shape = broadcastShapes("where", [c.shape, xt.shape, yt.shape]);
  if (c.dtype !== "bool") c = notEqual(c, 0);
  const [xx, yy] = promoteArgs("where", [typeof x === "number" ? x : xt, typeof y === "number" ? y : yt]);
  return P.select(broadcastTo(c, shape, "where"), broadcastTo(xx, shape, "where"), broadcastTo(yy, shape, "where"));
}

export function astype(x: TensorLike, dtype: string): Tensor {
  const t = T(x, "astype: argument 0");
  if (!["float64", "float32", "int32", "uint32", "bool"].includes(dtype)) throw new DTypeError(`astype: unknown dtype ${JSON.stringify(dtype)}`);
  return P.convertElementType(t, dtype as never);
}

export const stopGradient = (x: TensorLike): Tensor => P.stopGradient(T(x, "stopGradient: argument 0"));
