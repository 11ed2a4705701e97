// The IR: jaxprs printed as exact strings, Graphviz export, evaluation, a million-equation chain
// (every walk is a loop), and the trace stack's behaviour on concretization, exceptions and leaks.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
import { caught } from "../helpers.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import {
  ClosedJaxpr,
  ConcretizationError,
  EscapedTracerError,
  JacobiError,
  type Tensor,
  grad,
  jacfwd,
  jvp,
  makeJaxpr,
  np,
  vjp,
  vmap,
} from "../../src/index.js";
import { traceDepth } from "../../src/core/trace.js";
import { evalJaxpr } from "../../src/interpreters/eval.js";
import { Literal, Var } from "../../src/ir/jaxpr.js";
import { varName } from "../../src/ir/pprint.js";
import { add } from "../../src/primitives/elementwise.js";

// The seed chapter's function: f(x1, x2) = ln(x1) + x1*x2 - sin(x2).
const seed = (x1: any, x2: any) => np.subtract(np.add(np.log(x1), np.multiply(x1, x2)), np.sin(x2));

const lines = (...ls: string[]) => ls.join("\n");

test("printed jaxpr of the seed function, exactly", () => {
  const cj = makeJaxpr(seed)(2, 5);
  assert.ok(cj instanceof ClosedJaxpr);
  assert.is(
    cj.toString(),
    lines(
      "{ lambda a:f64[] b:f64[] .",
      "  let c:f64[] = log a",
      "      d:f64[] = mul a b",
      "      e:f64[] = add c d",
      "      f:f64[] = sin b",
      "      g:f64[] = sub e f",
      "  in ( g ) }",
    ),
  );
  assert.is(String(cj.jaxpr), cj.toString());
  assert.is(cj.consts.length, 0);
});

test("a captured array becomes a const binder before the semicolon", () => {
  const c = np.array([1, 2, 3]);
  const cj = makeJaxpr((x: Tensor) => np.multiply(x, c))(np.ones([3]));
  assert.is(cj.toString(), lines("{ lambda a:f64[3] ; b:f64[3] .", "  let c:f64[3] = mul b a", "  in ( c ) }"));
  assert.is(cj.consts.length, 1);
  assert.is(cj.consts[0], c);
});

test("scalar constants print inline as literals, in the dtype of the equation", () => {
  const f64 = makeJaxpr((x: Tensor) => np.add(np.multiply(x, 3), 0.5))(1);
  assert.is(f64.toString(), lines("{ lambda a:f64[] .", "  let b:f64[] = mul a 3.0", "      c:f64[] = add b 0.5", "  in ( c ) }"));
  const i32 = makeJaxpr((x: Tensor) => np.multiply(x, 3))(np.array(2, "int32"));
  assert.is(i32.toString(), lines("{ lambda a:i32[] .", "  let b:i32[] = mul a 3", "  in ( b ) }"));
  const f32 = makeJaxpr((x: Tensor) => np.divide(x, 4))(np.array([1, 2], "float32"));
  assert.is(f32.toString(), lines("{ lambda a:f32[2] ; b:f32[2] .", "  let c:f32[2] = div b a", "  in ( c ) }"));
  assert.is(f32.consts[0].dtype, "float32");
  assert.equal(f32.consts[0].tolist(), [4, 4]);
  const toFloat = makeJaxpr((x: Tensor) => np.divide(x, 4))(np.array([1, 2], "int32"));
  assert.is(
    toFloat.toString(),
    lines("{ lambda a:f64[2] ; b:i32[2] .", "  let c:f64[2] = convert_element_type[new_dtype=float64 weak_type=false] b", "      d:f64[2] = div c a", "  in ( d ) }"),
  );
  const lit = f64.jaxpr.eqns[0].inputs[1];
  assert.ok(lit instanceof Literal);
  assert.is((lit as Literal).value, 3);
  assert.ok(f64.jaxpr.eqns[0].inputs[0] instanceof Var);
});

