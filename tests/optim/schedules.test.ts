// optim's schedules at several steps against optax's formulas, written out in plain JS; each one
// also as a jitted function of an int32 count.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { JacobiError, jit, np, optim, type Schedule, type Tensor } from "../../src/index.js";
import { guardTraceState } from "../guard.js";
import { close, throwsWith } from "../helpers.js";

guardTraceState(test);

const steps = [0, 1, 2, 3, 5, 9, 10, 11, 50, 99, 100, 150];
function check(s: Schedule, want: (c: number) => number, what: string, tol = 1e-15): void {
  const j = jit((c: Tensor) => s(c));
  for (const c of steps) {
    const w = want(c);
    close(s(c), w, tol, `${what} at ${c}`);
    // Counts arrive as int32 tensors from an optimizer's state, and under jit.
    const t = s(np.array(c, "int32"));
    close(t, w, tol, `${what} at int32 ${c}`);
    assert.ok(Object.is(j(np.array(c, "int32")).item(), t.item()), `${what}: jit at ${c}`);
  }
}

test("constant", () => {
  check(optim.constant(0.3), () => 0.3, "constant");
});

test("exponentialDecay: smooth, staircase, delayed start, end value; degenerate ones constant", () => {
  check(optim.exponentialDecay(1, 10, 0.5), (c) => 0.5 ** (c / 10), "smooth");
  check(optim.exponentialDecay(2, 10, 0.5, { staircase: true }), (c) => 2 * 0.5 ** Math.floor(c / 10), "staircase");
  check(optim.exponentialDecay(1, 10, 0.5, { transitionBegin: 5 }), (c) => (c <= 5 ? 1 : 0.5 ** ((c - 5) / 10)), "begin");
  check(optim.exponentialDecay(1, 10, 0.5, { endValue: 0.1 }), (c) => Math.max(0.1, 0.5 ** (c / 10)), "end (decay)");
  check(optim.exponentialDecay(1, 10, 2, { endValue: 3 }), (c) => Math.min(3, 2 ** (c / 10)), "end (growth)");
  check(optim.exponentialDecay(1, 0, 0.5), () => 1, "no steps");
  check(optim.exponentialDecay(1, 10, 0), () => 1, "zero rate");
  check(optim.exponentialDecay(1, 10, 0.5, { transitionBegin: -3 }), (c) => 0.5 ** (c / 10), "negative begin");
  // Hand-computed: init 0.1, every 2 steps halved: 0.1 * 0.5^(3/2) at step 3.
  close(optim.exponentialDecay(0.1, 2, 0.5)(3), 0.1 * Math.SQRT1_2 / 2, 1e-16);
});

test("cosineDecay: half a cosine from init to alpha * init over decaySteps, then flat", () => {
  const cos = (init: number, n: number, alpha = 0, e = 1) => (c: number) => init * ((1 - alpha) * (0.5 * (1 + Math.cos((Math.PI * Math.min(c, n)) / n))) ** e + alpha);
  check(optim.cosineDecay(0.1, 100), cos(0.1, 100), "cosine");
  check(optim.cosineDecay(0.1, 10, { alpha: 0.2, exponent: 2 }), cos(0.1, 10, 0.2, 2), "alpha, exponent");
  close(optim.cosineDecay(1, 100)(50), 0.5, 1e-15);
  close(optim.cosineDecay(1, 100)(100), 0, 1e-16);
});

