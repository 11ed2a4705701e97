// The np layer: NumPy broadcasting, dtype promotion with weakly typed JS numbers, creation,
// conversions, shape functions, indexing, linear algebra and the fluent Tensor methods.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import ndarray from "ndarray";
import { DTypeError, JacobiError, ShapeError, Tensor, np } from "../../src/index.js";
import type { DType } from "../../src/core/dtype.js";

function throwsA(fn: () => unknown, cls: new (...a: any[]) => Error, re?: RegExp | string): void {
  assert.throws(fn, (e: Error) => e instanceof cls && (re === undefined || (typeof re === "string" ? e.message === re : re.test(e.message))));
}
const iota = (shape: number[], dtype: DType = "float64") => np.reshape(np.astype(np.arange(shape.reduce((a, b) => a * b, 1)), dtype), shape);

// ---- broadcasting ----
test("broadcasting table: pairs of shapes and the result shape", () => {
  const table: [number[], number[], number[]][] = [
    [[], [], []],
    [[], [3], [3]],
    [[3], [], [3]],
    [[3], [2, 3], [2, 3]],
    [[2, 1], [1, 3], [2, 3]],
    [[2, 1], [3], [2, 3]],
    [[4, 1, 5], [3, 1], [4, 3, 5]],
    [[1], [0], [0]],
    [[0, 3], [1, 3], [0, 3]],
    [[5, 1, 1], [1, 4, 1], [5, 4, 1]],
    [[1, 1, 1], [7], [1, 1, 7]],
    [[2, 3], [2, 3], [2, 3]],
    [[8, 1, 6, 1], [7, 1, 5], [8, 7, 6, 5]],
  ];
  for (const [a, b, out] of table) {
    for (const f of [np.add, np.multiply, np.maximum, np.less]) {
      const r = f(np.zeros(a), np.ones(b));
      assert.equal(r.shape, out, `${JSON.stringify(a)} with ${JSON.stringify(b)}`);
    }
  }
  // Values: a column plus a row.
  assert.equal(np.add(np.reshape(np.array([0, 10, 20]), [3, 1]), np.array([1, 2])).tolist(), [[1, 2], [11, 12], [21, 22]]);
  assert.equal(np.subtract(5, np.array([[1], [2]])).tolist(), [[4], [3]]);
  assert.equal(np.where(np.array([true, false]), np.array([[1], [2]]), np.array(0)).tolist(), [[1, 0], [2, 0]]);
});

test("broadcasting errors name the operation and every shape as passed", () => {
  throwsA(() => np.add(np.zeros([2, 3]), np.zeros([4])), ShapeError, "add: cannot broadcast shapes [2,3] and [4]");
  throwsA(() => np.multiply(np.zeros([2]), np.zeros([3])), ShapeError, "multiply: cannot broadcast shapes [2] and [3]");
  throwsA(() => np.subtract(np.zeros([2, 3]), np.zeros([3, 2])), ShapeError, "subtract: cannot broadcast shapes [2,3] and [3,2]");
  throwsA(() => np.divide(np.zeros([0]), np.zeros([2])), ShapeError, "divide: cannot broadcast shapes [0] and [2]");
  throwsA(() => np.less(np.zeros([4, 1]), np.zeros([2, 3])), ShapeError, "less: cannot broadcast shapes [4,1] and [2,3]");
  throwsA(() => np.where(np.zeros([2]), np.zeros([3]), 0), ShapeError, "where: cannot broadcast shapes [2] and [3] and []");
  throwsA(() => np.zeros([2, 3]).add(np.zeros([4])), ShapeError, "add: cannot broadcast shapes [2,3] and [4]");
  throwsA(() => np.broadcastTo(np.zeros([3]), [2, 4]), ShapeError, /\[3\].*\[2,4\]/);
  assert.ok(new ShapeError("x") instanceof JacobiError);
});

test("broadcastTo: stride tricks with the values of the input", () => {
  const b = np.broadcastTo(np.array([1, 2, 3]), [2, 3]);
  assert.equal(b.tolist(), [[1, 2, 3], [1, 2, 3]]);
  assert.equal(np.broadcastTo(np.array(7, "int32"), [2]).tolist(), [7, 7]);
  assert.equal(np.broadcastTo(np.array([[1], [2]]), [2, 2]).tolist(), [[1, 1], [2, 2]]);
});

