// The special-function primitives (erf, erfc, erf_inv, lgamma, digamma) and the trigamma
// composite, against SciPy (tests/fixtures/gen-special.py), their derivatives by checkGrads in
// both modes, float32 inputs, and erf_inv's float32 kernel (XLA's single-precision polynomial).
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { DTypeError, JacobiError, checkGrads, grad, jit, lax, np, vmap } from "../../src/index.js";
import * as S from "../../src/primitives/special.js";
import * as K from "../../src/backend/special.js";
import { throwsWith } from "../helpers.js";

type Table = { x: number[]; y: number[] };
const fx: Record<string, Table> = JSON.parse(readFileSync(new URL("../fixtures/special.json", import.meta.url), "utf8"));

/** Every value within `tol` relative (absolute below 1), infinities and NaN exactly. */
function agrees(got: number[], t: Table, tol: number, what: string): void {
  got.forEach((g, i) => {
    const w = t.y[i];
    if (!Number.isFinite(w)) return assert.ok(Object.is(g, w) || (Number.isNaN(w) && Number.isNaN(g)), `${what}(${t.x[i]}): got ${g}, want ${w}`);
    assert.ok(Math.abs(g - w) <= tol * Math.max(1, Math.abs(w)) || Math.abs(g - w) <= tol * Math.abs(w), `${what}(${t.x[i]}): got ${g}, want ${w} (error ${Math.abs(g - w) / Math.abs(w)})`);
  });
}
const relErr = (got: number[], t: Table): number => Math.max(...got.map((g, i) => (t.y[i] === 0 ? Math.abs(g) : Math.abs(g - t.y[i]) / Math.abs(t.y[i]))));

test("values against SciPy: erf, erfc, erfinv, gammaln, digamma, trigamma", () => {
  const run = (f: (x: any) => any, t: Table) => f(np.array(t.x)).tolist() as number[];
  // Relative accuracy where the function is well conditioned.
  assert.ok(relErr(run(S.erf, fx.erf), fx.erf) < 2e-15, "erf");
  assert.ok(relErr(run(S.erfc, fx.erfc), fx.erfc) < 4e-15, "erfc");
  assert.ok(relErr(run(S.erfInv, fx.erfinv), fx.erfinv) < 1e-15, "erfinv");
  agrees(run(S.lgamma, fx.gammaln), fx.gammaln, 1e-14, "gammaln");
  agrees(run(S.digamma, fx.digamma), fx.digamma, 2e-14, "digamma");
  agrees(run(S.trigamma, fx.trigamma), fx.trigamma, 1e-14, "trigamma");
});

test("edge values: poles, infinities, NaN and the ends of erf_inv's domain", () => {
  assert.equal(S.erfInv(np.array([1, -1, 1.5, NaN])).tolist(), [Infinity, -Infinity, NaN, NaN]);
  assert.equal(S.erf(np.array([Infinity, -Infinity, NaN, 0])).tolist(), [1, -1, NaN, 0]);
  assert.equal(S.erfc(np.array([Infinity, -Infinity, 30, NaN])).tolist(), [0, 2, 0, NaN]);
  assert.equal(S.lgamma(np.array([0, -2, Infinity, -Infinity, NaN, 1, 2])).tolist(), [Infinity, Infinity, Infinity, Infinity, NaN, 0, 0]);
  assert.equal(S.digamma(np.array([0, -3, Infinity, NaN])).tolist(), [NaN, NaN, Infinity, NaN]);
});

test("float32 inputs give float32 results; erf_inv uses the single-precision polynomial", () => {
  const x = np.array([-0.9, -0.3, 0.2, 0.99, 0.999999], "float32");
  for (const f of [S.erf, S.erfc, S.erfInv, S.lgamma, S.digamma]) assert.is(f(x).dtype, "float32");
  const got = S.erfInv(x).tolist() as number[];
  const xs = x.tolist() as number[];
  got.forEach((g, i) => {
    assert.is(g, K.erfInv32(xs[i]));
    // Within float32 accuracy of the float64 function.
    assert.ok(Math.abs(g - K.erfInv(xs[i])) <= 4e-7 * Math.abs(K.erfInv(xs[i])), `erfInv32(${xs[i]})`);
  });
  assert.equal(K.erfInv32(1), Infinity);
  assert.ok(Number.isNaN(K.erfInv32(2)));
});

test("derivatives: checkGrads in forward and reverse mode, orders 1 and 2", () => {
  checkGrads(S.erf, [np.array([-1.5, -0.2, 0.4, 2])]);
  checkGrads(S.erfc, [np.array([-1.5, -0.2, 0.4, 2])]);
  checkGrads(S.erfInv, [np.array([-0.8, -0.1, 0.3, 0.7])]);
  checkGrads(S.lgamma, [np.array([0.4, 1.3, 3.5, -1.5])]);
  checkGrads(S.digamma, [np.array([0.4, 1.3, 3.5, -1.5])]);
  checkGrads(S.trigamma, [np.array([0.4, 1.3, 3.5, -1.5])], { order: 1 });
  // The closed forms themselves: d erf_inv(x) = sqrt(pi)/2 exp(erf_inv(x)^2), d lgamma = digamma.
  const x = np.array([0.25]);
  const y = S.erfInv(x).item();
  assert.ok(Math.abs(grad((v: any) => np.sum(S.erfInv(v)))(x).tolist()[0] - (Math.sqrt(Math.PI) / 2) * Math.exp(y * y)) < 1e-15);
  // SciPy: digamma(3.0) and polygamma(1, 3.0).
  const i3 = fx.digamma.x.indexOf(3.0);
  assert.ok(Math.abs(grad((v: any) => np.sum(S.lgamma(v)))(np.array([3.0])).tolist()[0] - fx.digamma.y[i3]) < 1e-14);
  assert.ok(Math.abs(grad((v: any) => np.sum(S.digamma(v)))(np.array([3.0])).tolist()[0] - fx.trigamma.y[i3]) < 1e-14);
});

