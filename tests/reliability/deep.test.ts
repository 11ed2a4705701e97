// Deep and large programs: a million-operation chain differentiated in every mode without a
// RangeError (no recursion over the graph anywhere), exact against plain JS; second derivatives of
// a long chain; an allocation no typed array can hold fails up front with a ShapeError naming it.
// Staging and printing the same chain is in deep-staging.test.ts (each file stays near 10 s).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ShapeError, grad, hessian, jacfwd, jacrev, jvp, np, vjp } from "../../src/index.js";
import { ShapedArray } from "../../src/core/shaped-array.js";
import { traceDepth } from "../../src/core/trace.js";
import { Jaxpr, Var } from "../../src/ir/jaxpr.js";
import { VarTable, slotRange } from "../../src/ir/var-table.js";
import { guardTraceState } from "../guard.js";
import { throwsExactly } from "./util.js";

guardTraceState(test);

const N = 1_000_000;
const X0 = 0.5;

/** sin applied n times: one primitive per step, a chain of n equations under every transformation. */
const chain = (n: number) => (x: any) => {
  let y = x;
  for (let i = 0; i < n; i++) y = np.sin(y);
  return y;
};

// Plain-JS references, multiplying in the same order as each mode does, so equality is exact.
const xs: number[] = [X0];
for (let i = 0; i < N; i++) xs.push(Math.sin(xs[i]));
const VALUE = xs[N];
let forwardProduct = 1; // jvp: t_{k+1} = t_k · cos(x_k)
for (let i = 0; i < N; i++) forwardProduct *= Math.cos(xs[i]);
let reverseProduct = 1; // vjp: ct_k = ct_{k+1} · cos(x_k), from the end
for (let i = N - 1; i >= 0; i--) reverseProduct *= Math.cos(xs[i]);

test("the references are sane: sin^n(x) ~ sqrt(3/n), and its derivative is small but far from underflow", () => {
  assert.ok(Math.abs(VALUE - Math.sqrt(3 / N)) < 1e-5);
  assert.ok(forwardProduct > 1e-9 && forwardProduct < 1e-6, String(forwardProduct));
  assert.ok(Math.abs(forwardProduct - reverseProduct) < 1e-12 * forwardProduct);
});

test("jvp of a 1,000,000-step chain: exact value and tangent", () => {
  const [y, t] = jvp(chain(N), [X0], [1]);
  assert.is(y.item(), VALUE);
  assert.is(t.item(), forwardProduct);
});

test("vjp of a 1,000,000-step chain: the backward pass is a loop, exact cotangent", () => {
  const [y, back] = vjp(chain(N), [X0]);
  assert.is(y.item(), VALUE);
  assert.is(back(1)[0].item(), reverseProduct);
});

test("grad of a 1,000,000-step chain", () => {
  assert.is(grad(chain(N))(X0).item(), reverseProduct);
});

test("hessian of a 1,000-step chain matches second-order forward propagation", () => {
  // (y, y', y'') through y -> sin y: y' -> cos(y) y', y'' -> cos(y) y'' - sin(y) y'^2.
  const steps = 1000;
  let [y, d1, d2] = [0.7, 1, 0];
  for (let i = 0; i < steps; i++) [y, d1, d2] = [Math.sin(y), Math.cos(y) * d1, Math.cos(y) * d2 - Math.sin(y) * d1 * d1];
  const h = hessian(chain(steps))(0.7).item();
  assert.ok(Math.abs(h - d2) <= 1e-12 * Math.abs(d2), `${h} vs ${d2}`);
  // Vector input: the Hessian of sum(chain(x)) is diagonal with those second derivatives.
  const H = hessian((v: any) => np.sum(chain(steps)(v)))(np.array([0.7, 0.7])).tolist();
  assert.ok(Math.abs(H[0][0] - d2) <= 1e-12 * Math.abs(d2) && H[0][1] === 0 && H[1][0] === 0);
});

test("an allocation larger than a typed array can hold fails up front, naming the shape and the bytes", () => {
  throwsExactly(() => np.zeros([1e6, 1e6]), ShapeError, ["zeros: shape [1000000,1000000] of float64 needs 8000000000000 bytes", "more than a typed array can hold"]);
  throwsExactly(() => np.ones([1e5, 1e5], "bool"), ShapeError, ["ones: shape [100000,100000] of bool needs 10000000000 bytes"]);
  throwsExactly(() => np.full([3e9], 1, "int32"), ShapeError, ["full: shape [3000000000] of int32 needs 12000000000 bytes"]);
  throwsExactly(() => np.eye(1e5), ShapeError, ["eye: shape [100000,100000] of float64 needs 80000000000 bytes"]);
  // Results of operations: checked before any work, naming the operation and its inputs' shapes.
  const col = np.zeros([1e5, 1]), row = np.zeros([1, 1e5]);
  throwsExactly(() => np.add(col, row), ShapeError, ["add of shapes [100000,1] and [1,100000]: shape [100000,100000] of float64 needs 80000000000 bytes"]);
  throwsExactly(() => np.matmul(col, row), ShapeError, ["matmul of shapes [100000,1] and [1,100000]: shape [100000,100000] of float64 needs 80000000000 bytes"]);
  throwsExactly(() => grad((c: any) => np.sum(np.multiply(c, row)))(col), ShapeError, ["multiply of shapes [100000,1] and [1,100000]"]);
  // A Jacobian whose basis alone is too large: caught before the basis is allocated.
  throwsExactly(() => jacfwd(np.sin)(np.zeros([1e5])), ShapeError, ["shape [100000,100000] of float64 needs 80000000000 bytes"]);
  throwsExactly(() => jacrev(np.sin)(np.zeros([1e5])), ShapeError, ["shape [100000,100000] of float64 needs 80000000000 bytes"]);
  assert.is(traceDepth(), 0);
  // A broadcast is a view, not an allocation: such a shape is fine until something materializes it.
  assert.equal(np.broadcastTo(np.array(1), [1e6, 1e6]).shape, [1e6, 1e6]);
});

test("VarTable (the id-indexed tables of the backward pass) falls back to a map outside its range", () => {
  const vs = Array.from({ length: 5 }, () => new Var(new ShapedArray([], "float64")));
  const t = new VarTable<number>(vs[1].id, vs[3].id);
  vs.forEach((v, i) => t.set(v, 10 * i));
  assert.equal(vs.map((v) => t.get(v)), [0, 10, 20, 30, 40]);
  t.delete(vs[0]);
  t.delete(vs[2]);
  assert.equal(vs.map((v) => t.has(v)), [false, true, false, true, true]);
  // Binders spread over a huge id range get a map, not a huge array.
  const far = new Var(new ShapedArray([], "float64"));
  (far as { id: number }).id = vs[0].id + 1e9;
  const range = slotRange(new Jaxpr([], [vs[0], far], [], [far]));
  assert.equal(range, [0, 0]);
  assert.equal(slotRange(new Jaxpr([], vs, [], [])), [vs[0].id, vs[4].id + 1]);
  const sparse = new VarTable<number>(...range);
  sparse.set(far, 1);
  sparse.set(vs[0], 2);
  assert.equal([sparse.get(far), sparse.get(vs[0]), sparse.get(vs[1])], [1, 2, undefined]);
});

test.run();
