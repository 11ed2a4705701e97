// Every differentiable primitive, through the public functions that bind it, checked against
// central differences (checkGrads, orders 1 and 2, forward and reverse) and against the adjoint
// identity <vjp(u), v> = <u, jvp(v)>, on plain, broadcast and strided inputs.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { GradCheckError, JacobiError, type Tensor, checkGrads, jvp, makeJaxpr, nn, np, tree, vjp } from "../../src/index.js";
import { allPrimitives } from "../../src/core/primitive.js";
import { seeded } from "../../src/core/random.js";
import { rsqrt } from "../../src/primitives/elementwise.js";
import * as SP from "../../src/primitives/special.js";
import { scatterAdd } from "../../src/primitives/gather.js";
import { pad } from "../../src/primitives/shape.js";
import { lax } from "../../src/index.js";
import { evalClosed } from "../../src/interpreters/eval.js";
import { checkpoint, customJvp, customVjp, linearize, vmap } from "../../src/index.js";
import { bind } from "../../src/core/trace.js";
import { Label } from "../../src/core/label.js";
import { avalsLabel, customLinP } from "../../src/interpreters/custom-rules.js";
import { addAny } from "../../src/interpreters/add-any.js";
import { throwsWith } from "../helpers.js";

type Fn = (...xs: any[]) => any;

const rand = seeded(20240611);

// ---- input domains: where each function is smooth ----
type Dom = (n: number) => number[];
const uni = (lo: number, hi: number): Dom => (n) => Array.from({ length: n }, () => lo + (hi - lo) * rand());
/** |x| in [lo, hi] with a random sign: away from the kink of abs and the pole of 1/x. */
const away = (lo: number, hi: number): Dom => (n) => uni(lo, hi)(n).map((v) => (rand() < 0.5 ? -v : v));
/** Multiples of 0.5 shifted by `offset`, jittered: two grids with offsets 0 and 0.25 never tie. */
const grid = (offset: number): Dom => (n) => Array.from({ length: n }, () => Math.floor(rand() * 8 - 4) * 0.5 + offset + 0.04 * (rand() - 0.5));
/** Distinct values at least 0.25 apart, so a max/min has a unique winner. */
const distinct: Dom = (n) => {
  const vals = Array.from({ length: n }, (_, i) => i * 0.3 - 1 + 0.02 * rand());
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [vals[i], vals[j]] = [vals[j], vals[i]];
  }
  return vals;
};

// ---- inputs: plain arrays and strided views ----
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
const fmt = (s: number[]) => `[${s.join(",")}]`;
const arr = (vals: number[], shape: number[]): Tensor => np.reshape(np.array(vals), shape);
interface Maker {
  label: string;
  make: (d: Dom) => Tensor;
}
const plain = (shape: number[]): Maker => ({ label: fmt(shape), make: (d) => arr(d(size(shape)), shape) });
/** A transposed view (reversed strides) of the given shape. */
const transposed = (shape: number[]): Maker => ({
  label: `transposed view ${fmt(shape)}`,
  make: (d) => np.transpose(arr(d(size(shape)), [...shape].reverse())),
});
/** Every other row of an array twice as tall: a view with a doubled leading stride. */
const sliced = (shape: number[]): Maker => ({
  label: `strided slice ${fmt(shape)}`,
  make: (d) => {
    const base = [shape[0] * 2, ...shape.slice(1)];
    return arr(d(size(base)), base).slice([0, base[0], 2]);
  },
});

const UNARY: Maker[][] = [[plain([])], [plain([3])], [plain([3, 4])], [transposed([3, 4])], [sliced([3, 4])]];
const BINARY: Maker[][] = [
  [plain([]), plain([])],
  [plain([3]), plain([3])],
  [plain([3, 4]), plain([3, 4])],
  [plain([3, 1]), plain([1, 4])],
  [plain([]), plain([3, 4])],
  [transposed([3, 4]), sliced([3, 4])],
];
const RANKED: Maker[][] = UNARY.slice(1);

interface Case {
  /** The primitive the function must bind (checked on its jaxpr); null for composites. */
  prim: string | null;
  name: string;
  f: Fn;
  configs: Maker[][];
  doms: Dom[];
  /** Argument lists given literally (exact zeros, float32 inputs ...). */
  fixed?: [string, Tensor[]][];
}

const cases: Case[] = [];
const unaryCase = (prim: string | null, name: string, f: Fn, dom: Dom, configs = UNARY) => cases.push({ prim, name, f, configs, doms: [dom] });
const binaryCase = (prim: string, name: string, f: Fn, a: Dom, b: Dom) => cases.push({ prim, name, f, configs: BINARY, doms: [a, b] });

