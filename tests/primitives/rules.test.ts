// Every registered primitive declares the rules the transformations need, and every batch rule
// agrees with a loop of unbatched calls: batch axis at 0, at another axis, and with an argument
// left unbatched (inAxes null).
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { type Tensor, jvp, np, vmap } from "../../src/index.js";
import { type Params, type Primitive, allPrimitives } from "../../src/core/primitive.js";
import { bind } from "../../src/core/trace.js";
import { seeded } from "../../src/core/random.js";
import { lax } from "../../src/index.js";
import { makeJaxpr } from "../../src/index.js";
import { ShapedArray } from "../../src/core/shaped-array.js";
import { Label } from "../../src/core/label.js";
import { avalsLabel } from "../../src/interpreters/custom-rules.js";
import type { ClosedJaxpr } from "../../src/ir/jaxpr.js";
import { jaxprAsFun } from "../../src/interpreters/eval.js";
import { pullback } from "../../src/interpreters/transpose.js";
import { linearizeFlat } from "../../src/interpreters/partial-eval.js";

const prim = (name: string): Primitive<any> | undefined => allPrimitives.find((p) => p.name === name);

test("every primitive has a jvp rule", () => {
  assert.ok(allPrimitives.length > 40, `only ${allPrimitives.length} primitives registered`);
  // Custom calls are not rules of their own: each trace processes them (processCustomJvpCall ...).
  const missing = allPrimitives.filter((p) => typeof p.jvp !== "function" && p.customCall === undefined).map((p) => p.name);
  assert.equal(missing, [], `primitives without a jvp rule: ${missing.join(", ")}`);
});

// The facts a primitive declares (core/primitive.ts) decide which rules it must have.
test("every primitive declared linear has a transpose rule, and only those have one", () => {
  const linear = allPrimitives.filter((p) => p.linear);
  assert.ok(linear.length > 15, `only ${linear.length} linear primitives registered`);
  const missing = linear.filter((p) => typeof p.transpose !== "function").map((p) => p.name);
  assert.equal(missing, [], `linear primitives without a transpose rule: ${missing.join(", ")}`);
  const undeclared = allPrimitives.filter((p) => !p.linear && p.transpose !== undefined).map((p) => p.name);
  assert.equal(undeclared, [], `primitives with a transpose rule that are not declared linear: ${undeclared.join(", ")}`);
});

test("every primitive has a batch rule", () => {
  const missing = allPrimitives.filter((p) => typeof p.batch !== "function" && p.customCall === undefined).map((p) => p.name);
  assert.equal(missing, [], `primitives without a batch rule: ${missing.join(", ")}`);
});

test("primitive names are unique", () => {
  const names = allPrimitives.map((p) => p.name);
  assert.equal(names.filter((n, i) => names.indexOf(n) !== i), []);
});

// ---- batch rules against loops ----

const rand = seeded(7);
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

type Gen = () => Tensor;
const fill = (shape: number[], v: () => number, dtype: "float64" | "int32" | "bool" = "float64"): Gen => () =>
  np.astype(np.reshape(np.array(Array.from({ length: size(shape) }, v)), shape), dtype);
const f = (shape: number[], lo = -2, hi = 2): Gen => fill(shape, () => lo + (hi - lo) * rand());
/** Multiples of 0.5 in [-2, 2], so comparisons, max/min and round see ties and halves. */
const g = (shape: number[]): Gen => fill(shape, () => Math.round(rand() * 8 - 4) / 2);
const i32 = (shape: number[]): Gen => fill(shape, () => Math.floor(rand() * 10 - 5), "int32");
const b8 = (shape: number[]): Gen => fill(shape, () => (rand() < 0.5 ? 1 : 0), "bool");
const I0 = np.array(0, "int32");

interface BatchCase {
  params: Params;
  args: Gen[];
}
const unary = (gen: (s: number[]) => Gen, params: Params = {}): BatchCase[] => [
  { params, args: [gen([2, 3])] },
  { params, args: [gen([])] },
];
const binary = (a: (s: number[]) => Gen, b: (s: number[]) => Gen = a): BatchCase[] => [
  { params: {}, args: [a([2, 3]), b([2, 3])] },
  { params: {}, args: [a([]), b([])] },
];

