// nn.dotProductAttention against attention written out in torch float64 (tests/fixtures/gen-nn.py):
// plain, causal, and with bias, boolean mask and scale; gradients for q, k and v; grouped heads,
// the 3-D form, vmap and jit, and the errors.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DTypeError, JacobiError, ShapeError, type Tensor, checkGrads, grad, jit, nn, np, vmap } from "../../src/index.js";
import { guardTraceState } from "../guard.js";
import { close, flat, sameNumbers, throwsWith } from "../helpers.js";

guardTraceState(test);

type Case = { q: unknown; k: unknown; v: unknown; w: unknown; y: unknown; dq: unknown; dk: unknown; dv: unknown; bias?: unknown; mask?: unknown };
const fx = JSON.parse(readFileSync(new URL("../fixtures/nn.json", import.meta.url), "utf8")) as { attention: Record<string, Case> };

test("values and gradients match torch: plain, causal, bias + mask + scale", () => {
  const opts: Record<string, (c: Case) => Parameters<typeof nn.dotProductAttention>[3]> = {
    plain: () => ({}),
    causal: () => ({ isCausal: true }),
    biasMaskScale: (c) => ({ bias: np.array(c.bias), mask: np.array(c.mask, "bool"), scale: 0.3 }),
  };
  for (const [name, o] of Object.entries(opts)) {
    const c = fx.attention[name];
    const q = np.array(c.q), k = np.array(c.k), v = np.array(c.v), w = np.array(c.w);
    close(nn.dotProductAttention(q, k, v, o(c)), c.y, 1e-13, `${name} values`);
    const loss = (a: Tensor, b: Tensor, d: Tensor) => np.sum(np.multiply(nn.dotProductAttention(a, b, d, o(c)), w));
    const [dq, dk, dv] = grad(loss, { argnums: [0, 1, 2] })(q, k, v) as Tensor[];
    close(dq, c.dq, 1e-12, `${name} dq`);
    close(dk, c.dk, 1e-12, `${name} dk`);
    close(dv, c.dv, 1e-12, `${name} dv`);
  }
});

test("checkGrads in both modes, with a causal mask and a bias", () => {
  const r = (shape: number[], seed: number) => np.reshape(np.array(Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => Math.sin(seed + 1.7 * i))), shape);
  const q = r([1, 3, 2, 2], 1), k = r([1, 3, 2, 2], 2), v = r([1, 3, 2, 2], 3), bias = r([1, 1, 3, 3], 4);
  assert.is(checkGrads((a: Tensor, b: Tensor, c: Tensor) => nn.dotProductAttention(a, b, c, { isCausal: true, bias }), [q, k, v], { order: 1 }), undefined);
  assert.is(checkGrads((a: Tensor, b: Tensor) => nn.dotProductAttention(a, b, b, { bias: a.sum() }), [q, k], { order: 2 }), undefined);
});

test("[T, N, H] inputs, vmap over a batch, and jit all equal the batched form", () => {
  const c = fx.attention.causal;
  const q = np.array(c.q), k = np.array(c.k), v = np.array(c.v);
  const batched = nn.dotProductAttention(q, k, v, { isCausal: true });
  const f = (a: Tensor, b: Tensor, d: Tensor) => nn.dotProductAttention(a, b, d, { isCausal: true });
  const one = f(q.slice(1), k.slice(1), v.slice(1));
  assert.equal(one.shape, [3, 2, 4]);
  close(one, batched.slice(1), 1e-15);
  close(vmap(f)(q, k, v), batched, 1e-15);
  sameNumbers(flat(jit(f)(q, k, v)), flat(batched));
});

