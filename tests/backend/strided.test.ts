// Strided views (transposed, sliced with steps, reversed, offset, broadcast with stride 0) through
// every kernel: each result must equal the result on a contiguous copy of the same values.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
import { flat } from "../helpers.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { type Tensor, np } from "../../src/index.js";
import type { Arr } from "../../src/backend/ndarray-view.js";
import { isRowMajor, view } from "../../src/backend/ndarray-view.js";
import { fromArr } from "../../src/core/convert.js";
import { type DType, allocate } from "../../src/core/dtype.js";
import * as P from "../../src/primitives/elementwise.js";
import * as R from "../../src/primitives/reduce.js";
import * as S from "../../src/primitives/shape.js";
import { dotGeneral } from "../../src/primitives/dot.js";
import { gather, scatterAdd } from "../../src/primitives/gather.js";

type Layout = { name: string; stride: (shape: number[]) => number[]; extraOffset: number };

const rowMajor = (shape: number[]) => shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
const LAYOUTS: Layout[] = [
  { name: "row-major at an offset", stride: rowMajor, extraOffset: 5 },
  { name: "transposed", stride: (s) => rowMajor([...s].reverse()).reverse(), extraOffset: 0 },
  { name: "sliced with step 2", stride: (s) => rowMajor(s.map((d) => 2 * d + 1)).map((st) => 2 * st), extraOffset: 3 },
  { name: "reversed (negative strides)", stride: (s) => rowMajor(s).map((st) => -st), extraOffset: 0 },
  { name: "transposed and stepped", stride: (s) => rowMajor([...s].reverse()).reverse().map((st) => 3 * st), extraOffset: 1 },
  { name: "broadcast along the first axis", stride: (s) => [0, ...rowMajor(s.slice(1))], extraOffset: 2 },
  { name: "broadcast along the last axis", stride: (s) => [...rowMajor(s.slice(0, -1)), 0], extraOffset: 0 },
  { name: "scalar broadcast (all strides 0)", stride: (s) => s.map(() => 0), extraOffset: 4 },
];

/** The value stored at storage position k: distinct, some negative, exact in float32 sums. */
function storageValue(k: number, dtype: DType): number {
  if (dtype === "bool") return (k * 7) % 3 === 0 ? 1 : 0;
  const v = ((k * 37) % 101) - 50;
  return dtype === "int32" ? v : v / 8;
}

/** A view of `shape` with the given layout over a fresh buffer, and its values read by hand. */
function strided(shape: number[], dtype: DType, layout: Layout): { t: Tensor; values: number[] } {
  const stride = layout.stride(shape);
  const minOffset = stride.reduce((s, st, i) => s + (st < 0 ? (shape[i] - 1) * -st : 0), 0);
  const offset = minOffset + layout.extraOffset;
  const span = stride.reduce((s, st, i) => s + (st > 0 ? (shape[i] - 1) * st : 0), 0);
  const data = allocate(dtype, offset + span + 1 + 3);
  for (let k = 0; k < data.length; k++) data[k] = storageValue(k, dtype);
  const values: number[] = [];
  const idx = shape.map(() => 0);
  const size = shape.reduce((a, b) => a * b, 1);
  for (let n = 0; n < size; n++) {
    values.push(data[offset + idx.reduce((s, v, i) => s + v * stride[i], 0)]);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return { t: fromArr(view(data, shape, stride, offset), dtype), values };
}

/** A fresh row-major tensor with the same values. */
function contiguousCopy(values: number[], shape: number[], dtype: DType): Tensor {
  const data = allocate(dtype, values.length);
  values.forEach((v, i) => (data[i] = v));
  return fromArr(view(data, shape), dtype);
}

const arrOf = (t: Tensor): Arr => t.concrete() as Arr;
const sameNum = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));

function expectSame(got: Tensor, want: Tensor, what: string): void {
  assert.is(got.dtype, want.dtype, `${what}: dtype`);
  assert.equal(got.shape, want.shape, `${what}: shape`);
  const g = flat(got), w = flat(want);
  g.forEach((v, i) => {
    if (!sameNum(v, w[i])) assert.unreachable(`${what}: element ${i} is ${v} on the view, ${w[i]} on the contiguous copy`);
  });
}