const batchCases: Record<string, BatchCase[]> = {
  neg: unary(f),
  sin: unary(f),
  cos: unary(f),
  tan: unary((s) => f(s, -1.2, 1.2)),
  asin: unary((s) => f(s, -0.9, 0.9)),
  acos: unary((s) => f(s, -0.9, 0.9)),
  atan: unary(f),
  sinh: unary(f),
  cosh: unary(f),
  tanh: unary(f),
  exp: unary(f),
  log: unary((s) => f(s, 0.1, 3)),
  log1p: unary((s) => f(s, -0.5, 3)),
  expm1: unary(f),
  sqrt: unary((s) => f(s, 0, 3)),
  rsqrt: unary((s) => f(s, 0.1, 3)),
  abs: [...unary(g), { params: {}, args: [i32([2, 3])] }],
  sign: [...unary(g), { params: {}, args: [i32([4])] }],
  floor: unary(f),
  ceil: unary(f),
  round: unary(g),
  stop_gradient: unary(f),
  integer_pow: [...unary(f, { y: 3 }), ...unary((s) => f(s, 0.5, 2), { y: -2 }), { params: { y: 0 }, args: [f([3])] }],
  add: [...binary(f), { params: {}, args: [i32([2, 3]), i32([2, 3])] }],
  add_any: binary(f),
  sub: binary(f),
  mul: binary(f),
  div: [...binary(f, (s) => f(s, 0.5, 2)), { params: {}, args: [i32([4]), fill([4], () => 1 + Math.floor(rand() * 3), "int32")] }],
  pow: binary((s) => f(s, 0.1, 2), f),
  max: binary(g),
  min: binary(g),
  atan2: binary(f),
  rem: [...binary(f, (s) => f(s, 0.5, 2)), { params: {}, args: [i32([4]), fill([4], () => 1 + Math.floor(rand() * 3), "int32")] }],
  cbrt: unary(f),
  lt: binary(g),
  le: binary(g),
  gt: binary(g),
  ge: binary(g),
  eq: binary(g),
  ne: binary(g),
  select: [
    { params: {}, args: [b8([2, 3]), f([2, 3]), f([2, 3])] },
    { params: {}, args: [b8([]), f([]), f([])] },
  ],
  convert_element_type: [
    { params: { newDtype: "float32", weakType: false }, args: [f([2, 3])] },
    { params: { newDtype: "int32", weakType: false }, args: [f([3])] },
    { params: { newDtype: "float64", weakType: false }, args: [b8([3])] },
  ],
  reduce_sum: [
    { params: { axes: [1] }, args: [f([2, 3])] },
    { params: { axes: [0, 2] }, args: [f([2, 3, 2])] },
  ],
  reduce_max: [
    { params: { axes: [1] }, args: [g([2, 3])] },
    { params: { axes: [0, 1] }, args: [f([2, 3])] },
  ],
  reduce_min: [
    { params: { axes: [0] }, args: [g([2, 3])] },
    { params: { axes: [0, 1] }, args: [f([2, 3])] },
  ],
  reduce_prod: [
    { params: { axes: [1] }, args: [f([2, 3])] },
    { params: { axes: [0, 2] }, args: [f([2, 3, 2])] },
  ],
  argmax: [
    { params: { axis: 1 }, args: [g([2, 3])] },
    { params: { axis: 0 }, args: [f([4])] },
  ],
  argmin: [
    { params: { axis: 0 }, args: [g([2, 3])] },
    { params: { axis: 1 }, args: [f([2, 4])] },
  ],
  broadcast_in_dim: [
    { params: { shape: [2, 3, 4], broadcastDimensions: [0, 2] }, args: [f([2, 4])] },
    { params: { shape: [3, 4], broadcastDimensions: [0, 1] }, args: [f([3, 1])] },
    { params: { shape: [2, 2], broadcastDimensions: [] }, args: [f([])] },
  ],
  reshape: [
    { params: { newSizes: [3, 2] }, args: [f([2, 3])] },
    { params: { newSizes: [6] }, args: [f([2, 3])] },
    { params: { newSizes: [1, 1] }, args: [f([])] },
  ],
  transpose: [
    { params: { permutation: [1, 0] }, args: [f([2, 3])] },
    { params: { permutation: [2, 0, 1] }, args: [f([2, 3, 4])] },
  ],
  squeeze: [
    { params: { dimensions: [1] }, args: [f([2, 1, 3])] },
    { params: { dimensions: [0, 2] }, args: [f([1, 3, 1])] },
  ],
  slice: [
    { params: { startIndices: [0, 1], limitIndices: [2, 3], strides: [1, 1] }, args: [f([2, 3])] },
    { params: { startIndices: [1, 0], limitIndices: [4, 3], strides: [2, 2] }, args: [f([4, 3])] },
  ],
  pad: [
    { params: { lo: [1, 0], hi: [0, 2], interior: [1, 0], value: 0.5 }, args: [f([2, 3])] },
    { params: { lo: [2], hi: [1], interior: [2], value: 0 }, args: [f([3])] },
  ],
  concatenate: [
    { params: { dimension: 1 }, args: [f([2, 3]), f([2, 2]), f([2, 1])] },
    { params: { dimension: 0 }, args: [f([3]), f([2])] },
  ],
  dot_general: [
    { params: { contract: [[1], [0]], batch: [[], []] }, args: [f([2, 3]), f([3, 4])] },
    { params: { contract: [[2], [1]], batch: [[0], [0]] }, args: [f([2, 3, 4]), f([2, 4, 5])] },
    { params: { contract: [[0], [0]], batch: [[], []] }, args: [f([3]), f([3])] },
    { params: { contract: [[0], [1]], batch: [[], []] }, args: [f([3, 2]), f([4, 3])] },
    { params: { contract: [[1, 2], [0, 2]], batch: [[], []] }, args: [f([2, 3, 2]), f([3, 4, 2])] },
  ],
  // Control flow: params hold jaxprs, taken from the equation a staged lax call binds. Indices and
  // counters are random int32 in [-5, 5): out-of-range switch indices are clamped.
  cond: [
    {
      params: stagedParams("cond", (k, x) => lax.switch(k, [(a: Tensor) => np.sin(a), (a: Tensor) => a.mul(a), (a: Tensor) => a.neg()], x), I0, np.zeros([2, 3])),
      args: [i32([]), f([2, 3])],
    },
    {
      // One branch returns a constant where the other returns a (possibly batched) operand.
      params: stagedParams("cond", (k, x, y) => lax.switch(k, [(a: Tensor, b: Tensor) => [a.mul(b), np.array(1.0)], (a: Tensor, b: Tensor) => [a, b]], x, y), I0, np.zeros([2, 3]), np.zeros([])),
      args: [i32([]), f([2, 3]), f([])],
    },
  ],
  while: [
    {
      // [cond const, body const, init...]: the predicate is batched whenever the limit or the counter is.
      params: stagedParams(
        "while",
        (lim, x, i0, v0) => lax.whileLoop(([i]: Tensor[]) => i.lt(lim), ([i, v]: Tensor[]) => [i.add(1), np.sin(v).add(x)], [i0, v0]),
        I0,
        np.zeros([2]),
        I0,
        np.zeros([2]),
      ),
      args: [i32([]), f([2]), i32([]), f([2])],
    },
    {
      // The predicate reads only the counter: unbatched when the counter is.
      params: stagedParams("while", (x, i0, v0) => lax.whileLoop(([i]: Tensor[]) => i.lt(3), ([i, v]: Tensor[]) => [i.add(1), v.mul(x)], [i0, v0]), np.zeros([2]), I0, np.zeros([2])),
      args: [f([2], -1.2, 1.2), i32([]), f([2])],
    },
  ],
  scan: [
    {
      params: stagedParams("scan", (w, c0, xs) => lax.scan((c: Tensor, x: Tensor) => [np.tanh(c.mul(w).add(x)), c.mul(x)], c0, xs), np.zeros([2]), np.zeros([2]), np.zeros([3, 2])),
      args: [f([2]), f([2]), f([3, 2])],
    },
    {
      params: stagedParams("scan", (c0, xs) => lax.scan((c: Tensor, x: Tensor) => [c.add(x.sum()), [x.mul(c), c]], c0, xs, { reverse: true }), np.zeros([]), np.zeros([4, 2, 3])),
      args: [f([]), f([4, 2, 3])],
    },
  ],
};

