import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import {
  ConcretizationError,
  JacobiError,
  ShapeError,
  type Tensor,
  TreeError,
  grad,
  hessian,
  jacfwd,
  jacobian,
  jacrev,
  jvp,
  np,
  tree,
  valueAndGrad,
  vjp,
  vmap,
} from "../../src/index.js";
import { traceDepth } from "../../src/core/trace.js";
import { L, close, throwsWith } from "../helpers.js";

// ---------- helpers ----------

/** Deterministic pseudo-random values in [-1, 1) (an LCG), so failures reproduce. */
function rand(shape: number[], seed: number): Tensor {
  let s = seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 2 ** 31 - 1;
  }
  return np.reshape(np.array(data), shape);
}
/** The slice of `x` at index `i` along `axis`. */
const take = (x: Tensor, i: number, axis: number): Tensor => np.take(x, np.array([i], "int32"), axis).squeeze(axis as never);
/** Stacks per-example results (pytrees) along `axis`. */
const stackTrees = (rs: unknown[], axis = 0): any => tree.map((...ls: unknown[]) => np.stack(ls as Tensor[], axis), rs[0], ...rs.slice(1));

const X = [
  [1, 2, 3],
  [4, 5, 6],
];

// ---------- inAxes / outAxes ----------

test("inAxes as a number: 0 (default), 1, and -1 put the batch axis anywhere", () => {
  const x = np.array(X);
  assert.equal(vmap((r: any) => r.sum())(x).tolist(), [6, 15]);
  assert.equal(vmap((r: any) => r.sum(), { inAxes: 0 })(x).tolist(), [6, 15]);
  assert.equal(vmap((c: any) => c.sum(), { inAxes: 1 })(x).tolist(), [5, 7, 9]);
  assert.equal(vmap((c: any) => c.sum(), { inAxes: -1 })(x).tolist(), [5, 7, 9]);
  // A 3-D input batched along its middle axis equals the loop over that axis.
  const t = rand([2, 4, 3], 1);
  const f = (m: any) => np.matmul(np.transpose(m), m); // [2,3] -> [3,3]
  for (const ax of [0, 1, 2, -1, -2]) {
    const a = ax < 0 ? ax + 3 : ax;
    const want = stackTrees(Array.from({ length: t.shape[a] }, (_, i) => f(take(t, i, a))));
    close(vmap(f, { inAxes: ax })(t), want, 1e-14, `inAxes ${ax}`);
  }
});

test("inAxes null and per-argument arrays: unbatched arguments are shared", () => {
  const W = np.array(X); // [2,3]
  const xs = rand([4, 3], 2);
  const mv = (x: any, w: any) => np.matmul(w, x);
  const got = vmap(mv, { inAxes: [0, null] })(xs, W);
  assert.equal(got.shape, [4, 2]);
  close(got, np.matmul(xs, np.transpose(W)), 1e-14);
  // Batched along different axes per argument.
  const ys = np.transpose(xs); // [3,4]: batch axis 1
  close(vmap((a: any, b: any) => np.dot(a, b), { inAxes: [0, 1] })(xs, ys), np.sum(np.multiply(xs, xs), 1), 1e-14);
  // Mixed with JS numbers and a scalar that is not mapped.
  assert.equal(vmap((a: any, s: any) => np.multiply(a, s), { inAxes: [0, null] })(np.array([1, 2, 3]), 10).tolist(), [10, 20, 30]);
  // With axisSize, an all-null call is broadcast.
  assert.equal(vmap((a: any) => np.multiply(a, 2), { inAxes: null, axisSize: 3 })(np.array([1, 2])).tolist(), [[2, 4], [2, 4], [2, 4]]);
});

test("inAxes as pytrees of axes (prefixes of the argument trees)", () => {
  const p = { w: np.array(X), b: np.array([1, 10, 100]) };
  const f = (q: any) => np.multiply(q.w, q.b);
  assert.equal(vmap(f, { inAxes: [{ w: 0, b: null }] })(p).tolist(), [[1, 20, 300], [4, 50, 600]]);
  assert.equal(vmap(f, { inAxes: [{ w: 1, b: 0 }] })(p).tolist(), [[1, 4], [20, 50], [300, 600]]);
  // A number as a prefix applies to every leaf of that argument.
  assert.equal(vmap((q: any) => np.add(q.a, q.b[0]), { inAxes: [0] })({ a: np.array([1, 2]), b: [np.array([10, 20])] }).tolist(), [11, 22]);
  // Lists inside the spec.
  const g = (pair: any, c: any) => np.add(np.multiply(pair[0], pair[1]), c);
  assert.equal(vmap(g, { inAxes: [[0, null], null] })([np.array([1, 2, 3]), 2], 1).tolist(), [3, 5, 7]);
  throwsWith(() => vmap(f, { inAxes: [{ w: 0 }] })(p), TreeError, ["inAxes", "keys"]);
  throwsWith(() => vmap(g, { inAxes: [[0, null, 0], null] })([np.array([1, 2, 3]), 2], 1), TreeError, ["inAxes"]);
});

