// The performance kernels of src/backend against plain reference loops: every matmul path
// (matvec, row updates, packed 4x4 tiles with ragged edges) on strided, transposed and broadcast
// views, and the reduction and elementwise fast paths.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { batchMatmul } from "../../src/backend/structural.js";
import { groupedView, transposeView, view, sliceView, broadcastInDimView } from "../../src/backend/ndarray-view.js";
import { reduce } from "../../src/backend/reduce.js";
import { mapN } from "../../src/backend/elementwise.js";
import { np } from "../../src/index.js";

function lcg(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = Math.round(((s / 4294967296) * 2 - 1) * 8) / 4; // small dyadic values: sums are exact
  }
  return out;
}

const at = (a: { data: ArrayLike<number>; offset: number; stride: number[] }, idx: number[]) =>
  a.data[a.offset + idx.reduce((s, v, d) => s + v * a.stride[d], 0)];

function reference(a: any, b: any): number[] {
  const [nb, m, k] = a.shape;
  const n = b.shape[2];
  const out: number[] = [];
  for (let t = 0; t < nb; t++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += at(a, [t, i, p]) * at(b, [t, p, j]);
        out.push(s);
      }
  return out;
}

// Sizes hit every path: n = 1 (matvec), m = 1 and small products (row updates), and packed tiles
// with m and n not multiples of 4 and k longer than one 256-wide block.
const sizes: [number, number, number, number][] = [
  [1, 3, 4, 1],
  [2, 1, 5, 7],
  [1, 5, 3, 6],
  [1, 37, 300, 41],
  [2, 64, 513, 130],
  [1, 4, 260, 4],
];

test("batchMatmul equals the triple loop on row-major operands", () => {
  for (const [nb, m, k, n] of sizes) {
    const a = view(lcg(nb * m * k, m + k), [nb, m, k]);
    const b = view(lcg(nb * k * n, n + 7), [nb, k, n]);
    assert.equal(Array.from(batchMatmul(a, b, "float64").data), reference(a, b), `${[nb, m, k, n]}`);
  }
});

test("batchMatmul reads transposed, sliced and broadcast views in place", () => {
  for (const [nb, m, k, n] of sizes) {
    // A stored as [nb, k, m] and seen transposed; B a strided slice of a wider buffer.
    const aT = transposeView(view(lcg(nb * k * m, 3 * m), [nb, k, m]), [0, 2, 1]);
    const wide = view(lcg(nb * k * (2 * n + 1), n), [nb, k, 2 * n + 1]);
    const bS = sliceView(wide, [0, 0, 1], [nb, k, 2 * n + 1], [1, 1, 2]);
    assert.equal(Array.from(batchMatmul(aT, bS, "float64").data), reference(aT, bS), `${[nb, m, k, n]}`);
    // B broadcast over the batch axis (stride 0).
    const b1 = broadcastInDimView(view(lcg(k * n, 11), [k, n]), [nb, k, n], [1, 2]);
    assert.equal(Array.from(batchMatmul(aT, b1, "float64").data), reference(aT, b1));
  }
});

test("batchMatmul rounds once to float32 and propagates NaN from zero rows", () => {
  const a = view(new Float32Array([1, 0]), [1, 1, 2]);
  const b = view(new Float32Array([0.1, NaN]), [1, 2, 1]);
  const c = batchMatmul(a, b, "float32");
  assert.ok(c.data instanceof Float32Array);
  assert.ok(Number.isNaN(c.data[0]), "0 * NaN is NaN");
  const z = batchMatmul(view(new Float64Array(0), [1, 2, 0]), view(new Float64Array(0), [1, 0, 3]), "float64");
  assert.equal(Array.from(z.data), [0, 0, 0, 0, 0, 0]);
});

test("groupedView merges axes without copying when the layout allows", () => {
  const base = view(lcg(24, 5), [2, 3, 4]);
  const v = groupedView(base, [0, 1, 2], [1, 2, 0]);
  assert.is(v.data, base.data);
  assert.equal([v.shape, v.stride], [[2, 12, 1], [12, 1, 0]]);
  // The transposed last two axes cannot merge into one: a row-major copy is made instead.
  const t = groupedView(base, [0, 2, 1], [1, 2]);
  assert.is.not(t.data, base.data);
  assert.equal(t.shape, [2, 12]);
  assert.equal(Array.from(t.data).slice(0, 4), [0, 4, 8, 1].map((i) => base.data[i]));
});

test("np.matmul on transposed inputs matches the explicit products", () => {
  const A = np.reshape(np.arange(12), [3, 4]);
  const B = np.reshape(np.arange(15), [5, 3]);
  // Row 0 of A.T is A[:, 0] = [0, 4, 8]; column j of B.T is [3j, 3j + 1, 3j + 2].
  assert.equal(np.matmul(A.T, B.T).tolist()[0], [20, 56, 92, 128, 164]);
});