test("literal forms: inf, -inf, nan, negative floats, bool True/False, ints", () => {
  const f = makeJaxpr((x: Tensor) => [np.add(x, Infinity), np.multiply(x, -2), np.maximum(x, NaN), np.subtract(x, -Infinity)])(1);
  assert.is(
    f.toString(),
    lines(
      "{ lambda a:f64[] .",
      "  let b:f64[] = add a inf",
      "      c:f64[] = mul a -2.0",
      "      d:f64[] = max a nan",
      "      e:f64[] = sub a -inf",
      "  in ( b c d e ) }",
    ),
  );
  // float32 literals print as the shortest decimal that rounds to them.
  const f32 = makeJaxpr((x: Tensor) => [np.multiply(x, 0.1), np.add(x, 1 / 3), np.add(x, 16777217)])(np.array(1, "float32"));
  assert.is(
    f32.toString(),
    lines("{ lambda a:f32[] .", "  let b:f32[] = mul a 0.1", "      c:f32[] = add a 0.33333334", "      d:f32[] = add a 16777216.0", "  in ( b c d ) }"),
  );
  const b = makeJaxpr((t: Tensor) => [np.add(t, true), np.equal(t, false)])(np.array(true));
  assert.is(b.toString(), lines("{ lambda a:bool[] .", "  let b:bool[] = add a True", "      c:bool[] = eq a False", "  in ( b c ) }"));
  const i = makeJaxpr((t: Tensor) => np.add(t, 2))(np.array(true));
  assert.is(i.toString(), lines("{ lambda a:bool[] .", "  let b:i32[] = convert_element_type[new_dtype=int32 weak_type=false] a", "      c:i32[] = add b 2", "  in ( c ) }"));
});

test("parameters print in brackets with snake_case names and tuples", () => {
  const cj = makeJaxpr((x: Tensor) => [np.sum(x, 1), x.T, np.reshape(x, [-1])])(np.ones([2, 3]));
  assert.is(
    cj.toString(),
    lines(
      "{ lambda a:f64[2,3] .",
      "  let b:f64[2] = reduce_sum[axes=(1,)] a",
      "      c:f64[3,2] = transpose[permutation=(1, 0)] a",
      "      d:f64[6] = reshape[new_sizes=(6,)] a",
      "  in ( b c d ) }",
    ),
  );
  const mm = makeJaxpr((a: Tensor, b: Tensor) => np.matmul(a, b))(np.ones([2, 3]), np.ones([3, 4]));
  assert.is(mm.toString(), lines("{ lambda a:f64[2,3] b:f64[3,4] .", "  let c:f64[2,4] = dot_general[batch=((), ()) contract=((1,), (0,))] a b", "  in ( c ) }"));
  const sl = makeJaxpr((a: Tensor) => [a.slice([1, 3], 0), np.concatenate([a, a], 1)])(np.ones([4, 3]));
  assert.is(
    sl.toString(),
    lines(
      "{ lambda a:f64[4,3] .",
      "  let b:f64[2,1] = slice[limit_indices=(3, 1) start_indices=(1, 0) strides=(1, 1)] a",
      "      c:f64[2] = squeeze[dimensions=(1,)] b",
      "      d:f64[4,6] = concatenate[dimension=1] a a",
      "  in ( c d ) }",
    ),
  );
});

test("multiple outputs: an input passed through, a computed value and a literal", () => {
  const cj = makeJaxpr((x: Tensor) => [x, np.negative(x), 1.5])(np.ones([2], "float32"));
  assert.is(cj.toString(), lines("{ lambda a:f32[2] .", "  let b:f32[2] = neg a", "  in ( a b 1.5 ) }"));
  assert.is(cj.jaxpr.outs.length, 3);
  assert.ok(cj.jaxpr.outs[2] instanceof Literal);
});

test("pytree arguments flatten with object keys sorted; no equations print no let", () => {
  const cj = makeJaxpr((p: { w: Tensor; b: Tensor }, x: Tensor) => np.add(np.multiply(p.w, x), p.b))({ w: 2, b: 1 }, 3);
  assert.is(cj.toString(), lines("{ lambda a:f64[] b:f64[] c:f64[] .", "  let d:f64[] = mul b c", "      e:f64[] = add d a", "  in ( e ) }"));
  assert.is(makeJaxpr((x: Tensor) => x)(1).toString(), lines("{ lambda a:f64[] .", "  in ( a ) }"));
});

test("comparisons and select print with bool avals; equations no output needs are dropped", () => {
  const cj = makeJaxpr((x: Tensor) => {
    np.exp(x); // dead: not part of any output
    return np.where(np.greater(x, 0), x, np.negative(x));
  })(np.array([1, -1]));
  assert.is(
    cj.toString(),
    lines(
      "{ lambda a:f64[2] ; b:f64[2] .",
      "  let c:bool[2] = gt b a",
      "      d:f64[2] = neg b",
      "      e:f64[2] = select c b d",
      "  in ( e ) }",
    ),
  );
});

