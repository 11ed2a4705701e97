// Issue 15 (reliability round 2): each test here failed on the code before its fix.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ConcretizationError, DTypeError, costAnalysis, EscapedTracerError, valueAndGrad, GradCheckError, JacobiError, ShapeError, TreeError, TraceTable, checkGrads, customJvp, grad, traceTable, tree, lax, jacfwd, jit, jvp, makeJaxpr, np, vjp, vmap, type Tensor } from "../../src/index.js";
import { runInNewContext } from "node:vm";
import { guardTraceState } from "../guard.js";
import { caught, throwsExactly } from "../helpers.js";

guardTraceState(test);

// ---------- 1. JS operators on traced values ----------

const opWords = ["x.item()", "np."];
const everyTransform: [string, (f: (x: any) => unknown) => unknown][] = [
  ["grad", (f) => grad((x: any) => (f(x), np.sin(x)))(1)],
  ["jvp", (f) => jvp((x: any) => (f(x), x), [1], [1])],
  ["vjp", (f) => vjp((x: any) => (f(x), x), [1])],
  ["jacfwd", (f) => jacfwd((x: any) => (f(x), x))(1)],
  ["vmap", (f) => vmap((x: any) => (f(x), x))(np.array([1, 2]))],
  ["jit", (f) => jit((x: any) => (f(x), x))(1)],
  ["makeJaxpr", (f) => makeJaxpr((x: any) => (f(x), x))(1)],
];

test("1: JS arithmetic, comparison, Math.* and valueOf on a tracer throw under every transformation, pointing to x.item() and np.*", () => {
  for (const [name, run] of everyTransform) {
    for (const use of [(x: any) => x * 2, (x: any) => x > 0, (x: any) => -x, (x: any) => Math.sin(x), (x: any) => Number(x), (x: any) => "v" + x, (x: any) => x.valueOf()]) {
      const e = throwsExactly(() => run(use), ConcretizationError, opWords);
      assert.ok(e.message.includes(name === "makeJaxpr" ? "makeJaxpr" : name), `${name}: ${e.message}`);
    }
  }
  // The silent zero of the issue: x * 2 under grad.
  throwsExactly(() => grad((x: any) => np.sin(x * 2))(1), ConcretizationError, ["x.item()", "grad"]);
});

test("1: x.item() is the one explicit exit under grad / jvp; printing a tracer still describes it", () => {
  assert.is(grad((x: Tensor) => (x.item() > 0 ? x.mul(x) : x.neg()))(2).item(), 4);
  assert.is(jvp((x: Tensor) => (x.item() > 0 ? x.mul(x) : x.neg()), [-2], [1])[1].item(), -1);
  let text = "";
  grad((x: Tensor) => ((text = `${x}`), x))(1);
  assert.is(text, "Traced<float64[]> under grad");
  assert.is(String(jvp((x: Tensor) => ((text = String(x)), x), [1], [1])[0].item()), "1");
  assert.is(text, "Traced<float64[]> under jvp");
  // As a property key a tracer reads as its description, never as a valid index (no silent element).
  let got: unknown = 0;
  jit((x: any) => ((got = [10, 20, 30][x]), x))(1);
  assert.is(got, undefined);
  grad((x: any) => ((got = [10, 20, 30][x]), x))(1);
  assert.is(got, undefined);
  // Concrete tensors outside transformations still convert (size 1).
  assert.is((np.array(3) as any) * 2, 6);
});

// ---------- 2. weak types under jit ----------