// ---- elementwise ----
unaryCase("neg", "np.negative", np.negative, uni(-2, 2));
unaryCase("sin", "np.sin", np.sin, uni(-3, 3));
unaryCase("cos", "np.cos", np.cos, uni(-3, 3));
unaryCase("tan", "np.tan", np.tan, uni(-1.2, 1.2));
unaryCase("asin", "np.arcsin", np.arcsin, uni(-0.8, 0.8));
unaryCase("acos", "np.arccos", np.arccos, uni(-0.8, 0.8));
unaryCase("atan", "np.arctan", np.arctan, uni(-3, 3));
unaryCase("sinh", "np.sinh", np.sinh, uni(-2, 2));
unaryCase("cosh", "np.cosh", np.cosh, uni(-2, 2));
unaryCase("tanh", "np.tanh", np.tanh, uni(-2, 2));
unaryCase("exp", "np.exp", np.exp, uni(-2, 2));
unaryCase("log", "np.log", np.log, uni(0.5, 3));
unaryCase("log1p", "np.log1p", np.log1p, uni(-0.5, 2));
unaryCase("expm1", "np.expm1", np.expm1, uni(-2, 2));
unaryCase("sqrt", "np.sqrt", np.sqrt, uni(0.5, 3));
unaryCase("rsqrt", "rsqrt (primitive; no np name)", rsqrt, uni(0.5, 3));
unaryCase("abs", "np.abs", np.abs, away(0.3, 2));
unaryCase("integer_pow", "np.power(x, 3)", (x) => np.power(x, 3), uni(-2, 2));
unaryCase("integer_pow", "np.square", np.square, uni(-2, 2));
unaryCase("integer_pow", "np.reciprocal", np.reciprocal, away(0.5, 2));
unaryCase("integer_pow", "np.power(x, -2)", (x) => np.power(x, -2), away(0.5, 2));
unaryCase("integer_pow", "np.power(x, 1)", (x) => np.power(x, 1), uni(-2, 2));
unaryCase("integer_pow", "np.power(x, 0)", (x) => np.power(x, 0).add(x), uni(-2, 2));
binaryCase("add", "np.add", np.add, uni(-2, 2), uni(-2, 2));
// add_any is shape-strict (the interpreters add tangents of one value), so no broadcasting configs.
cases.push({
  prim: "add_any",
  name: "addAny (the interpreters' tangent sum)",
  f: addAny,
  configs: [[plain([]), plain([])], [plain([3]), plain([3])], [transposed([3, 4]), sliced([3, 4])]],
  doms: [uni(-2, 2), uni(-2, 2)],
});
binaryCase("sub", "np.subtract", np.subtract, uni(-2, 2), uni(-2, 2));
binaryCase("mul", "np.multiply", np.multiply, uni(-2, 2), uni(-2, 2));
binaryCase("div", "np.divide", np.divide, uni(-2, 2), away(0.5, 2));
binaryCase("pow", "np.power", np.power, uni(0.5, 2), uni(-1.5, 1.5));
binaryCase("max", "np.maximum", np.maximum, grid(0), grid(0.25));
binaryCase("min", "np.minimum", np.minimum, grid(0.25), grid(0));
binaryCase("atan2", "np.arctan2", np.arctan2, uni(-2, 2), uni(0.3, 2));
binaryCase("rem", "np.fmod", np.fmod, uni(-3, 3), uni(0.7, 1.3));
unaryCase("cbrt", "np.cbrt", np.cbrt, uni(0.5, 2));
binaryCase("select", "np.where(x > 0, x, y)", (x, y) => np.where(np.greater(x, 0), x, y), away(0.3, 2), uni(-2, 2));
unaryCase("select", "nn.relu", nn.relu, away(0.3, 2));
unaryCase("max", "np.clip", (x) => np.clip(x, -0.5, 0.5), grid(0.25));
// Zero derivatives, away from the jumps.
unaryCase("sign", "np.sign", (x) => np.sign(x).add(x), away(0.3, 2));
unaryCase("floor", "np.floor", (x) => np.floor(x).mul(x), grid(0.25));
unaryCase("ceil", "np.ceil", (x) => np.ceil(x).mul(x), grid(0.25));
unaryCase("round", "np.round", (x) => np.round(x).mul(x), grid(0.1));

// ---- special functions (issue 12) ----
unaryCase("erf", "lax.erf", SP.erf, uni(-2, 2));
unaryCase("erfc", "lax.erfc", SP.erfc, uni(-2, 2));
unaryCase("erf_inv", "lax.erfInv", SP.erfInv, uni(-0.9, 0.9));
unaryCase("lgamma", "lax.lgamma", SP.lgamma, uni(0.3, 4));
unaryCase("lgamma", "lax.lgamma (reflected)", SP.lgamma, uni(-2.8, -2.2));
unaryCase("digamma", "lax.digamma", SP.digamma, uni(0.3, 4));
unaryCase("digamma", "lax.digamma (reflected)", SP.digamma, uni(-1.8, -1.2));
// In x only: their derivatives in a and b are first-order only (igamma) or absent (as JAX's);
// tests/primitives/special.test.ts checks those.
unaryCase("igamma", "igamma(2.5, x)", (x) => SP.igamma(np.multiply(np.onesLike(x), 2.5), x), uni(0.5, 4));
unaryCase("igammac", "igammac(0.7, x)", (x) => SP.igammac(np.multiply(np.onesLike(x), 0.7), x), uni(0.5, 4));
unaryCase("igamma_grad_a", "igamma_grad_a(1.5, x)", (x) => SP.igammaGradA(np.multiply(np.onesLike(x), 1.5), x), uni(0.5, 4));
unaryCase("regularized_incomplete_beta", "betainc(2, 3, x)", (x) => SP.betainc(np.multiply(np.onesLike(x), 2), np.multiply(np.onesLike(x), 3), x), uni(0.1, 0.9));

// ---- reductions ----
unaryCase("reduce_sum", "np.sum(x)", (x) => np.sum(x), uni(-2, 2));
unaryCase("reduce_sum", "np.sum(x, 0)", (x) => np.sum(x, 0), uni(-2, 2), RANKED);
unaryCase("reduce_sum", "np.mean(x, -1, keepdims)", (x) => np.mean(x, -1, { keepdims: true }), uni(-2, 2), RANKED);
unaryCase("reduce_max", "np.max(x)", (x) => np.max(x), distinct);
unaryCase("reduce_max", "np.max(x, -1)", (x) => np.max(x, -1), distinct, RANKED);
unaryCase("reduce_min", "np.min(x)", (x) => np.min(x), distinct);
unaryCase("reduce_min", "np.min(x, 0)", (x) => np.min(x, 0), distinct, RANKED);
cases.push({
  prim: "reduce_prod",
  name: "np.prod(x)",
  f: (x) => np.prod(x),
  configs: UNARY,
  doms: [away(0.5, 1.5)],
  // A product is a polynomial: its derivatives of every order are exact at zeros too.
  fixed: [
    ["one zero", [np.array([0, 2, 3])]],
    ["two zeros", [np.array([0, 2, 0, 3])]],
  ],
});
cases.push({
  prim: "reduce_prod",
  name: "np.prod(x, 1)",
  f: (x) => np.prod(x, 1),
  configs: [[plain([3, 4])], [transposed([3, 4])], [sliced([3, 4])], [plain([2, 5])]],
  doms: [away(0.5, 1.5)],
  fixed: [
    ["rows with zero, one and two zeros", [np.array([[0, 0, 2], [1, 2, 3], [0, 1.5, 1]])]],
    ["empty rows (the product is 1)", [np.zeros([2, 0])]],
  ],
});

