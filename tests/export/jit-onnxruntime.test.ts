import { test } from "uvu";
import * as assert from "uvu/assert";
import { JacobiError, type Tensor, grad, jit, np, valueAndGrad } from "../../src/index.js";
import { loadOrt, runOnOrt } from "../../src/export/onnxruntime.js";
import { makeJaxpr } from "../../src/index.js";
import { guardTraceState } from "../guard.js";
import { close, flat, throwsWith } from "../helpers.js";

guardTraceState(test);

const f = (x: Tensor, y: Tensor) => np.sum(np.subtract(np.add(np.log(x), np.multiply(x, y)), np.sin(y)));
const x = np.array([0.5, 1.5, 2.5]), y = np.array([1, -2, 0.25]);

test('jit(f, { backend: "onnxruntime" }) resolves to the default backend\'s values, pytrees included', async () => {
  const g = jit(grad(f, { argnums: [0, 1] }), { backend: "onnxruntime" });
  const got = await g(x, y);
  const want = grad(f, { argnums: [0, 1] })(x, y);
  close(flat(got[0]), flat(want[0]));
  close(flat(got[1]), flat(want[1]));
  // Cached session: a second call with the same signature, other values.
  const again = await g(np.array([1, 2, 3]), y);
  close(flat(again[0]), flat(grad(f, { argnums: [0, 1] })(np.array([1, 2, 3]), y)[0]));
  const vg = jit(valueAndGrad((p: { w: Tensor }) => np.sum(np.tanh(p.w))), { backend: "onnxruntime" });
  const [v, gr] = await vg({ w: x });
  close(flat(v), [np.sum(np.tanh(x)).item()]);
  close(flat(gr.w), flat(grad((p: { w: Tensor }) => np.sum(np.tanh(p.w)))({ w: x }).w));
  const b = await jit((a: Tensor) => np.greater(a, 1), { backend: "onnxruntime" })(x);
  assert.is(b.dtype, "bool");
  assert.equal(flat(b), [0, 1, 1]);
});

test("jit options are validated", () => {
  throwsWith(() => jit(f, { backend: "tpu" } as never), JacobiError, ['backend must be "default" or "onnxruntime"', '"tpu"']);
  throwsWith(() => jit(f, { backnd: "onnxruntime" } as never), JacobiError, ['unknown option "backnd"']);
  close(flat(jit(f, { backend: "default" })(x, y)), flat(f(x, y)));
});

test("lowering errors and tracer inputs reject the Promise with a JacobiError", async () => {
  const bad = jit((a: Tensor) => np.arctan2(a, a), { backend: "onnxruntime" });
  const e = await bad(x).then(() => null, (err: unknown) => err);
  assert.instance(e, JacobiError);
  assert.match(String(e), '"atan2"');
  const closed = makeJaxpr(np.sin)(x);
  let caught: unknown = null;
  grad((a: Tensor) => {
    runOnOrt(closed, [a]).catch((err: unknown) => (caught = err));
    return np.sum(a);
  })(x);
  await new Promise((r) => setTimeout(r, 0));
  assert.instance(caught, JacobiError);
  assert.match(String(caught), "concrete arrays only");
});

test("a missing onnxruntime-node is a JacobiError saying how to install it", async () => {
  const e = await loadOrt("onnxruntime-node-not-installed").then(() => null, (err: unknown) => err);
  assert.instance(e, JacobiError);
  assert.match(String(e), "npm install onnxruntime-node");
});

test.run();