test("2: a JS integer passed to jit promotes as it does eagerly (weak int next to int32), loops and switch take it", () => {
  const i32 = np.array([65536], "int32");
  const f = (x: any) => np.multiply(i32, x);
  const eager = f(65536);
  const jitted = jit(f)(65536);
  assert.is(eager.dtype, "int32");
  assert.is(jitted.dtype, "int32");
  assert.equal(jitted.tolist(), [0]);
  assert.equal(jitted.tolist(), eager.tolist());
  // A JS integer in [2^31, 2^32) is a weak uint32 next to uint32, under jit as eagerly.
  const u32 = np.array([1], "uint32");
  assert.is(jit((x: any) => np.add(u32, x))(3e9).dtype, np.add(u32, 3e9).dtype);
  assert.equal(jit((x: any) => np.add(u32, x))(3e9).tolist(), [3e9 + 1]);
  // A non-integer is a weak float, and gets its own staging.
  assert.is(jit(f)(1.5).dtype, "float64");
  assert.is(jit(f)(65536).dtype, "int32");
  // Alone, a JS integer is what it is eagerly: a weak float64 in float arithmetic.
  assert.is(jit((x: any) => np.multiply(x, 2))(3).dtype, np.multiply(3, 2).dtype);
  assert.is(jit((x: any) => np.sum(np.multiply(x, 2)))(3).item(), 6);
  // Control flow takes a jitted JS integer as an index or bound.
  const branches = [(x: any) => np.add(x, 1), (x: any) => np.add(x, 10), (x: any) => np.add(x, 100)];
  assert.is(jit((i: any) => lax.switch(i, branches, 1.0))(1).item(), 11);
  assert.is(jit((n: any) => lax.foriLoop(0, n, (_i: any, acc: any) => np.add(acc, 2), 0))(3).item(), 6);
  assert.is(lax.foriLoop(0, 3, (_i: any, acc: any) => np.add(acc, 2), 0).dtype, jit(() => lax.foriLoop(0, 3, (_i: any, acc: any) => np.add(acc, 2), 0))().dtype);
  // JS cannot tell 0 from 0.0, so a JS-number loop init is a weak float64 carry (a float
  // accumulator started at 0 must work); an int32 init gives JAX's int32 carry, eager and jit alike.
  const sumIdx = (n: any, init: any) => lax.foriLoop(0, n, (i: any, acc: any) => np.add(acc, i), init);
  assert.equal([sumIdx(4, 0).dtype, sumIdx(4, 0).item()], ["float64", 6]);
  assert.is(sumIdx(4, 0).weakType, true);
  assert.equal([sumIdx(4, 0.5).dtype, sumIdx(4, 0.5).item()], ["float64", 6.5]);
  const i0 = np.array(0, "int32");
  assert.equal([sumIdx(4, i0).dtype, sumIdx(4, i0).item()], ["int32", 6]);
  const intCarry = jit((n: any) => sumIdx(n, i0))(4);
  assert.equal([intCarry.dtype, intCarry.item(), intCarry.weakType], ["int32", 6, false]);
});

// ---------- 6. jit cache key ----------

test("6: jit keys its cache on the structure itself: odd dict keys and null vs undefined do not collide", () => {
  let traces = 0;
  const f = jit((t: any) => {
    traces++;
    return np.sum(np.array(Object.keys(t).length));
  });
  // Printed as {a: None, b: *} both; different structures.
  const one = { "a: None, b": 1 };
  const two = { a: null, b: 1 };
  f(one);
  f(two);
  assert.is(traces, 2);
  const g = jit((t: any) => (traces++, t[0] === null ? np.array(1) : np.array(2)));
  traces = 0;
  assert.is(g([null, 0]).item(), 1);
  assert.is(g([undefined, 0]).item(), 2);
  assert.is(traces, 2);
  const h = jit((t: any) => Object.keys(t).sort().map((k) => np.multiply(t[k], k.length)));
  assert.equal(h({ "x, y": 1, z: 1 }).map((v: Tensor) => v.item()), [4, 1]);
  assert.equal(h({ x: 1, "y, z": 1 }).map((v: Tensor) => v.item()), [1, 4]);
});

// ---------- 3. creation functions with traced values ----------

