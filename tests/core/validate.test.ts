// Options validation: every problem of an options object reported at once, as one OptionsError,
// by the validators of core/validate.ts and by the functions that use them.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import * as E from "fp-ts/lib/Either.js";
import { JacobiError, type Tensor, checkGrads, checkpoint, costAnalysis, makeJaxpr, np, vmap } from "../../src/index.js";
import { OptionsError } from "../../src/core/errors.js";
import {
  boolean,
  checkOptions,
  describe,
  dtype,
  integers,
  nonNegativeNumber,
  numberWhere,
  oneOf,
  positiveInteger,
  positiveNumber,
  validateOptions,
} from "../../src/core/validate.js";
import { caught } from "../helpers.js";

/** The problems an options check threw, after checking it is one OptionsError from `where`. */
function problemsOf(fn: () => unknown, where: string): readonly string[] {
  const e = caught(fn);
  assert.instance(e, OptionsError);
  assert.instance(e, JacobiError);
  const err = e as OptionsError;
  assert.is(err.where, where);
  assert.is(err.message, `${where}: ${err.problems.join("; ")}`);
  return err.problems;
}

const spec = { flag: boolean, n: positiveInteger, kind: oneOf("a", "b"), dt: dtype, axes: integers, eps: positiveNumber, tol: nonNegativeNumber };

test("validateOptions collects every problem of an options object, unknown keys included", () => {
  const got = validateOptions({ flag: "yes", n: 0, kind: "c", dt: "float16", axes: [0, 1.5, "x"], eps: -1, tol: Infinity, extra: 1, other: 2 }, spec);
  assert.ok(E.isLeft(got));
  assert.equal(E.isLeft(got) ? got.left : [], [
    'flag must be true or false, got "yes"',
    "n must be a positive integer, got 0",
    'kind must be one of "a", "b", got "c"',
    'dt must be one of the dtypes float64, float32, int32, uint32, bool, got "float16"',
    "axes[1] must be an integer, got 1.5",
    'axes[2] must be an integer, got "x"',
    "eps must be a positive finite number, got -1",
    "tol must be a non-negative finite number, got Infinity",
    'unknown option "extra" (known: flag, n, kind, dt, axes, eps, tol)',
    'unknown option "other" (known: flag, n, kind, dt, axes, eps, tol)',
  ]);
});

test("checkOptions returns a new object of the checked values; undefined values count as absent", () => {
  const opts = { flag: true, n: 3, kind: "b", dt: "int32", axes: 1, eps: 0.5, tol: 0, eps2: undefined };
  const before = JSON.stringify(opts);
  const got = checkOptions("here", { ...opts, eps2: undefined }, { ...spec, eps2: positiveNumber });
  assert.equal(got, { flag: true, n: 3, kind: "b", dt: "int32", axes: 1, eps: 0.5, tol: 0 });
  assert.is(JSON.stringify(opts), before);
  assert.equal(checkOptions("here", undefined, spec), {});
  assert.equal(checkOptions("here", { axes: [2, -1] }, spec), { axes: [2, -1] });
  assert.equal(checkOptions("here", Object.create(null), spec), {});
});

test("checkOptions throws one OptionsError naming every problem", () => {
  const problems = problemsOf(() => checkOptions("np.thing", { n: 1.5, nope: true, flag: 1 }, spec), "np.thing");
  assert.equal(problems, ["n must be a positive integer, got 1.5", 'unknown option "nope" (known: flag, n, kind, dt, axes, eps, tol)', "flag must be true or false, got 1"]);
  assert.equal(problemsOf(() => checkOptions("f", { a: 1 }, {}), "f"), ['unknown option "a" (it takes no options)']);
});

test("options that are not a plain object", () => {
  for (const bad of [[1], 3, "keepdims", null, new Map(), () => 1]) {
    const [problem] = problemsOf(() => checkOptions("g", bad, spec), "g");
    assert.match(problem, /^options must be a plain object, got /);
  }
  assert.equal(problemsOf(() => checkOptions("g", 3, spec), "g"), ["options must be a plain object, got 3"]);
  assert.equal(problemsOf(() => checkOptions("g", () => 1, spec), "g"), ["options must be a plain object, got a function"]);
});

test("describe quotes values briefly", () => {
  assert.is(describe("x"), '"x"');
  assert.is(describe(null), "null");
  assert.is(describe(undefined), "undefined");
  assert.is(describe(2n), "2n");
  assert.is(describe({ a: [1, 2] }), '{"a":[1,2]}');
  assert.is(describe("y".repeat(60)), `"${"y".repeat(36)}...`);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.is(describe(cyclic), "object");
  assert.is(describe(Symbol("s")), "symbol");
  const even = numberWhere("an even number", (v) => v % 2 === 0);
  assert.equal(even(4, "k"), E.right(4));
  assert.equal(even("4", "k"), E.left(['k must be an even number, got "4"']));
  assert.equal(integers(2.5, "argnums"), E.left(["argnums must be an integer or a list of integers, got 2.5"]));
  assert.equal(integers({}, "argnums"), E.left(["argnums must be an integer or a list of integers, got {}"]));
});

