import { test } from "uvu";
import * as assert from "uvu/assert";
import { guardTraceState } from "../guard.js";
import { close, throwsWith } from "../helpers.js";
import { checkpoint, ConcretizationError, DTypeError, JacobiError, grad, jit, vmap, ShapeError, TreeError, customJvp, customVjp, jet, lax, makeJaxpr, nn, np, type Tensor } from "../../src/index.js";
import { bind1 } from "../../src/core/trace.js";
import { addAnyP } from "../../src/interpreters/add-any.js";
import * as el from "../../src/primitives/elementwise.js";
import { dotGeneral } from "../../src/primitives/dot.js";
import { reduceMax, reduceMin, reduceSum } from "../../src/primitives/reduce.js";
import { broadcastInDim, concatenate, pad, reshape, slice, squeeze, transpose } from "../../src/primitives/shape.js";
import { type F, K, check as checkJet, mk, sineTerm } from "./jet-check.js";

guardTraceState(test);

/** The shared check with `mk`'s sine terms, to 1e-12; `consts`: each input alone varying too. */
const check = (name: string, f: F, xs: Tensor[], consts = false): void => checkJet(name, f, xs, { consts, tol: 1e-12, term: sineTerm });

const v3 = mk([3], 1), w3 = mk([3], 2), m23 = mk([2, 3], 3), m32 = mk([3, 2], 4);

const cases: [string, F, Tensor[], boolean?][] = [
  ["neg", (x) => el.neg(x), [v3]],
  ["add", (x, y) => el.add(x, y), [v3, w3], true],
  ["sub", (x, y) => el.sub(x, y), [v3, w3], true],
  ["mul", (x, y) => el.mul(x, y), [v3, w3], true],
  ["div", (x, y) => el.div(x, y), [v3, w3], true],
  ["div (constant numerator)", (y, x) => el.div(x, y), [w3, v3], true],
  ["exp", (x) => el.exp(x), [v3]],
  ["log", (x) => el.log(x), [v3]],
  ["log1p", (x) => el.log1p(x), [v3]],
  ["sin", (x) => el.sin(x), [v3]],
  ["cos", (x) => el.cos(x), [v3]],
  ["tanh", (x) => el.tanh(x), [v3]],
  ["sqrt", (x) => el.sqrt(x), [v3]],
  ["tan", (x) => el.tan(x), [v3]],
  ["sinh", (x) => el.sinh(x), [v3]],
  ["cosh", (x) => el.cosh(x), [v3]],
  ["expm1", (x) => el.expm1(x), [v3]],
  ["rsqrt", (x) => el.rsqrt(x), [v3]],
  ["abs", (x) => el.abs(x), [np.array([-0.7, 0.4, -1.3])]],
  ["integer_pow 3", (x) => el.integerPow(x, 3), [v3]],
  ["integer_pow 6", (x) => el.integerPow(x, 6), [v3]],
  ["integer_pow -2", (x) => el.integerPow(x, -2), [v3]],
  ["integer_pow 1", (x) => el.integerPow(x, 1), [v3]],
  ["integer_pow 0", (x) => el.add(el.integerPow(x, 0), x), [v3]],
  ["pow (constant exponent)", (x, y) => el.pow(x, y), [v3, np.array([2.5, -1.5, 0.5])], true],
  ["pow", (x, y) => el.pow(x, y), [v3, w3], true],
  ["add_any", (x, y) => bind1(addAnyP, [x, y]), [v3, w3], true],
  ["convert_element_type", (x) => el.convertElementType(x, "float64", true), [v3]],
  ["convert_element_type to int", (x) => el.add(x, el.convertElementType(el.convertElementType(x, "int32"), "float64")), [v3]],
  ["broadcast_in_dim", (x) => broadcastInDim(x, [2, 3], [1]), [v3]],
  ["reshape", (x) => reshape(x, [3, 2]), [m23]],
  ["transpose", (x) => transpose(x, [1, 0]), [m23]],
  ["squeeze", (x) => squeeze(x, [0]), [mk([1, 3], 5)]],
  ["slice", (x) => slice(x, [0, 1], [2, 3]), [m23]],
  ["pad", (x) => pad(x, 0.5, [1, 0], [0, 2], [0, 1]), [m23]],
  ["concatenate", (x, y) => concatenate([x, y], 0), [v3, w3], true],
  ["reduce_sum", (x) => reduceSum(x, [1]), [m23]],
  ["select", (x, y) => el.select(np.greater(x, 0.7), x, y), [v3, w3], true],
  ["gather", (x) => np.take(x, np.array([2, 0, 2], "int32")), [v3]],
  ["cumsum", (x) => np.cumsum(x), [v3]],
  ["scatter_add", (x, y) => x.at(np.array([2, 0, 2], "int32")).add(y), [v3, w3], true],
  ["reduce_window_sum", (x) => lax.reduceWindow(x, 0, "sum", [2, 2], [1, 1], "VALID"), [m23]],
  ["conv_general_dilated", (x, k) => lax.conv(x, k, [1], "VALID"), [mk([1, 1, 5], 6), mk([2, 1, 3], 7)], true],
  ["dot_general", (a, b) => dotGeneral(a, b, { contract: [[1], [0]], batch: [[], []] }), [m23, m32], true],
  ["max", (x, y) => el.max(x, y), [v3, w3], true],
  ["min", (x, y) => el.min(x, y), [v3, w3], true],
  ["reduce_max", (x) => reduceMax(x, [1]), [m23]],
  ["reduce_min", (x) => reduceMin(x, [0]), [m23]],
  ["floor (not differentiable)", (x) => el.add(el.floor(el.mul(x, x)), x), [v3]],
  ["stop_gradient", (x) => el.mul(el.stopGradient(x), x), [v3]],
];
for (const [name, f, xs, consts] of cases) test(`rule of ${name} against nested jvp to order ${K}`, () => check(name, f, xs, consts));

