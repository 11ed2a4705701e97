import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { DTypeError, JacobiError, costAnalysis, customJvp, customVjp, jacobian, lax, makeJaxpr, np } from "../../src/index.js";
import { traceDepth } from "../../src/core/trace.js";
import { jaxprArith } from "../../src/transforms/cost-analysis.js";

// f(x) = sum(sin(x) * x) on x of shape [3]. Hand count:
//   sweep: sin, cos (the coefficient of sin's tangent), mul, reduce_sum
//   tangent program: t*cos x, (t cos x)*x, sin x * t, add, reduce_sum
//   cotangent program: broadcast the scalar ct, three muls, one add (two paths reach x)
const sinTimes = (x: any) => np.sum(np.multiply(np.sin(x), x));

test("exact counts, FLOPs and residual bytes for sum(sin(x) * x)", () => {
  const c = costAnalysis(sinTimes, [np.array([1, 2, 3])]);
  assert.is(c.nIn, 3);
  assert.is(c.nOut, 1);
  assert.equal(c.fwd.sweep.counts, { cos: 1, mul: 1, reduce_sum: 1, sin: 1 });
  assert.is(c.fwd.sweep.flops, 3 + 3 + 3 + 2);
  assert.is(c.fwd.sweep.transcendentals, 6);
  assert.equal(c.fwd.linear.counts, { add: 1, mul: 3, reduce_sum: 1 });
  assert.equal(c.rev!.linear.counts, { add_any: 1, broadcast_in_dim: 1, mul: 3 });
  assert.equal(c.fwd.primitives, { add: 1, cos: 1, mul: 4, reduce_sum: 2, sin: 1 });
  assert.is(c.fwd.ops, 9);
  assert.is(c.rev!.ops, 9);
  // Forward: the sweep once, then 3 columns of 3 + 3 + 3 + 3 + 2 FLOPs. Reverse: one row of 12.
  assert.is(c.fwd.flops, 11 + 3 * 14);
  assert.is(c.rev!.flops, 11 + 12);
  // Reverse mode keeps cos x and sin x (x itself is the input, not an intermediate).
  assert.is(c.rev!.storedBytes, 2 * 3 * 8);
  assert.equal(c.residuals, ["f64[3]", "f64[3]"]);
  assert.is(c.fwd.storedBytes, 0);
  // Peak live tangents per column: t, t cos x, (t cos x) x and sin x t overlap as three f64[3].
  assert.is(c.fwd.peakLiveBytes, 3 * 72);
  assert.is(c.fwd.passes, 3);
  assert.is(c.rev!.passes, 1);
  assert.is(c.auto, "rev");
  assert.match(c.reason, "the output has 1 element, fewer than the input's 3");
});

test("the seed function: both partials from one row, 16 bytes of residuals (1/x1 and cos x2)", () => {
  const f = (x1: any, x2: any) => np.subtract(np.add(np.log(x1), np.multiply(x1, x2)), np.sin(x2));
  const c = costAnalysis(f, [2, 5], { argnums: [0, 1] });
  assert.equal([c.nIn, c.nOut], [2, 1]);
  assert.equal(c.fwd.sweep.counts, { add: 1, cos: 1, div: 1, log: 1, mul: 1, sin: 1, sub: 1 });
  assert.is(c.rev!.storedBytes, 16);
  assert.is(c.auto, "rev");
  // argnums picks the differentiated inputs: with respect to x1 alone there is one column.
  const one = costAnalysis(f, [2, 5]);
  assert.is(one.nIn, 1);
  assert.is(one.fwd.passes, 1);
});