// ---- shape ----
unaryCase("broadcast_in_dim", "np.broadcastTo(x, [2,3,4])", (x) => np.broadcastTo(x, [2, 3, 4]), uni(-2, 2), [
  [plain([])],
  [plain([4])],
  [plain([3, 1])],
  [plain([3, 4])],
  [transposed([3, 4])],
  [sliced([3, 4])],
]);
unaryCase("reshape", "np.reshape(x, [-1])", (x) => np.reshape(x, [-1]).mul(x.reshape([-1])), uni(-2, 2), [[plain([3])], [plain([3, 4])], [transposed([3, 4])], [sliced([3, 4])]]);
unaryCase("reshape", "np.reshape(x, [2, 6])", (x) => np.reshape(x, [2, 6]), uni(-2, 2), [[plain([3, 4])], [transposed([3, 4])], [sliced([3, 4])]]);
unaryCase("reshape", "np.expandDims(x, 0)", (x) => np.expandDims(x, 0), uni(-2, 2));
unaryCase("transpose", "np.transpose(x)", (x) => np.transpose(x), uni(-2, 2), [[plain([3, 4])], [transposed([3, 4])], [sliced([3, 4])], [plain([2, 3, 4])]]);
unaryCase("transpose", "np.transpose(x, [2,0,1])", (x) => np.transpose(x, [2, 0, 1]), uni(-2, 2), [[plain([2, 3, 4])], [transposed([2, 3, 4])], [sliced([2, 3, 4])]]);
unaryCase("squeeze", "np.squeeze(x)", (x) => np.squeeze(x), uni(-2, 2), [[plain([3, 1])], [plain([1, 4, 1])], [transposed([3, 1])], [sliced([1, 4])]]);
unaryCase("slice", "x.slice([1, 3])", (x) => x.slice([1, 3]), uni(-2, 2), RANKED);
unaryCase("slice", "x.slice(null, [0, 4, 2])", (x) => x.slice(null, [0, 4, 2]), uni(-2, 2), [[plain([3, 4])], [transposed([3, 4])], [sliced([3, 4])]]);
unaryCase("slice", "x.slice(1)", (x) => x.slice(1), uni(-2, 2), RANKED);
unaryCase("pad", "pad (primitive; no np name)", (x) => pad(x, 0.5, x.shape.map(() => 1), x.shape.map(() => 2), x.shape.map(() => 1)), uni(-2, 2), RANKED);
unaryCase("pad", "pad without interior", (x) => pad(x, 0, x.shape.map(() => 0), x.shape.map(() => 1)), uni(-2, 2), RANKED);
const concatConfigs: Maker[][] = [
  [plain([3]), plain([2])],
  [plain([3, 4]), plain([1, 4])],
  [transposed([3, 4]), sliced([2, 4])],
];
cases.push({ prim: "concatenate", name: "np.concatenate([x, y])", f: (x, y) => np.concatenate([x, y]), configs: concatConfigs, doms: [uni(-2, 2), uni(-2, 2)] });
cases.push({
  prim: "concatenate",
  name: "np.concatenate([x, y, x], 1)",
  f: (x, y) => np.concatenate([x, y, x], 1),
  configs: [[plain([3, 4]), plain([3, 2])], [transposed([3, 4]), sliced([3, 2])]],
  doms: [uni(-2, 2), uni(-2, 2)],
});
cases.push({ prim: "concatenate", name: "np.stack([x, y], 1)", f: (x, y) => np.stack([x, y], 1), configs: BINARY.filter((c) => c[0].label !== "[]" && (c[0].label === c[1].label || c[0].label.includes("view"))), doms: [uni(-2, 2), uni(-2, 2)] });

// ---- linear algebra ----
const matmulConfigs: Maker[][] = [
  [plain([3, 4]), plain([4, 2])],
  [plain([4]), plain([4, 2])],
  [plain([3, 4]), plain([4])],
  [plain([4]), plain([4])],
  [plain([2, 3, 4]), plain([2, 4, 2])],
  [plain([2, 3, 4]), plain([4, 2])],
  [transposed([3, 4]), sliced([4, 2])],
];
cases.push({ prim: "dot_general", name: "np.matmul", f: np.matmul, configs: matmulConfigs, doms: [uni(-2, 2), uni(-2, 2)] });
cases.push({ prim: "dot_general", name: "np.dot", f: np.dot, configs: [[plain([3, 4]), plain([4, 2])], [plain([2, 3, 4]), plain([3, 4, 2])], [sliced([3, 4]), transposed([4])]], doms: [uni(-2, 2), uni(-2, 2)] });
cases.push({ prim: "dot_general", name: "np.outer", f: np.outer, configs: [[plain([3]), plain([4])], [sliced([3]), plain([2, 2])]], doms: [uni(-2, 2), uni(-2, 2)] });

