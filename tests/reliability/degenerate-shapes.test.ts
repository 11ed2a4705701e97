// Empty and degenerate shapes: size-0 arrays and 0-d arrays go through every operation and
// transformation with NumPy/JAX's results; a reduction with no identity fails with a clear error.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ShapeError, grad, hessian, jacfwd, jacrev, jvp, linearize, makeJaxpr, nn, np, vjp, vmap } from "../../src/index.js";
import { guardTraceState } from "../guard.js";
import { flat, throwsExactly } from "./util.js";

guardTraceState(test);

const e = () => np.zeros([3, 0, 5]);
const shapeDtype = (t: any): [number[], string] => [t.shape, t.dtype];

// ---------- size 0 ----------

test("creating size-0 arrays: every constructor gives the right shape and no elements", () => {
  assert.equal(shapeDtype(np.array([])), [[0], "float64"]);
  assert.equal(shapeDtype(np.array([[], []])), [[2, 0], "float64"]);
  assert.equal(shapeDtype(np.zeros([3, 0, 5])), [[3, 0, 5], "float64"]);
  assert.equal(shapeDtype(np.ones(0, "int32")), [[0], "int32"]);
  assert.equal(shapeDtype(np.arange(0)), [[0], "int32"]);
  assert.equal(shapeDtype(np.linspace(0, 1, 0)), [[0], "float64"]);
  assert.equal(shapeDtype(np.eye(0)), [[0, 0], "float64"]);
  assert.equal(np.zeros([2, 0]).tolist(), [[], []]);
  assert.is(e().size, 0);
  assert.is(e().toTypedArray().length, 0);
  assert.equal(e().toNdarray().shape, [3, 0, 5]);
});

