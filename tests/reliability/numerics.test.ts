// Numerics: NaN and Inf reach only what depends on them; values and derivatives at the awkward
// points (0 for sqrt, log, pow, div; ties and kinks for abs, max, min) are JAX's, exactly.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { grad, hessian, jacfwd, jacrev, jvp, nn, np, vjp, vmap } from "../../src/index.js";
import { guardTraceState } from "../guard.js";
import { flat, sameNumbers } from "./util.js";

guardTraceState(test);

const g1 = (f: (x: any) => any, x: number): number => grad(f)(x).item();
const sumOf = (f: (x: any) => any) => (x: any) => np.sum(f(x));

// ---------- NaN and Inf stay where they belong ----------

test("elementwise values: NaN/Inf only in the positions computed from them", () => {
  const x = np.array([NaN, 1, Infinity, -Infinity, 0]);
  sameNumbers(flat(np.sin(x)), [NaN, Math.sin(1), NaN, NaN, 0]);
  sameNumbers(flat(np.exp(x)), [NaN, Math.E, Infinity, 0, 1]);
  sameNumbers(flat(np.tanh(x)), [NaN, Math.tanh(1), 1, -1, 0]);
  sameNumbers(flat(np.multiply(x, 0)), [NaN, 0, NaN, NaN, 0]);
  // A NaN in the branch np.where does not select never reaches the value.
  sameNumbers(flat(np.where(np.array([true, false]), np.array([1, NaN]), np.array([NaN, 2]))), [1, 2]);
});

test("gradients of a sum of per-element terms: NaN/Inf only in the entries whose term has them", () => {
  sameNumbers(flat(grad(sumOf(np.square))(np.array([NaN, 1, Infinity, 2]))), [NaN, 2, Infinity, 4]);
  sameNumbers(flat(grad(sumOf(np.exp))(np.array([Infinity, 0, -Infinity]))), [Infinity, 1, 0]);
  // d/dx x·w does not depend on x, so a NaN x leaves its gradient finite.
  sameNumbers(flat(grad((x: any) => np.sum(np.multiply(x, np.array([1, 2, 3]))))(np.array([NaN, 1, 2]))), [1, 2, 3]);
  // x - x is NaN at Inf, but its derivative 1 - 1 = 0 is not.
  assert.is(g1((x) => np.subtract(x, x), Infinity), 0);
});

test("several arguments: a NaN in one leaves the others' gradients alone", () => {
  const [ga, gb] = grad((a: any, b: any) => np.add(np.square(a), np.sin(b)), { argnums: [0, 1] })(NaN, 1);
  sameNumbers([ga.item(), gb.item()], [NaN, Math.cos(1)]);
  // Matmul: d sum(W x)/dW = 1 xᵀ never reads W; d/dx = Wᵀ 1 reads only W's columns.
  const W = np.array([[NaN, 1], [2, 3]]);
  sameNumbers(flat(grad((w: any) => np.sum(np.matmul(w, np.array([1, 2]))))(W)), [1, 2, 1, 2]);
  sameNumbers(flat(grad((x: any) => np.sum(np.matmul(W, x)))(np.array([1, 2]))), [NaN, 4]);
});

test("vmap: a NaN in one example does not reach another example's gradient", () => {
  const per = vmap(grad(sumOf(np.square)))(np.array([[1, NaN], [3, 4], [5, 6]]));
  sameNumbers(flat(per), [2, NaN, 6, 8, 10, 12]);
});

test("jvp: NaN reaches only the tangents of outputs computed from it", () => {
  const [y, t] = jvp(np.tanh, [np.array([NaN, 0])], [np.array([1, 1])]);
  sameNumbers([...flat(y), ...flat(t)], [NaN, 0, NaN, 1]);
});

test("Jacobians: IEEE 0·NaN = NaN spreads a NaN along its row (jacfwd) or column (jacrev), as in JAX", () => {
  // f(x) = x², J = diag(2x) at x = [NaN, 1]. The zero entries next to the NaN are 0·NaN products.
  sameNumbers(flat(jacfwd(np.square)(np.array([NaN, 1]))), [NaN, NaN, 0, 2]);
  sameNumbers(flat(jacrev(np.square)(np.array([NaN, 1]))), [NaN, 0, NaN, 2]);
  // A vjp cotangent of 0 for the NaN output does not hide it either.
  sameNumbers(flat(vjp(np.square, [np.array([NaN, 1])])[1](np.array([0, 1]))[0]), [NaN, 2]);
});

