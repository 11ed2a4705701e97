// scipy.stats distributions against SciPy (tests/fixtures/gen-stats.py), their derivatives in the
// values and the parameters by checkGrads, and argument promotion and broadcasting.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { checkGrads, grad, jit, np, vmap } from "../../src/index.js";
import { scipy } from "../../src/scipy/index.js";
import type { Tensor } from "../../src/core/tensor.js";

interface Case { dist: string; method: string; args: number[][]; y: (number | string)[] }
interface Mvn { x: number[] | number[][]; mean: number[]; cov: number[][] | number[][][]; y: number[] }
const fx: { cases: Case[]; multivariate_normal: Mvn[] } = JSON.parse(readFileSync(new URL("../fixtures/stats.json", import.meta.url), "utf8"));
const dists = scipy.stats as unknown as Record<string, Record<string, (...a: unknown[]) => Tensor>>;

test("every method against SciPy", () => {
  for (const c of fx.cases) {
    const f = dists[c.dist][c.method];
    const got = f(...c.args.map((a) => (a.length === 1 ? a[0] : np.array(a)))).tolist() as number[];
    const what = `${c.dist}.${c.method}`;
    assert.is(got.length, c.y.length, what);
    got.forEach((g, i) => {
      const w = Number(c.y[i]);
      if (!Number.isFinite(w)) return assert.ok(Object.is(g, w) || (Number.isNaN(w) && Number.isNaN(g)), `${what}[${i}]: got ${g}, want ${w}`);
      assert.ok(Math.abs(g - w) <= 1e-13 * Math.max(1, Math.abs(w)), `${what}[${i}] (${c.args[0][i]}): got ${g}, want ${w}`);
    });
  }
});

test("differentiable in the values and the parameters (checkGrads, both modes)", () => {
  const x = np.array([-0.7, 0.4, 1.9]);
  const S = scipy.stats;
  checkGrads((v: Tensor, l: Tensor, s: Tensor) => S.norm.logpdf(v, l, s), [x, np.array(0.3), np.array(1.4)]);
  checkGrads((v: Tensor, l: Tensor, s: Tensor) => S.norm.cdf(v, l, s), [x, np.array(0.3), np.array(1.4)]);
  checkGrads((v: Tensor) => S.norm.logcdf(v), [np.array([-25, -3, 0.5, 4])], { order: 1 });
  checkGrads((q: Tensor) => S.norm.ppf(q, 1, 2), [np.array([0.01, 0.3, 0.9])], { order: 1 });
  checkGrads((v: Tensor, s: Tensor) => S.expon.logpdf(v, 0, s), [np.array([0.4, 1.9]), np.array(1.4)]);
  checkGrads((v: Tensor, s: Tensor) => S.expon.cdf(v, 0, s), [np.array([0.4, 1.9]), np.array(1.4)]);
  checkGrads((v: Tensor, l: Tensor, s: Tensor) => S.laplace.logpdf(v, l, s), [x, np.array(0.1), np.array(0.8)]);
  checkGrads((v: Tensor, l: Tensor, s: Tensor) => S.cauchy.logpdf(v, l, s), [x, np.array(0.1), np.array(0.8)]);
  checkGrads((v: Tensor, d: Tensor, s: Tensor) => S.t.logpdf(v, d, 0, s), [x, np.array(3.5), np.array(1.2)]);
  checkGrads((v: Tensor, a: Tensor, s: Tensor) => S.gamma.logpdf(v, a, 0, s), [np.array([0.4, 1.9]), np.array(2.5), np.array(1.2)]);
  checkGrads((v: Tensor, a: Tensor, b: Tensor) => S.beta.logpdf(v, a, b), [np.array([0.2, 0.7]), np.array(2.5), np.array(1.5)]);
  checkGrads((p: Tensor) => S.bernoulli.logpmf(np.array([0, 1, 1]), p), [np.array(0.3)]);
  checkGrads((m: Tensor) => S.poisson.logpmf(np.array([0, 2, 7]), m), [np.array(3.5)]);
  checkGrads((v: Tensor) => S.uniform.cdf(v, -1, 3), [np.array([-0.5, 1.2])]);
  // d/dmu of the normal log density is (x - mu) / sigma^2.
  const g = grad((mu: Tensor) => np.sum(S.norm.logpdf(x, mu, 2)))(np.array(0.5)).item();
  assert.ok(Math.abs(g - [-0.7, 0.4, 1.9].reduce((a, v) => a + (v - 0.5) / 4, 0)) < 1e-14);
});

test("multivariateNormal.logpdf and pdf against SciPy, batched over x and over cov, differentiable", () => {
  const mvn = scipy.stats.multivariateNormal;
  for (const c of fx.multivariate_normal) {
    const got = mvn.logpdf(np.array(c.x), np.array(c.mean), np.array(c.cov)).tolist() as number[];
    got.forEach((g, i) => assert.ok(Math.abs(g - c.y[i]) <= 1e-13 * Math.abs(c.y[i]), `mvn logpdf ${i}: ${g} vs ${c.y[i]}`));
  }
  const c0 = fx.multivariate_normal[0];
  assert.ok(Math.abs(mvn.pdf(np.array(c0.x[0] as number[]), np.array(c0.mean), np.array(c0.cov)).item() - Math.exp(c0.y[0])) < 1e-15);
  checkGrads((x: Tensor, m: Tensor, c: Tensor) => mvn.logpdf(x, m, c), [np.array([0.3, -0.2, 1.1]), np.array(c0.mean), np.array(c0.cov)], { order: 1 });
  // d/dx logpdf = -cov^-1 (x - mean): at the mean it is zero.
  assert.equal(grad((x: Tensor) => mvn.logpdf(x, np.array(c0.mean), np.array(c0.cov)))(np.array(c0.mean)).tolist().map((v: number) => Math.abs(v) < 1e-15), [true, true, true]);
  assert.throws(() => mvn.logpdf(np.array([1, 2, 3]), np.zeros([3]), np.eye(2)), /cov must have shape \[\.\.\., 3, 3\]/);
});

test("parameters broadcast; integers are promoted; jit and vmap agree", () => {
  const S = scipy.stats;
  const lp = S.norm.logpdf(np.array([[0], [1]]), np.array([0, 1, 2]), 1);
  assert.equal(lp.shape, [2, 3]);
  assert.is(S.poisson.logpmf(np.array([1, 2], "int32"), 3).dtype, "float64");
  const f = (v: Tensor) => S.gamma.logpdf(v, 2.5);
  const v = np.array([0.5, 1.5, 2.5]);
  assert.equal(jit(f)(v).tolist(), f(v).tolist());
  assert.equal(vmap(f)(v).tolist(), f(v).tolist());
});

test.run();
