// Indexing with traced indices (issue 10): np.take, np.takeAlongAxis, x.at(...) and lax's dynamic
// slices against NumPy (tests/fixtures/gen-indexing.py), then under jit, vmap (indices, operand,
// both batched), grad and scan, which must stage one gather or scatter, never an unrolled loop.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { DTypeError, OptionsError, ShapeError, type Tensor, checkGrads, grad, jit, jvp, lax, makeJaxpr, np, vmap } from "../../src/index.js";
import { gather as staticGather, gatherP, scatterAdd, scatterAddP } from "../../src/primitives/gather.js";
import { scatterP } from "../../src/primitives/scatter.js";
import { ShapedArray } from "../../src/core/shaped-array.js";
import { close, throwsWith } from "../helpers.js";

const fx = JSON.parse(readFileSync(new URL("../fixtures/indexing.json", import.meta.url), "utf8"));
const x = np.array(fx.x) as Tensor;
const x3 = np.array(fx.x3) as Tensor;
const I = (v: unknown) => np.astype(np.array(v as number[]), "int32");
const idx = I(fx.idx), rows = I(fx.rows), upd = np.array(fx.upd) as Tensor;
const count = (f: (...a: any[]) => unknown, args: unknown[], name: string) => makeJaxpr(f)(...args).jaxpr.eqns.filter((e) => e.primitive.name === name).length;

test("np.take against NumPy: flat, along each axis, index arrays of any shape", () => {
  close(np.take(x, idx), fx.take_flat);
  // NumPy wraps -1 once; so do we (fill mode normalizes negatives first).
  close(np.take(x, idx, 0), fx.take_axis0);
  close(np.take(x, idx, 1), fx.take_axis1);
  close(np.take(x3, I([2, 0, 2]), 1), fx.take_x3_axis1);
  close(x.take(I([4, -5]), 1), np.stack([x.slice(null, 4), x.slice(null, 0)], 1));
});

test("np.take out of range: fill (NaN, int32 min) by default, clip or a fill value on request", () => {
  close(np.take(x, I([5, -6]), 0), [Array(5).fill(NaN), Array(5).fill(NaN)]);
  assert.equal(np.take(I([1, 2, 3]), I([3])).tolist(), [-(2 ** 31)]);
  assert.equal(np.take(np.array([1, 2, 3], "uint32"), I([3])).tolist(), [2 ** 32 - 1]);
  assert.equal(np.take(np.array([false, false]), I([3])).tolist(), [true]);
  close(np.take(x, I([9, -9]), 0, { mode: "clip" }), [fx.x[3], fx.x[0]]);
  close(np.take(x, I([9]), 1, { fillValue: 7 }), fx.x.map(() => [7]));
  close(np.take(np.zeros([0]), I([0, 1])), [NaN, NaN]);
  assert.equal(np.take(np.zeros([0]), I([0]), 0, { mode: "clip" }).tolist(), [0]);
  throwsWith(() => np.take(x, I([0]), 0, { mode: "wrap" } as never), OptionsError, ["mode"]);
  throwsWith(() => np.take(x, I([0]), 0, { fill: 1 } as never), OptionsError, ["fill"]);
  throwsWith(() => np.take(x, 1.5), ShapeError, ["integers"]);
  throwsWith(() => jit((i: Tensor) => np.take(x, i))(np.array([1.0])), DTypeError, ["integer dtype", "traced"]);
  // uint32 and integral float indices are converted.
  close(np.take(x, np.array([1, 0], "uint32"), 0), [fx.x[1], fx.x[0]]);
});

test("np.takeAlongAxis against NumPy, with broadcasting of the other axes", () => {
  close(np.takeAlongAxis(x, I(fx.along), 1), fx.take_along_1);
  close(np.takeAlongAxis(x, I([[3, 0, 1, 1, 2]]), 0), fx.take_along_0);
  close(np.takeAlongAxis(x, I([[5], [0], [0], [0]]), -1), [[NaN], [fx.x[1][0]], [fx.x[2][0]], [fx.x[3][0]]]);
  close(np.takeAlongAxis(x, I([[5], [0], [0], [0]]), 1, { mode: "clip" }), [[fx.x[0][4]], [fx.x[1][0]], [fx.x[2][0]], [fx.x[3][0]]]);
  throwsWith(() => np.takeAlongAxis(x, I([1, 2]), 0), ShapeError, ["rank"]);
});