test("max/min reductions and maximum/minimum with a NaN: the value is NaN; so is every max-gradient, none for maximum", () => {
  assert.ok(Number.isNaN(np.max(np.array([1, NaN, 3])).item()));
  sameNumbers(flat(grad((x: any) => np.max(x))(np.array([1, NaN, 3]))), [NaN, NaN, NaN]);
  // maximum(a, b) = NaN equals neither operand: no tangent flows to either (JAX's _balanced_eq).
  for (const [a, b] of [[NaN, 1], [1, NaN]]) {
    const [ga, gb] = grad((x: any, y: any) => np.maximum(x, y), { argnums: [0, 1] })(a, b);
    assert.ok(Number.isNaN(np.maximum(a, b).item()));
    sameNumbers([ga.item(), gb.item()], [0, 0]);
    const [ha, hb] = grad((x: any, y: any) => np.minimum(x, y), { argnums: [0, 1] })(a, b);
    sameNumbers([ha.item(), hb.item()], [0, 0]);
  }
});

// ---------- sqrt, log, pow, div at 0 ----------

test("sqrt at 0: value 0, derivative +Inf (forward and reverse), second derivative -Inf", () => {
  assert.is(np.sqrt(0).item(), 0);
  assert.is(g1(np.sqrt, 0), Infinity);
  assert.is(jvp(np.sqrt, [0], [1])[1].item(), Infinity);
  assert.is(hessian(np.sqrt)(0).item(), -Infinity);
  assert.ok(Number.isNaN(np.sqrt(-1).item()));
});

test("log at 0: value -Inf, derivative +Inf (and -Inf at -0); log of a negative is NaN", () => {
  assert.is(np.log(0).item(), -Infinity);
  assert.is(g1(np.log, 0), Infinity);
  assert.is(g1(np.log, -0), -Infinity);
  assert.ok(Number.isNaN(np.log(-1).item()));
  assert.is(g1(np.log1p, -1), Infinity);
});

test("pow at 0: 0**0 = 1 and every JAX convention for its derivatives", () => {
  assert.is(np.power(0, 0).item(), 1);
  assert.is(np.power(np.array(0), np.array(0)).item(), 1);
  // x**n with a JS integer n is integer_pow: exact at 0.
  assert.is(g1((x) => np.power(x, 0), 0), 0);
  assert.is(g1((x) => np.power(x, 1), 0), 1);
  assert.is(g1((x) => np.power(x, 2), 0), 0);
  assert.is(g1((x) => np.power(x, -1), 0), -Infinity);
  // Real exponents (pow): y·x^(y-1), taken as 0 where y == 0.
  assert.is(g1((x) => np.power(x, np.array(0)), 0), 0);
  assert.is(g1((x) => np.power(x, 1.5), 0), 0);
  assert.is(g1((x) => np.power(x, 0.5), 0), Infinity);
  assert.is(g1((x) => np.power(x, np.array(-1)), 0), -Infinity);
  // d/dy x^y = log(x)·x^y, taken as 0 where x == 0 (JAX replaces log 0 by log 1)...
  assert.is(g1((y) => np.power(np.array(0), y), 2), 0);
  assert.is(g1((y) => np.power(np.array(0), y), 0), 0);
  // ...which still gives 0·Inf = NaN when x^y itself is infinite.
  assert.is(np.power(np.array(0), np.array(-1)).item(), Infinity);
  assert.ok(Number.isNaN(g1((y) => np.power(np.array(0), y), -1)));
  const [gx, gy] = grad((x: any, y: any) => np.power(x, y), { argnums: [0, 1] })(0, 0);
  assert.equal([gx.item(), gy.item()], [0, 0]);
});

test("division by 0: ±Inf and NaN values, and the derivatives JAX gives", () => {
  assert.is(np.divide(1, 0).item(), Infinity);
  assert.is(np.divide(-1, 0).item(), -Infinity);
  assert.ok(Number.isNaN(np.divide(0, 0).item()));
  // Integer operands divide as floats (true division), so no integer overflow hides here.
  assert.equal(np.divide(np.array([1, -7], "int32"), np.array([0, 2], "int32")).tolist(), [Infinity, -3.5]);
  assert.is(g1((x) => np.divide(x, 0), 1), Infinity);
  assert.is(g1((y) => np.divide(1, y), 0), -Infinity);
  assert.ok(Number.isNaN(g1((y) => np.divide(0, y), 0)));
  assert.is(g1(np.reciprocal, 0), -Infinity);
});

// ---------- where and its NaN gradient ----------

