// Every primitive's impl against hand-computed values and Math.*, in float64 and float32 (and
// int32 / bool where the primitive takes them). float32 results must be Math.fround of the
// float64 operation on the rounded inputs: the kernels compute in float64 and round once.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
import { flat } from "../helpers.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { DTypeError, ShapeError, type Tensor, np } from "../../src/index.js";
import type { DType } from "../../src/core/dtype.js";
import { type Primitive, allPrimitives } from "../../src/core/primitive.js";
import * as P from "../../src/primitives/elementwise.js";
import * as R from "../../src/primitives/reduce.js";
import * as S from "../../src/primitives/shape.js";
import { dotGeneral } from "../../src/primitives/dot.js";
import { gather, scatterAdd } from "../../src/primitives/gather.js";
import { full as fullP } from "../../src/primitives/util.js";

// ---- which impls ran, with which input dtypes (checked by the last test) ----
// The recording wrappers are installed only while this suite runs (the uvu CLI runs every file
// in one process, and other suites should not pay for them).
const seen = new Map<string, Set<DType>>();
const restore: [Primitive<any>, Primitive<any>["impl"]][] = [];
test.before(() => {
  for (const p of allPrimitives) {
    const impl = p.impl;
    restore.push([p, impl]);
    p.impl = (args, params, avals) => {
      const key = p.name;
      if (!seen.has(key)) seen.set(key, new Set());
      for (const a of args) seen.get(key)!.add(dtypeOfData(a.data));
      return impl(args, params, avals);
    };
  }
});
test.after(() => {
  for (const [p, impl] of restore) p.impl = impl;
  restore.length = 0;
});
function dtypeOfData(d: unknown): DType {
  return d instanceof Float64Array ? "float64" : d instanceof Float32Array ? "float32" : d instanceof Int32Array ? "int32" : "bool";
}

// ---- helpers ----
const FLOATS: DType[] = ["float64", "float32"];
const round = (dt: DType) => (dt === "float32" ? Math.fround : (v: number) => v);
const sameNum = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));

function expectValues(got: Tensor, want: number[], dtype: DType, what: string): void {
  assert.is(got.dtype, dtype, `${what}: dtype`);
  const g = flat(got);
  assert.is(g.length, want.length, `${what}: size`);
  g.forEach((v, i) => {
    if (!sameNum(v, want[i])) assert.unreachable(`${what}: element ${i} is ${v}, expected ${want[i]} (all: ${g.join(", ")})`);
  });
}

/** `fn` throws an instance of `cls` (uvu's assert.throws takes a predicate, not a class). */
function throwsA(fn: () => unknown, cls: new (...a: any[]) => Error, re?: RegExp): void {
  assert.throws(fn, (e: Error) => e instanceof cls && (re === undefined || re.test(e.message)));
}

const X = [-3.5, -1, -0.75, -0.5, -0, 0, 0.1, 0.25, 0.5, 1, 1.5, 2, 2.5, 10, 100, Infinity, -Infinity, NaN];

// ---- unary float primitives ----
const UNARY: [string, (x: Tensor) => Tensor, (x: number) => number][] = [
  ["neg", P.neg, (x) => -x],
  ["sin", P.sin, Math.sin],
  ["cos", P.cos, Math.cos],
  ["tan", P.tan, Math.tan],
  ["asin", P.asin, Math.asin],
  ["acos", P.acos, Math.acos],
  ["atan", P.atan, Math.atan],
  ["sinh", P.sinh, Math.sinh],
  ["cosh", P.cosh, Math.cosh],
  ["tanh", P.tanh, Math.tanh],
  ["exp", P.exp, Math.exp],
  ["log", P.log, Math.log],
  ["log1p", P.log1p, Math.log1p],
  ["expm1", P.expm1, Math.expm1],
  ["sqrt", P.sqrt, Math.sqrt],
  ["rsqrt", P.rsqrt, (x) => 1 / Math.sqrt(x)],
  ["abs", P.abs, Math.abs],
  ["sign", P.sign, Math.sign],
  ["floor", P.floor, Math.floor],
  ["ceil", P.ceil, Math.ceil],
];

test("unary float primitives equal Math.* in float64 and its fround in float32", () => {
  for (const [name, f, m] of UNARY) {
    for (const dt of FLOATS) {
      const r = round(dt);
      expectValues(f(np.array(X, dt)), X.map((x) => r(m(r(x)))), dt, `${name} ${dt}`);
    }
  }
});

test("unary primitives at hand-computed points", () => {
  const at = (f: (x: Tensor) => Tensor, x: number) => f(np.array(x)).item();
  assert.is(at(P.sin, 0), 0);
  assert.is(at(P.sin, Math.PI / 2), 1);
  assert.is(at(P.cos, 0), 1);
  assert.is(at(P.tan, 0), 0);
  assert.is(at(P.asin, 1), Math.PI / 2);
  assert.is(at(P.acos, 1), 0);
  assert.is(at(P.acos, -1), Math.PI);
  assert.is(at(P.atan, 1), Math.PI / 4);
  assert.is(at(P.sinh, 0), 0);
  assert.is(at(P.cosh, 0), 1);
  assert.is(at(P.tanh, 0), 0);
  assert.is(at(P.tanh, Infinity), 1);
  assert.is(at(P.exp, 0), 1);
  assert.is(at(P.exp, 1), Math.E);
  assert.is(at(P.exp, -Infinity), 0);
  assert.is(at(P.log, 1), 0);
  assert.is(at(P.log, Math.E), 1);
  assert.is(at(P.log, 0), -Infinity);
  assert.ok(Number.isNaN(at(P.log, -1)));
  assert.is(at(P.log1p, 0), 0);
  assert.is(at(P.log1p, -1), -Infinity);
  assert.is(at(P.expm1, 0), 0);
  assert.is(at(P.expm1, 1e-20), 1e-20);
  assert.is(at(P.sqrt, 16), 4);
  assert.ok(Number.isNaN(at(P.sqrt, -4)));
  assert.is(at(P.rsqrt, 4), 0.5);
  assert.is(at(P.rsqrt, 0), Infinity);
  assert.is(at(P.abs, -2.5), 2.5);
  assert.is(at(P.floor, -2.5), -3);
  assert.is(at(P.ceil, -2.5), -2);
  assert.is(at(P.sign, -7), -1);
  assert.is(at(P.sign, 0), 0);
  assert.is(at(P.neg, 3), -3);
  assert.is(np.array(0.1, "float32").item(), Math.fround(0.1));
  assert.is(P.exp(np.array(1, "float32")).item(), Math.fround(Math.E));
});

