// The linear-algebra primitives bound directly: the checks of their abstract evaluation (the
// public functions validate first, so these guard other callers), their costs, and dtype mixing
// in the public functions.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { DTypeError, ShapeError, lax, np, scipy } from "../../src/index.js";
import { bind } from "../../src/core/trace.js";
import { ShapedArray } from "../../src/core/shaped-array.js";
import { choleskyP, eighP, luP, qrP, svdP } from "../../src/primitives/linalg-factor.js";
import { triangularSolveP } from "../../src/primitives/linalg-solve.js";
import { close, throwsWith } from "../helpers.js";

const p = { leftSide: true, lower: true, transposeA: false, unitDiagonal: false };
const m33 = np.eye(3), m32 = np.ones([3, 2]);

test("triangular_solve rejects operands that do not fit, naming the shapes", () => {
  throwsWith(() => bind(triangularSolveP, [np.ones([3, 2]), m32], p), ShapeError, ["triangular_solve", "square", "[3,2]"]);
  throwsWith(() => bind(triangularSolveP, [np.eye(3, undefined, 0, "int32"), m32], p), DTypeError, ["float32 or float64", "int32"]);
  throwsWith(() => bind(triangularSolveP, [m33, np.ones([3])], p), ShapeError, ["b must be a matrix", "[3]"]);
  throwsWith(() => bind(triangularSolveP, [m33, np.ones([3, 2], "float32")], p), DTypeError, ["float64 and float32"]);
  throwsWith(() => bind(triangularSolveP, [m33, m32], { ...p, leftSide: false }), ShapeError, ["[3,3]", "[3,2]", "columns"]);
  throwsWith(() => bind(triangularSolveP, [np.ones([2, 3, 3]), m32], p), ShapeError, ["batch axes"]);
  throwsWith(() => bind(choleskyP, [np.ones([3])]), ShapeError, ["cholesky", "rank >= 2"]);
  throwsWith(() => bind(luP, [np.ones([2, 2], "int32")]), DTypeError, ["lu", "int32"]);
});

test("costs: the usual LAPACK operation counts", () => {
  const a = (shape: number[]) => new ShapedArray(shape, "float64");
  const cost = (prim: typeof luP, shape: number[], params: Record<string, unknown> = {}) => {
    const ins = [a(shape)];
    return prim.cost(ins, prim.abstractEval(ins, params), params).flops;
  };
  assert.is(cost(choleskyP, [2, 3, 3]), 2 * (9 + 3));
  assert.is(cost(luP, [3, 3]), 18);
  assert.is(cost(qrP as never, [3, 3], { fullMatrices: false }), 36);
  assert.is(cost(eighP, [2, 2]), 72);
  assert.is(cost(svdP as never, [2, 2], { fullMatrices: false, computeUv: true }), 96);
  assert.is(cost(svdP as never, [2, 2], { fullMatrices: false, computeUv: false }), Math.round(32 - 32 / 3));
  const ins = [a([3, 3]), a([3, 2])];
  assert.is(triangularSolveP.cost(ins, triangularSolveP.abstractEval(ins, p), p).flops, 18);
});

test("mixed float32/float64 operands compute in float64", () => {
  const a = np.array([[2, 0], [1, 4]], "float32"), b = np.array([[2], [9]]);
  close(np.linalg.solve(a, b), [[1], [2]], 1e-14);
  assert.is(np.linalg.solve(a, b).dtype, "float64");
  assert.is(np.linalg.solve(np.eye(2), np.astype(b, "float32")).dtype, "float64");
  close(lax.linalg.triangularSolve(a, b, { leftSide: true, lower: true }), [[1], [2]], 1e-14);
  close(lax.linalg.triangularSolve(np.astype(a, "float64"), np.astype(b, "float32"), { leftSide: true, lower: true }), [[1], [2]], 1e-14);
  const [lu, piv] = scipy.linalg.luFactor(np.astype(a, "float64"));
  close(scipy.linalg.luSolve([lu, piv], np.array([2, 9], "float32")), [1, 2], 1e-14);
});

test("the rules' constant matrices stay right past the cache's limits (many sizes, one large)", () => {
  // 40 distinct identities evict the oldest of the 32 cached; 257 x 257 is above the size cached.
  for (const k of [...Array.from({ length: 40 }, (_, i) => i + 1), 1, 2, 257]) {
    const x = np.linalg.inv(np.multiply(2, np.eye(k)));
    close(np.sum(x), k / 2, 1e-14, `size ${k}`);
    close(np.sum(np.abs(x)), k / 2, 1e-14, `size ${k}`);
  }
});

test.run();
