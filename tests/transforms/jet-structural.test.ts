import { test } from "uvu";
import * as assert from "uvu/assert";
import { guardTraceState } from "../guard.js";
import { close } from "../helpers.js";
import { grad, jit, lax, np, vmap, type Tensor } from "../../src/index.js";
import { cumulative } from "../../src/primitives/cumulative.js";
import { reduceProd } from "../../src/primitives/reduce.js";
import { type WindowParams, reduceWindowMax, selectAndGatherAdd, selectAndScatterAdd } from "../../src/primitives/reduce-window.js";
import { sort } from "../../src/primitives/sort.js";
import { type F, K, check, jetOf, mk } from "./jet-check.js";

guardTraceState(test);

const v5 = mk([5], 1), m34 = mk([3, 4], 3), t234 = mk([2, 3, 4], 4);
/** Distinct values with ties in pairs. */
const tied = np.array([0.4, 0.9, 0.4, 0.2, 0.9]);
const idx = np.array([3, 0, 3, 1], "int32");
const win: WindowParams = { window: [2, 2], strides: [1, 2], padding: [[0, 1], [1, 0]], baseDilation: [1, 1], windowDilation: [1, 1] };

const cases: [string, F, Tensor[], boolean?][] = [
  ["reduce_prod (one axis)", (x) => reduceProd(x, [1]), [m34]],
  ["reduce_prod (odd count, two axes)", (x) => reduceProd(x, [0, 2]), [t234]],
  ["reduce_prod (all)", (x) => reduceProd(x, [0]), [v5]],
  ["reduce_prod with zeros", (x) => reduceProd(x, [1]), [np.array([[0.5, 0, 1.5], [0, 0, 2], [1, 2, 3]])]],
  ["reduce_prod of one factor", (x) => reduceProd(x, [0]), [np.array([[0.7, 1.3]])]],
  ["cumprod", (x) => cumulative("prod", x, 1), [m34]],
  ["cumprod reversed with a zero", (x) => cumulative("prod", x, 0, true), [np.array([0.5, 0, 1.5, 2, 0.7])]],
  ["cummax", (x) => cumulative("max", x, 0), [np.array([0.3, 0.9, 0.1, 1.2, 1.1])]],
  ["cummax with ties", (x) => cumulative("max", x, 0), [tied]],
  ["cummin reversed", (x) => cumulative("min", x, 1, true), [m34]],
  ["cummin with ties", (x) => cumulative("min", x, 0), [tied]],
  ["sort", (x) => sort([x], 1)[0], [m34]],
  ["sort with ties", (x) => sort([x])[0], [tied]],
  ["sort (second operand)", (x, y) => np.add(sort([x, y], 0)[1], sort([x, y], 0)[0]), [mk([4, 3], 5), mk([4, 3], 6)], true],
  ["sort (by integer keys)", (x) => sort([np.array([3, 1, 2, 1, 0], "int32"), x])[1], [v5]],
  ["sort (an integer operand)", (x) => np.multiply(sort([x, np.array([1, 2, 3, 4, 5], "int32")])[0], 2), [v5]],
  ["scatter", (x, u) => x.at(idx).set(u), [v5, mk([4], 7)], true],
  ["scatter_mul", (x, u) => x.at(idx).mul(u), [v5, np.array([0.7, -1.2, 0, 2.1])], true],
  ["scatter_mul (two zeros on one element)", (x, u) => x.at(idx).mul(u), [v5, np.array([0, -1.2, 0, 2.1])], true],
  ["scatter_mul (2-d, windows, repeats)", (x, u) => x.at(np.array([2, 0, 2, 2], "int32")).mul(u), [mk([3, 2], 14), mk([4, 2], 15, -1, 2)], true],
  ["scatter_mul (out of bounds dropped)", (x, u) => x.at(np.array([1, 7, 1], "int32")).mul(u), [v5, mk([3], 16, -1, 2)], true],
  ["scatter_min", (x, u) => x.at(idx).min(u), [v5, np.array([0.2, 1.5, 0.8, 0.1])], true],
  ["scatter_max", (x, u) => x.at(idx).max(u), [v5, np.array([0.2, 1.5, 0.8, 0.1])], true],
  ["scatter_max with ties", (x, u) => x.at(idx).max(u), [np.array([0.5, 0.3, 0.9, 0.6, 0.1]), np.array([0.6, 0.5, 0.6, 0.3])], true],
  ["reduce_window_max", (x) => reduceWindowMax(x, win), [mk([4, 5], 8)]],
  ["select_and_gather_add", (t, x) => selectAndGatherAdd(t, x, win), [mk([4, 5], 9), mk([4, 5], 8)], true],
  ["select_and_scatter_add", (ct, x) => selectAndScatterAdd(ct, x, win), [mk([4, 3], 10), mk([4, 5], 8)], true],
];
for (const [name, f, xs, consts] of cases) test(`jet rule of ${name} against nested jvp to order ${K}`, () => check(name, f, xs, { consts }));

