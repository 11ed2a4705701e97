// More elementwise NumPy functions and predicates (issue 10 item 4). Composites, as jax.numpy's
// are, except `rem` and `cbrt`, which are lax primitives in JAX too.
import { type DType, isFloat, promoteTypes as promoteDTypes } from "../core/dtype.js";
import { DTypeError } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { checkOptions, numberWhere } from "../core/validate.js";
import * as ops from "../primitives/elementwise.js";
import { full } from "../primitives/util.js";
import { customJvp } from "../transforms/custom-jvp.js";
import { type TensorTree, flatten, unflatten } from "../core/tree.js";
import { toTensor, promoteArgs, resultType as resultOf, toFloat } from "./promote.js";
import { abs, add, divide, equal, exp, floor, less, log, log1p, maximum, minimum, multiply, notEqual, sin, sqrt, subtract, where } from "./math.js";

const LN2 = Math.LN2, LN10 = Math.LN10;
const fl = (x: TensorLike, name: string): Tensor => toFloat(toTensor(x, `${name}: argument 0`));
const scalarLike = (t: Tensor, v: number): Tensor => full(t.shape, v, t.dtype);

export function isnan(x: TensorLike): Tensor {
  const t = toTensor(x, "isnan: argument 0");
  return isFloat(t.dtype) ? ops.ne(t, t) : full(t.shape, 0, "bool");
}
export function isinf(x: TensorLike): Tensor {
  const t = toTensor(x, "isinf: argument 0");
  return isFloat(t.dtype) ? ops.eq(ops.abs(t), scalarLike(t, Infinity)) : full(t.shape, 0, "bool");
}
export function isfinite(x: TensorLike): Tensor {
  const t = toTensor(x, "isfinite: argument 0");
  return isFloat(t.dtype) ? ops.lt(ops.abs(t), scalarLike(t, Infinity)) : full(t.shape, 1, "bool");
}

const anyNumber = numberWhere("a number", () => true);
/** NaN to `nan` (0), +inf to `posinf` and -inf to `neginf` (default: the largest finite values). */
export function nanToNum(x: TensorLike, opts?: { nan?: number; posinf?: number; neginf?: number }): Tensor {
  const o = checkOptions("np.nanToNum", opts, { nan: anyNumber, posinf: anyNumber, neginf: anyNumber });
  const t = toTensor(x, "nanToNum: argument 0");
  if (!isFloat(t.dtype)) return t;
  const big = t.dtype === "float32" ? 3.4028234663852886e38 : Number.MAX_VALUE;
  let out = where(isnan(t), o.nan ?? 0, t);
  out = where(ops.eq(out, scalarLike(t, Infinity)), o.posinf ?? big, out);
  return where(ops.eq(out, scalarLike(t, -Infinity)), o.neginf ?? -big, out);
}

export const exp2 = (x: TensorLike): Tensor => exp(multiply(fl(x, "exp2"), LN2));
export const log2 = (x: TensorLike): Tensor => divide(log(fl(x, "log2")), LN2);
export const log10 = (x: TensorLike): Tensor => divide(log(fl(x, "log10")), LN10);
export const cbrt = (x: TensorLike): Tensor => ops.cbrt(fl(x, "cbrt"));

/** sin(pi x) / (pi x), 1 at 0 (the quotient is taken at a safe point there, so the gradient is 0 too). */
export function sinc(x: TensorLike): Tensor {
  const t = fl(x, "sinc");
  const zero = equal(t, 0);
  const px = multiply(where(zero, 1, t), Math.PI);
  return where(zero, 1, divide(sin(px), px));
}

/** sqrt(a^2 + b^2) without overflow: the larger magnitude times sqrt(1 + ratio^2). */
export function hypot(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = promoteArgs("hypot", [a, b], { float: true }).map((t) => abs(t));
  const hi = maximum(x, y), lo = minimum(x, y);
  const safe = where(equal(hi, 0), 1, hi);
  const r = divide(lo, safe);
  return where(equal(hi, 0), 0, multiply(hi, sqrt(add(1, multiply(r, r)))));
}