// ---- dtype conversion ----
unaryCase("convert_element_type", "np.astype(x, 'float32')", (x) => np.astype(x, "float32"), uni(-2, 2));
cases.push({
  prim: "convert_element_type",
  name: "np.astype(x, 'float64') of float32",
  f: (x) => np.astype(x, "float64").mul(x.sum()),
  configs: [],
  doms: [],
  fixed: [
    ["float32 [3]", [np.array([0.5, -1.25, 2], "float32")]],
    ["float32 transposed view", [np.transpose(np.array([[0.5, -1.25], [2, 0.75]], "float32"))]],
  ],
});
cases.push({
  prim: "convert_element_type",
  name: "np.astype(x, 'int32') beside a float32 output",
  f: (x) => [np.astype(x, "int32"), np.sin(np.astype(x, "float32"))],
  configs: RANKED,
  doms: [uni(-2, 2)],
});

// ---- indexing ----
unaryCase("gather", "np.take(x, [2, 0, 2], 0)", (x) => np.take(x, np.array([2, 0, 2], "int32"), 0), uni(-2, 2), RANKED);
unaryCase("gather", "np.take(x, [3, 1, 3], 1)", (x) => np.take(x, np.array([3, 1, 3], "int32"), 1), uni(-2, 2), [[plain([3, 4])], [transposed([3, 4])], [sliced([3, 4])]]);
unaryCase("gather", "np.take(x, [[5, 0], [11, 5]])", (x) => np.take(x, np.array([[5, 0], [11, 5]], "int32")), uni(-2, 2), [[plain([3, 4])], [transposed([3, 4])]]);
unaryCase("gather", "x.slice([, , -1])", (x) => x.slice([undefined, undefined, -1]), uni(-2, 2), RANKED);
unaryCase("scatter_add", "scatterAdd (primitive; no np name)", (x) => scatterAdd(x, [2, 0, 2], 0, 4), uni(-2, 2), RANKED);
// Traced-index updates (issue 10): rows 1 and 0 of a 4x3 operand, row 1 twice (the repeats are exact).
const rows = np.array([[1], [0], [1]], "int32");
const updateConfigs: Maker[][] = [[plain([4, 3]), plain([3, 3])], [transposed([4, 3]), sliced([3, 3])]];
cases.push({ prim: "gather", name: "x.at(rows).get() (traced-index gather)", f: (x) => x.at(np.array([1, 0, 1, 7], "int32")).get(), configs: [[plain([4, 3])], [transposed([4, 3])]], doms: [uni(-2, 2)] });
cases.push({ prim: "scatter_add", name: "x.at(rows).add(u)", f: (x, u) => x.at(np.reshape(rows, [3])).add(u), configs: updateConfigs, doms: [uni(-2, 2), uni(-2, 2)] });
cases.push({ prim: "scatter", name: "x.at(rows).set(u)", f: (x, u) => x.at(np.reshape(rows, [3])).set(u), configs: updateConfigs, doms: [uni(-2, 2), uni(-2, 2)] });
cases.push({
  prim: "scatter_mul",
  name: "x.at(rows).mul(u)",
  f: (x, u) => x.at(np.reshape(rows, [3])).mul(u),
  configs: updateConfigs,
  doms: [uni(-2, 2), uni(-2, 2)],
  // Products are polynomials: exact at zero updates too (one zero, and two at one position).
  fixed: [["zero updates", [np.ones([4, 3]).mul(1.5), np.array([[0, 2, 0], [1, 0, 3], [0.5, -1, 0]])]]],
});
cases.push({ prim: "scatter_min", name: "x.at(rows).min(u)", f: (x, u) => x.at(np.reshape(rows, [3])).min(u), configs: updateConfigs, doms: [grid(0), grid(0.25)] });
cases.push({ prim: "scatter_max", name: "x.at(rows).max(u)", f: (x, u) => x.at(np.reshape(rows, [3])).max(u), configs: updateConfigs, doms: [grid(0.25), grid(0)] });
// Sorting and scans (issue 10): distinct values, so the sorting permutation is locally constant.
unaryCase("sort", "np.sort(x)", (x) => np.sort(x), distinct, RANKED);
unaryCase("sort", "lax.topK(x, 2) values", (x) => lax.topK(x, 2)[0], distinct, RANKED);
unaryCase("cumsum", "np.cumsum(x, -1)", (x) => np.cumsum(x, -1), uni(-2, 2), RANKED);
unaryCase("cumsum", "np.cumsum(x, 0, reverse)", (x) => np.cumsum(x, 0, { reverse: true }), uni(-2, 2), RANKED);
unaryCase("cumprod", "np.cumprod(x, -1)", (x) => np.cumprod(x, -1), uni(-2, 2), RANKED);
cases.push({ prim: "cumprod", name: "np.cumprod(x, 0, reverse) through zeros", f: (x) => np.cumprod(x, 0, { reverse: true }), configs: RANKED, doms: [uni(-2, 2)], fixed: [["zeros", [np.array([1.5, 0, -2, 0, 0.5])]]] });
unaryCase("cummax", "np.cummax(x, -1)", (x) => np.cummax(x, -1), distinct, RANKED);
unaryCase("cummin", "np.cummin(x, 0, reverse)", (x) => np.cummin(x, 0, { reverse: true }), distinct, RANKED);

// ---- composites from nn ----
unaryCase(null, "nn.sigmoid", nn.sigmoid, away(0.2, 3));
unaryCase(null, "nn.softplus", nn.softplus, away(0.2, 3));
unaryCase(null, "nn.logsumexp", (x) => nn.logsumexp(x), distinct);
unaryCase(null, "nn.softmax", (x) => nn.softmax(x), distinct, RANKED);
unaryCase(null, "nn.logSoftmax", (x) => nn.logSoftmax(x, 0), distinct, RANKED);

// ---- control flow ----
/** `f` staged into a jaxpr and evaluated (as jit runs it): a predicate computed from the inputs is traced, so cond is bound. */
const stagedFn =
  (f: Fn) =>
  (...xs: Tensor[]): Tensor =>
    evalClosed(makeJaxpr(f)(...xs), xs)[0];