test("variable names go a..z, then ba, bb, ... as JAX prints them", () => {
  assert.equal([0, 1, 25, 26, 27, 51, 52, 675, 676].map(varName), ["a", "b", "z", "ba", "bb", "bz", "ca", "zz", "baa"]);
  const cj = makeJaxpr((x: Tensor) => {
    let y = x;
    for (let i = 0; i < 27; i++) y = add(y, x);
    return y;
  })(1);
  const text = cj.toString().split("\n");
  assert.is(text.length, 27 + 2);
  assert.is(text[26], "      ba:f64[] = add z a");
  assert.is(text[27], "      bb:f64[] = add ba a");
  assert.is(text[28], "  in ( bb ) }");
});

test("toDot: a digraph with inputs v-1, v0, one node per equation v1.., data-flow edges and the output", () => {
  const dot = makeJaxpr(seed)(2, 5).toDot();
  assert.ok(dot.startsWith("digraph"), dot);
  assert.ok(dot.trimEnd().endsWith("}"));
  const labelled = (v: string) => new RegExp(`label="${v}(?![\\d])`);
  for (const v of ["v-1", "v0", "v1", "v2", "v3", "v4", "v5"]) assert.match(dot, labelled(v));
  assert.not.match(dot, labelled("v6"));
  assert.not.match(dot, labelled("v-2"));
  const nodes = [...dot.matchAll(/^\s*(\w+) \[/gm)].map((m) => m[1]);
  const edges = [...dot.matchAll(/^\s*(\w+) -> (\w+)/gm)].map((m) => [m[1], m[2]]);
  // Every edge joins declared nodes; 2 inputs + 5 equations + 1 output node.
  for (const [a, b] of edges) assert.ok(nodes.includes(a) && nodes.includes(b), `${a} -> ${b}`);
  assert.is(nodes.filter((n) => !["node", "edge", "graph"].includes(n)).length, 8);
  // log, sin: one input each; mul, add, sub: two each; the output: one.
  assert.is(edges.length, 1 + 1 + 2 + 2 + 2 + 1);
  // The node of v1 = ln v-1 takes the edge from the node of v-1.
  const idOf = (label: RegExp) => {
    const m = dot.split("\n").find((l) => label.test(l));
    assert.ok(m, `no node labelled ${label}`);
    return (m as string).trim().split(" ")[0];
  };
  assert.ok(edges.some(([a, b]) => a === idOf(labelled("v-1")) && b === idOf(labelled("v1"))));
  assert.ok(edges.some(([a, b]) => a === idOf(labelled("v0")) && b === idOf(labelled("v2"))));
  const cdot = makeJaxpr((x: Tensor) => np.multiply(x, np.array([1, 2])))(np.ones([2])).toDot();
  assert.match(cdot, /const/);
});

test("evalJaxpr reproduces the traced function, consts included", () => {
  const c = np.array([[1, 2], [3, 4]]);
  const f = (x: Tensor, y: Tensor) => [np.add(np.matmul(c, x), 1), np.sum(np.multiply(x, y)), np.greater(y, 0)];
  const x = np.array([0.5, -2]), y = np.array([3, -1]);
  const cj = makeJaxpr(f)(x, y);
  const got = evalJaxpr(cj.jaxpr, cj.consts, [x, y]);
  const want = f(x, y);
  assert.is(got.length, 3);
  got.forEach((g, i) => {
    assert.equal(g.shape, want[i].shape);
    assert.is(g.dtype, want[i].dtype);
    assert.equal(g.tolist(), want[i].tolist());
  });
  assert.equal(got[0].tolist(), [-2.5, -5.5]);
  assert.is(got[1].item(), 3.5);
  assert.equal(got[2].tolist(), [true, false]);
  // Other arguments of the same shapes give the function's values at them.
  const x2 = np.array([1, 1]), y2 = np.array([0, 2]);
  assert.equal(evalJaxpr(cj.jaxpr, cj.consts, [x2, y2]).map((t) => t.tolist()), f(x2, y2).map((t) => t.tolist()));
  // A jaxpr of a jaxpr's evaluation prints the same.
  assert.is(makeJaxpr((a: Tensor, b: Tensor) => evalJaxpr(cj.jaxpr, cj.consts, [a, b]))(x, y).toString(), cj.toString());
});

test("a 1,000,000-equation chain builds, prints and evaluates with loops (no RangeError)", () => {
  const N = 1_000_000;
  const cj = makeJaxpr((x: Tensor) => {
    let y = x;
    for (let i = 0; i < N; i++) y = add(y, x);
    return y;
  })(np.array(1));
  assert.is(cj.jaxpr.eqns.length, N);
  {
    // In a block, so that the 31 MB text is garbage before the evaluation starts.
    const text = cj.toString();
    const last = varName(N);
    assert.ok(text.startsWith("{ lambda a:f64[] .\n  let b:f64[] = add a a\n      c:f64[] = add b a\n"));
    assert.ok(text.endsWith(`      ${last}:f64[] = add ${varName(N - 1)} a\n  in ( ${last} ) }`));
    let newlines = 0;
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) newlines++;
    assert.is(newlines, N + 1);
  }
  const [out] = evalJaxpr(cj.jaxpr, cj.consts, [np.array(0.5)]);
  assert.is(out.item(), 0.5 * (N + 1));
});

