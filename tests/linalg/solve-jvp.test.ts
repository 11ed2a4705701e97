// The JVP rule of triangular_solve in each of its shapes: the product op(dA) X solved (more rows
// than right-hand sides on the left, fewer on the right; then the tangents of A and B share one
// solve) or the solve multiplied (the other cases), the minus sign on X or on dA, a tangent for A
// only, for B only, or for neither. Derivatives by checkGrads (order 2, both modes) and the JVP
// against a central difference; reverse mode of the GP-style chain cholesky -> choSolve against
// the explicit formula.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { type Tensor, checkGrads, grad, jvp, lax, np, scipy } from "../../src/index.js";
import { Zero } from "../../src/core/primitive.js";
import { triangularSolveP } from "../../src/primitives/linalg-solve.js";
import { close } from "../helpers.js";

const tri = (n: number, lower: boolean, seed: number): Tensor =>
  np.array(Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => ((lower ? j <= i : j >= i) ? (i === j ? 2 + 0.1 * i : 0.3 * Math.sin(seed + 3 * i + j)) : 0))));
const mat = (m: number, k: number, seed: number): Tensor => np.array(Array.from({ length: m }, (_, i) => Array.from({ length: k }, (_, j) => Math.cos(seed + 2 * i + 5 * j))));
const check2 = (f: (...xs: Tensor[]) => unknown, args: Tensor[]) => assert.is(checkGrads(f as never, args, { order: 2 }), undefined);

test("triangular_solve derivatives, every order of the rule's products, lower and upper, unit and transposed", () => {
  // [leftSide, rows of b, columns of b] with n = 3: each side both with the product solved and with the solve multiplied,
  // X smaller and larger than dA.
  const shapes: [boolean, number, number][] = [[true, 3, 1], [true, 3, 5], [false, 1, 3], [false, 5, 3], [false, 3, 3]];
  for (const [leftSide, m, k] of shapes) {
    for (const lower of [true, false]) for (const transposeA of [false, true]) {
      const unitDiagonal = m === 3 && k === 5;
      const p = { leftSide, lower, transposeA, unitDiagonal };
      const a = tri(3, lower, m + k), b = mat(m, k, m * k);
      check2((x: Tensor, y: Tensor) => lax.linalg.triangularSolve(x, y, p), [a, b]);
      // A tangent for A alone (B a constant of the function).
      check2((x: Tensor) => lax.linalg.triangularSolve(x, b, p), [a]);
    }
  }
});

test("triangular_solve JVP: the central difference in A and B together", () => {
  const a = tri(4, true, 1), b = mat(4, 2, 2), da = tri(4, true, 3), db = mat(4, 2, 4);
  const f = (x: Tensor, y: Tensor) => lax.linalg.triangularSolve(x, y, { leftSide: true, lower: true });
  const [, t] = jvp(f, [a, b], [da, db]) as [Tensor, Tensor];
  const h = 1e-6;
  const plus = f(np.add(a, np.multiply(h, da)), np.add(b, np.multiply(h, db)));
  const minus = f(np.subtract(a, np.multiply(h, da)), np.subtract(b, np.multiply(h, db)));
  close(t, np.divide(np.subtract(plus, minus), 2 * h), 1e-8);
});

test("triangular_solve JVP rule: no tangent at all gives a Zero tangent of the output", () => {
  const a = tri(3, true, 5), b = mat(3, 2, 6);
  const p = { leftSide: true, lower: true, transposeA: false, unitDiagonal: false };
  const rule = triangularSolveP.jvp;
  if (rule === undefined) throw new Error("triangular_solve has no JVP rule");
  const [[x], [t]] = rule([a, b], [new Zero(a.aval.strong()), new Zero(b.aval.strong())], p);
  close(x, lax.linalg.triangularSolve(a, b, p), 0);
  assert.instance(t, Zero);
  assert.equal((t as Zero).aval.shape, [3, 2]);
});

test("the GP marginal likelihood's gradient through cholesky and choSolve: the formula 0.5 tr((a a^T - K^-1) dK)", () => {
  const n = 40;
  const xs = Array.from({ length: n }, (_, i) => (5 * i) / n);
  const y = np.array(xs.map((x) => Math.sin(x)));
  const d2 = np.array(xs.map((xi) => xs.map((xj) => (xi - xj) ** 2)));
  const eye = np.eye(n);
  const kernel = (logEll: Tensor) => np.add(np.exp(np.multiply(-0.5, np.multiply(d2, np.exp(np.multiply(-2, logEll))))), np.multiply(0.1, eye));
  const lml = (logEll: Tensor) => {
    const l = np.linalg.cholesky(kernel(logEll));
    const alpha = scipy.linalg.choSolve([l, true], y);
    return np.subtract(np.multiply(-0.5, np.dot(y, alpha)), np.sum(np.log(np.sum(np.multiply(l, eye), 1))));
  };
  const t = np.array(0.3);
  const k = kernel(t), kinv = np.linalg.inv(k), alpha = np.matmul(kinv, y);
  const dk = np.multiply(np.subtract(k, np.multiply(0.1, eye)), np.multiply(d2, Math.exp(-0.6)));
  const w = np.subtract(np.multiply(np.reshape(alpha, [n, 1]), np.reshape(alpha, [1, n])), kinv);
  close(grad(lml)(t), np.multiply(0.5, np.sum(np.multiply(w, dk))), 1e-10);
});

test.run();