test("np functions check their options: reductions and linspace", () => {
  const x = np.array([[1, 2], [3, 4]]);
  for (const [name, fn] of [
    ["sum", np.sum],
    ["prod", np.prod],
    ["max", np.max],
    ["min", np.min],
    ["mean", np.mean],
  ] as const) {
    assert.equal(problemsOf(() => fn(x, 0, { keepDims: true, keepdims: "yes" } as never), name), ['unknown option "keepDims" (known: keepdims)', 'keepdims must be true or false, got "yes"']);
    assert.equal(fn(x, 0, { keepdims: true }).shape, [1, 2]);
  }
  // The fluent methods go through the same functions.
  assert.equal(problemsOf(() => x.sum(null, { keep: true } as never), "sum"), ['unknown option "keep" (known: keepdims)']);
  assert.equal(problemsOf(() => np.linspace(0, 1, 3, { endpoint: "no", dtype: "f32", step: 1 } as never), "linspace"), [
    'endpoint must be true or false, got "no"',
    'dtype must be one of the dtypes float64, float32, int32, uint32, bool, got "f32"',
    'unknown option "step" (known: endpoint, dtype)',
  ]);
  assert.equal(np.linspace(0, 1, 3, { endpoint: false, dtype: "float32" }).tolist(), [0, Math.fround(1 / 3), Math.fround(2 / 3)]);
});

test("checkGrads and costAnalysis report every bad option at once", () => {
  const f = (x: any) => np.sin(x);
  assert.equal(problemsOf(() => checkGrads(f, [1], { order: 0, modes: ["fwd", "up", "down"], eps: 0, atol: -1, rtol: NaN, seed: 1 } as never), "checkGrads"), [
    "order must be a positive integer, got 0",
    'modes must contain "fwd" and/or "rev", got "up", "down"',
    "eps must be a positive finite number, got 0",
    "atol must be a non-negative finite number, got -1",
    "rtol must be a non-negative finite number, got NaN",
    'unknown option "seed" (known: order, modes, eps, atol, rtol)',
  ]);
  assert.equal(problemsOf(() => checkGrads(f, [1], { modes: [] }), "checkGrads"), ['modes must not be empty (use ["fwd"], ["rev"] or both)']);
  // A single mode may be given without a list.
  assert.is(checkGrads(f, [0.5], { modes: "rev" as never, order: 1 }), undefined);
  assert.equal(problemsOf(() => costAnalysis(f, [1], { argnums: [0, 0.5], mode: "fwd" } as never), "costAnalysis"), [
    "argnums[1] must be an integer, got 0.5",
    'unknown option "mode" (known: argnums)',
  ]);
  assert.is(costAnalysis(f, [1], { argnums: 0 }).nIn, 1);
});

test("vmap's options: every bad leaf of an axis spec and every unknown key are reported at once", () => {
  const f = (a: Tensor, b: { w: Tensor }) => a.add(b.w);
  let err: unknown = null;
  try {
    vmap(f, { inAxes: [0, { w: "1" as never }], outAxes: [1.5 as never], axisSize: -1, batch: 2 } as never);
  } catch (e) {
    err = e;
  }
  assert.instance(err, OptionsError);
  const msg = (err as Error).message;
  for (const part of ["vmap", 'inAxes[1].w must be an integer, null, or a list or object of them, got "1"', "outAxes[0] must be an integer", "axisSize must be a non-negative integer", 'unknown option "batch"']) {
    assert.ok(msg.includes(part), `${msg} lacks ${part}`);
  }
  assert.is((err as OptionsError).problems.length, 4);
  assert.equal(vmap(f, { inAxes: [0, { w: null }] })(np.array([1, 2]), { w: np.array(10) }).tolist(), [11, 12]);
});

test("checkpoint and makeJaxpr take no options: any option is an error, not ignored", () => {
  const f = (x: Tensor) => np.sin(x);
  for (const [name, call] of [["checkpoint", () => checkpoint(f, { policy: "dots" } as never)], ["makeJaxpr", () => makeJaxpr(f, { staticArgnums: [0] } as never)]] as const) {
    let err: unknown = null;
    try {
      call();
    } catch (e) {
      err = e;
    }
    assert.instance(err, OptionsError, name);
    assert.ok((err as Error).message.includes(name) && (err as Error).message.includes("unknown option"), (err as Error).message);
  }
  assert.is(checkpoint(f)(0.5).item(), Math.sin(0.5));
  assert.match(makeJaxpr(f)(0.5).toString(), /sin/);
});

test.run();
