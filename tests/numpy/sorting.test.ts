// Sorting and scans (issue 10) against NumPy (tests/fixtures/gen-indexing.py), their derivatives
// (checkGrads in both modes), batching against loops, and staging without unrolling.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { DTypeError, JacobiError, OptionsError, ShapeError, type Tensor, checkGrads, grad, jit, lax, makeJaxpr, np, vmap } from "../../src/index.js";
import { cumsumP } from "../../src/primitives/cumulative.js";
import { sortP } from "../../src/primitives/sort.js";
import { ShapedArray } from "../../src/core/shaped-array.js";
import { close, throwsWith } from "../helpers.js";

const fx = JSON.parse(readFileSync(new URL("../fixtures/indexing.json", import.meta.url), "utf8"));
const x = np.array(fx.x) as Tensor;
const ties = np.array(fx.ties.map((r: (number | null)[]) => r.map((v) => (v === null ? NaN : v)))) as Tensor;

test("np.sort and np.argsort (stable, NaN last) against NumPy", () => {
  close(np.sort(x), fx.sort_1);
  close(np.sort(x, 0), fx.sort_0);
  close(np.sort(x, null), [...fx.x.flat()].sort((a: number, b: number) => a - b));
  close(np.argsort(ties), fx.argsort_ties);
  close(np.argsort(x, 0), fx.argsort_0);
  assert.is(np.argsort(x).dtype, "int32");
  // -0 and 0 are equal keys: their order is kept (a row with a -0 takes the stable merge sort).
  assert.equal(np.sort(np.array([3, 0, -0, NaN, -1])).tolist().map((v: number) => (Object.is(v, -0) ? "-0" : v)), [-1, 0, "-0", 3, NaN]);
  assert.equal(np.sort(np.array([3, -0, 0, -1])).tolist().map((v: number) => (Object.is(v, -0) ? "-0" : v)), [-1, "-0", 0, 3]);
  assert.equal(np.sort(np.array([3, 1, 2], "int32")).tolist(), [1, 2, 3]);
  assert.equal(np.sort(np.array([true, false])).tolist(), [false, true]);
  throwsWith(() => np.sort(np.array(1)), ShapeError, ["rank at least 1"]);
  throwsWith(() => np.sort(x, 2), ShapeError, ["axis 2"]);
  throwsWith(() => np.sort(x, [0, 1] as never), ShapeError, ["single integer"]);
});

test("lax.topK: the k largest, largest first, lower index first among ties", () => {
  const [v, i] = lax.topK(x, 3);
  close(v, fx.topk_3_values);
  close(i, fx.topk_3_indices);
  assert.equal(lax.topK(np.array([1, 3, 3, 2], "uint32"), 2)[1].tolist(), [1, 2]);
  assert.equal(lax.topK(np.array([true, false, true]), 1)[1].tolist(), [0]);
  assert.equal(lax.topK(np.array([-(2 ** 31), 5, 2 ** 31 - 1, -(2 ** 31)], "int32"), 4).map((t) => t.tolist()), [[2 ** 31 - 1, 5, -(2 ** 31), -(2 ** 31)], [2, 1, 0, 3]]);
  throwsWith(() => lax.topK(x, 6), JacobiError, ["k must be an integer in [0, 5]"]);
  throwsWith(() => lax.topK(np.array(2), 1), ShapeError, ["rank at least 1"]);
});