test("grouped-query heads: K key/value heads serve N = G K query heads, head n reading floor(n / G)", () => {
  const c = fx.attention.plain;
  const q = np.array(c.q), k = np.array(c.k), v = np.array(c.v); // N = 2 heads
  // One key/value head (multi-query): the same as both query heads reading head 0 of k and v.
  const k1 = k.slice(null, null, [0, 1]), v1 = v.slice(null, null, [0, 1]);
  const mqa = nn.dotProductAttention(q, k1, v1);
  const rep = (t: Tensor) => np.concatenate([t, t], 2);
  close(mqa, nn.dotProductAttention(q, rep(k1), rep(v1)), 1e-15);
  // Four query heads over two key/value heads: heads 0, 1 read kv head 0 and heads 2, 3 kv head 1.
  const q4 = np.concatenate([q, np.multiply(q, 0.5)], 2);
  const gqa = nn.dotProductAttention(q4, k, v);
  const order = (t: Tensor) => np.concatenate([t.slice(null, null, [0, 1]), t.slice(null, null, [0, 1]), t.slice(null, null, [1, 2]), t.slice(null, null, [1, 2])], 2);
  close(gqa, nn.dotProductAttention(q4, order(k), order(v)), 1e-15);
});

test("a fully masked row attends uniformly (JAX's large negative, not -inf): the mean of the values", () => {
  const q = np.ones([1, 2, 1, 2]), k = np.array([[[[1, 0]], [[0, 1]], [[2, 2]]]]), v = np.array([[[[1, 2]], [[3, 4]], [[5, 9]]]]);
  const mask = np.array([[[[false, false, false], [true, false, true]]]]);
  const out = nn.dotProductAttention(q, k, v, { mask }).tolist() as number[][][][];
  close(out[0][0][0], [3, 5], 1e-15);
  const l0 = 1 / Math.SQRT2, l2 = 4 / Math.SQRT2, z = Math.exp(l0) + Math.exp(l2);
  close(out[0][1][0], [(Math.exp(l0) * 1 + Math.exp(l2) * 5) / z, (Math.exp(l0) * 2 + Math.exp(l2) * 9) / z], 1e-15);
  // A mask and isCausal together: both must allow a pair.
  const both = nn.dotProductAttention(q, k, v, { mask: np.array([true, false, true]), isCausal: true }).tolist() as number[][][][];
  close(both[0][0][0], [1, 2], 1e-15);
  close(both[0][1][0], [1, 2], 1e-15);
  // float32 stays float32.
  const o32 = nn.dotProductAttention(np.astype(q, "float32"), np.astype(k, "float32"), np.astype(v, "float32"), { mask });
  assert.is(o32.dtype, "float32");
  close(o32.tolist(), out, 1e-6);
});

test("errors name the operation and the shapes", () => {
  const q = np.ones([1, 2, 2, 4]), k = np.ones([1, 3, 2, 4]);
  throwsWith(() => nn.dotProductAttention(np.ones([2, 4]), np.ones([2, 4]), np.ones([2, 4])), ShapeError, ["nn.dotProductAttention", "[B, T, N, H]", "query [2,4]"]);
  throwsWith(() => nn.dotProductAttention(q, k, np.ones([1, 3, 2, 3])), ShapeError, ["value must have key's shape"]);
  throwsWith(() => nn.dotProductAttention(q, np.ones([1, 3, 2, 3]), np.ones([1, 3, 2, 3])), ShapeError, ["batch and head sizes"]);
  throwsWith(() => nn.dotProductAttention(np.ones([1, 2, 3, 4]), k, k), ShapeError, ["multiple of the key/value heads"]);
  throwsWith(() => nn.dotProductAttention(q, k, k, { mask: np.ones([1, 1, 2, 3]) }), DTypeError, ["mask must be a bool array", "float64"]);
  throwsWith(() => nn.dotProductAttention(q, k, k, { bias: np.ones([1, 1, 2, 4]) }), ShapeError, ["bias of shape [1,1,2,4]", "[1,2,2,3]"]);
  throwsWith(() => nn.dotProductAttention(q, k, k, { bias: np.ones([1, 1, 1, 2, 3]) }), ShapeError, ["bias must have at most 4 dimensions"]);
  throwsWith(() => nn.dotProductAttention(q, k, k, { causal: true } as never), JacobiError, ['"causal"', "isCausal"]);
  throwsWith(() => nn.dotProductAttention(q, k, k, { scale: "1" as never }), JacobiError, ["scale", "finite number"]);
});

test.run();