test("x.at(...): set, add, mul, min, max with repeated indices against NumPy's ufunc.at", () => {
  close(x.at(rows).set(upd), fx.at_set);
  close(x.at(rows).add(upd), fx.at_add);
  close(x.at(rows).mul(upd), fx.at_mul);
  close(x.at(rows).min(upd), fx.at_min);
  close(x.at(rows).max(upd), fx.at_max);
  // Nothing the user passed is changed.
  close(x, fx.x);
});

test("x.at(...).get(): slices, numbers and index Tensors as NumPy's indexing", () => {
  close(x.at(I([2, 0]), [1, 4]).get(), fx.at_get_mixed);
  close(x3.at(I([1, 0]), null, I([3, 3])).get(), fx.at_get_split);
  close(x3.at(null, I([2, 0]), I([1, 3])).get(), fx.at_get_adjacent);
  close(x.at(1, [null, null, -2]).get(), [fx.x[1][4], fx.x[1][2], fx.x[1][0]]);
  close(x.at().get(), fx.x);
  // A number beside an index Tensor broadcasts with it; out of range clamps.
  close(x.at(I([0, 9]), 2).get(), [fx.x[0][2], fx.x[3][2]]);
  close(x.at(-1).set(0).slice(3), [0, 0, 0, 0, 0]);
  // Out-of-range updates are dropped; values take x's dtype and broadcast.
  close(x.at(I([7, -9])).set(1), fx.x);
  assert.equal(I([1, 2, 3]).at(I([0])).add(2.7).tolist(), [3, 2, 3]);
  throwsWith(() => x.at(0, 0, 0).get(), ShapeError, ["too many indices"]);
  throwsWith(() => x.at(7).get(), ShapeError, ["index 7 is out of bounds"]);
  throwsWith(() => x.at("a" as never).get(), ShapeError, ["unsupported index"]);
  throwsWith(() => x.at(np.array([true])).get(), DTypeError, ["integer"]);
});

test("lax.dynamicSlice, dynamicUpdateSlice, dynamicIndexInDim: values, clamping, negative starts", () => {
  close(lax.dynamicSlice(x, [1, 2], [2, 3]), fx.dynamic_slice);
  close(lax.dynamicSlice(x, I([1, 2]), [2, 3]), fx.dynamic_slice);
  // Starts clamp so the window fits (3 -> 2 for two rows of four); -3 counts from the end.
  close(lax.dynamicSlice(x, [3, -3], [2, 3]), fx.x.slice(2, 4).map((r: number[]) => r.slice(2, 5)));
  const u = lax.dynamicUpdateSlice(x, np.zeros([2, 2]), [3, 4]);
  close(u.slice([2, 4], [3, 5]), [[0, 0], [0, 0]]);
  close(u.slice([0, 2]), fx.x.slice(0, 2));
  close(lax.dynamicUpdateSlice(I([1, 2, 3]), np.array([9.5]), [1]), [1, 9, 3]);
  close(lax.dynamicIndexInDim(x, 2, 1), fx.x.map((r: number[]) => [r[2]]));
  close(lax.dynamicIndexInDim(x, -1, 0, { keepdims: false }), fx.x[3]);
  close(lax.dynamicIndexInDim(x, np.array(1, "int32")), [fx.x[1]]);
  throwsWith(() => lax.dynamicSlice(x, [0, 0], [5, 1]), ShapeError, ["slice sizes"]);
  throwsWith(() => lax.dynamicSlice(x, [0], [1, 1]), ShapeError, ["1 start indices"]);
  throwsWith(() => lax.dynamicSlice(x, [I([0, 1]), 0], [1, 1]), ShapeError, ["scalar"]);
  throwsWith(() => lax.dynamicUpdateSlice(x, np.zeros([5]), [0]), ShapeError, ["does not fit"]);
  throwsWith(() => lax.dynamicIndexInDim(x, 0, 2), ShapeError, ["axis 2"]);
  throwsWith(() => lax.dynamicIndexInDim(x, 0, 0, { keep: true } as never), OptionsError, ["keep"]);
});