/** Runs `kernel` on every layout of `shape` (the other operands contiguous) and on a contiguous copy. */
function onEveryLayout(shape: number[], dtype: DType, what: string, kernel: (x: Tensor) => Tensor): void {
  for (const layout of LAYOUTS) {
    const { t, values } = strided(shape, dtype, layout);
    expectSame(kernel(t), kernel(contiguousCopy(values, shape, dtype)), `${what} on ${layout.name} ${dtype} ${JSON.stringify(shape)}`);
  }
}

test("the views hold the values read through their strides, without copies", () => {
  for (const layout of LAYOUTS) {
    for (const dtype of ["float64", "float32", "int32", "bool"] as DType[]) {
      const shape = [3, 4];
      const { t, values } = strided(shape, dtype, layout);
      const want = dtype === "bool" ? values.map((v) => v !== 0) : values;
      assert.equal((t.tolist() as unknown[][]).flat(), want, `${layout.name} ${dtype}`);
      assert.equal(flat(t), values);
      if (layout.name !== "row-major at an offset") assert.not.ok(isRowMajor(arrOf(t)), `${layout.name} is strided`);
      else assert.is(arrOf(t).offset, 5);
    }
  }
  // The public shape functions make views over the same buffer, not copies.
  const x = np.reshape(np.arange(12), [3, 4]);
  const buf = arrOf(x).data;
  for (const v of [x.T, x.slice([null, null, 2], [1, 4, 2]), np.broadcastTo(np.array([1, 2, 3, 4]), [5, 4]), np.transpose(np.reshape(x, [3, 2, 2]), [2, 0, 1])]) {
    if (v.shape[0] === 5) assert.equal(arrOf(v).stride[0], 0);
    else assert.is(arrOf(v).data, buf);
    assert.not.ok(isRowMajor(arrOf(v)));
  }
  assert.equal(x.slice([null, null, 2], [1, 4, 2]).tolist(), [[1, 3], [9, 11]]);
});

test("elementwise unary kernels on every layout", () => {
  for (const shape of [[3, 4], [2, 3, 2]]) {
    for (const dt of ["float64", "float32"] as DType[]) {
      onEveryLayout(shape, dt, "sin", P.sin);
      onEveryLayout(shape, dt, "exp", P.exp);
      onEveryLayout(shape, dt, "integer_pow 3", (x) => P.integerPow(x, 3));
    }
    onEveryLayout(shape, "int32", "neg", P.neg);
    onEveryLayout(shape, "int32", "abs", P.abs);
  }
  onEveryLayout([5], "float64", "sqrt of a 1-D view", (x) => P.sqrt(P.abs(x)));
  onEveryLayout([1, 4], "float64", "round with a size-1 axis", P.round);
});

test("elementwise binary kernels and select with both operands strided, every pair of layouts", () => {
  const shape = [3, 4];
  for (const dt of ["float64", "float32", "int32"] as DType[]) {
    for (const la of LAYOUTS) {
      for (const lb of LAYOUTS) {
        const a = strided(shape, dt, la), b = strided(shape, dt, lb);
        const ca = contiguousCopy(a.values, shape, dt), cb = contiguousCopy(b.values, shape, dt);
        const what = `${la.name} with ${lb.name} ${dt}`;
        expectSame(P.add(a.t, b.t), P.add(ca, cb), `add ${what}`);
        expectSame(P.mul(a.t, b.t), P.mul(ca, cb), `mul ${what}`);
        expectSame(P.max(a.t, b.t), P.max(ca, cb), `max ${what}`);
        expectSame(P.lt(a.t, b.t), P.lt(ca, cb), `lt ${what}`);
        const p = strided(shape, "bool", lb);
        expectSame(P.select(p.t, a.t, b.t), P.select(contiguousCopy(p.values, shape, "bool"), ca, cb), `select ${what}`);
      }
    }
  }
  // Three-operand mixes through np (broadcasting makes its own stride-0 views on top).
  const a = strided([2, 3, 2], "float64", LAYOUTS[1]), b = strided([3, 2], "float64", LAYOUTS[3]);
  expectSame(np.add(a.t, b.t), np.add(contiguousCopy(a.values, [2, 3, 2], "float64"), contiguousCopy(b.values, [3, 2], "float64")), "np.add broadcast over strided");
  expectSame(np.where(np.greater(a.t, 0), a.t, b.t), np.where(np.greater(contiguousCopy(a.values, [2, 3, 2], "float64"), 0), contiguousCopy(a.values, [2, 3, 2], "float64"), contiguousCopy(b.values, [3, 2], "float64")), "np.where over strided");
});