test("cumsum, cumprod, cummax, cummin (axis, reverse) and diff against NumPy", () => {
  close(np.cumsum(x, 1), fx.cumsum_1);
  close(np.cumsum(x, 0, { reverse: true }), fx.cumsum_0_rev);
  close(np.cumsum(x), fx.cumsum_flat);
  close(np.cumprod(x, 1), fx.cumprod_1);
  close(np.cummax(x, 1), fx.cummax_1);
  close(np.cummin(x, 0), fx.cummin_0);
  close(np.cumsum(np.array([true, true, false])), [1, 2, 2]);
  assert.is(np.cumsum(np.array([true])).dtype, "int32");
  close(np.cumprod(np.arange(1, 8), 0, { reverse: true }), [5040, 5040, 2520, 840, 210, 42, 7]);
  close(np.diff(x), fx.diff_1);
  close(np.diff(x, 2, 0), fx.diff_0_n2);
  close(np.diff(np.array([true, false, false])), [-1, 0]);
  close(np.diff(np.array([1, 2]), 5), []);
  throwsWith(() => np.cumsum(x, 0, { reversed: true } as never), OptionsError, ["reversed"]);
  throwsWith(() => np.diff(np.array(1)), ShapeError, ["rank at least 1"]);
  throwsWith(() => np.diff(x, -1), JacobiError, ["non-negative"]);
});

test("np.searchsorted against NumPy, both sides; integer values convert", () => {
  close(np.searchsorted(np.array(fx.sorted_a), np.array(fx.queries)), fx.searchsorted_left);
  close(np.searchsorted(np.array(fx.sorted_a), np.array(fx.queries), { side: "right" }), fx.searchsorted_right);
  assert.equal(np.searchsorted(np.array([1, 2, 3], "int32"), np.array([2], "int32")).tolist(), [1]);
  close(np.searchsorted(np.array([0.5, 1.5]), np.array([1], "int32")), [1]);
  throwsWith(() => np.searchsorted(np.array([1, 2], "int32"), np.array([1.5])), DTypeError, ["convert"]);
  // Query arrays of any shape, an empty a, and traced queries (jit, vmap) against a counting loop.
  assert.equal(np.searchsorted(np.zeros([0]), np.array([[1, 2]])).tolist(), [[0, 0]]);
  const sorted = np.sort(np.array(Array.from({ length: 37 }, (_, i) => Math.round(Math.sin(i * 1.7) * 5))));
  const qs = np.array(Array.from({ length: 24 }, (_, i) => i / 2 - 6));
  const count = (side: "left" | "right") => (qs.tolist() as number[]).map((v) => (sorted.tolist() as number[]).filter((a) => (side === "left" ? a < v : a <= v)).length);
  assert.equal(jit((q: Tensor) => np.searchsorted(sorted, q))(qs).tolist(), count("left"));
  assert.equal(vmap((q: Tensor) => np.searchsorted(sorted, q, { side: "right" }))(np.reshape(qs, [4, 6])).tolist(), np.reshape(np.array(count("right")), [4, 6]).tolist());
  throwsWith(() => np.searchsorted(x, 1), ShapeError, ["1-D"]);
  throwsWith(() => np.searchsorted(np.array([1]), 1, { side: "middle" } as never), OptionsError, ["side"]);
});

test("lax.associativeScan on pytrees, reverse and axis; lax.map is a scan", () => {
  // A linear recurrence h_t = a_t h_{t-1} + b_t as pairs (a, b) composed associatively.
  const a = np.array([0.5, 2, -1, 0.25, 3]), b = np.array([1, -1, 2, 0.5, 1]);
  const [, h] = lax.associativeScan((p: [Tensor, Tensor], q: [Tensor, Tensor]) => [p[0].mul(q[0]), q[0].mul(p[1]).add(q[1])] as [Tensor, Tensor], [a, b] as [Tensor, Tensor]);
  const want: number[] = [];
  [0.5, 2, -1, 0.25, 3].reduce((prev, ai, t) => (want.push(ai * prev + [1, -1, 2, 0.5, 1][t]), want[t]), 0);
  close(h, want);
  close(lax.associativeScan(np.add, x, { axis: 1 }), fx.cumsum_1);
  close(lax.associativeScan(np.add, x, { axis: -2, reverse: true }), fx.cumsum_0_rev);
  throwsWith(() => lax.associativeScan(np.add, x, { axis: 2 }), ShapeError, ["axis 2"]);
  throwsWith(() => lax.associativeScan(np.add as never, [x, np.ones([3])] as never), ShapeError, ["same length"]);
  throwsWith(() => lax.associativeScan(np.add as never, [] as never), JacobiError, ["no arrays"]);
  throwsWith(() => lax.associativeScan(1 as never, x), JacobiError, ["function"]);
  throwsWith(() => lax.associativeScan(np.add, x, { axis: 0.5 }), OptionsError, ["integer"]);
  close(lax.map((r: Tensor) => np.sort(r), x), fx.sort_1);
  assert.ok(/scan/.test(makeJaxpr((v: Tensor) => lax.map((r: Tensor) => r.sum(), v))(x).toString()));
  throwsWith(() => lax.map(3 as never, x), JacobiError, ["function"]);
});