test("traced indices under jit: one gather or scatter, the same values as eager", () => {
  const f = (v: Tensor, i: Tensor) => [np.take(v, i, 0), v.at(i).add(1), lax.dynamicSlice(v, [i.slice(0), 1], [2, 2])];
  const eager = f(x, I([3, 1]));
  close(jit(f)(x, I([3, 1])), eager);
  assert.is(count(f, [x, I([3, 1])], "gather"), 2);
  assert.is(count(f, [x, I([3, 1])], "scatter_add"), 1);
  // An argmax index used inside jit.
  const pick = jit((v: Tensor) => np.take(v, np.argmax(v)));
  close(pick(np.array([1, 5, 2])), 5);
});

test("vmap: batched indices, batched operand, or both, against a loop", () => {
  const is = I([[0, 3], [4, 4], [1, 0]]);
  const xs = np.stack([x, x.mul(2), x.neg()]);
  const loop = (fn: (k: number) => Tensor) => np.stack([0, 1, 2].map(fn));
  close(vmap((i: Tensor) => np.take(x, i, 1))(is), loop((k) => np.take(x, is.slice(k), 1)));
  close(vmap((v: Tensor) => np.take(v, I([2, 0]), 0))(xs), loop((k) => np.take(xs.slice(k), I([2, 0]), 0)));
  close(vmap((v: Tensor, i: Tensor) => np.take(v, i, 1))(xs, is), loop((k) => np.take(xs.slice(k), is.slice(k), 1)));
  close(vmap((v: Tensor, i: Tensor) => v.at(i).set(-1))(xs, is.slice(null, 0)), loop((k) => xs.slice(k).at(is.slice(k, 0)).set(-1)));
  close(vmap((v: Tensor, i: Tensor) => lax.dynamicSlice(v, [i, 1], [2, 3]))(xs, I([0, 3, 1])), loop((k) => lax.dynamicSlice(xs.slice(k), [[0, 3, 1][k], 1], [2, 3])));
  close(vmap((i: Tensor) => lax.dynamicUpdateSlice(x, np.ones([1, 2]), [i, i]), { inAxes: 0 })(I([0, 3, 1])), loop((k) => lax.dynamicUpdateSlice(x, np.ones([1, 2]), [[0, 3, 1][k], [0, 3, 1][k]])));
  close(vmap((v: Tensor, i: Tensor) => np.takeAlongAxis(v, i, 1))(xs, np.stack([I(fx.along), I(fx.along), I(fx.along)])), loop((k) => np.takeAlongAxis(xs.slice(k), I(fx.along), 1)));
});

test("grad through traced indices (an embedding lookup), and inside a scan body without unrolling", () => {
  const emb = x;
  const tokens = I([1, 3, 1, 0]);
  const loss = (E: Tensor, t: Tensor) => np.take(E, t, 0).mul(upd).sum();
  // d/dE of sum(E[t] * upd) = scatter-add of upd's rows at the tokens.
  close(grad(loss)(emb, tokens), np.zeros([4, 5]).at(tokens).add(upd));
  close(jit(grad(loss))(emb, tokens), np.zeros([4, 5]).at(tokens).add(upd));
  const body = (E: Tensor) => lax.scan((c: Tensor, t: Tensor) => [c.add(lax.dynamicIndexInDim(E, t, 0, { keepdims: false }).sum()), c], 0, tokens)[0];
  close(body(emb), [1, 3, 1, 0].reduce((s, r) => s + fx.x[r].reduce((a: number, b: number) => a + b, 0), 0));
  close(grad(body)(emb), [[1, 1, 1, 1, 1], [2, 2, 2, 2, 2], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1]]);
  const staged = makeJaxpr(body)(emb).toString();
  assert.ok(/scan/.test(staged) && (staged.match(/gather/g) ?? []).length === 1, staged);
});