/** The params of the `name` equation that staging `fn` binds (inputs built from zeros, so no random numbers are drawn). */
function stagedParams(name: string, fn: (...xs: Tensor[]) => unknown, ...args: Tensor[]): Params {
  const e = makeJaxpr(fn)(...args).jaxpr.eqns.find((q) => q.primitive.name === name);
  if (e === undefined) throw new Error(`staging binds no ${name} equation`);
  assert.is(e.inputs.length, args.length, `${name}: the staged equation must take exactly the arguments`);
  return e.params;
}

// ---- custom rules and checkpoint: their params carry a staged jaxpr and the rules ----
const z = (shape: number[]) => np.zeros(shape);
const sinTimes = makeJaxpr((x: Tensor, y: Tensor) => np.sin(x).mul(y))(z([2, 3]), z([2, 3]));
const expSum = makeJaxpr((x: Tensor) => np.exp(x).sum())(z([]));
const withConst = makeJaxpr((x: Tensor) => x.mul(np.array([1, 2, 3])))(z([3]));
const ident = new Label((ps: Tensor[], ts: Tensor[]) => [ps, ts], "ident_jvp");
const funOf = (c: ClosedJaxpr) => new Label(jaxprAsFun(c), "g");
batchCases.checkpoint = [
  { params: { jaxpr: sinTimes }, args: [f([2, 3]), f([2, 3])] },
  { params: { jaxpr: expSum }, args: [f([])] },
  { params: { jaxpr: withConst }, args: [f([3])] },
];
batchCases.custom_jvp_call = [
  { params: { name: "g", fun: funOf(sinTimes), call: sinTimes, numConsts: 0, jvp: ident }, args: [f([2, 3]), f([2, 3])] },
  // The first input is a value the function closed over.
  { params: { name: "g", fun: funOf(sinTimes), call: sinTimes, numConsts: 1, jvp: ident }, args: [f([2, 3]), f([2, 3])] },
  { params: { name: "g", fun: funOf(expSum), call: expSum, numConsts: 0, jvp: ident }, args: [f([])] },
];
batchCases.custom_vjp_call = [
  { params: { name: "g", fun: funOf(sinTimes), call: sinTimes, numConsts: 0, fwd: new Label((xs: Tensor[]) => [xs, []], "g_fwd"), bwd: new Label((_r: Tensor[], cts: Tensor[]) => cts, "g_bwd") }, args: [f([2, 3]), f([2, 3])] },
  { params: { name: "g", fun: funOf(withConst), call: withConst, numConsts: 0, fwd: new Label((xs: Tensor[]) => [xs, []], "g_fwd"), bwd: new Label((_r: Tensor[], cts: Tensor[]) => cts, "g_bwd") }, args: [f([3])] },
];
/** t -> sin(r) * t, known by its transpose. */
const sinScale = (shape: number[]): Params => ({
  name: "sin_scale",
  numRes: 1,
  bwd: new Label((res: Tensor[], cts: Tensor[]) => [np.multiply(np.sin(res[0]), cts[0])], "sin_scale_bwd"),
  outAvals: avalsLabel([new ShapedArray(shape, "float64")]),
});
// scan_revolve: the tangent map of a checkpointed scan, as a real linearization records it.
const revolveEqn = (() => {
  const body = (c: Tensor, x: Tensor) => [np.sin(c).mul(x), c.mul(x)];
  const { lin } = linearizeFlat((xs) => lax.scan(body, xs[0], xs[1], { checkpoint: { snapshots: 1 } }) as unknown as Tensor[], [np.array([0.5, 1]), np.ones([4, 2])], "rules test");
  const e = lin.jaxpr.eqns.find((q) => q.primitive.name === "scan_revolve");
  if (e === undefined) throw new Error("no scan_revolve in the linearization of a checkpointed scan");
  return e;
})();
batchCases.scan_revolve = [{ params: revolveEqn.params, args: revolveEqn.inputs.map((a) => f([...a.aval.shape])) }];
// debug_callback has no outputs: its batch rule runs the callback once per example (tests/debug.test.ts checks the values).
batchCases.debug_callback = [{ params: { callback: new Label(() => undefined, "noop") }, args: [f([2, 3]), f([])] }];
batchCases.custom_lin = [
  { params: sinScale([2, 3]), args: [f([2, 3]), f([2, 3])] },
  { params: sinScale([]), args: [f([]), f([])] },
];

