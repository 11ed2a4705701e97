// gamma, loggamma, beta, dirichlet and poisson: exact CDFs by Kolmogorov–Smirnov, moments within 5
// standard errors, JAX's implicit derivative in the shape parameter, and jit/vmap.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { DTypeError, JacobiError, ShapeError, grad, jit, jvp, np, vmap } from "../../src/index.js";
import { random } from "../../src/random/index.js";
import { randomGammaGrad } from "../../src/primitives/special.js";
import type { Tensor } from "../../src/core/tensor.js";
import { throwsWith } from "../helpers.js";
import { betaCdf, betaMoments, gammaCdf, mean, momentsAgree, passesKs, variance } from "./stats.js";

const vals = (t: Tensor): number[] => t.tolist() as number[];
const fx = JSON.parse(readFileSync(new URL("../fixtures/special.json", import.meta.url), "utf8"));

test("gamma: KS against P(a, x) and moments, for a below and above 1", () => {
  for (const [a, n] of [[0.3, 3000], [1, 3000], [4.5, 3000]] as const) {
    const g = vals(random.gamma(random.key(20), a, [n]));
    passesKs(g, (x) => gammaCdf(a, x), `gamma(${a})`);
    momentsAgree(g, a, a, 3 * a * (a + 2), `gamma(${a})`);
  }
  // Shape defaults to a's; a broadcasts against a given shape.
  assert.equal(random.gamma(random.key(1), np.array([1, 2, 3])).shape, [3]);
  assert.equal(random.gamma(random.key(1), np.array([1, 2]), [4, 2]).shape, [4, 2]);
  assert.equal(random.gamma(random.key(1), 2, [0]).shape, [0]);
  assert.is(random.gamma(random.key(1), 2, [2], { dtype: "float32" }).dtype, "float32");
  throwsWith(() => random.gamma(random.key(1), np.array([1, 2]), [3]), ShapeError, ["random.gamma"]);
});

test("loggamma: the log of gamma draws, finite for tiny a", () => {
  const k = random.key(21);
  const lg = vals(random.loggamma(k, 0.5, [5]));
  const g = vals(random.gamma(k, 0.5, [5]));
  // The two share keys but boost differently (exponential vs uniform): compare distributions.
  assert.is(lg.length, g.length);
  const tiny = vals(random.loggamma(k, 1e-3, [500]));
  assert.ok(tiny.every(Number.isFinite));
  passesKs(vals(random.loggamma(random.key(22), 2, [3000])).map(Math.exp), (x) => gammaCdf(2, x), "exp(loggamma(2))");
});

test("beta and dirichlet: KS, moments, the simplex", () => {
  const [a, b] = [2, 3.5];
  const s = vals(random.beta(random.key(23), a, b, [3000]));
  passesKs(s, (x) => betaCdf(a, b, x), "beta(2, 3.5)");
  const [m, v, m4] = betaMoments(a, b);
  momentsAgree(s, m, v, m4, "beta");
  const small = vals(random.beta(random.key(24), 0.4, 0.6, [3000]));
  passesKs(small, (x) => betaCdf(0.4, 0.6, x), "beta(0.4, 0.6)");
  const alpha = [1.5, 0.7, 3];
  const d = random.dirichlet(random.key(25), np.array(alpha), [3000]).tolist() as number[][];
  assert.ok(d.every((r) => Math.abs(r.reduce((x, y) => x + y) - 1) < 1e-12 && r.every((x) => x > 0)));
  const a0 = alpha.reduce((x, y) => x + y);
  alpha.forEach((ai, i) => {
    const col = d.map((r) => r[i]);
    const [bm, bv, bm4] = betaMoments(ai, a0 - ai);
    momentsAgree(col, bm, bv, bm4, `dirichlet component ${i}`);
  });
  assert.equal(random.dirichlet(random.key(25), np.array([[1, 2], [3, 4]])).shape, [2, 2]);
  throwsWith(() => random.dirichlet(random.key(25), 1.5), ShapeError, ["random.dirichlet", "at least one dimension"]);
});

