// multivariateNormal and orthogonal, and the factorizations under them (Cholesky, a lower
// triangular solve, sign-corrected QR) against exact answers, sample moments within 5 standard errors, orthogonal
// matrices orthogonal and Haar-like, gradients through the Cholesky factor, jit and vmap.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { JacobiError, ShapeError, checkGrads, grad, jit, np, vmap } from "../../src/index.js";
import { random } from "../../src/random/index.js";
import { cholesky, positiveQ, solveLower } from "../../src/random/linalg.js";
import type { Tensor } from "../../src/core/tensor.js";
import { close, throwsWith } from "../helpers.js";
import { mean, momentsAgree } from "./stats.js";

const L3 = [[2, 0, 0], [1, 2, 0], [0.2, 0.4, 1.5]];
const A3 = np.matmul(np.array(L3), np.transpose(np.array(L3)));

test("Cholesky, forward substitution and positive-diagonal QR", () => {
  close(cholesky(A3), L3, 1e-15);
  // Batched, and NaN where not positive definite.
  const batched = cholesky(np.stack([A3, np.multiply(A3, 4)])).tolist() as number[][][];
  close(batched[1], L3.map((r) => r.map((v) => 2 * v)), 1e-15);
  assert.ok(Number.isNaN((cholesky(np.array([[1, 2], [2, 1]])).tolist() as number[][])[1][1]));
  close(np.matmul(np.array(L3), solveLower(np.array(L3), np.array([1, -2, 3]))), [1, -2, 3], 1e-15);
  const a = np.array([[[1, 2], [3, 4]], [[2, -1], [1, 3]]]);
  const q = positiveQ(a);
  close(np.matmul(np.transpose(q, [0, 2, 1]), q), [[[1, 0], [0, 1]], [[1, 0], [0, 1]]], 1e-15);
  // R = Q^T A is upper triangular with a positive diagonal.
  const r = np.matmul(np.transpose(q, [0, 2, 1]), a).tolist() as number[][][];
  for (const m of r) {
    assert.ok(Math.abs(m[1][0]) < 1e-15 && m[0][0] > 0 && m[1][1] > 0);
  }
});

test("multivariateNormal: mean + cholesky(cov) z, moments within 5 standard errors", () => {
  const k = random.key(50);
  const mu = [1, -2, 0.5];
  const x = random.multivariateNormal(k, np.array(mu), A3, [8000]);
  assert.equal(x.shape, [8000, 3]);
  // Exactly mean + L z for JAX's z = normal(key, shape + [n]).
  const z = random.normal(k, [8000, 3]);
  close(x, np.add(np.array(mu), np.matmul(z, np.transpose(np.array(L3)))), 1e-14);
  const rows = x.tolist() as number[][];
  const cov = A3.tolist() as number[][];
  for (let i = 0; i < 3; i++) {
    const col = rows.map((r) => r[i]);
    momentsAgree(col, mu[i], cov[i][i], 3 * cov[i][i] ** 2, `component ${i}`);
  }
  // The covariance of components 0 and 1: E[(x0 - m0)(x1 - m1)] = cov[0][1].
  const prod = rows.map((r) => (r[0] - mu[0]) * (r[1] - mu[1]));
  const c01 = cov[0][1], varProd = cov[0][0] * cov[1][1] + c01 * c01;
  assert.ok(Math.abs(mean(prod) - c01) < 5 * Math.sqrt(varProd / prod.length), `cov01 ${mean(prod)}`);
});

test("multivariateNormal: shapes, batches, dtypes and errors", () => {
  const k = random.key(51);
  assert.equal(random.multivariateNormal(k, np.zeros([3]), A3).shape, [3]);
  assert.equal(random.multivariateNormal(k, np.zeros([2, 3]), A3).shape, [2, 3]);
  assert.equal(random.multivariateNormal(k, np.zeros([3]), np.stack([A3, A3])).shape, [2, 3]);
  assert.equal(random.multivariateNormal(k, np.zeros([3]), A3, [4, 2]).shape, [4, 2, 3]);
  assert.is(random.multivariateNormal(k, np.zeros([3], "float32"), np.astype(A3, "float32")).dtype, "float32");
  assert.is(random.multivariateNormal(k, np.zeros([3]), A3, [], { dtype: "float32" }).dtype, "float32");
  throwsWith(() => random.multivariateNormal(k, np.zeros([3]), np.eye(2)), ShapeError, ["cov must have shape [..., 3, 3]"]);
  throwsWith(() => random.multivariateNormal(k, 1, np.eye(2)), ShapeError, ["mean must have at least one dimension"]);
  throwsWith(() => random.multivariateNormal(k, np.zeros([3]), A3, [], { method: "svd" as never }), JacobiError, ['method "svd"']);
  throwsWith(() => random.multivariateNormal(k, np.zeros([2, 3]), A3, [5, 4]), ShapeError, ["random.multivariateNormal"]);
});

test("multivariateNormal differentiates in mean and cov (through the Cholesky factor)", () => {
  const k = random.key(52);
  const f = (m: Tensor, c: Tensor) => np.sum(np.multiply(random.multivariateNormal(k, m, c, [4]), np.array([1, 2, 3])));
  checkGrads((c: Tensor) => f(np.zeros([3]), c), [A3], { order: 1 });
  const gm = grad(f)(np.zeros([3]), A3);
  assert.equal(gm.tolist(), [4, 8, 12]);
});

test("orthogonal: Q^T Q = I, Haar-like entries, jit and vmap", () => {
  const k = random.key(53);
  const q = random.orthogonal(k, 4, [500]);
  assert.equal(q.shape, [500, 4, 4]);
  const qtq = np.matmul(np.transpose(q, [0, 2, 1]), q).tolist() as number[][][];
  assert.ok(qtq.every((m) => m.every((r, i) => r.every((v, j) => Math.abs(v - (i === j ? 1 : 0)) < 1e-13))));
  // Entries of a Haar orthogonal n x n matrix have mean 0 and variance 1/n; E[q^4] = 3 / (n (n + 2)).
  const entries = (q.tolist() as number[][][]).map((m) => m[0][0]);
  momentsAgree(entries, 0, 1 / 4, 3 / (4 * 6), "q[0][0]");
  assert.equal(random.orthogonal(k, 3).shape, [3, 3]);
  assert.is(random.orthogonal(k, 2, [], { dtype: "float32" }).dtype, "float32");
  throwsWith(() => random.orthogonal(k, 2.5), JacobiError, ["random.orthogonal", "n must be"]);
  const f = (kk: Tensor) => random.orthogonal(kk, 3);
  assert.equal(jit(f)(k).tolist(), f(k).tolist());
  const keys = random.split(k, 2);
  const v = vmap(f)(keys).tolist() as number[][][];
  (keys.tolist() as number[][]).forEach((row, i) => assert.equal(v[i], f(np.array(new Uint32Array(row))).tolist()));
  const g = (kk: Tensor) => random.multivariateNormal(kk, np.zeros([3]), A3);
  assert.equal(jit(g)(k).tolist(), g(k).tolist());
  assert.equal(vmap(g)(keys).tolist(), (keys.tolist() as number[][]).map((row) => g(np.array(new Uint32Array(row))).tolist()));
});

test.run();
