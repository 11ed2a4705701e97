// jit's fused loops with reductions folded in: a chain ending in sum, max, min or prod is one loop
// with an accumulator and no intermediate buffer, and every result has the bits eager gives
// (reduce.ts's order of accumulation), whatever the axes, dtypes and layouts of the inputs.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { type Tensor, jit, makeJaxpr, np, valueAndGrad } from "../../src/index.js";
import { FusedKernel } from "../../src/backend/fusion.js";
import type { Arr } from "../../src/backend/ndarray-view.js";
import { jitInspect } from "../../src/transforms/jit.js";
import { CompiledJaxpr, INTERPRET_FIRST_CALL } from "../../src/transforms/jit-compile.js";
import { guardTraceState } from "../guard.js";
import { flat, identical, sameNumbers } from "../helpers.js";

guardTraceState(test);


/** Deterministic values spanning many magnitudes, so that the order of a sum shows in its bits. */
function rand(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    return (u - 0.4) * 10 ** Math.floor(u * 1e4 % 7);
  });
}

const w1 = (x: Tensor, y: Tensor) => np.sum(np.subtract(np.add(np.log(x), np.multiply(x, y)), np.sin(y)));

test("a chain ending in a full sum is one loop with a register accumulator and no buffer", () => {
  const x = np.abs(np.array(rand(1001, 1))), y = np.array(rand(1001, 2));
  const jf = jit(w1);
  identical(jf(x, y), w1(x, y));
  identical(jf(x, y), w1(x, y), "second call");
  const { stats, source } = jitInspect(jf, x, y);
  assert.equal(stats, { loops: 1, fusedEqns: 6, fusedBuffers: 0, fusedReductions: 1, eqnSteps: 0 });
  assert.match(source[0], "c0 += t4;");
  assert.not.match(source[0], /r\d+\[i\]/);
});

test("value and gradient of W1 under jit: one loop writing only the two gradients", () => {
  const x = np.abs(np.array(rand(999, 3))), y = np.array(rand(999, 4));
  const vg = valueAndGrad(w1, { argnums: [0, 1] });
  const jvg = jit(vg);
  const [v, [gx, gy]] = jvg(x, y) as [Tensor, Tensor[]];
  const [ve, [gxe, gye]] = vg(x, y) as [Tensor, Tensor[]];
  identical(v, ve, "value");
  identical(gx, gxe, "d/dx");
  identical(gy, gye, "d/dy");
  // Before reductions were fused: two loops writing five buffers.
  assert.equal(jitInspect(jvg, x, y).stats, { loops: 1, fusedEqns: 11, fusedBuffers: 2, fusedReductions: 1, eqnSteps: 0 });
});

test("every fold over leading, trailing, middle and several axes equals eager", () => {
  const vals = rand(60, 5);
  vals[7] = NaN; // max and min propagate NaN from where it occurs
  vals[31] = -0;
  const x = np.reshape(np.array(vals), [3, 4, 5]);
  const folds = { sum: np.sum, prod: np.prod, max: np.max, min: np.min };
  for (const [name, fold] of Object.entries(folds)) {
    for (const axes of [[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]]) {
      const f = (t: Tensor) => fold(np.add(np.multiply(np.tanh(t), 1.5), t), axes);
      const jf = jit(f);
      identical(jf(x), f(x), `${name} over ${axes}`);
      const { stats } = jitInspect(jf, x);
      assert.is(stats.fusedReductions, 1, `${name} over ${axes} fused`);
      assert.is(stats.fusedBuffers, 0, `${name} over ${axes} buffers`);
    }
  }
  // Size-1 dims drop out of the loop's iteration space, reduced or kept.
  const y = np.reshape(np.array(vals.slice(0, 24)), [4, 1, 6, 1]);
  for (const axes of [[0], [1], [2], [0, 1], [1, 3], [0, 2, 3]]) {
    const f = (t: Tensor) => np.sum(np.exp(np.multiply(t, 1e-6)), axes);
    identical(jit(f)(y), f(y), `sum over ${axes} of [4, 1, 6, 1]`);
  }
  // The loop keeps a reduced innermost dim in a register and a kept one in the output row.
  const leading = jitInspect(jit((t: Tensor) => np.sum(np.sin(t), 0)), x).source[0];
  assert.match(leading, "let acc = g0[q0 + e]; acc += t0; g0[q0 + e] = acc;");
  const trailing = jitInspect(jit((t: Tensor) => np.max(np.sin(t), 2)), x).source[0];
  assert.match(trailing, "let c0 = g0[q0];");
});

