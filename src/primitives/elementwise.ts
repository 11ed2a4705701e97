import { mapN } from "../backend/index.js";
import { convert, convertExpr } from "../backend/index.js";
import { type DType, isFloat } from "../core/dtype.js";
import { DTypeError, InternalError } from "../core/errors.js";
import type { OnnxRule } from "../core/onnx-lowering.js";
import { type Params, type Primitive, type Tangent, UndefPrimal, Zero, definePrimitive, elementwiseCost } from "../core/primitive.js";
import { ShapedArray, sameShape } from "../core/shaped-array.js";
import { ArrayTensor, type Tensor } from "../core/tensor.js";
import { bind1 } from "../core/trace.js";
import { vectorizedBatch } from "./batching.js";
import { call, infix, movementCost, prefix, transcendentalCost } from "./metadata.js";
import { bilinear, defjvp, elementwiseRules, linearJvp, linearTranspose } from "./rule-helpers.js";
import { onnxCast, onnxIntegerPow, onnxNot, onnxOp } from "./onnx-rules.js";
import { floatAval, fullLike, instantiate, isZero, naryAval, naryAvals, sameAval, zerosLike } from "./util.js";
import { elementwiseSparsity } from "../interpreters/sparsity.js";

type Unary = (x: Tensor) => Tensor;

interface UnarySpec {
  /**
   * dy/dx from the input x and the output y: the output tangent is t * derivative(x, y), a single
   * multiplication by a stored residual. Absent: piecewise constant (`differentiable: false`).
   */
  derivative?: (x: Tensor, y: Tensor) => Tensor;
  /** Integer inputs are accepted too (abs, sign, floor, ...); otherwise floating point only. */
  integers?: boolean;
  transcendental?: boolean;
  /** The chapter's prefix notation (`ln` for log). */
  symbol: string;
  /** The ONNX operator computing it (absent: no faithful one, export refuses it). */
  onnx?: string;
}

/** A unary elementwise primitive computing `expr` (in x0), declared with all its rules and facts. */
function unary(name: string, expr: string, { derivative, integers = false, transcendental = false, symbol, onnx }: UnarySpec): [Primitive, Unary] {
  const p = definePrimitive(name, (self) => ({
    ...elementwiseRules(self, expr, integers ? sameAval : floatAval(name)),
    ...(derivative === undefined ? { differentiable: false } : { jvp: defjvp(self, (t, [x], y) => mul(t, derivative(x, y))) }),
    cost: transcendental ? transcendentalCost : elementwiseCost,
    notation: prefix(symbol),
    ...(onnx === undefined ? {} : { onnx: onnxOp(onnx) }),
    sparsity: elementwiseSparsity,
  }));
  return [p, (x: Tensor) => bind1(p, [x])];
}

// ---- linear arithmetic ----
export const negP = definePrimitive("neg", (self) => ({
  ...elementwiseRules(self, "-x0", sameAval),
  jvp: linearJvp(self),
  transpose: linearTranspose((ct) => [neg(ct)]),
  linear: true,
  notation: ([x]) => `-${x}`,
  sparsity: elementwiseSparsity,
  onnx: onnxOp("Neg"),
}));
export const neg: Unary = (x) => bind1(negP, [x]);

export const addP = definePrimitive("add", (self) => ({
  ...elementwiseRules(self, "x0 + x1", naryAvals("add")),
  jvp: defjvp(self, (t) => t, (t) => t),
  transpose: linearTranspose((ct, [a, b]) => [a instanceof UndefPrimal ? ct : null, b instanceof UndefPrimal ? ct : null]),
  linear: true,
  notation: infix("+"),
  sparsity: elementwiseSparsity,
  onnx: onnxOp("Add"),
}));
export const add = (a: Tensor, b: Tensor): Tensor => bind1(addP, [a, b]);

export const subP = definePrimitive("sub", (self) => ({
  ...elementwiseRules(self, "x0 - x1", naryAvals("sub")),
  // Not defjvp: both tangents present give one sub rather than an add of a neg.
  jvp: ([a, b], [ta, tb]) => [[sub(a, b)], [isZero(tb) ? ta : isZero(ta) ? neg(tb) : sub(ta, tb)]],
  transpose: linearTranspose((ct, [a, b]) => [a instanceof UndefPrimal ? ct : null, b instanceof UndefPrimal ? neg(ct) : null]),
  linear: true,
  notation: infix("-"),
  sparsity: elementwiseSparsity,
  onnx: onnxOp("Sub"),
}));
export const sub = (a: Tensor, b: Tensor): Tensor => bind1(subP, [a, b]);

