// lax.scan with checkpoint: { snapshots }: reverse mode on Griewank's binomial schedule.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { guardTraceState } from "../guard.js";
import { JacobiError, type Tensor, checkGrads, grad, hessian, jit, jvp, lax, makeJaxpr, np, vjp, vmap } from "../../src/index.js";
import { optimalRecomputation, revolve, splitPoint } from "../../src/primitives/control-flow/revolve.js";
import { revolveStats } from "../../src/primitives/control-flow/scan.js";
import { close, flat, throwsWith } from "../helpers.js";

guardTraceState(test);

/** The optimum by dynamic programming: F(l, s) = min over m of m + F(l − m, s − 1) + F(m, s). */
function dpOptimum(maxSteps: number, maxSnapshots: number): number[][] {
  const F = Array.from({ length: maxSnapshots + 1 }, () => new Array<number>(maxSteps + 1).fill(0));
  for (let l = 1; l <= maxSteps; l++) F[0][l] = (l * (l - 1)) / 2;
  for (let s = 1; s <= maxSnapshots; s++) {
    for (let l = 2; l <= maxSteps; l++) {
      let best = Infinity;
      for (let m = 1; m < l; m++) best = Math.min(best, m + F[s - 1][l - m] + F[s][m]);
      F[s][l] = best;
    }
  }
  return F;
}

test("the closed-form optimum and the split point agree with the dynamic programme", () => {
  const F = dpOptimum(160, 6);
  for (let s = 0; s <= 6; s++) {
    for (let l = 1; l <= 160; l++) {
      assert.is(optimalRecomputation(l, s), F[s][l], `optimum for ${l} steps, ${s} snapshots`);
      if (s > 0 && l > 1) {
        const m = splitPoint(l, s);
        assert.is(m + F[s - 1][l - m] + F[s][m], F[s][l], `split ${m} of ${l} steps with ${s} snapshots`);
      }
    }
  }
});

test("revolve reverses every step once, in order, within the snapshot budget, with the optimal recomputation", () => {
  for (const [steps, snapshots] of [[1, 0], [7, 0], [10, 1], [50, 3], [1000, 5], [10000, 20], [100000, 20]]) {
    let advanced = 0, held = 0, maxHeld = 0;
    const available = new Set([0]);
    const order: number[] = [];
    revolve(steps, snapshots, (a) => {
      if (a.kind === "advance") {
        assert.ok(available.has(a.from), `advance from a state that is not held: ${a.from}`);
        advanced += a.to - a.from;
        if (a.snapshot) {
          available.add(a.to);
          maxHeld = Math.max(maxHeld, ++held);
        }
      } else if (a.kind === "free") {
        available.delete(a.at);
        held--;
      } else order.push(a.step);
    });
    assert.is(order.length, steps);
    assert.ok(order.every((t, i) => t === steps - 1 - i), "steps reversed last to first");
    assert.is(advanced, optimalRecomputation(steps, snapshots), `${steps} steps, ${snapshots} snapshots`);
    assert.ok(maxHeld <= snapshots);
  }
  assert.is(optimalRecomputation(100000, 20), 519270);
});

// An RNN-like recurrence with a captured weight, several carries and per-step outputs.
const rnn = (snapshots: number | undefined, reverse = false) => (h0: Tensor, xs: Tensor, w: Tensor) => {
  const [[h, s], ys] = lax.scan(
    ([h, s]: Tensor[], x: Tensor) => {
      const next = np.tanh(h.mul(w).add(x));
      return [[next, s.add(next.sum())], next.mul(next).sum()];
    },
    [h0, np.array(0)],
    xs,
    snapshots === undefined ? { reverse } : { reverse, checkpoint: { snapshots } },
  );
  return h.sum().add(s).add(ys.mul(ys).sum());
};
const args = (T: number, n = 3): [Tensor, Tensor, Tensor] => [
  np.array(Array.from({ length: n }, (_, i) => 0.1 * (i + 1))),
  np.array(Array.from({ length: T * n }, (_, i) => Math.sin(i))).reshape([T, n]),
  np.array(0.9),
];

test("gradients equal storing everything, bit for bit, for every snapshot count and in reverse scans", () => {
  for (const reverse of [false, true]) {
    const want = grad(rnn(undefined, reverse), { argnums: [0, 1, 2] })(...args(40));
    for (const s of [0, 1, 2, 5, 39, 100]) {
      revolveStats.advances = 0;
      const got = grad(rnn(s, reverse), { argnums: [0, 1, 2] })(...args(40));
      got.forEach((g, i) => assert.equal(flat(g), flat(want[i]), `snapshots ${s}, reverse ${reverse}, argument ${i}`));
      assert.is(revolveStats.advances, optimalRecomputation(40, s), `recomputed steps with ${s} snapshots`);
    }
  }
});

