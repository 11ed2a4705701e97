// Samplers: exact CDFs by Kolmogorov–Smirnov, moments within 5 standard errors, JAX's argument
// conventions and errors, and composition with jit, vmap and grad. Seeds are fixed.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { DTypeError, JacobiError, ShapeError, grad, jit, np, vmap } from "../../src/index.js";
import { random } from "../../src/random/index.js";
import * as K from "../../src/backend/special.js";
import type { Tensor } from "../../src/core/tensor.js";
import { throwsWith } from "../helpers.js";
import { momentsAgree, passesKs } from "./stats.js";

const N = 20000;
const vals = (t: Tensor): number[] => t.tolist() as number[];
const Phi = (x: number) => 0.5 * K.erfc(-x / Math.SQRT2);
const phi = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
const EULER = 0.5772156649015329;

test("uniform, normal, exponential: KS against the exact CDF, and moments", () => {
  const u = vals(random.uniform(random.key(1), [N]));
  passesKs(u, (x) => x, "uniform");
  momentsAgree(u, 0.5, 1 / 12, 1 / 80, "uniform");
  const u2 = vals(random.uniform(random.key(1), [N], { minval: -3, maxval: 5 }));
  passesKs(u2, (x) => (x + 3) / 8, "uniform(-3, 5)");
  const z = vals(random.normal(random.key(2), [N]));
  passesKs(z, Phi, "normal");
  momentsAgree(z, 0, 1, 3, "normal");
  const z32 = vals(random.normal(random.key(2), [N], { dtype: "float32" }));
  passesKs(z32, Phi, "normal float32");
  const e = vals(random.exponential(random.key(3), [N]));
  passesKs(e, (x) => 1 - Math.exp(-x), "exponential");
  momentsAgree(e, 1, 1, 9, "exponential");
});

test("gumbel, laplace, logistic: KS and moments", () => {
  const g = vals(random.gumbel(random.key(4), [N]));
  passesKs(g, (x) => Math.exp(-Math.exp(-x)), "gumbel");
  const vg = Math.PI ** 2 / 6;
  momentsAgree(g, EULER, vg, 5.4 * vg * vg, "gumbel");
  const l = vals(random.laplace(random.key(5), [N]));
  passesKs(l, (x) => (x < 0 ? 0.5 * Math.exp(x) : 1 - 0.5 * Math.exp(-x)), "laplace");
  momentsAgree(l, 0, 2, 24, "laplace");
  const s = vals(random.logistic(random.key(6), [N]));
  passesKs(s, (x) => 1 / (1 + Math.exp(-x)), "logistic");
  const vs = Math.PI ** 2 / 3;
  momentsAgree(s, 0, vs, 4.2 * vs * vs, "logistic");
});

test("truncatedNormal: KS against the truncated CDF, moments, bounds", () => {
  const [a, b] = [-1, 2];
  const t = vals(random.truncatedNormal(random.key(7), a, b, [N]));
  const Z = Phi(b) - Phi(a);
  passesKs(t, (x) => (Phi(x) - Phi(a)) / Z, "truncatedNormal");
  // Moments by Simpson's rule on [a, b].
  const m = (k: number, c = 0) => {
    const n = 2000, h = (b - a) / n;
    let s = 0;
    for (let i = 0; i <= n; i++) {
      const x = a + i * h, w = i === 0 || i === n ? 1 : i % 2 ? 4 : 2;
      s += w * (x - c) ** k * phi(x);
    }
    return (s * h) / 3 / Z;
  };
  const mu = m(1);
  momentsAgree(t, mu, m(2, mu), m(4, mu), "truncatedNormal");
  assert.ok(t.every((x) => x >= a && x <= b));
  // Shape defaults to the bounds' broadcast shape.
  assert.equal(random.truncatedNormal(random.key(7), np.array([-1, 0, 1]), 3).shape, [3]);
});

test("bernoulli, rademacher, randint, categorical: frequencies within 5 standard errors", () => {
  const p = 0.3;
  const b = vals(random.bernoulli(random.key(8), p, [N])).map(Number);
  momentsAgree(b, p, p * (1 - p), p * (1 - p) * (1 - 3 * p + 3 * p * p), "bernoulli");
  assert.is(random.bernoulli(random.key(8), np.array([0.1, 0.9])).dtype, "bool");
  assert.equal(random.bernoulli(random.key(8), np.array([0, 1])).tolist(), [false, true]);
  const r = vals(random.rademacher(random.key(9), [N]));
  assert.ok(r.every((v) => v === 1 || v === -1));
  momentsAgree(r, 0, 1, 1, "rademacher");
  assert.is(random.rademacher(random.key(9), [2], { dtype: "float32" }).dtype, "float32");
  const ri = vals(random.randint(random.key(10), [N], 0, 10));
  assert.ok(ri.every((v) => Number.isInteger(v) && v >= 0 && v < 10));
  const du = Array.from({ length: 10 }, (_, i) => i);
  const dm4 = du.reduce((s, v) => s + (v - 4.5) ** 4, 0) / 10;
  momentsAgree(ri, 4.5, 8.25, dm4, "randint");
  const neg = vals(random.randint(random.key(10), [200], -5, -2));
  assert.ok(neg.every((v) => v >= -5 && v < -2) && new Set(neg).size === 3);
  // maxval <= minval gives minval, as JAX.
  assert.equal(random.randint(random.key(1), [3], 4, 4).tolist(), [4, 4, 4]);
  // The full int32 range: a span of 2^32 - 1 and maxval past int32's top.
  const wide = vals(random.randint(random.key(11), [2000], -(2 ** 31), 2 ** 31));
  assert.ok(wide.some((v) => v < 0) && wide.some((v) => v > 0));
  const logits = [0.5, -1, 2, 0];
  const probs = logits.map(Math.exp), tot = probs.reduce((x, y) => x + y);
  const cat = vals(random.categorical(random.key(12), np.array(logits), [N]));
  probs.forEach((q, k) => {
    const pk = q / tot;
    momentsAgree(cat.map((c) => (c === k ? 1 : 0)), pk, pk * (1 - pk), pk * (1 - pk) * (1 - 3 * pk + 3 * pk * pk), `categorical ${k}`);
  });
});