test("round is half to even (NumPy), in float64 and float32", () => {
  const xs = [0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 0.49999999999999994, 2.4999, 2.6, -2.6, 1e15 + 0.5, 7, NaN, Infinity];
  const want = [0, 2, 2, 4, -0, -2, -2, 0, 2, 3, -3, 1e15, 7, NaN, Infinity];
  expectValues(P.round(np.array(xs)), want, "float64", "round f64");
  const xs32 = [0.5, 1.5, 2.5, -2.5, 2.6, 1000.5, 1001.5];
  expectValues(P.round(np.array(xs32, "float32")), [0, 2, 2, -2, 3, 1000, 1002], "float32", "round f32");
  expectValues(np.round(np.array([0.5, 1.5])), [0, 2], "float64", "np.round");
});

test("float-only primitives reject int32 and bool with a DTypeError naming the primitive", () => {
  for (const f of [P.sin, P.exp, P.log, P.sqrt, P.tanh]) {
    assert.throws(() => f(np.array([1, 2], "int32")), (e: Error) => e instanceof DTypeError && /int32/.test(e.message));
    assert.throws(() => f(np.array([true])), (e: Error) => e instanceof DTypeError && /bool/.test(e.message));
  }
  assert.throws(() => P.sin(np.array([1], "int32")), /sin: expected a floating-point input, got int32/);
});

test("int32 unary primitives: neg, abs, sign, floor, ceil, round, integer_pow", () => {
  const xs = [-7, -1, 0, 1, 5, 2147483647];
  const x = np.array(xs, "int32");
  expectValues(P.neg(x), [7, 1, 0, -1, -5, -2147483647], "int32", "neg");
  expectValues(P.abs(x), [7, 1, 0, 1, 5, 2147483647], "int32", "abs");
  expectValues(P.sign(x), [-1, -1, 0, 1, 1, 1], "int32", "sign");
  for (const f of [P.floor, P.ceil, P.round]) expectValues(f(x), xs, "int32", "rounding is the identity");
  expectValues(P.integerPow(np.array([-3, -1, 0, 2, 7], "int32"), 3), [-27, -1, 0, 8, 343], "int32", "cube");
  expectValues(P.integerPow(np.array([-3, 0, 7], "int32"), 0), [1, 1, 1], "int32", "zeroth power");
  // int32 arithmetic wraps around, as in XLA.
  expectValues(P.neg(np.array([-2147483648], "int32")), [-2147483648], "int32", "neg of INT_MIN wraps");
  expectValues(P.abs(np.array([-3.5, 2], "float32")), [3.5, 2], "float32", "abs f32");
});

test("integer_pow: repeated multiplication, exact at hand-computed points, negative powers invert", () => {
  const xs = [-2, -0.5, 0, 0.5, 1.5, 3];
  const cases: [number, number[]][] = [
    [0, [1, 1, 1, 1, 1, 1]],
    [1, xs],
    [2, [4, 0.25, 0, 0.25, 2.25, 9]],
    [3, [-8, -0.125, 0, 0.125, 3.375, 27]],
    [5, [-32, -0.03125, 0, 0.03125, 7.59375, 243]],
    [-1, [-0.5, -2, Infinity, 2, 1 / 1.5, 1 / 3]],
    [-2, [0.25, 4, Infinity, 4, 1 / 2.25, 1 / 9]],
  ];
  for (const [y, want] of cases) {
    expectValues(P.integerPow(np.array(xs), y), want, "float64", `x^${y}`);
    const r32 = xs.map((x) => Math.fround(x));
    const f = (x: number) => (y >= 0 ? Array.from({ length: y }, () => x).reduce((a, b) => a * b, 1) : 1 / Array.from({ length: -y }, () => x).reduce((a, b) => a * b, 1));
    expectValues(P.integerPow(np.array(xs, "float32"), y), r32.map((x) => Math.fround(f(x))), "float32", `x^${y} f32`);
  }
  // Large exponents agree with Math.pow to rounding.
  const big = P.integerPow(np.array([1.01, 0.99]), 40).tolist() as number[];
  assert.ok(Math.abs(big[0] - Math.pow(1.01, 40)) < 1e-13 && Math.abs(big[1] - Math.pow(0.99, 40)) < 1e-13);
  expectValues(np.square(np.array([3, -4], "int32")), [9, 16], "int32", "np.square");
  expectValues(np.reciprocal(np.array([4, -0.5])), [0.25, -2], "float64", "np.reciprocal");
});

// ---- binary ----
const A = [1, -2, 0.5, 0, -0, 3, Infinity, -Infinity, NaN, 2, 7, -7];
const B = [2, 3, -0.25, 0, 5, -0, 2, Infinity, 1, NaN, 2, 2];
const maxRef = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a > b ? a : b);
const minRef = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a < b ? a : b);
const BINARY: [string, (a: Tensor, b: Tensor) => Tensor, (a: number, b: number) => number][] = [
  ["add", P.add, (a, b) => a + b],
  ["sub", P.sub, (a, b) => a - b],
  ["mul", P.mul, (a, b) => a * b],
  ["div", P.div, (a, b) => a / b],
  ["pow", P.pow, Math.pow],
  ["max", P.max, maxRef],
  ["min", P.min, minRef],
  ["atan2", P.atan2, Math.atan2],
];

test("binary float primitives equal their JS operation in float64 and its fround in float32", () => {
  for (const [name, f, op] of BINARY) {
    for (const dt of FLOATS) {
      const r = round(dt);
      expectValues(f(np.array(A, dt), np.array(B, dt)), A.map((a, i) => r(op(r(a), r(B[i])))), dt, `${name} ${dt}`);
    }
  }
  // float32 rounding is visible: 0.1 + 0.2 rounds differently than in float64.
  const s32 = P.add(np.array([0.1], "float32"), np.array([0.2], "float32")).item();
  assert.is(s32, Math.fround(Math.fround(0.1) + Math.fround(0.2)));
  assert.is.not(s32, 0.1 + 0.2);
  assert.is(P.add(np.array([0.1]), np.array([0.2])).item(), 0.30000000000000004);
});