test("checkpointed scans compose: vmap(grad), grad(vmap), jit(grad), jvp, hessian, checkGrads", () => {
  const [h0, xs, w] = args(12);
  const f = rnn(3), g = rnn(undefined);
  const hs = np.stack([h0, h0.mul(2)]);
  close(vmap(grad(f), { inAxes: [0, null, null] })(hs, xs, w), vmap(grad(g), { inAxes: [0, null, null] })(hs, xs, w), 1e-13, "vmap(grad)");
  const batched = (fn: typeof f) => (h: Tensor) => vmap((hh: Tensor) => fn(hh, xs, w))(h).sum();
  close(grad(batched(f))(hs), grad(batched(g))(hs), 1e-13, "grad(vmap)");
  close(jit(grad(f))(h0, xs, w), grad(g)(h0, xs, w), 1e-13, "jit(grad)");
  close(jvp((h: Tensor) => f(h, xs, w), [h0], [np.ones([3])])[1], jvp((h: Tensor) => g(h, xs, w), [h0], [np.ones([3])])[1], 1e-13, "jvp");
  close(hessian((h: Tensor) => f(h, xs, w))(h0), hessian((h: Tensor) => g(h, xs, w))(h0), 1e-12, "hessian");
  assert.is(checkGrads((h: Tensor, ww: Tensor) => f(h, xs, ww), [h0, w], { modes: ["rev"], order: 2 }), undefined);
  assert.match(makeJaxpr((h: Tensor) => vjp((hh: Tensor) => f(hh, xs, w), [h])[0])(h0).toString(), /scan/);
});

test("options are checked", () => {
  const body = (c: Tensor, x: Tensor) => [c.add(x), c];
  for (const [opt, words] of [
    [{ snapshots: -1 }, ["checkpoint.snapshots must be a non-negative integer"]],
    [{ snapshots: 1.5 }, ["checkpoint.snapshots must be a non-negative integer"]],
    [{ snapshots: 2, policy: "x" }, ['unknown checkpoint option "policy"']],
    [3, ["checkpoint must be an object"]],
  ] as const) {
    throwsWith(() => lax.scan(body, 0, np.ones([3]), { checkpoint: opt as never }), JacobiError, words as unknown as string[]);
  }
});

// Memory: with the garbage collector reachable, the live bytes during the backward pass.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const liveBytes = (): number => {
  // Twice: the first collection finalizes buffers whose memory the second one releases.
  gc();
  gc();
  return process.memoryUsage().arrayBuffers;
};

test("a 10^4-step scan with 20 snapshots holds under 1/50 of the bytes storing every step holds", () => {
  const T = 10000, n = 200;
  const body = (c: Tensor, x: Tensor) => [np.sin(c).mul(0.5).add(x), c.sum()];
  const run = (snapshots?: number) => (c0: Tensor, xs: Tensor) => {
    const [c, ys] = lax.scan(body, c0, xs, snapshots === undefined ? {} : { checkpoint: { snapshots } });
    return c.sum().add(ys.sum());
  };
  const c0 = np.array(Array.from({ length: n }, (_, i) => Math.cos(i)));
  const xs = np.array(Array.from({ length: T }, (_, i) => 0.001 * (i % 7))).reshape([T, 1]);
  const before = liveBytes();
  const [, backAll] = vjp(run(), [c0, xs]);
  const storedAll = liveBytes() - before;
  const want = backAll(np.array(1));
  revolveStats.advances = 0;
  let peak = 0, calls = 0;
  const base = liveBytes();
  const [, back] = vjp(run(20), [c0, xs]);
  revolveStats.sample = () => {
    if (++calls % 1000 === 0) peak = Math.max(peak, liveBytes() - base);
  };
  let got: Tensor[];
  try {
    got = back(np.array(1));
  } finally {
    revolveStats.sample = undefined;
  }
  got.forEach((g, i) => assert.equal(flat(g), flat(want[i]), `gradient ${i}`));
  assert.is(revolveStats.advances, optimalRecomputation(T, 20));
  assert.ok(storedAll > 50 * n * 8 * 100, `storing every step holds ${storedAll} bytes`);
  assert.ok(peak * 50 <= storedAll, `checkpointed peak ${peak} bytes vs ${storedAll} stored`);
});

test.run();
