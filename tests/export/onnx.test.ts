import { test } from "uvu";
import * as assert from "uvu/assert";
import * as ort from "onnxruntime-node";
import { JacobiError, type Tensor, grad, scipy, hessian, jacrev, jvp, np, tree, vmap } from "../../src/index.js";
import { exportOnnx } from "../../src/index.js";
import { dotGeneral } from "../../src/primitives/dot.js";
import { gatherP, scatterAddP } from "../../src/primitives/gather.js";
import { cumsumP } from "../../src/primitives/cumulative.js";
import { bind1 } from "../../src/core/trace.js";
import { pad as padPrim, slice as slicePrim } from "../../src/primitives/shape.js";
import { guardTraceState } from "../guard.js";
import { close, throwsWith } from "../helpers.js";

guardTraceState(test);

type F = (...args: any[]) => any;

/** Exports `f` on `args`, runs the model in ONNX Runtime, and returns its outputs' values. */
async function runExported(f: F, args: unknown[], opset?: number): Promise<{ data: number[]; type: string; dims: readonly number[] }[]> {
  const bytes = exportOnnx(f, args, opset === undefined ? {} : { opset });
  const session = await ort.InferenceSession.create(bytes);
  const leaves = tree.leaves(args) as Tensor[];
  const feeds: Record<string, ort.Tensor> = {};
  leaves.forEach((l, i) => (feeds[`x${i}`] = new ort.Tensor(l.dtype, l.toTypedArray() as Float64Array, l.shape)));
  const out = await session.run(feeds);
  return session.outputNames.map((n) => ({ data: Array.from(out[n].data as ArrayLike<number>, Number), type: out[n].type, dims: out[n].dims }));
}

/** The exported model agrees with eager jacobi: values (to `tol` relative), dtypes and shapes. */
async function agrees(f: F, args: unknown[], tol = 1e-12): Promise<void> {
  const want = tree.leaves(f(...args)) as Tensor[];
  const got = await runExported(f, args);
  assert.is(got.length, want.length);
  got.forEach((g, i) => {
    assert.is(g.type, want[i].dtype);
    assert.equal([...g.dims], want[i].shape);
    close(g.data, Array.from(want[i].toTypedArray(), Number), tol, `output ${i}`);
  });
}

const x = np.array([0.3, -0.7, 1.9, 2.5, -1.5, 0.5]);
const y = np.array([1.1, 0.4, -2.2, 0.9, 3.0, -0.25]);
const u = np.array([0.1, -0.2, 0.35, 0.8, -0.9, 0.5]);
const A = np.array([[1, 2, 3], [4, 5, 6]]);
const B = np.array([[0.5, -1], [2, 0.25], [1.5, 3]]);

test("unary elementwise primitives match in float64", async () => {
  for (const f of [np.sin, np.cos, np.tanh, np.exp, np.abs, np.sign, np.floor, np.ceil, np.round]) await agrees(f, [x]);
  await agrees(np.log, [np.abs(x)]);
  await agrees(np.sqrt, [np.abs(x)]);
  await agrees(np.tan, [x]);
  await agrees(np.cosh, [x]);
  const x32 = x.astype("float32");
  for (const f of [np.tan, np.arcsin, np.arccos, np.arctan, np.sinh, np.cosh]) await agrees(f, [np.multiply(x32, np.array(0.3, "float32"))], 1e-5);
  await agrees(scipy.special.erf, [x32], 1e-5);
  await agrees((a: Tensor) => [np.cumsum(a), np.cumsum(np.reshape(a, [2, 3]), 1), bind1(cumsumP, [a], { axis: 0, reverse: true })], [x]);
  for (const f of [np.arcsin, np.arccos, np.arctan, np.sinh, scipy.special.erf]) throwsWith(() => exportOnnx(f, [x]), JacobiError, ["no float64 kernel in ONNX Runtime"]);
});

