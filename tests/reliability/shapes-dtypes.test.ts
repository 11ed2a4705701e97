// Shape and dtype errors name the operation and every shape exactly as the user passed it
// (before any internal reshaping), also when raised inside a transformation.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DTypeError, ShapeError, grad, jacrev, makeJaxpr, np, vmap } from "../../src/index.js";
import { guardTraceState } from "../guard.js";
import { throwsExactly } from "./util.js";

guardTraceState(test);

const a23 = np.ones([2, 3]);
const a43 = np.ones([4, 3]);

test("every broadcasting binary operation names itself and both full shapes", () => {
  const ops: [string, (x: any, y: any) => unknown][] = [
    ["add", np.add],
    ["subtract", np.subtract],
    ["multiply", np.multiply],
    ["divide", np.divide],
    ["power", np.power],
    ["maximum", np.maximum],
    ["minimum", np.minimum],
    ["arctan2", np.arctan2],
    ["less", np.less],
    ["lessEqual", np.lessEqual],
    ["greater", np.greater],
    ["greaterEqual", np.greaterEqual],
    ["equal", np.equal],
    ["notEqual", np.notEqual],
  ];
  for (const [name, op] of ops) {
    throwsExactly(() => op(a23, a43), ShapeError, [`${name}: cannot broadcast shapes [2,3] and [4,3]`]);
    // Leading axes are not dropped from the message.
    throwsExactly(() => op(np.ones([7, 2, 3, 4]), np.ones([5, 4])), ShapeError, [`${name}: cannot broadcast shapes [7,2,3,4] and [5,4]`]);
  }
});

test("fluent methods report the NumPy name of the operation they call", () => {
  const fluent: [string, (x: any) => unknown][] = [
    ["add", (x) => x.add(a43)],
    ["subtract", (x) => x.sub(a43)],
    ["multiply", (x) => x.mul(a43)],
    ["divide", (x) => x.div(a43)],
    ["power", (x) => x.pow(a43)],
    ["less", (x) => x.lt(a43)],
    ["equal", (x) => x.eq(a43)],
  ];
  for (const [name, op] of fluent) throwsExactly(() => op(a23), ShapeError, [`${name}: cannot broadcast shapes [2,3] and [4,3]`]);
});

test("where and clip name themselves and every operand's shape", () => {
  throwsExactly(() => np.where(np.ones([2], "bool"), a23, a43), ShapeError, ["where: cannot broadcast shapes [2] and [2,3] and [4,3]"]);
  throwsExactly(() => np.where(np.ones([5], "bool"), a23, 0), ShapeError, ["where: cannot broadcast shapes [5] and [2,3] and []"]);
  throwsExactly(() => np.clip(a23, np.zeros([4]), 1), ShapeError, ["clip: cannot broadcast shapes [2,3] and [4] and []"]);
  throwsExactly(() => np.clip(a23, null, np.zeros([3, 1])), ShapeError, ["clip: cannot broadcast shapes [2,3] and [3,1]"]);
});

test("broadcastTo names the source and target shapes", () => {
  throwsExactly(() => np.broadcastTo(a23, [3, 3]), ShapeError, ["broadcastTo: cannot broadcast shape [2,3] to [3,3]"]);
  throwsExactly(() => np.broadcastTo(a23, [3]), ShapeError, ["broadcastTo: cannot broadcast shape [2,3] to [3]"]);
  assert.equal(np.broadcastTo(np.ones([3, 1]), [2, 3, 4]).shape, [2, 3, 4]);
});

test("reshape names the input shape and size and the target exactly as written (with its -1)", () => {
  throwsExactly(() => np.reshape(a23, [4, 2]), ShapeError, ["reshape: cannot reshape an array of shape [2,3] (size 6) into shape [4,2]"]);
  throwsExactly(() => np.reshape(a23, [4, -1]), ShapeError, ["reshape: cannot reshape an array of shape [2,3] (size 6) into shape [4,-1]"]);
  throwsExactly(() => np.reshape(a23, [-1, -1]), ShapeError, ["reshape: invalid target shape [-1,-1] for an array of shape [2,3]"]);
  throwsExactly(() => np.reshape(a23, [2, 1.5]), ShapeError, ["reshape: invalid target shape [2,1.5]"]);
  throwsExactly(() => a23.reshape([7]), ShapeError, ["reshape: cannot reshape an array of shape [2,3] (size 6) into shape [7]"]);
  throwsExactly(() => np.reshape(np.zeros([3, 0, 5]), [0, -1]), ShapeError, ["reshape: cannot reshape an array of shape [3,0,5] (size 0) into shape [0,-1]"]);
});