// Bitwise and threefry (integer bits) and the special functions: issue 12's primitives.
const words = (shape: number[], hi = 2 ** 32): Gen => () => np.reshape(np.array(new Uint32Array(Array.from({ length: size(shape) }, () => Math.floor(rand() * hi)))), shape);
for (const n of ["and", "or", "xor"]) batchCases[n] = [...binary(words), ...binary(i32), ...binary(b8)];
batchCases.not = [...unary(words), ...unary(i32), ...unary(b8)];
for (const n of ["shift_left", "shift_right_logical", "shift_right_arithmetic"]) batchCases[n] = [...binary(words, (s) => words(s, 40)), ...binary(i32)];
batchCases.threefry2x32 = [
  { params: {}, args: [words([2, 3]), words([2, 3]), words([2, 3]), words([2, 3])] },
  { params: {}, args: [words([]), words([]), words([]), words([])] },
];
batchCases.erf = unary(f);
batchCases.erfc = unary(f);
batchCases.erf_inv = unary((s) => f(s, -0.99, 0.99));
batchCases.lgamma = unary((s) => f(s, -3.7, 5));
batchCases.digamma = unary((s) => f(s, -3.7, 5));
batchCases.random_gamma_grad = binary((s) => f(s, 0.3, 4));
for (const n of ["igamma", "igammac", "igamma_grad_a"]) batchCases[n] = binary((s) => f(s, 0.3, 4));
batchCases.regularized_incomplete_beta = [
  { params: {}, args: [f([2, 3], 0.5, 3), f([2, 3], 0.5, 3), f([2, 3], 0.05, 0.95)] },
  { params: {}, args: [f([], 0.5, 3), f([], 0.5, 3), f([], 0.05, 0.95)] },
];
batchCases.sort = [
  { params: { dimension: 1 }, args: [words([2, 3]), i32([2, 3])] },
  { params: { dimension: 0 }, args: [f([4]), b8([4])] },
];

