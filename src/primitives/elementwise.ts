import { mapN } from "../backend/elementwise.js";
import { convert } from "../backend/structural.js";
import { type DType, isFloat } from "../core/dtype.js";
import { DTypeError } from "../core/errors.js";
import { type Params, type Primitive, type Tangent, UndefPrimal, Zero, definePrimitive } from "../core/primitive.js";
import { ShapedArray, sameShape } from "../core/shaped-array.js";
import { ArrayTensor, type Tensor } from "../core/tensor.js";
import { bind1 } from "../core/trace.js";
import { vectorizedBatch } from "./batching.js";
import { fullLike, instantiate, isZero, naryAval, sameAval, zerosLike } from "./util.js";

type Unary = (x: Tensor) => Tensor;

function floatOnly(name: string, avals: ShapedArray[]): ShapedArray[] {
  if (!isFloat(avals[0].dtype)) throw new DTypeError(`${name}: expected a floating-point input, got ${avals[0].dtype}`);
  return sameAval(avals);
}

/**
 * A unary primitive whose derivative is `t * coef(x, y)` with `coef` computed from the primals, so
 * that the linear part is a single multiplication by a stored residual.
 */
function unary(name: string, expr: string, coef: ((x: Tensor, y: Tensor) => Tensor) | "zero", float = true): [Primitive, Unary] {
  const p = definePrimitive(name, (self) => ({
    impl: ([x], _params, [out]) => [mapN(expr, [x], out.dtype)],
    elementwiseExpr: () => expr,
    abstractEval: (avals) => (float ? floatOnly(name, avals) : sameAval(avals)),
    jvp: ([x], [t]) => {
      const y = bind1(self, [x]);
      if (coef === "zero") return [[y], [new Zero(y.aval.strong())]];
      return [[y], [mul(instantiate(t), coef(x, y))]];
    },
    batch: vectorizedBatch(self),
  }));
  return [p, (x: Tensor) => bind1(p, [x])];
}

function binary(name: string, expr: string | ((dtype: DType) => string), outDtype?: DType): Primitive {
  return definePrimitive(name, (self) => ({
    impl: ([a, b], _p, [out]) => [mapN(typeof expr === "string" ? expr : expr(out.dtype), [a, b], out.dtype)],
    elementwiseExpr: (_p, d) => (typeof expr === "string" ? expr : expr(d)),
    abstractEval: (avals) => [naryAval(name, avals, outDtype)],
    batch: vectorizedBatch(self),
  }));
}

// ---- linear arithmetic ----
export const negP = definePrimitive("neg", (self) => ({
  impl: ([x], _p, [o]) => [mapN("-x0", [x], o.dtype)],
  elementwiseExpr: () => "-x0",
  abstractEval: sameAval,
  jvp: ([x], [t]) => [[neg(x)], [neg(instantiate(t))]],
  transpose: ([ct]) => [isZero(ct) ? ct : neg(ct)],
  batch: vectorizedBatch(self),
}));
export const neg: Unary = (x) => bind1(negP, [x]);

export const addP = binary("add", "x0 + x1");
addP.jvp = ([a, b], [ta, tb]) => [[add(a, b)], [addTangents(ta, tb)]];
addP.transpose = ([ct], [a, b]) => [a instanceof UndefPrimal ? ct : null, b instanceof UndefPrimal ? ct : null];
export const add = (a: Tensor, b: Tensor): Tensor => bind1(addP, [a, b]);

export const subP = binary("sub", "x0 - x1");
subP.jvp = ([a, b], [ta, tb]) => [[sub(a, b)], [isZero(tb) ? ta : isZero(ta) ? neg(tb) : sub(ta, tb)]];
subP.transpose = ([ct], [a, b]) => [a instanceof UndefPrimal ? ct : null, b instanceof UndefPrimal ? (isZero(ct) ? ct : neg(ct)) : null];
export const sub = (a: Tensor, b: Tensor): Tensor => bind1(subP, [a, b]);

