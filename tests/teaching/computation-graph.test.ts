import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { JacobiError, ShapeError, computationGraph, makeJaxpr, np, type Tensor } from "../../src/index.js";
import { fmt3, levelOrder } from "../../src/ir/notation.js";

const f = (x1: any, x2: any) => np.subtract(np.add(np.log(x1), np.multiply(x1, x2)), np.sin(x2));
const edges = (dot: string) => dot.split("\n").filter((l) => l.includes("->")).map((l) => l.trim());
const labels = (dot: string) => [...dot.matchAll(/label="([^"]*)"/g)].map((m) => m[1]);

test("forward graph: the chapter's figure, numbered as the trace table", () => {
  const dot = computationGraph(f, [2, 5]);
  assert.ok(dot.startsWith('digraph "f" {'));
  assert.ok(dot.endsWith("}"));
  assert.equal(labels(dot), ["v-1 = x1", "v0 = x2", "v1 = ln v-1", "v2 = v-1 * v0", "v3 = sin v0", "v4 = v1 + v2", "v5 = v4 - v3", "y"]);
  assert.equal(edges(dot), [
    "in0 -> e0;", "in0 -> e1;", "in1 -> e1;", "in1 -> e2;", "e0 -> e3;", "e1 -> e3;", "e3 -> e4;", "e2 -> e4;", "e4 -> out0;",
  ]);
});

test("gradient graph: forward and reverse sweeps with outputs y, dy/dx1, dy/dx2", () => {
  const dot = computationGraph(f, [2, 5], { gradient: true });
  assert.ok(dot.startsWith('digraph "grad_f" {'));
  const ls = labels(dot);
  assert.equal(ls.slice(-3), ["y", "dy/dx1", "dy/dx2"]);
  assert.ok(ls.includes("v2 = 1 / v-1"), "d ln(x1) / dx1 = 1 / x1 is staged");
  assert.ok(ls.some((l) => / = cos v0$/.test(l)), "d sin(x2) / dx2 = cos x2 is staged");
  // Only the chosen argument is differentiated with argnums.
  assert.equal(labels(computationGraph(f, [2, 5], { gradient: true, argnums: 1 })).slice(-2), ["y", "dy/dx2"]);
});

test("pytree and vector arguments: leaves are x1 … xn, arrays show their shapes", () => {
  const g = (p: { w: Tensor; b: Tensor }, x: Tensor) => np.sum(np.tanh(np.add(np.multiply(p.w, x), p.b)));
  const args = [{ b: np.array([0.1, 0.2]), w: np.array([1, 2]) }, np.array([3, 4])];
  const dot = computationGraph(g, args, { gradient: true, argnums: 0 });
  const ls = labels(dot);
  assert.equal(ls.filter((l) => / = x\d/.test(l)), ["v-2 = x1\\nf64[2]", "v-1 = x2\\nf64[2]", "v0 = x3\\nf64[2]"]);
  assert.equal(ls.slice(-3), ["y", "dy/dx1", "dy/dx2"]);
  assert.ok(labels(computationGraph(g, args)).includes("v1 = v-1 * v0\\nf64[2]"));
});

test("ClosedJaxpr.toDot: options, constants, literal outputs, escaping", () => {
  const W = np.array([[1, 2], [3, 4]]);
  const closed = makeJaxpr((x: Tensor) => [np.matmul(W, x), 2])(np.array([1, 1]));
  const dot = closed.toDot({ name: 'a "quoted" name', inputNames: ["x"], outputNames: ["Wx", "two"], order: "program" });
  assert.ok(dot.startsWith('digraph "a \\"quoted\\" name" {'));
  const ls = labels(dot);
  assert.ok(ls.includes("c0 (const)\\nf64[2,2]"));
  assert.ok(ls.includes("v0 = x\\nf64[2]"));
  assert.ok(ls.some((l) => /^v\d = c0 @ v\d\\nf64\[2,1\]$/.test(l)), ls.join(" | "));
  assert.ok(ls.includes("Wx"));
  assert.ok(ls.includes("two = 2"));
  // Defaults: the graph is "jaxpr", inputs x1 …, several outputs y1 ….
  const plain = closed.toDot();
  assert.ok(plain.startsWith('digraph "jaxpr" {'));
  assert.equal(labels(plain).filter((l) => /^(v0 =|y)/.test(l)), ["v0 = x1\\nf64[2]", "y1", "y2 = 2"]);
});

test("levelOrder lists an equation after all of its inputs, level by level", () => {
  const g = (x: Tensor) => np.add(np.exp(np.sin(np.cos(x))), np.log(x));
  const jaxpr = makeJaxpr(g)(1).jaxpr;
  assert.equal(jaxpr.eqns.map((e) => e.primitive.name), ["cos", "sin", "exp", "log", "add"]);
  assert.equal(levelOrder(jaxpr).map((e) => e.primitive.name), ["cos", "log", "sin", "exp", "add"]);
});

test("fmt3: the chapter's three decimals", () => {
  assert.equal([0.6931471805599453, 10, 5.5, -0.9589242746631385, 11.652071455223084, 1e-9, 2.5e7, -0.0001, 0, NaN, Infinity].map((v) => fmt3(v)), [
    "0.693", "10", "5.5", "-0.959", "11.652", "1e-9", "2.5e7", "-1e-4", "0", "nan", "inf",
  ]);
  assert.is(fmt3(-0.0001, "float64"), "-1e-4");
  assert.is(fmt3(7, "int32"), "7");
  assert.is(fmt3(1, "bool"), "true");
});

test("errors: gradient of a vector output, nothing to differentiate, args not an array", () => {
  assert.throws(() => computationGraph((x: Tensor) => np.sin(x), [np.array([1, 2])], { gradient: true }), (e: unknown) => e instanceof ShapeError && /jacrev/.test((e as Error).message));
  assert.throws(() => computationGraph((k: Tensor) => np.sum(k), [np.array([1, 2], "int32")], { gradient: true }), (e: unknown) => e instanceof JacobiError && /no floating-point argument/.test((e as Error).message));
  assert.throws(() => computationGraph(f, 2 as never), (e: unknown) => e instanceof JacobiError && /args must be an array/.test((e as Error).message));
});

test.run();