const convParams = (groups: Partial<Record<"featureGroupCount" | "batchGroupCount", number>> = {}): Params => ({
  windowStrides: [2], padding: [[1, 0]], lhsDilation: [1], rhsDilation: [1], lhsSpec: [0, 1, 2], rhsSpec: [0, 1, 2], outSpec: [0, 1, 2],
  featureGroupCount: 1, batchGroupCount: 1, ...groups,
});
batchCases.conv_general_dilated = [
  { params: convParams(), args: [f([2, 3, 5]), f([4, 3, 2])] },
  { params: convParams({ featureGroupCount: 2 }), args: [f([2, 4, 5]), f([4, 2, 2])] },
  { params: convParams({ batchGroupCount: 2 }), args: [f([4, 2, 5]), f([4, 2, 2])] },
  { params: { ...convParams(), lhsSpec: [0, 2, 1], rhsSpec: [2, 1, 0], outSpec: [1, 0, 2] }, args: [f([2, 5, 3]), f([2, 3, 4])] },
];
const windowParams: Params = { window: [2, 2], strides: [1, 2], padding: [[0, 1], [1, 0]], baseDilation: [1, 1], windowDilation: [1, 1] };
batchCases.reduce_window_sum = [{ params: windowParams, args: [f([3, 4])] }];
batchCases.reduce_window_max = [{ params: windowParams, args: [f([3, 4])] }];
batchCases.select_and_gather_add = [{ params: windowParams, args: [f([3, 4]), f([3, 4])] }];
batchCases.select_and_scatter_add = [{ params: windowParams, args: [f([3, 2]), f([3, 4])] }];