// uint32 products wrap modulo 2^32 (as C and JAX): a float product above 2^53 would lose the low bits.
export const mulP = binary("mul", (d) => (d === "uint32" ? "Math.imul(x0, x1) >>> 0" : "x0 * x1"));
mulP.jvp = ([a, b], [ta, tb]) => [[mul(a, b)], [addTangents(isZero(ta) ? ta : mul(ta, b), isZero(tb) ? tb : mul(a, tb))]];
mulP.transpose = ([ct], [a, b]) => {
  if (a instanceof UndefPrimal && b instanceof UndefPrimal) throw new Error("mul: cannot transpose a product of two linear inputs");
  if (isZero(ct)) return [a instanceof UndefPrimal ? ct : null, b instanceof UndefPrimal ? ct : null];
  return [a instanceof UndefPrimal ? mul(ct, b as Tensor) : null, b instanceof UndefPrimal ? mul(a as Tensor, ct) : null];
};
/**
 * True when `c` is a concrete constant whose every element is 1 and multiplying `other` by it
 * cannot change `other`'s type: then `other * c` is `other` exactly (IEEE x * 1 = x, NaN and -0
 * included). Reverse mode seeds cotangents with ones, so this keeps `mul a 1.0` out of gradients.
 */
function isUnit(c: Tensor, other: Tensor): boolean {
  if (!(c instanceof ArrayTensor) || c.aval.dtype !== other.aval.dtype || (other.aval.weakType && !c.aval.weakType)) return false;
  const { arr } = c;
  return c.aval.size > 0 && arr.stride.every((s) => s === 0) && arr.data[arr.offset] === 1 && sameShape(c.aval.shape, other.aval.shape);
}
export const mul = (a: Tensor, b: Tensor): Tensor => (isUnit(b, a) ? a : isUnit(a, b) ? b : bind1(mulP, [a, b]));

export const divP = binary("div", (d) => (isFloat(d) ? "x0 / x1" : "Math.trunc(x0 / x1)"));
divP.jvp = ([a, b], [ta, tb]) => {
  const out = div(a, b);
  const tOut = addTangents(isZero(ta) ? ta : div(ta, b), isZero(tb) ? tb : mul(tb, neg(div(out, b))));
  return [[out], [tOut]];
};
divP.transpose = ([ct], [a, b]) => {
  if (b instanceof UndefPrimal) throw new Error("div: cannot transpose with respect to the divisor");
  return [isZero(ct) ? ct : div(ct, b), null];
};
export const div = (a: Tensor, b: Tensor): Tensor => bind1(divP, [a, b]);

export function addTangents(a: Tangent, b: Tangent): Tangent {
  if (isZero(a)) return b;
  if (isZero(b)) return a;
  return add(a, b);
}

// ---- nonlinear elementwise ----
export const [sinP, sin] = unary("sin", "Math.sin(x0)", (x) => cos(x));
export const [cosP, cos] = unary("cos", "Math.cos(x0)", (x) => neg(sin(x)));
export const [tanP, tan] = unary("tan", "Math.tan(x0)", (_x, y) => add(fullLike(y, 1), mul(y, y)));
export const [asinP, asin] = unary("asin", "Math.asin(x0)", (x) => rsqrt(sub(fullLike(x, 1), mul(x, x))));
export const [acosP, acos] = unary("acos", "Math.acos(x0)", (x) => neg(rsqrt(sub(fullLike(x, 1), mul(x, x)))));
export const [atanP, atan] = unary("atan", "Math.atan(x0)", (x) => div(fullLike(x, 1), add(fullLike(x, 1), mul(x, x))));
export const [sinhP, sinh] = unary("sinh", "Math.sinh(x0)", (x) => cosh(x));
export const [coshP, cosh] = unary("cosh", "Math.cosh(x0)", (x) => sinh(x));
export const [tanhP, tanh] = unary("tanh", "Math.tanh(x0)", (_x, y) => sub(fullLike(y, 1), mul(y, y)));
export const [expP, exp] = unary("exp", "Math.exp(x0)", (_x, y) => y);
export const [logP, log] = unary("log", "Math.log(x0)", (x) => div(fullLike(x, 1), x));
export const [log1pP, log1p] = unary("log1p", "Math.log1p(x0)", (x) => div(fullLike(x, 1), add(fullLike(x, 1), x)));
export const [expm1P, expm1] = unary("expm1", "Math.expm1(x0)", (_x, y) => add(y, fullLike(y, 1)));
export const [sqrtP, sqrt] = unary("sqrt", "Math.sqrt(x0)", (_x, y) => div(fullLike(y, 0.5), y));
export const [rsqrtP, rsqrt] = unary("rsqrt", "1 / Math.sqrt(x0)", (x, y) => mul(fullLike(y, -0.5), div(y, x)));
// d|x| = t for x >= 0 (zero included, as JAX's select(x >= 0, t, -t)), -t below, NaN at NaN. At the
// kink this is the right-hand derivative, which composites such as sigmoid (built from e^-|x|)
// rely on: with sign(0) = 0 there, sigmoid'(0) silently came out as 0 instead of 1/4.
export const [absP, abs] = unary("abs", "Math.abs(x0)", (x) => add(sign(x), convertElementType(eq(x, zerosLike(x)), x.dtype)), false);
export const [signP, sign] = unary("sign", "x0 > 0 ? 1 : x0 < 0 ? -1 : x0", "zero", false);
export const [floorP, floor] = unary("floor", "Math.floor(x0)", "zero", false);
export const [ceilP, ceil] = unary("ceil", "Math.ceil(x0)", "zero", false);
// Half to even, as NumPy's round.
export const [roundP, round] = unary("round", "Math.abs(x0 % 1) === 0.5 ? 2 * Math.round(x0 / 2) : Math.round(x0)", "zero", false);