test("matmul names both operand shapes as passed (1-D operands are not shown promoted)", () => {
  throwsExactly(() => np.matmul(a23, a43), ShapeError, ["matmul: shapes [2,3] and [4,3] are not aligned", "3 (last axis of the first) != 4"]);
  throwsExactly(() => np.matmul(np.ones([3]), np.ones([4])), ShapeError, ["matmul: shapes [3] and [4] are not aligned"]);
  throwsExactly(() => np.matmul(np.ones([2, 5]), np.ones([4])), ShapeError, ["matmul: shapes [2,5] and [4] are not aligned"]);
  throwsExactly(() => np.matmul(np.ones([2, 3, 4]), np.ones([5, 4, 2])), ShapeError, ["matmul: the batch (leading) axes of shapes [2,3,4] and [5,4,2] do not broadcast"]);
  throwsExactly(() => np.matmul(np.ones([3]), 2), ShapeError, ["matmul: operands must not be scalars, got shapes [3] and []"]);
  throwsExactly(() => a23.matmul(a23), ShapeError, ["matmul: shapes [2,3] and [2,3] are not aligned"]);
  throwsExactly(() => np.dot(a23, a43), ShapeError, ["dot: shapes [2,3] and [4,3] are not aligned"]);
});

test("concatenate and stack name every input shape and the axis", () => {
  throwsExactly(() => np.concatenate([a23, np.ones([2, 4])]), ShapeError, ["concatenate: shapes [2,3], [2,4] must agree except along axis 0"]);
  throwsExactly(() => np.concatenate([a23, a23, np.ones([2, 4])], 0), ShapeError, ["shapes [2,3], [2,3], [2,4]"]);
  throwsExactly(() => np.concatenate([a23, np.ones([3])]), ShapeError, ["concatenate: shapes [2,3], [3] must have the same rank"]);
  throwsExactly(() => np.concatenate([a23, a23], 2), ShapeError, ["concatenate: axis 2 is out of bounds for shapes [2,3], [2,3]"]);
  throwsExactly(() => np.concatenate([a23, a23], -3), ShapeError, ["concatenate: axis -3 is out of bounds"]);
  throwsExactly(() => np.concatenate([np.array(1), np.array(2)]), ShapeError, ["concatenate: zero-dimensional arrays cannot be concatenated (shapes [], [])"]);
  throwsExactly(() => np.concatenate([]), ShapeError, ["concatenate: needs a non-empty array"]);
  throwsExactly(() => np.stack([a23, a43]), ShapeError, ["stack: all input arrays must have the same shape, got [2,3], [4,3]"]);
  // Concatenating along the axis where they differ is fine.
  assert.equal(np.concatenate([a23, np.zeros([2, 1])], 1).shape, [2, 4]);
});

test("slice and take name the shape, the axis and the offending spec", () => {
  throwsExactly(() => a23.slice(0, 0, 0), ShapeError, ["slice: too many indices (3) for an array of shape [2,3]"]);
  throwsExactly(() => a23.slice(2), ShapeError, ["slice: index 2 is out of bounds for axis 0 with size 2 (shape [2,3])"]);
  throwsExactly(() => a23.slice(null, -4), ShapeError, ["slice: index -4 is out of bounds for axis 1 with size 3 (shape [2,3])"]);
  throwsExactly(() => a23.slice([0, 2, 0]), ShapeError, ["slice: step must be a non-zero integer, got 0 for axis 0 (shape [2,3])"]);
  throwsExactly(() => a23.slice(null, [0, 2, 0.5]), ShapeError, ["got 0.5 for axis 1 (shape [2,3])"]);
  throwsExactly(() => a23.slice("x" as any), ShapeError, ['slice: unsupported spec "x" for axis 0 (shape [2,3])']);
  // An out-of-range take fills NaN (JAX's default mode "fill"); non-integer indices are an error.
  assert.equal(np.take(a23, np.array([7], "int32"), 1).tolist(), [[NaN], [NaN]]);
  throwsExactly(() => np.take(a23, np.array([1.5]), 1), ShapeError, ["take: indices: indices must be integers"]);
  // Out-of-range ranges clamp, as NumPy's basic slicing does.
  assert.equal(np.arange(5).slice([3, 100]).tolist(), [3, 4]);
});