// Linear algebra (tests/linalg has the NumPy/torch fixtures): symmetric positive definite inputs
// for cholesky, diagonally dominant triangles, symmetric matrices for eigh.
const spdGen = (n: number): Gen => () => {
  const x = f([n, n])();
  return np.add(np.matmul(x, np.transpose(x)), np.multiply(n, np.eye(n)));
};
const symGen = (n: number): Gen => () => {
  const x = f([n, n])();
  return np.add(x, np.transpose(x));
};
const triGen = (n: number): Gen => () => np.add(f([n, n])(), np.multiply(4, np.eye(n)));
const solveParams = (leftSide: boolean, lower: boolean, transposeA: boolean, unitDiagonal = false): Params => ({ leftSide, lower, transposeA, unitDiagonal });
batchCases.cholesky = [{ params: {}, args: [spdGen(3)] }];
batchCases.triangular_solve = [
  { params: solveParams(true, true, false), args: [triGen(3), f([3, 2])] },
  { params: solveParams(false, false, true, true), args: [triGen(2), f([3, 2])] },
];
batchCases.lu = [{ params: {}, args: [f([3, 3])] }, { params: {}, args: [f([2, 4])] }];
batchCases.qr = [{ params: { fullMatrices: false }, args: [f([4, 3])] }, { params: { fullMatrices: true }, args: [f([2, 3])] }];
batchCases.eigh = [{ params: {}, args: [symGen(3)] }];
batchCases.svd = [
  { params: { fullMatrices: false, computeUv: true }, args: [f([4, 3])] },
  { params: { fullMatrices: true, computeUv: true }, args: [f([2, 3])] },
  { params: { fullMatrices: false, computeUv: false }, args: [f([3, 3])] },
];
// Valid LAPACK pivots: pivots[i] in [i, 4).
const pivotsGen: Gen = () => np.array([0, 1, 2].map((i) => i + Math.floor(rand() * (4 - i))), "int32");
batchCases.lu_pivots_to_permutation = [{ params: { permutationSize: 4 }, args: [pivotsGen] }];

// Gather and the scatters (issue 10): random starts in [-1, 5) on 4x3 operands, so some windows
// leave the operand (clamped in "clip" mode, filled or dropped in "fill" mode) and some repeat.
const starts = (shape: number[]): Gen => fill(shape, () => Math.floor(rand() * 6) - 1, "int32");
const rowGather = { offsetDims: [1], collapsedSliceDims: [0], startIndexMap: [0], sliceSizes: [1, 3], mode: "clip", fillValue: 0 };
const windowGather = { offsetDims: [0, 1], collapsedSliceDims: [], startIndexMap: [0, 1], sliceSizes: [2, 2], mode: "fill", fillValue: NaN };
batchCases.gather = [
  { params: rowGather, args: [f([4, 3]), starts([2, 1])] },
  { params: { ...rowGather, mode: "fill", fillValue: -1 }, args: [i32([4, 3]), starts([2, 2, 1])] },
  { params: windowGather, args: [f([4, 3]), starts([2])] },
];
const rowScatter = { updateWindowDims: [1], insertedWindowDims: [0], scatterDimsToOperandDims: [0], mode: "fill" };
const windowScatter = { updateWindowDims: [0, 1], insertedWindowDims: [], scatterDimsToOperandDims: [0, 1], mode: "clip" };
for (const [n, gen] of [["scatter_add", f], ["scatter", f], ["scatter_mul", f], ["scatter_min", g], ["scatter_max", g]] as const) {
  batchCases[n] = [
    { params: rowScatter, args: [gen([4, 3]), starts([3, 1]), gen([3, 3])] },
    { params: { ...rowScatter, mode: "clip" }, args: [gen([4, 3]), starts([2, 1]), gen([2, 3])] },
    { params: windowScatter, args: [gen([4, 3]), starts([2]), gen([2, 2])] },
  ];
}
for (const [n, gen] of [["cumsum", f], ["cumprod", f], ["cummax", g], ["cummin", g]] as const) {
  batchCases[n] = [
    { params: { axis: 1, reverse: false }, args: [gen([2, 3])] },
    { params: { axis: 0, reverse: true }, args: [gen([4])] },
    { params: { axis: 0, reverse: false }, args: [i32([4])] },
  ];
}