function powExpr(n: number): string {
  if (n === 0) return "1";
  const m = Math.abs(n);
  const prod = m <= 16 ? Array.from({ length: m }, () => "x0").join(" * ") : `Math.pow(x0, ${m})`;
  return n > 0 ? prod : `1 / (${prod})`;
}
export const integerPowP: Primitive<{ y: number }> = definePrimitive("integer_pow", (self) => ({
  impl: ([x], { y }, [o]) => [mapN(powExpr(y), [x], o.dtype)],
  elementwiseExpr: ({ y }) => powExpr(y),
  abstractEval: sameAval,
  jvp: ([x], [t], { y }) => {
    const out = integerPow(x, y);
    if (y === 0) return [[out], [new Zero(out.aval.strong())]];
    const coef = y === 1 ? fullLike(x, 1) : mul(fullLike(x, y), integerPow(x, y - 1));
    return [[out], [mul(instantiate(t), coef)]];
  },
  batch: vectorizedBatch(self),
}));
export const integerPow = (x: Tensor, y: number): Tensor => bind1(integerPowP, [x], { y });

export const powP = binary("pow", "Math.pow(x0, x1)");
powP.jvp = ([x, y], [tx, ty]) => {
  const out = pow(x, y);
  const zero = zerosLike(x), one = fullLike(x, 1);
  // d/dx = y x^(y-1), taken as 0 where y == 0 (x^0 is constant even at x = 0).
  const dx = isZero(tx) ? tx : mul(tx, select(eq(y, zero), zero, mul(y, pow(x, sub(y, one)))));
  // d/dy = log(x) x^y, taken as 0 where x == 0 (as JAX does).
  const dy = isZero(ty) ? ty : mul(ty, mul(log(select(eq(x, zero), one, x)), out));
  return [[out], [addTangents(dx, dy)]];
};
export const pow = (a: Tensor, b: Tensor): Tensor => bind1(powP, [a, b]);

// max/min split the tangent evenly at ties, as JAX does (its _balanced_eq): an operand gets
// (it equals the output ? 1 : 0) / (the other equals it too ? 2 : 1). A NaN output equals
// neither operand, so no tangent flows to the non-NaN one through a value it did not choose.
function tieCoefs(a: Tensor, b: Tensor, out: Tensor): [Tensor, Tensor] {
  const zero = zerosLike(a), one = fullLike(a, 1), half = fullLike(a, 0.5);
  const aHit = eq(a, out), bHit = eq(b, out);
  return [select(aHit, select(bHit, half, one), zero), select(bHit, select(aHit, half, one), zero)];
}
export const maxP = binary("max", "(x0 > x1 || x0 !== x0) ? x0 : x1");
maxP.jvp = ([a, b], [ta, tb]) => {
  const out = max(a, b);
  const [ca, cb] = tieCoefs(a, b, out);
  return [[out], [addTangents(isZero(ta) ? ta : mul(ta, ca), isZero(tb) ? tb : mul(tb, cb))]];
};
export const max = (a: Tensor, b: Tensor): Tensor => bind1(maxP, [a, b]);
export const minP = binary("min", "(x0 < x1 || x0 !== x0) ? x0 : x1");
minP.jvp = ([a, b], [ta, tb]) => {
  const out = min(a, b);
  const [ca, cb] = tieCoefs(a, b, out);
  return [[out], [addTangents(isZero(ta) ? ta : mul(ta, ca), isZero(tb) ? tb : mul(tb, cb))]];
};
export const min = (a: Tensor, b: Tensor): Tensor => bind1(minP, [a, b]);