test("binary primitives at hand-computed points", () => {
  const at = (f: (a: Tensor, b: Tensor) => Tensor, a: number, b: number) => f(np.array(a), np.array(b)).item();
  assert.is(at(P.add, 2, 3), 5);
  assert.is(at(P.sub, 2, 3), -1);
  assert.is(at(P.mul, 2, 3), 6);
  assert.is(at(P.div, 3, 2), 1.5);
  assert.is(at(P.div, 1, 0), Infinity);
  assert.is(at(P.pow, 2, 10), 1024);
  assert.is(at(P.pow, 4, 0.5), 2);
  assert.is(at(P.pow, 0, 0), 1);
  assert.is(at(P.atan2, 1, 1), Math.PI / 4);
  assert.is(at(P.atan2, 0, -1), Math.PI);
  assert.is(at(P.atan2, -1, 0), -Math.PI / 2);
  assert.is(at(P.max, 2, 3), 3);
  assert.is(at(P.min, 2, 3), 2);
});

test("max and min propagate NaN from either side, elementwise and through np", () => {
  const nan = np.array([NaN, 1, NaN]);
  const one = np.array([1, NaN, NaN]);
  for (const f of [P.max, P.min]) {
    expectValues(f(nan, one), [NaN, NaN, NaN], "float64", "NaN either side");
    expectValues(f(one, nan), [NaN, NaN, NaN], "float64", "NaN either side, swapped");
  }
  expectValues(np.maximum(np.array([1, NaN, 3], "float32"), np.array([NaN, 2, 1], "float32")), [NaN, NaN, 3], "float32", "np.maximum");
  expectValues(np.minimum(np.array([1, NaN, 3]), 2), [1, NaN, 2], "float64", "np.minimum with a scalar");
  expectValues(np.clip(np.array([-1, NaN, 5, 0.5]), 0, 1), [0, NaN, 1, 0.5], "float64", "clip keeps NaN");
});

test("int32 binary primitives: wrap-around, truncating division, max/min", () => {
  const a = np.array([7, -7, 2147483647, -2147483648, 6, 0], "int32");
  const b = np.array([2, 2, 1, -1, -4, 5], "int32");
  expectValues(P.add(a, b), [9, -5, -2147483648, 2147483647, 2, 5], "int32", "add wraps");
  expectValues(P.sub(a, b), [5, -9, 2147483646, -2147483647, 10, -5], "int32", "sub");
  expectValues(P.mul(a, b), [14, -14, 2147483647, -2147483648, -24, 0], "int32", "mul");
  expectValues(P.div(a, b), [3, -3, 2147483647, -2147483648, -1, 0], "int32", "div truncates toward zero");
  expectValues(P.max(a, b), [7, 2, 2147483647, -1, 6, 5], "int32", "max");
  expectValues(P.min(a, b), [2, -7, 1, -2147483648, -4, 0], "int32", "min");
  expectValues(P.pow(np.array([2, 3, -2], "int32"), np.array([10, 2, 3], "int32")), [1024, 9, -8], "int32", "pow");
});

test("bool arithmetic through np stays 0/1: add is or, multiply is and", () => {
  const t = np.array([true, true, false, false]);
  const u = np.array([true, false, true, false]);
  const or = np.add(t, u);
  assert.is(or.dtype, "bool");
  assert.equal(or.tolist(), [true, true, true, false]);
  assert.equal(flat(or), [1, 1, 1, 0]);
  assert.equal(np.astype(or, "int32").tolist(), [1, 1, 1, 0]);
  assert.equal(np.sum(or).item(), 3);
  const and = np.multiply(t, u);
  assert.equal(and.tolist(), [true, false, false, false]);
  assert.equal(np.maximum(t, u).tolist(), [true, true, true, false]);
  assert.equal(np.minimum(t, u).tolist(), [true, false, false, false]);
  assert.equal(flat(np.array([2, 0, -1, 0.5, NaN], "bool")), [1, 0, 1, 1, 1]);
  assert.equal(flat(np.full([2], 5, "bool")), [1, 1]);
});

test("binary primitives are shape- and dtype-strict", () => {
  assert.throws(() => P.add(np.ones([2]), np.ones([3])), (e: Error) => e instanceof ShapeError && e.message === "add: operands must have equal shapes, got [2] and [3]");
  throwsA(() => P.mul(np.ones([2, 1]), np.ones([2])), ShapeError);
  assert.throws(() => P.add(np.ones([2]), np.ones([2], "float32")), (e: Error) => e instanceof DTypeError && /float64 and float32/.test(e.message));
  assert.throws(() => P.select(np.ones([2]), np.ones([2]), np.ones([2])), (e: Error) => e instanceof DTypeError && /predicate must be bool/.test(e.message));
  throwsA(() => P.select(np.array([true]), np.ones([2]), np.ones([2])), ShapeError);
});

