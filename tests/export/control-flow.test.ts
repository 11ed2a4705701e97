import { test } from "uvu";
import * as assert from "uvu/assert";
import * as ort from "onnxruntime-node";
import { type Tensor, exportOnnx, grad, jvp, lax, np, tree, vmap } from "../../src/index.js";
import { guardTraceState } from "../guard.js";
import { close } from "../helpers.js";

guardTraceState(test);

type F = (...args: any[]) => any;

/** The exported model, run in ONNX Runtime, agrees with eager jacobi to 1e-12. */
async function agrees(f: F, args: unknown[]): Promise<void> {
  const want = tree.leaves(f(...args)) as Tensor[];
  const session = await ort.InferenceSession.create(exportOnnx(f, args));
  const feeds: Record<string, ort.Tensor> = {};
  (tree.leaves(args) as Tensor[]).forEach((l, i) => (feeds[`x${i}`] = new ort.Tensor(l.dtype, l.toTypedArray() as Float64Array, l.shape)));
  const out = await session.run(feeds);
  assert.equal(session.outputNames.length, want.length);
  session.outputNames.forEach((n, i) => {
    assert.equal([...out[n].dims], want[i].shape);
    close(Array.from(out[n].data as Float64Array), Array.from(want[i].toTypedArray(), Number), 1e-12, `output ${i}`);
  });
}

const x = np.array([0.3, -0.7, 1.9]);

test("cond and switch lower to If, every branch reachable", async () => {
  const f = (p: Tensor, a: Tensor) => lax.cond(np.greater(p, 0), (v: Tensor) => np.sin(v), (v: Tensor) => np.multiply(v, 2), a);
  await agrees(f, [np.array(1), x]);
  await agrees(f, [np.array(-1), x]);
  const s = (k: Tensor, a: Tensor) => lax.switch(k, [(v: Tensor) => np.exp(v), (v: Tensor) => np.tanh(v), (v: Tensor) => np.negative(v)], a);
  for (const k of [-3, 0, 1, 2, 7]) await agrees(s, [np.array(k, "int32"), x]);
  await agrees((p: Tensor, a: Tensor, t: Tensor) => jvp((v: Tensor) => f(p, v), [a], [t]), [np.array(1), x, np.array([1, 0.5, -2])]);
  await agrees(grad((a: Tensor) => np.sum(f(np.array(-1), a))), [x]);
});

test("whileLoop and foriLoop lower to Loop", async () => {
  const w = (a: Tensor) => lax.whileLoop((c: [Tensor, Tensor]) => np.less(np.sum(c[1]), 50), (c: [Tensor, Tensor]) => [np.add(c[0], 1), np.multiply(c[1], 1.5)], [np.array(0), a]);
  await agrees(w, [np.abs(x)]);
  await agrees((a: Tensor) => lax.foriLoop(0, 5, (i: Tensor, v: Tensor) => np.add(np.sin(v), i.astype("float64")), a), [x]);
});

test("scan lowers to a Loop stacking its ys, forward, reversed, differentiated and batched", async () => {
  const step = (c: Tensor, v: Tensor): [Tensor, Tensor] => [np.add(np.multiply(c, 0.9), np.sin(v)), np.multiply(c, v)];
  const xs = np.reshape(np.linspace(-1, 1, 12), [4, 3]);
  await agrees((c: Tensor, v: Tensor) => lax.scan(step, c, v), [x, xs]);
  await agrees((c: Tensor, v: Tensor) => lax.scan(step, c, v, { reverse: true }), [x, xs]);
  await agrees(grad((c: Tensor, v: Tensor) => np.sum(lax.scan(step, c, v)[1]), { argnums: [0, 1] }), [x, xs]);
  await agrees(vmap((c: Tensor) => lax.scan(step, c, xs)[0]), [np.reshape(np.linspace(0, 1, 6), [2, 3])]);
});

test.run();