test("several reductions and live values come out of one loop", () => {
  const x = np.reshape(np.array(rand(42, 6)), [6, 7]);
  const f = (t: Tensor) => {
    const a = np.exp(np.multiply(t, 1e-3));
    const b = np.subtract(a, np.cos(t));
    return [np.sum(a), np.max(b, 1), np.min(a, 0), np.prod(b, 0), np.multiply(b, 2), np.sum(t)];
  };
  const got = jit(f)(x), want = f(x);
  want.forEach((w, k) => identical(got[k], w, `output ${k}`));
  const { stats } = jitInspect(jit(f), x);
  // exp, mul, cos, sub and the five folds in one loop; the mul by 2 is the only buffer.
  assert.equal(stats, { loops: 1, fusedEqns: 10, fusedBuffers: 1, fusedReductions: 5, eqnSteps: 0 });
});

test("float32, int32 and bool chains reduce to eager's bits", () => {
  const vals = rand(300, 7);
  const x64 = np.reshape(np.array(vals), [20, 15]);
  const x32 = np.astype(x64, "float32");
  const i32 = np.astype(np.multiply(np.clip(x64, -1e4, 1e4), 1e5), "int32");
  const floatF = (t: Tensor) => [np.sum(np.multiply(np.sin(t), t)), np.max(np.add(t, 0.1), 0), np.prod(np.cos(t), 1)];
  // Products wrap in int32; the sum accumulates in float64 and wraps once when stored.
  const intF = (t: Tensor) => [np.sum(np.multiply(t, t)), np.min(np.add(t, 7), 1), np.sum(np.greater(t, 0)), np.max(np.less(t, 0))];
  for (const [name, f, x] of [["f32", floatF, x32], ["f64", floatF, x64], ["i32", intF, i32]] as const) {
    const got = jit(f)(x), want = f(x);
    want.forEach((w, k) => identical(got[k], w, `${name} output ${k}`));
    assert.ok(jitInspect(jit(f), x).stats.fusedReductions >= 3, name);
  }
});

test("inputs broadcast from one element fuse; partial broadcasts and transposes reduce as eager does", () => {
  const x = np.reshape(np.array(rand(35, 8)), [5, 7]);
  const scaled = (t: Tensor, s: Tensor) => np.sum(np.multiply(np.sin(t), s), 1);
  identical(jit(scaled)(x, np.array(3.5)), scaled(x, np.array(3.5)), "scalar broadcast");
  assert.is(jitInspect(jit(scaled), x, np.array(3.5)).stats.fusedReductions, 1);

  // A row broadcast over five rows stays stride 0 in eager (mapN keeps constant dims), so its
  // sum folds along the broadcast dim innermost: not the loop's row-major order.
  const row = np.array([0.1, 3.7, -2.2, 0.013, 1.9, -0.7, 2.45]);
  const g = (r: Tensor) => np.sum(np.exp(np.multiply(np.broadcastTo(r, [5, 7]), 0.5)));
  identical(jit(g)(row), g(row), "partial broadcast");
  const e = flat(np.exp(np.multiply(row, 0.5)));
  let rowMajor = 0;
  for (let i = 0; i < 35; i++) rowMajor += e[i % 7];
  assert.is.not(rowMajor, g(row).item(), "the data tells the two orders apart");
  // x * 1 is x itself in eager (when the 1 arrives at run time): a transposed input reaches the
  // sum in its memory order.
  const t = np.transpose(np.reshape(np.array(rand(64, 10)), [8, 8]));
  const one = np.broadcastTo(np.array(1), [8, 8]);
  const h = (a: Tensor, o: Tensor) => np.sum(np.multiply(a, o));
  identical(jit(h)(t, one), h(t, one), "transposed");
  assert.is(jitInspect(jit(h), t, one).stats.fusedReductions, 1);
  const inRowMajorOrder = flat(t).reduce((s, v) => s + v, 0);
  assert.is.not(inRowMajorOrder, h(t, one).item(), "the data tells the two orders apart");
});