test("incomplete gamma and beta functions against SciPy, and dP/da against mpmath", () => {
  const ig = fx.gammainc as unknown as { a: number[]; x: number[]; y: number[] };
  const a = np.array(ig.a), x = np.array(ig.x);
  const rel = (got: number[], want: number[]) => Math.max(...got.map((g, i) => Math.abs(g - want[i]) / Math.abs(want[i])));
  assert.ok(rel(S.igamma(a, x).tolist() as number[], ig.y) < 2e-14, "igamma");
  assert.ok(rel(S.igammac(a, x).tolist() as number[], (fx.gammaincc as unknown as Table).y) < 2e-14, "igammac");
  assert.ok(rel(S.igammaGradA(a, x).tolist() as number[], (fx.gammainc_grad_a as unknown as Table).y) < 2e-14, "igamma_grad_a");
  const bi = fx.betainc as unknown as { a: number[]; b: number[]; x: number[]; y: number[] };
  assert.ok(rel(S.betainc(np.array(bi.a), np.array(bi.b), np.array(bi.x)).tolist() as number[], bi.y) < 2e-14, "betainc");
  // Ends and outside the domain.
  assert.equal(S.igamma(np.array([2, 2, 2, -1]), np.array([0, Infinity, -1, 1])).tolist(), [0, 1, NaN, NaN]);
  assert.equal(S.igammac(np.array([2, 2, 2]), np.array([0, Infinity, -1])).tolist(), [1, 0, NaN]);
  assert.equal(S.igammaGradA(np.array([2, 2, -1]), np.array([0, Infinity, 1])).tolist(), [0, 0, NaN]);
  assert.equal(S.betainc(np.array([2, 2, 2, -1]), np.array([3, 3, 3, 1]), np.array([0, 1, 1.5, 0.5])).tolist(), [0, 1, NaN, NaN]);
});

test("incomplete gamma and beta: derivatives where JAX has them, errors where it does not", () => {
  const a = np.array([0.7, 2.5, 6]), x = np.array([0.4, 3.1, 5.5]);
  checkGrads((aa: any, xx: any) => S.igamma(aa, xx), [a, x], { order: 1 });
  checkGrads((aa: any, xx: any) => S.igammac(aa, xx), [a, x], { order: 1 });
  checkGrads((xx: any) => S.igamma(a, xx), [x]);
  checkGrads((xx: any) => S.igammaGradA(a, xx), [x], { order: 1 });
  checkGrads((xx: any) => S.betainc(np.array([0.8, 2, 5]), np.array([1.5, 3, 2]), xx), [np.array([0.2, 0.5, 0.9])]);
  throwsWith(() => grad((aa: any) => np.sum(S.igammaGradA(aa, x)))(a), JacobiError, ["igamma_grad_a", "with respect to a"]);
  throwsWith(() => grad((bb: any) => np.sum(S.betainc(a, bb, np.array([0.2, 0.5, 0.9]))))(a), JacobiError, ["betainc", "with respect to b"]);
  throwsWith(() => grad((aa: any) => np.sum(S.betainc(aa, a, np.array([0.2, 0.5, 0.9]))))(a), JacobiError, ["betainc", "with respect to a"]);
  throwsWith(() => S.igamma(np.array([1], "int32"), np.array([1], "int32")), DTypeError, ["igamma", "floating-point"]);
});

test("lax's names take any TensorLike", () => {
  assert.equal(lax.erf(np.array([0.5])).tolist(), S.erf(np.array([0.5])).tolist());
  assert.is(lax.erfc(0.5).item(), S.erfc(np.array(0.5)).item());
  assert.is(lax.erfInv(0).item(), 0);
  assert.ok(Math.abs(lax.lgamma(3).item() - Math.log(2)) < 1e-15);
  assert.is(lax.digamma(1).item(), S.digamma(np.array(1)).item());
});

test("jit and vmap give the eager values; integer inputs are a DTypeError", () => {
  const x = np.array([[0.1, 0.5], [1.5, 2.5]]);
  for (const f of [S.erf, S.erfc, S.lgamma, S.digamma]) {
    assert.equal(jit(f)(x).tolist(), f(x).tolist());
    assert.equal(vmap(f)(x).tolist(), f(x).tolist());
  }
  throwsWith(() => S.erf(np.array([1, 2], "int32")), DTypeError, ["erf", "floating-point", "int32"]);
});

test.run();
