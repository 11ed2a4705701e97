// permutation and choice: JAX's shuffle (stable sorts by fresh random bits), uniformity over
// positions, weighted draws, the sort primitive they rest on, gradients through a permuted float
// array, and jit/vmap.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { DTypeError, JacobiError, ShapeError, grad, jit, np, vmap } from "../../src/index.js";
import { random } from "../../src/random/index.js";
import { sort } from "../../src/primitives/sort.js";
import type { Tensor } from "../../src/core/tensor.js";
import { throwsWith } from "../helpers.js";
import { momentsAgree } from "./stats.js";

const u32 = (xs: number[]) => np.array(new Uint32Array(xs));
const ints = (t: Tensor) => t.tolist() as number[];

test("sort: stable, NaN last, along any axis, every operand permuted alike", () => {
  const [k, v] = sort([np.array([3, NaN, 1, 3, -2]), np.array([0, 1, 2, 3, 4], "int32")], 0);
  assert.equal(k.tolist(), [-2, 1, 3, 3, NaN]);
  assert.equal(v.tolist(), [4, 2, 0, 3, 1]);
  const m = np.array([[3, 1, 2], [0, 5, 4]]);
  assert.equal(sort([m], 1)[0].tolist(), [[1, 2, 3], [0, 4, 5]]);
  assert.equal(sort([m], 0)[0].tolist(), [[0, 1, 2], [3, 5, 4]]);
  assert.equal(sort([m])[0].tolist(), [[1, 2, 3], [0, 4, 5]]);
  assert.equal(vmap((x: Tensor) => sort([x])[0])(m).tolist(), [[1, 2, 3], [0, 4, 5]]);
  assert.equal(sort([np.zeros([0])], 0)[0].shape, [0]);
  throwsWith(() => sort([m, np.zeros([3])], 0), ShapeError, ["sort"]);
  throwsWith(() => sort([m], 2), ShapeError, ["sort", "dimension 2"]);
});

test("permutation of n: arange(n) sorted by the bits of split(key)[1], JAX's shuffle", () => {
  for (const seed of [0, 1, 7]) {
    const k = random.key(seed);
    const sub = random.split(k).tolist()[1] as number[];
    const b = ints(random.bits(u32(sub), [10]));
    const want = b.map((v, i) => [v, i]).sort((x, y) => x[0] - y[0] || x[1] - y[1]).map((x) => x[1]);
    assert.equal(ints(random.permutation(k, 10)), want);
    assert.equal(ints(random.permutation(k, np.arange(10, undefined, 1, "int32"))), want);
    assert.equal(ints(random.permutation(k, np.array(10, "int32"))), want);
  }
  // More than 1625 items take two rounds of sorting; still a permutation.
  const big = ints(random.permutation(random.key(3), 3000));
  assert.equal([...big].sort((a, b) => a - b), Array.from({ length: 3000 }, (_, i) => i));
});

test("permutation is uniform: each item lands in each position equally often", () => {
  const n = 4, draws = 4000;
  const perms = vmap((k: Tensor) => random.permutation(k, n))(random.split(random.key(30), draws)).tolist() as number[][];
  for (let item = 0; item < n; item++) {
    for (let pos = 0; pos < n; pos++) {
      const hits = perms.map((p) => (p[pos] === item ? 1 : 0));
      const q = 1 / n;
      momentsAgree(hits, q, q * (1 - q), q * (1 - q) * (1 - 3 * q + 3 * q * q), `item ${item} at ${pos}`);
    }
  }
});

test("permutation of arrays: along an axis, independently, floats keep their gradient", () => {
  const k = random.key(31);
  const p = ints(random.permutation(k, 5));
  const x = np.array([10.5, 11.5, 12.5, 13.5, 14.5]);
  assert.equal(random.permutation(k, x).tolist(), p.map((i) => 10.5 + i));
  const m = np.reshape(np.astype(np.arange(15), "float64"), [5, 3]);
  assert.equal(random.permutation(k, m).tolist(), p.map((i) => [3 * i, 3 * i + 1, 3 * i + 2]));
  const mt = np.transpose(m);
  assert.equal(random.permutation(k, mt, { axis: 1 }).tolist(), [0, 1, 2].map((r) => p.map((i) => 3 * i + r)));
  assert.equal(random.permutation(k, mt, { axis: -1 }).tolist(), random.permutation(k, mt, { axis: 1 }).tolist());
  assert.equal(random.permutation(k, np.array([true, false, false, true, false])).tolist(), p.map((i) => [true, false, false, true, false][i]));
  // independent: every row its own permutation, floats and integers alike.
  const ind = random.permutation(k, np.reshape(np.astype(np.arange(12), "float64"), [3, 4]), { axis: 1, independent: true }).tolist() as number[][];
  const indI = random.permutation(k, np.reshape(np.arange(12, undefined, 1, "int32"), [3, 4]), { axis: 1, independent: true }).tolist() as number[][];
  assert.equal(ind, indI);
  ind.forEach((r, i) => assert.equal([...r].sort((a, b) => a - b), [0, 1, 2, 3].map((j) => 4 * i + j)));
  // d/dx sum(w * permutation(x)) is w permuted back.
  const w = np.array([1, 2, 3, 4, 5.0]);
  const g = ints(grad((v: Tensor) => np.sum(np.multiply(w, random.permutation(k, v))))(x));
  const want = new Array<number>(5);
  p.forEach((src, dst) => (want[src] = dst + 1));
  assert.equal(g, want);
  throwsWith(() => random.permutation(k, 2.5), JacobiError, ["random.permutation", "non-negative integer"]);
  throwsWith(() => random.permutation(k, np.array(2.5)), DTypeError, ["random.permutation", "integer"]);
  throwsWith(() => random.permutation(k, m, { axis: 2 }), ShapeError, ["axis 2"]);
});

