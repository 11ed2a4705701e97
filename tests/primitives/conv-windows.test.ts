// lax.reduceWindow (sum, max, min; base and window dilation, negative padding) against a direct
// loop, its derivatives and the adjoint identities of its linear pieces; np.convolve against
// NumPy (tests/fixtures/gen-conv.py) in every mode, with its derivatives; the errors.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DTypeError, JacobiError, OptionsError, ShapeError, type Tensor, checkGrads, jit, lax, np, vjp } from "../../src/index.js";
import { seeded } from "../../src/core/random.js";
import { selectAndGatherAdd, selectAndScatterAdd } from "../../src/primitives/reduce-window.js";
import { guardTraceState } from "../guard.js";
import { close, throwsWith } from "../helpers.js";

guardTraceState(test);

const fx = JSON.parse(readFileSync(new URL("../fixtures/conv.json", import.meta.url), "utf8")) as {
  convolve: { a: number[]; v: number[]; mode: "full" | "same" | "valid"; y: number[] }[];
};
const rand = seeded(5);
const rnd = (shape: number[]): Tensor => np.reshape(np.array(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1)), shape);

/** reduce_window over a 2-d array written out: padding reads as `init`. */
function naive(x: number[][], init: number, op: (a: number, b: number) => number, win: number[], st: number[], pad: [number, number][], bd: number[], wd: number[]): number[][] {
  const dims = [x.length, x[0].length];
  const out = dims.map((d, i) => {
    const padded = 1 + bd[i] * (d - 1) + pad[i][0] + pad[i][1];
    return Math.floor((padded - (1 + wd[i] * (win[i] - 1))) / st[i]) + 1;
  });
  const y: number[][] = [];
  for (let p = 0; p < out[0]; p++) {
    y.push([]);
    for (let q = 0; q < out[1]; q++) {
      let acc = init;
      for (let a = 0; a < win[0]; a++) {
        for (let b = 0; b < win[1]; b++) {
          const i = p * st[0] + a * wd[0] - pad[0][0], j = q * st[1] + b * wd[1] - pad[1][0];
          if (i < 0 || j < 0 || i % bd[0] !== 0 || j % bd[1] !== 0 || i / bd[0] >= dims[0] || j / bd[1] >= dims[1]) continue;
          acc = op(acc, x[i / bd[0]][j / bd[1]]);
        }
      }
      y[p].push(acc);
    }
  }
  return y;
}

const configs: { win: number[]; st: number[]; pad: [number, number][]; bd: number[]; wd: number[] }[] = [
  { win: [2, 2], st: [1, 1], pad: [[0, 0], [0, 0]], bd: [1, 1], wd: [1, 1] },
  { win: [3, 2], st: [2, 1], pad: [[1, 1], [0, 2]], bd: [1, 1], wd: [1, 2] },
  { win: [2, 2], st: [1, 2], pad: [[-1, 1], [1, 0]], bd: [2, 1], wd: [1, 1] },
];

test("sum, max and min windows equal a direct loop, with strides, dilations and negative padding", () => {
  const x = rnd([5, 6]);
  const xs = x.tolist() as number[][];
  for (const c of configs) {
    const opts = { baseDilation: c.bd, windowDilation: c.wd };
    const where = JSON.stringify(c);
    close(lax.reduceWindow(x, 0, "sum", c.win, c.st, c.pad, opts), naive(xs, 0, (a, b) => a + b, c.win, c.st, c.pad, c.bd, c.wd), 1e-15, `sum ${where}`);
    close(lax.reduceWindow(x, 0, np.add, c.win, c.st, c.pad, opts), naive(xs, 0, (a, b) => a + b, c.win, c.st, c.pad, c.bd, c.wd), 1e-15, `np.add ${where}`);
    close(lax.reduceWindow(x, -Infinity, np.maximum, c.win, c.st, c.pad, opts), naive(xs, -Infinity, Math.max, c.win, c.st, c.pad, c.bd, c.wd), 0, `max ${where}`);
    close(lax.reduceWindow(x, Infinity, "min", c.win, c.st, c.pad, opts), naive(xs, Infinity, Math.min, c.win, c.st, c.pad, c.bd, c.wd), 0, `min ${where}`);
  }
  // SAME padding keeps ceil(size / stride); integers keep their dtype; a window of padding only is the identity.
  assert.equal(lax.reduceWindow(x, 0, "add", [3, 3], [2, 2], "SAME").shape, [3, 3]);
  const ints = lax.reduceWindow(np.array([[1, 5], [7, 2]], "int32"), -2147483648, "max", [1, 2], [1, 1], [[0, 0], [0, 2]]);
  assert.is(ints.dtype, "int32");
  close(ints, [[5, 5, -2147483648], [7, 2, -2147483648]], 0);
  close(lax.reduceWindow(np.array([[1.5, 2]], "float32"), 0, "sum", [1, 2], [1, 1], "VALID"), [[3.5]], 0);
  close(lax.reduceWindow(np.array([NaN, 1, 2]), -Infinity, "max", [2], [1], "VALID"), [NaN, 2], 0);
});