const B = 3;

function sameValues(got: Tensor, want: Tensor, where: string): void {
  assert.equal(got.shape, want.shape, `${where}: shape`);
  assert.is(got.dtype, want.dtype, `${where}: dtype`);
  const a = got.toTypedArray(), b = want.toTypedArray();
  for (let k = 0; k < b.length; k++) {
    if (Object.is(a[k], b[k])) continue;
    // Reductions and products may add in a different order when batched.
    const tol = 1e-12 * Math.max(1, Math.abs(b[k]));
    assert.ok(Math.abs(a[k] - b[k]) <= tol, `${where}: element ${k} is ${a[k]}, the loop gives ${b[k]}`);
  }
}

/** Runs `p` under vmap with the given in-axes (null: one example shared by all) and compares with a loop. */
function checkBatch(p: Primitive<any>, c: BatchCase, inAxes: (number | null)[], label: string): void {
  const examples = Array.from({ length: B }, () => c.args.map((gen) => gen()));
  const shared = c.args.map((gen) => gen());
  const perExample = (b: number) => c.args.map((_, i) => (inAxes[i] === null ? shared[i] : examples[b][i]));
  const batched = c.args.map((_, i) => {
    const ax = inAxes[i];
    return ax === null ? shared[i] : np.stack(examples.map((e) => e[i]), ax);
  });
  const loop = Array.from({ length: B }, (_, b) => bind(p, perExample(b), c.params));

  const where = `${p.name} ${JSON.stringify(c.params)} with ${label} (inAxes ${JSON.stringify(inAxes)})`;
  let outs: Tensor[];
  if (p.customCall !== undefined) {
    // The batch trace's processCustom*Call batches a custom call: there is no rule to count.
    outs = vmap((...xs: Tensor[]) => bind(p, xs, c.params), { inAxes })(...batched);
  } else {
    const rule = p.batch as NonNullable<typeof p.batch>;
    let calls = 0;
    p.batch = (...a) => {
      calls++;
      return rule(...a);
    };
    try {
      outs = vmap((...xs: Tensor[]) => bind(p, xs, c.params), { inAxes })(...batched);
    } finally {
      p.batch = rule;
    }
    assert.is(calls, 1, `${where}: the batch rule ran ${calls} times`);
  }
  assert.is(outs.length, loop[0].length, `${where}: number of outputs`);
  outs.forEach((o, k) => sameValues(o, np.stack(loop.map((l) => l[k]), 0), `${where}, output ${k}`));
}

/**
 * custom_lin is known only by its transpose, so it cannot run forward: its batch rule is checked on
 * the staged map, transposed, against a loop of transposes (arguments: residual, then tangent).
 */
function checkLinearBatch(p: Primitive<any>, c: BatchCase, inAxes: (number | null)[], label: string): void {
  const examples = Array.from({ length: B }, () => c.args.map((gen) => gen()));
  const shared = c.args.map((gen) => gen());
  const arg = (b: number, i: number) => (inAxes[i] === null ? shared[i] : examples[b][i]);
  const stackAt = (i: number) => (inAxes[i] === null ? shared[i] : np.stack(examples.map((e) => e[i]), inAxes[i] as number));
  const cts = examples.map(() => c.args[1]());
  const loop = examples.map((_, b) => pullback(makeJaxpr((t: Tensor) => bind(p, [arg(b, 0), t], c.params)[0])(arg(b, 1)), [cts[b]])[0]);
  const batchedMap = makeJaxpr((t: Tensor) => vmap((r: Tensor, u: Tensor) => bind(p, [r, u], c.params)[0], { inAxes: [inAxes[0], inAxes[1] ?? null] })(stackAt(0), t));
  const tIn = stackAt(1);
  const got = pullback(batchedMap(tIn), [np.stack(cts, 0)])[0];
  const where = `${p.name} with ${label} (inAxes ${JSON.stringify(inAxes)})`;
  if (inAxes[1] === null) sameValues(got, loop.reduce((a, l) => np.add(a, l)), `${where}: the unbatched tangent's cotangent sums the examples`);
  else sameValues(got, np.stack(loop, inAxes[1]), where);
}