test("the kernel declines layouts whose eager order differs, and folds in flat order otherwise", () => {
  const kernel = new FusedKernel({
    inDtypes: ["float64", "float64"],
    ops: [{ expr: "x0 * x1", args: [0, 1], dtype: "float64" }],
    outs: [],
    reductions: [{ kind: "sum", arg: 2, axes: [0, 1], dtype: "float64" }],
  });
  const m = np.reshape(np.array(rand(6, 11)), [2, 3]).concrete() as Arr;
  const one = np.broadcastTo(np.array(1), [2, 3]).concrete() as Arr;
  const tr = np.transpose(np.reshape(np.array(rand(6, 11)), [3, 2])).concrete() as Arr;
  const [s] = kernel.run([m, one], [2, 3]) as Arr[];
  assert.is(s.get(0), flat(np.sum(np.reshape(np.array(rand(6, 11)), [2, 3]))).at(0));
  assert.is(kernel.run([tr, one], [2, 3]), null);
  assert.not.equal(kernel.run([tr, m], [2, 3]), null);
});

test("a reduction's result read by a chain of another shape, or of the same shape, closes the chain", () => {
  const x = np.array(rand(50, 12));
  const f = (t: Tensor) => np.multiply(np.sin(np.sum(np.exp(np.multiply(t, 1e-3)))), 3);
  identical(jit(f)(x), f(x));
  assert.equal(jitInspect(jit(f), x).stats, { loops: 2, fusedEqns: 5, fusedBuffers: 1, fusedReductions: 1, eqnSteps: 0 });
  // prod over no axes keeps the shape: its result is not a value of the loop that makes it.
  const g = (t: Tensor) => np.add(np.cos(np.prod(np.sin(t), [])), t);
  identical(jit(g)(x), g(x));
  assert.equal(jitInspect(jit(g), x).stats, { loops: 2, fusedEqns: 4, fusedBuffers: 1, fusedReductions: 1, eqnSteps: 0 });
});

test("empty inputs reduce to the folds' identities", () => {
  const e = np.zeros([2, 0]);
  const f = (t: Tensor) => [np.sum(np.sin(t), 1), np.prod(np.cos(t), 1), np.sum(np.exp(t))];
  const got = jit(f)(e), want = f(e);
  want.forEach((w, k) => identical(got[k], w, `output ${k}`));
  const g = (t: Tensor) => np.max(np.sin(t), 1);
  identical(jit(g)(np.zeros([0, 3])), g(np.zeros([0, 3])), "no rows");
});

test("a long jaxpr runs its first call equation by equation and compiles on the second", () => {
  const n = INTERPRET_FIRST_CALL + 1;
  const f = (t: Tensor) => {
    let y = t;
    for (let i = 0; i < n; i++) y = i % 3 === 0 ? np.multiply(y, 0.999) : np.sin(y);
    return [y, np.sum(np.cos(y))];
  };
  const x = np.array(rand(9, 13).map((v) => v % 3));
  const want = f(x);
  const closed = makeJaxpr(f)(x);
  const program = new CompiledJaxpr(closed.jaxpr);
  const consts = closed.consts.map((c) => c.concrete() as Arr);
  const args = [x.concrete() as Arr];
  const first = program.run(consts, args);
  assert.is(program.isCompiled, false);
  const second = program.run(consts, args);
  assert.is(program.isCompiled, true);
  assert.ok(program.stats.loops >= 2);
  for (const got of [first, second]) {
    sameNumbers(Array.from(got[0].data), flat(want[0]), "chain");
    sameNumbers(Array.from(got[1].data), flat(want[1]), "sum");
  }
  // 0-d chains carry their scalars as literals.
  const scalarChain = (t: Tensor) => f(t)[0];
  const s = np.array(0.25);
  const scalarProgram = new CompiledJaxpr(makeJaxpr(scalarChain)(s).jaxpr);
  sameNumbers(Array.from(scalarProgram.run([], [s.concrete() as Arr])[0].data), flat(scalarChain(s)), "0-d chain");
  assert.is(scalarProgram.isCompiled, false);
  // A short jaxpr compiles at once; jit gives eager's bits on every call either way.
  const short = new CompiledJaxpr(makeJaxpr((t: Tensor) => np.sin(t))(x).jaxpr);
  short.run([], args);
  assert.is(short.isCompiled, true);
  const jf = jit(f);
  for (let k = 0; k < 2; k++) jf(x).forEach((g, i) => identical(g, want[i], `call ${k} output ${i}`));
});

test.run();
