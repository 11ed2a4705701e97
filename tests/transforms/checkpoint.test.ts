// checkpoint (remat): the same values and derivatives as the plain function, fewer residuals stored
// by linearize, and the forward computation replayed during the backward pass.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  ConcretizationError,
  ShapeError,
  type Tensor,
  checkGrads,
  checkpoint,
  grad,
  hessian,
  jacfwd,
  jacrev,
  jvp,
  linearize,
  makeJaxpr,
  np,
  vjp,
  vmap,
} from "../../src/index.js";
import { bind } from "../../src/core/trace.js";
import { sinP } from "../../src/primitives/elementwise.js";
import { checkpointP } from "../../src/transforms/checkpoint.js";
import { linearizeFlat } from "../../src/interpreters/partial-eval.js";
import { pullback } from "../../src/interpreters/transpose.js";
import { guardTraceState } from "../guard.js";
import { L, close } from "../helpers.js";

guardTraceState(test);

/** Same structure and every number within `tol` relative to max(1, |want|). */
const same = (got: unknown, want: unknown, tol = 1e-13, what = ""): void => close(got, want, tol, what);

const body = (x: Tensor, y: Tensor) => np.multiply(np.sin(np.multiply(x, y)), np.exp(np.cos(x)));
const ck = checkpoint(body);
const x0 = np.array([0.3, -1.1, 2]);
const y0 = np.array([1.5, 0.2, -0.7]);

test("values and derivatives equal the un-checkpointed function's, in every mode and order", () => {
  same(ck(x0, y0), body(x0, y0), 0, "value outside transformations");
  const s = (f: typeof body) => (x: Tensor, y: Tensor) => f(x, y).sum();
  same(grad(s(ck), { argnums: [0, 1] })(x0, y0), grad(s(body), { argnums: [0, 1] })(x0, y0), 1e-13, "grad");
  same(jvp(ck, [x0, y0], [y0, x0]), jvp(body, [x0, y0], [y0, x0]), 1e-13, "jvp");
  same(vjp(ck, [x0, y0])[1](x0), vjp(body, [x0, y0])[1](x0), 1e-13, "vjp");
  same(jacfwd(ck)(x0, y0), jacfwd(body)(x0, y0), 1e-13, "jacfwd");
  same(jacrev(ck, { argnums: 1 })(x0, y0), jacrev(body, { argnums: 1 })(x0, y0), 1e-13, "jacrev");
  same(hessian(s(ck))(x0, y0), hessian(s(body))(x0, y0), 1e-12, "hessian");
  same(grad(grad((x: Tensor) => ck(x, np.array(0.7))))(0.4), grad(grad((x: Tensor) => body(x, np.array(0.7))))(0.4), 1e-13, "grad(grad)");
  same(vmap(grad(s(ck)))(np.stack([x0, y0]), np.stack([y0, x0])), vmap(grad(s(body)))(np.stack([x0, y0]), np.stack([y0, x0])), 1e-13, "vmap(grad)");
  same(grad((x: Tensor) => vmap(ck, { inAxes: [0, null] })(x, y0).sum())(np.stack([x0, y0])), grad((x: Tensor) => vmap(body, { inAxes: [0, null] })(x, y0).sum())(np.stack([x0, y0])), 1e-13, "grad(vmap)");
  const [, lin] = linearize(ck, [x0, y0]);
  same(lin(y0, x0), jvp(body, [x0, y0], [y0, x0])[1], 1e-13, "linearize's jvp function");
  // Nested checkpoints.
  const nested = checkpoint((x: Tensor) => ck(checkpoint(np.sin)(x), x));
  same(grad((x: Tensor) => nested(x).sum())(x0), grad((x: Tensor) => body(np.sin(x), x).sum())(x0), 1e-13, "nested checkpoints");
});

test("checkGrads at orders 1-3, pytrees in and out, integer outputs, closed-over values", () => {
  assert.is(checkGrads(ck, [x0, y0]), undefined);
  assert.is(checkGrads((x: Tensor) => ck(x, y0), [x0], { order: 3 }), undefined);
  const tree = checkpoint((p: { a: Tensor; b: Tensor[] }) => ({ u: np.multiply(p.a, p.b[0]), v: [np.tanh(p.b[1]), np.argmax(p.a)] }));
  assert.is(checkGrads(tree, [{ a: x0, b: [y0, x0] }]), undefined);
  // An integer output has a zero (symbolic) tangent.
  assert.equal(L(jvp(tree, [{ a: x0, b: [y0, x0] }], [{ a: x0, b: [y0, x0] }])[1].v[1]), 0);
  // A value of an outer transformation, closed over by the checkpointed function, is an input of
  // the checkpoint equation: d/da sum(sin(a x)) = sum(x cos(a x)).
  const outer = (a: Tensor) => checkpoint((x: Tensor) => np.sin(np.multiply(a, x)))(x0).sum();
  const want = L(x0) as number[];
  same(grad(outer)(0.5), want.reduce((s, v) => s + v * Math.cos(0.5 * v), 0), 1e-14, "closure");
  same(grad(grad(outer))(0.5), want.reduce((s, v) => s - v * v * Math.sin(0.5 * v), 0), 1e-14, "closure, second order");
});