test("categorical: batch shapes and axes as JAX", () => {
  const l = np.array([[0, 0, 50], [50, 0, 0]]);
  assert.equal(random.categorical(random.key(0), l).tolist(), [2, 0]);
  const byCol = random.categorical(random.key(0), l, undefined, { axis: 0 }).tolist() as number[];
  assert.equal([byCol[0], byCol[2]], [1, 0]);
  assert.ok(byCol[1] === 0 || byCol[1] === 1);
  assert.equal(random.categorical(random.key(0), l, [5, 2]).shape, [5, 2]);
  assert.is(random.categorical(random.key(0), l).dtype, "int32");
  throwsWith(() => random.categorical(random.key(0), l, [3]), ShapeError, ["random.categorical", "batch shape"]);
  throwsWith(() => random.categorical(random.key(0), np.array(1)), ShapeError, ["at least one dimension"]);
  throwsWith(() => random.categorical(random.key(0), l, undefined, { axis: 2 }), ShapeError, ["axis 2"]);
});

test("reparameterised samples differentiate in mu and sigma", () => {
  const k = random.key(13);
  const z = random.normal(k, [5]);
  const f = (mu: Tensor, sigma: Tensor) => np.sum(np.add(mu, np.multiply(sigma, random.normal(k, [5]))));
  const [dmu, dsigma] = grad(f, { argnums: [0, 1] })(np.array(0.3), np.array(2.0));
  assert.is(dmu.item(), 5);
  assert.ok(Math.abs(dsigma.item() - vals(z).reduce((a, b) => a + b)) < 1e-12);
  // Through uniform's bounds, and truncatedNormal's location in the bounds.
  const du = grad((hi: Tensor) => np.sum(random.uniform(k, [4], { minval: 0, maxval: hi })))(np.array(2.0));
  assert.ok(Math.abs(du.item() - vals(random.uniform(k, [4])).reduce((a, b) => a + b)) < 1e-12);
});

test("samplers under jit and vmap give the eager numbers", () => {
  const k = random.key(14);
  const fns: ((k: Tensor) => Tensor)[] = [
    (key) => random.uniform(key, [3]),
    (key) => random.normal(key, [3], { dtype: "float32" }),
    (key) => random.exponential(key, [2]),
    (key) => random.gumbel(key, [2]),
    (key) => random.laplace(key, [2]),
    (key) => random.logistic(key, [2]),
    (key) => random.bernoulli(key, 0.4, [3]),
    (key) => random.rademacher(key, [3]),
    (key) => random.randint(key, [3], 0, 7),
    (key) => random.truncatedNormal(key, -0.5, 0.5, [2]),
    (key) => random.categorical(key, np.array([0.1, 0.2, 0.3]), [2]),
  ];
  const keys = random.split(k, 3);
  for (const f of fns) {
    assert.equal(jit(f)(k).tolist(), f(k).tolist());
    const v = vmap(f)(keys).tolist() as unknown[];
    (keys.tolist() as number[][]).forEach((row, i) => assert.equal(v[i], f(np.array(new Uint32Array(row))).tolist()));
  }
});

test("arguments: shapes, dtypes and options are checked", () => {
  const k = random.key(0);
  throwsWith(() => random.uniform(k, [2], { dtype: "int32" as never }), DTypeError, ["random.uniform", "floating"]);
  throwsWith(() => random.normal(k, [2], { dtype: "float64", mean: 1 } as never), JacobiError, ['unknown option "mean"']);
  throwsWith(() => random.normal(k, [2], 5 as never), JacobiError, ["options must be an object"]);
  throwsWith(() => random.normal(k, [2], null as never), JacobiError, ["options must be an object, got null"]);
  // Integer probabilities and logits are taken as floats.
  assert.equal(random.bernoulli(k, np.array([0, 1], "int32")).tolist(), [false, true]);
  assert.equal(random.categorical(k, np.array([0, 0, 100], "int32")).item(), 2);
  assert.is(random.gumbel(k, [2], { dtype: "float32" }).dtype, "float32");
  throwsWith(() => random.uniform(k, [2], { minval: np.zeros([2, 2]) }), ShapeError, ["minval", "more dimensions"]);
  throwsWith(() => random.rademacher(k, [2], { dtype: "bool" }), DTypeError, ["rademacher"]);
  throwsWith(() => random.randint(k, [2], 0, 5, { dtype: "float64" }), DTypeError, ["randint", "int32"]);
  assert.equal(random.uniform(k, 3).shape, [3]);
  assert.is(random.uniform(k).shape.length, 0);
});

test.run();