export const mulP = definePrimitive("mul", (self) => ({
  // uint32 products wrap modulo 2^32 (as C and JAX): a float product above 2^53 would lose the low bits.
  // Integers wrap exactly (NumPy); a double product loses the low bits past 2^53.
  ...elementwiseRules(self, (d) => (d === "uint32" ? "Math.imul(x0, x1) >>> 0" : d === "int32" ? "Math.imul(x0, x1)" : "x0 * x1"), naryAvals("mul")),
  ...bilinear(self, (a, b) => mul(a, b), (ct, b) => mul(ct, b), (ct, a) => mul(a, ct)),
  notation: infix("*"),
  sparsity: elementwiseSparsity,
  onnx: onnxOp("Mul"),
}));
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

export const divP = definePrimitive("div", (self) => ({
  ...elementwiseRules(self, (d) => (isFloat(d) ? "x0 / x1" : "Math.trunc(x0 / x1)"), naryAvals("div")),
  jvp: defjvp(self, (t, [, b]) => div(t, b), (t, [, b], out) => mul(t, neg(div(out, b)))),
  transpose: linearTranspose((ct, [, b]) => {
    if (b instanceof UndefPrimal) throw new InternalError("div: cannot transpose with respect to the divisor");
    return [div(ct, b), null];
  }),
  linear: true,
  notation: infix("/"),
  sparsity: elementwiseSparsity,
  onnx: onnxOp("Div"),
}));
export const div = (a: Tensor, b: Tensor): Tensor => bind1(divP, [a, b]);

/**
 * The sum of two tangent contributions inside a primitive's JVP rule, Zero ones skipped, with the
 * `add` primitive: a rule's tangent reads as ordinary arithmetic in jaxprs and in costAnalysis
 * counts. (The interpreters sum the tangents of a value used twice with add_any.)
 */
export function sumTangents(a: Tangent, b: Tangent): Tangent {
  if (isZero(a)) return b;
  if (isZero(b)) return a;
  return add(a, b);
}

// ---- nonlinear elementwise ----
export const [sinP, sin] = unary("sin", "Math.sin(x0)", { derivative: (x) => cos(x), transcendental: true, symbol: "sin", onnx: "Sin" });
export const [cosP, cos] = unary("cos", "Math.cos(x0)", { derivative: (x) => neg(sin(x)), transcendental: true, symbol: "cos", onnx: "Cos" });
export const [tanP, tan] = unary("tan", "Math.tan(x0)", { derivative: (_x, y) => add(fullLike(y, 1), mul(y, y)), transcendental: true, symbol: "tan", onnx: "Tan" });
export const [asinP, asin] = unary("asin", "Math.asin(x0)", { derivative: (x) => rsqrt(sub(fullLike(x, 1), mul(x, x))), transcendental: true, symbol: "arcsin", onnx: "Asin" });
export const [acosP, acos] = unary("acos", "Math.acos(x0)", { derivative: (x) => neg(rsqrt(sub(fullLike(x, 1), mul(x, x)))), transcendental: true, symbol: "arccos", onnx: "Acos" });
export const [atanP, atan] = unary("atan", "Math.atan(x0)", { derivative: (x) => div(fullLike(x, 1), add(fullLike(x, 1), mul(x, x))), transcendental: true, symbol: "arctan", onnx: "Atan" });
export const [sinhP, sinh] = unary("sinh", "Math.sinh(x0)", { derivative: (x) => cosh(x), transcendental: true, symbol: "sinh", onnx: "Sinh" });
export const [coshP, cosh] = unary("cosh", "Math.cosh(x0)", { derivative: (x) => sinh(x), transcendental: true, symbol: "cosh", onnx: "Cosh" });
export const [tanhP, tanh] = unary("tanh", "Math.tanh(x0)", { derivative: (_x, y) => sub(fullLike(y, 1), mul(y, y)), transcendental: true, symbol: "tanh", onnx: "Tanh" });
export const [expP, exp] = unary("exp", "Math.exp(x0)", { derivative: (_x, y) => y, transcendental: true, symbol: "exp", onnx: "Exp" });
export const [logP, log] = unary("log", "Math.log(x0)", { derivative: (x) => div(fullLike(x, 1), x), transcendental: true, symbol: "ln", onnx: "Log" });
export const [log1pP, log1p] = unary("log1p", "Math.log1p(x0)", { derivative: (x) => div(fullLike(x, 1), add(fullLike(x, 1), x)), transcendental: true, symbol: "log1p" });
export const [expm1P, expm1] = unary("expm1", "Math.expm1(x0)", { derivative: (_x, y) => add(y, fullLike(y, 1)), transcendental: true, symbol: "expm1" });
export const [sqrtP, sqrt] = unary("sqrt", "Math.sqrt(x0)", { derivative: (_x, y) => div(fullLike(y, 0.5), y), transcendental: true, symbol: "sqrt", onnx: "Sqrt" });
export const [rsqrtP, rsqrt] = unary("rsqrt", "1 / Math.sqrt(x0)", { derivative: (x, y) => mul(fullLike(y, -0.5), div(y, x)), transcendental: true, symbol: "rsqrt" });
export const [cbrtP, cbrt] = unary("cbrt", "Math.cbrt(x0)", { derivative: (_x, y) => div(fullLike(y, 1 / 3), mul(y, y)), transcendental: true, symbol: "cbrt" });
// d|x| = t for x >= 0 (zero included, as JAX's select(x >= 0, t, -t)), -t below, NaN at NaN. At the
// kink this is the right-hand derivative, which composites such as sigmoid (built from e^-|x|)
// rely on: with sign(0) = 0 there, sigmoid'(0) silently came out as 0 instead of 1/4.
export const [absP, abs] = unary("abs", "Math.abs(x0)", {
  derivative: (x) => add(sign(x), convertElementType(eq(x, zerosLike(x)), x.dtype)),
  integers: true,
  symbol: "abs",
  onnx: "Abs",
});
export const [signP, sign] = unary("sign", "x0 > 0 ? 1 : x0 < 0 ? -1 : x0", { integers: true, symbol: "sign", onnx: "Sign" });
export const [floorP, floor] = unary("floor", "Math.floor(x0)", { integers: true, symbol: "floor", onnx: "Floor" });
export const [ceilP, ceil] = unary("ceil", "Math.ceil(x0)", { integers: true, symbol: "ceil", onnx: "Ceil" });
// Half to even, as NumPy's round.
export const [roundP, round] = unary("round", "Math.abs(x0 % 1) === 0.5 ? 2 * Math.round(x0 / 2) : Math.round(x0)", { integers: true, symbol: "round", onnx: "Round" });