const condBranches = (x: Tensor) => lax.cond(x.sum().gt(0), (a: Tensor) => np.sin(a).mul(a), (a: Tensor) => np.exp(a).mul(a), x);
unaryCase("cond", "lax.cond on a traced predicate (true)", stagedFn(condBranches), uni(0.2, 2));
unaryCase("cond", "lax.cond on a traced predicate (false)", stagedFn(condBranches), uni(-2, -0.2));
unaryCase(
  "cond",
  "lax.switch on a traced index",
  stagedFn((x: Tensor) => lax.switch(np.astype(x.sum().gt(0), "int32"), [(a: Tensor) => np.cos(a), (a: Tensor) => a.mul(a)], x)),
  uni(-2, -0.2),
);
unaryCase("scan", "lax.scan (recurrence with per-step outputs)", (x: Tensor) => lax.scan((c: Tensor, xi: Tensor) => [np.sin(c).mul(xi).add(c.mul(0.5)), c.mul(xi)], x.slice(0), x), uni(-2, 2), RANKED);
unaryCase(
  "scan",
  "lax.scan reverse, closing over a function of x",
  (x: Tensor) => {
    const w = np.tanh(x.sum());
    return lax.scan((c: Tensor, xi: Tensor) => [np.cos(c.mul(w)).add(xi), c], x.slice(0), x, { reverse: true });
  },
  uni(-2, 2),
  RANKED,
);
// scan_revolve is the tangent map of a checkpointed scan: linearize's jvpFn applies it forward,
// and differentiating that runs its jvp rule; reverse mode transposes it (the revolve schedule).
const checkpointedScan = (x: Tensor) => {
  const [c, ys] = lax.scan((c: Tensor, xi: Tensor) => [np.sin(c).mul(xi).add(c.mul(0.5)), c.mul(xi)], x.slice(0), x, { checkpoint: { snapshots: 1 } });
  return c.add(ys.sum());
};
unaryCase("scan_revolve", "linearize(checkpointed lax.scan)'s jvpFn", (x: Tensor) => linearize(checkpointedScan, [x])[1](x), uni(-2, 2), RANKED);
unaryCase("scan", "lax.foriLoop with static bounds", (x: Tensor) => lax.foriLoop(0, 3, (_i: Tensor, v: Tensor) => np.sin(v).mul(x), x), uni(-2, 2));

// ---- custom rules and checkpoint ----
const softplusJvp = customJvp((x: Tensor) => np.log1p(np.exp(x)));
softplusJvp.defjvp(([x]: Tensor[], [t]: Tensor[]) => [softplusJvp(x), np.multiply(t, nn.sigmoid(x))]);
unaryCase("custom_jvp_call", "customJvp softplus with its true derivative", softplusJvp, uni(-3, 3));
// Under vmap the call is staged, so the primitive's batch rule and then its jvp rule run.
unaryCase("custom_jvp_call", "vmap of a customJvp function", (x: Tensor) => vmap(softplusJvp)(x), uni(-3, 3), RANKED);
unaryCase("checkpoint", "checkpoint(x => sin(x) * exp(x))", checkpoint((x: Tensor) => np.sin(x).mul(np.exp(x))), uni(-2, 2));
binaryCase("checkpoint", "checkpoint((x, y) => x * sin(y))", checkpoint((x: Tensor, y: Tensor) => np.multiply(x, np.sin(y))), uni(-2, 2), uni(-2, 2));
/** custom_lin with residual r: the linear map t -> sin(r) t, known by its transpose. */
const sinScale = (r: Tensor, t: Tensor): Tensor =>
  bind(customLinP, [r, t], {
    name: "sin_scale",
    numRes: 1,
    bwd: new Label((res: Tensor[], cts: Tensor[]) => [np.multiply(np.sin(res[0]), cts[0])], "sin_scale_bwd"),
    outAvals: avalsLabel([t.aval.strong()]),
  })[0];
// custom_lin is known only by its transpose: reverse mode transposes it (the custom_vjp_call test
// below differentiates through it); evaluating it forward is forward mode, which throws as in JAX.
test("custom_lin: evaluating the map forward is forward mode of a customVjp function and throws", () => {
  const r = np.array([0.3, -1.2]);
  throwsWith(() => sinScale(r, np.ones([2])), JacobiError, ["customVjp (sin_scale)", "forward mode"]);
  throwsWith(() => jvp((t: Tensor) => sinScale(r, t), [np.ones([2])], [np.ones([2])]), JacobiError, ["customVjp (sin_scale)", "forward mode"]);
});

// ---- checks ----
function argLists(c: Case): [string, Tensor[]][] {
  const made = c.configs.map((ms): [string, Tensor[]] => [ms.map((m) => m.label).join(" x "), ms.map((m, i) => m.make(c.doms[i]))]);
  return [...made, ...(c.fixed ?? [])];
}

function usesPrimitive(prim: string, f: Fn, args: Tensor[]): boolean {
  const text = makeJaxpr(f)(...args).toString();
  return new RegExp(`(^|[^\\w])${prim}([^\\w]|$)`, "m").test(text);
}

const values = (t: Tensor): number[] => Array.from(t.toTypedArray());
const isFloat = (t: Tensor) => t.dtype === "float64" || t.dtype === "float32";
function randomLike(t: Tensor): Tensor {
  const v = isFloat(t) ? uni(-1, 1)(t.size) : new Array<number>(t.size).fill(0);
  return np.astype(arr(v, t.shape), t.dtype);
}
function dotAll(a: Tensor[], b: Tensor[]): [number, number] {
  let s = 0, scale = 0;
  a.forEach((x, i) => {
    if (!isFloat(x)) return;
    const u = values(x), v = values(b[i]);
    u.forEach((ui, k) => {
      s += ui * v[k];
      scale += Math.abs(ui * v[k]);
    });
  });
  return [s, scale];
}