test("3: np.full with a traced fill and np.linspace with traced bounds keep their derivatives under every transformation", () => {
  assert.is(grad((x: any) => np.sum(np.full([3], x)))(2).item(), 3);
  const [p, t] = jvp((x: any) => np.full([2], x), [2], [1]);
  assert.equal(p.tolist(), [2, 2]);
  assert.equal(t.tolist(), [1, 1]);
  assert.equal(jit((x: any) => np.full([2], x))(5).tolist(), [5, 5]);
  assert.equal(vmap((x: any) => np.full([2], x))(np.array([1, 2])).tolist(), [[1, 1], [2, 2]]);
  assert.is(jit((x: any) => np.full([2], x, "float32"))(5).dtype, "float32");
  // linspace(0, s, 3) = [0, s/2, s]: d/ds sum = 1.5; in the start: [1, 0.5, 0] sums to 1.5 too.
  assert.is(grad((s: any) => np.sum(np.linspace(0, s, 3)))(4).item(), 1.5);
  assert.is(grad((a: any) => np.sum(np.linspace(a, 4, 3)))(0).item(), 1.5);
  assert.equal(jit((s: any) => np.linspace(0, s, 3))(4).tolist(), [0, 2, 4]);
  assert.equal(jvp((s: any) => np.linspace(1, s, 3, { endpoint: false }), [4], [1])[1].tolist(), [0, 1 / 3, 2 / 3]);
  assert.equal(np.linspace(np.array(2), 5, 1).tolist(), [2]);
  throwsExactly(() => np.linspace(np.zeros([2]), 1, 3), ShapeError, ["linspace", "scalars", "[2]"]);
  // 11: a string fill is not coerced.
  throwsExactly(() => np.full([2], "3" as any), DTypeError, ["full", "fill value", "string"]);
});

// ---------- 4. integer arithmetic ----------

test("4: int32 multiply and square wrap exactly (NumPy), eagerly and under jit; out-of-range JS integers are refused or clamped", () => {
  const big = np.array([2147483647, 65537, -7], "int32");
  const want = [1, 131073, 49]; // NumPy: int32 products mod 2^32
  assert.equal(np.multiply(big, big).tolist(), want);
  assert.equal(np.square(big).tolist(), want);
  assert.equal(jit((a: any) => np.multiply(a, a))(big).tolist(), want);
  assert.equal(jit((a: any) => np.square(np.add(a, 0)))(big).tolist(), want);
  // NumPy's int32 cubes (np.array([2147483647, 65537, -7], np.int32) ** 3).
  assert.equal(np.power(big, 3).tolist(), [2147483647, 196609, -343]);
  assert.equal(jit((a: any) => np.power(a, 3))(big).tolist(), [2147483647, 196609, -343]);
  // Integer matmul wraps too (NumPy: [[2147483647, 2]] @ [[2147483647], [1]] is [[3]]).
  const m1 = np.array([[2147483647, 2]], "int32"), m2 = np.array([[2147483647], [1]], "int32");
  assert.equal(np.matmul(m1, m2).tolist(), [[3]]);
  assert.equal(jit((a: any, b: any) => np.matmul(a, b))(m1, m2).tolist(), [[3]]);
  assert.equal(np.matmul(np.array([2147483647, 2], "int32"), np.array([2147483647, 1], "int32")).tolist(), 3);
  assert.equal(np.dot(m1, m2).tolist(), [[3]]);
  assert.equal(np.matmul(np.array([[[1, 2]], [[3, 4]]], "uint32"), np.array([[5], [6]], "uint32")).tolist(), [[[17]], [[39]]]);
  // JAX clamps a switch index; a loop bound out of int32 range is an error, not a wrapped bound.
  const branches = [() => np.array(0), () => np.array(1)];
  assert.is(lax.switch(2 ** 31, branches).item(), 1);
  assert.is(lax.switch(-(2 ** 40), branches).item(), 0);
  throwsExactly(() => lax.foriLoop(0, 2 ** 32 + 2, (_i: any, c: any) => c, 0), DTypeError, ["foriLoop", "upper", "int32"]);
  throwsExactly(() => np.arange(3e9, 3e9 + 2), DTypeError, ["arange", "int32"]);
  throwsExactly(() => np.arange(-(2 ** 31) - 1, 0, 1, "int32"), DTypeError, ["arange", "int32"]);
  assert.equal(np.arange(3e9, 3e9 + 2, 1, "float64").tolist(), [3e9, 3e9 + 1]);
  assert.equal(np.arange(2 ** 31 - 2, 2 ** 31).tolist(), [2 ** 31 - 2, 2 ** 31 - 1]);
});

