// jit: staged once per signature, run as a compiled program whose elementwise chains are fused
// into single loops; the results are bit-identical to eager evaluation and jit composes with
// every other transformation.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  ConcretizationError,
  EscapedTracerError,
  JacobiError,
  type Tensor,
  grad,
  checkpoint,
  customJvp,
  hessian,
  jacfwd,
  lax,
  jit,
  jvp,
  makeJaxpr,
  nn,
  np,
  vmap,
} from "../../src/index.js";
import { FusedKernel } from "../../src/backend/fusion.js";
import type { Arr } from "../../src/backend/ndarray-view.js";
import type { DType } from "../../src/core/dtype.js";
import { type Params, allPrimitives } from "../../src/core/primitive.js";
import { ShapedArray } from "../../src/core/shaped-array.js";
import { ArrayTensor } from "../../src/core/tensor.js";
import { evalJaxpr } from "../../src/interpreters/eval.js";
import { jitInspect } from "../../src/transforms/jit.js";
import { MAX_CHAIN } from "../../src/transforms/jit-compile.js";
import { guardTraceState } from "../guard.js";
import { L } from "../helpers.js";

guardTraceState(test);


/** Same dtype, shape, weak type and the same bits in every element (NaN and -0 included). */
function assertIdentical(got: Tensor, want: Tensor, what = ""): void {
  assert.is(got.dtype, want.dtype, `${what} dtype`);
  assert.equal(got.shape, want.shape, `${what} shape`);
  assert.is(got.aval.weakType, want.aval.weakType, `${what} weak type`);
  const a = got.toTypedArray(), b = want.toTypedArray();
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.unreachable(`${what} element ${i}: ${a[i]} !== ${b[i]}`);
}

/** Deterministic pseudo-random values in [lo, hi). */
function rand(n: number, seed: number, lo = -3, hi = 3): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

const f0 = (x: Tensor, y: Tensor) => np.sum(np.subtract(np.add(np.log(x), np.multiply(x, y)), np.sin(y)));

test("values: sum(log(x) + x*y - sin(y)) equals eager bit for bit, as one fused loop", () => {
  const x = np.array(rand(1000, 1, 0.1, 5)), y = np.array(rand(1000, 2));
  const jf = jit(f0);
  assertIdentical(jf(x, y), f0(x, y));
  assertIdentical(jf(x, y), f0(x, y), "second call");
  const { stats, source } = jitInspect(jf, x, y);
  // log, mul, add, sin, sub and the sum in one loop writing no buffer (eager allocates five).
  assert.equal(stats, { loops: 1, fusedEqns: 6, fusedBuffers: 0, fusedReductions: 1, eqnSteps: 0 });
  assert.is(source.length, 1);
  assert.match(source[0], "Math.log(a0)");
  assert.is((source[0].match(/r\d+\[i\]/g) ?? []).length, 0);
});

test("fusion: a chain value also read outside the chain is written; a reduction's reader closes the chain", () => {
  const f = (x: Tensor) => {
    const a = np.exp(np.negative(x));
    const s = np.sum(a);
    return np.multiply(np.add(a, np.cos(x)), s);
  };
  const x = np.array(rand(50, 3));
  assertIdentical(jit(f)(x), f(x));
  const { stats } = jitInspect(jit(f), x);
  // neg, exp, the sum of exp(-x), cos and add run in one loop writing one buffer (the add); the
  // broadcast of the sum reads it after the loop, and the mul by it runs alone.
  assert.equal(stats, { loops: 1, fusedEqns: 5, fusedBuffers: 1, fusedReductions: 1, eqnSteps: 2 });
});