test("outAxes: number, negative, null for unbatched outputs, and pytrees", () => {
  const x = np.array(X);
  assert.equal(vmap((r: any) => r.mul(2), { outAxes: 1 })(x).tolist(), [[2, 8], [4, 10], [6, 12]]);
  assert.equal(vmap((r: any) => r.mul(2), { outAxes: -1 })(x).tolist(), [[2, 8], [4, 10], [6, 12]]);
  assert.equal(vmap((r: any) => r.mul(2), { inAxes: 1, outAxes: 1 })(x).tolist(), [[2, 4, 6], [8, 10, 12]]);
  const [s, c] = vmap((r: any, k: any) => [r.sum(), k.mul(3)], { inAxes: [0, null], outAxes: [0, null] })(x, np.array([7]));
  assert.equal(s.tolist(), [6, 15]);
  assert.equal(c.tolist(), [21]);
  const o = vmap((r: any) => ({ a: r, b: r.sum() }), { outAxes: { a: 1, b: 0 } })(x);
  assert.equal(L(o), { a: [[1, 4], [2, 5], [3, 6]], b: [6, 15] });
  // An output that does not depend on the batch is broadcast along the batch axis.
  assert.equal(vmap((_r: any) => np.array([1, 2]), { outAxes: 1 })(x).tolist(), [[1, 1], [2, 2]]);
  // Batch axis placed in the middle of a 3-D output.
  const t = rand([5, 2, 3], 3);
  const m = vmap((a: any) => np.multiply(a, 2), { outAxes: 1 })(t);
  assert.equal(m.shape, [2, 5, 3]);
  close(m, np.transpose(np.multiply(t, 2), [1, 0, 2]), 0);
});

test("nested vmap: outer product and batched matrix-vector products", () => {
  const outer = vmap(vmap((a: any, b: any) => np.multiply(a, b), { inAxes: [null, 0] }), { inAxes: [0, null] });
  assert.equal(outer(np.array([1, 2]), np.array([3, 4, 5])).tolist(), [[3, 4, 5], [6, 8, 10]]);
  const Ws = rand([3, 2, 4], 4), xs = rand([3, 4], 5);
  const bmv = vmap((W: any, x: any) => np.matmul(W, x));
  close(bmv(Ws, xs), stackTrees([0, 1, 2].map((i) => np.matmul(take(Ws, i, 0), take(xs, i, 0)))), 1e-14);
  // vmap of vmap over two axes of one array equals the elementwise map.
  const t = rand([2, 3], 6);
  close(vmap(vmap((v: any) => np.sin(v)), { inAxes: 1, outAxes: 1 })(t), np.sin(t), 0);
});

// ---------- errors ----------