// ---- comparisons and select ----
test("comparisons in float64, float32, int32 and bool, NaN unordered", () => {
  const a = [1, 2, NaN, -0, Infinity, 3, NaN];
  const b = [2, 2, NaN, 0, Infinity, 1, 0];
  const want: Record<string, boolean[]> = {
    lt: [true, false, false, false, false, false, false],
    le: [true, true, false, true, true, false, false],
    gt: [false, false, false, false, false, true, false],
    ge: [false, true, false, true, true, true, false],
    eq: [false, true, false, true, true, false, false],
    ne: [true, false, true, false, false, true, true],
  };
  const ops: Record<string, (x: Tensor, y: Tensor) => Tensor> = { lt: P.lt, le: P.le, gt: P.gt, ge: P.ge, eq: P.eq, ne: P.ne };
  for (const [name, f] of Object.entries(ops)) {
    for (const dt of FLOATS) {
      const out = f(np.array(a, dt), np.array(b, dt));
      assert.is(out.dtype, "bool");
      assert.equal(out.tolist(), want[name], `${name} ${dt}`);
    }
    const ia = [1, 2, -5, 0], ib = [2, 2, -6, 0];
    const ref: Record<string, (x: number, y: number) => boolean> = { lt: (x, y) => x < y, le: (x, y) => x <= y, gt: (x, y) => x > y, ge: (x, y) => x >= y, eq: (x, y) => x === y, ne: (x, y) => x !== y };
    assert.equal(f(np.array(ia, "int32"), np.array(ib, "int32")).tolist(), ia.map((x, i) => ref[name](x, ib[i])), `${name} int32`);
    const ba = [true, true, false, false], bb = [true, false, true, false];
    assert.equal(f(np.array(ba), np.array(bb)).tolist(), ba.map((x, i) => ref[name](Number(x), Number(bb[i]))), `${name} bool`);
  }
  // The np names and fluent methods broadcast and promote first.
  assert.equal(np.less(np.array([1, 2, 3]), 2).tolist(), [true, false, false]);
  assert.equal(np.array([1, 2, 3], "int32").ge(2).tolist(), [false, true, true]);
  assert.equal(np.notEqual(np.array([1, NaN]), np.array([1, NaN])).tolist(), [false, true]);
});

test("select picks per element in every dtype; np.where broadcasts", () => {
  const p = np.array([true, false, true, false]);
  for (const dt of ["float64", "float32", "int32"] as DType[]) {
    expectValues(P.select(p, np.array([1, 2, 3, 4], dt), np.array([-1, -2, -3, -4], dt)), [1, -2, 3, -4], dt, `select ${dt}`);
  }
  assert.equal(P.select(p, np.array([true, true, true, true]), np.array([false, false, false, false])).tolist(), [true, false, true, false]);
  expectValues(P.select(p, np.array([NaN, 0, 0, 0]), np.array([0, NaN, 0, 0])), [NaN, NaN, 0, 0], "float64", "select passes NaN through");
  assert.equal(np.where(np.array([[true], [false]]), np.array([1, 2, 3]), 0).tolist(), [[1, 2, 3], [0, 0, 0]]);
  assert.equal(np.where(np.array([2, 0, -1]), 1, 0).tolist(), [1, 0, 1]);
});

// ---- conversion and identity ----
test("convert_element_type between every pair of dtypes", () => {
  const c = (xs: number[] | boolean[], from: DType, to: DType) => P.convertElementType(np.array(xs, from), to);
  expectValues(c([0.1, 1 / 3, 1e40, -1e-50], "float64", "float32"), [Math.fround(0.1), Math.fround(1 / 3), Infinity, -0], "float32", "f64 -> f32 rounds");
  expectValues(c([0.1, 1.5], "float32", "float64"), [Math.fround(0.1), 1.5], "float64", "f32 -> f64 exact");
  expectValues(c([2.7, -2.7, 0.5, -0.5, 1e9], "float64", "int32"), [2, -2, 0, 0, 1e9], "int32", "f64 -> i32 truncates");
  expectValues(c([2.7, -2.7], "float32", "int32"), [2, -2], "int32", "f32 -> i32 truncates");
  expectValues(c([16777217, -3, 2147483647], "int32", "float32"), [16777216, -3, 2147483648], "float32", "i32 -> f32 rounds");
  expectValues(c([16777217, -3], "int32", "float64"), [16777217, -3], "float64", "i32 -> f64 exact");
  for (const from of ["float64", "float32", "int32"] as DType[]) {
    assert.equal(c([0, -0, 2, -1, 0.5].map((v) => (from === "int32" ? Math.trunc(v) : v)), from, "bool").tolist(), from === "int32" ? [false, false, true, true, false] : [false, false, true, true, true], `${from} -> bool`);
  }
  assert.equal(c([NaN], "float64", "bool").tolist(), [true]);
  for (const to of ["float64", "float32", "int32"] as DType[]) expectValues(c([true, false], "bool", to), [1, 0], to, `bool -> ${to}`);
  expectValues(np.astype(np.array([1.9, -1.9]), "int32"), [1, -1], "int32", "np.astype");
});

test("stop_gradient is the identity on values of every dtype", () => {
  for (const dt of ["float64", "float32", "int32"] as DType[]) expectValues(P.stopGradient(np.array([1, -2, 3], dt)), [1, -2, 3], dt, `stop_gradient ${dt}`);
  assert.equal(P.stopGradient(np.array([true, false])).tolist(), [true, false]);
});

// ---- reductions ----
const SHAPE = [2, 3, 4];
// Distinct values with an order that is not the storage order, some negative.
const DATA = Array.from({ length: 24 }, (_, i) => ((i * 7) % 24) - 9);
const SMALL = Array.from({ length: 24 }, (_, i) => (i % 3) + 1); // products stay exact in float64
const SUBSETS: number[][] = [[], [0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]];

/** Reference reduction over `axes` of a row-major [2,3,4] array. */
function refReduce(data: number[], axes: number[], init: number, op: (acc: number, x: number) => number): [number[], number[]] {
  const outShape = SHAPE.filter((_, i) => !axes.includes(i));
  const size = outShape.reduce((a, b) => a * b, 1);
  const out = new Array<number>(size).fill(init);
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 3; j++)
      for (let k = 0; k < 4; k++) {
        const idx = [i, j, k].filter((_, d) => !axes.includes(d));
        let o = 0;
        idx.forEach((v, d) => (o = o * outShape[d] + v));
        out[o] = op(out[o], data[i * 12 + j * 4 + k]);
      }
  return [out, outShape];
}

const REDUCERS: [string, (x: Tensor, axes: number[]) => Tensor, number, (a: number, x: number) => number, number[]][] = [
  ["reduce_sum", R.reduceSum, 0, (a, x) => a + x, DATA],
  ["reduce_max", R.reduceMax, -Infinity, (a, x) => Math.max(a, x), DATA],
  ["reduce_min", R.reduceMin, Infinity, (a, x) => Math.min(a, x), DATA],
  ["reduce_prod", R.reduceProd, 1, (a, x) => a * x, SMALL],
];