/** max + log1p(base^-|a - b|) / log(base), stable; equal infinities (or a NaN) give a + b. */
function logAddPrimal(x: Tensor, y: Tensor, base2: boolean): Tensor {
  const hi = maximum(x, y), d = subtract(x, y);
  const nan = isnan(d);
  const m = multiply(abs(where(nan, 0, d)), -1);
  return where(nan, add(x, y), add(hi, base2 ? divide(log1p(exp2(m)), LN2) : log1p(exp(m))));
}
/**
 * The function with JAX's JVP rule: t_a w_a + t_b w_b with weights base^(a - out) (0 where that
 * difference is not finite). Differentiating the max + |a - b| form would be wrong at a tie, where
 * the function is smooth but those pieces are not.
 */
function logAdd(base2: boolean): (x: Tensor, y: Tensor) => Tensor {
  const f = customJvp((x: Tensor, y: Tensor) => logAddPrimal(x, y, base2));
  // The rule's output is f itself, so that higher derivatives use this rule again.
  return f.defjvp(([x, y], [tx, ty]) => {
    const out = f(x, y);
    const weight = (z: Tensor): Tensor => {
      const d = subtract(z, out);
      const safe = where(isfinite(d), d, 0);
      return where(isfinite(d), base2 ? exp2(safe) : exp(safe), 0);
    };
    return [out, add(multiply(tx, weight(x)), multiply(ty, weight(y)))];
  });
}
const logAddE = logAdd(false), logAdd2 = logAdd(true);

/** log(e^a + e^b). */
export function logaddexp(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = promoteArgs("logaddexp", [a, b], { float: true });
  return logAddE(x, y);
}
/** log2(2^a + 2^b). */
export function logaddexp2(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = promoteArgs("logaddexp2", [a, b], { float: true });
  return logAdd2(x, y);
}

/** C's fmod: the remainder with the sign of the dividend (lax.rem). */
export function fmod(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = promoteArgs("fmod", [a, b]);
  if (x.dtype === "bool") throw new DTypeError("fmod: boolean operands are not supported");
  return ops.rem(x, y);
}

/** Python's %: the remainder with the sign of the divisor. */
export function remainder(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = promoteArgs("remainder", [a, b]);
  if (x.dtype === "bool") throw new DTypeError("remainder: boolean operands are not supported");
  const r = ops.rem(x, y);
  const fix = ops.select(ops.ne(r, scalarLike(r, 0)), ops.ne(ops.lt(r, scalarLike(r, 0)), ops.lt(y, scalarLike(y, 0))), full(r.shape, 0, "bool"));
  return where(fix, add(r, y), r);
}

/** Python's //: floor of the quotient, from the exact remainder as NumPy's divmod (1 // 0.1 is 9). */
export function floorDivide(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = promoteArgs("floorDivide", [a, b]);
  if (x.dtype === "bool") throw new DTypeError("floorDivide: boolean operands are not supported");
  if (!isFloat(x.dtype)) {
    const q = ops.div(x, y);
    const off = ops.select(notEqual(ops.rem(x, y), 0), notEqual(less(x, 0), less(y, 0)), full(x.shape, 0, "bool"));
    return where(off, subtract(q, 1), q);
  }
  const mod = ops.rem(x, y);
  let div = divide(subtract(x, mod), y);
  const off = ops.select(notEqual(mod, 0), notEqual(less(y, 0), less(mod, 0)), full(x.shape, 0, "bool"));
  div = where(off, subtract(div, 1), div);
  // The quotient of exact multiples can be off by rounding: snap to the nearest integer as NumPy.
  const fd = floor(div);
  return where(ops.gt(subtract(div, fd), scalarLike(div, 0.5)), add(fd, 1), where(equal(y, 0), divide(x, y), fd));
}