test("mismatched batch sizes and out-of-range axes throw errors naming the argument and sizes", () => {
  throwsWith(() => vmap((a: any, b: any) => np.add(a, b))(np.ones([2]), np.ones([3])), ShapeError, ["argument 0", "argument 1", "size 2", "size 3"]);
  throwsWith(() => vmap((a: any, b: any) => np.add(a, b), { inAxes: [0, 1] })(np.ones([2, 3]), np.ones([2, 3])), ShapeError, ["argument 0", "argument 1", "size 2", "size 3", "[2,3]"]);
  // A pytree argument: the argument (not the flat leaf index) is named.
  throwsWith(() => vmap((p: any, c: any) => c)({ a: np.ones([2]), b: np.ones([2]) }, np.ones([3])), ShapeError, ["argument 1 has size 3", "size 2"]);
  throwsWith(() => vmap((a: any) => a, { axisSize: 4 })(np.ones([3])), ShapeError, ["axisSize is 4", "argument 0 has size 3"]);
  throwsWith(() => vmap((a: any) => a, { inAxes: 2 })(np.ones([2, 3])), ShapeError, ["inAxes 2", "argument 0", "[2,3]"]);
  throwsWith(() => vmap((a: any, b: any) => b, { inAxes: [0, -2] })(np.ones([2]), np.ones([2])), ShapeError, ["inAxes -2", "argument 1", "[2]"]);
  throwsWith(() => vmap((a: any) => a)(3), ShapeError, ["argument 0", "[]"]);
  throwsWith(() => vmap((a: any) => a, { outAxes: 2 })(np.ones([2, 3])), ShapeError, ["outAxes 2", "output 0"]);
  throwsWith(() => vmap((a: any) => a, { outAxes: null })(np.ones([2])), ShapeError, ["output 0", "null"]);
  throwsWith(() => vmap((a: any) => a, { inAxes: [0, 0] })(np.ones([2])), JacobiError, ["inAxes has 2 entries", "1 argument"]);
  throwsWith(() => vmap((a: any) => a, { inAxes: null })(np.ones([2])), JacobiError, ["at least one"]);
  // Per-example values are not concrete: branching on them points to np.where.
  throwsWith(() => vmap((a: any) => (a > 0 ? a : a.neg()))(np.array([1, -2])), ConcretizationError, ["np.where"]);
  assert.is(traceDepth(), 0, "no trace level left behind");
});

// ---------- composition with differentiation ----------

// A per-example loss of a small model: (tanh(w . x + b) - y)^2.
const loss = (p: any, x: any, y: any) => np.square(np.subtract(np.tanh(np.add(np.dot(p.w, x), p.b)), y));
const params = { w: np.array([0.3, -0.7, 0.2]), b: np.array(0.1) };
const xs = rand([5, 3], 7);
const ys = rand([5], 8);

test("vmap(grad f) gives per-example gradients equal to a loop", () => {
  const per = vmap(grad(loss), { inAxes: [null, 0, 0] })(params, xs, ys);
  const looped = stackTrees([0, 1, 2, 3, 4].map((i) => grad(loss)(params, take(xs, i, 0), take(ys, i, 0))));
  assert.equal(per.w.shape, [5, 3]);
  assert.equal(per.b.shape, [5]);
  close(per, looped, 1e-14, "per-example gradients");
  // Per-example gradients with respect to the batched input, batch axis 1.
  const gx = vmap(grad(loss, { argnums: 1 }), { inAxes: [null, 1, 0] })(params, np.transpose(xs), ys);
  close(gx, stackTrees([0, 1, 2, 3, 4].map((i) => grad(loss, { argnums: 1 })(params, take(xs, i, 0), take(ys, i, 0)))), 1e-14);
  // valueAndGrad under vmap.
  const [vals, gs] = vmap(valueAndGrad(loss), { inAxes: [null, 0, 0] })(params, xs, ys);
  close(vals, stackTrees([0, 1, 2, 3, 4].map((i) => loss(params, take(xs, i, 0), take(ys, i, 0)))), 1e-15);
  close(gs, looped, 1e-14);
});

test("grad of a vmapped function equals the gradient of the summed loop", () => {
  const batchLoss = (p: any) => np.mean(vmap(loss, { inAxes: [null, 0, 0] })(p, xs, ys));
  const loopLoss = (p: any) => np.mean(np.stack([0, 1, 2, 3, 4].map((i) => loss(p, take(xs, i, 0), take(ys, i, 0)))));
  close(batchLoss(params), loopLoss(params), 1e-15);
  close(grad(batchLoss)(params), grad(loopLoss)(params), 1e-14, "grad of vmap");
  // grad with respect to the batched argument of a vmapped function (rows scale independently).
  const g = grad((m: any) => np.sum(vmap((r: any) => np.multiply(np.sum(np.square(r)), r.slice(0)))(m)))(np.array(X));
  // d/dr [ |r|^2 r0 ] = 2 r r0 + |r|^2 e0
  const want = X.map((r) => {
    const n2 = r.reduce((a, v) => a + v * v, 0);
    return r.map((v, j) => 2 * v * r[0] + (j === 0 ? n2 : 0));
  });
  assert.equal(g.tolist(), want);
});