test("the API.md example: derivatives of sin", () => {
  const x = 0.7;
  const [p, s] = jet(np.sin, [x], [[1, 0, 0, 0]]);
  close(p, Math.sin(x));
  close(s, [Math.cos(x), -Math.sin(x), -Math.cos(x), Math.sin(x)]);
});

test("an all-zero series gives zero derivatives through every recurrence", () => {
  const f = (x: Tensor) => el.add(el.add(el.log(x), el.tanh(x)), el.add(el.pow(x, np.array([2.5, 1.5, 0.5])), el.div(el.sqrt(x), x)));
  close(jet(f, [v3], [[0, 0, 0].map(() => np.zerosLike(v3))])[1], [0, 0, 0].map(() => [0, 0, 0]));
});

test("along a line the bilinear rules skip known-zero terms: O(K) products, not O(K^2)", () => {
  // The direction is traced too, so every product of terms is an equation of the jaxpr.
  const counts = (f: F, x: Tensor, order: number, line: boolean): Record<string, number> => {
    const terms = (d: Tensor) => Array.from({ length: order }, (_, k) => (k === 0 || !line ? d : np.zerosLike(d)));
    const eqns = makeJaxpr((v: Tensor, d: Tensor) => jet(f, [v], [terms(d)]))(x, np.onesLike(x)).jaxpr.eqns;
    const by: Record<string, number> = {};
    for (const e of eqns) by[e.primitive.name] = (by[e.primitive.name] ?? 0) + 1;
    return by;
  };
  // x^4 as three muls: x*x, x^2*x, x^3*x take every pair of nonzero terms once (4 + 6 + 8
  // products), and the public jet turns the output's three nonzero higher terms into derivatives
  // (3 more): 21 muls whatever the order, where every pair of terms would be 1 + 2 + ... + (K+1) per mul.
  const pow4 = (x: Tensor) => el.mul(el.mul(el.mul(x, x), x), x);
  for (const order of [4, 8]) assert.is(counts(pow4, v3, order, true).mul, 21, `x^4 along a line, order ${order}`);
  assert.ok(counts(pow4, v3, 8, false).mul > 100, "every term nonzero: quadratic in the order");
  close(jet(pow4, [v3], [[np.onesLike(v3), ...Array.from({ length: 7 }, () => np.zerosLike(v3))]])[1], [
    ...[4, 12, 24, 24].map((c, k) => np.multiply(np.power(v3, 3 - k), c)),
    ...Array.from({ length: 4 }, () => [0, 0, 0]),
  ]);
  // M^3 as two dot_generals: 4 + 6 products and 2 scalings of the output's higher terms.
  const dot = (a: Tensor, b: Tensor) => dotGeneral(a, b, { contract: [[1], [0]], batch: [[], []] });
  const cube = (m: Tensor) => dot(dot(m, m), m);
  const sq = mk([2, 2], 9);
  for (const order of [4, 8]) {
    const by = counts(cube, sq, order, true);
    assert.equal([by.dot_general, by.mul], [10, 2], `M^3 along a line, order ${order}`);
  }
  const d = np.onesLike(sq);
  const want = [np.add(np.add(dot(dot(d, sq), sq), dot(dot(sq, d), sq)), dot(dot(sq, sq), d))];
  close(jet(cube, [sq], [[d, np.zerosLike(d), np.zerosLike(d), np.zerosLike(d)]])[1].slice(0, 1), want);
  close(jet(cube, [sq], [[d, np.zerosLike(d), np.zerosLike(d), np.zerosLike(d)]])[1][3], np.zerosLike(sq));
});