test("reductions over every axis combination, float64 / float32 / int32", () => {
  for (const [name, f, init, op, data] of REDUCERS) {
    for (const dt of ["float64", "float32", "int32"] as DType[]) {
      const x = np.reshape(np.array(data, dt), SHAPE);
      for (const axes of SUBSETS) {
        const [want, shape] = refReduce(data, axes, init, op);
        const got = f(x, axes);
        assert.equal(got.shape, shape, `${name} ${dt} ${axes}`);
        expectValues(got, want.map(round(dt)), dt, `${name} ${dt} axes ${JSON.stringify(axes)}`);
      }
    }
  }
});

test("np reductions over every axis combination with and without keepdims (negative axes too)", () => {
  const x = np.reshape(np.array(DATA), SHAPE);
  const fns: [string, (t: Tensor, axis?: any, opts?: any) => Tensor, number, (a: number, x: number) => number][] = [
    ["sum", np.sum, 0, (a, v) => a + v],
    ["max", np.max, -Infinity, (a, v) => Math.max(a, v)],
    ["min", np.min, Infinity, (a, v) => Math.min(a, v)],
  ];
  for (const [name, f, init, op] of fns) {
    for (const axes of SUBSETS.slice(1)) {
      const [want, shape] = refReduce(DATA, axes, init, op);
      const neg = axes.map((a) => a - 3);
      for (const axis of [axes, neg, ...(axes.length === 1 ? [axes[0], axes[0] - 3] : [])]) {
        expectValues(f(x, axis), want, "float64", `np.${name} axis ${JSON.stringify(axis)}`);
        const kept = f(x, axis, { keepdims: true });
        assert.equal(kept.shape, SHAPE.map((d, i) => (axes.includes(i) ? 1 : d)), `np.${name} keepdims ${JSON.stringify(axis)}`);
        expectValues(kept, want, "float64", `np.${name} keepdims values`);
      }
      assert.equal(f(x, axes).shape, shape);
    }
    // No axis: everything, as a 0-d result (or all-ones shape with keepdims).
    const [all] = refReduce(DATA, [0, 1, 2], init, op);
    assert.is(f(x).item(), all[0]);
    assert.equal(f(x, null, { keepdims: true }).shape, [1, 1, 1]);
  }
  assert.is(np.prod(np.reshape(np.array(SMALL), SHAPE)).item(), refReduce(SMALL, [0, 1, 2], 1, (a, v) => a * v)[0][0]);
  assert.equal(np.mean(x, [0, 2], { keepdims: true }).shape, [1, 3, 1]);
  expectValues(np.mean(x, [0, 2]), refReduce(DATA, [0, 2], 0, (a, v) => a + v)[0].map((s) => s / 8), "float64", "mean");
  // Fluent forms.
  expectValues(x.sum(1), refReduce(DATA, [1], 0, (a, v) => a + v)[0], "float64", "x.sum(1)");
  assert.equal(x.max(-1, { keepdims: true }).shape, [2, 3, 1]);
  assert.throws(() => np.sum(x, 3), (e: Error) => e instanceof ShapeError && /axis 3/.test(e.message));
  assert.throws(() => np.sum(x, [0, -3]), (e: Error) => e instanceof ShapeError && /repeated/.test(e.message));
});

test("reductions of bool and int32: sum counts, max/min are any/all", () => {
  const b = np.array([[true, false, true], [false, false, false]]);
  const s = np.sum(b, 1);
  assert.is(s.dtype, "int32");
  assert.equal(s.tolist(), [2, 0]);
  assert.equal(R.reduceMax(b, [1]).tolist(), [true, false]);
  assert.equal(R.reduceMin(b, [0]).tolist(), [false, false, false]);
  const i = np.array([[-5, 3], [2, -8]], "int32");
  assert.equal(np.max(i, 0).tolist(), [2, 3]);
  assert.equal(np.min(i).item(), -8);
  assert.equal(np.max(i).dtype, "int32");
  // Empty reductions: the identities for sum and prod.
  assert.equal(R.reduceSum(np.zeros([0, 3]), [0]).tolist(), [0, 0, 0]);
  assert.equal(R.reduceProd(np.zeros([2, 0]), [1]).tolist(), [1, 1]);
  throwsA(() => np.max(np.zeros([0])), ShapeError);
});

test("reduce_max / reduce_min propagate NaN wherever it sits, per output element", () => {
  for (const dt of FLOATS) {
    const x = np.array([[NaN, 1, 2], [1, NaN, 2], [1, 2, NaN], [3, 1, 2]], dt);
    expectValues(R.reduceMax(x, [1]), [NaN, NaN, NaN, 3], dt, `max rows ${dt}`);
    expectValues(R.reduceMin(x, [1]), [NaN, NaN, NaN, 1], dt, `min rows ${dt}`);
    expectValues(R.reduceMax(x, [0]), [NaN, NaN, NaN], dt, `max columns ${dt}`);
    expectValues(R.reduceMax(x, [0, 1]), [NaN], dt, `max all ${dt}`);
    expectValues(np.max(x, 1), [NaN, NaN, NaN, 3], dt, `np.max ${dt}`);
    expectValues(R.reduceSum(x, [1]), [NaN, NaN, NaN, 6], dt, `sum ${dt}`);
  }
  expectValues(R.reduceMax(np.array([-Infinity, -Infinity]), [0]), [-Infinity], "float64", "max of -inf");
});