/** <vjp(u), v> = <u, jvp(v)>: forward and reverse mode are transposes of one linear map. */
function adjointGap(f: Fn, args: Tensor[]): { lhs: number; rhs: number; rel: number } {
  const v = args.map(randomLike);
  const [, tOut] = jvp(f, args, v);
  const [y, back] = vjp(f, args);
  const [ys, def] = tree.flatten(y) as [Tensor[], any];
  const u = ys.map(randomLike);
  const cts = back(tree.unflatten(def, u)) as Tensor[];
  const [lhs, s1] = dotAll(cts, v);
  const [rhs, s2] = dotAll(u, tree.leaves(tOut) as Tensor[]);
  const scale = Math.max(Math.abs(lhs), Math.abs(rhs));
  return { lhs, rhs, rel: scale === 0 ? (s1 + s2 === 0 ? 0 : Infinity) : Math.abs(lhs - rhs) / scale };
}

const involvesF32 = (args: Tensor[], f: Fn) => args.some((a) => a.dtype === "float32") || (tree.leaves(f(...args)) as Tensor[]).some((o) => o.dtype === "float32");

for (const c of cases) {
  test(`${c.prim ?? "composite"}: ${c.name}`, () => {
    let bound = false;
    for (const [label, args] of argLists(c)) {
      const where = `${c.name} on ${label}`;
      // Some calls are no-ops for some shapes (np.sum of a scalar): the primitive must appear for one at least.
      bound ||= c.prim !== null && usesPrimitive(c.prim, c.f, args);
      try {
        assert.is(checkGrads(c.f, args, { order: 1 }), undefined);
        assert.is(checkGrads(c.f, args, { order: 2 }), undefined);
      } catch (e) {
        throw new Error(`${where}: ${(e as Error).message}`);
      }
      const { lhs, rhs, rel } = adjointGap(c.f, args);
      // float32 results carry float32 rounding; everything else is float64.
      const tol = involvesF32(args, c.f) ? 1e-6 : 1e-12;
      assert.ok(rel <= tol, `${where}: <vjp(u), v> = ${lhs} but <u, jvp(v)> = ${rhs} (relative gap ${rel})`);
    }
    if (c.prim !== null) assert.ok(bound, `${c.name}: no jaxpr of its calls binds ${c.prim}`);
  });
}

// ---- convolution and windows (tests/primitives/conv.test.ts has the torch fixtures) ----
cases.push({ prim: "conv_general_dilated", name: "lax.conv 1-d, padded", f: (x, w) => lax.conv(x, w, [1], [[1, 0]]), configs: [[plain([2, 3, 5]), plain([4, 3, 2])]], doms: [uni(-2, 2), uni(-2, 2)] });
cases.push({
  prim: "conv_general_dilated",
  name: "lax.convGeneralDilated 2-d, strides, dilations, groups",
  f: (x, w) => lax.convGeneralDilated(x, w, [2, 1], [[1, 0], [0, 1]], { lhsDilation: [1, 2], rhsDilation: [2, 1], featureGroupCount: 2 }),
  configs: [[plain([1, 4, 5, 3]), plain([2, 2, 2, 2])]],
  doms: [uni(-2, 2), uni(-2, 2)],
});
const windowParams = { window: [2, 2], strides: [1, 2], padding: [[0, 1], [1, 0]], baseDilation: [1, 1], windowDilation: [1, 1] };
const windowPrim = (name: string) => allPrimitives.find((q) => q.name === name) as (typeof allPrimitives)[number];
unaryCase("reduce_window_sum", "lax.reduceWindow sum", (x) => lax.reduceWindow(x, 0, "sum", [2, 2], [1, 2], [[0, 1], [1, 0]]), uni(-2, 2), [[plain([3, 4])], [transposed([3, 4])]]);
unaryCase("reduce_window_max", "lax.reduceWindow max", (x) => lax.reduceWindow(x, -Infinity, "max", [2, 2], [1, 2], [[0, 1], [1, 0]]), uni(-2, 2), [[plain([3, 4])], [sliced([3, 4])]]);
cases.push({ prim: "select_and_gather_add", name: "select_and_gather_add (primitive)", f: (t, x) => bind(windowPrim("select_and_gather_add"), [t, x], windowParams)[0], configs: [[plain([3, 4]), plain([3, 4])]], doms: [uni(-2, 2), uni(-2, 2)] });
cases.push({ prim: "select_and_scatter_add", name: "select_and_scatter_add (primitive)", f: (c, x) => bind(windowPrim("select_and_scatter_add"), [c, x], windowParams)[0], configs: [[plain([3, 2]), plain([3, 4])]], doms: [uni(-2, 2), uni(-2, 2)] });