test("reductions over every axis combination of strided views", () => {
  const shape = [2, 3, 4];
  const subsets = [[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]];
  for (const dt of ["float64", "float32", "int32"] as DType[]) {
    for (const axes of subsets) {
      onEveryLayout(shape, dt, `reduce_sum ${axes}`, (x) => R.reduceSum(x, axes));
      onEveryLayout(shape, dt, `reduce_max ${axes}`, (x) => R.reduceMax(x, axes));
      onEveryLayout(shape, dt, `reduce_min ${axes}`, (x) => R.reduceMin(x, axes));
      onEveryLayout(shape, dt, `reduce_prod ${axes}`, (x) => R.reduceProd(x, axes));
    }
    for (const axis of [0, 1, 2]) {
      onEveryLayout(shape, dt, `argmax ${axis}`, (x) => R.argmax(x, axis));
      onEveryLayout(shape, dt, `argmin ${axis}`, (x) => R.argmin(x, axis));
    }
  }
  for (const axes of subsets) onEveryLayout(shape, "bool", `reduce_max bool ${axes}`, (x) => R.reduceMax(x, axes));
  // Size-1 axes, reduced or kept, in any position.
  for (const [sh, axes] of [[[1, 1], [0, 1]], [[3, 1], [1]], [[1, 4], [0]], [[2, 1, 3], [1]], [[2, 1, 3], [0, 2]]] as [number[], number[]][]) {
    onEveryLayout(sh, "float64", `reduce_sum ${JSON.stringify(sh)} over ${axes}`, (x) => R.reduceSum(x, axes));
    onEveryLayout(sh, "int32", `reduce_max ${JSON.stringify(sh)} over ${axes}`, (x) => R.reduceMax(x, axes));
  }
  onEveryLayout(shape, "float64", "np.mean keepdims", (x) => np.mean(x, [0, 2], { keepdims: true }));
});

test("matmul (dot_general) with strided operands on each side, all kernel paths", () => {
  const sizes: [number, number, number][] = [
    [3, 4, 5], // small: row updates
    [6, 5, 1], // matrix-vector
    [1, 7, 3], // a single row
    [42, 30, 26], // large enough for the packed kernel, with partial 4x4 tiles on both sides
  ];
  const dims = { contract: [[1], [0]] as [number[], number[]], batch: [[], []] as [number[], number[]] };
  for (const [m, k, n] of sizes) {
    for (const dt of ["float64", "float32"] as DType[]) {
      const bFixed = strided([k, n], dt, LAYOUTS[0]);
      const aFixed = strided([m, k], dt, LAYOUTS[0]);
      const cb = contiguousCopy(bFixed.values, [k, n], dt), ca = contiguousCopy(aFixed.values, [m, k], dt);
      onEveryLayout([m, k], dt, `lhs of ${m}x${k}x${n}`, (a) => dotGeneral(a, cb, dims));
      onEveryLayout([k, n], dt, `rhs of ${m}x${k}x${n}`, (b) => dotGeneral(ca, b, dims));
    }
  }
  for (const la of LAYOUTS) {
    for (const lb of LAYOUTS) {
      const a = strided([4, 6], "float64", la), b = strided([6, 3], "float64", lb);
      expectSame(dotGeneral(a.t, b.t, dims), dotGeneral(contiguousCopy(a.values, [4, 6], "float64"), contiguousCopy(b.values, [6, 3], "float64"), dims), `${la.name} @ ${lb.name}`);
    }
  }
  // Batched and with the contracting axis first, on 3-D views.
  const bdims = { contract: [[2], [1]] as [number[], number[]], batch: [[0], [0]] as [number[], number[]] };
  const rhs = np.reshape(np.arange(2 * 4 * 3), [2, 4, 3]);
  onEveryLayout([2, 3, 4], "float64", "batched lhs", (a) => dotGeneral(a, np.astype(rhs, "float64"), bdims));
  onEveryLayout([2, 4, 3], "int32", "batched rhs", (b) => dotGeneral(np.reshape(np.arange(24), [2, 3, 4]), b, bdims));
  onEveryLayout([4, 3], "float64", "contract axis 0", (a) => dotGeneral(a, np.ones([4, 2]), { contract: [[0], [0]], batch: [[], []] }));
  onEveryLayout([3, 4], "float64", "np.matmul", (a) => np.matmul(a, np.ones([4, 2])));
  onEveryLayout([2, 3, 4], "float64", "np.matmul batched", (a) => np.matmul(a, a.transpose([0, 2, 1])));
});