test("Symbol.toPrimitive on an abstract tracer throws ConcretizationError, never NaN", () => {
  const attempts: [string, (x: any) => unknown][] = [
    ["unary plus", (x) => +x],
    ["comparison", (x) => x > 0],
    ["arithmetic", (x) => x * 2],
    ["loose equality", (x) => x == 2], // eslint-disable-line eqeqeq
    ["Number()", (x) => Number(x)],
    ["Math.sin", (x) => Math.sin(x)],
    ["item()", (x) => x.item()],
    ["tolist()", (x) => x.tolist()],
  ];
  for (const [what, use] of attempts) {
    const err = caught(() =>
      makeJaxpr((x: Tensor) => {
        const v = use(x);
        assert.unreachable(`${what} returned ${String(v)}`);
        return x;
      })(np.array(2)),
    );
    assert.ok(err instanceof ConcretizationError, `${what}: ${err}`);
    assert.ok(err instanceof JacobiError);
    const msg = (err as Error).message;
    assert.match(msg, "makeJaxpr", what);
    assert.match(msg, "lax.cond", what);
    assert.match(msg, "np.where", what);
    assert.match(msg, "float64", what);
    assert.is(traceDepth(), 0);
  }
  // The string hint still describes the tracer rather than throwing.
  let s = "";
  makeJaxpr((x: Tensor) => {
    s = `${x}`;
    return x;
  })(np.ones([2, 3]));
  assert.is(s, "Traced<float64[2,3]> under makeJaxpr");
});

test("a user exception mid-trace propagates unchanged and leaves the trace stack empty", () => {
  class Boom extends Error {}
  const boom = new Boom("boom");
  const thrower = (x: any) => {
    np.sin(np.multiply(x, x));
    throw boom;
  };
  const runs: [string, () => unknown][] = [
    ["makeJaxpr", () => makeJaxpr(thrower)(1)],
    ["grad", () => grad(thrower)(1)],
    ["jvp", () => jvp(thrower, [1], [1])],
    ["vjp", () => vjp(thrower, [1])],
    ["vmap", () => vmap(thrower)(np.ones([3]))],
    ["jacfwd", () => jacfwd(thrower)(np.ones([2]))],
    // @ts-expect-error deliberate misuse, checked at run time
    ["nested", () => grad((x: any) => makeJaxpr(thrower)(x))(1)],
  ];
  assert.is(traceDepth(), 0);
  for (const [name, run] of runs) {
    assert.is(caught(run), boom, name);
    assert.is(traceDepth(), 0, name);
    // The next call works.
    assert.is(makeJaxpr(seed)(2, 5).jaxpr.eqns.length, 5, name);
    assert.is(grad(seed)(2, 5).item(), 5.5, name);
    assert.is(traceDepth(), 0, name);
  }
});

test("a tracer leaked out of makeJaxpr and used later throws EscapedTracerError naming shape, dtype and transform", () => {
  let leaked: any = null;
  makeJaxpr((x: Tensor) => {
    leaked = x;
    return np.sin(x);
  })(np.ones([2, 3], "float32"));
  assert.is(traceDepth(), 0);
  const uses: [string, () => unknown][] = [
    ["np.add", () => np.add(leaked, 1)],
    ["np.sin", () => np.sin(leaked)],
    ["fluent", () => leaked.mul(leaked)],
    ["sum", () => np.sum(leaked)],
    ["inside a later makeJaxpr", () => makeJaxpr((y: Tensor) => np.add(y, leaked))(np.ones([2, 3], "float32"))],
    ["inside grad", () => grad((y: Tensor) => np.sum(np.multiply(y, leaked)))(np.ones([2, 3], "float32"))],
    ["item()", () => leaked.item()],
  ];
  for (const [what, use] of uses) {
    const err = caught(use);
    assert.ok(err instanceof EscapedTracerError, `${what}: ${err}`);
    const msg = (err as Error).message;
    assert.match(msg, "[2,3]", what);
    assert.match(msg, "float32", what);
    assert.match(msg, "makeJaxpr", what);
    assert.is(traceDepth(), 0, what);
  }
});

test.run();