function powExpr(n: number, dtype?: DType): string {
  if (n === 0) return "1";
  const m = Math.abs(n);
  if (n > 0 && (dtype === "int32" || dtype === "uint32")) {
    // Wrapping products (NumPy's int32 x**n); binary powering keeps the expression short.
    const sq = (e: string): string => `Math.imul(${e}, ${e})`;
    let acc: string | null = null;
    let base = "x0";
    for (let k = m; k > 0; k >>= 1) {
      if (k & 1) acc = acc === null ? base : `Math.imul(${acc}, ${base})`;
      if (k > 1) base = sq(base);
    }
    return dtype === "uint32" ? `(${acc} >>> 0)` : (acc as string);
  }
  const prod = m <= 16 ? Array.from({ length: m }, () => "x0").join(" * ") : `Math.pow(x0, ${m})`;
  return n > 0 ? prod : `1 / (${prod})`;
}
export const integerPowP: Primitive<{ y: number }> = definePrimitive("integer_pow", (self) => ({
  impl: ([x], { y }, [o]) => [mapN(powExpr(y, o.dtype), [x], o.dtype)],
  elementwiseExpr: ({ y }, d) => powExpr(y, d),
  abstractEval: sameAval,
  jvp: defjvp(self, (t, [x], out, { y }) =>
    y === 0 ? new Zero(out.aval.strong()) : mul(t, y === 1 ? fullLike(x, 1) : mul(fullLike(x, y), integerPow(x, y - 1))),
  ),
  batch: vectorizedBatch(self),
  notation: ([x], { y }) => `${x}^${y}`,
  sparsity: elementwiseSparsity,
  onnx: onnxIntegerPow,
}));
export const integerPow = (x: Tensor, y: number): Tensor => bind1(integerPowP, [x], { y });