test("fusion: float32, int32 and bool chains round like the eager ops at every step", () => {
  const xs = rand(257, 5, -4, 4);
  xs[3] = NaN;
  xs[4] = 0;
  xs[5] = -0;
  xs[6] = Infinity;
  const x64 = np.array(xs);
  const x32 = np.astype(x64, "float32");
  const i32 = np.astype(np.multiply(x64, 1e9), "int32");
  const floatChain = (x: Tensor) => {
    const a = np.add(np.multiply(np.sin(x), 3.3), np.square(x));
    const b = np.where(np.greater(a, 0.5), np.sqrt(np.abs(a)), np.tanh(a));
    const c = np.maximum(np.minimum(b, np.exp(x)), np.negative(x));
    return [np.divide(np.power(np.abs(c), 1.7), 7), np.round(np.multiply(c, 10)), np.sign(c), np.clip(x, -1, 1)];
  };
  const intChain = (i: Tensor) => {
    // Products overflow int32 (they wrap), division truncates and divides by zero.
    const p = np.multiply(i, i);
    const q = np.divide(np.astype(p, "float64"), 3);
    return [np.add(p, np.multiply(i, 7)), np.astype(q, "int32"), np.equal(np.astype(np.astype(i, "bool"), "int32"), 1),
      // bool + bool is logical or: a stored bool is 1, never 2.
      np.astype(np.add(np.astype(i, "bool"), np.less(i, 0)), "int32"), np.astype(np.add(np.astype(i, "float32"), 0.1), "float32")];
  };
  for (const [name, f, x] of [["f64", floatChain, x64], ["f32", floatChain, x32], ["i32", intChain, i32]] as const) {
    const want = (f as (x: Tensor) => Tensor[])(x);
    const got = jit(f as (x: Tensor) => Tensor[])(x);
    want.forEach((w, k) => assertIdentical(got[k], w, `${name} out ${k}`));
    assert.ok(jitInspect(jit(f as (x: Tensor) => Tensor[]), x).stats.loops >= 1, name);
    // The compiled program and evalJaxpr agree too.
    const closed = jitInspect(jit(f as (x: Tensor) => Tensor[]), x).jaxpr;
    evalJaxpr(closed.jaxpr, closed.consts, [x]).forEach((w, k) => assertIdentical(got[k], w, `${name} eval ${k}`));
  }
});

test("every primitive with an elementwiseExpr: a fused loop of it equals its impl bit for bit", () => {
  const paramsFor: Record<string, Params[]> = {
    integer_pow: [{ y: 3 }, { y: -2 }, { y: 0 }],
    convert_element_type: [{ newDtype: "int32", weakType: false }, { newDtype: "bool", weakType: false }, { newDtype: "float32", weakType: false }],
  };
  const vals = rand(64, 9, -5, 5).concat([NaN, 0, -0, Infinity, -Infinity, 0.5, 1.5, -2.5]);
  const arr = (d: DType, seed: number): Arr => {
    const v = vals.map((x, i) => (i % 7 === seed % 7 ? x : vals[(i * 13 + seed) % vals.length]));
    return np.astype(np.array(v), d).concrete() as Arr;
  };
  const prims = allPrimitives.filter((p) => p.elementwiseExpr !== undefined);
  assert.ok(prims.length >= 30, `${prims.length} elementwise primitives`);
  for (const p of prims) {
    for (const d of ["float64", "float32", "int32"] as DType[]) {
      for (const params of paramsFor[p.name] ?? [{}]) {
        const expr = p.elementwiseExpr!(params, d, [d, d, d]);
        const n = 1 + Math.max(0, ...(expr.match(/x\d/g) ?? ["x0"]).map((m) => Number(m.slice(1))));
        const dts = Array.from({ length: n }, (_, k): DType => (p.name === "select" && k === 0 ? "bool" : d));
        const ins = dts.map((dt, k) => arr(dt, k + 1));
        let outAval: ShapedArray;
        try {
          outAval = p.abstractEval(dts.map((dt) => new ShapedArray(ins[0].shape, dt)), params)[0];
        } catch {
          continue; // a dtype the primitive rejects (float-only functions on int32)
        }
        const want = p.impl(ins, params, [outAval])[0];
        const kernel = new FusedKernel({ inDtypes: dts, ops: [{ expr: p.elementwiseExpr!(params, outAval.dtype, dts), args: ins.map((_, k) => k), dtype: outAval.dtype }], outs: [0] });
        const got = (kernel.run(ins, want.shape) as Arr[])[0];
        for (let i = 0; i < want.size; i++) {
          const a = got.get(i), b = want.get(i);
          if (!Object.is(a, b)) assert.unreachable(`${p.name} ${d} ${JSON.stringify(params)} element ${i}: ${a} !== ${b}`);
        }
      }
    }
  }
});