// ---- linear algebra (tests/linalg has the torch fixtures and the composites) ----
// Inputs are shifted to be well conditioned: positive definite, diagonally dominant, distinct
// eigenvalues and singular values; eigen/singular vectors enter through gauge-invariant products.
const shifted = (x: Tensor, d: number[]): Tensor => np.add(x, np.multiply(np.eye(x.shape[0], x.shape[1]), np.array(d)));
const gauge = (v: Tensor, d: number[], w: Tensor = v): Tensor => np.matmul(np.multiply(v, np.array(d)), np.transpose(w));
unaryCase("cholesky", "np.linalg.cholesky of x x^T + 3I", (x: Tensor) => np.linalg.cholesky(np.add(np.matmul(x, np.transpose(x)), np.multiply(3, np.eye(3)))), uni(-1, 1), [[plain([3, 3])]]);
cases.push({
  prim: "triangular_solve",
  name: "lax.linalg.triangularSolve (left, lower; right, upper, transposed)",
  f: (a: Tensor, b: Tensor) => {
    const t = shifted(a, [4, 4, 4]);
    return [lax.linalg.triangularSolve(t, b, { leftSide: true, lower: true }), lax.linalg.triangularSolve(t, np.transpose(b), { transposeA: true, unitDiagonal: true })];
  },
  configs: [[plain([3, 3]), plain([3, 2])]],
  doms: [uni(-1, 1), uni(-1, 1)],
});
// A permutation plus a small perturbation: LU pivots, and the pivots stay put under perturbation.
unaryCase("lu", "lax.linalg.lu of a perturbed permutation", (x: Tensor) => lax.linalg.lu(np.add(np.multiply(0.2, x), np.array([[0, 3, 0], [0, 0, 2], [1, 0, 0]])))[0], uni(-1, 1), [[plain([3, 3])]]);
unaryCase("qr", "np.linalg.qr (reduced, tall)", (x: Tensor) => np.linalg.qr(shifted(x, [3, 2, 1])), uni(-0.5, 0.5), [[plain([4, 3])]]);
unaryCase("eigh", "np.linalg.eigh: w and v diag(d) v^T", (x: Tensor) => {
  const [w, v] = np.linalg.eigh(shifted(x, [0, 2, 4]));
  return [w, gauge(v, [1, -0.5, 2])];
}, uni(-0.5, 0.5), [[plain([3, 3])]]);
unaryCase("svd", "np.linalg.svd: s and u diag(d) v^T (reduced, tall and wide)", (x: Tensor) => {
  const [u, s, vt] = np.linalg.svd(shifted(x, [3, 2, 1]), { fullMatrices: false });
  return [s, gauge(u, [1, -0.5, 2], np.transpose(vt))];
}, uni(-0.5, 0.5), [[plain([4, 3])], [transposed([4, 3])]]);

// ---- coverage of the primitive set ----
// Every primitive not declared `differentiable: false` (bool or integer results, piecewise constant
// functions, stop_gradient: derivatives zero by declaration, checked in tests/primitives/rules.test.ts)
// needs a case above, except those differentiable in one mode only, tested further down, and
// random_gamma_grad, whose jvp refuses (as JAX's; tested in tests/random).
const ONE_MODE_ONLY = new Set<string>(["custom_lin", "random_gamma_grad"]);

test("every differentiable primitive has a case above", () => {
  const covered = new Set(cases.map((c) => c.prim));
  const differentiable = allPrimitives.filter((p) => p.differentiable && !ONE_MODE_ONLY.has(p.name));
  assert.ok(differentiable.length > 35, `only ${differentiable.length} differentiable primitives registered`);
  const missing = differentiable.map((p) => p.name).filter((n) => !covered.has(n));
  assert.equal(missing, [], `primitives without a derivative test in tests/primitives/derivatives.test.ts: ${missing.join(", ")}`);
});

test("the strided inputs really are non-contiguous views", () => {
  const t = transposed([3, 4]).make(uni(0, 1));
  const s = sliced([3, 4]).make(uni(0, 1));
  assert.equal((t.concrete() as any).stride, [1, 3]);
  assert.equal((s.concrete() as any).stride, [8, 1]);
  assert.equal(t.shape, [3, 4]);
  assert.equal(s.shape, [3, 4]);
});

test("stop_gradient: zero derivative in both modes, at every order", () => {
  const f = (x: Tensor) => np.stopGradient(np.sin(x)).mul(x);
  const x = np.array([0.5, -1, 2]);
  const [, t] = jvp(f, [x], [np.ones([3])]);
  assert.equal(values(t), values(np.sin(x)));
  const [, back] = vjp(f, [x]);
  assert.equal(values(back(np.array([1, 2, 3]))[0]), values(np.sin(x).mul(np.array([1, 2, 3]))));
  const [, t2] = jvp((v: Tensor) => jvp(f, [v], [np.ones([3])])[1], [x], [np.ones([3])]);
  assert.equal(values(t2), [0, 0, 0]);
});

// ---- checkGrads itself ----
const sg = np.stopGradient;

test("checkGrads returns undefined on agreement, for pytrees of arguments and outputs", () => {
  const f = (p: { w: Tensor; b: Tensor }, xs: Tensor[]) => ({ y: np.tanh(np.matmul(xs[0], p.w).add(p.b)), z: [np.sum(np.exp(xs[1]))] });
  const args = [{ w: arr(uni(-1, 1)(6), [3, 2]), b: np.array([0.1, -0.2]) }, [arr(uni(-1, 1)(12), [4, 3]), np.array([0.5, 1])]];
  assert.is(checkGrads(f, args), undefined);
  assert.is(checkGrads(f, args, { modes: ["rev"], order: 3 }), undefined);
});

test("checkGrads ignores integer arguments and outputs", () => {
  const f = (x: Tensor, k: Tensor) => [np.multiply(x, np.astype(k, "float64")), np.argmax(x)];
  assert.is(checkGrads(f, [np.array([0.5, 2, 1]), np.array([1, 2, 3], "int32")]), undefined);
});

test("checkGrads uses float32 tolerances for float32 values", () => {
  const x = np.array([0.3, -1.1, 2], "float32");
  assert.is(checkGrads((v: Tensor) => np.sin(v).mul(np.exp(v)), [x]), undefined);
});

test("checkGrads reports a wrong first derivative with the values, in each mode", () => {
  // The value is sin(x), the derivative claimed is 0.
  const f = (x: Tensor) => sg(np.sin(x));
  const x = np.array([0.5, 1]);
  for (const [mode, label] of [["fwd", "JVP (derivative order 1)"], ["rev", "VJP (derivative order 1)"]] as const) {
    try {
      checkGrads(f, [x], { modes: [mode], order: 1 });
      assert.unreachable("checkGrads accepted a wrong derivative");
    } catch (e) {
      assert.instance(e, GradCheckError);
      assert.instance(e, JacobiError);
      const m = (e as Error).message;
      assert.ok(m.includes(label), m);
      assert.ok(m.includes("central differences"), m);
      if (mode === "fwd") {
        assert.match(m, /expected \(central differences\): \[-?\d\.\d+, -?\d\.\d+\]/);
        assert.ok(m.includes("got (forward mode): [0, 0]"), m);
      } else {
        assert.match(m, /got \(reverse mode\): \[0\]/);
      }
      assert.match(m, /worst at flat index \d: expected -?\d/);
    }
  }
});