test("vmap of grad through every update kind, and updates inside a scan body, against loops", () => {
  const vs = np.array([[0.5, -1.5, 2], [1, 0.25, -0.5], [2, 2, -3]]);
  const us = np.array([[1.5, 0.25], [-1, 3], [2, 2]]);
  const is = I([[1, 1], [0, 2], [2, 0]]);
  for (const kind of ["set", "add", "mul", "min", "max"] as const) {
    const f = (v: Tensor, u: Tensor, i: Tensor) => v.at(i)[kind](u).mul(v).sum();
    const g = grad(f, { argnums: [0, 1] });
    const batched = vmap(g)(vs, us, is);
    const loop = [0, 1, 2].map((k) => g(vs.slice(k), us.slice(k), is.slice(k)));
    close(batched, [np.stack(loop.map((l) => l[0])), np.stack(loop.map((l) => l[1]))]);
  }
  // A histogram built in a scan body: one scatter-add per step, the loop staged once.
  const hist = (bins: Tensor) => lax.scan((h: Tensor, b: Tensor) => [h.at(b).add(1), null], np.zeros([4]), bins)[0];
  close(hist(I([0, 3, 3, 1, 3])), [1, 1, 0, 3]);
  close(jit(hist)(I([0, 3, 3, 1, 3])), [1, 1, 0, 3]);
  assert.is(count(hist, [I([0, 3, 3, 1, 3])], "scan"), 1);
});