test("scatter_mul with constant updates is linear in the operand", () => {
  const u = np.array([0.7, -1.2, 0, 2.1]);
  check("scatter_mul (constant updates)", (x) => x.at(idx).mul(u), [v5]);
});

test("composites through these rules", () => {
  const x = mk([3, 4], 11);
  check("np.prod", (y) => np.prod(y, 0), [x]);
  check("np.cumprod", (y) => np.cumprod(y, 1), [x]);
  check("np.median", (y) => np.median(y, 1), [x]);
  check("np.sort", (y) => np.sort(y, 0), [x]);
  // Reverse mode of max pooling binds select_and_scatter_add: its jet is a jet of a gradient.
  const pool = (y: Tensor) => lax.reduceWindow(y, -Infinity, "max", [2, 2], [1, 1], "VALID");
  check("gradient of max pooling", (y) => grad((z: Tensor) => np.sum(np.square(pool(z))))(y), [mk([4, 4], 12)]);
  check("x.at[i].set under jit", jit((y: Tensor, u: Tensor) => np.multiply(y.at(idx).set(u), y)), [v5, mk([4], 13)], { consts: true });
});

test("scatter_mul of no updates passes the operand's series through", () => {
  const x = np.array([1, 2, 3]), u = np.zeros([0]);
  const [p, s] = jetOf((y, v) => y.at(np.zeros([0], "int32")).mul(v), [x, u], [[x, np.multiply(x, 2)], [u, u]]);
  close(p, [1, 2, 3]);
  close(s, [[1, 2, 3], [2, 4, 6]]);
});

test("jet of these rules under vmap, against the jets one by one", () => {
  const xs = mk([3, 5], 17), ts = mk([3, 5], 18, -1, 2);
  const g = (x: Tensor, t: Tensor) => jetOf((y) => np.add(np.sort(np.cumprod(y)), y.at(idx).max(np.take(y, idx))), [x], [[t, t, t]])[1];
  const batched = vmap(g)(xs, ts) as Tensor[];
  for (let i = 0; i < 3; i++) close(batched.map((c) => c.at(i).get()), g(xs.at(i).get(), ts.at(i).get()), 1e-12, `example ${i}`);
});

test("float32 series stay float32 and agree with float64", () => {
  const x = np.array([0.5, 1.2, 0.3, 0.9]), i = np.array([1, 3, 1], "int32");
  const fs: F[] = [
    (y) => np.prod(y),
    (y) => np.cumprod(y),
    (y) => np.cummin(y),
    (y) => np.sort(y),
    (y) => y.at(i).set(np.multiply(np.take(y, i), 2)),
    (y) => y.at(i).mul(np.take(y, i)),
    (y) => y.at(i).max(np.take(y, i)),
    (y) => lax.reduceWindow(np.reshape(y, [2, 2]), -Infinity, "max", [2, 1], [1, 1], "VALID"),
  ];
  for (const f of fs) {
    const x32 = np.astype(x, "float32");
    const [p, s] = jetOf(f, [x32], [[x32, x32]]);
    assert.equal([p.dtype, ...s.map((t) => t.dtype)], ["float32", "float32", "float32"]);
    close(s, jetOf(f, [x], [[x, x]])[1], 1e-5);
  }
});

test("reduce_prod over an empty axis is the constant 1", () => {
  const [p, s] = jetOf((x) => reduceProd(x, [0]), [np.zeros([0, 2])], [[np.zeros([0, 2]), np.zeros([0, 2])]]);
  close(p, [1, 1]);
  close(s, [[0, 0], [0, 0]]);
});

test.run();