test("choice: uniform with and without replacement, weighted with and without", () => {
  const k = random.key(32);
  const n = 5, N = 10000, q = 1 / n;
  const u = ints(random.choice(k, n, [N]));
  for (let i = 0; i < n; i++) momentsAgree(u.map((v) => (v === i ? 1 : 0)), q, q * (1 - q), q * (1 - q) * (1 - 3 * q + 3 * q * q), `choice uniform ${i}`);
  // Without replacement: the head of JAX's permutation.
  assert.equal(ints(random.choice(k, n, [3], { replace: false })), ints(random.permutation(k, n)).slice(0, 3));
  const p = [0.1, 0.4, 0, 0.3, 0.2];
  const w = ints(random.choice(k, n, [N], { p: np.array(p) }));
  p.forEach((pi, i) => momentsAgree(w.map((v) => (v === i ? 1 : 0)), pi, pi * (1 - pi), pi * (1 - pi) * (1 - 3 * pi + 3 * pi * pi), `choice p ${i}`));
  // Weighted without replacement: distinct items, the first drawn with probability p.
  const draws = vmap((kk: Tensor) => random.choice(kk, n, [3], { replace: false, p: np.array(p) }))(random.split(k, 3000)).tolist() as number[][];
  assert.ok(draws.every((d) => new Set(d).size === 3 && !d.includes(2)));
  p.forEach((pi, i) => momentsAgree(draws.map((d) => (d[0] === i ? 1 : 0)), pi, pi * (1 - pi), pi * (1 - pi) * (1 - 3 * pi + 3 * pi * pi), `first weighted draw ${i}`));
});

test("choice from arrays along an axis; shapes, empties and errors", () => {
  const k = random.key(33);
  const a = np.array([[1, 2], [3, 4], [5, 6]]);
  const idx = ints(random.choice(k, 3, [4]));
  assert.equal(random.choice(k, a, [4]).tolist(), idx.map((i) => [2 * i + 1, 2 * i + 2]));
  const cols = ints(random.choice(k, 2, [3]));
  assert.equal(random.choice(k, a, [3], { axis: 1 }).tolist(), [0, 1, 2].map((r) => cols.map((c) => 2 * r + c + 1)));
  assert.equal(random.choice(k, a, [2, 2]).shape, [2, 2, 2]);
  assert.equal(random.choice(k, 4, [0]).shape, [0]);
  assert.equal(random.choice(k, a, [0]).shape, [0, 2]);
  assert.equal(random.choice(k, 4).shape, []);
  assert.is(random.choice(k, 4, [2], { p: np.array([1, 1, 1, 1], "int32") }).dtype, "int32");
  throwsWith(() => random.choice(k, 0, [2]), JacobiError, ["random.choice", "greater than 0"]);
  throwsWith(() => random.choice(k, 3, [4], { replace: false }), JacobiError, ["larger sample"]);
  throwsWith(() => random.choice(k, 3, [2], { p: np.array([0.5, 0.5]) }), ShapeError, ["p must have shape [3]"]);
});

test("permutation and choice under jit and vmap give the eager numbers", () => {
  const k = random.key(34);
  const fns: ((k: Tensor) => Tensor)[] = [
    (key) => random.permutation(key, 6),
    (key) => random.permutation(key, np.array([1.5, 2.5, 3.5])),
    (key) => random.choice(key, 5, [3]),
    (key) => random.choice(key, 5, [3], { replace: false }),
    (key) => random.choice(key, 4, [3], { p: np.array([0.1, 0.2, 0.3, 0.4]) }),
    (key) => random.choice(key, 4, [2], { replace: false, p: np.array([0.1, 0.2, 0.3, 0.4]) }),
  ];
  const keys = random.split(k, 3);
  for (const f of fns) {
    assert.equal(jit(f)(k).tolist(), f(k).tolist());
    const v = vmap(f)(keys).tolist() as unknown[];
    (keys.tolist() as number[][]).forEach((r, i) => assert.equal(v[i], f(u32(r)).tolist()));
  }
});

test.run();