test("derivatives: checkGrads in both modes for sort, topK, argsort-gathers, the cumulative functions, diff", () => {
  const v = np.array([[0.3, -1.2, 0.8, 2.1], [1.1, 0.4, -0.6, -1.7]]);
  const fs: [string, (t: Tensor) => Tensor][] = [
    ["sort", (t) => np.sort(t, 0)],
    ["topK", (t) => lax.topK(t, 3)[0]],
    ["take by argsort", (t) => np.takeAlongAxis(t, np.argsort(t), 1)],
    ["cumprod", (t) => np.cumprod(t, 1)],
    ["cummax", (t) => np.cummax(t, 1)],
    ["cummin reverse", (t) => np.cummin(t, 1, { reverse: true })],
    ["cumsum", (t) => np.cumsum(t, 0, { reverse: true })],
    ["diff", (t) => np.diff(t, 2)],
  ];
  for (const [name, f] of fs) {
    try {
      checkGrads(f, [v], { order: 2, modes: ["fwd", "rev"] });
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`);
    }
  }
  // searchsorted has no derivative: its output is an integer.
  close(grad((t: Tensor) => np.take(t, np.searchsorted(t, 0.5)))(np.array([0, 1, 2])), [0, 1, 0]);
});

test("under jit and vmap: the same values as a loop, one sort or cumsum staged", () => {
  const f = (t: Tensor) => [np.sort(t), np.cumsum(t, 0), np.cummax(t, 0), lax.topK(t, 2)[1]];
  const rowsOf = [0, 1, 2, 3].map((k) => x.slice(k));
  close(vmap(f)(x), [0, 1, 2, 3].map((k) => f(rowsOf[k])).reduce((acc: Tensor[][], r) => (r.forEach((o, i) => (acc[i] ??= []).push(o)), acc), []).map((l) => np.stack(l)));
  close(jit(f)(x.slice(0)), f(x.slice(0)));
  const staged = makeJaxpr(f)(x.slice(0)).jaxpr.eqns.map((e) => e.primitive.name);
  assert.is(staged.filter((n) => n === "sort").length, 2);
  assert.is(staged.filter((n) => n === "cumsum").length, 1);
});

test("sort and cumsum metadata: cost, notation, axis errors", () => {
  assert.equal(sortP.cost([new ShapedArray([2, 8], "float64")], [], { dimension: 1 }), { flops: 48, transcendentals: 0 });
  assert.is(cumsumP.notation?.(["a"], { axis: 0, reverse: true }, []), "cumsum reversed[axis=0] a");
  assert.is(cumsumP.notation?.(["a"], { axis: 1, reverse: false }, []), "cumsum[axis=1] a");
  throwsWith(() => sortP.abstractEval([new ShapedArray([2], "float64")], { dimension: 1 }), ShapeError, ["dimension 1"]);
  throwsWith(() => cumsumP.abstractEval([new ShapedArray([2], "float64")], { axis: 1, reverse: false }), ShapeError, ["axis 1"]);
  close(np.cumsum(np.zeros([0, 3]), 1), np.zeros([0, 3]));
});

test.run();
