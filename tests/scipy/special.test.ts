// scipy.special against SciPy (tests/fixtures/gen-special.py): the primitives' wrappers, the
// normal CDF family in both tails, the composites, and their derivatives (ndtri's custom rule,
// finite gradients of xlogy and xlog1py at x = 0).
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { checkGrads, grad, np } from "../../src/index.js";
import { scipy } from "../../src/scipy/index.js";
import type { Tensor } from "../../src/core/tensor.js";

const sp = scipy.special;
const fx = JSON.parse(readFileSync(new URL("../fixtures/special.json", import.meta.url), "utf8"));

function agrees(got: number[], want: number[], tol: number, what: string): void {
  assert.is(got.length, want.length, what);
  got.forEach((g, i) => {
    const w = want[i];
    if (w === 0) return assert.ok(Math.abs(g) <= tol, `${what}[${i}]: got ${g}, want 0`);
    assert.ok(Math.abs(g - w) <= tol * Math.abs(w), `${what}[${i}]: got ${g}, want ${w} (relative error ${Math.abs(g - w) / Math.abs(w)})`);
  });
}
const L = (t: Tensor) => t.tolist() as number[];

test("the primitives' wrappers, with integer inputs promoted", () => {
  agrees(L(sp.erf(np.array(fx.erf.x))), fx.erf.y, 2e-15, "erf");
  agrees(L(sp.erfc(np.array(fx.erfc.x))), fx.erfc.y, 4e-15, "erfc");
  agrees(L(sp.erfinv(np.array(fx.erfinv.x))), fx.erfinv.y, 1e-15, "erfinv");
  agrees(L(sp.gammaln(np.array(fx.gammaln.x.slice(0, 19)))), fx.gammaln.y.slice(0, 19), 1e-14, "gammaln");
  agrees(L(sp.digamma(np.array(fx.digamma.x))), fx.digamma.y, 2e-14, "digamma");
  assert.is(sp.erf(np.array([1, 2], "int32")).dtype, "float64");
  assert.is(sp.erf(1).item(), L(sp.erf(np.array([1])))[0]);
});

test("ndtr, ndtri and logNdtr to rounding, deep into both tails", () => {
  agrees(L(sp.ndtr(np.array(fx.ndtr.x))), fx.ndtr.y, 1e-15, "ndtr");
  agrees(L(sp.ndtri(np.array(fx.ndtri.x))), fx.ndtri.y, 1e-15, "ndtri");
  agrees(L(sp.logNdtr(np.array(fx.log_ndtr.x))), fx.log_ndtr.y, 1e-15, "logNdtr");
  assert.equal(L(sp.ndtri(np.array([0, 1, -0.5, 1.5, NaN, 0.5]))), [-Infinity, Infinity, NaN, NaN, NaN, 0]);
  // Inverse of each other, up to ndtr's conditioning |x phi(x) / Phi(x)| ~ x^2 (900 at p = 1e-200).
  const p = np.array([1e-200, 1e-5, 0.25, 0.75, 1 - 1e-9]);
  agrees(L(sp.ndtr(sp.ndtri(p))), L(p), 1e-12, "ndtr(ndtri(p))");
});

test("logit, expit, xlogy, xlog1py, logsumexp", () => {
  agrees(L(sp.logit(np.array(fx.logit.x))), fx.logit.y, 1e-15, "logit");
  agrees(L(sp.expit(np.array(fx.expit.x))), fx.expit.y, 1e-15, "expit");
  agrees(L(sp.xlogy(np.array(fx.xlogy.x), np.array(fx.xlogy.x2))), fx.xlogy.y, 1e-15, "xlogy");
  agrees(L(sp.xlog1py(np.array(fx.xlog1py.x), np.array(fx.xlog1py.x2))), fx.xlog1py.y, 1e-15, "xlog1py");
  agrees(L(sp.logsumexp(np.array(fx.logsumexp.x), 1)), fx.logsumexp.y, 1e-15, "logsumexp");
  agrees([sp.logsumexp(np.array(fx.logsumexp.x)).item()], [fx.logsumexp.all], 1e-15, "logsumexp over all");
});

test("gammainc, gammaincc, betainc: broadcasting and promotion over the primitives", () => {
  agrees(L(sp.gammainc(np.array(fx.gammainc.a), np.array(fx.gammainc.x))), fx.gammainc.y, 2e-14, "gammainc");
  agrees(L(sp.gammaincc(np.array(fx.gammaincc.a), np.array(fx.gammaincc.x))), fx.gammaincc.y, 2e-14, "gammaincc");
  agrees(L(sp.betainc(np.array(fx.betainc.a), np.array(fx.betainc.b), np.array(fx.betainc.x))), fx.betainc.y, 2e-14, "betainc");
  assert.equal(sp.gammainc(2, np.array([[1], [2]], "int32")).shape, [2, 1]);
  assert.equal(sp.betainc(2, 3, np.array([0.1, 0.2])).shape, [2]);
});

test("derivatives: ndtri by its custom rule, the tails, and no NaN from xlogy at x = 0", () => {
  checkGrads(sp.ndtri, [np.array([1e-3, 0.2, 0.5, 0.93])], { order: 1 });
  checkGrads(sp.ndtri, [np.array([0.2, 0.7])]);
  const x = sp.ndtri(np.array([0.3])).tolist()[0];
  const g = grad((p: Tensor) => np.sum(sp.ndtri(p)))(np.array([0.3])).tolist()[0];
  assert.ok(Math.abs(g - Math.sqrt(2 * Math.PI) * Math.exp(0.5 * x * x)) < 1e-14);
  checkGrads(sp.logNdtr, [np.array([-30, -19, -2, 0.5, 3, 9])], { order: 1 });
  checkGrads(sp.ndtr, [np.array([-3, 0.2, 2])]);
  checkGrads(sp.logit, [np.array([0.2, 0.6])]);
  checkGrads(sp.expit, [np.array([-2, 0.6])]);
  checkGrads((a: Tensor, b: Tensor) => sp.xlogy(a, b), [np.array([0.5, 2]), np.array([1.5, 0.3])]);
  checkGrads((a: Tensor, b: Tensor) => sp.xlog1py(a, b), [np.array([0.5, 2]), np.array([1.5, 0.3])]);
  // JAX's rule: d/dx = log(y), d/dy = x / y, so (0, 0) gives -inf and NaN there, as in JAX.
  const [gx, gy] = grad((a: Tensor, b: Tensor) => np.sum(sp.xlogy(a, b)), { argnums: [0, 1] })(np.array([0, 1]), np.array([0, 2]));
  assert.equal(L(gx), [-Infinity, Math.log(2)]);
  assert.equal(L(gy), [NaN, 0.5]);
  const [gx1, gy1] = grad((a: Tensor, b: Tensor) => np.sum(sp.xlog1py(a, b)), { argnums: [0, 1] })(np.array([0, 1]), np.array([1, 1]));
  assert.equal(L(gx1), [Math.log(2), Math.log(2)]);
  assert.equal(L(gy1), [0, 0.5]);
});

test.run();