test("4: int32/uint32 prod wraps at every step (exact past 2^53), eagerly and under jit", () => {
  // NumPy: np.prod(a, dtype=np.int32) and np.cumprod(a, dtype=np.int32); the running product
  // 65537^5 is past 2^53, where a float64 accumulator drops low bits.
  const a = np.array([65537, 65537, 65537, 65537, 65537, -3], "int32");
  assert.is(np.prod(a).item(), -983043);
  assert.is(jit((x: any) => np.prod(x))(a).item(), -983043);
  assert.is(jit((x: any) => np.prod(np.multiply(x, 1)))(a).item(), -983043);
  assert.is(np.cumprod(a).tolist().at(-1), -983043);
  const rows = np.array([[65537, 65537, 65537, 65537], [2147483647, 2147483647, 2147483647, 2147483647]], "int32");
  assert.equal(np.prod(rows, 1).tolist(), [262145, 1]);
  assert.equal(np.prod(np.array([4000000000, 3, 7, 4000000001], "uint32")).tolist(), 1107970048);
});

test("4: astype from float to int32/uint32 truncates and saturates (NaN is 0) as XLA; integer to integer keeps the bits", () => {
  const x = np.array([3e9, -3e9, NaN, 2.7, -2.7, Infinity, -Infinity, 2147483647.5, -2147483648.9]);
  const i32 = [2147483647, -2147483648, 0, 2, -2, 2147483647, -2147483648, 2147483647, -2147483648];
  const u32 = [3000000000, 0, 0, 2, 0, 4294967295, 0, 2147483647, 0];
  assert.equal(np.astype(x, "int32").tolist(), i32);
  assert.equal(jit((v: any) => np.astype(np.multiply(v, 1), "int32"))(x).tolist(), i32);
  assert.equal(np.astype(x, "uint32").tolist(), u32);
  assert.equal(jit((v: any) => np.astype(np.add(v, 0), "uint32"))(x).tolist(), u32);
  assert.equal(np.astype(np.array([5e9, 4294967295.5]), "uint32").tolist(), [4294967295, 4294967295]);
  assert.equal(np.astype(np.astype(x, "float32"), "int32").tolist(), i32);
  // int32 <-> uint32 reinterpret the bits (NumPy, XLA): no saturation there.
  assert.equal(np.astype(np.array([-1, -2147483648], "int32"), "uint32").tolist(), [4294967295, 2147483648]);
  assert.equal(np.astype(np.array([4294967295, 3000000000], "uint32"), "int32").tolist(), [-1, -1294967296]);
  assert.equal(jit((v: any) => np.astype(v, "int32"))(np.array([4294967295], "uint32")).tolist(), [-1]);
});

// ---------- 5. bool ----------

test("5: bool matmul/dot are the OR of ANDs (not counts in a bool buffer), subtract/negative of bools are refused, byte arrays are not bool leaves", () => {
  const a = np.array([[true, true], [false, true]]);
  const b = np.array([true, true]);
  // NumPy and JAX: bool @ bool is bool, the OR of ANDs (a stored count 2 would sum as 2).
  const m = np.matmul(a, b);
  assert.is(m.dtype, "bool");
  assert.equal(m.tolist(), [true, true]);
  assert.is(np.sum(m).item(), 2);
  assert.is(np.sum(np.dot(b, b)).item(), 1);
  assert.is(np.sum(jit((x: any) => np.matmul(x, x))(a)).item(), 3);
  throwsExactly(() => np.subtract(b, b), DTypeError, ["subtract", "bool"]);
  throwsExactly(() => np.negative(b), DTypeError, ["negative", "bool"]);
  throwsExactly(() => np.sum(new Uint8Array([2, 3]) as any), DTypeError, ["Uint8Array"]);
  throwsExactly(() => np.array(Buffer.from([1, 2]) as any), DTypeError, ["Uint8Array"]);
});

// ---------- 7. checkGrads step ----------