test("derivatives in both modes and the adjoint identities of sum and of max's select pair", () => {
  const x = rnd([5, 6]);
  for (const c of configs) {
    const opts = { baseDilation: c.bd, windowDilation: c.wd };
    for (const kind of ["sum", "max", "min"] as const) {
      const init = kind === "sum" ? 0 : kind === "max" ? -Infinity : Infinity;
      assert.is(checkGrads((a: Tensor) => lax.reduceWindow(a, init, kind, c.win, c.st, c.pad, opts), [x], { order: 2 }), undefined);
    }
    const [y, back] = vjp((a: Tensor) => lax.reduceWindow(a, 0, "sum", c.win, c.st, c.pad, opts), [x]);
    const ct = rnd(y.shape);
    const [cx] = back(ct) as Tensor[];
    close(np.sum(np.multiply(cx, x)).item(), np.sum(np.multiply(ct, y)).item(), 1e-13);
    const p = { window: c.win, strides: c.st, padding: c.pad, baseDilation: c.bd, windowDilation: c.wd };
    const t = rnd(x.shape);
    const g = selectAndGatherAdd(t, x, p);
    const u = rnd(g.shape);
    close(np.sum(np.multiply(selectAndScatterAdd(u, x, p), t)).item(), np.sum(np.multiply(u, g)).item(), 1e-13);
  }
});

test("np.convolve equals NumPy in full, same and valid modes, either argument longer", () => {
  for (const c of fx.convolve) {
    close(np.convolve(np.array(c.a), np.array(c.v), c.mode), c.y, 1e-15, `${c.a.length} * ${c.v.length} ${c.mode}`);
  }
  close(np.convolve(np.array([1, 2, 3]), np.array([0, 1, 0.5])), [0, 1, 2.5, 4, 1.5], 0);
  const ints = np.convolve(np.array([1, 2, 3], "int32"), np.array([1, 1], "int32"), "valid");
  assert.is(ints.dtype, "int32");
  close(ints, [3, 5], 0);
  const f = jit((a: Tensor, v: Tensor) => np.convolve(a, v, "same"));
  close(f(np.array([1, 2, 3, 4]), np.array([1, -1, 2])), np.convolve(np.array([1, 2, 3, 4]), np.array([1, -1, 2]), "same").tolist(), 0);
  for (const mode of ["full", "same", "valid"] as const) {
    assert.is(checkGrads((a: Tensor, v: Tensor) => np.convolve(a, v, mode), [rnd([5]), rnd([3])], { order: 2 }), undefined);
  }
});

test("errors name what is wrong", () => {
  const x = rnd([4, 4]);
  throwsWith(() => lax.reduceWindow(x, 1, "sum", [2, 2], [1, 1], "VALID"), JacobiError, ["initValue", "identity of sum"]);
  throwsWith(() => lax.reduceWindow(x, 0, "prod" as never, [2, 2], [1, 1], "VALID"), JacobiError, ["computation"]);
  throwsWith(() => lax.reduceWindow(x, 0, "sum", [2], [1, 1], "VALID"), JacobiError, ["windowDimensions"]);
  throwsWith(() => lax.reduceWindow(x, 0, "sum", [2, 2], [1, 1], "VALID", { windowDilation: [0, 1] }), JacobiError, ["windowDilation"]);
  throwsWith(() => lax.reduceWindow(x, 0, "sum", [2, 2], [1, 1], "VALID", { dilation: [1, 1] } as never), OptionsError, ["dilation"]);
  throwsWith(() => lax.reduceWindow(x, 0, "sum", [2, 2], [1, 1], [[-5, 0], [0, 0]]), ShapeError, ["negative padding"]);
  throwsWith(() => lax.reduceWindow(np.array([1, 2], "int32"), Infinity, "min", [1], [1], "VALID"), JacobiError, ["float"]);
  throwsWith(() => lax.reduceWindow(np.array([true, false]), 0, "sum", [1], [1], "VALID"), DTypeError, ["bool"]);
  const p = { window: [2, 2], strides: [1, 1], padding: [[0, 0], [0, 0]] as [number, number][], baseDilation: [1, 1], windowDilation: [1, 1] };
  throwsWith(() => selectAndGatherAdd(rnd([3, 3]), x, p), ShapeError, ["first operand must have shape [4,4]"]);
  throwsWith(() => selectAndGatherAdd(np.astype(x, "float32"), x, p), DTypeError, ["equal dtypes"]);
  throwsWith(() => np.convolve(np.array([1, 2]), 1, "circular" as never), JacobiError, ["mode"]);
  throwsWith(() => np.convolve(np.array([[1, 2]]), np.array([1]), "full"), ShapeError, ["1-d"]);
  throwsWith(() => np.convolve(np.array([]), np.array([1]), "full"), ShapeError, ["empty"]);
  throwsWith(() => np.convolve(np.array([true]), np.array([false]), "full"), JacobiError, ["bool"]);
});

test.run();
