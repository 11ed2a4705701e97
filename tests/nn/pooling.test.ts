// nn.maxPool / nn.avgPool (flax.linen's channels-last conventions) against torch's max_pool2d and
// avg_pool2d in float64 (tests/fixtures/gen-conv.py): values and gradients, with and without
// counting padding; unbatched and multi-batch-axis inputs; checkGrads; vmap and jit; the errors.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { JacobiError, OptionsError, ShapeError, type Tensor, checkGrads, grad, jit, nn, np, vmap } from "../../src/index.js";
import { guardTraceState } from "../guard.js";
import { close, throwsWith } from "../helpers.js";

guardTraceState(test);

type PoolCase = { x: unknown; kernel: number[]; stride: number[]; padding: [number, number][]; countIncludePad: boolean; y: unknown; r: unknown; dx: unknown };
const fx = JSON.parse(readFileSync(new URL("../fixtures/conv.json", import.meta.url), "utf8")) as { pool: Record<string, PoolCase> };

const toNHWC = (t: Tensor) => np.transpose(t, [0, 2, 3, 1]);
const toNCHW = (t: Tensor) => np.transpose(t, [0, 3, 1, 2]);

test("values and gradients match torch's max_pool2d and avg_pool2d (NCHW fixtures, NHWC pools)", () => {
  for (const [name, c] of Object.entries(fx.pool)) {
    const x = toNHWC(np.array(c.x)), r = toNHWC(np.array(c.r));
    const f = (a: Tensor) =>
      name.startsWith("max") ? nn.maxPool(a, c.kernel, c.stride, c.padding) : nn.avgPool(a, c.kernel, c.stride, c.padding, { countIncludePad: c.countIncludePad });
    close(toNCHW(f(x)), c.y, 1e-14, `${name} values`);
    const dx = grad((a: Tensor) => np.sum(np.multiply(f(a), r)))(x) as Tensor;
    close(toNCHW(dx), c.dx, 1e-14, `${name} dx`);
  }
});

test("SAME padding, default strides, unbatched and two batch axes", () => {
  const x = np.reshape(np.arange(2 * 5 * 4 * 3), [2, 5, 4, 3]);
  // Default strides are 1; SAME keeps the spatial size.
  assert.equal(nn.maxPool(x, [2, 2], null, "SAME").shape, [2, 5, 4, 3]);
  assert.equal(nn.avgPool(x, [3, 3]).shape, [2, 3, 2, 3]);
  // The values of an increasing ramp: each 2x2 window's maximum is its last element.
  const m = nn.maxPool(x, [2, 2], [2, 2]);
  assert.equal(m.shape, [2, 2, 2, 3]);
  close(np.take(np.take(m, 0, 0), 0, 0), [[15, 16, 17], [21, 22, 23]], 0);
  // No batch axis: pooled as one example.
  const one = np.take(x, 1, 0);
  close(nn.maxPool(one, [2, 2], [2, 2]), np.take(m, 1, 0).tolist(), 0);
  // Two batch axes.
  const two = np.reshape(x, [1, 2, 5, 4, 3]);
  close(nn.avgPool(two, [2, 2], [1, 2], [[1, 0], [0, 0]]), [nn.avgPool(x, [2, 2], [1, 2], [[1, 0], [0, 0]]).tolist()], 1e-15);
  // 1-d pooling over [batch, length, features], integers for max.
  const ints = np.array([[[3], [1], [4], [1], [5]]], "int32");
  const mi = nn.maxPool(ints, [2], [1]);
  assert.is(mi.dtype, "int32");
  close(mi, [[[3], [4], [4], [5]]], 0);
  close(nn.avgPool(ints, [2], [2]), [[[2], [2.5]]], 0);
});

test("checkGrads in both modes; vmap and jit agree with plain calls", () => {
  const x = np.reshape(np.sin(np.arange(2 * 5 * 4 * 2).mul(1.3)), [2, 5, 4, 2]);
  assert.is(checkGrads((a: Tensor) => nn.maxPool(a, [2, 2], [1, 2], [[1, 0], [0, 1]]), [x], { order: 2 }), undefined);
  assert.is(checkGrads((a: Tensor) => nn.avgPool(a, [3, 2], [2, 1], "SAME", { countIncludePad: false }), [x], { order: 2 }), undefined);
  const f = (a: Tensor) => nn.maxPool(a, [2, 2], [2, 2]);
  close(vmap(f)(x), f(x).tolist(), 0);
  close(jit(f)(x), f(x).tolist(), 0);
  const g = grad((a: Tensor) => np.sum(nn.avgPool(a, [2, 2], [1, 1], "SAME")));
  close(jit(g)(x), (g(x) as Tensor).tolist(), 1e-15);
});

test("errors name what is wrong", () => {
  const x = np.ones([1, 4, 4, 1]);
  throwsWith(() => nn.maxPool(x, [] as number[]), JacobiError, ["window"]);
  throwsWith(() => nn.maxPool(x, [0, 2]), JacobiError, ["window"]);
  throwsWith(() => nn.maxPool(np.ones([4, 4]), [2, 2]), ShapeError, ["no room"]);
  throwsWith(() => nn.maxPool(x, [2, 2], [1]), JacobiError, ["strides"]);
  throwsWith(() => nn.avgPool(x, [2, 2], null, [[0, 0]]), JacobiError, ["padding"]);
  throwsWith(() => nn.avgPool(x, [2, 2], null, "VALID", { countPad: true } as never), OptionsError, ["countPad"]);
});

test.run();