export const atan2P = binary("atan2", "Math.atan2(x0, x1)");
atan2P.jvp = ([y, x], [ty, tx]) => {
  const d = add(mul(x, x), mul(y, y));
  const dy = isZero(ty) ? ty : mul(ty, div(x, d));
  const dx = isZero(tx) ? tx : mul(tx, neg(div(y, d)));
  return [[atan2(y, x)], [addTangents(dy, dx)]];
};
export const atan2 = (y: Tensor, x: Tensor): Tensor => bind1(atan2P, [y, x]);

function comparison(name: string, op: string): [Primitive, (a: Tensor, b: Tensor) => Tensor] {
  const p = binary(name, `x0 ${op} x1 ? 1 : 0`, "bool");
  p.abstractEval = (avals) => {
    const a = naryAval(name, avals, "bool");
    return [new ShapedArray(a.shape, "bool")];
  };
  p.jvp = ([a, b]) => {
    const out = bind1(p, [a, b]);
    return [[out], [new Zero(out.aval)]];
  };
  return [p, (a, b) => bind1(p, [a, b])];
}
export const [ltP, lt] = comparison("lt", "<");
export const [leP, le] = comparison("le", "<=");
export const [gtP, gt] = comparison("gt", ">");
export const [geP, ge] = comparison("ge", ">=");
export const [eqP, eq] = comparison("eq", "===");
export const [neP, ne] = comparison("ne", "!==");

export const selectP = definePrimitive("select", (self) => ({
  impl: ([p, a, b], _params, [o]) => [mapN("x0 !== 0 ? x1 : x2", [p, a, b], o.dtype)],
  elementwiseExpr: () => "x0 !== 0 ? x1 : x2",
  abstractEval: ([p, a, b]) => {
    if (p.dtype !== "bool") throw new DTypeError(`select: the predicate must be bool, got ${p.dtype}`);
    naryAval("select", [p, a, b].map((v) => new ShapedArray(v.shape, a.dtype)));
    return [naryAval("select", [a, b])];
  },
  jvp: ([p, a, b], [, ta, tb]) => {
    const out = select(p, a, b);
    if (isZero(ta) && isZero(tb)) return [[out], [new Zero(out.aval.strong())]];
    return [[out], [select(p, instantiate(ta), instantiate(tb))]];
  },
  transpose: ([ct], [p, a, b]) => {
    if (p instanceof UndefPrimal) throw new Error("select: the predicate cannot be linear");
    const aL = a instanceof UndefPrimal, bL = b instanceof UndefPrimal;
    if (isZero(ct)) return [null, aL ? ct : null, bL ? ct : null];
    const z = zerosLike(ct);
    return [null, aL ? select(p, ct, z) : null, bL ? select(p, z, ct) : null];
  },
  batch: vectorizedBatch(self),
}));
/** Elementwise `pred ? onTrue : onFalse`; shape-strict. */
export const select = (p: Tensor, onTrue: Tensor, onFalse: Tensor): Tensor => bind1(selectP, [p, onTrue, onFalse]);

export const convertElementTypeP: Primitive<{ newDtype: DType; weakType: boolean }> = definePrimitive("convert_element_type", (self) => ({
  impl: ([x], { newDtype }) => [convert(x, newDtype)],
  // convert() is mapN of this expression.
  elementwiseExpr: ({ newDtype }) => (newDtype === "bool" ? "x0 !== 0 ? 1 : 0" : "x0"),
  abstractEval: ([x], { newDtype, weakType }) => [new ShapedArray(x.shape, newDtype, weakType)],
  jvp: ([x], [t], params) => {
    const out = bind1(self, [x], params);
    if (!isFloat(params.newDtype) || !isFloat(x.dtype)) return [[out], [new Zero(out.aval.strong())]];
    return [[out], [convertElementType(instantiate(t), params.newDtype)]];
  },
  transpose: ([ct], [x]) => [isZero(ct) ? new Zero((x as UndefPrimal).aval) : convertElementType(ct, (x as UndefPrimal).aval.dtype)],
  batch: vectorizedBatch(self),
}));
export function convertElementType(x: Tensor, newDtype: DType, weakType = false): Tensor {
  if (x.dtype === newDtype && x.weakType === weakType) return x;
  return bind1(convertElementTypeP, [x], { newDtype, weakType });
}

export const stopGradientP = definePrimitive("stop_gradient", (self) => ({
  impl: ([x]) => [x],
  elementwiseExpr: () => "x0",
  abstractEval: sameAval,
  jvp: ([x]) => {
    const out = bind1(self, [x]);
    return [[out], [new Zero(out.aval.strong())]];
  },
  batch: vectorizedBatch(self),
}));
export const stopGradient = (x: Tensor): Tensor => bind1(stopGradientP, [x]);

export type { Params };