test("pad (with interior), concatenate, convert, gather, scatter_add and reshape on strided views", () => {
  for (const dt of ["float64", "float32", "int32", "bool"] as DType[]) {
    onEveryLayout([3, 4], dt, "pad", (x) => S.pad(x, dt === "bool" ? 1 : -7, [1, 0], [2, 1], [1, 2]));
    onEveryLayout([3, 4], dt, "concatenate axis 0", (x) => S.concatenate([x, x, x], 0));
    onEveryLayout([3, 4], dt, "concatenate axis 1", (x) => S.concatenate([x, S.slice(x, [0, 1], [3, 3])], 1));
    for (const to of ["float64", "float32", "int32", "bool"] as DType[]) onEveryLayout([3, 4], dt, `convert to ${to}`, (x) => P.convertElementType(x, to));
    onEveryLayout([3, 4], dt, "gather axis 0", (x) => gather(x, [2, 0, 2, 1], 0));
    onEveryLayout([3, 4], dt, "gather axis 1", (x) => gather(x, [3, 3, 0], 1));
    onEveryLayout([2, 3, 2], dt, "reshape", (x) => S.reshape(x, [3, 4]));
    onEveryLayout([2, 3, 2], dt, "transpose then reshape", (x) => S.reshape(S.transpose(x, [2, 1, 0]), [12]));
    onEveryLayout([3, 4], dt, "slice with steps", (x) => S.slice(x, [0, 1], [3, 4], [2, 2]));
    onEveryLayout([3, 4], dt, "broadcast_in_dim", (x) => S.broadcastInDim(x, [2, 3, 4], [1, 2]));
  }
  for (const dt of ["float64", "float32", "int32"] as DType[]) {
    onEveryLayout([4, 3], dt, "scatter_add axis 0", (x) => scatterAdd(x, [1, 0, 1, 1], 0, 2));
    onEveryLayout([4, 3], dt, "scatter_add axis 1", (x) => scatterAdd(x, [2, 2, 0], 1, 4));
  }
  // Concatenating differently strided operands.
  const parts = LAYOUTS.map((l) => strided([2, 3], "float64", l));
  expectSame(S.concatenate(parts.map((p) => p.t), 0), S.concatenate(parts.map((p) => contiguousCopy(p.values, [2, 3], "float64")), 0), "mixed layouts");
});

test("conversions out of strided views: tolist, toTypedArray, item, toNdarray, slicing and take", () => {
  onEveryLayout([3, 4], "float64", "np.take", (x) => np.take(x, np.array([-1, 0], "int32"), 1));
  onEveryLayout([3, 4], "float64", "reverse slice", (x) => x.slice([null, null, -1], [3, 0, -2]));
  onEveryLayout([3, 4], "int32", "fluent chain", (x) => x.mul(2).sum(0));
  for (const layout of LAYOUTS) {
    const { t, values } = strided([3, 4], "float32", layout);
    const ta = t.toTypedArray();
    assert.ok(ta instanceof Float32Array);
    assert.equal(Array.from(ta), values);
    const nd = t.toNdarray();
    assert.is(nd.get(2, 1), values[9]);
    assert.is(t.slice(1, 2).item(), values[6]);
    assert.equal(np.array(t).tolist(), t.tolist());
  }
});

test.run();