test("composites through their primitives", () => {
  check("tanh(x*x + 1)", (x) => np.tanh(np.add(np.multiply(x, x), 1)), [v3]);
  check("softplus", (x) => nn.softplus(x), [np.array([-0.8, 0.3, 1.4])]);
  check("logsumexp", (x) => nn.logsumexp(x, 1), [m23]);
  check("checkpoint", (x) => checkpoint((v: Tensor) => np.sin(np.multiply(v, v)))(x), [v3]);
  check("mlp", (x, w) => np.sum(np.tanh(np.matmul(x, w))), [m23, m32], true);
});

test("custom rules are first order: jet runs the function itself", () => {
  const f = customJvp((x: Tensor) => np.sin(x));
  f.defjvp(([x], [t]) => [np.sin(x), np.multiply(t, np.cos(x))]);
  close(jet(f, [0.4], [[1, 0, 0]])[1], [Math.cos(0.4), -Math.sin(0.4), -Math.cos(0.4)]);
  const g = customVjp((x: Tensor) => np.exp(x));
  g.defvjp((x: Tensor) => [np.exp(x), np.exp(x)], (r: Tensor, ct: Tensor) => [np.multiply(r, ct)]);
  const e = Math.exp(0.4);
  close(jet(g, [0.4], [[1, 0]])[1], [e, e]);
});

test("pytree inputs and outputs, constant outputs", () => {
  const f = ({ a, b }: { a: Tensor; b: Tensor }, c: Tensor) => [np.multiply(a, b), np.sin(c), np.ones([2])];
  const a = np.array([0.5, 1.5]), b = np.array([2.0, -1.0]), c = np.array(0.3);
  const [p, s] = jet(f, [{ a, b }, c], [
    [{ a: np.ones([2]), b: np.zeros([2]) }, { a: np.zeros([2]), b: np.zeros([2]) }],
    [1, 0],
  ]);
  close(p, f({ a, b }, c));
  close(s, [
    [[2, -1], Math.cos(0.3), [0, 0]],
    [[0, 0], -Math.sin(0.3), [0, 0]],
  ]);
  // An output that does not depend on the inputs at all.
  close(jet((_x: Tensor) => np.ones([2]), [0.5], [[1, 2]])[1], [[0, 0], [0, 0]]);
});

test("bad input gets a clear error", () => {
  throwsWith(() => jet(3 as never, [0.5] as never, [[1]]), JacobiError, ["jet", "function"]);
  throwsWith(() => jet(np.sin, 0.5 as never, [[1]]), JacobiError, ["primals must be an array"]);
  throwsWith(() => jet(np.sin, [0.5], [1] as never), JacobiError, ["series must be an array", "one list of terms per primal"]);
  throwsWith(() => jet(np.sin, [0.5], [[]]), JacobiError, ["same number", "at least one"]);
  throwsWith(() => jet(np.add, [0.5, 1.0], [[1, 0], [1]]), JacobiError, ["same number", "[2,1]"]);
  throwsWith(() => jet(np.sin, [np.array([1, 2], "int32")], [[1]]), DTypeError, ["jet", "floating-point"]);
  throwsWith(() => jet(np.sin, [np.zeros([2])], [[np.ones([3])]]), ShapeError, ["jet", "series term 0", "shape"]);
  throwsWith(() => jet((d: { a: Tensor }) => d.a, [{ a: 1.0 }], [[{ b: 1.0 }]]), TreeError, ["jet", "series term 0"]);
  throwsWith(() => jet(() => np.ones([1]), [], []), JacobiError, ["same number", "at least one"]);
});

test("jet composes with jit, grad and vmap", () => {
  close(jit((x: Tensor) => jet(np.sin, [x], [[1, 0, 0]])[1][2])(0.5), -Math.cos(0.5));
  close(grad((x: Tensor) => jet(np.sin, [x], [[1, 0]])[1][1])(0.5), -Math.cos(0.5));
  close(vmap((x: Tensor) => jet(np.sin, [x], [[1, 0]])[1][1])(np.array([0.5, 1])), [-Math.sin(0.5), -Math.sin(1)]);
  close(jet(grad(np.sin), [0.5], [[1, 0]])[1], [-Math.sin(0.5), -Math.cos(0.5)]);
});

test("a value can be read inside jet, not inside jit", () => {
  const f = (x: Tensor) => (x.item() > 0 ? np.sin(x) : np.cos(x));
  close(jet(f, [0.5], [[1, 0]])[1], [Math.cos(0.5), -Math.sin(0.5)]);
  close(jet(f, [-0.5], [[1, 0]])[1], [Math.sin(0.5), -Math.cos(0.5)]);
  throwsWith(() => jit((x: Tensor) => jet(f, [x], [[1]])[0])(0.5), ConcretizationError, ["jit"]);
});

test.run();