test("binary arithmetic, comparisons and select match", async () => {
  for (const f of [np.add, np.subtract, np.multiply, np.divide, np.maximum, np.minimum]) await agrees(f, [x, y]);
  await agrees(np.power, [np.abs(x), y]);
  for (const f of [np.less, np.lessEqual, np.greater, np.greaterEqual, np.equal, np.notEqual]) await agrees(f, [x, np.round(x)]);
  await agrees((a: Tensor, b: Tensor) => np.where(np.greater(a, b), a, b), [x, y]);
  await agrees((a: Tensor) => [np.power(a, 3), np.power(a, -2), np.power(a, 0)], [x]);
});

test("casts, reductions and structural primitives match", async () => {
  await agrees((a: Tensor) => [a.astype("int32"), a.astype("float32"), a.astype("bool"), np.greater(a, 0).astype("float64")], [x]);
  const m = np.reshape(x, [2, 3]);
  await agrees((a: Tensor) => [np.sum(a), np.sum(a, 0), np.max(a, 1), np.min(a, 0), np.prod(a, 1), np.argmax(a, 1), np.argmin(a, 0)], [m]);
  await agrees((a: Tensor) => [np.reshape(a, [3, 2]), np.transpose(a), np.squeeze(np.reshape(a, [1, 2, 3])), np.broadcastTo(a, [4, 2, 3])], [m]);
  await agrees((a: Tensor) => [slicePrim(a, [0, 1], [2, 3], [1, 2]), padPrim(a, 0.5, [2, 1], [1, 0]), np.concatenate([a, a], 1)], [m]);
});

test("row gathers lower to Gather, clamped or filled as the built-in kernel", async () => {
  const table = np.reshape(np.arange(12), [4, 3]);
  await agrees((t: Tensor, i: Tensor) => t.at(i).get(), [table, np.array([2, 0, 3, 3], "int32")]);
  await agrees((t: Tensor) => [t.at(1).get(), t.at(-1).get()], [table]);
  await agrees((t: Tensor, i: Tensor) => np.take(t, i, 0), [table, np.array([[1, 0], [3, 2]], "int32")]);
  await agrees((t: Tensor, i: Tensor) => bind1(gatherP, [t, i], { offsetDims: [1], collapsedSliceDims: [0], startIndexMap: [0], sliceSizes: [1, 3], mode: "fill", fillValue: -5 }), [table, np.array([[1], [7], [-1]], "int32")]);
  throwsWith(() => exportOnnx((t: Tensor) => t.at(np.array([0, 1]), np.array([1, 2])).get(), [table]), JacobiError, ['"gather"', "whole-row gathers along axis 0"]);
  // Their gradients scatter-add rows back: ScatterND with reduction "add".
  const emb = (t: Tensor, i: Tensor) => np.sum(np.tanh(t.at(i).get()));
  await agrees(grad(emb), [np.reshape(np.linspace(-1, 1, 12), [4, 3]), np.array([2, 0, 2, 3], "int32")]);
  await agrees((t: Tensor, i: Tensor, v: Tensor) => bind1(scatterAddP, [t, i, v], { updateWindowDims: [1], insertedWindowDims: [0], scatterDimsToOperandDims: [0], mode: "fill" }), [np.zeros([4, 3]), np.array([[1], [9], [1]], "int32"), np.ones([3, 3])]);
  throwsWith(() => exportOnnx(grad(emb), [table.astype("float64"), np.array([1], "int32")], { opset: 15 }), JacobiError, ['"scatter_add"', "opset 16"]);
});

test("dot_general lowers to MatMul and Einsum", async () => {
  await agrees(np.matmul, [A, B]);
  await agrees(np.dot, [x, y]);
  await agrees(np.matmul, [np.reshape(np.arange(12), [2, 2, 3]), np.reshape(np.arange(12), [2, 3, 2])]);
  await agrees((a: Tensor, b: Tensor) => dotGeneral(a, b, { contract: [[0], [1]], batch: [[], []] }), [np.transpose(A), np.transpose(B)]);
});

