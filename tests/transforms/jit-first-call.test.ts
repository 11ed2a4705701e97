// jit's first call of a function past EVALUATE_AFTER equations computes its results while staging
// (no second pass); its staging becomes a jaxpr when a call compiles it (the second, for a long
// one). A short one compiles and runs at once. Every call gives eager's bits either way, the jaxpr is the one makeJaxpr stages, and the
// function still sees abstract values.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ConcretizationError, EscapedTracerError, JacobiError, Tensor, config, customJvp, customVjp, debug, grad, jit, jvp, lax, makeJaxpr, np, vmap } from "../../src/index.js";
import { jitInspect } from "../../src/transforms/jit.js";
import { INTERPRET_FIRST_CALL } from "../../src/transforms/jit-compile.js";
import { EVALUATE_AFTER } from "../../src/transforms/jit-first-call.js";
import { guardTraceState } from "../guard.js";
import { identical, throwsWith } from "../helpers.js";

guardTraceState(test);


const leaves = (x: unknown): Tensor[] => (Array.isArray(x) ? x.flatMap(leaves) : [x as Tensor]);

/**
 * `f` after a dead chain of more than EVALUATE_AFTER operations on its first tensor argument: the
 * same results and jaxpr, but a first call that evaluates while staging.
 */
function padded(f: (...a: any[]) => unknown): (...a: any[]) => unknown {
  return (...args: unknown[]) => {
    let p = args.find((a) => a instanceof Tensor) as Tensor;
    for (let i = 0; i <= EVALUATE_AFTER; i++) p = np.sin(p);
    return f(...args);
  };
}

/**
 * The first call, the second (compiled) and a third all give eager's bits, for `f` as it is (a
 * first call that compiles) and padded (one that evaluates while staging); the staging a first call
 * recorded is the jaxpr makeJaxpr stages.
 */
function everyCallIsEager(f: (...a: any[]) => unknown, args: unknown[], what: string, pad = true): void {
  const want = leaves(f(...args));
  for (const [g, how] of pad ? ([[f, "short"], [padded(f), "padded"]] as const) : ([[f, "short"]] as const)) {
    const jf = jit(g);
    for (let call = 0; call < 3; call++) {
      const got = leaves(jf(...args));
      assert.is(got.length, want.length, what);
      got.forEach((r, i) => identical(r, want[i], `${what} (${how}), call ${call}, output ${i}`));
    }
    const jf2 = jit(g);
    jf2(...args);
    assert.is(jitInspect(jf2, ...args).jaxpr.toString(), makeJaxpr(f)(...args).toString(), `${what} (${how}): jaxpr`);
  }
}

/** Messages logged under config "logCompiles" while `fn` runs. */
function compileLog(fn: () => void): string[] {
  const lines: string[] = [];
  const orig = console.warn;
  config.update("logCompiles", true);
  console.warn = (...a: unknown[]) => void lines.push(a.map(String).join(" "));
  try {
    fn();
  } finally {
    console.warn = orig;
    config.update("logCompiles", false);
  }
  return lines;
}

const chain = (n: number) =>
  function chain(x: Tensor): Tensor {
    let y = x;
    for (let i = 0; i < n; i++) y = i % 3 === 0 ? np.multiply(y, 0.999) : np.sin(y);
    return y;
  };

test("first, second and later calls give eager's bits: literals, constants, dead code, several outputs", () => {
  const big = np.array([[1.5, -2], [0.25, 3]]);
  const x = np.array([[0.3, -1.7], [2.2, 0.9]]);
  const f = (t: Tensor, s: Tensor) => {
    const unused = np.exp(np.multiply(t, big)); // dead: dropped from the jaxpr, computed all the same
    void unused;
    const a = np.add(np.multiply(t, 2.5), big);
    return [np.sum(np.sin(a), 0), np.multiply(a, s), t, big, np.array(7.5), np.max(a)];
  };
  everyCallIsEager(f, [x, np.array(3)], "mixed");
  everyCallIsEager((t: Tensor) => np.cumsum(np.multiply(t, np.array([1, 2], "float32")), 1), [np.array([[1, 2], [3, 4]], "float32")], "float32");
  everyCallIsEager((t: Tensor) => np.bitwiseAnd(np.add(t, 3), np.array(6, "int32")), [np.array([1, 2, 3], "int32")], "int32");
  everyCallIsEager((t: Tensor) => [np.where(np.greater(t, 0), t, np.negative(t)), np.greater(t, 1)], [np.array([-1, 0.5, 2])], "bool");
  everyCallIsEager((p: { w: Tensor; b: Tensor }, k: number) => np.add(np.multiply(p.w, k), p.b), [{ w: np.array([1, 2]), b: np.array(0.5) }, 3], "pytree and JS number", false);
});

