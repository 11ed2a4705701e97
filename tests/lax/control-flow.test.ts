// lax.cond / switch / whileLoop / foriLoop / scan: values, derivatives in both modes (forward
// only for whileLoop), batching under vmap, printed jaxprs, errors, and a long scan.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  DTypeError,
  JacobiError,
  ShapeError,
  type Tensor,
  TreeError,
  checkGrads,
  grad,
  hessian,
  jacfwd,
  jacrev,
  jvp,
  lax,
  linearize,
  makeJaxpr,
  np,
  tree,
  vjp,
  vmap,
} from "../../src/index.js";
import { traceDepth } from "../../src/core/trace.js";
import { evalClosed } from "../../src/interpreters/eval.js";
import { guardTraceState } from "../guard.js";
import { caught } from "../helpers.js";

guardTraceState(test);

type Fn = (...args: any[]) => any;
type T = Tensor;

/**
 * `f` as jit runs it: staged into a jaxpr on abstract arguments (so a predicate computed from
 * them is traced and cond is a primitive of the jaxpr), then evaluated; one output leaf.
 */
const staged =
  (f: Fn) =>
  (...args: T[]): T =>
    evalClosed(makeJaxpr(f)(...args), args)[0];

const vals = (x: unknown): number[] => (tree.leaves(x) as T[]).flatMap((t) => Array.from(t.toTypedArray() as ArrayLike<number>));
function close(got: unknown, want: number[] | number, tol = 1e-12, what = ""): void {
  const g = vals(got);
  const w = typeof want === "number" ? [want] : want;
  assert.is(g.length, w.length, `${what}: ${g.length} values, expected ${w.length}`);
  g.forEach((v, i) => assert.ok(Math.abs(v - w[i]) <= tol * Math.max(1, Math.abs(w[i])), `${what}: element ${i} is ${v}, expected ${w[i]} (all: ${g.join(", ")})`));
}
function throwsWith(fn: () => unknown, cls: new (...a: any[]) => Error, ...res: RegExp[]): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, cls);
    for (const re of res) assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected a ${cls.name}`);
}
const i32 = (v: number | number[]) => np.array(v as any, "int32");

// ---------------------------------------------------------------------------------------------
// values
// ---------------------------------------------------------------------------------------------

test("cond picks the branch of a concrete predicate (bool, number, tensor)", () => {
  const f = (p: boolean | number | T) => lax.cond(p, (x: T, y: T) => x.add(y), (x: T, y: T) => x.sub(y), np.array(5), 2);
  close(f(true), 7);
  close(f(false), 3);
  close(f(2.5), 7);
  close(f(0), 3);
  close(f(np.array(0.0)), 3);
  close(f(i32(-1)), 7);
  close(f(np.array(true)), 7);
});

test("cond takes pytrees of operands and outputs, and closures", () => {
  const w = np.array([1, 2]);
  const ops = { a: np.array([1, 1]), b: np.array([3, 4]) };
  const t = (o: { a: T; b: T }) => ({ s: o.a.add(o.b), p: [o.a.mul(w)] });
  const f = (o: { a: T; b: T }) => ({ s: o.a.sub(o.b), p: [o.b.mul(w)] });
  const out = lax.cond(true, t, f, ops);
  assert.equal(Object.keys(out), ["p", "s"]);
  assert.equal(out.s.tolist(), [4, 5]);
  assert.equal(out.p[0].tolist(), [1, 2]);
  // Traced: the same through the staged primitive.
  const st = makeJaxpr((p: T, a: T, b: T) => lax.cond(p.gt(0), t, f, { a, b }))(np.array(-1), ops.a, ops.b);
  const [p0, s0] = evalClosed(st, [np.array(-1), ops.a, ops.b]);
  assert.equal(s0.tolist(), [-2, -3]);
  assert.equal(p0.tolist(), [3, 8]);
  // No operands: the branches read what they close over.
  assert.equal(lax.cond(false, () => w.mul(2), () => w.neg()).tolist(), [-1, -2]);
  const g = staged((x: T) => lax.cond(x.gt(1), () => x.mul(w), () => w));
  assert.equal(g(np.array(3)).tolist(), [3, 6]);
  assert.equal(g(np.array(0)).tolist(), [1, 2]);
});

test("a traced predicate stages both branches into a cond primitive, printed with its branches", () => {
  const f = (x: T) => lax.cond(x.gt(0), (y: T) => y.mul(y), (y: T) => y.neg(), x);
  const text = makeJaxpr(f)(np.array(3.0)).toString();
  assert.is(
    text,
    [
      "{ lambda a:f64[] .",
      "  let b:bool[] = gt a 0.0",
      "      c:i32[] = convert_element_type[new_dtype=int32 weak_type=false] b",
      "      d:f64[] = cond[",
      "        branches=(",
      "          { lambda e:f64[] .",
      "            let f:f64[] = neg e",
      "            in ( f ) }",
      "          { lambda g:f64[] .",
      "            let h:f64[] = mul g g",
      "            in ( h ) }",
      "        )",
      "      ] c a",
      "  in ( d ) }",
    ].join("\n"),
  );
  const g = staged(f);
  close(g(np.array(3)), 9);
  close(g(np.array(-3)), 3);
  close(f(np.array(-3)), 3);
});

test("weakly typed branch outputs take the dtype of the other branch", () => {
  const f = (x: T) => lax.cond(x.sum().gt(0), (v: T) => v.sum(), () => 1, x);
  const j = makeJaxpr(f)(np.array([1, 2], "float32"));
  assert.match(j.toString(), /cond\[/);
  const out = evalClosed(j, [np.array([-1, -2], "float32")])[0];
  assert.is(out.dtype, "float32");
  close(out, 1);
});

test("switch runs branches[index], clamping the index as JAX does (concrete and traced)", () => {
  const branches = [(x: T) => x.add(1), (x: T) => x.mul(10), (x: T) => x.neg()];
  const want: [number, number][] = [[-3, 3], [0, 3], [1, 20], [2, -2], [7, -2]];
  for (const [k, v] of want) {
    close(lax.switch(k, branches, np.array(2)), v, 0, `switch(${k})`);
    close(lax.switch(i32(k), branches, np.array(2)), v, 0, `switch(int32 ${k})`);
    close(staged((i: T, x: T) => lax.switch(i, branches, x))(i32(k), np.array(2)), v, 0, `staged switch(${k})`);
  }
  assert.match(makeJaxpr((i: T, x: T) => lax.switch(i, branches, x))(i32(0), np.array(2)).toString(), /branches=\(\n(.|\n)*mul(.|\n)*neg/);
});

test("whileLoop counts, with pytree carries, and may run zero times", () => {
  const [x, n] = lax.whileLoop(([v]: T[]) => v.ge(1), ([v, k]: T[]) => [v.div(2), k.add(1)], [1000, i32(0)]);
  close(n, 10);
  assert.is(n.dtype, "int32");
  close(x, 1000 / 1024);
  const out = lax.whileLoop((c: { i: T }) => c.i.lt(3), (c: { i: T; s: T }) => ({ i: c.i.add(1), s: c.s.add(c.i) }), { i: 0, s: np.zeros([2]) });
  close(out.i, 3);
  close(out.s, [3, 3]);
  const none = lax.whileLoop((v: T) => v.lt(0), (v: T) => v.sub(1), 5);
  close(none, 5);
  const w = makeJaxpr((v: T) => lax.whileLoop((c: T) => c.lt(100), (c: T) => c.mul(3), v))(np.array(1.0));
  assert.match(w.toString(), /while\[\n\s+body_jaxpr=\{ lambda/);
  close(evalClosed(w, [np.array(2.0)])[0], 162);
});

test("foriLoop: sums and powers; concrete bounds make a scan, traced bounds a while loop", () => {
  close(lax.foriLoop(0, 10, (i: T, v: T) => v.add(i), 0), 45);
  close(lax.foriLoop(2, 5, (i: T, v: T) => v.add(i), 0), 9);
  close(lax.foriLoop(5, 2, (i: T, v: T) => v.add(i), 7), 7);
  const x = np.array(1.5);
  close(lax.foriLoop(0, 5, (_i: T, v: T) => v.mul(x), 1), 1.5 ** 5);
  const pair = lax.foriLoop(0, 4, (i: T, [a, b]: T[]) => [b, a.add(b)], [np.array(0.0), np.array(1.0)]);
  close(pair, [3, 5]);
  const concrete = makeJaxpr((v: T) => lax.foriLoop(0, 3, (_i: T, u: T) => u.mul(v), 1))(x).toString();
  assert.match(concrete, /scan\[/);
  assert.not.match(concrete, /while\[/);
  const pow = (n: T, v: T) => lax.foriLoop(0, n, (_i: T, u: T) => u.mul(v), 1.0);
  const traced = makeJaxpr(pow)(i32(3), x);
  assert.match(traced.toString(), /while\[/);
  close(evalClosed(traced, [i32(4), x])[0], 1.5 ** 4);
  close(evalClosed(traced, [i32(-2), x])[0], 1);
});

test("scan: cumulative sums forwards and in reverse", () => {
  const f = (c: T, x: T) => {
    const s = c.add(x);
    return [s, s];
  };
  const [c, ys] = lax.scan(f, 0, np.array([1, 2, 3, 4]));
  close(c, 10);
  assert.equal(ys.tolist(), [1, 3, 6, 10]);
  const [cr, ysr] = lax.scan(f, 0, np.array([1, 2, 3, 4]), { reverse: true });
  close(cr, 10);
  assert.equal(ysr.tolist(), [10, 9, 7, 4]);
  // Along the leading axis of a matrix: running row sums.
  const [, rows] = lax.scan(f, np.zeros([2]), np.array([[1, 2], [3, 4], [5, 6]]));
  assert.equal(rows.tolist(), [[1, 2], [4, 6], [9, 12]]);
});

test("scan: an RNN-like carry with per-step outputs matches a JS loop", () => {
  const W = np.array([[0.5, -0.3], [0.2, 0.8]]);
  const U = np.array([[1, 0.5], [-0.5, 1]]);
  const xs = np.array([[0.1, 0.2], [0.3, -0.1], [-0.2, 0.4], [0.5, 0.5], [0, -0.3]]);
  const cell = (h: T, x: T) => np.tanh(np.matmul(W, h).add(np.matmul(U, x)));
  const [h, ys] = lax.scan((h: T, x: T) => {
    const hn = cell(h, x);
    return [hn, { out: hn.sum(), h: hn }];
  }, np.zeros([2]), xs);
  let hl = np.zeros([2]);
  const outs: number[] = [];
  const hs: number[] = [];
  for (let t = 0; t < 5; t++) {
    hl = cell(hl, xs.slice(t));
    outs.push(hl.sum().item());
    hs.push(...(hl.tolist() as number[]));
  }
  close(h, hl.tolist() as number[]);
  assert.equal(ys.h.shape, [5, 2]);
  close(ys.out, outs);
  close(ys.h, hs);
});

test("scan: pytrees of xs, no xs with a length, length 0, and a weakly typed init", () => {
  const xs = { a: np.array([1, 2, 3]), b: np.array([[1, 0], [0, 1], [1, 1]]) };
  const [c, ys] = lax.scan((c: T, x: { a: T; b: T }) => [c.add(x.b.mul(x.a)), [x.a.mul(2), null]], np.zeros([2]), xs);
  close(c, [4, 5]);
  assert.equal(ys[0].tolist(), [2, 4, 6]);
  assert.is(ys[1], null);
  const [p, pows] = lax.scan((c: T) => [c.mul(2), c], 1, null, { length: 4 });
  close(p, 16);
  assert.equal(pows.tolist(), [1, 2, 4, 8]);
  const [c0, y0] = lax.scan((c: T, x: T) => [c.add(x.sum()), x], 5, np.zeros([0, 3]));
  close(c0, 5);
  assert.equal(y0.shape, [0, 3]);
  const [s32] = lax.scan((c: T, x: T) => [c.add(x), null], 0, np.array([1.5, 2.5], "float32"));
  assert.is(s32.dtype, "float32");
  close(s32, 4);
});

test("scan prints its body jaxpr and its static parameters", () => {
  const g = (xs: T) => lax.scan((c: T, x: T) => [c.add(x), c], 0, xs);
  assert.is(
    makeJaxpr(g)(np.array([1, 2, 3])).toString(),
    [
      "{ lambda a:f64[3] .",
      "  let b:f64[] c:f64[3] = scan[",
      "        jaxpr={ lambda d:f64[] e:f64[] .",
      "          let f:f64[] = add d e",
      "          in ( f d ) }",
      "        length=3",
      "        num_carry=1",
      "        num_consts=0",
      "        reverse=false",
      "      ] 0.0 a",
      "  in ( b c ) }",
    ].join("\n"),
  );
  // A value the body closes over is an explicit operand (a const of the scan).
  const w = np.array([1, 2]);
  const j = makeJaxpr((xs: T) => lax.scan((c: T, x: T) => [c.add(x.mul(w)), null], np.zeros([2]), xs))(np.ones([3, 2]));
  assert.match(j.toString(), /num_consts=1/);
});

// ---------------------------------------------------------------------------------------------
// derivatives
// ---------------------------------------------------------------------------------------------

test("cond derivatives follow the branch taken, with concrete and traced predicates", () => {
  const f = (x: T) => lax.cond(x.gt(0), (v: T) => v.mul(v).mul(v), (v: T) => np.sin(v), x);
  for (const g of [f, staged(f)]) {
    close(grad(g)(np.array(2)), 12);
    close(grad(g)(np.array(-1)), Math.cos(-1));
    close(jvp(g, [np.array(2)], [np.array(0.5)])[1], 6);
    close(grad(grad(g))(np.array(2)), 12);
    close(grad(grad(g))(np.array(-1)), -Math.sin(-1));
  }
  const h = staged((x: T, y: T) => lax.cond(x.sum().gt(0), (a: T, b: T) => np.sin(a).mul(b), (a: T, b: T) => a.mul(b).mul(b), x, y));
  for (const x of [np.array([0.5, 1.2]), np.array([-0.5, -1.2])]) {
    assert.is(checkGrads(h, [x, np.array([0.3, -0.4])], { order: 2 }), undefined);
  }
  // A branch closing over the differentiated value.
  const k = staged((x: T) => lax.cond(x.lt(1), () => x.mul(x), () => np.exp(x)));
  close(grad(k)(np.array(0.5)), 1);
  close(grad(k)(np.array(2)), Math.exp(2));
  assert.is(checkGrads(k, [np.array(0.5)], { order: 3 }), undefined);
});

test("switch derivatives in both modes, for each (clamped) index", () => {
  const f = staged((k: T, x: T) => lax.switch(k, [(a: T) => a.mul(a), (a: T) => np.exp(a), (a: T) => np.sin(a)], x));
  const x = np.array(0.7);
  const want: [number, number][] = [[-1, 1.4], [0, 1.4], [1, Math.exp(0.7)], [2, Math.cos(0.7)], [9, Math.cos(0.7)]];
  for (const [k, d] of want) {
    close(grad((v: T) => f(i32(k), v))(x), d, 1e-12, `grad at index ${k}`);
    close(jvp((v: T) => f(i32(k), v), [x], [np.array(1)])[1], d, 1e-12, `jvp at index ${k}`);
    assert.is(checkGrads((v: T) => f(i32(k), v), [np.array([0.3, -0.6])], { order: 2 }), undefined);
  }
});

test("scan derivatives: closed forms for products and linear recurrences, and a hessian", () => {
  const prod = (xs: T) => lax.scan((c: T, x: T) => [c.mul(x), c], 1, xs)[0];
  close(grad(prod)(np.array([1.5, 2, -0.5, 3])), [-3, -2.25, 9, -1.5]);
  close(jvp(prod, [np.array([1.5, 2, -0.5, 3])], [np.array([1, 0, 0, 1])])[1], -3 - 1.5);
  // c_n = a^3 + x0 a^2 + x1 a + x2
  const rec = (a: T, xs: T) => lax.scan((c: T, x: T) => [c.mul(a).add(x), null], 1, xs)[0];
  const a = np.array(0.5), xs = np.array([1, 2, 3]);
  close(rec(a, xs), 4.375);
  const [ga, gx] = grad(rec, { argnums: [0, 1] })(a, xs);
  close(ga, 3 * 0.25 + 2 * 1 * 0.5 + 2);
  close(gx, [0.25, 0.5, 1]);
  close(hessian(prod)(np.array([1, 2, 3])), [0, 3, 2, 3, 0, 1, 2, 1, 0]);
  close(jacfwd(prod)(np.array([1, 2, 3])), [6, 3, 2]);
});

test("scan derivatives agree with finite differences in both modes (RNN, reverse, captured weights)", () => {
  const rnn = (W: T, h0: T, xs: T) => {
    const [h, ys] = lax.scan((h: T, x: T) => {
      const hn = np.tanh(np.matmul(W, h).add(x));
      return [hn, hn.mul(hn).sum()];
    }, h0, xs);
    return h.sum().add(ys.sum());
  };
  const W = np.array([[0.1, 0.2], [-0.3, 0.4]]), h0 = np.array([0.5, -0.5]), xs = np.array([[1, 2], [0.5, -1], [0.2, 0.3]]);
  assert.is(checkGrads(rnn, [W, h0, xs], { order: 2 }), undefined);
  const rev = (w: T, xs: T) => lax.scan((c: T, x: T) => [np.sin(c.mul(w)).add(x), c.mul(x)], np.array([0.2, 0.1]), xs, { reverse: true });
  assert.is(checkGrads(rev, [np.array([0.7, -1.1]), np.array([[1, 2], [0.5, -1], [0.2, 0.3], [-0.4, 0.9]])], { order: 2 }), undefined);
  // Reversing xs in a forward scan gives the reverse scan's gradient, reversed.
  const fwdOf = (x: T) => lax.scan((c: T, v: T) => [np.sin(c).add(v.mul(c)), null], 0.3, x)[0];
  const revOf = (x: T) => lax.scan((c: T, v: T) => [np.sin(c).add(v.mul(c)), null], 0.3, x, { reverse: true })[0];
  const x = np.array([0.2, -0.4, 0.9]);
  close(grad(revOf)(x), vals(grad(fwdOf)(np.array([0.9, -0.4, 0.2]))).reverse());
  // cond and a nested scan inside a scan body, differentiated in reverse.
  const nested = (x: T) => {
    const [c, ys] = lax.scan((c: T, v: T) => {
      const inner = lax.scan((d: T, u: T) => [d.mul(u).add(c), null], v, np.array([0.5, -1, 2]))[0];
      return [lax.cond(v.gt(0), (a: T) => np.sin(a.mul(inner)), (a: T) => a.mul(a), c), inner];
    }, 0.7, x);
    return c.add(ys.mul(ys).sum());
  };
  assert.is(checkGrads(nested, [np.array([0.5, -0.3, 1.2, -0.8])], { order: 2 }), undefined);
});

test("vjp of scan: cotangents for init, consts and xs, with integer carries left alone", () => {
  const f = (w: T, init: T, xs: T) => {
    const [[c], ys] = lax.scan(([c, k]: T[], x: T) => [[c.mul(w).add(x), k.add(1)], c.mul(x)], [init, i32(0)], xs);
    return [c, ys];
  };
  const [out, back] = vjp(f, [np.array(2), np.array(1), np.array([1, 2])]);
  // c1 = 2 + 1 = 3, c2 = 6 + 2 = 8; ys = [1*1, 3*2]
  close(out[0], 8);
  close(out[1], [1, 6]);
  const [gw, gi, gx] = back([np.array(1), np.array([1, 1])]);
  // d(c2 + y0 + y1)/dw = (c1 + w*init... ) computed by hand: c2 = w(w*i + x0) + x1
  close(gw, 2 * 2 * 1 + 1 + 1 * 2);
  close(gi, 4 + 1 + 2 * 2);
  close(gx, [2 + 1 + 2, 1 + 3]);
});

test("foriLoop with static bounds differentiates in reverse mode; traced bounds only forward", () => {
  const pow5 = (x: T) => lax.foriLoop(0, 5, (_i: T, v: T) => v.mul(x), 1);
  close(grad(pow5)(np.array(1.5)), 5 * 1.5 ** 4);
  close(grad(grad(pow5))(np.array(1.5)), 20 * 1.5 ** 3, 1e-12);
  const powi = (x: T) => lax.foriLoop(1, 4, (i: T, v: T) => v.add(np.astype(i, "float64").mul(np.sin(x.mul(i)))), 0.0);
  assert.is(checkGrads(powi, [np.array(0.3)], { order: 2 }), undefined);
  const traced = staged((n: T, x: T) => lax.foriLoop(0, n, (_i: T, v: T) => v.mul(x), 1.0));
  close(jvp((x: T) => traced(i32(3), x), [np.array(2)], [np.array(1)])[1], 12);
  throwsWith(() => grad((x: T) => traced(i32(3), x))(np.array(2)), JacobiError, /whileLoop/, /foriLoop with static/);
});

test("whileLoop differentiates in forward mode; reverse mode throws a clear JacobiError", () => {
  const cube = (x: T) => lax.whileLoop(([, k]: T[]) => k.lt(3), ([v, k]: T[]) => [v.mul(x), k.add(1)], [np.onesLike(x), 0])[0];
  close(cube(np.array(2)), 8);
  close(jvp(cube, [np.array(2)], [np.array(0.5)])[1], 6);
  close(jacfwd(cube)(np.array(2)), 12);
  const [y, lin] = linearize(cube, [np.array(2)]);
  close(y, 8);
  close(lin(np.array(1)), 12);
  assert.is(checkGrads(cube, [np.array([0.5, -1.5])], { modes: ["fwd"], order: 2 }), undefined);
  // The tangent of a carry that starts at zero but picks one up inside the loop (a fixpoint).
  const grow = (x: T) => lax.whileLoop(([v]: T[]) => v.lt(10), ([v, s]: T[]) => [v.add(1), s.add(x.mul(v))], [0.0, 0.0])[1];
  close(jvp(grow, [np.array(2)], [np.array(1)])[1], 45);
  throwsWith(() => grad(cube)(np.array(2)), JacobiError, /reverse-mode differentiation of lax\.whileLoop/, /lax\.foriLoop/, /lax\.scan/);
  throwsWith(() => vjp(cube, [np.array(2)])[1](np.array(1)), JacobiError, /lax\.scan/);
  assert.is(traceDepth(), 0);
  // A loop that does not depend on the differentiated value is fine in reverse mode.
  const steps = (x: T) => x.mul(lax.whileLoop((v: T) => v.lt(5), (v: T) => v.add(2), 0.0));
  close(grad(steps)(np.array(3)), 6);
});

test("nested reverse mode through scan and cond gives the hessian", () => {
  const f = (x: T) => lax.scan((c: T, v: T) => [np.sin(c.mul(v)).add(v), c.mul(c)], x.sum(), x)[1].sum();
  const c = staged((x: T) => lax.cond(x.sum().gt(0), (a: T) => np.sin(a).mul(a).sum(), (a: T) => a.mul(a).sum(), x));
  const xv = [0.3, -0.2, 0.5];
  const x = np.array(xv);
  close(jacrev(jacrev(f))(x), vals(hessian(f)(x)), 1e-12);
  close(jacrev(jacrev(c))(x), vals(hessian(c)(x)), 1e-12);
  // The hessian of sum(x sin x) is diagonal, with entries 2 cos x - x sin x.
  const diag = xv.map((v) => 2 * Math.cos(v) - v * Math.sin(v));
  close(hessian(c)(x), [diag[0], 0, 0, 0, diag[1], 0, 0, 0, diag[2]], 1e-12);
});

test("control flow whose outputs do not depend on the differentiated value has zero derivatives", () => {
  const x = np.array([0.3, -0.2, 0.5]);
  const ones = np.ones([3]);
  // The branches ignore their operand: only the outer product depends on x.
  const c = staged((v: T) => lax.cond(v.sum().gt(0), () => np.array(1.0), () => np.array(2.0), v).mul(v.sum()));
  close(grad(c)(x), [1, 1, 1]);
  close(jvp(c, [x], [ones])[1], 3);
  // x only decides how long the loop runs.
  const w = (v: T) => lax.whileLoop((k: T) => k.lt(v.sum().mul(10)), (k: T) => k.add(1), 0.0);
  close(w(x), 6);
  close(grad(w)(x), [0, 0, 0]);
  close(jvp(w, [x], [ones])[1], 0);
  const s = (v: T) => lax.scan((k: T, e: T) => [k.add(1), np.astype(e.gt(0), "float64")], 0.0, v)[1].sum();
  close(grad(s)(x), [0, 0, 0]);
  close(jvp(s, [x], [ones])[1], 0);
});

// ---------------------------------------------------------------------------------------------
// vmap
// ---------------------------------------------------------------------------------------------

test("vmap of cond with a batched predicate is a select of both branches", () => {
  const f = (x: T) => lax.cond(x.gt(0), (v: T) => v.mul(v), (v: T) => np.sin(v), x);
  const xs = np.array([1.5, -2, 3, -0.5]);
  close(vmap(f)(xs), [2.25, Math.sin(-2), 9, Math.sin(-0.5)]);
  const text = makeJaxpr(vmap(f))(xs).toString();
  assert.match(text, /select/);
  assert.not.match(text, /cond\[/);
  close(vmap(grad(f))(xs), [3, Math.cos(-2), 6, Math.cos(-0.5)]);
  close(jacrev(staged((v: T) => vmap(f)(v).sum()))(xs), [3, Math.cos(-2), 6, Math.cos(-0.5)]);
});

test("vmap of cond with an unbatched traced predicate keeps the cond", () => {
  const g = staged((p: T, x: T) => lax.cond(p.gt(0), (v: T) => v.mul(2), (v: T) => v.neg(), x));
  const xs = np.array([1, 2, 3]);
  close(vmap(g, { inAxes: [null, 0] })(np.array(1), xs), [2, 4, 6]);
  close(vmap(g, { inAxes: [null, 0] })(np.array(-1), xs), [-1, -2, -3]);
  assert.match(makeJaxpr(vmap(g, { inAxes: [null, 0] }))(np.array(1), xs).toString(), /cond\[/);
  // Branch outputs batched in one branch only are batched in all.
  const h = staged((p: T, x: T) => lax.cond(p.gt(0), (v: T) => v, () => np.array(7.0), x));
  close(vmap(h, { inAxes: [null, 0] })(np.array(-1), xs), [7, 7, 7]);
  close(vmap(h, { inAxes: [null, 0] })(np.array(1), xs), [1, 2, 3]);
});

test("vmap of switch with batched, out-of-range indices matches a loop", () => {
  const branches = [(x: T) => x.add(1), (x: T) => x.mul(10), (x: T) => x.neg()];
  const f = (k: T, x: T) => lax.switch(k, branches, x);
  const ks = i32([-2, 0, 1, 2, 9]);
  const xs = np.array([1, 2, 3, 4, 5]);
  close(vmap(f)(ks, xs), [2, 3, 30, -4, -5]);
  close(vmap(f, { inAxes: [0, null] })(ks, np.array(2)), [3, 3, 20, -2, -2]);
});

test("vmap of whileLoop with a batched predicate runs until every example is done", () => {
  const f = (n: T) => lax.whileLoop(([i]: T[]) => i.lt(n), ([i, v]: T[]) => [i.add(1), v.mul(2)], [i32(0), 1.0]);
  const ns = i32([0, 3, 5, 1]);
  const [i, v] = vmap(f)(ns);
  assert.equal(i.tolist(), [0, 3, 5, 1]);
  close(v, [1, 8, 32, 2]);
  const text = makeJaxpr(vmap(f))(ns).toString();
  assert.match(text, /reduce_max/);
  assert.match(text, /select/);
  // Batched carries with a predicate that does not depend on the batch.
  const g = (x: T) => lax.whileLoop(([k]: T[]) => k.lt(3), ([k, v]: T[]) => [k.add(1), v.mul(v)], [0, x])[1];
  close(vmap(g)(np.array([1.1, 0.9, -1])), [1.1 ** 8, 0.9 ** 8, 1], 1e-12);
  // Forward-mode derivatives of the batched loop.
  const h = (x: T) => lax.whileLoop(([v]: T[]) => v.lt(10), ([v, p]: T[]) => [v.add(x), p.mul(x)], [0.0, 1.0])[1];
  const xs = np.array([2, 3, 4]);
  // v reaches >= 10 after ceil(10/x) steps: 5, 4, 3; p = x^steps
  close(vmap(h)(xs), [32, 81, 64]);
  close(vmap((x: T) => jvp(h, [x], [np.array(1)])[1])(xs), [5 * 16, 4 * 27, 3 * 16]);
  close(jacfwd((x: T) => vmap(h)(x))(xs), [80, 0, 0, 0, 108, 0, 0, 0, 48]);
});

test("vmap of scan matches a loop (batched xs at another axis, batched consts, unbatched init)", () => {
  const f = (w: T, xs: T) => lax.scan((c: T, x: T) => [c.mul(w).add(x), c], 0.5, xs);
  const ws = np.array([0.5, -1, 2]);
  const xss = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9], [1, 0, -1]]); // [4 steps, 3 examples]
  const [c, ys] = vmap(f, { inAxes: [0, 1] })(ws, xss);
  for (let b = 0; b < 3; b++) {
    const [cb, yb] = f(ws.slice(b), xss.slice(null, b));
    close(c.slice(b), cb.item(), 1e-12, `carry ${b}`);
    close(ys.slice(b), yb.tolist() as number[], 1e-12, `ys ${b}`);
  }
  // Only the carry is batched.
  const g = (c0: T) => lax.scan((c: T, x: T) => [c.add(x), c.mul(x)], c0, np.array([1, 2, 3]));
  const [cc, yy] = vmap(g)(np.array([0, 10]));
  close(cc, [6, 16]);
  close(yy, [0, 2, 9, 10, 22, 39]);
});

test("vmap of grad of scan and of foriLoop match loops; jacfwd and jacrev agree", () => {
  const f = (x: T) => lax.scan((c: T, v: T) => [np.sin(c.mul(v)).add(v), c.mul(c)], x.sum(), x)[1];
  const batch = np.array([[0.3, -0.2, 0.5], [1, 0.4, -0.7]]);
  const gs = vmap(grad((x: T) => f(x).sum()))(batch);
  for (let b = 0; b < 2; b++) close(gs.slice(b), vals(grad((x: T) => f(x).sum())(batch.slice(b))), 1e-12);
  close(jacrev(f)(batch.slice(0)), vals(jacfwd(f)(batch.slice(0))), 1e-12);
  const p = (n: T, x: T) => lax.foriLoop(0, n, (_i: T, v: T) => v.mul(x), 1.0);
  close(vmap(p)(i32([0, 1, 2, 3]), np.array([5, 5, 5, 5])), [1, 5, 25, 125]);
});

// ---------------------------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------------------------

test("branches that disagree in structure, shape or dtype are errors naming both", () => {
  const x = np.array([1, 2, 3]);
  throwsWith(() => makeJaxpr((v: T) => lax.cond(v.sum().gt(0), (a: T) => [a, a], (a: T) => a, v))(x), TreeError, /falseFn/, /trueFn/, /\[\*, \*\]/);
  throwsWith(() => makeJaxpr((v: T) => lax.cond(v.sum().gt(0), (a: T) => a, (a: T) => a.slice([0, 2]), v))(x), ShapeError, /falseFn/, /trueFn/, /\[3\]/, /\[2\]/);
  throwsWith(() => makeJaxpr((v: T) => lax.cond(v.sum().gt(0), (a: T) => a, (a: T) => np.astype(a, "float32"), v))(x), DTypeError, /float32/, /float64/);
  throwsWith(
    () => makeJaxpr((k: T, v: T) => lax.switch(k, [(a: T) => a, (a: T) => a.mul(2), (a: T) => a.sum()], v))(i32(0), x),
    ShapeError,
    /branches\[0\]/,
    /branches\[2\]/,
  );
});

test("scan errors: lengths, structures, shapes and dtypes of the carry", () => {
  const f = (c: T, x: { a: T; b: T }) => [c, x.a];
  throwsWith(() => lax.scan(f, 0, { a: np.zeros([3]), b: np.zeros([4, 2]) }), ShapeError, /leading axes/, /\[3\]/, /\[4,2\]/);
  throwsWith(() => lax.scan((c: T, x: T) => [c, x], 0, np.zeros([3]), { length: 5 }), ShapeError, /length is 5/, /leading axis 3/);
  throwsWith(() => lax.scan((c: T) => [c, c], 0, null), JacobiError, /length option/);
  throwsWith(() => lax.scan((c: T, x: T) => [c, x], 0, np.array(1)), ShapeError, /scalar/);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsWith(() => lax.scan((c: T) => c, 0, np.zeros([2])), TreeError, /pair \[carry, y\]/);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsWith(() => lax.scan((c: T) => [[c, c], null], 0, np.zeros([2])), TreeError, /structure/);
  throwsWith(() => lax.scan((c: T) => [np.stack([c, c]), null], 0, np.zeros([2])), ShapeError, /shape \[2\]/, /init has shape \[\]/);
  throwsWith(() => lax.scan((c: T) => [np.astype(c, "float32"), null], np.array(0.0), np.zeros([2])), DTypeError, /float32/);
  throwsWith(() => lax.scan((c: T) => [c, null], 0, np.zeros([2]), { length: -1 }), JacobiError, /non-negative integer/);
  throwsWith(() => lax.whileLoop((c: T) => c.lt(1), (c: T) => np.stack([c]), 0), ShapeError, /keep its shape/);
  throwsWith(() => lax.whileLoop((c: T) => c, (c: T) => c, 0), DTypeError, /condFn must return a bool scalar/, /f64\[\]/);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsWith(() => lax.whileLoop((c: T) => [c.lt(1)], (c: T) => c, 0), DTypeError, /condFn must return a bool scalar/, /pytree \[\*\]/);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsWith(() => lax.whileLoop((c: T) => c.lt(1), (c: T) => [c], 0), TreeError, /structure of init/);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsWith(() => lax.foriLoop(0, 3, (_i: T, c: T) => [c], 0), TreeError, /lax\.foriLoop/);
});

test("non-function arguments and bad predicates or indices are clear errors", () => {
  // @ts-expect-error deliberate misuse, checked at run time
  throwsWith(() => lax.cond(true, 1, () => 0), JacobiError, /lax\.cond: trueFn must be a function, got number/);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsWith(() => lax.cond(true, () => 0, "f"), JacobiError, /falseFn must be a function/);
  throwsWith(() => lax.switch(0, (() => 0) as never), JacobiError, /branches must be a non-empty array/);
  throwsWith(() => lax.switch(0, []), JacobiError, /non-empty array/);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsWith(() => lax.switch(0, [() => 0, 3]), JacobiError, /branches\[1\] must be a function/);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsWith(() => lax.whileLoop(null, (c: T) => c, 0), JacobiError, /condFn must be a function, got null/);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsWith(() => lax.whileLoop((c: T) => c.lt(1), {}, 0), JacobiError, /bodyFn must be a function/);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsWith(() => lax.foriLoop(0, 2, 5, 0), JacobiError, /bodyFn must be a function/);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsWith(() => lax.scan(undefined, 0, null, { length: 1 }), JacobiError, /lax\.scan: f must be a function/);
  throwsWith(() => lax.cond(np.array([true, false]), () => 0, () => 1), ShapeError, /pred must be a scalar/);
  throwsWith(() => lax.switch(1.5, [() => 0]), DTypeError, /index must be an integer/);
  throwsWith(() => lax.switch(np.array(1, "float32"), [() => 0]), DTypeError, /float32/);
  throwsWith(() => lax.scan((c: T) => [c, null], 0, null, { length: 1, revers: true } as never), JacobiError, /unknown option "revers"/);
  // Concrete float bounds are int() of their values, as JAX's fori_loop; traced ones are refused.
  close(lax.foriLoop(0, np.array(2.7, "float64"), (i: T, c: T) => c.add(i), 0), 1);
  close(lax.foriLoop(0.5, 3.9, (i: T, c: T) => c.add(i), 0), 3);
  close(lax.foriLoop(np.array(1, "float32"), 3, (i: T, c: T) => c.add(i), 0), 3);
  throwsWith(() => vmap((u: T) => lax.foriLoop(0, u, (_i: T, c: T) => c, 0))(np.array([2.0])), DTypeError, /upper must be an integer/);
});

test("an exception inside a branch or body propagates unchanged and leaves no trace state", () => {
  const boom = new Error("boom");
  const fail = () => {
    throw boom;
  };
  for (const run of [
    () => makeJaxpr((v: T) => lax.cond(v.gt(0), fail, () => v))(np.array(1)),
    () => lax.scan(fail, 0, np.zeros([2])),
    () => lax.whileLoop(() => np.array(true), fail, 0),
    () => grad((v: T) => lax.foriLoop(0, 2, fail, v))(np.array(1)),
  ]) {
    assert.is(caught(run), boom);
    assert.is(traceDepth(), 0);
  }
});

// ---------------------------------------------------------------------------------------------
// a long scan
// ---------------------------------------------------------------------------------------------

test("a scan of 100,000 steps evaluates and differentiates without deepening the stack", () => {
  const n = 100_000;
  const xs = np.ones([n]);
  const [c, ys] = lax.scan((c: T, x: T) => [c.add(x), c], 0, xs);
  close(c, n);
  close(ys.slice(n - 1), n - 1);
  // c_{t+1} = 0.5 c_t + x_t: d c_n / d x_t = 0.5^(n-1-t)
  const g = grad((v: T) => lax.scan((c: T, x: T) => [c.mul(0.5).add(x), null], 0, v)[0])(xs);
  close(g.slice([n - 3, n]), [0.25, 0.5, 1]);
  close(g.slice(0), 0);
});

test.run();