// 60 steps of x -> sin(x) * 1.01 on 1000 elements, as 6 checkpointed segments of 10.
const step = (x: Tensor) => np.multiply(np.sin(x), 1.01);
const steps = (n: number) => (x: Tensor) => {
  let y = x;
  for (let i = 0; i < n; i++) y = step(y);
  return y;
};
const segment = checkpoint(steps(10));
const segmented = (x: Tensor) => {
  let y = x;
  for (let i = 0; i < 6; i++) y = segment(y);
  return y;
};
const xs = np.linspace(-2, 2, 1000);
const residuals = (f: (x: Tensor) => Tensor) => {
  const { lin } = linearizeFlat((a) => [f(a[0]).sum()], [xs], "test");
  return { lin, count: lin.consts.length, bytes: lin.consts.reduce((s, c) => s + c.size * 8, 0) };
};

test("linearize stores fewer residuals with checkpoint, and the backward pass replays the forward", () => {
  const plain = residuals(steps(60));
  const seg = residuals(segmented);
  const whole = residuals(checkpoint(steps(60)));
  // Plain: each step keeps its cos(x) (1000 float64s); checkpointed: only each segment's input.
  assert.ok(plain.count >= 60, `plain stores ${plain.count} residuals`);
  assert.ok(plain.bytes >= 60 * 8000, `plain stores ${plain.bytes} bytes`);
  assert.is(seg.count, 6);
  assert.is(seg.bytes, 6 * 8000);
  assert.is(whole.count, 1);
  assert.is(whole.bytes, 8000);
  assert.is(seg.lin.jaxpr.eqns.filter((e) => e.primitive.name === "checkpoint").length, 6);
  // Same gradient, and sin runs again during the backward pass only with checkpoint.
  const impl = sinP.impl;
  let sinCalls = 0;
  sinP.impl = (...a) => (sinCalls++, impl(...a));
  let gPlain: Tensor[], gSeg: Tensor[];
  try {
    gPlain = pullback(plain.lin, [np.array(1)]);
    assert.is(sinCalls, 0, "the plain backward pass evaluates no sin");
    gSeg = pullback(seg.lin, [np.array(1)]);
    // Each segment recomputes the 9 sin whose outputs feed the next step's derivative (the 10th
    // feeds none, and the staged tangent computation leaves it out).
    assert.is(sinCalls, 6 * 9, "the checkpointed backward pass replays the forward");
  } finally {
    sinP.impl = impl;
  }
  same(gSeg[0], gPlain[0], 1e-13, "gradient");
});

test("the jaxprs: one checkpoint equation, and a linear equation taking the primal input as residual", () => {
  const text = makeJaxpr(segment)(np.zeros([3])).toString();
  assert.match(text, /checkpoint\[/);
  assert.is(text.match(/ sin /g)?.length, 10, text);
  const { lin } = residuals(segment);
  const eq = lin.jaxpr.eqns.find((e) => e.primitive.name === "checkpoint");
  assert.ok(eq, lin.toString());
  assert.is(lin.consts[0], xs, "the residual is the input itself");
});

test("branching on values inside a checkpoint needs lax.cond or np.where; outside transformations f is called", () => {
  const branchy = checkpoint((x: Tensor) => (x.item() > 0 ? np.square(x) : np.negative(x)));
  same(branchy(3), 9, 0, "called eagerly");
  try {
    grad(branchy)(3);
    assert.unreachable("grad traced a value-dependent branch");
  } catch (e) {
    assert.instance(e, ConcretizationError);
    assert.match((e as Error).message, /checkpoint/);
    assert.match((e as Error).message, /np\.where/);
  }
  same(grad(checkpoint((x: Tensor) => np.where(np.greater(x, 0), np.square(x), np.negative(x))))(3), 6, 0, "np.where");
});

test("the checkpoint primitive checks its inputs against its jaxpr", () => {
  const jaxpr = makeJaxpr(np.sin)(np.zeros([3]));
  assert.throws(() => bind(checkpointP, [np.zeros([2])], { jaxpr }), (e: Error) => e instanceof ShapeError && /input 0 is float64\[2\], but the staged function takes float64\[3\]/.test(e.message));
  assert.throws(() => bind(checkpointP, [], { jaxpr }), (e: Error) => e instanceof ShapeError && /expected 1 inputs, got 0/.test(e.message));
});

test.run();