test("control flow, custom rules and effects on the first call", () => {
  const x = np.array([0.5, -1.25, 2]);
  everyCallIsEager((t: Tensor) => lax.cond(np.greater(np.sum(t), 0), (u: Tensor) => np.sin(u), (u: Tensor) => np.cos(u), t), [x], "cond");
  everyCallIsEager((t: Tensor) => lax.scan((c: Tensor, r: Tensor) => [np.add(c, r), np.multiply(c, r)], np.zeros([]), t), [x], "scan");
  everyCallIsEager((t: Tensor) => lax.whileLoop((v: Tensor) => np.less(np.sum(v), 100), (v: Tensor) => np.multiply(v, 3), np.abs(t)), [x], "while");
  const clip = customVjp((t: Tensor) => np.sin(t));
  clip.defvjp(
    (t: Tensor) => [np.sin(t), np.cos(t)],
    (c: Tensor, g: Tensor) => [np.clip(np.multiply(c, g), -0.5, 0.5)],
  );
  const softplus = customJvp((t: Tensor) => np.log(np.add(1, np.exp(t))));
  softplus.defjvp(([t]: Tensor[], [dt]: Tensor[]) => [softplus(t), np.multiply(np.divide(1, np.add(1, np.exp(np.negative(t)))), dt)]);
  everyCallIsEager((t: Tensor) => softplus(np.multiply(t, 2)), [x], "customJvp");
  everyCallIsEager((t: Tensor) => clip(np.multiply(t, 2)), [x], "customVjp");
  everyCallIsEager(grad((t: Tensor) => np.sum(softplus(t))), [x], "grad of customJvp");
  everyCallIsEager(grad((t: Tensor) => np.sum(clip(t))), [x], "grad of customVjp");
  // A callback runs once per call, at the first call too, with the call's values, whether it is
  // before the point where evaluation starts or after it.
  for (const late of [false, true]) {
    const seen: number[][] = [];
    const g = jit((t: Tensor) => {
      if (late) padded((u: Tensor) => u)(t);
      debug.callback((v: Tensor) => void seen.push(v.tolist() as number[]), np.multiply(t, 2));
      if (!late) padded((u: Tensor) => u)(t);
      return np.add(t, 1);
    });
    identical(g(x), np.add(x, 1));
    identical(g(np.array([1, 2, 3])), np.array([2, 3, 4]));
    assert.equal(seen, [[1, -2.5, 4], [2, 4, 6]], late ? "late" : "early");
  }
});

test("a long chain: evaluated while staging, compiled at the second call, same bits throughout", () => {
  const n = INTERPRET_FIRST_CALL + 500;
  const f = chain(n);
  const x = np.array([0.25, -0.75, 1.5]);
  const want = f(x);
  const jf = jit(f);
  let first: Tensor | undefined, second: Tensor | undefined;
  const firstLog = compileLog(() => (first = jf(x)));
  assert.is(firstLog.length, 1, firstLog.join("\n"));
  assert.match(firstLog[0], `jit traced chain(f64[3]): ${n} equations`);
  const secondLog = compileLog(() => (second = jf(x)));
  assert.is(secondLog.length, 1, secondLog.join("\n"));
  assert.match(secondLog[0], `jit compiled chain(f64[3]): ${n} equations`);
  assert.equal(compileLog(() => jf(x)), [], "third call: nothing new");
  identical(first as Tensor, want, "first");
  identical(second as Tensor, want, "second");
  identical(jf(x), want, "third");
  assert.ok(jitInspect(jf, x).stats.loops >= 2);
  // A short one compiles and runs at its first call, as before.
  const short = jit(chain(10));
  const log = compileLog(() => identical(short(x), chain(10)(x), "short"));
  assert.is(log.length, 2, log.join("\n"));
  assert.match(log[1], "jit compiled chain(f64[3]): 10 equations");
  // One between the two evaluates while staging and compiles at once, for its next call.
  const mid = EVALUATE_AFTER + 50;
  const jm = jit(chain(mid));
  const midLog = compileLog(() => identical(jm(x), chain(mid)(x), "mid-size, first call"));
  assert.is(midLog.length, 2, midLog.join("\n"));
  assert.match(midLog[1], `jit compiled chain(f64[3]): ${mid} equations`);
  assert.equal(compileLog(() => identical(jm(x), chain(mid)(x), "mid-size, second call")), []);
});