// ---- promotion ----
const DTYPES: DType[] = ["bool", "int32", "float32", "float64"];
const make = (dt: DType) => (dt === "bool" ? np.array([true, false]) : np.array([1, 2], dt));

test("promotion table for two strong operands", () => {
  const want: Record<string, DType> = {
    "bool bool": "bool", "bool int32": "int32", "bool float32": "float32", "bool float64": "float64",
    "int32 int32": "int32", "int32 float32": "float32", "int32 float64": "float64",
    "float32 float32": "float32", "float32 float64": "float64", "float64 float64": "float64",
  };
  for (const a of DTYPES) {
    for (const b of DTYPES) {
      const key = want[`${a} ${b}`] ? `${a} ${b}` : `${b} ${a}`;
      assert.is(np.add(make(a), make(b)).dtype, want[key], `${a} + ${b}`);
      assert.is(np.maximum(make(a), make(b)).dtype, want[key], `maximum(${a}, ${b})`);
    }
  }
  assert.equal(np.add(np.array([1.5], "float32"), np.array([2], "int32")).tolist(), [3.5]);
  assert.equal(np.add(np.array([true, false]), np.array([5, 5], "int32")).tolist(), [6, 5]);
});

test("weak JS numbers take the tensor's dtype within their kind", () => {
  const cases: [Tensor, number, DType, number[] | boolean[]][] = [
    [np.array([1, 2], "float32"), 1.5, "float32", [2.5, 3.5]],
    [np.array([1, 2], "float32"), 1, "float32", [2, 3]],
    [np.array([1, 2]), 1, "float64", [2, 3]],
    [np.array([1, 2]), 0.5, "float64", [1.5, 2.5]],
    [np.array([1, 2], "int32"), 1, "int32", [2, 3]],
    [np.array([1, 2], "int32"), -3, "int32", [-2, -1]],
    [np.array([1, 2], "int32"), 1.5, "float64", [2.5, 3.5]],
    [np.array([true, false]), 1, "int32", [2, 1]],
    [np.array([true, false]), 0.5, "float64", [1.5, 0.5]],
    [np.array([1, 2], "int32"), 3e9, "float64", [3000000001, 3000000002]],
  ];
  for (const [t, n, dt, want] of cases) {
    const r = np.add(t, n);
    assert.is(r.dtype, dt, `${t.dtype} + ${n}`);
    assert.equal(r.tolist(), want, `${t.dtype} + ${n}`);
    assert.is(np.add(n, t).dtype, dt, `${n} + ${t.dtype}`);
    assert.is(t.add(n).dtype, dt, `fluent ${t.dtype}.add(${n})`);
  }
  // float32 stays float32 even when the JS number is not representable in float32.
  assert.equal(np.multiply(np.array([1], "float32"), 0.1).tolist(), [Math.fround(0.1)]);
  assert.is(np.add(1, 2).dtype, "float64");
  assert.is(np.add(1, 2).item(), 3);
  assert.is(np.multiply(np.array([2], "int32"), 3).dtype, "int32");
  assert.is(np.subtract(10, np.array([2], "int32")).dtype, "int32");
  assert.is(np.maximum(np.array([-1, 2], "int32"), 0).dtype, "int32");
  assert.equal(np.clip(np.array([-5, 0, 5], "int32"), -1, 1).tolist(), [-1, 0, 1]);
  assert.is(np.clip(np.array([-5, 0, 5], "int32"), -1, 1).dtype, "int32");
  assert.is(np.where(np.array([true, false]), np.array([1, 2], "int32"), 0).dtype, "int32");
  assert.is(np.where(np.array([true, false]), np.array([1, 2], "float32"), 0.5).dtype, "float32");
  assert.is(np.power(np.array([2], "int32"), 2).dtype, "int32");
  assert.is(np.power(np.array([2], "float32"), 0.5).dtype, "float32");
  assert.is(np.array([1, 2], "int32").mul(2).dtype, "int32");
  assert.is(np.dot(np.array([1, 2], "int32"), 2).dtype, "int32");
  assert.equal(np.dot(3, np.array([1, 2], "int32")).tolist(), [3, 6]);
  assert.is(np.dot(np.array([1, 2], "int32"), 0.5).dtype, "float64");
  assert.is(np.less(np.array([1], "int32"), 1.5).dtype, "bool");
  assert.equal(np.less(np.array([1, 2], "int32"), 1.5).tolist(), [true, false]);
});