/** |a| with the sign of b (of -0 too). */
export function copysign(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = promoteArgs("copysign", [a, b], { float: true });
  // 1 / y separates -0 from +0.
  const neg = ops.select(ops.eq(y, scalarLike(y, 0)), ops.lt(ops.div(scalarLike(y, 1), y), scalarLike(y, 0)), ops.lt(y, scalarLike(y, 0)));
  const m = abs(x);
  return where(neg, multiply(m, -1), m);
}

/** 0 for x < 0, `h0` at 0, 1 for x > 0 (NaN stays NaN). */
export function heaviside(x: TensorLike, h0: TensorLike): Tensor {
  const [t, h] = promoteArgs("heaviside", [x, h0], { float: true });
  return where(equal(t, 0), h, where(less(t, 0), 0, where(isnan(t), t, 1)));
}

/** Rounds half to even at `decimals` places (negative: to tens, hundreds ...), as NumPy. */
export function round(x: TensorLike, decimals = 0): Tensor {
  const t = toTensor(x, "round: argument 0");
  if (!Number.isInteger(decimals)) throw new DTypeError(`round: decimals must be an integer, got ${decimals}`);
  if (!isFloat(t.dtype)) {
    if (decimals >= 0) return t;
    const f = 10 ** -decimals;
    return ops.convertElementType(multiply(ops.round(divide(t, f)), f), t.dtype);
  }
  if (decimals === 0) return ops.round(t);
  // NumPy multiplies by 10^d (or divides by 10^-d, exact for the powers of ten) and divides back.
  if (decimals > 0) {
    const f = 10 ** decimals;
    return divide(ops.round(multiply(t, f)), f);
  }
  const f = 10 ** -decimals;
  return multiply(ops.round(divide(t, f)), f);
}

/** The dtype NumPy/JAX promotion gives these arrays and JS numbers (weak scalars). */
export function resultType(...xs: (TensorLike | DType)[]): DType {
  if (xs.length === 0) throw new DTypeError("resultType: needs at least one argument");
  const ts = xs.map((x, i) => (typeof x === "string" ? full([], 0, dtypeArg(x, "resultType")) : toTensor(x, `resultType: argument ${i}`)));
  return resultOf(ts, xs)[0];
}

function dtypeArg(d: string, where: string): DType {
  if (!["float64", "float32", "int32", "uint32", "bool"].includes(d)) throw new DTypeError(`${where}: unknown dtype ${JSON.stringify(d)}`);
  return d as DType;
}

/** The smallest dtype both promote to (strong dtypes, as np.promote_types). */
export function promoteTypes(a: DType, b: DType): DType {
  return promoteDTypes(dtypeArg(a, "promoteTypes"), false, dtypeArg(b, "promoteTypes"), false)[0];
}

/** jax.lax's rsqrt, rem and cbrt: no promotion (operands of one dtype), as lax. */
export const laxElementwise = {
  rsqrt: (x: TensorLike): Tensor => ops.rsqrt(toTensor(x, "lax.rsqrt: x")),
  rem: (x: TensorLike, y: TensorLike): Tensor => ops.rem(toTensor(x, "lax.rem: x"), toTensor(y, "lax.rem: y")),
  cbrt: (x: TensorLike): Tensor => ops.cbrt(toTensor(x, "lax.cbrt: x")),
};

/** Blocks derivatives through every leaf of a pytree (a single array is the one-leaf case), as JAX's stop_gradient. */
export function stopGradient<T>(x: T): TensorTree<T> {
  const [leaves, def] = flatten(x);
  return unflatten(
    def,
    leaves.map((l, i) => ops.stopGradient(toTensor(l, leaves.length === 1 ? "stopGradient: argument 0" : `stopGradient: leaf ${i}`))),
  ) as TensorTree<T>;
}