test("grad of np.where(x > 0, sqrt(x), 0) at 0 is NaN, as in JAX (0 cotangent times an infinite derivative)", () => {
  const f = (x: any) => np.where(np.greater(x, 0), np.sqrt(x), 0);
  assert.is(f(0).item(), 0);
  assert.ok(Number.isNaN(g1(f, 0)));
  assert.is(g1(f, 4), 0.25);
  assert.ok(Number.isNaN(g1((x) => np.where(np.greater(x, 0), np.log(x), 0), 0)));
  sameNumbers(flat(grad(sumOf(f))(np.array([-1, 0, 4]))), [NaN, NaN, 0.25]);
});

test('the "double where" remedy: make the unselected input safe first, and the gradient is 0', () => {
  const safeSqrt = (x: any) => {
    const ok = np.greater(x, 0);
    return np.where(ok, np.sqrt(np.where(ok, x, 1)), 0);
  };
  assert.is(safeSqrt(0).item(), 0);
  assert.is(g1(safeSqrt, 0), 0);
  assert.is(g1(safeSqrt, 4), 0.25);
  sameNumbers(flat(grad(sumOf(safeSqrt))(np.array([-1, 0, 4]))), [0, 0, 0.25]);
  assert.is(hessian(safeSqrt)(0).item(), 0);
});

// ---------- kinks and ties ----------

test("abs at its kink: derivative 1 at 0 and at -0 (JAX's select(x >= 0, t, -t)), ±1 elsewhere, NaN at NaN", () => {
  assert.is(g1(np.abs, 0), 1);
  assert.is(g1(np.abs, -0), 1);
  assert.is(g1(np.abs, -2), -1);
  assert.is(g1(np.abs, 3), 1);
  assert.ok(Number.isNaN(g1(np.abs, NaN)));
  assert.is(g1(np.sign, 0), 0);
});

test("maximum/minimum at a tie split the derivative evenly (0.5 each); clip at a bound gives 0.5", () => {
  for (const op of [np.maximum, np.minimum]) {
    const [a, b] = grad((x: any, y: any) => op(x, y), { argnums: [0, 1] })(1, 1);
    assert.equal([a.item(), b.item()], [0.5, 0.5]);
  }
  const [a, b] = grad((x: any, y: any) => np.maximum(x, y), { argnums: [0, 1] })(2, 1);
  assert.equal([a.item(), b.item()], [1, 0]);
  assert.is(g1((x) => np.clip(x, 0, 1), 0), 0.5);
  assert.is(g1((x) => np.clip(x, 0, 1), 1), 0.5);
  assert.is(g1((x) => np.clip(x, 0, 1), 0.5), 1);
  assert.is(g1((x) => np.clip(x, 0, 1), 2), 0);
});

test("max/min reductions with ties share the derivative equally among the tied entries", () => {
  assert.equal(grad((x: any) => np.max(x))(np.array([1, 3, 3])).tolist(), [0, 0.5, 0.5]);
  assert.equal(grad((x: any) => np.min(x))(np.array([2, 1, 1, 1])).tolist(), [0, 1 / 3, 1 / 3, 1 / 3]);
  assert.equal(grad((x: any) => np.sum(np.max(x, 1)))(np.array([[1, 1], [0, 2]])).tolist(), [[0.5, 0.5], [0, 1]]);
  assert.equal(np.argmax(np.array([1, 3, 3])).item(), 1); // first of the ties, as NumPy
});

test("composites built on those kinks are right at 0: relu, sigmoid, softplus, logsumexp", () => {
  assert.is(g1(nn.relu, 0), 0);
  assert.is(g1(nn.sigmoid, 0), 0.25);
  assert.is(g1(nn.sigmoid, -0), 0.25);
  assert.is(g1(nn.softplus, 0), 0.5);
  assert.is(hessian(nn.softplus)(0).item(), 0.25);
  assert.equal(grad((x: any) => nn.logsumexp(x))(np.array([0, 0])).tolist(), [0.5, 0.5]);
  // Far out they stay finite and exact.
  assert.equal([g1(nn.sigmoid, 800), g1(nn.sigmoid, -800), g1(nn.softplus, 800), g1(nn.softplus, -800)], [0, 0, 1, 0]);
});

test("nn.relu propagates NaN (it is max(x, 0), as JAX), and keeps derivative 0 at 0", () => {
  sameNumbers(flat(nn.relu(np.array([NaN, -1, 0, 2]))), [NaN, 0, 0, 2]);
  assert.equal(flat(grad((x: any) => np.sum(nn.relu(x)))(np.array([-1, 0, 2]))), [0, 0, 1]);
  assert.is(nn.relu(np.array([3, -3], "int32")).dtype, "int32");
});

test.run();