test("fusion: transposed, offset and broadcast inputs and 0-d chains", () => {
  const f = (a: Tensor, b: Tensor) => np.add(np.multiply(np.exp(a), b), np.cos(b));
  const m = np.reshape(np.array(rand(12, 7)), [3, 4]);
  const t = np.transpose(m);
  const bc = np.broadcastTo(np.array(2.5), [4, 3]);
  const sl = np.reshape(np.array(rand(24, 8)), [2, 4, 3]).slice(1);
  assertIdentical(jit(f)(t, bc), f(t, bc), "transposed + broadcast");
  assertIdentical(jit(f)(sl, t), f(sl, t), "offset slice");
  const g = (x: Tensor) => np.add(np.multiply(x, 2), np.sin(np.multiply(x, x)));
  assertIdentical(jit(g)(np.array(0.7)), g(np.array(0.7)), "0-d");
  assertIdentical(jit(g)(0.7 as unknown as Tensor), g(0.7 as unknown as Tensor), "weak 0-d");
  const empty = np.zeros([0, 3]);
  assert.equal(jit(g)(empty).shape, [0, 3]);
});

test("fusion: a long chain is split into loops of at most MAX_CHAIN equations", () => {
  const n = 2 * MAX_CHAIN + 10;
  const f = (x: Tensor) => {
    let y = x;
    for (let i = 0; i < n; i++) y = i % 2 ? np.sin(y) : np.multiply(y, 1.01);
    return y;
  };
  const x = np.array(rand(20, 4));
  assertIdentical(jit(f)(x), f(x));
  const { stats } = jitInspect(jit(f), x);
  // Each mul by a scalar also has its broadcast (run alone); every chain's last value is live.
  assert.is(stats.fusedEqns, n);
  assert.is(stats.loops, 3);
  assert.is(stats.fusedBuffers, 3);
});

test("pytrees in and out", () => {
  const f = (p: { w: Tensor; b: Tensor }, xs: Tensor[]) => ({ y: np.add(np.multiply(p.w, xs[0]), p.b), z: [np.sum(xs[1])] });
  const p = { w: np.array([1, 2]), b: np.array([0.5, -0.5]) };
  const out = jit(f)(p, [np.array([3, 4]), np.array([1, 2, 3])]);
  assert.equal(L(out.y), [3.5, 7.5]);
  assert.equal(L(out.z), [6]);
});

test("traced once per signature: shapes, dtypes and weak types", () => {
  let traces = 0;
  const f = (x: Tensor) => {
    traces++;
    return np.multiply(np.sin(x), 2);
  };
  const jf = jit(f);
  jf(np.array([1, 2, 3]));
  jf(np.array([4, 5, 6]));
  jf(np.array([7, 8, 9]));
  assert.is(traces, 1);
  // Another jit wrapper of the same function shares the cache.
  jit(f)(np.array([0, 0, 0]));
  assert.is(traces, 1);
  assert.equal(L(jf(np.array([0, 0]))), [0, 0]);
  assert.is(traces, 2);
  jf(np.astype(np.array([1, 2]), "float32"));
  assert.is(traces, 3);
  jf(1.5 as unknown as Tensor);
  jf(np.array(1.5));
  assert.is(traces, 5);
  jf(2.5 as unknown as Tensor);
  assert.is(traces, 5);
});

test("staticArgnums: passed as is, retraced for a new value, compared by value", () => {
  let traces = 0;
  const f = (x: Tensor, n: number, mode: string) => {
    traces++;
    let y = x;
    for (let i = 0; i < n; i++) y = np.sin(y);
    return mode === "neg" ? np.negative(y) : y;
  };
  const jf = jit(f, { staticArgnums: [1, -1] });
  const x = np.array([0.5, 1]);
  assertIdentical(jf(x, 3, "neg"), f(x, 3, "neg"));
  jf(np.array([2, 3]), 3, "neg");
  assert.is(traces, 2);
  assertIdentical(jf(x, 2, "neg"), f(x, 2, "neg"));
  assert.is(traces, 4);
  assertIdentical(jf(x, 2, "pos"), f(x, 2, "pos"));
  assert.is(traces, 6);
  jf(x, 2, "pos");
  assert.is(traces, 6);
  assert.equal(L(jit((x: Tensor, k: number) => np.multiply(x, k), { staticArgnums: 1 })(x, 4)), [2, 4]);
});