test("sum reduction over the last, first and all axes of strided views", () => {
  const data = lcg(60, 9);
  const a = view(data, [3, 4, 5]);
  const all = Array.from(data).reduce((s, v) => s + v, 0);
  assert.is(reduce("sum", a, [0, 1, 2], "float64").data[0], all);
  const last = reduce("sum", a, [2], "float64");
  assert.is(last.data[7], [0, 1, 2, 3, 4].reduce((s, l) => s + data[7 * 5 + l], 0));
  const first = reduce("sum", transposeView(a, [2, 1, 0]), [2], "float64");
  assert.equal(first.shape, [5, 4]);
  assert.is(first.data[1 * 4 + 2], data[0 * 20 + 2 * 5 + 1] + data[20 + 2 * 5 + 1] + data[40 + 2 * 5 + 1]);
  const mx = reduce("max", view(new Float64Array([1, NaN, 3, 2, 5, 4]), [2, 3]), [1], "float64");
  assert.ok(Number.isNaN(mx.data[0]));
  assert.is(mx.data[1], 5);
  const am = reduce("argmax", view(new Float64Array([1, 7, 7, 9, 2, 9]), [2, 3]), [1], "int32");
  assert.equal(Array.from(am.data), [1, 0]);
});

test("max/min of int32 and bool keep their sign and identity; float32 sums round once", () => {
  const i = view(new Int32Array([-5, -3, -9, 4]), [2, 2]);
  assert.equal(Array.from(reduce("max", i, [1], "int32").data), [-3, 4]);
  assert.equal(Array.from(reduce("min", i, [0], "int32").data), [-9, -3]);
  const b = view(new Uint8Array([1, 1, 0, 1]), [2, 2]);
  assert.equal(Array.from(reduce("min", b, [1], "bool").data), [1, 0]);
  // Summed in float32 each step, 1 + 4e-8 rounds back to 1 every time; summed in float64 the
  // three add up to one float32 ulp of 1.
  const f = view(new Float32Array([1, 4e-8, 4e-8, 4e-8]), [4]);
  assert.is(reduce("sum", f, [0], "float32").data[0], Math.fround(1 + 3 * Math.fround(4e-8)));
  assert.is.not(Math.fround(1 + 3 * Math.fround(4e-8)), 1);
  assert.equal(np.max(np.array([[1, 2], [3, 4]]).T, 0).tolist(), [2, 4]);
});

test("elementwise kernels on contiguous, scalar-broadcast and strided operands", () => {
  const x = view(lcg(12, 1), [3, 4]);
  const s = broadcastInDimView(view(new Float64Array([2]), []), [3, 4], []);
  const y = mapN("x0 * x1", [x, s], "float64");
  assert.equal(Array.from(y.data), Array.from(x.data).map((v) => v * 2));
  const xt = transposeView(x, [1, 0]);
  const z = mapN("x0 - x1", [xt, xt], "float64");
  assert.equal(Array.from(z.data), new Array(12).fill(0));
  const w = mapN("x0 + x1", [xt, transposeView(view(lcg(12, 1), [3, 4]), [1, 0])], "float64");
  assert.equal(w.data[1], 2 * x.data[4]);
});

test("elementwise results stay broadcast along dims where every operand is constant", () => {
  // A [3] row broadcast down 4 rows, times a broadcast scalar: 3 distinct values, not 12.
  const row = broadcastInDimView(view(new Float64Array([1, 2, 3]), [3]), [4, 3], [1]);
  const two = broadcastInDimView(view(new Float64Array([2]), []), [4, 3], []);
  const y = mapN("x0 * x1", [row, two], "float64");
  assert.equal([y.shape, y.stride, y.data.length], [[4, 3], [0, 1], 3]);
  assert.equal(np.multiply(np.broadcastTo(np.array([1, 2, 3]), [4, 3]), 2).tolist(), [[2, 4, 6], [2, 4, 6], [2, 4, 6], [2, 4, 6]]);
  // All operands constant: one element, any rank; bool results still 0/1.
  const c = mapN("-x0", [two], "float64");
  assert.equal([c.data.length, c.data[0]], [1, -2]);
  const b = mapN("x0 > 1 ? 1 : 0", [two], "bool");
  assert.equal([b.data.length, b.data[0], b.shape], [1, 1, [4, 3]]);
  // A varying operand keeps the full row-major layout.
  const full = mapN("x0 + x1", [view(lcg(12, 3), [4, 3]), two], "float64");
  assert.equal([full.stride, full.data.length], [[3, 1], 12]);
  // Size-0 shapes take the ordinary path.
  assert.equal(mapN("x0", [broadcastInDimView(view(new Float64Array([1]), []), [0, 3], [])], "float64").shape, [0, 3]);
});

test("x * 1 and x / 1 return x itself, exactly, when 1 is a broadcast constant", () => {
  const x = view(new Float64Array([NaN, -0, Infinity, 2.5]), [4]);
  const one = broadcastInDimView(view(new Float64Array([1]), []), [4], []);
  assert.is(mapN("x0 * x1", [x, one], "float64"), x);
  assert.is(mapN("x0 * x1", [one, x], "float64"), x);
  assert.is(mapN("x0 / x1", [x, one], "float64"), x);
  assert.ok(Object.is(mapN("x0 * x1", [one, x], "float64").data[1], -0));
  // Not for other expressions, other constants, or when the result's dtype differs.
  assert.is.not(mapN("x0 + x1", [x, one], "float64"), x);
  const two = broadcastInDimView(view(new Float64Array([2]), []), [4], []);
  assert.equal(Array.from(mapN("x0 * x1", [x, two], "float64").data), [NaN, -0, Infinity, 5]);
  const f32 = view(new Float32Array([1, 2, 3, 4]), [4]);
  assert.ok(mapN("x0 * x1", [f32, one], "float64").data instanceof Float64Array);
  // Through the library: the gradient of a sum multiplies by the seed 1 without copying.
  assert.equal(np.multiply(np.array([1, 2]), 1).tolist(), [1, 2]);
});

test.run();