test("checkGrads finds a second derivative that is wrong while the first is right", () => {
  // sin(x) + x*cos(x) - x*cos(x), arranged so that the tangent is cos(x) but carries no derivative of its own.
  const f = (x: Tensor) => np.add(np.sin(sg(x)), np.subtract(np.multiply(x, sg(np.cos(x))), sg(np.multiply(x, np.cos(x)))));
  const x = np.array([0.5, 1.3]);
  assert.is(checkGrads(f, [x], { order: 1 }), undefined);
  for (const mode of ["fwd", "rev"] as const) {
    assert.throws(() => checkGrads(f, [x], { order: 2, modes: [mode] }), (e: Error) => e instanceof JacobiError && /derivative order 2/.test(e.message));
  }
});

test("checkGrads honours atol and rtol", () => {
  const f = (x: Tensor) => np.exp(x);
  const x = np.array([1, 2]);
  assert.throws(() => checkGrads(f, [x], { atol: 0, rtol: 1e-15, order: 1 }), (e: Error) => /does not match/.test(e.message));
  assert.is(checkGrads(f, [x], { atol: 1e-4, rtol: 1e-4, eps: 1e-4 }), undefined);
});

test("checkGrads shortens long value lists in its message", () => {
  const x = np.linspace(0.1, 3, 30);
  try {
    checkGrads((v: Tensor) => sg(np.exp(v)), [x], { order: 1, modes: ["fwd"] });
    assert.unreachable("checkGrads accepted a wrong derivative");
  } catch (e) {
    const m = (e as Error).message;
    assert.match(m, /got \(forward mode\): \[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, \.\.\., 0, 0, 0, 0\]/);
    assert.match(m, /shape \[30\], float64/);
  }
});

test("checkGrads notices a function whose value changes between calls", () => {
  let calls = 0;
  const drifting = (x: Tensor) => np.multiply(x, ++calls);
  assert.throws(() => checkGrads(drifting, [np.array([1, 2])], { order: 1 }), (e: Error) => /primal output leaf 0 of jvp/.test(e.message) && /does not match f/.test(e.message));
  let n = 0;
  const shifting = (x: Tensor) => (++n % 2 === 0 ? [x] : { a: x });
  assert.throws(() => checkGrads(shifting, [np.array([1, 2])], { order: 1 }), (e: Error) => /has structure/.test(e.message));
});

test("checkGrads rejects bad options", () => {
  const f = (x: Tensor) => x;
  assert.throws(() => checkGrads(f, [1], { order: 0 }), /order must be a positive integer/);
  assert.throws(() => checkGrads(f, [1], { modes: ["sideways" as never] }), /modes must contain/);
  assert.throws(() => checkGrads(f, [1], { eps: 0 }), /eps must be a positive/);
  assert.throws(() => checkGrads(f, 1 as never), /args must be an array/);
  assert.throws(() => checkGrads(1 as never, [1]), /expected a function/);
});

// ---- while: forward mode only ----
// As in JAX, a while loop is differentiable in forward mode only (its trip count is known only when
// it runs), so it has no case above: its forward derivatives are checked here, and
// tests/lax/control-flow.test.ts checks that reverse mode throws.
ONE_MODE_ONLY.add("while");
test("while: forward-mode derivatives against central differences", () => {
  const f = (x: Tensor) => lax.whileLoop(([k]: Tensor[]) => k.lt(3), ([k, v]: Tensor[]) => [k.add(1), np.sin(v).mul(x).add(v)], [0, x])[1];
  assert.ok(usesPrimitive("while", f, [np.array([0.5])]));
  for (const x of [np.array(0.7), np.array([0.3, -1.2, 2]), transposed([3, 4]).make(uni(-2, 2))]) {
    assert.is(checkGrads(f, [x], { modes: ["fwd"], order: 1 }), undefined);
    assert.is(checkGrads(f, [x], { modes: ["fwd"], order: 2 }), undefined);
  }
});

// ---- custom_vjp_call: reverse mode only ----
// As in JAX, a customVjp function refuses forward mode (tests/transforms/custom.test.ts checks the
// error), so it has no case above: its reverse-mode derivatives are checked here, called directly
// and under vmap (where the call is staged and the primitive's batch and jvp rules run).
ONE_MODE_ONLY.add("custom_vjp_call");
test("custom_vjp_call: reverse-mode derivatives against central differences", () => {
  const f = customVjp((x: Tensor) => np.sin(x).mul(x));
  f.defvjp((x: Tensor) => [np.sin(x).mul(x), x], (x: Tensor, ct: Tensor) => [ct.mul(np.cos(x).mul(x).add(np.sin(x)))]);
  const batched = (x: Tensor) => vmap(f)(x);
  assert.ok(usesPrimitive("custom_vjp_call", f, [np.array(0.5)]));
  assert.ok(usesPrimitive("custom_vjp_call", batched, [np.array([0.5])]));
  for (const [g, x] of [[f, np.array(0.7)], [f, np.array([0.3, -1.2, 2])], [batched, np.array([0.3, -1.2, 2])], [batched, transposed([3, 4]).make(uni(-2, 2))]] as const) {
    assert.is(checkGrads(g, [x], { modes: ["rev"], order: 1 }), undefined);
    assert.is(checkGrads(g, [x], { modes: ["rev"], order: 2 }), undefined);
  }
});

test.run();