test("staticArgnums: other values are compared by identity (objects) or by kind and value", () => {
  let traces = 0;
  const f = (x: Tensor, cfg: unknown) => {
    traces++;
    const k = cfg !== null && typeof cfg === "object" ? (cfg as { k: number }).k : cfg === undefined ? 1 : cfg === null ? 2 : 3;
    return np.multiply(x, k);
  };
  const jf = jit(f, { staticArgnums: 1 });
  const x = np.array([1, 2]);
  const cfg = { k: 5 };
  assert.equal(L(jf(x, cfg)), [5, 10]);
  jf(x, cfg);
  assert.is(traces, 1);
  jf(x, { k: 5 });
  assert.is(traces, 2);
  assert.equal(L(jf(x, undefined)), [1, 2]);
  assert.equal(L(jf(x, null)), [2, 4]);
  jf(x, 7n);
  jf(x, 7n);
  jf(x, Symbol.for("s"));
  jf(x, Symbol.for("s"));
  jf(x, 0);
  jf(x, -0);
  jf(x, "0");
  assert.is(traces, 9);
});

test("JS branches on traced values throw ConcretizationError pointing to lax.cond / np.where", () => {
  const viaItem = jit((x: Tensor) => (x.item() > 0 ? x : np.negative(x)));
  const viaCompare = jit((x: Tensor) => ((x as unknown as number) > 0 ? x : np.negative(x)));
  for (const f of [viaItem, viaCompare]) {
    try {
      f(np.array(1));
      assert.unreachable("should throw");
    } catch (e) {
      assert.instance(e, ConcretizationError);
      const m = (e as Error).message;
      assert.match(m, "inside jit");
      assert.match(m, "lax.cond");
      assert.match(m, "np.where");
    }
  }
  // The branch-free form works.
  assert.equal(L(jit((x: Tensor) => np.where(np.greater(x, 0), x, np.negative(x)))(np.array([-2, 3]))), [2, 3]);
});

const g = (x: Tensor) => np.sum(np.multiply(np.sin(x), np.exp(np.multiply(x, 0.5))));

test("compositions: grad(jit f), jit(grad f), vmap(jit f), jit(vmap f), jvp(jit f)", () => {
  const x = np.array([0.3, -1.2, 2]);
  assertIdentical(grad(jit(g))(x), grad(g)(x), "grad(jit)");
  assertIdentical(jit(grad(g))(x), grad(g)(x), "jit(grad)");
  const xs = np.reshape(np.array(rand(12, 11)), [4, 3]);
  assertIdentical(vmap(jit(g))(xs), vmap(g)(xs), "vmap(jit)");
  assertIdentical(jit(vmap(g))(xs), vmap(g)(xs), "jit(vmap)");
  const [y, t] = jvp(jit(g), [x], [np.ones([3])]);
  const [y0, t0] = jvp(g, [x], [np.ones([3])]);
  assertIdentical(y, y0);
  assertIdentical(t, t0);
  assertIdentical(grad(grad(jit((s: Tensor) => np.multiply(np.sin(s), s))))(np.array(0.4)), grad(grad((s: Tensor) => np.multiply(np.sin(s), s)))(np.array(0.4)), "grad(grad(jit))");
});

test("compositions: jit(hessian f), jacfwd(jit f), jit inside jit and inside makeJaxpr", () => {
  const x = np.array([0.3, -1.2, 2]);
  const h = jit(hessian(g))(x);
  assert.equal(h.shape, [3, 3]);
  assertIdentical(h, hessian(g)(x), "jit(hessian)");
  assertIdentical(jacfwd(jit((v: Tensor) => np.sin(np.multiply(v, v))))(x), jacfwd((v: Tensor) => np.sin(np.multiply(v, v)))(x));
  let inner = 0;
  const jin = jit((v: Tensor) => {
    inner++;
    return np.exp(v);
  });
  const outer = jit((v: Tensor) => np.add(jin(v), jin(np.multiply(v, 2))));
  assertIdentical(outer(x), np.add(np.exp(x), np.exp(np.multiply(x, 2))));
  assert.is(inner, 1);
  // The inner jaxpr is inlined into the outer staging.
  const text = makeJaxpr((v: Tensor) => jin(np.negative(v)))(x).toString();
  assert.match(text, "neg");
  assert.match(text, "exp");
  assert.is(inner, 1);
  const z = np.array([1, 3, -2]);
  assertIdentical(jit(nn.softmax)(z), nn.softmax(z), "softmax");
});