test("tanh(W x): forward for few inputs, the closed-over W is not a stored intermediate", () => {
  const W = np.reshape(np.arange(15), [5, 3]);
  const f = (x: any) => np.tanh(np.matmul(W, x));
  const c = costAnalysis(f, [np.array([0.1, 0.2, 0.3])]);
  assert.equal([c.nIn, c.nOut], [3, 5]);
  assert.is(c.auto, "fwd");
  assert.match(c.reason, "3 forward columns instead of 5 reverse rows");
  // Sweep: reshape x to a column, dot_general (2*5*3 FLOPs), reshape back, tanh, and 1 - y*y.
  assert.equal(c.fwd.sweep.counts, { dot_general: 1, mul: 1, reshape: 2, sub: 1, tanh: 1 });
  assert.is(c.fwd.sweep.flops, 30 + 5 + 5 + 5);
  // The tangent program is the same matrix product per column, then a multiply by 1 - y^2.
  assert.equal(c.fwd.linear.counts, { dot_general: 1, mul: 1, reshape: 2 });
  assert.is(c.fwd.flops, 45 + 3 * (30 + 5));
  assert.is(c.rev!.flops, 45 + 5 * (5 + 30));
  assert.is(c.rev!.storedBytes, 5 * 8);
  assert.equal(c.residuals, ["f64[5]"]);
  assert.is(jacobian(f)(np.array([0.1, 0.2, 0.3])).shape.join(), "5,3");
});

test("matmul FLOPs are 2 m n k and grow with the passes", () => {
  const A = np.ones([4, 6]);
  const c = costAnalysis((X: any) => np.matmul(A, X), [np.ones([6, 2])]);
  assert.equal([c.nIn, c.nOut], [12, 8]);
  assert.is(c.fwd.sweep.flops, 2 * 4 * 2 * 6);
  assert.is(c.fwd.linear.flops, 2 * 4 * 2 * 6);
  assert.is(c.fwd.flops, 96 + 12 * 96);
  // A linear function needs no residuals at all.
  assert.is(c.rev!.storedBytes, 0);
  assert.is(c.auto, "rev");
  assert.match(c.reason, "8 reverse rows instead of 12 forward columns");
});

test("scan counts its body once per step", () => {
  // carry <- carry * sin(x_i) over 4 steps: each step is sin, cos (its coefficient) and mul.
  const f = (x: any) => lax.scan((c: any, xi: any) => [np.multiply(c, np.sin(xi)), c], np.array(1.0), x)[0];
  const c = costAnalysis(f, [np.array([1, 2, 3, 4])]);
  assert.equal(c.fwd.sweep.counts, { scan: 1 });
  assert.is(c.fwd.sweep.flops, 4 * 3);
  assert.is(c.fwd.sweep.transcendentals, 4 * 2);
  assert.ok(c.fwd.linear.flops > 0 && c.fwd.linear.flops % 4 === 0, `a whole number of steps: ${c.fwd.linear.flops}`);
  assert.is(c.fwd.flops, 12 + 4 * c.fwd.linear.flops);
  assert.is(c.rev!.flops, 12 + c.rev!.linear.flops);
});

test("staged control flow: cond costs its costliest branch, while one condition and body", () => {
  const c = makeJaxpr((x: any) => lax.cond(np.sum(x).gt(0), (v: any) => np.exp(v), (v: any) => np.sin(np.cos(v)), x))(np.array([1, 2]));
  // reduce_sum 1 + gt 1 + the cos-then-sin branch 4 (all transcendental); convert moves data.
  assert.equal(jaxprArith(c.jaxpr), { flops: 6, transcendentals: 4 });
  const w = makeJaxpr((x: any) => lax.whileLoop((s: any) => s[0].lt(3), (s: any) => [s[0].add(1), np.sin(s[1])], [np.array(0), x])[1])(np.array([1, 2]));
  assert.equal(jaxprArith(w.jaxpr), { flops: 1 + 1 + 2, transcendentals: 2 });
  // Reverse mode cannot go through a whileLoop: the analysis reports forward mode and says why not reverse.
  const f = (x: any) => lax.whileLoop((s: any) => s[0].lt(3), (s: any) => [s[0].add(1), np.sin(s[1])], [np.array(0), x])[1];
  const cw = costAnalysis(f, [np.array([1, 2])]);
  assert.is(cw.rev, null);
  assert.match(cw.revUnavailable ?? "", /whileLoop/);
  assert.is(cw.auto, "fwd");
  assert.match(cw.reason, /reverse mode is unavailable/);
  assert.ok(cw.fwd.flops > 0);
  assert.match(cw.toString(), /FLOPs\s+\S+\s+n\/a/);
  assert.is(traceDepth(), 0);
});

