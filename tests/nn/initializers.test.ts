// nn.initializers as jax.nn.initializers: shapes, dtypes and determinism per key; fans as JAX's
// _compute_fans; each variance-scaling variant's spread (sample variances within a few standard
// errors of scale / fan, the truncated normal inside two rescaled standard deviations); orthogonal
// matrices (Q^T Q = I, for tall, wide and convolution-shaped kernels); the errors.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { JacobiError, OptionsError, ShapeError, type Tensor, nn, np, random } from "../../src/index.js";
import { computeFans } from "../../src/nn/initializers.js";
import { guardTraceState } from "../guard.js";
import { close, throwsWith } from "../helpers.js";

guardTraceState(test);

const I = nn.initializers;
const key = random.key(0);
const stats = (t: Tensor): [number, number, number] => {
  const v = Array.from(t.toTypedArray() as Float64Array);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length;
  return [mean, variance, Math.max(...v.map(Math.abs))];
};

test("constants, and dtype and determinism of the random ones", () => {
  close(I.zeros(key, [2, 3]), [[0, 0, 0], [0, 0, 0]], 0);
  close(I.ones(key, [2]), [1, 1], 0);
  close(I.constant(-0.5)(key, [1, 2], "float32"), [[-0.5, -0.5]], 0);
  assert.is(I.ones(key, [2], "float32").dtype, "float32");
  const a = I.normal(0.5)(key, [3, 4]);
  close(a, (I.normal(0.5)(key, [3, 4]) as Tensor).tolist(), 0);
  close(a, np.multiply(random.normal(key, [3, 4]), 0.5).tolist(), 0);
  assert.is(I.glorotNormal()(key, [3, 4], "float32").dtype, "float32");
  close(I.uniform(2)(key, [5]), np.multiply(random.uniform(key, [5]), 2).tolist(), 0);
  close(I.heUniform()(key, [4, 3]), np.multiply(random.uniform(key, [4, 3], { minval: -1, maxval: 1 }), Math.sqrt(3 * 2 / 4)).tolist(), 1e-15);
  close(I.lecunNormal()(key, [4, 3]), np.multiply(random.truncatedNormal(key, -2, 2, [4, 3]), Math.sqrt(1 / 4) / 0.87962566103423978).tolist(), 1e-15);
});

test("fans as JAX's _compute_fans: dense, convolution kernels (HWIO), custom and batch axes", () => {
  assert.equal(computeFans("t", [3, 5]), [3, 5]);
  assert.equal(computeFans("t", [3, 3, 4, 8]), [36, 72]);
  assert.equal(computeFans("t", [8, 4, 3, 3], { inAxis: 1, outAxis: 0 }), [36, 72]);
  assert.equal(computeFans("t", [7, 3, 5], { batchAxis: 0 }), [3, 5]);
  assert.equal(computeFans("t", [2, 3, 5], { inAxis: [0, 1] }), [6, 5]);
});