export const powP = definePrimitive("pow", (self) => ({
  ...elementwiseRules(self, "Math.pow(x0, x1)", naryAvals("pow")),
  // One rule for both arguments: they share the constants.
  jvp: ([x, y], [tx, ty]) => {
    const out = pow(x, y);
    const zero = zerosLike(x), one = fullLike(x, 1);
    // d/dx = y x^(y-1). JAX special-cases y == 0 only for integer exponents; here both are
    // floats, so the formula stays live at y == 0 (its y-derivative, x^-1, is the mixed second
    // derivative) and only the point x == y == 0, where it would be 0 * inf, is taken as 0.
    const dxOf = (t: Tensor): Tensor => {
      const live = mul(y, pow(x, sub(y, one)));
      return mul(t, select(eq(y, zero), select(eq(x, zero), zero, live), live));
    };
    const dx = isZero(tx) ? tx : dxOf(tx);
    // d/dy = log(x) x^y, taken as 0 where x == 0 (as JAX does).
    const dy = isZero(ty) ? ty : mul(ty, mul(log(select(eq(x, zero), one, x)), out));
    return [[out], [sumTangents(dx, dy)]];
  },
  cost: transcendentalCost,
  notation: infix("^"),
  sparsity: elementwiseSparsity,
  onnx: onnxOp("Pow"),
}));
export const pow = (a: Tensor, b: Tensor): Tensor => bind1(powP, [a, b]);

// lax.rem: C's fmod (the result takes the dividend's sign); JS's % is exactly that, for floats and
// for int32 (an integer division by zero stores % 's NaN as 0 in the int buffer).
export const remP = definePrimitive("rem", (self) => ({
  ...elementwiseRules(self, "x0 % x1", naryAvals("rem")),
  // d/dx = 1, d/dy = -trunc(x / y), as JAX's rule.
  jvp: ([x, y], [tx, ty]) => {
    const dy = isZero(ty) ? ty : mul(ty, neg(trunc(div(x, y))));
    return [[rem(x, y)], [sumTangents(tx, dy)]];
  },
  notation: infix("rem"),
  sparsity: elementwiseSparsity,
}));
export const rem = (a: Tensor, b: Tensor): Tensor => bind1(remP, [a, b]);
const trunc = (q: Tensor): Tensor => mul(sign(q), floor(abs(q)));

// max/min split the tangent evenly at ties, as JAX does (its _balanced_eq): an operand gets
// (it equals the output ? 1 : 0) / (the other equals it too ? 2 : 1). A NaN output equals
// neither operand, so no tangent flows to the non-NaN one through a value it did not choose.
function tieCoefs(a: Tensor, b: Tensor, out: Tensor): [Tensor, Tensor] {
  const zero = zerosLike(a), one = fullLike(a, 1), half = fullLike(a, 0.5);
  const aHit = eq(a, out), bHit = eq(b, out);
  return [select(aHit, select(bHit, half, one), zero), select(bHit, select(aHit, half, one), zero)];
}
/** The JVP rule of max or min: both arguments' coefficients come from one comparison with the output. */
function extremumJvp(self: Primitive): NonNullable<Primitive["jvp"]> {
  return ([a, b], [ta, tb]) => {
    const out = bind1(self, [a, b]);
    const [ca, cb] = tieCoefs(a, b, out);
    return [[out], [sumTangents(isZero(ta) ? ta : mul(ta, ca), isZero(tb) ? tb : mul(tb, cb))]];
  };
}
export const maxP = definePrimitive("max", (self) => ({
  ...elementwiseRules(self, "(x0 > x1 || x0 !== x0) ? x0 : x1", naryAvals("max")),
  jvp: extremumJvp(self),
  notation: call("max"),
  sparsity: elementwiseSparsity,
  onnx: onnxOp("Max"),
}));
export const max = (a: Tensor, b: Tensor): Tensor => bind1(maxP, [a, b]);
export const minP = definePrimitive("min", (self) => ({
  ...elementwiseRules(self, "(x0 < x1 || x0 !== x0) ? x0 : x1", naryAvals("min")),
  jvp: extremumJvp(self),
  notation: call("min"),
  sparsity: elementwiseSparsity,
  onnx: onnxOp("Min"),
}));
export const min = (a: Tensor, b: Tensor): Tensor => bind1(minP, [a, b]);

export const atan2P = definePrimitive("atan2", (self) => ({
  ...elementwiseRules(self, "Math.atan2(x0, x1)", naryAvals("atan2")),
  // One rule for both arguments: they share the denominator x^2 + y^2.
  jvp: ([y, x], [ty, tx]) => {
    const d = add(mul(x, x), mul(y, y));
    const dy = isZero(ty) ? ty : mul(ty, div(x, d));
    const dx = isZero(tx) ? tx : mul(tx, neg(div(y, d)));
    return [[atan2(y, x)], [sumTangents(dy, dx)]];
  },
  cost: transcendentalCost,
  notation: call("arctan2"),
  sparsity: elementwiseSparsity,
}));
export const atan2 = (y: Tensor, x: Tensor): Tensor => bind1(atan2P, [y, x]);