test("poisson: Knuth below 10, rejection above, moments and exact zeros", () => {
  for (const lam of [0.7, 4, 12, 150]) {
    const p = vals(random.poisson(random.key(26), lam, [4000]));
    assert.ok(p.every((x) => Number.isInteger(x) && x >= 0));
    momentsAgree(p, lam, lam, lam * (1 + 3 * lam), `poisson(${lam})`);
  }
  assert.equal(random.poisson(random.key(27), np.array([0, 0])).tolist(), [0, 0]);
  assert.is(random.poisson(random.key(27), 3, [2]).dtype, "int32");
  assert.equal(random.poisson(random.key(27), 3).shape, []);
  assert.equal(random.poisson(random.key(27), 30).shape, []);
  throwsWith(() => random.poisson(random.key(27), 3, [2], { dtype: "float64" }), DTypeError, ["random.poisson", "int32"]);
});

test("gamma's derivative in a: JAX's implicit rule, unbiased for d E[x]/da = 1", () => {
  // The primitive against mpmath: -(dP/da)/(dP/dx).
  const t = fx.gamma_grad;
  const got = vals(randomGammaGrad(np.array(t.a), np.array(t.x)));
  got.forEach((g, i) => assert.ok(Math.abs(g - t.y[i]) <= 1e-13 * Math.abs(t.y[i]), `gamma grad at a=${t.a[i]}, x=${t.x[i]}: ${g} vs ${t.y[i]}`));
  assert.equal(vals(randomGammaGrad(np.array([1, -1, 1]), np.array([0, 1, NaN]))), [0, NaN, NaN]);
  throwsWith(() => randomGammaGrad(np.array([1], "int32"), np.array([1], "int32")), DTypeError, ["random_gamma_grad", "int32"]);
  const k = random.key(28);
  const a = np.full([2000], 2.5);
  const draws = random.gamma(k, a);
  const g = grad((aa: Tensor) => np.sum(random.gamma(k, aa)))(a);
  assert.equal(vals(g), vals(randomGammaGrad(a, draws)));
  const gs = vals(g);
  assert.ok(Math.abs(mean(gs) - 1) < 5 * Math.sqrt(variance(gs) / gs.length), `mean dx/da ${mean(gs)}`);
  // Forward mode agrees; beta's derivative in a is unbiased for d/da a/(a+b) = b/(a+b)^2.
  const [, tangent] = jvp((aa: Tensor) => random.gamma(k, aa), [np.full([3], 2.5)], [np.ones([3])]);
  assert.equal(vals(tangent), gs.slice(0, 3));
  const bb = vals(vmap((kk: Tensor) => grad((aa: Tensor) => random.beta(kk, aa, 3))(np.array(2.0)))(random.split(k, 2000)));
  assert.ok(Math.abs(mean(bb) - 3 / 25) < 5 * Math.sqrt(variance(bb) / bb.length), `mean d beta/da ${mean(bb)}`);
  throwsWith(() => grad((aa: Tensor) => np.sum(grad((b: Tensor) => np.sum(random.gamma(k, b)))(aa)))(np.array([2.0])), JacobiError, ["random_gamma_grad", "second derivatives"]);
});

test("gamma-family samplers under jit and vmap give the eager numbers", () => {
  const k = random.key(29);
  const fns: ((k: Tensor) => Tensor)[] = [
    (key) => random.gamma(key, np.array([0.5, 3])),
    (key) => random.beta(key, 2, 3, [2]),
    (key) => random.dirichlet(key, np.array([1, 2, 3])),
    (key) => random.poisson(key, np.array([3, 30])),
  ];
  const keys = random.split(k, 3);
  for (const f of fns) {
    assert.equal(jit(f)(k).tolist(), f(k).tolist());
    const v = vmap(f)(keys).tolist() as unknown[];
    (keys.tolist() as number[][]).forEach((r, i) => assert.equal(v[i], f(np.array(new Uint32Array(r))).tolist()));
  }
});

test.run();