for (const p of allPrimitives) {
  test(`batch rule of ${p.name} matches a loop of unbatched calls`, () => {
    const cases = batchCases[p.name];
    assert.ok(cases !== undefined && cases.length > 0, `primitive ${p.name} has no batch test case: add one to batchCases in tests/primitives/rules.test.ts`);
    for (const c of cases) {
      const n = c.args.length;
      const ranks = c.args.map((gen) => gen().ndim);
      if (p.name === "custom_lin") {
        checkLinearBatch(p, c, [0, 0], "both batched at axis 0");
        checkLinearBatch(p, c, [null, 0], "the residual unbatched");
        checkLinearBatch(p, c, [0, null], "the tangent unbatched");
        continue;
      }
      checkBatch(p, c, ranks.map(() => 0), "every argument batched at axis 0");
      // The batch axis last (for a scalar example that is axis 0 again, so use -1 to go through normalization).
      checkBatch(p, c, ranks.map((r) => (r === 0 ? -1 : r)), "every argument batched at its last axis");
      if (ranks.some((r) => r > 0)) checkBatch(p, c, ranks.map((r, i) => (i % 2 === 0 ? Math.min(1, r) : 0)), "batch axes that differ between arguments");
      for (let j = 0; j < n && n > 1; j++) {
        checkBatch(p, c, ranks.map((r, i) => (i === j ? null : r)), `argument ${j} unbatched`);
      }
    }
  });
}

test("a primitive declared not differentiable has zero tangents, from its batch cases with float inputs", () => {
  let checked = 0;
  for (const p of allPrimitives.filter((q) => !q.differentiable)) {
    for (const c of batchCases[p.name] ?? []) {
      const args = c.args.map((gen) => gen());
      if (!args.every((a) => a.dtype === "float64")) continue;
      const [outs, tangents] = jvp((...xs: Tensor[]) => bind(p, xs, c.params), args, args.map((a) => np.onesLike(a)));
      assert.is(tangents.length, outs.length);
      for (const t of tangents) assert.ok(Array.from(t.toTypedArray(), Number).every((v) => v === 0), `${p.name}: a nonzero tangent`);
      checked++;
    }
  }
  assert.ok(checked >= 10, `only ${checked} cases checked`);
});

test("every primitive's cost and notation give sensible answers on its batch cases", () => {
  for (const p of allPrimitives) {
    for (const c of batchCases[p.name] ?? []) {
      const ins = c.args.map((gen) => gen().aval);
      const outs = p.abstractEval(ins, c.params);
      const { flops, transcendentals } = p.cost(ins, outs, c.params);
      const where = `${p.name} ${JSON.stringify(ins.map((a) => a.shape))}`;
      assert.ok(Number.isInteger(flops) && Number.isInteger(transcendentals) && 0 <= transcendentals && transcendentals <= flops, `${where}: cost ${flops} / ${transcendentals}`);
      const written = p.notation?.(ins.map((_, i) => `v${i}`), c.params, ins) ?? null;
      if (written !== null) for (let i = 0; i < ins.length; i++) assert.ok(written.includes(`v${i}`), `${where}: notation ${written} omits operand ${i}`);
    }
  }
});

test("every batch case names a registered primitive", () => {
  const unknown = Object.keys(batchCases).filter((n) => prim(n) === undefined);
  assert.equal(unknown, []);
});

test.run();