test("control flow, custom rules and checkpoint run compiled and differentiate under jit", () => {
  const f = (x: Tensor) => {
    const c = lax.cond(np.sum(x).gt(0), (v: Tensor) => np.multiply(np.sin(v), v), (v: Tensor) => np.exp(v), x);
    const [carry] = lax.scan((acc: Tensor, xi: Tensor) => [np.add(np.multiply(acc, 0.5), np.tanh(xi)), acc], np.array(0), c) as [Tensor, Tensor];
    const s = lax.foriLoop(0, 3, (_i: Tensor, v: Tensor) => np.add(np.multiply(v, v), 0.1), carry);
    return np.add(checkpoint((v: Tensor) => np.sum(np.cos(np.multiply(v, v))))(c), s);
  };
  const sq = customJvp((v: Tensor) => np.multiply(v, v));
  sq.defjvp(([v]: Tensor[], [t]: Tensor[]) => [np.multiply(v, v), np.multiply(np.multiply(v, t), 2)]);
  for (const x of [np.array([0.3, 0.8, -0.2]), np.array([-1, -2, 0.5])]) {
    assertIdentical(jit(f)(x), f(x), "value");
    assertIdentical(grad(jit(f))(x), grad(f)(x), "grad(jit)");
    assertIdentical(jit(grad(f))(x), grad(f)(x), "jit(grad)");
    const h = (v: Tensor) => np.sum(sq(np.sin(v)));
    assertIdentical(jit(h)(x), h(x), "customJvp");
    assertIdentical(jit(grad(h))(x), grad(h)(x), "jit(grad(customJvp))");
  }
});

test("closing over a tracer of an enclosing transformation", () => {
  let traces = 0;
  const f = (x: Tensor) => jit((y: Tensor) => {
    traces++;
    return np.multiply(np.multiply(x, x), y);
  })(np.array(2));
  assertIdentical(grad(f)(np.array(3)), np.array(12));
  // Not cached: the closed-over tracer belongs to one call; a second call traces again.
  assertIdentical(grad(f)(np.array(5)), np.array(20));
  assert.is(traces, 2);
  // A closed-over concrete array is a constant of the staged function.
  const c = np.array([1, 2]);
  assert.equal(L(jit((y: Tensor) => np.add(y, c))(np.array([10, 20]))), [11, 22]);
});

test("results are concrete tensors; the cache survives an exception in the user function", () => {
  const out = jit((x: Tensor) => [x, np.add(x, 1), np.array(7)])(np.array([1, 2]));
  assert.instance(out[0], ArrayTensor);
  assert.equal(L(out), [[1, 2], [2, 3], 7]);
  let n = 0;
  const bad = jit((x: Tensor) => {
    if (n++ === 0) throw new RangeError("boom");
    return np.add(x, 1);
  });
  assert.throws(() => bad(np.array(1)), (e: Error) => e instanceof RangeError && e.message === "boom");
  assert.equal(L(bad(np.array(1))), 2);
  // A tracer leaked out of jit is dead afterwards.
  let leaked: Tensor | null = null;
  jit((x: Tensor) => {
    leaked = x;
    return x;
  })(np.array([1, 2, 3, 4]));
  assert.throws(() => np.sin(leaked as unknown as Tensor), (e: Error) => e instanceof EscapedTracerError && /jit/.test(e.message));
});

test("errors: non-function, bad staticArgnums, out-of-range static index, bad options", () => {
  assert.throws(() => jit(3 as never), (e: Error) => e instanceof JacobiError && /jit: expected a function/.test(e.message));
  assert.throws(() => jit(g, { staticArgnums: 1.5 }), (e: Error) => e instanceof JacobiError && /staticArgnums must be an integer/.test(e.message));
  assert.throws(() => jit(g, { staticArgnums: ["a" as never] }), (e: Error) => e instanceof JacobiError && /"a"/.test(e.message));
  assert.throws(() => jit(g, { staticArgnums: [0, 0] }), (e: Error) => e instanceof JacobiError && /duplicates/.test(e.message));
  assert.throws(() => jit(g, null as never), (e: Error) => e instanceof JacobiError && /options/.test(e.message));
  assert.throws(() => jit(g, { staticArgnums: 2 })(np.array(1)), (e: Error) => e instanceof JacobiError && /staticArgnums 2 is out of range for a call with 1 positional argument$/.test(e.message));
  assert.throws(() => jitInspect(g, np.array(1)), (e: Error) => e instanceof JacobiError && /returned by jit/.test(e.message));
});

test.run();