test("transformations export: grad, jvp, vmap, hessian, jacrev", async () => {
  const f = (a: Tensor, b: Tensor) => np.sum(np.subtract(np.add(np.log(np.abs(a)), np.multiply(a, b)), np.sin(b)));
  await agrees(grad(f, { argnums: [0, 1] }), [x, y]);
  await agrees((a: Tensor, t: Tensor) => jvp((v: Tensor) => f(v, y), [a], [t]), [x, u]);
  await agrees(vmap((r: Tensor) => np.tanh(np.matmul(r, B))), [A]);
  await agrees(hessian((a: Tensor) => np.sum(np.multiply(np.tanh(a), np.exp(np.multiply(a, 0.5))))), [x]);
  await agrees(jacrev((a: Tensor) => np.matmul(A, np.tanh(a))), [np.array([0.2, 0.4, -0.3])]);
});

test("float32, int32, uint32 and bool inputs keep their dtypes", async () => {
  await agrees((a: Tensor) => np.sum(np.multiply(np.tanh(a), a)), [x.astype("float32")], 1e-5);
  await agrees(grad((a: Tensor) => np.sum(np.exp(np.multiply(a, a)))), [u.astype("float32")], 1e-5);
  const i = np.array([3, -4, 7, 0], "int32");
  await agrees((a: Tensor) => [np.add(a, a), np.multiply(a, 3), np.sum(a), np.less(a, 1)], [i]);
  const w = np.array([3, 4, 7, 0], "uint32");
  await agrees((a: Tensor) => [np.add(a, a), np.max(a)], [w]);
  const b = np.array([true, false, true]);
  await agrees((p: Tensor) => np.where(p, np.array([1, 2, 3]), np.array([4, 5, 6])), [b]);
});

test("pytree inputs and outputs are flattened in jacobi's order", async () => {
  const f = (p: { w: Tensor; b: Tensor }, z: Tensor) => ({ out: np.add(np.matmul(z, p.w), p.b), norm: np.sum(np.multiply(p.w, p.w)) });
  const args = [{ w: B, b: np.array([1, -1]) }, A];
  const session = await ort.InferenceSession.create(exportOnnx(f, args));
  assert.equal(session.inputNames, ["x0", "x1", "x2"]);
  assert.equal(session.outputNames, ["y0", "y1"]);
  await agrees(f, args);
});

test("a primitive without a lowering is a JacobiError naming it", () => {
  throwsWith(() => exportOnnx((a: Tensor, b: Tensor) => np.arctan2(a, b), [x, y]), JacobiError, ['"atan2"', "no ONNX lowering"]);
  throwsWith(() => exportOnnx((a: Tensor) => padPrim(a, 0, [1], [1], [1]), [x]), JacobiError, ["interior padding [1]"]);
  throwsWith(() => exportOnnx((a: Tensor) => np.cumprod(a), [x]), JacobiError, ['"cumprod"']);
});

test("exporting inside a transformation, closing over its tracer, is refused", () => {
  grad((a: Tensor) => {
    throwsWith(() => exportOnnx((b: Tensor) => np.multiply(b, a), [x]), JacobiError, ["closes over a value of an enclosing transformation"]);
    return np.sum(a);
  })(x);
});

test("options are checked", () => {
  throwsWith(() => exportOnnx(np.sin, [x], { opset: 9 }), JacobiError, ["opset", "13 to 21"]);
  throwsWith(() => exportOnnx(np.sin, [x], { opsett: 17 } as never), JacobiError, ['unknown option "opsett"']);
  throwsWith(() => exportOnnx(np.sin, [x], null as never), JacobiError, ["options must be an object"]);
  throwsWith(() => exportOnnx(np.sin, x as never), JacobiError, ["args must be an array"]);
});

test("opset 18 passes reduction axes as inputs", async () => {
  const got = await runExported((a: Tensor) => np.max(np.reshape(a, [2, 3]), 0), [x], 18);
  close(got[0].data, [2.5, -0.7, 1.9]);
});

test.run();