test("vmap composes with jvp and vjp, both ways", () => {
  const t = np.array([0, 0.5, 1]);
  const dir = np.array([1, 2, 3]);
  // vmap of jvp
  const vj = vmap((a: any, d: any) => jvp(np.sin, [a], [d])[1])(t, dir);
  close(vj, [0, 0.5, 1].map((a, i) => Math.cos(a) * (i + 1)), 1e-15);
  // jvp of vmap
  const [po, to] = jvp(vmap((a: any) => np.multiply(np.sin(a), a)), [t], [dir]);
  close(po, [0, 0.5, 1].map((a) => Math.sin(a) * a), 1e-15);
  close(to, [0, 0.5, 1].map((a, i) => (Math.cos(a) * a + Math.sin(a)) * (i + 1)), 1e-15);
  // vmap of vjp, cotangents batched too
  const vv = vmap((a: any, c: any) => vjp(np.exp, [a])[1](c)[0])(t, dir);
  close(vv, [0, 0.5, 1].map((a, i) => Math.exp(a) * (i + 1)), 1e-15);
  // vjp of vmap over a matrix-valued map
  const W = np.array(X);
  const [out, back] = vjp(vmap((x: any) => np.matmul(W, x)), [np.ones([4, 3])]);
  assert.equal(out.shape, [4, 2]);
  const [ct] = back(np.ones([4, 2]));
  assert.equal(ct.tolist(), [0, 1, 2, 3].map(() => [5, 7, 9]));
});

test("vmap composes with jacfwd, jacrev and hessian, both ways", () => {
  const f = (x: any) => np.multiply(x, np.sum(np.square(x))); // J = |x|^2 I + 2 x x^T
  const batch = rand([4, 3], 9);
  const jLoop = stackTrees([0, 1, 2, 3].map((i) => jacfwd(f)(take(batch, i, 0))));
  assert.equal(jLoop.shape, [4, 3, 3]);
  const rows = L(batch) as number[][];
  close(jLoop, rows.map((r) => r.map((a, i) => r.map((b, j) => (i === j ? r.reduce((s, v) => s + v * v, 0) : 0) + 2 * a * b))), 1e-14, "closed form");
  close(vmap(jacfwd(f))(batch), jLoop, 1e-14, "vmap(jacfwd)");
  close(vmap(jacrev(f))(batch), jLoop, 1e-14, "vmap(jacrev)");
  close(vmap(jacobian(f))(batch), jLoop, 1e-14, "vmap(jacobian)");
  close(vmap(jacrev(f), { inAxes: 1, outAxes: 2 })(np.transpose(batch)), np.transpose(jLoop, [1, 2, 0]), 1e-14, "axes 1 -> 2");
  const s = (x: any) => np.sum(np.power(x, 3));
  close(vmap(hessian(s))(batch), rows.map((r) => r.map((a, i) => r.map((_, j) => (i === j ? 6 * a : 0)))), 1e-14, "vmap(hessian)");
  // Jacobians of vmapped functions: block-diagonal over the batch.
  const g = vmap((r: any) => np.sum(np.sin(r)));
  const jg = jacfwd(g)(batch);
  assert.equal(jg.shape, [4, 4, 3]);
  const want = rows.map((_, b) => rows.map((r, c) => r.map((v) => (b === c ? Math.cos(v) : 0))));
  close(jg, want, 1e-15, "jacfwd(vmap)");
  close(jacrev(g)(batch), want, 1e-15, "jacrev(vmap)");
  // hessian of a sum of vmapped cubes: H[b,i,c,j] = 6 x_bi δ_bc δ_ij
  const h = hessian((m: any) => np.sum(vmap(s)(m)))(batch);
  assert.equal(h.shape, [4, 3, 4, 3]);
  close(h, rows.map((r, b) => r.map((v, i) => rows.map((_, c) => r.map((_, j) => (b === c && i === j ? 6 * v : 0))))), 1e-14, "hessian(vmap)");
  assert.is(traceDepth(), 0);
});