test("checkGrads in both modes: take, takeAlongAxis, at updates, dynamic slices", () => {
  const small = np.array([[0.3, -1.2, 0.8], [1.1, 0.4, -0.6]]);
  const u2 = np.array([[0.7, -0.2, 1.3]]);
  const fs: [string, (...a: Tensor[]) => Tensor, Tensor[]][] = [
    ["take", (v) => np.take(v, I([[2, 0], [-1, 5]])), [small]],
    ["takeAlongAxis", (v) => np.takeAlongAxis(v, I([[2, 2, 0], [1, 0, 1]]), 1), [small]],
    ["at set", (v, u) => v.at(I([1])).set(u).mul(v), [small, u2]],
    ["at get", (v) => v.at(null, I([2, 0, 2])).get(), [small]],
    ["dynamicSlice", (v) => lax.dynamicSlice(v, [1, 1], [1, 2]), [small]],
    ["dynamicUpdateSlice", (v, u) => lax.dynamicUpdateSlice(v, u, [0, 0]).mul(v), [small, u2]],
  ];
  for (const [name, f, args] of fs) {
    try {
      checkGrads(f, args, { order: 2, modes: ["fwd", "rev"] });
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`);
    }
  }
});

test("updates differentiated in one argument only (the other a constant)", () => {
  const v = np.array([0.5, -1.5, 2]), u = np.array([1.5, 0.25]);
  const i = I([1, 1]);
  for (const kind of ["set", "add", "mul", "min", "max"] as const) {
    checkGrads((a: Tensor) => a.at(i)[kind](u), [v], { order: 2 });
    checkGrads((b: Tensor) => v.at(i)[kind](b), [u], { order: 2 });
  }
  // min/max ties split the derivative evenly between the tied values.
  close(grad((b: Tensor) => np.array([1, 2]).at(I([0, 0])).max(b).sum())(np.array([1, 1])), [1 / 3, 1 / 3]);
  throwsWith(() => scatterAdd(np.ones([2]), [0], 0, 2), ShapeError, ["one entry per index"]);
  close(np.take(x, np.array([1, 0]), 0), [fx.x[1], fx.x[0]]);
});

test("edge cases: empty index sets, integer products, slices with steps, zero tangents through integer indices", () => {
  assert.equal(np.take(x, I([])).shape, [0]);
  close(x.at(I([])).set(1), fx.x);
  assert.equal(I([2, 3]).at(I([0, 0])).mul(I([3, 5])).tolist(), [30, 3]);
  close(x.at(0, [-2, null]).get(), fx.x[0].slice(3));
  close(x.at(0, [3, 0, -2]).get(), [fx.x[0][3], fx.x[0][1]]);
  throwsWith(() => x.at(0, [0, 2, 0]).get(), ShapeError, ["step must be a non-zero integer"]);
  throwsWith(() => np.take(x, np.array([0.5])), ShapeError, ["integers"]);
  throwsWith(() => staticGather(x, [0], 2), ShapeError, ["axis 2"]);
  assert.equal(staticGather(np.zeros([2, 0]), [], 1).shape, [2, 0]);
  // An index computed from the input has a zero tangent; so does a constant operand it reads.
  const table = np.array([10, 20, 30]);
  const [, t1] = jvp((v: Tensor) => np.take(table, np.argmax(v)), [np.array([0.1, 0.9, 0.3])], [np.ones([3])]);
  const [, t2] = jvp((v: Tensor) => table.at(np.argmax(v)).add(1), [np.array([0.1, 0.9, 0.3])], [np.ones([3])]);
  close([t1, t2], [0, [0, 0, 0]]);
});

test("gather and scatter metadata: notation, cost, shape and dtype errors", () => {
  const f64 = (...s: number[]) => new ShapedArray(s, "float64");
  const i32 = (...s: number[]) => new ShapedArray(s, "int32");
  assert.is(gatherP.notation?.(["a", "b"], {} as never, []), "a[b]");
  assert.is(scatterP.notation?.(["a", "b", "c"], {} as never, []), "a.at[b].set(c)");
  assert.equal(scatterP.cost([f64(4), i32(2, 1), f64(2)], [f64(4)], {} as never), { flops: 0, transcendentals: 0 });
  assert.equal(scatterAddP.cost([f64(4), i32(2, 1), f64(2)], [f64(4)], {} as never), { flops: 2, transcendentals: 0 });
  const gp = { offsetDims: [1], collapsedSliceDims: [0], startIndexMap: [0], sliceSizes: [1, 3], mode: "clip" as const, fillValue: 0 };
  const ge = (avals: ShapedArray[], p: object) => () => gatherP.abstractEval(avals, { ...gp, ...p });
  throwsWith(ge([f64(4, 3), f64(2, 1)], {}), DTypeError, ["integers"]);
  throwsWith(ge([f64(4, 3), i32(2, 2)], {}), ShapeError, ["index vector of length 1"]);
  throwsWith(ge([f64(4, 3), i32(2, 1)], { sliceSizes: [1, 4] }), ShapeError, ["slice sizes"]);
  throwsWith(ge([f64(4, 3), i32(2, 1)], { collapsedSliceDims: [1], offsetDims: [1] }), ShapeError, ["slice size 1"]);
  throwsWith(ge([f64(4, 3), i32(2, 1)], { startIndexMap: [2] }), ShapeError, ["start index map"]);
  throwsWith(ge([f64(4, 3), i32(2, 1)], { offsetDims: [1, 2] }), ShapeError, ["offset dims"]);
  throwsWith(ge([f64(4, 3), i32(2, 1)], { offsetDims: [3] }), ShapeError, ["increasing axes"]);
  const sp = { updateWindowDims: [1], insertedWindowDims: [0], scatterDimsToOperandDims: [0], mode: "fill" as const };
  const se = (avals: ShapedArray[], p: object) => () => scatterP.abstractEval(avals, { ...sp, ...p });
  throwsWith(se([f64(4, 3), i32(2, 1), new ShapedArray([2, 3], "float32")], {}), DTypeError, ["operand's dtype"]);
  throwsWith(se([f64(4, 3), i32(2, 1), f64(3, 3)], {}), ShapeError, ["do not fit"]);
  throwsWith(se([f64(4, 3), i32(2, 1), f64(2, 3)], { scatterDimsToOperandDims: [5] }), ShapeError, ["scatter dims"]);
});

test.run();
