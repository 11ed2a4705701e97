// Statistics, predicates and the extra elementwise functions of issue 10 item 4 against NumPy
// (tests/fixtures/gen-numpy-extra.py), the lax.rem and lax.cbrt primitives, derivatives in both
// modes, vmap against a loop and jit against eager.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { DTypeError, OptionsError, ShapeError, type Tensor, checkGrads, grad, jit, lax, np, vmap } from "../../src/index.js";
import { close, throwsWith } from "../helpers.js";

const fx = JSON.parse(readFileSync(new URL("../fixtures/numpy-extra.json", import.meta.url), "utf8"));
const [x, x3, v, e, pos] = ["x", "x3", "v", "e", "pos"].map((k) => np.array(fx[k]) as Tensor);
const e2 = np.add(np.flip(e), 0.25);
const opts = { order: 2, modes: ["fwd", "rev"] as ("fwd" | "rev")[] };

test("var, std, average, median, quantile against NumPy", () => {
  close(np.var(x), fx.var);
  close(np.var(x, 0, { ddof: 1 }), fx.var_0_ddof);
  close(np.std(x3, 1, { keepdims: true }), fx.std_1);
  close(np.var(np.array([1, 2, 3, 4], "int32")), 1.25);
  close(np.average(x, 1, { weights: v }), fx.average_w);
  close(np.average(x, null, { weights: np.abs(x) }), fx.average_full);
  const [avg, ws] = np.average(x, 1, { weights: v, returned: true }) as Tensor[];
  close(avg, fx.average_w);
  close(ws, [0, 0, 0].map(() => fx.v.reduce((a: number, b: number) => a + b, 0)));
  close(np.average(x, 0), np.mean(x, 0));
  close((np.average(x, 0, { returned: true, keepdims: true }) as Tensor[])[1], [[3, 3, 3, 3]]);
  throwsWith(() => np.average(x, null, { weights: v }), ShapeError, ["weights of shape [4]"]);
  throwsWith(() => np.var(x, 0, { ddof: "1" } as never), OptionsError, ["ddof must be a finite number"]);
  throwsWith(() => np.std(x, 0, { dof: 1 } as never), OptionsError, ['unknown option "dof"']);
  close(np.median(x), fx.median);
  close(np.median(x, 0), fx.median_0);
  close(np.median(x3, 2), fx.median_even);
  assert.equal(np.median(x, 1, { keepdims: true }).shape, [3, 1]);
  assert.equal(np.quantile(x, [0.5], null, { keepdims: true }).shape, [1, 1, 1]);
  close(np.quantile(x, [0.1, 0.5, 0.93], 1), fx.quantile);
  close(np.quantile(x3, 0.37), fx.quantile_all);
  throwsWith(() => np.quantile(x, 1.5), ShapeError, ["in [0, 1]"]);
  throwsWith(() => np.quantile(np.zeros([0]), 0.5), ShapeError, ["empty axis"]);
  throwsWith(() => np.quantile(x, 0.5, 0, { method: "nearest" } as never), OptionsError, ["method must be one of"]);
});

test("all, any, countNonzero, isnan, isinf, isfinite, nanToNum", () => {
  const m = np.array([[0, 1, NaN], [0, 0, 2]]);
  assert.equal(np.all(m, 1).tolist(), [false, false]);
  assert.equal(np.any(m, 1).tolist(), [true, true]);
  assert.equal(np.any(m, 0, { keepdims: true }).tolist(), [[false, true, true]]);
  assert.is(np.all(np.zeros([0])).dtype, "bool");
  assert.equal([np.all(np.zeros([0])).item(), np.any(np.zeros([0])).item()].map(Boolean), [true, false]);
  assert.equal(np.countNonzero(m, 0).tolist(), [0, 1, 2]);
  assert.is(np.countNonzero(m).item(), 3);
  throwsWith(() => np.all(m, 0, { keep: true } as never), OptionsError, ['unknown option "keep"']);
  const s = np.array([1, NaN, Infinity, -Infinity]);
  assert.equal(np.isnan(s).tolist(), [false, true, false, false]);
  assert.equal(np.isinf(s).tolist(), [false, false, true, true]);
  assert.equal(np.isfinite(s).tolist(), [true, false, false, false]);
  assert.equal([np.isnan, np.isinf, np.isfinite].map((f) => f(np.array([1, 2], "int32")).tolist()), [[false, false], [false, false], [true, true]]);
  close(np.nanToNum(s), [1, 0, Number.MAX_VALUE, -Number.MAX_VALUE]);
  close(np.nanToNum(s, { nan: -1, posinf: 9, neginf: -9 }), [1, -1, 9, -9]);
  close(np.nanToNum(np.array([Infinity], "float32")), [3.4028234663852886e38]);
  assert.equal(np.nanToNum(np.array([3], "int32")).tolist(), [3]);
  throwsWith(() => np.nanToNum(s, { posInf: 1 } as never), OptionsError, ['unknown option "posInf"']);
});