test("axis arguments name the axis and the shape (transpose, squeeze, expandDims, reductions)", () => {
  throwsExactly(() => np.transpose(a23, [0]), ShapeError, ["transpose: axes [0] do not match an array of shape [2,3]"]);
  throwsExactly(() => np.transpose(a23, [0, 0]), ShapeError, ["transpose: permutation [0,0] is not a permutation of the axes of shape [2,3]"]);
  throwsExactly(() => np.squeeze(a23, 0), ShapeError, ["squeeze:", "axis 0 of shape [2,3]"]);
  throwsExactly(() => np.expandDims(a23, 5), ShapeError, ["expandDims: axis 5 is out of bounds for the result of rank 3 (input shape [2,3])"]);
  for (const name of ["sum", "mean", "prod", "max", "min"] as const) {
    throwsExactly(() => (np[name] as any)(a23, 2), ShapeError, [`${name}: axis 2 is out of bounds for shape [2,3]`]);
    throwsExactly(() => (np[name] as any)(a23, [0, -2]), ShapeError, [`${name}: repeated axis in [0,-2]`]);
  }
  throwsExactly(() => np.argmax(a23, 2), ShapeError, ["argmax: axis 2 is out of bounds for shape [2,3]"]);
  throwsExactly(() => np.sum(np.array(2), 0), ShapeError, ["sum: axis 0 is out of bounds for shape []"]);
});

test("inside grad, jacrev, vmap and makeJaxpr the same messages appear (vmap shows per-example shapes, as JAX)", () => {
  const b = np.ones([4, 3]);
  throwsExactly(() => grad((x: any) => np.add(x, b).sum())(a23), ShapeError, ["add: cannot broadcast shapes [2,3] and [4,3]"]);
  throwsExactly(() => jacrev((x: any) => np.matmul(x, x))(a23), ShapeError, ["matmul: shapes [2,3] and [2,3] are not aligned"]);
  throwsExactly(() => makeJaxpr((x: any) => np.reshape(x, [4, -1]))(a23), ShapeError, ["reshape: cannot reshape an array of shape [2,3] (size 6) into shape [4,-1]"]);
  throwsExactly(() => vmap((x: any) => np.add(x, np.ones([4])))(a23), ShapeError, ["add: cannot broadcast shapes [3] and [4]"]);
  throwsExactly(() => vmap((x: any, y: any) => x.add(y))(a23, b), ShapeError, ["vmap:", "size 2", "shape [2,3]", "size 4", "shape [4,3]"]);
});

test("grad of a non-scalar output names the shape and suggests jacrev or .sum()", () => {
  throwsExactly(() => grad((x: any) => x.mul(2))(a23), ShapeError, ["grad: the function must return a scalar (shape [])", "got shape [2,3]", "jacrev", ".sum()"]);
  throwsExactly(() => grad((x: any) => x.reshape([1]))(np.array(1)), ShapeError, ["got shape [1]"]);
});

test("dtype errors: unknown dtypes, integer inputs to grad, non-float outputs of grad", () => {
  throwsExactly(() => np.astype(a23, "float16"), DTypeError, ['astype: unknown dtype "float16"']);
  throwsExactly(() => np.zeros([2], "complex64" as any), DTypeError, ['zeros: unknown dtype "complex64"']);
  throwsExactly(() => grad((x: any) => x.sum())(np.array([1, 2], "int32")), DTypeError, ["grad requires floating-point inputs", "int32", 'np.astype(x, "float64")']);
  throwsExactly(() => grad((x: any) => np.greater(x, 0))(1), DTypeError, ["grad: the function's output must be floating-point, got bool"]);
});

test.run();