test("7: checkGrads scales its step per element: a large input elsewhere does not make a correct derivative fail", () => {
  checkGrads((a: any, b: any) => np.add(a, np.sin(b)), [np.array(1e6), np.array(0.5)]);
  checkGrads((x: any) => np.sum(np.multiply(np.log(x), np.sin(np.multiply(x, 1e-5)))), [np.array([1e5, 0.3, 2])]);
  // And a wrong derivative still fails.
  const wrong = customJvp((x: any) => np.sin(x));
  wrong.defjvp(([x]: any[], [t]: any[]) => [np.sin(x), np.multiply(t, np.cos(np.multiply(x, 1.01)))]);
  for (const modes of [["fwd"], ["rev"]] as const) {
    throwsExactly(() => checkGrads((a: any, b: any) => np.add(a, wrong(b)), [np.array(1), np.array(0.5)], { order: 1, modes: [...modes] }), GradCheckError, [modes[0] === "fwd" ? "JVP" : "VJP"]);
  }
});

// ---------- 8. crashes ----------

test("8: traceTable of a 1.3e5-row trace prints; cyclic and 1e5-deep pytrees flatten without overflow (a cycle is a TreeError)", () => {
  // The rows of a small table, repeated: tracing 1.3e5 operations would take seconds.
  const n = 130000;
  const small = traceTable((x: Tensor) => np.sin(x), [1]);
  const table = new TraceTable(small.mode, small.inputNames, small.wrt, new Array(n).fill(small.rows[1]), small.jaxpr, []);
  const text = table.toString();
  assert.ok(text.split("\n").length > n);
  const cyc: any = { a: 1 };
  cyc.self = { b: cyc };
  throwsExactly(() => tree.flatten(cyc), TreeError, ["cycle", ".self.b"]);
  const arr: any[] = [1];
  arr.push([arr]);
  throwsExactly(() => jit((t: any) => t[0])(arr), TreeError, ["cycle", "[1][0]"]);
  // Shared (not cyclic) subtrees are fine.
  const shared = { w: 1 };
  assert.is(tree.leaves({ p: shared, q: shared }).length, 2);
  let deep: any = np.array(2);
  for (let i = 0; i < 100000; i++) deep = [deep];
  const [leaves, def] = tree.flatten(deep);
  assert.is(leaves.length, 1);
  let back: any = tree.unflatten(def, [3]);
  for (let i = 0; i < 100000; i++) back = back[0];
  assert.is(back, 3);
  assert.is(def.numLeaves, 1);
  assert.ok(def.equals(tree.structure(deep)));
  assert.ok(String(def).startsWith("[[[["));
});