test("exp2 log2 log10 cbrt sinc hypot logaddexp logaddexp2 remainder fmod floorDivide copysign heaviside round", () => {
  close(np.exp2(e), fx.exp2);
  close(np.log2(pos), fx.log2, 1e-15);
  close(np.log10(pos), fx.log10, 1e-15);
  close(np.cbrt(e), fx.cbrt);
  close(np.sinc(e), fx.sinc, 1e-15);
  close(np.hypot(e, np.flip(e)), fx.hypot);
  close(np.hypot(0, 0), 0);
  close(np.logaddexp(e, np.flip(e)), fx.logaddexp);
  assert.is(np.logaddexp(-Infinity, -Infinity).item(), -Infinity);
  close(np.logaddexp2(e, np.flip(e)), fx.logaddexp2);
  close(np.remainder(e, e2), fx.remainder);
  close(np.fmod(e, e2), fx.fmod);
  close(np.floorDivide(e, e2), fx.floor_divide);
  close(np.floorDivide(1, 0.1), 9);
  assert.is(np.floorDivide(1, 0).item(), Infinity);
  const [ia, ib] = [np.array([-7, 7, -7, 7, 6], "int32"), np.array([2, 2, -2, -2, 3], "int32")];
  assert.equal(np.floorDivide(ia, ib).tolist(), fx.int_floor_divide);
  assert.equal(np.remainder(ia, ib).tolist(), fx.int_remainder);
  assert.is(np.floorDivide(ia, ib).dtype, "int32");
  assert.equal(np.copysign(e, np.flip(e)).tolist().map((t: number) => Object.is(t, -0) ? "-0" : t), fx.copysign.map((t: number) => Object.is(t, -0) ? "-0" : t));
  close(np.heaviside(e, 0.5), fx.heaviside);
  assert.ok(Number.isNaN(np.heaviside(NaN, 0.5).item()));
  close(np.round(x, 2), fx.round2);
  close(np.round(np.multiply(x, 100), -1), fx.round_m1);
  close(np.round(1.2345, 2), 1.23);
  assert.equal(np.round(np.array([1234, -55], "int32"), -2).tolist(), [1200, -100]);
  assert.equal(np.round(np.array([12], "int32"), 1).tolist(), [12]);
  throwsWith(() => np.round(x, 0.5), DTypeError, ["decimals must be an integer"]);
  for (const f of [np.fmod, np.remainder, np.floorDivide]) throwsWith(() => f(np.array([true]), np.array([true])), DTypeError, ["boolean"]);
});

test("resultType and promoteTypes follow the promotion table with weak JS numbers", () => {
  assert.is(np.resultType(np.array([1], "int32"), 2), "int32");
  assert.is(np.resultType(np.array([1], "float32"), 2.5), "float32");
  // JAX's lattice (not NumPy's): int32 with float32 is float32.
  assert.is(np.resultType("int32", "float32"), "float32");
  assert.is(np.resultType(np.array([true]), "uint32"), "uint32");
  assert.is(np.promoteTypes("int32", "float32"), "float32");
  assert.is(np.promoteTypes("bool", "int32"), "int32");
  throwsWith(() => np.promoteTypes("int8" as never, "int32"), DTypeError, ['unknown dtype "int8"']);
  throwsWith(() => np.resultType(), DTypeError, ["at least one"]);
});

test("lax.rsqrt, lax.rem and lax.cbrt: values, JAX's JVP rules, batching, jit", () => {
  close(lax.rsqrt(np.array([4, 0.25])), [0.5, 2]);
  close(lax.rem(np.array([7.5, -7.5, 7.5]), np.array([2, 2, -2])), [1.5, -1.5, 1.5]);
  assert.equal(lax.rem(np.array([7, -7], "int32"), np.array([2, 2], "int32")).tolist(), [1, -1]);
  close(lax.cbrt(np.array([-27, 8, 0])), [-3, 2, 0]);
  // rem: d/dx = 1, d/dy = -trunc(x / y).
  close(grad((a: Tensor) => lax.rem(a, np.array(2)))(np.array(7.5)), 1);
  close(grad((b: Tensor) => lax.rem(np.array(7.5), b))(np.array(2)), -3);
  close(grad((b: Tensor) => lax.rem(np.array(-7.5), b))(np.array(2)), 3);
  checkGrads((a: Tensor, b: Tensor) => np.sum(lax.rem(a, b)), [np.array([7.3, -2.2, 0.4]), np.array([2.1, 0.9, -1.5])], opts);
  checkGrads((a: Tensor) => np.sum(lax.cbrt(a)), [np.array([-2.5, 0.7, 3])], opts);
  const ys = np.array([[1.5, 2.5], [3.5, -0.5]]), d = np.full([2, 2], 0.75);
  close(vmap((r: Tensor, q: Tensor) => lax.rem(r, q))(ys, d), np.stack([0, 1].map((i) => lax.rem(np.slice(ys, i), np.slice(d, i)))));
  close(vmap((r: Tensor) => lax.cbrt(r))(ys), np.cbrt(ys));
  close(jit((a: Tensor, b: Tensor) => np.add(lax.rem(a, b), lax.cbrt(a)))(ys, d), np.add(lax.rem(ys, d), np.cbrt(ys)));
});