test("variance scaling: each mode and distribution has variance scale / fan", () => {
  const shape = [40, 60, 3];
  const [fi, fo] = computeFans("t", shape);
  const cases: [Parameters<typeof I.varianceScaling>[1], Parameters<typeof I.varianceScaling>[2], number][] = [
    ["fan_in", "normal", 2 / fi],
    ["fan_out", "uniform", 2 / fo],
    ["fan_avg", "truncated_normal", 2 / ((fi + fo) / 2)],
    ["fan_geo", "normal", 2 / Math.sqrt(fi * fo)],
  ];
  for (const [mode, dist, want] of cases) {
    const [mean, variance, maxAbs] = stats(I.varianceScaling(2, mode, dist)(key, shape));
    const n = 7200;
    assert.ok(Math.abs(mean) < 5 * Math.sqrt(want / n), `${mode} ${dist}: mean ${mean}`);
    assert.ok(Math.abs(variance / want - 1) < 5 * Math.sqrt(2 / n) * (dist === "uniform" ? 0.7 : 1), `${mode} ${dist}: variance ${variance}, want ${want}`);
    if (dist === "truncated_normal") assert.ok(maxAbs <= 2 * Math.sqrt(want) / 0.87962566103423978 + 1e-12, `truncated beyond 2 sd: ${maxAbs}`);
    if (dist === "uniform") assert.ok(maxAbs <= Math.sqrt(3 * want), `uniform beyond its bound: ${maxAbs}`);
  }
  // The named ones are variance scalings.
  const named: [typeof I.glorotUniform, number, "normal" | "uniform" | "truncated_normal", "fan_in" | "fan_avg"][] = [
    [I.glorotUniform, 1, "uniform", "fan_avg"], [I.glorotNormal, 1, "truncated_normal", "fan_avg"],
    [I.lecunUniform, 1, "uniform", "fan_in"], [I.lecunNormal, 1, "truncated_normal", "fan_in"],
    [I.heUniform, 2, "uniform", "fan_in"], [I.heNormal, 2, "truncated_normal", "fan_in"],
  ];
  for (const [init, scale, dist, mode] of named) close(init()(key, [4, 6]), I.varianceScaling(scale, mode, dist)(key, [4, 6]).tolist(), 0);
  // Fan in from axis 1 (6) instead of axis 0 (4): the same draws, scaled by sqrt(4 / 6).
  close(I.heNormal({ inAxis: 1, outAxis: 0 })(key, [4, 6]), np.multiply(I.heNormal()(key, [4, 6]), Math.sqrt(4 / 6)).tolist(), 1e-15);
});

test("orthogonal: Q^T Q = I (tall), Q Q^T = I (wide), kernels over their last axis, scale", () => {
  const eye = (n: number) => np.eye(n).tolist();
  const tall = I.orthogonal()(key, [6, 4]);
  close(np.matmul(np.transpose(tall), tall), eye(4), 1e-14);
  const wide = I.orthogonal(2)(key, [3, 5]);
  close(np.matmul(wide, np.transpose(wide)), np.multiply(np.eye(3), 4).tolist(), 1e-14);
  const kernel = I.orthogonal()(key, [3, 3, 2, 4]);
  const m = np.reshape(kernel, [18, 4]);
  close(np.matmul(np.transpose(m), m), eye(4), 1e-14);
  // columnAxis 0: the first axis holds the columns.
  const first = I.orthogonal(1, 0)(key, [3, 5, 2]);
  const f = np.reshape(np.transpose(first, [1, 2, 0]), [10, 3]);
  close(np.matmul(np.transpose(f), f), eye(3), 1e-14);
  // R's diagonal is positive: Q^T A is upper triangular with a positive diagonal.
  const a = random.normal(key, [6, 4]);
  const r = np.matmul(np.transpose(tall), a);
  const rv = r.tolist() as number[][];
  for (let i = 0; i < 4; i++) {
    assert.ok(rv[i][i] > 0, `R[${i}][${i}] = ${rv[i][i]}`);
    for (let j = 0; j < i; j++) assert.ok(Math.abs(rv[i][j]) < 1e-13, `R[${i}][${j}] = ${rv[i][j]}`);
  }
});

test("errors name what is wrong", () => {
  throwsWith(() => I.glorotUniform()(key, [3]), ShapeError, ["at least 2-d"]);
  throwsWith(() => I.glorotUniform({ inAxis: 5 })(key, [3, 4]), ShapeError, ["inAxis 5"]);
  throwsWith(() => I.glorotUniform({ in_axis: 0 } as never), OptionsError, ["in_axis"]);
  throwsWith(() => I.varianceScaling(0, "fan_in", "normal"), JacobiError, ["scale"]);
  throwsWith(() => I.varianceScaling(1, "fan_x" as never, "normal"), JacobiError, ["mode"]);
  throwsWith(() => I.varianceScaling(1, "fan_in", "cauchy" as never), JacobiError, ["distribution"]);
  throwsWith(() => I.constant("1" as never), JacobiError, ["value"]);
  throwsWith(() => I.orthogonal(-1), OptionsError, ["scale"]);
  throwsWith(() => I.orthogonal()(key, [4]), ShapeError, ["at least 2-d"]);
  throwsWith(() => I.orthogonal(1, 3)(key, [4, 2]), ShapeError, ["columnAxis 3"]);
  throwsWith(() => I.normal()(key, [2], "int32" as never), JacobiError, ["int32"]);
});

test.run();