test("vmap and grad nested through closures keep their batch and perturbation apart", () => {
  // Inner grad closes over the vmapped value: d/dy (x y) = x per example.
  assert.equal(vmap((x: any) => grad((y: any) => np.multiply(x, y))(2))(np.array([1, 2, 3])).tolist(), [1, 2, 3]);
  // Inner vmap closes over the differentiated value: d/dx sum_i x y_i = sum y.
  assert.is(grad((x: any) => vmap((y: any) => np.multiply(x, y))(np.array([1, 2, 3])).sum())(2).item(), 6);
  // jacfwd inside vmap closing over the batched value: J = diag(2 x y).
  assert.equal(vmap((x: any) => jacfwd((y: any) => np.multiply(np.multiply(x, y), y))(np.array([1, 2])))(np.array([1, 3])).tolist(), [
    [[2, 0], [0, 4]],
    [[6, 0], [0, 12]],
  ]);
  // hasAux and several argnums under vmap.
  const [[v, aux], g] = vmap(valueAndGrad((x: any) => [np.square(x), x.mul(3)], { hasAux: true }))(np.array([1, 2]));
  assert.equal(L([v, aux, g]), [[1, 4], [3, 6], [2, 4]]);
  const [ga, gb] = vmap(grad((a: any, b: any) => np.multiply(a, b), { argnums: [0, 1] }))(np.array([1, 2]), np.array([3, 4]));
  assert.equal(L([ga, gb]), [[3, 4], [1, 2]]);
  // dtypes survive: float32 in, float32 out, JS numbers weakly typed.
  const y32 = vmap((x: any) => x.mul(2).add(1))(np.array([1, 2], "float32"));
  assert.is(y32.dtype, "float32");
  assert.equal(y32.tolist(), [3, 5]);
});

// ---------- batched Jacobians equal the looped (one pass per column / row) versions ----------

/** Arrays shaped like `ts`, all zero but for a 1 at flat index `k` of `ts[which]`: one basis direction. */
function oneHot(ts: Tensor[], which: number, k: number): Tensor[] {
  return ts.map((t, n) => {
    const d = new Float64Array(t.size);
    if (n === which) d[k] = 1;
    return np.reshape(np.array(d), t.shape);
  });
}

/** The Jacobian built from one jvp per input element (columns): out.shape ++ in.shape per leaf pair. */
function loopedJacfwd(f: (...a: any[]) => any, args: unknown[], argnums: number[]): unknown {
  const inTrees = argnums.map((n) => args[n]);
  const [inLeaves, inDef] = tree.flatten(inTrees);
  const ins = inLeaves.map((l) => np.array(l as never) as Tensor);
  const outTree = f(...args);
  const outs = (tree.leaves(outTree) as unknown[]).map((o) => np.array(o as never) as Tensor);
  const blocks = outs.map((o) => ins.map((x) => new Float64Array(o.size * x.size)));
  ins.forEach((x, j) => {
    for (let k = 0; k < x.size; k++) {
      const tangents = oneHot(ins, j, k);
      const tTrees = tree.unflatten(inDef, tangents) as unknown[];
      const allT = args.map((a, n) => (argnums.includes(n) ? tTrees[argnums.indexOf(n)] : tree.map((l: any) => np.zerosLike(l), a)));
      const wrapped = (...ps: unknown[]) => f(...ps);
      const [, tOut] = jvp(wrapped, args, allT);
      const tl = tree.leaves(tOut) as Tensor[];
      tl.forEach((t, i) => {
        const v = t.toTypedArray();
        for (let o = 0; o < v.length; o++) blocks[i][j][o * x.size + k] = v[o];
      });
    }
  });
  return assembleBlocks(blocks, outs, ins, outTree, inDef, argnums.length > 1);
}

/** The Jacobian built from one vjp per output element (rows). */
function loopedJacrev(f: (...a: any[]) => any, args: unknown[], argnums: number[]): unknown {
  const [inLeaves, inDef] = tree.flatten(argnums.map((n) => args[n]));
  const ins = inLeaves.map((l) => np.array(l as never) as Tensor);
  const [outTree, back] = vjp(f, args);
  const [outLeaves, outDef] = tree.flatten(outTree);
  const outs = outLeaves as Tensor[];
  const blocks = outs.map((o) => ins.map((x) => new Float64Array(o.size * x.size)));
  outs.forEach((o, i) => {
    for (let r = 0; r < o.size; r++) {
      const cts = oneHot(outs, i, r);
      const res = back(tree.unflatten(outDef, cts)) as unknown[];
      const picked = tree.leaves(argnums.map((n) => res[n])) as Tensor[];
      picked.forEach((c, j) => blocks[i][j].set(c.toTypedArray(), r * ins[j].size));
    }
  });
  return assembleBlocks(blocks, outs, ins, outTree, inDef, argnums.length > 1);
}

function assembleBlocks(blocks: Float64Array[][], outs: Tensor[], ins: Tensor[], outTree: unknown, inDef: ReturnType<typeof tree.structure>, many: boolean): unknown {
  const outDef = tree.structure(outTree);
  const perOut = blocks.map((row, i) => {
    const leaves = row.map((b, j) => np.reshape(np.array(b), [...outs[i].shape, ...ins[j].shape]));
    const t = tree.unflatten(inDef, leaves) as unknown[];
    return many ? t : t[0];
  });
  return tree.unflatten(outDef, perOut);
}