test("operations that always give floats, and reductions' dtypes", () => {
  assert.is(np.divide(np.array([1, 2], "int32"), np.array([2, 2], "int32")).dtype, "float64");
  assert.equal(np.divide(np.array([1, 3], "int32"), 2).tolist(), [0.5, 1.5]);
  assert.is(np.divide(np.array([1], "float32"), 2).dtype, "float32");
  assert.is(np.sqrt(np.array([4], "int32")).dtype, "float64");
  assert.is(np.exp(np.array([true])).dtype, "float64");
  assert.is(np.sin(np.array([1], "float32")).dtype, "float32");
  assert.is(np.arctan2(np.array([1], "int32"), 1).dtype, "float64");
  assert.is(np.sum(np.array([true, true])).dtype, "int32");
  assert.is(np.sum(np.array([1, 2], "float32")).dtype, "float32");
  assert.is(np.mean(np.array([1, 2], "int32")).dtype, "float64");
  assert.is(np.mean(np.array([1, 2], "float32")).dtype, "float32");
  assert.is(np.argmax(np.array([1, 2])).dtype, "int32");
  assert.is(np.negative(np.array([1], "int32")).dtype, "int32");
  assert.is(np.abs(np.array([-1], "int32")).dtype, "int32");
  assert.is(np.floor(np.array([1], "int32")).dtype, "int32");
  assert.is(np.equal(np.array([1.5]), 1.5).dtype, "bool");
  assert.is(np.concatenate([np.array([1], "int32"), np.array([1.5], "float32")]).dtype, "float32");
  assert.is(np.stack([np.array([1], "int32"), np.array([true])]).dtype, "int32");
  assert.is(np.matmul(np.ones([2, 2], "float32"), np.ones([2, 2])).dtype, "float64");
  assert.is(np.astype(np.array([1.7]), "int32").item(), 1);
  throwsA(() => np.astype(np.array([1]), "complex64" as DType), DTypeError, /complex64/);
});

// ---- creation ----
test("np.array from nested arrays, numbers, booleans, with and without a dtype", () => {
  const a = np.array([[1, 2, 3], [4, 5, 6]]);
  assert.equal(a.shape, [2, 3]);
  assert.is(a.dtype, "float64");
  assert.is(a.ndim, 2);
  assert.is(a.size, 6);
  assert.equal(a.tolist(), [[1, 2, 3], [4, 5, 6]]);
  assert.equal(np.array([[[1], [2]]]).shape, [1, 2, 1]);
  assert.is(np.array([true, false]).dtype, "bool");
  assert.is(np.array([1, 2], "int32").dtype, "int32");
  assert.equal(np.array([1.9, -1.9], "int32").tolist(), [1, -1]);
  assert.equal(np.array([0.1], "float32").tolist(), [Math.fround(0.1)]);
  assert.equal(np.array([]).shape, [0]);
  assert.equal(np.array([[], []]).shape, [2, 0]);
  const s = np.array(3.5);
  assert.equal(s.shape, []);
  assert.is(s.item(), 3.5);
  assert.is(s.weakType, false);
  assert.is(np.array(true).dtype, "bool");
  assert.is(np.array(2, "float32").dtype, "float32");
  assert.equal(np.array([np.array(1), np.array(2)]).tolist(), [1, 2]);
  throwsA(() => np.array([1, 2], "float16" as DType), DTypeError, /float16/);
  throwsA(() => np.array(["a"] as any), DTypeError);
});

test("ragged nested arrays are rejected with a ShapeError", () => {
  for (const bad of [[[1, 2], [3]], [[1], 2], [1, [2]], [[[1, 2]], [[3]]], [[1, 2], []]]) {
    throwsA(() => np.array(bad as any), ShapeError, /ragged/);
  }
});