test("warmupCosineDecay: linear warm-up to the peak, then cosine to endValue at decaySteps", () => {
  const want = (init: number, peak: number, warm: number, decay: number, end = 0) => (c: number) => {
    if (c < warm) return (init - peak) * (1 - c / warm) + peak;
    const n = decay - warm, alpha = end / peak, k = Math.min(c - warm, n);
    return peak * ((1 - alpha) * (0.5 * (1 + Math.cos((Math.PI * k) / n))) + alpha);
  };
  check(optim.warmupCosineDecay(0, 1, 10, 100), want(0, 1, 10, 100), "warmup cosine");
  check(optim.warmupCosineDecay(0.01, 0.1, 5, 50, { endValue: 0.001 }), want(0.01, 0.1, 5, 50, 0.001), "end value");
  close(optim.warmupCosineDecay(0, 1, 10, 100)(5), 0.5, 1e-16);
  close(optim.warmupCosineDecay(0, 1, 10, 100)(10), 1, 1e-16);
  // A zero peak has alpha 0 (no division by zero).
  check(optim.warmupCosineDecay(0, 0, 10, 100, { endValue: 1 }), () => 0, "zero peak");
});

test("piecewiseConstant: scales multiply in once the count reaches each boundary", () => {
  check(optim.piecewiseConstant(1, { 10: 0.5, 3: 0.1 }), (c) => (c < 3 ? 1 : c < 10 ? 0.1 : 0.05), "piecewise");
  check(optim.piecewiseConstant(0.2), () => 0.2, "no boundaries");
});

test("linearSchedule, polynomialSchedule and joinSchedules", () => {
  check(optim.linearSchedule(1, 0, 10, { transitionBegin: 2 }), (c) => 1 - Math.min(Math.max(c - 2, 0), 10) / 10, "linear");
  check(optim.polynomialSchedule(1, 0.5, 2, 20), (c) => 0.5 * (1 - Math.min(c, 20) / 20) ** 2 + 0.5, "polynomial");
  check(optim.polynomialSchedule(1, 0.5, 2, 0), () => 1, "polynomial no steps");
  const j = optim.joinSchedules([optim.constant(1), optim.linearSchedule(1, 0, 10), optim.constant(7)], [5, 50]);
  check(j, (c) => (c < 5 ? 1 : c < 50 ? 1 - Math.min(c - 5, 10) / 10 : 7), "join");
});

test("schedule errors: unknown options and bad arguments", () => {
  throwsWith(() => optim.exponentialDecay(1, 10, 0.5, { stairs: true } as never), JacobiError, ["optim.exponentialDecay", '"stairs"']);
  throwsWith(() => optim.cosineDecay(1, 10, { a: 1 } as never), JacobiError, ["optim.cosineDecay", '"a"', "alpha, exponent"]);
  throwsWith(() => optim.cosineDecay(1, 0), JacobiError, ["decaySteps must be positive"]);
  throwsWith(() => optim.warmupCosineDecay(0, 1, 10, 10), JacobiError, ["decaySteps (10) must exceed warmupSteps (10)"]);
  throwsWith(() => optim.warmupCosineDecay(0, 1, 1, 10, { end: 0 } as never), JacobiError, ['"end"']);
  throwsWith(() => optim.piecewiseConstant(1, { 5: -1 }), JacobiError, ["non-negative"]);
  throwsWith(() => optim.piecewiseConstant(1, [0.5] as never), JacobiError, ["boundariesAndScales"]);
  throwsWith(() => optim.piecewiseConstant(1, { x: 1 } as never), JacobiError, ['boundary "x"']);
  throwsWith(() => optim.linearSchedule(1, 0, 10, { begin: 1 } as never), JacobiError, ['"begin"']);
  throwsWith(() => optim.polynomialSchedule(1, 0, 1, 10, { begin: 1 } as never), JacobiError, ['"begin"']);
  throwsWith(() => optim.joinSchedules([], []), JacobiError, ["non-empty array of schedules"]);
  throwsWith(() => optim.joinSchedules([optim.constant(1)], [3]), JacobiError, ["expected 0 boundaries"]);
  throwsWith(() => optim.joinSchedules([optim.constant(1), optim.constant(2)], "x" as never), JacobiError, ["got x"]);
  throwsWith(() => optim.constant("1" as never), JacobiError, ["optim.constant", "value"]);
});

test.run();