/** A comparison `x0 op x1` with a bool result; `symbol` is the chapter's spelling. */
function comparison(name: string, op: string, symbol: string, onnx: OnnxRule<Params>): [Primitive, (a: Tensor, b: Tensor) => Tensor] {
  const p = definePrimitive(name, (self) => ({
    ...elementwiseRules(self, `x0 ${op} x1 ? 1 : 0`, (avals) => [new ShapedArray(naryAval(name, avals, "bool").shape, "bool")]),
    differentiable: false,
    notation: infix(symbol),
    onnx,
    sparsity: elementwiseSparsity,
  }));
  return [p, (a, b) => bind1(p, [a, b])];
}
export const [ltP, lt] = comparison("lt", "<", "<", onnxOp("Less"));
export const [leP, le] = comparison("le", "<=", "<=", onnxOp("LessOrEqual"));
export const [gtP, gt] = comparison("gt", ">", ">", onnxOp("Greater"));
export const [geP, ge] = comparison("ge", ">=", ">=", onnxOp("GreaterOrEqual"));
export const [eqP, eq] = comparison("eq", "===", "==", onnxOp("Equal"));
export const [neP, ne] = comparison("ne", "!==", "!=", onnxNot("Equal"));

export const selectP = definePrimitive("select", (self) => ({
  ...elementwiseRules(self, "x0 !== 0 ? x1 : x2", ([p, a, b]) => {
    if (p.dtype !== "bool") throw new DTypeError(`select: the predicate must be bool, got ${p.dtype}`);
    naryAval("select", [p, a, b].map((v) => new ShapedArray(v.shape, a.dtype)));
    return [naryAval("select", [a, b])];
  }),
  // Linear in the two branches together, the predicate fixed: select of the tangents.
  jvp: ([p, a, b], [, ta, tb]) => {
    const out = select(p, a, b);
    if (isZero(ta) && isZero(tb)) return [[out], [new Zero(out.aval.strong())]];
    return [[out], [select(p, instantiate(ta), instantiate(tb))]];
  },
  transpose: linearTranspose((ct, [p, a, b]) => {
    if (p instanceof UndefPrimal) throw new InternalError("select: the predicate cannot be linear");
    const z = zerosLike(ct);
    return [null, a instanceof UndefPrimal ? select(p, ct, z) : null, b instanceof UndefPrimal ? select(p, z, ct) : null];
  }),
  linear: true,
  notation: ([p, a, b]) => `${p} ? ${a} : ${b}`,
  sparsity: elementwiseSparsity,
  onnx: onnxOp("Where"),
}));
/** Elementwise `pred ? onTrue : onFalse`; shape-strict. */
export const select = (p: Tensor, onTrue: Tensor, onFalse: Tensor): Tensor => bind1(selectP, [p, onTrue, onFalse]);

export const convertElementTypeP: Primitive<{ newDtype: DType; weakType: boolean }> = definePrimitive("convert_element_type", (self) => ({
  impl: ([x], { newDtype }) => [convert(x, newDtype)],
  // convert() is mapN of this expression.
  elementwiseExpr: ({ newDtype }, _out, [from]) => convertExpr(from, newDtype),
  abstractEval: ([x], { newDtype, weakType }) => [new ShapedArray(x.shape, newDtype, weakType)],
  jvp: ([x], [t], params) => {
    const out = bind1(self, [x], params);
    if (!isFloat(params.newDtype) || !isFloat(x.dtype)) return [[out], [new Zero(out.aval.strong())]];
    return [[out], [convertElementType(instantiate(t), params.newDtype)]];
  },
  transpose: linearTranspose((ct, [x]) => [convertElementType(ct, x.aval.dtype)]),
  batch: vectorizedBatch(self),
  linear: true,
  cost: movementCost,
  notation: ([x], { newDtype }) => `${newDtype}(${x})`,
  sparsity: elementwiseSparsity,
  onnx: (ctx, [x], { newDtype }) => [onnxCast(ctx, x, newDtype)],
}));
export function convertElementType(x: Tensor, newDtype: DType, weakType = false): Tensor {
  if (x.dtype === newDtype && x.weakType === weakType) return x;
  return bind1(convertElementTypeP, [x], { newDtype, weakType });
}

export const stopGradientP = definePrimitive("stop_gradient", (self) => ({
  ...elementwiseRules(self, "x0", sameAval),
  // The input buffer itself, not a copy through the expression.
  impl: ([x]) => [x],
  differentiable: false,
  cost: movementCost,
  notation: prefix("stop_gradient"),
  sparsity: elementwiseSparsity,
  onnx: onnxOp("Identity"),
}));
export const stopGradient = (x: Tensor): Tensor => bind1(stopGradientP, [x]);