test("derivatives: checkGrads in both modes for the statistics and elementwise composites", () => {
  const p = np.array([0.3, 1.7, 2.9]);
  checkGrads((a: Tensor) => np.add(np.sum(np.var(a, 0, { ddof: 1 })), np.sum(np.std(a, 1))), [x], opts);
  checkGrads((a: Tensor) => np.sum(np.average(a, 1, { weights: v }) as Tensor), [x], opts);
  checkGrads((a: Tensor) => np.add(np.median(a), np.sum(np.quantile(a, [0.2, 0.7], 0))), [x], opts);
  checkGrads((a: Tensor) => np.sum(np.add(np.add(np.exp2(a), np.log2(a)), np.log10(a))), [p], opts);
  checkGrads((a: Tensor) => np.sum(np.add(np.cbrt(a), np.sinc(a))), [p], opts);
  // Away from ties: hypot is max * sqrt(1 + (min / max)^2) as JAX's, whose second derivative at a tie is the max/min split's.
  checkGrads((a: Tensor, b: Tensor) => np.sum(np.add(np.hypot(a, b), np.logaddexp(a, b))), [p, np.array([1.1, 0.4, 2.0])], opts);
  checkGrads((a: Tensor, b: Tensor) => np.sum(np.add(np.logaddexp2(a, b), np.copysign(a, b))), [p, np.negative(p)], opts);
  checkGrads((a: Tensor, b: Tensor) => np.sum(np.add(np.remainder(a, b), np.fmod(a, b))), [p, np.array([0.7, -0.5, 1.1])], opts);
  // sinc'(0) = 0 through the safe-point where; logaddexp at a tie splits evenly.
  close(grad((a: Tensor) => np.sinc(a))(np.array(0)), 0);
  close(grad((a: Tensor) => np.logaddexp(a, np.array(1)))(np.array(1)), 0.5);
  close(grad((a: Tensor) => np.sum(np.nanToNum(a)))(np.array([1, NaN])), [1, 0]);
});

test("vmap against a loop and jit against eager for the statistics", () => {
  const f = (a: Tensor) => np.add(np.median(a), np.var(a, null, { ddof: 1 }));
  close(vmap(f)(x), np.stack([0, 1, 2].map((i) => f(np.slice(x, i)))));
  close(jit(f)(x), f(x));
  const g = (a: Tensor) => np.any(np.isnan(np.logaddexp(a, np.flip(a))));
  const got = jit(g)(x);
  assert.is(got.dtype, "bool");
  assert.equal(got.tolist(), g(x).tolist());
  assert.equal(Boolean(got.tolist()), false);
  // At a tie the JVP is JAX's weights (1/2 each), in both modes and to second order.
  checkGrads((a: Tensor, b: Tensor) => np.sum(np.add(np.logaddexp(a, b), np.logaddexp2(a, b))), [np.array([1, 2, -1]), np.array([1, 0.5, 3])], { order: 2, modes: ["fwd", "rev"] });
  close(grad((a: Tensor) => np.sum(np.logaddexp(a, np.array([-Infinity, 2]))))(np.array([-Infinity, 2])), [0, 0.5]);
});
test("stopGradient takes a pytree, blocking every leaf, as JAX's stop_gradient", () => {
  const f = (a: Tensor) => {
    const s = np.stopGradient({ p: a, q: [np.multiply(a, 2), 3] });
    return np.sum(np.add(np.multiply(s.p, a), np.multiply(s.q[0], s.q[1])));
  };
  close(grad(f)(np.array([1, 2])), [1, 2]);
  close(f(np.array([1, 2])), 1 + 4 + 18);
  close(np.stopGradient(2), 2);
  close(grad((a: Tensor) => np.sum(np.multiply(np.stopGradient(a), a)))(np.array([3])), [3]);
  throwsWith(() => np.stopGradient({ p: "a" } as never), DTypeError, ["stopGradient"]);
});
test.run();