test("reductions of shape [3,0,5]: sum gives zeros, prod ones, mean NaN (as NumPy), with every axis choice", () => {
  assert.is(np.sum(e()).item(), 0);
  assert.equal(np.sum(e(), 1).tolist(), [[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]);
  assert.equal(np.sum(e(), 0).shape, [0, 5]);
  assert.equal(np.sum(e(), [0, 2]).shape, [0]);
  assert.equal(np.sum(e(), 1, { keepdims: true }).shape, [3, 1, 5]);
  assert.equal(np.sum(e(), 2, { keepdims: true }).shape, [3, 0, 1]);
  assert.equal(flat(np.prod(e(), 1)), Array(15).fill(1));
  assert.ok(flat(np.mean(e(), 1)).every(Number.isNaN));
  assert.ok(Number.isNaN(np.mean(e()).item()));
  assert.equal(shapeDtype(np.sum(np.zeros([0], "int32"))), [[], "int32"]);
  assert.equal(shapeDtype(np.sum(np.zeros([0], "bool"))), [[], "int32"]);
});

test("max/min/argmax over an empty axis throw a ShapeError naming the operation and the full shape", () => {
  throwsExactly(() => np.max(e(), 1), ShapeError, ["max: zero-size reduction over an empty axis of shape [3,0,5] has no identity"]);
  throwsExactly(() => np.max(e()), ShapeError, ["max:", "[3,0,5]"]);
  throwsExactly(() => np.min(e(), [1, 2]), ShapeError, ["min: zero-size reduction", "[3,0,5]"]);
  throwsExactly(() => e().max(), ShapeError, ["max:", "[3,0,5]"]);
  throwsExactly(() => np.argmax(e()), ShapeError, ["argmax: attempt to get argmax of an empty sequence (shape [3,0,5])"]);
  throwsExactly(() => np.argmin(e(), 1), ShapeError, ["argmin:", "(shape [3,0,5])"]);
  throwsExactly(() => grad((x: any) => np.max(x))(np.zeros([0])), ShapeError, ["max:", "[0]"]);
  throwsExactly(() => jvp((x: any) => np.max(x, 1), [e()], [e()]), ShapeError, ["max:", "[3,0,5]"]);
  // Over a non-empty axis of an empty array there is nothing to reduce per output: fine.
  assert.equal(np.max(e(), 0).shape, [0, 5]);
  assert.equal(shapeDtype(np.argmax(e(), 0)), [[0, 5], "int32"]);
});

test("elementwise, broadcasting and shape operations on empty arrays", () => {
  assert.equal(np.sin(e()).shape, [3, 0, 5]);
  assert.equal(np.add(np.zeros([3, 0, 1]), np.ones([5])).shape, [3, 0, 5]);
  assert.equal(np.add(np.zeros([0]), np.ones([1])).shape, [0]);
  throwsExactly(() => np.add(np.zeros([0]), np.ones([2])), ShapeError, ["add: cannot broadcast shapes [0] and [2]"]);
  assert.equal(np.reshape(e(), [0, 7]).shape, [0, 7]);
  assert.equal(np.reshape(e(), [-1, 5]).shape, [0, 5]);
  throwsExactly(() => np.reshape(np.zeros([0]), [0, -1]), ShapeError, ["reshape:", "[0]", "[0,-1]"]);
  assert.equal(np.transpose(e()).shape, [5, 0, 3]);
  assert.equal(np.concatenate([np.zeros([0, 2]), np.ones([1, 2])]).tolist(), [[1, 1]]);
  assert.equal(np.stack([np.zeros([0]), np.zeros([0])]).shape, [2, 0]);
  assert.equal(np.arange(5).slice([3, 1]).shape, [0]);
  assert.equal(np.take(np.ones([3]), np.array([], "int32")).shape, [0]);
  throwsExactly(() => np.zeros([0, 3]).slice(0), ShapeError, ["slice: index 0 is out of bounds for axis 0 with size 0 (shape [0,3])"]);
});

test("matmul with an empty contraction gives zeros; with an empty free axis an empty result", () => {
  assert.equal(np.matmul(np.ones([2, 0]), np.ones([0, 3])).tolist(), [[0, 0, 0], [0, 0, 0]]);
  assert.equal(np.matmul(np.ones([0, 3]), np.ones([3, 2])).shape, [0, 2]);
  assert.is(np.dot(np.zeros([0]), np.zeros([0])).item(), 0);
});

test("grad, jvp, vjp and linearize through empty arrays", () => {
  const g = grad((x: any) => np.sum(np.square(np.sin(x))))(e());
  assert.equal(g.shape, [3, 0, 5]);
  // A scalar function that also reads an empty array: the rest of the gradient is unaffected.
  const [ga, gb] = grad((a: any, b: any) => np.add(np.square(a), np.sum(np.multiply(b, a))), { argnums: [0, 1] })(3, np.zeros([0]));
  assert.equal([ga.item(), gb.shape], [6, [0]]);
  const [y, t] = jvp(np.sin, [e()], [e()]);
  assert.equal([y.shape, t.shape], [[3, 0, 5], [3, 0, 5]]);
  const [out, back] = vjp((x: any) => np.sum(np.sin(x), 1), [e()]);
  assert.equal(out.tolist(), np.zeros([3, 5]).tolist());
  assert.equal(back(np.ones([3, 5]))[0].shape, [3, 0, 5]);
  assert.equal(linearize(np.sin, [np.zeros([0, 2])])[1](np.zeros([0, 2])).shape, [0, 2]);
  assert.equal(grad((x: any) => np.mean(x))(np.zeros([0])).shape, [0]);
  assert.equal(grad((x: any) => np.sum(np.prod(x, 1)))(np.zeros([3, 0])).shape, [3, 0]);
  assert.equal(grad((a: any) => np.sum(np.matmul(a, np.ones([0, 3]))))(np.ones([2, 0])).shape, [2, 0]);
  assert.equal(grad((a: any) => np.sum(np.concatenate([a, np.ones([1, 2])])))(np.zeros([0, 2])).shape, [0, 2]);
  assert.equal(grad((a: any) => np.sum(a.slice([3, 1])))(np.ones([5])).tolist(), [0, 0, 0, 0, 0]);
});

test("vmap over an axis of size 0, and over arrays with an empty inner axis", () => {
  assert.equal(vmap(np.sin)(np.zeros([0, 3])).shape, [0, 3]);
  assert.equal(vmap(grad((x: any) => np.sum(np.square(x))))(np.zeros([0, 2])).shape, [0, 2]);
  assert.equal(vmap((x: any) => np.sum(x))(e()).tolist(), [0, 0, 0]);
  assert.equal(vmap((x: any) => np.zeros([0]).add(x.sum()))(np.ones([3, 2])).shape, [3, 0]);
});

test("Jacobians and Hessians with empty inputs or outputs have the empty axes in place", () => {
  assert.equal(jacfwd((x: any) => np.sum(x))(np.zeros([0])).shape, [0]);
  assert.equal(jacrev((x: any) => np.sum(x))(np.zeros([0])).shape, [0]);
  assert.equal(jacfwd((x: any) => np.add(np.ones([3]), np.sum(x)))(np.zeros([0])).shape, [3, 0]);
  assert.equal(jacrev((x: any) => np.multiply(np.zeros([0]), np.sum(x)))(np.ones([3])).shape, [0, 3]);
  assert.equal(hessian((x: any) => np.sum(np.power(x, 3)))(np.zeros([0])).shape, [0, 0]);
  assert.equal(hessian((x: any) => np.sum(np.power(x, 3)))(np.zeros([2, 0])).shape, [2, 0, 2, 0]);
});

test("makeJaxpr prints empty shapes as JAX does", () => {
  assert.is(makeJaxpr((x: any) => np.sum(x, 1))(e()).toString(), "{ lambda a:f64[3,0,5] .\n  let b:f64[3,5] = reduce_sum[axes=(1,)] a\n  in ( b ) }");
});

// ---------- 0-d ----------

test("0-d arrays: creation, item, tolist, toNdarray", () => {
  const s = np.array(5);
  assert.equal([s.shape, s.ndim, s.size, s.item(), s.tolist()], [[], 0, 1, 5, 5]);
  const nd = s.toNdarray();
  assert.equal([nd.shape, nd.get()], [[], 5]);
  assert.equal(np.array(true).tolist(), true);
});

test("0-d arrays through shape operations", () => {
  const s = np.array(2);
  assert.equal(np.reshape(s, [1, 1]).tolist(), [[2]]);
  assert.equal(np.squeeze(np.ones([1, 1])).shape, []);
  assert.equal(np.expandDims(s, 0).tolist(), [2]);
  assert.equal(np.transpose(s).tolist(), 2);
  assert.equal(np.broadcastTo(s, [2, 3]).tolist(), [[2, 2, 2], [2, 2, 2]]);
  assert.equal(s.slice().tolist(), 2);
  assert.equal(np.take(s, np.array([0, 0], "int32")).tolist(), [2, 2]);
  assert.equal(np.where(true, np.ones([2]), np.zeros([2])).tolist(), [1, 1]);
  assert.equal(np.reshape(np.arange(6), [2, 3]).slice(1, 2).tolist(), 5);
  throwsExactly(() => np.concatenate([s, s]), ShapeError, ["zero-dimensional arrays cannot be concatenated"]);
  throwsExactly(() => np.matmul(s, s), ShapeError, ["matmul: operands must not be scalars, got shapes [] and []"]);
  assert.is(np.dot(s, np.array(3)).item(), 6);
});

test("0-d reductions: over no axis they are the identity; an explicit axis is out of bounds", () => {
  const s = np.array(2);
  assert.equal([np.sum(s).item(), np.max(s).item(), np.min(s).item(), np.prod(s).item(), np.mean(s).item()], [2, 2, 2, 2, 2]);
  assert.is(np.argmax(s).item(), 0);
  throwsExactly(() => np.sum(s, 0), ShapeError, ["sum: axis 0 is out of bounds for shape []"]);
  throwsExactly(() => np.max(s, -1), ShapeError, ["max: axis -1 is out of bounds for shape []"]);
});

test("0-d through grad, jvp, vjp, vmap, jacfwd, jacrev and hessian", () => {
  const cube = (x: any) => np.power(x, 3);
  assert.equal(shapeDtype(grad(cube)(np.array(2))), [[], "float64"]);
  assert.is(grad(cube)(np.array(2)).item(), 12);
  assert.equal(jvp(cube, [np.array(2)], [np.array(1)]).map((t: any) => [t.shape, t.item()]), [[[], 8], [[], 12]]);
  const [y, back] = vjp(np.sin, [np.array(0)]);
  assert.equal([y.shape, back(1)[0].shape, back(1)[0].item()], [[], [], 1]);
  assert.equal(vmap((x: any) => np.multiply(x, x))(np.array([1, 2, 3])).tolist(), [1, 4, 9]);
  assert.equal(vmap(grad(cube))(np.array([1, 2])).tolist(), [3, 12]);
  assert.equal([jacfwd(cube)(np.array(2)).shape, jacrev(cube)(np.array(2)).shape], [[], []]);
  assert.equal([jacfwd(cube)(np.array(2)).item(), hessian(cube)(np.array(2)).item()], [12, 12]);
  assert.equal(jacrev((x: any) => np.multiply(x, np.array([1, 2])))(np.array(3)).tolist(), [1, 2]);
  assert.equal(jacfwd((v: any) => np.sum(v))(np.array([1, 2])).tolist(), [1, 1]);
  // A 0-d value through reshape/expandDims inside grad keeps the 0-d gradient shape.
  assert.equal(grad((x: any) => np.sum(np.reshape(np.expandDims(x, 0), [])))(np.array(2)).shape, []);
  assert.equal(nn.logsumexp(np.zeros([2, 0]), 0).shape, [0]);
});

test.run();