test("8: an async function under grad/jit/vmap is a JacobiError and its Promise's rejection is handled", async () => {
  let unhandled = 0;
  const onUnhandled = () => unhandled++;
  process.on("unhandledRejection", onUnhandled);
  try {
    for (const run of [(f: any) => grad(f)(1), (f: any) => jit(f)(1), (f: any) => vmap(f)(np.array([1, 2])), (f: any) => jvp(f, [1], [1])]) {
      throwsExactly(() => run(async (x: any) => np.sin(x)), JacobiError, ["transformations need synchronous functions"]);
      throwsExactly(() => run(async () => { throw new Error("rejected"); }), JacobiError, ["transformations need synchronous functions"]);
    }
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
  assert.is(unhandled, 0);
});

// ---------- 9. escaped tracers as inputs ----------

test("9: an escaped tracer passed to jit, grad, valueAndGrad, vmap or jvp is an EscapedTracerError", () => {
  let leaked: any = null;
  grad((x: any) => ((leaked = np.sin(x)), x))(1);
  let abstract: any = null;
  makeJaxpr((x: any) => ((abstract = np.sin(x)), x))(1);
  for (const l of [leaked, abstract]) {
    throwsExactly(() => jit((x: any) => x)(l), EscapedTracerError, ["escaped"]);
    throwsExactly(() => grad((x: any) => x)(l), EscapedTracerError, ["escaped"]);
    throwsExactly(() => valueAndGrad((x: any) => x)(l), EscapedTracerError, ["escaped"]);
    throwsExactly(() => jvp((x: any) => x, [l], [1]), EscapedTracerError, ["escaped"]);
    throwsExactly(() => vmap((x: any) => x)(l), EscapedTracerError, ["escaped"]);
  }
});

// ---------- 10. semantics ----------

test("10: lax.cond with a concrete predicate checks both branches as under jit; costAnalysis of a whileLoop reports forward cost", () => {
  const f = (p: any, x: any) => lax.cond(p, (v: any) => np.sum(v), (v: any) => v, x);
  throwsExactly(() => f(true, np.ones([3])), ShapeError, ["cond", "same shapes", "[3]"]);
  throwsExactly(() => jit(f)(true, np.ones([3])), ShapeError, ["cond", "same shapes"]);
  throwsExactly(() => lax.cond(false, () => [np.array(1)], () => np.array(1)), TreeError, ["cond", "structure"]);
  throwsExactly(() => lax.switch(0, [() => np.array(1, "float32"), () => np.array(1, "int32")]), DTypeError, ["switch", "dtypes"]);
  // A weak branch output takes the other branch's dtype, eagerly as under jit.
  const g = (p: any) => lax.cond(p, () => 1, () => np.array(2, "float32"));
  assert.is(g(true).dtype, "float32");
  assert.is(g(true).dtype, jit(g)(true).dtype);
  assert.is(grad((x: any) => lax.cond(x.item() > 0, (v: any) => np.sin(v), (v: any) => np.cos(v), x))(1).item(), Math.cos(1));
  const c = costAnalysis((x: any) => lax.whileLoop((v: any) => np.less(v, 10), (v: any) => np.multiply(v, 2), x), [1]);
  assert.ok(c.fwd.flops > 0);
  assert.is(c.auto, "fwd");
  assert.ok(c.revUnavailable !== null && /reverse/.test(c.revUnavailable));
  assert.is(c.rev, null);
  assert.ok(/reverse/.test(c.toString()) && /whileLoop|while/.test(c.toString()));
});

// ---------- 11. unclear errors ----------

test("11: bad arguments are JacobiErrors naming the argument, not raw TypeErrors", () => {
  const x = np.ones([2, 3]);
  const bad: [() => unknown, string[]][] = [
    [() => np.transpose(x, "10" as any), ["transpose", "axes"]],
    [() => np.transpose(x, 1 as any), ["transpose", "axes"]],
    [() => np.reshape(x, {} as any), ["reshape", "shape"]],
    [() => np.broadcastTo(x, "23" as any), ["broadcastTo", "shape"]],
    [() => grad((v: any) => v, 5 as any), ["grad", "options"]],
    [() => np.eye(2, 2, 0.5), ["eye", "k"]],
  ];
  for (const [fn, words] of bad) {
    const e = caught(fn);
    assert.ok(e instanceof JacobiError, `${words[0]}: ${String(e)}`);
    for (const w of words) assert.ok((e as Error).message.includes(w), `${(e as Error).message} lacks ${w}`);
  }
  // inAxes keyed like the argument, with "," and ", " in its keys.
  const odd = { "a, b": np.array([1, 2]), c: np.ones([3]) };
  assert.equal(vmap((d: any) => np.add(d["a, b"], np.sum(d.c)), { inAxes: [{ "a, b": 0, c: null }] })(odd).tolist(), [4, 5]);
  const e = caught(() => vmap((d: any) => d["a,b"], { inAxes: [{ "a,b": 0, c: 0 }] })({ "a,b": np.ones([2]), c: np.ones([3]) })) as Error;
  assert.ok(e instanceof JacobiError && !/undefined/.test(e.message) && /size 2 along axis 0/.test(e.message), String(e));
});

test("11: an own __proto__ key survives flatten/unflatten; values from another realm are taken by duck-typing", () => {
  const o = JSON.parse('{"__proto__": 1, "b": 2}');
  const [ls, def] = tree.flatten(o);
  assert.equal(ls, [1, 2]);
  const back = tree.unflatten(def, [3, 4]);
  assert.equal(Object.keys(back), ["__proto__", "b"]);
  assert.is(Object.getPrototypeOf(back), Object.prototype);
  const other = runInNewContext("({ w: new Float64Array([1, 2]), b: 3 })");
  const g = grad((p: any) => np.sum(np.multiply(p.w, p.b)))(other) as any;
  assert.equal(g.w.tolist(), [3, 3]);
  assert.is(g.b.item(), 3);
});

test.run();