test("batched jacfwd / jacrev / jacobian / hessian of pytrees of any shapes equal the looped versions", () => {
  // Inputs: a scalar, a vector, a matrix and a 3-D block inside nested lists/objects.
  const p = { s: np.array(0.7), v: rand([3], 11), m: rand([2, 3], 12), t: [rand([2, 1, 2], 13)] };
  const f = (q: any) => {
    const mv = np.matmul(q.m, q.v); // [2]
    const u = np.sum(np.multiply(q.t[0], q.s)); // []
    return {
      a: np.multiply(np.tanh(mv), u), // [2]
      b: [np.exp(np.multiply(q.m, q.s)), np.sum(np.sin(q.v))], // [2,3], []
      c: np.reshape(np.multiply(q.t[0], np.sum(q.v)), [4]), // [4]
    };
  };
  const fwd = loopedJacfwd(f, [p], [0]);
  const rev = loopedJacrev(f, [p], [0]);
  close(fwd, rev, 1e-13, "looped fwd vs looped rev");
  const jf = jacfwd(f)(p);
  assert.equal(jf.b[0].m.shape, [2, 3, 2, 3]);
  assert.equal(jf.a.t[0].shape, [2, 2, 1, 2]);
  assert.equal(jf.b[1].s.shape, []);
  close(jf, fwd, 1e-13, "jacfwd");
  close(jacrev(f)(p), rev, 1e-13, "jacrev");
  for (const mode of ["auto", "fwd", "rev"] as const) close(jacobian(f, { mode })(p), fwd, 1e-13, `jacobian ${mode}`);

  // Several arguments, argnums arrays (including a negative one), an unbatched extra argument.
  const g = (a: any, b: any, c: any) => [np.multiply(np.sum(np.square(np.outer(a.x, b))), c), np.outer(a.x, np.square(b))];
  const args: [unknown, unknown, unknown] = [{ x: rand([3], 14) }, rand([2], 15), np.array(1.5)];
  const gf = loopedJacfwd(g, args, [0, 1]);
  close(jacfwd(g, { argnums: [0, -2] })(...args), gf, 1e-13, "jacfwd argnums");
  close(jacrev(g, { argnums: [0, 1] })(...args), loopedJacrev(g, args, [0, 1]), 1e-13, "jacrev argnums");
  close(jacobian(g, { argnums: [0, 1] })(...args), gf, 1e-13, "jacobian argnums");

  // The Hessian of a scalar function of a pytree equals the looped jacfwd of the looped jacrev rows.
  const s = (q: any) => np.add(np.sum(np.multiply(np.sin(q.v), np.matmul(q.m, q.v).sum())), np.multiply(q.s, q.s));
  const q = { s: np.array(0.3), v: rand([3], 16), m: rand([2, 3], 17) };
  const gradS = (qq: any) => grad(s)(qq);
  close(hessian(s)(q), loopedJacfwd(gradS, [q], [0]), 1e-13, "hessian");
});

test("the batched Jacobian calls the function once, the loop once per column", () => {
  let calls = 0;
  const f = (x: any) => {
    calls++;
    return np.sin(x);
  };
  const x = rand([6], 18);
  const j = jacfwd(f)(x);
  assert.is(calls, 1, "jacfwd traces f once");
  calls = 0;
  close(jacrev(f)(x), j, 0);
  assert.is(calls, 1, "jacrev traces f once");
  calls = 0;
  close(loopedJacfwd(f, [x], [0]), j, 0);
  assert.is(calls, 7, "the looped version runs f once per column (+1 for the output structure)");
});

test("vmap refuses an axisSize that is not a non-negative integer with a JacobiError naming it (not a RangeError)", () => {
  const f = (x: any) => np.add(x, 1);
  for (const bad of [-1, 2.5, Number.NaN, "3" as unknown as number]) {
    throwsWith(() => vmap(f, { inAxes: null, axisSize: bad })(np.array(2.0)), JacobiError, ["vmap: axisSize", "non-negative integer"]);
  }
  assert.equal(vmap(f, { inAxes: null, axisSize: 0 })(np.array(2.0)).shape, [0]);
  assert.equal(vmap(f, { inAxes: null, axisSize: 2 })(np.array(2.0)).tolist(), [3, 3]);
});

test.run();