test("argmax / argmin: first of ties, first NaN wins, along each axis and flattened", () => {
  for (const dt of ["float64", "float32", "int32"] as DType[]) {
    const x = np.array([[3, 1, 3, 1], [0, 5, 5, -2], [2, 2, 2, 2]], dt);
    expectValues(R.argmax(x, 1), [0, 1, 0], "int32", `argmax rows ${dt}`);
    expectValues(R.argmin(x, 1), [1, 3, 0], "int32", `argmin rows ${dt}`);
    expectValues(R.argmax(x, 0), [0, 1, 1, 2], "int32", `argmax columns ${dt}`);
    expectValues(R.argmin(x, 0), [1, 0, 2, 1], "int32", `argmin columns ${dt}`);
    assert.is(np.argmax(x).item(), 5, `flattened argmax ${dt}`);
    assert.is(np.argmin(x).item(), 7, `flattened argmin ${dt}`);
    expectValues(np.argmax(x, -1), [0, 1, 0], "int32", `argmax axis -1 ${dt}`);
  }
  for (const dt of FLOATS) {
    const y = np.array([[1, NaN, 5, NaN], [NaN, 0, 0, 0], [-Infinity, -Infinity, -Infinity, -Infinity], [2, 9, 9, NaN]], dt);
    expectValues(R.argmax(y, 1), [1, 0, 0, 3], "int32", `argmax NaN ${dt}`);
    expectValues(R.argmin(y, 1), [1, 0, 0, 3], "int32", `argmin NaN ${dt}`);
    expectValues(R.argmin(np.array([[Infinity, Infinity], [Infinity, 1]], dt), 1), [0, 1], "int32", `argmin of inf ties ${dt}`);
  }
  assert.equal(R.argmax(np.array([false, true, true]), 0).item(), 1);
  assert.equal(R.argmin(np.array([true, false, false]), 0).item(), 1);
  const z3 = np.reshape(np.array(DATA), SHAPE);
  assert.equal(np.argmax(z3, 2).shape, [2, 3]);
  throwsA(() => np.argmax(np.zeros([0])), ShapeError);
});

// ---- dot_general ----
/** Reference dot_general by explicit index loops. */
function refDot(a: number[], as: number[], b: number[], bs: number[], lc: number[], rc: number[], lb: number[], rb: number[]): [number[], number[]] {
  const lf = as.map((_, i) => i).filter((i) => !lc.includes(i) && !lb.includes(i));
  const rf = bs.map((_, i) => i).filter((i) => !rc.includes(i) && !rb.includes(i));
  const outShape = [...lb.map((i) => as[i]), ...lf.map((i) => as[i]), ...rf.map((i) => bs[i])];
  const cShape = lc.map((i) => as[i]);
  const strides = (s: number[]) => s.map((_, i) => s.slice(i + 1).reduce((x, y) => x * y, 1));
  const sa = strides(as), sb = strides(bs);
  const iter = (shape: number[]): number[][] => shape.reduce<number[][]>((acc, n) => acc.flatMap((p) => Array.from({ length: n }, (_, k) => [...p, k])), [[]]);
  const out: number[] = [];
  for (const o of iter(outShape)) {
    const bi = o.slice(0, lb.length), li = o.slice(lb.length, lb.length + lf.length), ri = o.slice(lb.length + lf.length);
    let s = 0;
    for (const c of iter(cShape)) {
      let pa = 0, pb = 0;
      lb.forEach((ax, k) => (pa += bi[k] * sa[ax]));
      rb.forEach((ax, k) => (pb += bi[k] * sb[ax]));
      lf.forEach((ax, k) => (pa += li[k] * sa[ax]));
      rf.forEach((ax, k) => (pb += ri[k] * sb[ax]));
      lc.forEach((ax, k) => (pa += c[k] * sa[ax]));
      rc.forEach((ax, k) => (pb += c[k] * sb[ax]));
      s += a[pa] * b[pb];
    }
    out.push(s);
  }
  return [out, outShape];
}

test("dot_general with contracting and batch dimensions in any position, every numeric dtype", () => {
  const cases: [string, number[], number[], [number[], number[]], [number[], number[]]][] = [
    ["matrix product", [3, 4], [4, 5], [[1], [0]], [[], []]],
    ["inner product", [6], [6], [[0], [0]], [[], []]],
    ["outer product", [2], [3], [[], []], [[], []]],
    ["batched matmul", [2, 3, 4], [2, 4, 5], [[2], [1]], [[0], [0]]],
    ["batch and contracting axes out of order", [4, 2, 3], [5, 2, 4], [[0], [2]], [[1], [1]]],
    ["two contracting axes, paired crosswise", [3, 4, 2], [4, 3], [[0, 1], [1, 0]], [[], []]],
    ["two batch axes", [2, 3, 4, 2], [3, 2, 4], [[2], [2]], [[0, 1], [1, 0]]],
    ["contract the first axes", [5, 3], [5, 2], [[0], [0]], [[], []]],
  ];
  for (const [what, as, bs, contract, batch] of cases) {
    const na = as.reduce((x, y) => x * y, 1), nbn = bs.reduce((x, y) => x * y, 1);
    // Multiples of 1/8 with small magnitudes: every sum is exact, in any order, in float32 too.
    const a = Array.from({ length: na }, (_, i) => (((i * 5) % 11) - 5) / 8);
    const b = Array.from({ length: nbn }, (_, i) => (((i * 3) % 7) - 3) / 4);
    const [want, shape] = refDot(a, as, b, bs, contract[0], contract[1], batch[0], batch[1]);
    for (const dt of FLOATS) {
      const got = dotGeneral(np.reshape(np.array(a, dt), as), np.reshape(np.array(b, dt), bs), { contract, batch });
      assert.equal(got.shape, shape, `${what} ${dt}`);
      expectValues(got, want.map(round(dt)), dt, `${what} ${dt}`);
    }
    const ai = a.map((v) => v * 8), bi = b.map((v) => v * 4);
    const [wantI] = refDot(ai, as, bi, bs, contract[0], contract[1], batch[0], batch[1]);
    expectValues(dotGeneral(np.reshape(np.array(ai, "int32"), as), np.reshape(np.array(bi, "int32"), bs), { contract, batch }), wantI, "int32", `${what} int32`);
  }
  // float32 results are rounded once from the float64 sum.
  const t = dotGeneral(np.array([0.1, 0.2, 0.3], "float32"), np.array([1, 1, 1], "float32"), { contract: [[0], [0]], batch: [[], []] });
  assert.is(t.item(), Math.fround(Math.fround(0.1) + Math.fround(0.2) + Math.fround(0.3)));
  assert.throws(
    () => dotGeneral(np.ones([2, 3]), np.ones([4, 5]), { contract: [[1], [0]], batch: [[], []] }),
    (e: Error) => e instanceof ShapeError && /dot_general/.test(e.message) && /\[2,3\]/.test(e.message) && /\[4,5\]/.test(e.message),
  );
  throwsA(() => dotGeneral(np.ones([2]), np.ones([2], "float32"), { contract: [[0], [0]], batch: [[], []] }), DTypeError);
});