test("zeros, ones, full, zerosLike, onesLike, eye, arange, linspace", () => {
  assert.equal(np.zeros(3).tolist(), [0, 0, 0]);
  assert.equal(np.zeros([2, 2], "int32").tolist(), [[0, 0], [0, 0]]);
  assert.is(np.zeros([2]).dtype, "float64");
  assert.equal(np.zeros([0, 3]).shape, [0, 3]);
  assert.equal(np.ones([2], "float32").tolist(), [1, 1]);
  assert.is(np.ones([], "bool").tolist(), true);
  assert.equal(np.full([2, 1], 7, "int32").tolist(), [[7], [7]]);
  assert.equal(np.full([2], -0.5).tolist(), [-0.5, -0.5]);
  assert.is(np.full([2], true).dtype, "bool");
  assert.equal(np.full(3, NaN).toTypedArray().every((v: number) => Number.isNaN(v)), true);
  const z = np.zerosLike(np.ones([2, 3], "float32"));
  assert.equal([z.shape, z.dtype, z.tolist()], [[2, 3], "float32", [[0, 0, 0], [0, 0, 0]]]);
  assert.is(np.onesLike(np.ones([2], "int32")).dtype, "int32");
  assert.is(np.onesLike(3).item(), 1);
  assert.equal(np.eye(3).tolist(), [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  assert.equal(np.eye(2, 3, 1).tolist(), [[0, 1, 0], [0, 0, 1]]);
  assert.equal(np.eye(3, 2, -1).tolist(), [[0, 0], [1, 0], [0, 1]]);
  assert.is(np.eye(2, 2, 0, "int32").dtype, "int32");
  assert.equal(np.arange(5).tolist(), [0, 1, 2, 3, 4]);
  assert.is(np.arange(5).dtype, "int32");
  assert.equal(np.arange(2, 5).tolist(), [2, 3, 4]);
  assert.equal(np.arange(5, 0, -2).tolist(), [5, 3, 1]);
  assert.equal(np.arange(0).shape, [0]);
  assert.equal(np.arange(3, 1).shape, [0]);
  assert.equal(np.arange(1, 2, 0.25).tolist(), [1, 1.25, 1.5, 1.75]);
  assert.is(np.arange(1, 2, 0.25).dtype, "float64");
  assert.is(np.arange(3, undefined, 1, "float32").dtype, "float32");
  throwsA(() => np.arange(0, 1, 0), JacobiError, /step/);
  assert.equal(np.linspace(0, 1, 5).tolist(), [0, 0.25, 0.5, 0.75, 1]);
  assert.equal(np.linspace(0, 1, 4, { endpoint: false }).tolist(), [0, 0.25, 0.5, 0.75]);
  assert.equal(np.linspace(2, 3, 1).tolist(), [2]);
  assert.equal(np.linspace(0, 1, 0).shape, [0]);
  assert.is(np.linspace(0, 0.1, 11).tolist()[10], 0.1);
  assert.is(np.linspace(0, 1, 3, { dtype: "float32" }).dtype, "float32");
  assert.is(np.linspace(0, 1).size, 50);
  throwsA(() => np.zeros([-1]), ShapeError);
  throwsA(() => np.zeros([1.5]), ShapeError);
});

// ---- conversions ----
test("item, tolist, toTypedArray, toNdarray", () => {
  const t = np.array([[1, 2, 3], [4, 5, 6]], "float32");
  assert.is(np.array([[42]]).item(), 42);
  throwsA(() => t.item(), ShapeError, /\[2,3\]/);
  assert.is(np.array(2.5).tolist(), 2.5);
  assert.equal(np.array([true, false]).tolist(), [true, false]);
  assert.equal(t.T.tolist(), [[1, 4], [2, 5], [3, 6]]);
  const ta = t.T.toTypedArray();
  assert.ok(ta instanceof Float32Array);
  assert.equal(Array.from(ta), [1, 4, 2, 5, 3, 6]);
  assert.ok(np.array([1], "int32").toTypedArray() instanceof Int32Array);
  assert.ok(np.array([1]).toTypedArray() instanceof Float64Array);
  // A copy: writing to it changes nothing.
  const a = np.array([1, 2, 3]);
  const copy = a.toTypedArray();
  copy[0] = 99;
  assert.equal(a.tolist(), [1, 2, 3]);
  assert.equal(Array.from(a.toTypedArray()), [1, 2, 3]);
  const nd = t.T.toNdarray();
  assert.equal(nd.shape, [3, 2]);
  assert.is(nd.get(0, 1), 4);
  assert.is(nd.get(2, 0), 3);
  nd.set(0, 0, 100);
  assert.equal(t.tolist(), [[1, 2, 3], [4, 5, 6]]);
  // Symbol.toPrimitive on a concrete size-1 tensor gives its number.
  const one = np.array([3]);
  assert.is(+one, 3);
  assert.ok((one as any) > 2);
  assert.is(Math.sqrt(np.array(16) as any), 4);
  throwsA(() => +np.array([1, 2]), ShapeError, /\[2\]/);
  assert.match(String(np.array([1, 2])), "float64");
});

test("typed arrays and scijs ndarrays are accepted as leaves and copied, not aliased", () => {
  for (const [TA, dt] of [[Float64Array, "float64"], [Float32Array, "float32"], [Int32Array, "int32"]] as const) {
    const buf = new TA([1, 2, 3]);
    const t = np.array(buf);
    const s = np.add(buf, 0);
    assert.is(t.dtype, dt);
    assert.is(s.dtype, dt);
    buf[0] = 50;
    assert.equal(t.tolist(), [1, 2, 3], `${dt} np.array copies`);
    assert.equal(s.tolist(), [1, 2, 3], `${dt} operands are copied`);
    assert.equal(np.multiply(new TA([2, 3]), 2).tolist(), [4, 6]);
  }
  const data = new Float64Array([1, 2, 3, 4, 5, 6]);
  const nd = ndarray(data, [2, 3]);
  const t = np.array(nd);
  assert.equal(t.shape, [2, 3]);
  assert.equal(t.tolist(), [[1, 2, 3], [4, 5, 6]]);
  data[0] = -1;
  assert.equal(t.tolist(), [[1, 2, 3], [4, 5, 6]]);
  // A transposed (strided) ndarray is read through its strides.
  const tr = nd.transpose(1, 0);
  assert.equal(np.array(tr).tolist(), [[-1, 4], [2, 5], [3, 6]]);
  // Stepped and offset views too.
  assert.equal(np.array(nd.hi(2, 3).lo(1, 0).step(1, -1)).tolist(), [[6, 5, 4]]);
  assert.is(np.array(ndarray(new Int32Array([1, 2]), [2])).dtype, "int32");
  assert.is(np.array(ndarray(new Float32Array([1, 2]), [2])).dtype, "float32");
  // ndarrays over plain JS arrays become float64.
  const plain = ndarray([1, 2, 3, 4], [2, 2]);
  const p = np.array(plain);
  assert.is(p.dtype, "float64");
  assert.equal(p.tolist(), [[1, 2], [3, 4]]);
  assert.equal(np.sum(ndarray(new Float64Array([1, 2, 3]), [3])).item(), 6);
  throwsA(() => np.add(np.ones([2]), [1, 2] as any), DTypeError, /pytree/);
  throwsA(() => np.add(np.ones([2]), "1" as any), DTypeError);
});

// ---- shape functions ----
test("reshape with -1, transpose, expandDims, squeeze", () => {
  const x = iota([2, 3, 4]);
  assert.equal(np.reshape(x, [4, -1]).shape, [4, 6]);
  assert.equal(np.reshape(x, [-1]).shape, [24]);
  assert.equal(np.reshape(x, -1).shape, [24]);
  assert.equal(np.reshape(x, [2, -1, 2]).shape, [2, 6, 2]);
  assert.equal(np.reshape(np.zeros([0, 3]), [-1, 3]).shape, [0, 3]);
  assert.equal(np.reshape(x, [6, 4]).tolist()[1], [4, 5, 6, 7]);
  assert.equal(x.reshape([24]).tolist().slice(0, 3), [0, 1, 2]);
  throwsA(() => np.reshape(x, [-1, -1]), ShapeError, /\[-1,-1\]/);
  throwsA(() => np.reshape(x, [5, -1]), ShapeError, /\[2,3,4\]/);
  throwsA(() => np.reshape(x, [25]), ShapeError, /\[25\]/);
  assert.equal(np.transpose(x).shape, [4, 3, 2]);
  assert.equal(np.transpose(x, [1, 0, 2]).shape, [3, 2, 4]);
  assert.equal(np.transpose(x, [-1, 0, 1]).shape, [4, 2, 3]);
  assert.is((np.transpose(x, [2, 0, 1]).tolist() as number[][][])[3][1][2], 1 * 12 + 2 * 4 + 3);
  assert.equal(x.T.shape, [4, 3, 2]);
  assert.equal(np.array([1, 2]).T.shape, [2]);
  throwsA(() => np.transpose(x, [0, 1]), ShapeError);
  assert.equal(np.expandDims(x, 0).shape, [1, 2, 3, 4]);
  assert.equal(np.expandDims(x, -1).shape, [2, 3, 4, 1]);
  assert.equal(np.expandDims(x, [0, 2]).shape, [1, 2, 1, 3, 4]);
  assert.equal(np.expandDims(np.array(5), 0).tolist(), [5]);
  throwsA(() => np.expandDims(x, 5), ShapeError);
  const y = np.zeros([1, 3, 1]);
  assert.equal(np.squeeze(y).shape, [3]);
  assert.equal(np.squeeze(y, 0).shape, [3, 1]);
  assert.equal(np.squeeze(y, [-1]).shape, [1, 3]);
  assert.equal(np.squeeze(np.zeros([1, 1])).shape, []);
  throwsA(() => np.squeeze(y, 1), ShapeError, /axis 1/);
  assert.equal(x.flatten().shape, [24]);
});

test("concatenate and stack", () => {
  const a = np.array([[1, 2], [3, 4]]), b = np.array([[5, 6]]);
  assert.equal(np.concatenate([a, b]).tolist(), [[1, 2], [3, 4], [5, 6]]);
  assert.equal(np.concatenate([a, np.array([[7], [8]])], 1).tolist(), [[1, 2, 7], [3, 4, 8]]);
  assert.equal(np.concatenate([a, a], -1).shape, [2, 4]);
  assert.equal(np.concatenate([np.array([1]), new Float64Array([2, 3])]).tolist(), [1, 2, 3]);
  throwsA(() => np.concatenate([a, b], 1), ShapeError, /\[2,2\], \[1,2\]/);
  throwsA(() => np.concatenate([np.array(1), np.array(2)]), ShapeError, /zero-dimensional/);
  throwsA(() => np.concatenate([]), ShapeError);
  throwsA(() => np.concatenate([a, a], 2), ShapeError, /axis 2/);
  throwsA(() => np.concatenate([a, np.ones([2, 2, 1])], 0), ShapeError, /same rank/);
  const u = np.array([1, 2, 3]), v = np.array([4, 5, 6]);
  assert.equal(np.stack([u, v]).tolist(), [[1, 2, 3], [4, 5, 6]]);
  assert.equal(np.stack([u, v], 1).tolist(), [[1, 4], [2, 5], [3, 6]]);
  assert.equal(np.stack([u, v], -1).shape, [3, 2]);
  assert.equal(np.stack([np.array(1), np.array(2)]).tolist(), [1, 2]);
  assert.equal(np.stack([a, a], 2).shape, [2, 2, 2]);
  throwsA(() => np.stack([u, np.array([1, 2])]), ShapeError, /\[3\], \[2\]/);
});

test("take with and without an axis, negative indices, index arrays of any shape", () => {
  const x = iota([3, 4]);
  assert.equal(np.take(x, np.array([5, 0, -1], "int32")).tolist(), [5, 0, 11]);
  assert.equal(np.take(x, 7).tolist(), 7);
  assert.equal(np.take(x, -2).tolist(), 10);
  assert.equal(np.take(x, np.array([2, 0], "int32"), 0).tolist(), [[8, 9, 10, 11], [0, 1, 2, 3]]);
  assert.equal(np.take(x, np.array([-1, 1], "int32"), 1).tolist(), [[3, 1], [7, 5], [11, 9]]);
  assert.equal(np.take(x, np.array([-1, 1], "int32"), -1).tolist(), [[3, 1], [7, 5], [11, 9]]);
  assert.equal(np.take(x, 1, 0).tolist(), [4, 5, 6, 7]);
  assert.equal(np.take(x, np.array([[0, 1], [1, 0]], "int32"), 0).shape, [2, 2, 4]);
  assert.equal(np.take(x, np.array([1, 2]), 1).tolist(), [[1, 2], [5, 6], [9, 10]]);
  assert.equal(x.take(np.array([0], "int32"), 1).tolist(), [[0], [4], [8]]);
  // Out of range (after wrapping negatives once) fills NaN, as JAX's default mode "fill".
  assert.equal(np.take(x, 12).tolist(), NaN);
  assert.equal(np.take(x, np.array([-4], "int32"), 0).tolist(), [[NaN, NaN, NaN, NaN]]);
  throwsA(() => np.take(x, np.array([0.5]), 0), ShapeError, /integers/);
});

test("slice specs: indices, ranges with negative values and steps (negative too), null", () => {
  const v = np.arange(10);
  const cases: [any[], number[] | number][] = [
    [[3], 3],
    [[-1], 9],
    [[[2, 5]], [2, 3, 4]],
    [[[-3]], [7, 8, 9]],
    [[[undefined, -7]], [0, 1, 2]],
    [[[-4, -1]], [6, 7, 8]],
    [[[1, 8, 3]], [1, 4, 7]],
    [[[null, null, 4]], [0, 4, 8]],
    [[[8, 2, -2]], [8, 6, 4]],
    [[[null, null, -1]], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]],
    [[[-1, -11, -3]], [9, 6, 3, 0]],
    [[[2, null, -1]], [2, 1, 0]],
    [[[-2, 0, -4]], [8, 4]],
    [[[5, 20]], [5, 6, 7, 8, 9]],
    [[[-20, 2]], [0, 1]],
    [[[4, 2]], []],
    [[[2, 4, -1]], []],
    [[null], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
  ];
  for (const [specs, want] of cases) assert.equal(v.slice(...specs).tolist(), want, JSON.stringify(specs));
  const m = iota([3, 4]);
  assert.equal(m.slice(1).tolist(), [4, 5, 6, 7]);
  assert.equal(m.slice(null, 2).tolist(), [2, 6, 10]);
  assert.equal(m.slice(-1, -1).tolist(), 11);
  assert.equal(m.slice([null, null, -1], [1, 3]).tolist(), [[9, 10], [5, 6], [1, 2]]);
  assert.equal(m.slice([0, 3, 2], [null, null, -2]).tolist(), [[3, 1], [11, 9]]);
  assert.equal(np.slice(m, null, [3]).tolist(), [[3], [7], [11]]);
  assert.equal(m.slice([1, 1]).shape, [0, 4]);
  throwsA(() => m.slice(3), ShapeError, /index 3/);
  throwsA(() => m.slice(0, 0, 0), ShapeError, /too many/);
  throwsA(() => v.slice([0, 5, 0]), ShapeError, /step/);
  throwsA(() => v.slice("1:2" as any), ShapeError, /unsupported spec/);
});

test("matmul, dot and outer, 1-D and batched", () => {
  const A = np.array([[1, 2], [3, 4]]), u = np.array([5, 6]);
  assert.equal(np.matmul(A, A).tolist(), [[7, 10], [15, 22]]);
  assert.equal(np.matmul(A, u).tolist(), [17, 39]);
  assert.equal(np.matmul(u, A).tolist(), [23, 34]);
  assert.equal(np.matmul(u, u).tolist(), 61);
  assert.equal(np.matmul(u, u).shape, []);
  assert.equal(A.matmul(A.T).tolist(), [[5, 11], [11, 25]]);
  // Batched, with broadcasting of the batch axes.
  const X = iota([2, 1, 2, 3]), Y = iota([3, 3, 1]);
  const Z = np.matmul(X, Y);
  assert.equal(Z.shape, [2, 3, 2, 1]);
  const xl = X.tolist() as number[][][][], yl = Y.tolist() as number[][][];
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 3; j++)
      for (let r = 0; r < 2; r++) {
        const want = xl[i][0][r].reduce((s, xv, k) => s + xv * yl[j][k][0], 0);
        assert.is((Z.tolist() as number[][][][])[i][j][r][0], want);
      }
  assert.equal(np.matmul(np.ones([4, 2, 3]), np.ones([3])).shape, [4, 2]);
  assert.equal(np.matmul(np.ones([3]), np.ones([4, 3, 5])).shape, [4, 5]);
  assert.equal(np.matmul(np.ones([2, 3]), np.ones([5, 3, 2])).tolist()[4], [[3, 3], [3, 3]]);
  throwsA(() => np.matmul(np.ones([2, 3]), np.ones([2, 3])), ShapeError, /\[2,3\] and \[2,3\]/);
  throwsA(() => np.matmul(np.ones([2]), 3), ShapeError, /scalar/);
  throwsA(() => np.matmul(np.ones([2, 2, 2]), np.ones([3, 2, 2])), ShapeError, /matmul: .*\[2,2,2\] and \[3,2,2\]/);
  assert.is(np.dot(u, u).item(), 61);
  assert.equal(np.dot(A, u).tolist(), [17, 39]);
  assert.equal(np.dot(A, A).tolist(), [[7, 10], [15, 22]]);
  assert.equal(np.dot(2, A).tolist(), [[2, 4], [6, 8]]);
  assert.equal(np.dot(np.ones([2, 3]), np.ones([4, 3, 5])).shape, [2, 4, 5]);
  assert.equal(u.dot(u).item(), 61);
  throwsA(() => np.dot(np.ones([2]), np.ones([3])), ShapeError, /\[2\] and \[3\]/);
  assert.equal(np.outer(np.array([1, 2]), np.array([3, 4, 5])).tolist(), [[3, 4, 5], [6, 8, 10]]);
  assert.equal(np.outer(np.array([[1, 2]]), np.array([1, -1])).tolist(), [[1, -1], [2, -2]]);
  assert.is(np.outer(np.array([1], "int32"), np.array([2], "int32")).dtype, "int32");
});

test("fluent Tensor methods equal the np functions", () => {
  const x = np.array([[0.5, 1], [2, 4]]);
  const pairs: [Tensor, Tensor][] = [
    [x.add(1), np.add(x, 1)],
    [x.sub(x), np.zeros([2, 2])],
    [x.mul(2), np.multiply(x, 2)],
    [x.div(2), np.divide(x, 2)],
    [x.pow(2), np.square(x)],
    [x.pow(0.5), np.sqrt(x)],
    [x.neg(), np.negative(x)],
    [x.exp(), np.exp(x)],
    [x.log(), np.log(x)],
    [x.sin(), np.sin(x)],
    [x.cos(), np.cos(x)],
    [x.tanh(), np.tanh(x)],
    [x.sqrt(), np.sqrt(x)],
    [x.neg().abs(), x],
    [x.sum(), np.sum(x)],
    [x.sum(0), np.array([2.5, 5])],
    [x.mean(), np.array(1.875)],
    [x.max(1), np.array([1, 4])],
    [x.min(), np.array(0.5)],
    [x.reshape([4]), np.array([0.5, 1, 2, 4])],
    [x.transpose(), np.array([[0.5, 2], [1, 4]])],
    [x.T, np.array([[0.5, 2], [1, 4]])],
    [x.matmul(x), np.matmul(x, x)],
  ];
  for (const [got, want] of pairs) {
    assert.equal(got.shape, want.shape);
    assert.equal(got.tolist(), want.tolist());
  }
  assert.equal(x.lt(1).tolist(), [[true, false], [false, false]]);
  assert.equal(x.le(1).tolist(), [[true, true], [false, false]]);
  assert.equal(x.gt(1).tolist(), [[false, false], [true, true]]);
  assert.equal(x.ge(1).tolist(), [[false, true], [true, true]]);
  assert.equal(x.eq(2).tolist(), [[false, false], [true, false]]);
  assert.equal(x.ne(2).tolist(), [[true, true], [false, true]]);
  assert.is(x.astype("float32").dtype, "float32");
  assert.equal(x.slice(1, [0, 1]).tolist(), [2]);
  assert.equal(x.squeeze().shape, [2, 2]);
  assert.equal(x.expandDims(0).shape, [1, 2, 2]);
  assert.equal(x.argmax().item(), 3);
  assert.equal(x.argmin(1).tolist(), [0, 0]);
  assert.is(x.prod().item(), 4);
  assert.equal(x.sum(1, { keepdims: true }).shape, [2, 1]);
  // Chaining: sum(log(x) + x*y - sin(y)) at the seed chapter's point.
  const a = np.array(2), b = np.array(5);
  assert.is(a.log().add(a.mul(b)).sub(b.sin()).sum().item(), 11.652071455223084);
});

test("np.full keeps the sign of a negative zero fill value, as NumPy", () => {
  assert.ok(Object.is(np.full([2], -0).toTypedArray()[1], -0));
  assert.ok(Object.is(np.full([], -0, "float32").item(), -0));
  assert.ok(Object.is(np.full([2], 0).toTypedArray()[0], 0));
  assert.equal(np.full([1], -0, "bool").tolist(), [false]);
});

test("np.stack with an out-of-range axis names stack and every input shape", () => {
  const a = np.array([1, 2]), b = np.array([3, 4]);
  assert.throws(() => np.stack([a, b], 2), (e: Error) => e instanceof ShapeError && /^stack: axis 2/.test(e.message) && /\[2\], \[2\]/.test(e.message));
  assert.throws(() => np.stack([a, b], -3), (e: Error) => e instanceof ShapeError && /^stack: axis -3/.test(e.message));
  assert.equal(np.stack([a, b], -2).tolist(), [[1, 2], [3, 4]]);
});

test.run();