test("a long scalar chain under grad: residuals kept as numbers read back with the same bits", () => {
  const f = (x: Tensor) => {
    const early = np.cos(x); // read again thousands of operations later, after it was compacted
    let y = x;
    for (let i = 0; i < INTERPRET_FIRST_CALL + 400; i++) y = np.sin(y);
    return np.multiply(y, np.add(early, np.cos(y)));
  };
  everyCallIsEager(f, [np.array(0.7)], "scalar chain");
  everyCallIsEager(grad(f), [np.array(0.7)], "grad of the scalar chain");
  everyCallIsEager(grad(f), [np.array(0.7, "float32")], "float32 grad");
  // Vectors stay buffers.
  everyCallIsEager(grad((x: Tensor) => np.sum(f(x))), [np.array([0.1, 0.7, -2])], "grad of a vector chain");
});

test("inside a first call values are abstract: branching, reading or keeping them fails as before", () => {
  const x = np.array([1, 2]);
  throwsWith(() => jit((t: Tensor) => (np.sum(t).item() > 0 ? t : np.negative(t)))(x), ConcretizationError, ["item"]);
  throwsWith(() => jit((t: Tensor) => np.multiply(t, Number(np.sum(t))))(x), ConcretizationError, ["converting to a JS number"]);
  let kept: Tensor | null = null;
  jit((t: Tensor) => ((kept = np.sin(t)), np.cos(t)))(x);
  assert.match(String(kept), "Traced<float64[2]> under jit");
  throwsWith(() => (kept as Tensor).tolist(), EscapedTracerError, ["jit"]);
  throwsWith(() => np.add(kept as Tensor, 1), EscapedTracerError, ["jit"]);
});

test("a tracer of an enclosing transformation stops the evaluation: the staged jaxpr runs instead", () => {
  // Closed over and used, before evaluation starts and after: the jaxpr is run (through bind) on
  // the outer tracer.
  const long = chain(INTERPRET_FIRST_CALL + 10);
  const x = np.array([0.5, 1.5]);
  for (const [name, f] of [
    ["before", (t: Tensor, s: Tensor) => np.sum(long(np.multiply(t, s)))],
    ["after", (t: Tensor, s: Tensor) => np.sum(np.multiply(long(t), s))],
  ] as const) {
    const scaled = (s: Tensor) => jit((t: Tensor) => f(t, s))(x);
    const [v, dv] = jvp(scaled, [np.array(2)], [np.array(1)]);
    const [ve, dve] = jvp((s: Tensor) => f(x, s), [np.array(2)], [np.array(1)]);
    identical(v, ve, `${name}: value`);
    identical(dv, dve, `${name}: tangent`);
    identical(grad(scaled)(np.array(2)), grad((s: Tensor) => f(x, s))(np.array(2)), `${name}: grad`);
  }
  // Closed over and returned as it is.
  const passThrough = (s: Tensor) => jit((t: Tensor) => [np.sin(long(t)), s])(np.array(0.5));
  const [[a, b], [da, db]] = jvp(passThrough, [np.array(3)], [np.array(1)]) as unknown as Tensor[][];
  identical(a, np.sin(long(np.array(0.5))));
  identical(b, np.array(3));
  identical(da, np.array(0));
  identical(db, np.array(1));
  // Tracer arguments (jit under vmap) are staged without values, as before.
  const xs = np.array([[1, 2], [3, 4]]);
  identical(vmap(jit((t: Tensor) => np.sum(np.sin(t))))(xs), vmap((t: Tensor) => np.sum(np.sin(t)))(xs), "vmap of jit");
});

test("jit's options are still checked, and jitInspect before a first call compiles at once", () => {
  const f = (t: Tensor) => np.sin(t);
  throwsWith(() => jit(f, { static: [0] } as never), JacobiError, ['unknown option "static"', "staticArgnums, backend"]);
  throwsWith(() => jit(f, { backend: "gpu" } as never), JacobiError, ['backend must be "default" or "onnxruntime"', '"gpu"']);
  throwsWith(() => jit(f, { staticArgnums: 0.5 }), JacobiError, ["staticArgnums must be an integer"]);
  throwsWith(() => jit(f, null as never), JacobiError, ["options must be an object"]);
  const g = chain(INTERPRET_FIRST_CALL + 1);
  const jg = jit(g);
  const x = np.array([0.5]);
  assert.ok(jitInspect(jg, x).stats.loops >= 1, "staged and compiled without a call");
  const log = compileLog(() => identical(jg(x), g(x), "after jitInspect"));
  assert.equal(log, [], "the first call runs the compiled program");
});

test.run();