test("dot_general propagates NaN and infinities as the sum of products does", () => {
  const g = (a: number[], b: number[]) => dotGeneral(np.array(a), np.array(b), { contract: [[0], [0]], batch: [[], []] }).item();
  assert.ok(Number.isNaN(g([NaN, 1], [0, 1])));
  assert.ok(Number.isNaN(g([Infinity, 1], [0, 1])));
  assert.is(g([Infinity, 1], [1, 1]), Infinity);
  const m = dotGeneral(np.array([[1, 0], [0, 1]]), np.array([[NaN, 1], [2, 3]]), { contract: [[1], [0]], batch: [[], []] });
  // 0 * NaN is NaN: the NaN reaches every output that reads its row of the rhs.
  expectValues(m, [NaN, 1, NaN, 3], "float64", "NaN through a matrix product");
});

// ---- structural ----
test("broadcast_in_dim, reshape, transpose, squeeze and slice move values as written", () => {
  const x = np.array([[1, 2, 3], [4, 5, 6]]);
  expectValues(S.broadcastInDim(np.array([10, 20]), [2, 3], [0]), [10, 10, 10, 20, 20, 20], "float64", "broadcast along columns");
  expectValues(S.broadcastInDim(np.array([[7, 8, 9]]), [2, 2, 3], [1, 2]), [7, 8, 9, 7, 8, 9, 7, 8, 9, 7, 8, 9], "float64", "size-1 axis broadcast");
  expectValues(S.broadcastInDim(np.array(5, "int32"), [3], []), [5, 5, 5], "int32", "scalar");
  expectValues(S.reshape(x, [3, 2]), [1, 2, 3, 4, 5, 6], "float64", "reshape");
  assert.equal(S.reshape(x, [3, 2]).tolist(), [[1, 2], [3, 4], [5, 6]]);
  assert.equal(S.transpose(x, [1, 0]).tolist(), [[1, 4], [2, 5], [3, 6]]);
  const y = np.reshape(np.array(DATA, "float32"), SHAPE);
  const t = S.transpose(y, [2, 0, 1]);
  assert.equal(t.shape, [4, 2, 3]);
  for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) assert.is((t.tolist() as number[][][])[k][i][j], DATA[i * 12 + j * 4 + k]);
  for (const dt of ["float64", "float32", "int32"] as DType[]) {
    expectValues(S.broadcastInDim(np.array([[1], [2]], dt), [2, 3], [0, 1]), [1, 1, 1, 2, 2, 2], dt, `broadcast ${dt}`);
    expectValues(S.squeeze(np.array([[[1], [2]]], dt), [0, 2]), [1, 2], dt, `squeeze ${dt}`);
    expectValues(S.slice(np.array([[1, 2, 3], [4, 5, 6]], dt), [0, 2], [2, 3]), [3, 6], dt, `slice ${dt}`);
    expectValues(S.transpose(np.array([[1, 2], [3, 4]], dt), [1, 0]), [1, 3, 2, 4], dt, `transpose ${dt}`);
    expectValues(S.reshape(np.array([[1, 2], [3, 4]], dt), [4]), [1, 2, 3, 4], dt, `reshape ${dt}`);
  }
  assert.equal(S.squeeze(np.array([[[true], [false]]]), [0, 2]).tolist(), [true, false]);
  assert.equal(S.slice(np.array([0, 1, 2, 3, 4, 5, 6]), [1], [6], [2]).tolist(), [1, 3, 5]);
  assert.equal(S.slice(x, [0, 1], [2, 3]).tolist(), [[2, 3], [5, 6]]);
  assert.equal(S.slice(x, [1, 0], [2, 3], [1, 2]).tolist(), [[4, 6]]);
  assert.equal(S.slice(x, [1, 1], [1, 1]).shape, [0, 0]);
  assert.throws(() => S.reshape(x, [4]), (e: Error) => e instanceof ShapeError && /\[2,3\]/.test(e.message));
  throwsA(() => S.transpose(x, [0, 0]), ShapeError);
  throwsA(() => S.squeeze(x, [0]), ShapeError);
  throwsA(() => S.slice(x, [0, 0], [3, 1]), ShapeError);
  throwsA(() => S.broadcastInDim(np.ones([2]), [3], [0]), ShapeError);
});

test("pad: low, high and interior padding per axis, with the padding value", () => {
  expectValues(S.pad(np.array([1, 2, 3]), -1, [1], [2], [1]), [-1, 1, -1, 2, -1, 3, -1, -1], "float64", "1-D interior");
  expectValues(S.pad(np.array([1, 2, 3], "int32"), 0, [0], [0], [2]), [1, 0, 0, 2, 0, 0, 3], "int32", "interior only");
  expectValues(S.pad(np.array([1.5], "float32"), 9, [2], [0], [3]), [9, 9, 1.5], "float32", "interior on a single element adds nothing");
  const m = S.pad(np.array([[1, 2], [3, 4]]), 0, [1, 0], [0, 1], [1, 1]);
  assert.equal(m.shape, [4, 4]);
  assert.equal(m.tolist(), [
    [0, 0, 0, 0],
    [1, 0, 2, 0],
    [0, 0, 0, 0],
    [3, 0, 4, 0],
  ]);
  assert.equal(S.pad(np.zeros([0]), 7, [1], [2], [3]).tolist(), [7, 7, 7]);
  assert.equal(S.pad(np.array(5), 0, [], [], []).item(), 5);
  assert.equal(S.pad(np.array([true]), 0, [1], [1], [0]).tolist(), [false, true, false]);
  expectValues(S.pad(np.array([NaN]), Infinity, [1], [0], [0]), [Infinity, NaN], "float64", "NaN and inf");
  throwsA(() => S.pad(np.ones([2]), 0, [-1], [0], [0]), ShapeError);
});