test("value-dependent branches are followed, and the trace stack is left clean", () => {
  const f = (x: any) => (np.sum(x).item() > 0 ? np.sum(np.exp(x)) : np.sum(np.negative(x)));
  const pos = costAnalysis(f, [np.array([1, 2])]);
  const neg = costAnalysis(f, [np.array([-1, -2])]);
  assert.ok("exp" in pos.fwd.sweep.counts);
  assert.not.ok("neg" in pos.fwd.sweep.counts);
  assert.ok("neg" in neg.fwd.sweep.counts);
  assert.is(traceDepth(), 0);
  assert.throws(() => costAnalysis(() => {
    throw new RangeError("user error");
  }, [1]), (e: unknown) => e instanceof RangeError);
  assert.is(traceDepth(), 0);
});

test("custom rules: the forward sweep counts the function (customJvp) or its fwd (customVjp)", () => {
  const f = customJvp((x: any) => np.sin(x));
  f.defjvp(([x]: any[], [t]: any[]) => [f(x), np.multiply(t, np.cos(x))]);
  const c = costAnalysis((x: any) => np.sum(f(x)), [np.array([1, 2])]);
  assert.equal(c.fwd.sweep.counts, { cos: 1, reduce_sum: 1, sin: 1 });
  assert.equal(c.fwd.linear.counts, { mul: 1, reduce_sum: 1 });
  assert.equal(c.rev!.linear.counts, { broadcast_in_dim: 1, mul: 1 });
  const g = customVjp((x: any) => np.exp(x));
  g.defvjp((x: any) => [np.exp(x), np.exp(x)], (r: any, ct: any) => [np.multiply(r, ct)]);
  const d = costAnalysis((x: any) => np.sum(g(x)), [np.array([1, 2])]);
  // fwd computes exp twice (the output and the residual); the cotangent program is bwd's product.
  assert.equal(d.fwd.sweep.counts, { exp: 2, reduce_sum: 1 });
  assert.equal(d.rev!.linear.counts, { broadcast_in_dim: 1, mul: 1 });
  assert.is(d.rev!.storedBytes, 2 * 8);
});

test("toString prints both modes and the auto choice", () => {
  const s = costAnalysis(sinTimes, [np.array([1, 2, 3])]).toString();
  assert.match(s, "costAnalysis: 3 input elements -> 1 output element");
  assert.match(s, /passes \(columns \/ rows\)\s+3 columns\s+1 row/);
  assert.match(s, /stored intermediates\s+0 B\s+48 B/);
  assert.match(s, "auto: rev");
  // Large sizes in KiB and MiB: 900 rows of f64[900] cotangents live at once in reverse mode.
  const W = np.ones([900, 4]);
  const big = costAnalysis((x: any) => np.tanh(np.matmul(W, x)), [np.zeros([4])]);
  assert.is(big.rev!.storedBytes, 900 * 8);
  assert.match(big.toString(), /stored intermediates\s+0 B\s+7\.0 KiB/);
  // Sweep 9,900 (dot 7,200, tanh, y*y, 1 - y*y); per column dot 7,200 + mul 900; per row the same.
  assert.match(big.toString(), /FLOPs\s+42,300\s+7,299,900/);
  assert.match(big.toString(), /MiB/);
});

test("argument errors", () => {
  assert.throws(() => costAnalysis(sinTimes, [np.array([1, 2], "int32")]), (e: unknown) => e instanceof DTypeError);
  assert.throws(() => costAnalysis("f" as any, [1]), (e: unknown) => e instanceof JacobiError && /expected a function/.test((e as Error).message));
  assert.throws(() => costAnalysis(sinTimes, 1 as any), (e: unknown) => e instanceof JacobiError && /args must be an array/.test((e as Error).message));
});

test.run();