test("concatenate along each axis, every dtype", () => {
  const a = np.reshape(np.array([1, 2, 3, 4, 5, 6]), [2, 3]);
  const b = np.reshape(np.array([7, 8, 9]), [1, 3]);
  assert.equal(S.concatenate([a, b], 0).tolist(), [[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
  const c = np.reshape(np.array([10, 20]), [2, 1]);
  assert.equal(S.concatenate([c, a, c], 1).tolist(), [[10, 1, 2, 3, 10], [20, 4, 5, 6, 20]]);
  const x3 = np.reshape(np.array(DATA, "int32"), SHAPE);
  const cat = S.concatenate([x3, x3], 2);
  assert.equal(cat.shape, [2, 3, 8]);
  assert.is(cat.dtype, "int32");
  assert.equal((cat.tolist() as number[][][])[1][2], [...DATA.slice(20, 24), ...DATA.slice(20, 24)]);
  assert.equal(S.concatenate([np.array([true]), np.array([false, true])], 0).tolist(), [true, false, true]);
  expectValues(S.concatenate([np.array([0.1], "float32"), np.zeros([0], "float32"), np.array([NaN], "float32")], 0), [Math.fround(0.1), NaN], "float32", "f32 with an empty part");
  throwsA(() => S.concatenate([a, np.ones([2, 2])], 0), ShapeError);
  throwsA(() => S.concatenate([a, np.ones([2, 3], "float32")], 0), DTypeError);
});

test("gather (take with static indices) and scatter_add (its transpose)", () => {
  const x = np.reshape(np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), [3, 4]);
  assert.equal(gather(x, [2, 0, 2], 0).tolist(), [[8, 9, 10, 11], [0, 1, 2, 3], [8, 9, 10, 11]]);
  assert.equal(gather(x, [3, 1], 1).tolist(), [[3, 1], [7, 5], [11, 9]]);
  assert.equal(gather(x, [], 1).shape, [3, 0]);
  assert.equal(gather(np.array([true, false]), [1, 1, 0], 0).tolist(), [false, false, true]);
  expectValues(gather(np.array([1.5, NaN], "float32"), [1, 0], 0), [NaN, 1.5], "float32", "gather f32");
  // Repeated indices accumulate.
  expectValues(scatterAdd(np.array([1, 2, 3, 4], "int32"), [0, 2, 0, 0], 0, 3), [8, 0, 2], "int32", "scatter_add");
  assert.equal(scatterAdd(np.array([[1, 2], [3, 4]]), [1, 1], 1, 3).tolist(), [[0, 3, 0], [0, 7, 0]]);
  expectValues(scatterAdd(np.array([0.1, 0.2], "float32"), [0, 0], 0, 1), [Math.fround(Math.fround(0.1) + Math.fround(0.2))], "float32", "scatter_add f32");
  assert.throws(() => gather(x, [3], 0), (e: Error) => e instanceof ShapeError && /index 3/.test(e.message));
});

// ---- coverage of the foundation set ----
const FLOAT_PRIMS =
  "neg sin cos tan asin acos atan sinh cosh tanh exp log log1p expm1 sqrt rsqrt abs sign floor ceil round integer_pow " +
  "add sub mul div pow max min atan2 lt le gt ge eq ne select reduce_sum reduce_max reduce_min reduce_prod argmax argmin " +
  "broadcast_in_dim reshape transpose squeeze slice pad concatenate dot_general convert_element_type stop_gradient gather scatter_add";
const INT_PRIMS =
  "neg abs sign floor ceil round integer_pow add sub mul div pow max min lt le gt ge eq ne select reduce_sum reduce_max " +
  "reduce_min reduce_prod argmax argmin broadcast_in_dim concatenate dot_general convert_element_type stop_gradient scatter_add";
const BOOL_PRIMS = "lt le gt ge eq ne select reduce_max reduce_min argmax argmin concatenate pad gather convert_element_type stop_gradient";

test("every foundation primitive's impl ran in float64 and float32, and in int32 / bool where it takes them", () => {
  const names = new Set(allPrimitives.map((p) => p.name));
  const missing: string[] = [];
  const check = (list: string, dts: DType[]) => {
    for (const name of list.split(" ")) {
      assert.ok(names.has(name), `${name} is not a registered primitive`);
      for (const dt of dts) if (!seen.get(name)?.has(dt)) missing.push(`${name} on ${dt}`);
    }
  };
  check(FLOAT_PRIMS, ["float64", "float32"]);
  check(INT_PRIMS, ["int32"]);
  check(BOOL_PRIMS, ["bool"]);
  assert.equal(missing, [], `impls never run: ${missing.join(", ")}`);
});

test("shape-strict mul and scatter_add reject what does not fit (no silent shortcut, no stray write)", () => {
  // A broadcast 1 of another shape (same rank) is a shape error, not the other operand returned.
  assert.throws(() => P.mul(np.array([1, 2, 3]), fullP([4], 1, "float64")), (e: Error) => e instanceof ShapeError && /\[3\] and \[4\]/.test(e.message));
  assert.throws(() => P.mul(fullP([4], 1, "float64"), np.array([1, 2, 3])), (e: Error) => e instanceof ShapeError);
  // An index past `size` used to land in the next row.
  assert.throws(() => scatterAdd(np.array([[1, 2], [3, 4]]), [0, 2], 1, 2), (e: Error) => e instanceof ShapeError && /index 2/.test(e.message));
  assert.throws(() => scatterAdd(np.array([1, 2]), [-1, 0], 0, 2), (e: Error) => e instanceof ShapeError && /index -1/.test(e.message));
  assert.equal(scatterAdd(np.array([[1, 2], [3, 4]]), [1, 1], 1, 2).tolist(), [[0, 3], [0, 7]]);
  // bool accumulates as a logical or; a middle axis of a transposed view gathers in place.
  assert.equal(scatterAdd(np.array([true, true, false]), [0, 0, 1], 0, 2).tolist(), [true, false]);
  const t3 = np.reshape(np.arange(24), [2, 3, 4]).transpose([2, 0, 1]);
  assert.equal(gather(t3, [1, 0, 1], 1).tolist(), np.stack([t3.slice(null, 1), t3.slice(null, 0), t3.slice(null, 1)], 1).tolist());
  assert.equal(gather(t3, [2, 0], 2).tolist(), np.stack([t3.slice(null, null, 2), t3.slice(null, null, 0)], 2).tolist());
});

test.run();
