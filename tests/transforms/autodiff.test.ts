import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import {
  DTypeError,
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
  linearize,
  makeJaxpr,
  nn,
  np,
  tree,
  valueAndGrad,
  vjp,
} from "../../src/index.js";
import { chooseMode } from "../../src/transforms/jacobian.js";
import { traceDepth } from "../../src/core/trace.js";
import { L, type Nested, caught, close, throwsWith } from "../helpers.js";

// ---------- grad / valueAndGrad ----------

// f(x, y, z) = x y^2 + sin z: df/dx = y^2, df/dy = 2xy, df/dz = cos z.
const f3 = (x: any, y: any, z: any) => np.add(np.multiply(x, np.multiply(y, y)), np.sin(z));

test("grad: argnums as a number, negative, and arrays (in the order given)", () => {
  assert.is(grad(f3)(2, 3, 0.5).item(), 9);
  assert.is(grad(f3, { argnums: 1 })(2, 3, 0.5).item(), 12);
  assert.is(grad(f3, { argnums: -1 })(2, 3, 0.5).item(), Math.cos(0.5));
  assert.is(grad(f3, { argnums: -3 })(2, 3, 0.5).item(), 9);
  assert.equal(L(grad(f3, { argnums: [0, 1, 2] })(2, 3, 0.5)), [9, 12, Math.cos(0.5)]);
  assert.equal(L(grad(f3, { argnums: [2, 0] })(2, 3, 0.5)), [Math.cos(0.5), 9]);
  assert.equal(L(grad(f3, { argnums: [-2] })(2, 3, 0.5)), [12], "a one-element array still gives an array");
});

test("grad: bad argnums are errors naming the problem", () => {
  throwsWith(() => grad(f3, { argnums: 3 })(2, 3, 0.5), JacobiError, ["argnums 3", "3 positional arguments"]);
  throwsWith(() => grad(f3, { argnums: -4 })(2, 3, 0.5), JacobiError, ["argnums -4"]);
  throwsWith(() => grad(f3, { argnums: [0, -3] })(2, 3, 0.5), JacobiError, ["duplicates"]);
  throwsWith(() => grad(f3, { argnums: 0.5 })(2, 3, 0.5), JacobiError, ["integers"]);
});

test("valueAndGrad: [value, grad], with the argnums structure", () => {
  const [v, g] = valueAndGrad(f3)(2, 3, 0.5);
  assert.is(v.item(), 18 + Math.sin(0.5));
  assert.is(g.item(), 9);
  const [v2, gs] = valueAndGrad(f3, { argnums: [1, -1] })(2, 3, 0.5);
  assert.is(v2.item(), 18 + Math.sin(0.5));
  assert.equal(L(gs), [12, Math.cos(0.5)]);
});

test("hasAux: grad gives [grad, aux], valueAndGrad gives [[value, aux], grad]; aux is not differentiated", () => {
  const f = (x: any) => [np.multiply(x, x).sum(), { doubled: x.mul(2), n: 7 }];
  const x = np.array([1, 2, 3]);
  const [g, aux] = grad(f, { hasAux: true })(x);
  assert.equal(g.tolist(), [2, 4, 6]);
  assert.equal(L(aux), { doubled: [2, 4, 6], n: 7 });
  const [[value, aux2], g2] = valueAndGrad(f, { hasAux: true })(x);
  assert.is(value.item(), 14);
  assert.equal(L(aux2), { doubled: [2, 4, 6], n: 7 });
  assert.equal(g2.tolist(), [2, 4, 6]);
  const [gs, aux3] = grad((a: any, b: any) => [a.mul(b), a.sub(b)], { hasAux: true, argnums: [0, 1] })(3, 5);
  assert.equal(L(gs), [5, 3]);
  assert.is(aux3.item(), -2);
  throwsWith(() => grad((x: any) => x.mul(x), { hasAux: true })(2), JacobiError, ["hasAux", "[output, aux]"]);
});

test("grad: pytree arguments give gradients of the same structure", () => {
  // loss({w, b}, x) = sum((w x + b)^2): dL/dw = sum(2 r x), dL/db = sum(2 r) with r = w x + b.
  const loss = (p: any, x: any) => np.sum(np.square(np.add(np.multiply(p.w, x), p.b)));
  const x = np.array([1, 2, 3]);
  const g = grad(loss)({ w: 2, b: np.array([1, 0, -1]) }, x);
  // r = [3, 4, 5]
  assert.equal(Object.keys(g).sort(), ["b", "w"]);
  assert.is(g.w.item(), 2 * (3 * 1 + 4 * 2 + 5 * 3));
  assert.equal(g.b.tolist(), [6, 8, 10]);
  const gl = grad((ps: any) => np.multiply(ps[0], np.exp(ps[1][0])))([3, [0]]);
  assert.equal(L(gl), [1, [3]]);
  const [gp, gx] = grad(loss, { argnums: [0, 1] })({ w: 2, b: np.array([1, 0, -1]) }, x);
  assert.equal(L(gp), { b: [6, 8, 10], w: 52 });
  assert.equal(gx.tolist(), [12, 16, 20]);
});

test("grad keeps the input dtype (float32 in, float32 out) and handles ndarray-like leaves", () => {
  const g = grad((x: any) => np.sum(np.multiply(x, x)))(np.array([1, 2], "float32"));
  assert.is(g.dtype, "float32");
  assert.equal(g.tolist(), [2, 4]);
  const g64 = grad((x: any) => np.sum(np.multiply(x, x)))(new Float64Array([1, 2, 3]));
  assert.equal(g64.tolist(), [2, 4, 6]);
  assert.equal(g64.shape, [3]);
});

// ---------- errors of grad ----------

test("grad of a non-scalar output throws ShapeError naming the shape and suggesting jacrev / .sum()", () => {
  throwsWith(() => grad((x: any) => x.mul(2))(np.array([1, 2])), ShapeError, ["[2]", "jacrev", ".sum()"]);
  throwsWith(() => grad((x: any) => np.reshape(x, [2, 3]))(np.ones([6])), ShapeError, ["[2,3]", "jacrev", ".sum()"]);
  throwsWith(() => valueAndGrad((x: any) => np.ones([1]).mul(x))(2), ShapeError, ["[1]", "jacrev"]);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsWith(() => grad((x: any) => [x, x])(2), ShapeError, ["jacrev"]);
  assert.is(traceDepth(), 0, "no trace level left behind");
});

test("grad with respect to an integer input throws DTypeError; integer non-differentiated args are fine", () => {
  throwsWith(() => grad((x: any) => x.sum())(np.array([1, 2], "int32")), DTypeError, ["int32", "argument 0"]);
  throwsWith(() => grad((x: any, n: any) => x.mul(n).sum(), { argnums: [0, 1] })(np.array([1.5]), np.array([2], "int32")), DTypeError, ["int32", "argument 1"]);
  throwsWith(() => jacrev((x: any) => x)(np.array([1, 2], "int32")), DTypeError, ["int32"]);
  throwsWith(() => jacfwd((x: any) => x)(np.array([true, false], "bool")), DTypeError, ["bool"]);
  const g = grad((x: any, n: any) => np.multiply(x, n).sum())(np.array([1.5, 2]), np.array([3, 4], "int32"));
  assert.equal(g.tolist(), [3, 4]);
  assert.is(traceDepth(), 0);
});

// ---------- jvp / vjp / linearize on pytrees ----------

// f({w, b}) = { y: w * b, z: [w + b, sin w] } with vector w, b.
const fTree = (p: any) => ({ y: np.multiply(p.w, p.b), z: [np.add(p.w, p.b), np.sin(p.w)] });
const wv = [0.5, -1, 2];
const bv = [3, 4, -2];
const pTree = () => ({ w: np.array(wv), b: np.array(bv) });

test("jvp on pytrees in and out", () => {
  const tw = [1, 0, 2], tb = [0, 1, -1];
  const [out, tOut] = jvp(fTree, [pTree()], [{ w: np.array(tw), b: np.array(tb) }]);
  assert.equal(L(out), { y: wv.map((w, i) => w * bv[i]), z: [wv.map((w, i) => w + bv[i]), wv.map(Math.sin)] });
  assert.equal(L(tOut), {
    y: wv.map((w, i) => tw[i] * bv[i] + w * tb[i]),
    z: [tw.map((t, i) => t + tb[i]), wv.map((w, i) => Math.cos(w) * tw[i])],
  });
  // A plain list of primals: one per argument, each argument any pytree.
  const [o2, t2] = jvp((a: any, bs: any) => np.multiply(a, np.add(bs[0], bs[1])), [2, [3, 4]], [1, [0, 1]]);
  assert.is(o2.item(), 14);
  assert.is(t2.item(), 7 + 2);
});

test("jvp: mismatched tangent structure, shape or dtype is an error", () => {
  throwsWith(() => jvp(fTree, [pTree()], [{ w: np.ones([3]) }]), JacobiError, ["structure"]);
  throwsWith(() => jvp(fTree, [pTree()], [{ w: np.ones([3]), b: np.ones([2]) }]), ShapeError, ["[2]", "[3]"]);
  throwsWith(() => jvp((x: any) => x, [np.ones([2])], [np.ones([2], "float32")]), DTypeError, ["float32", "float64"]);
  throwsWith(() => jvp((x: any) => x, np.ones([2]) as any, [np.ones([2])]), JacobiError, ["array"]);
});

test("vjp on pytrees in and out: one cotangent per primal, same structures", () => {
  const [out, back] = vjp(fTree, [pTree()]);
  assert.equal(L(out.y), wv.map((w, i) => w * bv[i]));
  const cy = [1, 2, 3], cz0 = [1, -1, 0.5], cz1 = [2, 0, 1];
  const cts = back({ y: np.array(cy), z: [np.array(cz0), np.array(cz1)] });
  assert.ok(Array.isArray(cts) && cts.length === 1);
  assert.equal(L(cts[0]), {
    b: bv.map((_, i) => cy[i] * wv[i] + cz0[i]),
    w: wv.map((w, i) => cy[i] * bv[i] + cz0[i] + cz1[i] * Math.cos(w)),
  });
  // @ts-expect-error deliberate misuse, checked at run time
  throwsWith(() => back({ y: np.ones([3]) }), JacobiError, ["structure"]);
  throwsWith(() => back({ y: np.ones([3]), z: [np.ones([3]), np.ones([4])] }), ShapeError, ["[4]", "[3]"]);
  // Several primals, mixed leaves.
  const [o, back2] = vjp((a: any, bs: any) => [np.multiply(a, bs[0]), np.sum(bs[1])], [2, [3, np.array([1, 2])]]);
  assert.equal(L(o), [6, 3]);
  assert.equal(L(back2([1, 10])), [3, [2, [10, 10]]]);
});

test("linearize: the returned jvpFn matches jvp, is linear, and reuses the primal work", () => {
  const [out, jvpFn] = linearize(fTree, [pTree()]);
  assert.equal(L(out.z[1]), wv.map(Math.sin));
  const t1 = { w: np.array([1, 0, 2]), b: np.array([0, 1, -1]) };
  const t2 = { w: np.array([-3, 1, 0]), b: np.array([2, 2, 2]) };
  const [, want1] = jvp(fTree, [pTree()], [t1]);
  assert.equal(L(jvpFn(t1)), L(want1));
  // linearity: J(2 t1 + t2) = 2 J t1 + J t2
  const comb = { w: np.add(np.multiply(t1.w, 2), t2.w), b: np.add(np.multiply(t1.b, 2), t2.b) };
  const lhs = L(jvpFn(comb)) as any;
  const a = L(jvpFn(t1)) as any, b = L(jvpFn(t2)) as any;
  close(lhs.y, a.y.map((v: number, i: number) => 2 * v + b.y[i]));
  close(lhs.z[1], a.z[1].map((v: number, i: number) => 2 * v + b.z[1][i]));
  // The user function runs once, at linearize time, not on each jvpFn call.
  let calls = 0;
  const [, fn] = linearize((x: any) => {
    calls++;
    return np.sin(x);
  }, [1]);
  assert.is(fn(1).item(), Math.cos(1));
  assert.is(fn(2).item(), 2 * Math.cos(1));
  assert.is(calls, 1);
  throwsWith(() => jvpFn({ w: np.ones([3]), b: np.ones([5]) }), ShapeError, ["[5]"]);
});

test("unused inputs get zero cotangents of their own shape and dtype", () => {
  const f = (a: any, _u: any, _v: any) => np.multiply(a, 2);
  const [, back] = vjp(f, [np.ones([2]), np.ones([3, 2], "float32"), { k: np.ones([1, 4]) }]);
  const cts = back(np.array([1, 1]));
  assert.equal(L(cts), [[2, 2], [[0, 0], [0, 0], [0, 0]], { k: [[0, 0, 0, 0]] }]);
  assert.equal(cts[1].shape, [3, 2]);
  assert.is(cts[1].dtype, "float32");
  assert.equal(cts[2].k.shape, [1, 4]);
  assert.is(cts[2].k.dtype, "float64");
  // Integer primals that do not matter: zero cotangents of the integer dtype.
  const [, backI] = vjp((a: any, n: any) => a.mul(3), [2, np.array([1, 2], "int32")]);
  const [ca, cn] = backI(1);
  assert.is(ca.item(), 3);
  assert.is(cn.dtype, "int32");
  assert.equal(cn.tolist(), [0, 0]);
  const [g0, g1] = grad((a: any, _b: any) => np.sum(a), { argnums: [0, 1] })(np.ones([2]), np.ones([2, 2], "float32"));
  assert.equal(g0.tolist(), [1, 1]);
  assert.equal(g1.tolist(), [[0, 0], [0, 0]]);
  assert.is(g1.dtype, "float32");
  // An output that does not depend on the input: jvp gives a zero tangent of the output's shape.
  const [, tz] = jvp((_x: any) => np.ones([2, 3]), [1], [1]);
  assert.equal(tz.tolist(), [[0, 0, 0], [0, 0, 0]]);
  for (const jac of [jacfwd, jacrev]) {
    const j = jac((_x: any) => np.ones([2]))(np.array([1, 2, 3]));
    assert.equal(j.tolist(), [[0, 0, 0], [0, 0, 0]]);
  }
  // A constant output (even a JS number) has gradient zero.
  assert.is(grad((_x: any) => 3)(2).item(), 0);
});

// ---------- Jacobians: layout out.shape ++ in.shape ----------

// R^3 -> R^5 with integer Jacobians: [x0 x1, x1 x2, x0^2, x2, x0 + x1 + x2].
const f35 = (x: any) => np.stack([np.multiply(x.slice(0), x.slice(1)), np.multiply(x.slice(1), x.slice(2)), np.square(x.slice(0)), x.slice(2), np.sum(x)]);
const x3 = [2, 3, 5];
const J35 = [
  [3, 2, 0],
  [0, 5, 3],
  [4, 0, 0],
  [0, 0, 1],
  [1, 1, 1],
];
// R^5 -> R^3: [sum x^2, x0 x4, x1 - 3 x3].
const f53 = (x: any) => np.stack([np.sum(np.square(x)), np.multiply(x.slice(0), x.slice(4)), np.subtract(x.slice(1), np.multiply(x.slice(3), 3))]);
const x5 = [1, 2, 3, 4, 5];
const J53 = [
  [2, 4, 6, 8, 10],
  [5, 0, 0, 0, 1],
  [0, 1, 0, -3, 0],
];
const modes = [
  ["jacfwd", jacfwd],
  ["jacrev", jacrev],
  ["jacobian auto", (f: any, o: any = {}) => jacobian(f, o)],
  ["jacobian fwd", (f: any, o: any = {}) => jacobian(f, { ...o, mode: "fwd" })],
  ["jacobian rev", (f: any, o: any = {}) => jacobian(f, { ...o, mode: "rev" })],
] as const;

test("Jacobians of non-square maps R^3 -> R^5 and R^5 -> R^3 are exact in every mode", () => {
  for (const [name, jac] of modes) {
    const a = jac(f35)(np.array(x3));
    assert.equal(a.shape, [5, 3], name);
    assert.equal(a.tolist(), J35, name);
    const b = jac(f53)(np.array(x5));
    assert.equal(b.shape, [3, 5], name);
    assert.equal(b.tolist(), J53, name);
  }
});

test("Jacobian layouts for scalar, vector and matrix inputs and outputs", () => {
  const X = [
    [1, 2, 3],
    [4, 5, 6],
  ];
  const B = [
    [1, 0, 2, -1],
    [0, 3, 1, 1],
    [2, 1, 0, 4],
  ];
  const M = [
    [1, -2, 3],
    [0, 0.5, 7],
  ];
  for (const [name, jac] of modes) {
    // scalar -> scalar: shape []
    const s = jac((x: any) => np.sin(x))(0.5);
    assert.equal(s.shape, [], name);
    assert.is(s.item(), Math.cos(0.5), name);
    // scalar -> matrix: out.shape
    const sm = jac((x: any) => np.multiply(np.array(M), x))(3);
    assert.equal(sm.shape, [2, 3], name);
    assert.equal(sm.tolist(), M, name);
    // vector -> scalar: in.shape
    const vs = jac((x: any) => np.sum(np.multiply(x, x)))(np.array([1, -2, 3]));
    assert.equal(vs.tolist(), [2, -4, 6], name);
    // matrix -> scalar: in.shape
    const ms = jac((x: any) => np.sum(np.square(x)))(np.array(X));
    assert.equal(ms.tolist(), X.map((r) => r.map((v) => 2 * v)), name);
    // matrix -> matrix, elementwise: J[i,j,k,l] = 2 X_ij δ_ik δ_jl
    const sq = jac((x: any) => np.square(x))(np.array(X));
    assert.equal(sq.shape, [2, 3, 2, 3], name);
    assert.equal(sq.tolist(), X.map((r, i) => r.map((v, j) => X.map((_, k) => r.map((_, l) => (i === k && j === l ? 2 * v : 0))))), name);
    // transpose [2,3] -> [3,2]: J[i,j,k,l] = δ_il δ_jk
    const tr = jac((x: any) => np.transpose(x))(np.array(X));
    assert.equal(tr.shape, [3, 2, 2, 3], name);
    assert.equal(tr.tolist(), [0, 1, 2].map((i) => [0, 1].map((j) => [0, 1].map((k) => [0, 1, 2].map((l) => (i === l && j === k ? 1 : 0))))), name);
    // X @ B, [2,3] -> [2,4]: J[i,j,k,l] = δ_ik B_lj
    const mm = jac((x: any) => np.matmul(x, np.array(B)))(np.array(X));
    assert.equal(mm.shape, [2, 4, 2, 3], name);
    assert.equal(mm.tolist(), [0, 1].map((i) => [0, 1, 2, 3].map((j) => [0, 1].map((k) => [0, 1, 2].map((l) => (i === k ? B[l][j] : 0))))), name);
    // vector [3] -> matrix [3,3] (outer product with itself): J[i,j,k] = δ_ik x_j + x_i δ_jk
    const v = [1, 2, 3];
    const op = jac((x: any) => np.outer(x, x))(np.array(v));
    assert.equal(op.shape, [3, 3, 3], name);
    assert.equal(op.tolist(), v.map((xi, i) => v.map((xj, j) => v.map((_, k) => (i === k ? xj : 0) + (j === k ? xi : 0)))), name);
  }
});

test("Jacobians of pytrees: the output structure with the input structure at each leaf", () => {
  // f({w, b}) = { lin: w @ x + b, s: sum(w) }, w [2,3], b [2], x fixed.
  const x = [1, 2, 3];
  const f = (p: any) => ({ lin: np.add(np.matmul(p.w, np.array(x)), p.b), s: np.sum(p.w) });
  const p = { w: np.array([[1, 0, 0], [0, 1, 0]]), b: np.array([5, 6]) };
  const wantLinW = [0, 1].map((i) => [0, 1].map((k) => x.map((xl) => (i === k ? xl : 0))));
  const want = {
    lin: { b: [[1, 0], [0, 1]], w: wantLinW },
    s: { b: [0, 0], w: [[1, 1, 1], [1, 1, 1]] },
  };
  for (const [name, jac] of modes) {
    const j = jac(f)(p);
    assert.equal(L(j), want, name);
    assert.equal(j.lin.w.shape, [2, 2, 3], name);
    assert.equal(j.s.b.shape, [2], name);
  }
  // List outputs, argnums array: [J wrt a, J wrt b] per output.
  const g = (a: any, b: any) => [np.multiply(a, b), np.sum(np.multiply(b, b))];
  for (const [name, jac] of modes) {
    const j = jac(g, { argnums: [0, 1] })(2, np.array([1, 3]));
    assert.equal(L(j), [[[1, 3], [[2, 0], [0, 2]]], [0, [2, 6]]], name);
  }
});

test("jacobian mode auto picks forward when inputs are fewer than outputs; bad modes are errors", () => {
  assert.is(chooseMode(3, 5), "fwd");
  assert.is(chooseMode(5, 3), "rev");
  assert.is(chooseMode(4, 4), "rev");
  throwsWith(() => jacobian(f35, { mode: "sideways" as any }), JacobiError, ["mode", "sideways"]);
});

// ---------- Hessians ----------

test("hessian: in.shape ++ in.shape for scalar f, out.shape ++ in.shape ++ in.shape otherwise", () => {
  // f(x) = x0^2 x1 + x1^3: H = [[2 x1, 2 x0], [2 x0, 6 x1]]
  const f = (x: any) => np.add(np.multiply(np.square(x.slice(0)), x.slice(1)), np.power(x.slice(1), 3));
  const h = hessian(f)(np.array([2, 3]));
  assert.equal(h.shape, [2, 2]);
  assert.equal(h.tolist(), [[6, 4], [4, 18]]);
  assert.equal(hessian((x: any) => np.power(x, 4))(2).tolist(), 48);
  const h32 = hessian((x: any) => np.sum(np.power(x, 3)))(np.array([1, 2], "float32"));
  assert.is(h32.dtype, "float32");
  assert.equal(h32.tolist(), [[6, 0], [0, 12]]);
  // Non-scalar f: [x0 x1, x0^2] -> shape [2, 2, 2]
  const g = (x: any) => np.stack([np.multiply(x.slice(0), x.slice(1)), np.square(x.slice(0))]);
  const hg = hessian(g)(np.array([2, 3]));
  assert.equal(hg.shape, [2, 2, 2]);
  assert.equal(hg.tolist(), [[[0, 1], [1, 0]], [[2, 0], [0, 0]]]);
  // Matrix input: f(X) = sum(c * X^3) -> H[i,j,k,l] = 6 c_ij X_ij δ_ik δ_jl
  const X = [[1, 2], [3, 4]];
  const c = [[1, -1], [0.5, 2]];
  const hm = hessian((x: any) => np.sum(np.multiply(np.array(c), np.power(x, 3))))(np.array(X));
  assert.equal(hm.shape, [2, 2, 2, 2]);
  assert.equal(hm.tolist(), X.map((r, i) => r.map((v, j) => X.map((_, k) => r.map((_, l) => (i === k && j === l ? 6 * c[i][j] * v : 0))))));
  // Pytree input: f({a, b}) = a b^2 -> {a: {a: 0, b: 2b}, b: {a: 2b, b: 2a}}
  const hp = hessian((p: any) => np.multiply(p.a, np.square(p.b)))({ a: 3, b: 5 });
  assert.equal(L(hp), { a: { a: 0, b: 10 }, b: { a: 10, b: 6 } });
  // argnums array: [[H00, H01], [H10, H11]]
  const ha = hessian((a: any, b: any) => np.multiply(np.square(a), b), { argnums: [0, 1] })(3, 5);
  assert.equal(L(ha), [[10, 6], [6, 0]]);
});

// ---------- nesting ----------

test("nested derivatives never confuse perturbations: grad(x => x * grad(y => x + y)(1))(1) is 1", () => {
  const h = (x: any) => np.multiply(x, grad((y: any) => np.add(x, y))(1));
  assert.is(grad(h)(1).item(), 1);
  // d/dx [x * d/dy (x y)] = d/dx x^2 = 2x
  assert.is(grad((x: any) => np.multiply(x, grad((y: any) => np.multiply(x, y))(3)))(5).item(), 10);
  // Same with forward mode inside reverse mode and the other way round.
  const inner = (x: any) => jvp((y: any) => np.multiply(x, y), [3], [1])[1];
  assert.is(grad((x: any) => np.multiply(x, inner(x)))(5).item(), 10);
  const [, t] = jvp((x: any) => np.multiply(x, grad((y: any) => np.multiply(x, y))(3)), [5], [1]);
  assert.is(t.item(), 10);
  assert.is(traceDepth(), 0);
});

test("the 6th derivative of 1/x at 4 is exactly 720 / 4^7; high orders of sin and exp", () => {
  let d: any = (x: any) => np.reciprocal(x);
  for (let i = 0; i < 6; i++) d = grad(d);
  assert.is(d(4).item(), 720 / 4 ** 7);
  let d2: any = (x: any) => np.divide(1, x);
  for (let i = 0; i < 6; i++) d2 = grad(d2);
  assert.is(d2(4).item(), 720 / 4 ** 7);
  let s: any = np.sin;
  for (let i = 0; i < 4; i++) s = grad(s);
  assert.is(s(0.7).item(), Math.sin(0.7));
  let e: any = (x: any) => np.exp(np.multiply(x, 2));
  for (let i = 0; i < 5; i++) e = grad(e);
  assert.is(e(0.3).item(), 32 * Math.exp(0.6));
});

test("jacfwd(jacrev f), jacrev(jacfwd f), jacrev(jacrev f), jacfwd(jacfwd f) and hessian f agree with the closed form", () => {
  // f(x) = sin(x0 x1) + x2^2 x0
  const f = (x: any) => np.add(np.sin(np.multiply(x.slice(0), x.slice(1))), np.multiply(np.square(x.slice(2)), x.slice(0)));
  const [a, b, c] = [0.3, -1.2, 2];
  const s = Math.sin(a * b), co = Math.cos(a * b);
  const want = [
    [-b * b * s, co - a * b * s, 2 * c],
    [co - a * b * s, -a * a * s, 0],
    [2 * c, 0, 2 * a],
  ];
  const x = np.array([a, b, c]);
  const results: [string, Tensor][] = [
    ["jacfwd(jacrev)", jacfwd(jacrev(f))(x)],
    ["jacrev(jacfwd)", jacrev(jacfwd(f))(x)],
    ["jacrev(jacrev)", jacrev(jacrev(f))(x)],
    ["jacfwd(jacfwd)", jacfwd(jacfwd(f))(x)],
    ["hessian", hessian(f)(x)],
    ["jacobian(jacobian)", jacobian(jacobian(f))(x)],
  ];
  for (const [name, h] of results) close(h, want, 1e-14, name);
  // A vector-valued function: third-order tensor, all orders agree.
  const g = (x: any) => np.multiply(np.sin(x), np.sum(x));
  const x2 = np.array([0.1, 0.2, 0.7]);
  const ref = L(hessian(g)(x2)) as Nested;
  assert.equal((hessian(g)(x2) as Tensor).shape, [3, 3, 3]);
  close(jacrev(jacrev(g))(x2), ref, 1e-14, "vector jacrev(jacrev)");
  close(jacrev(jacfwd(g))(x2), ref, 1e-14, "vector jacrev(jacfwd)");
  // d2 g_i / dx_j dx_k = -sin x_i S δ_ij δ_ik + cos x_i (δ_ij + δ_ik)
  const xs = [0.1, 0.2, 0.7], S = 1;
  close(ref, xs.map((xi, i) => xs.map((_, j) => xs.map((_, k) => (i === j && i === k ? -Math.sin(xi) * S : 0) + Math.cos(xi) * ((i === j ? 1 : 0) + (i === k ? 1 : 0))))), 1e-14, "closed form");
});

test("grad of grad of a function of two arguments (mixed partials)", () => {
  // f(x, y) = x^3 y^2: d2f/dxdy = 6 x^2 y
  const f = (x: any, y: any) => np.multiply(np.power(x, 3), np.square(y));
  const dxdy = grad((x: any, y: any) => grad(f, { argnums: 1 })(x, y), { argnums: 0 });
  assert.is(dxdy(2, 3).item(), 6 * 4 * 3);
  const dydx = grad((x: any, y: any) => grad(f)(x, y), { argnums: 1 });
  assert.is(dydx(2, 3).item(), 72);
});

// ---------- branching on values ----------

test("branching on concrete values: the derivative follows the branch taken", () => {
  const viaItem = (x: any) => (x.item() > 0 ? x.mul(x) : x.neg());
  const viaCmp = (x: any) => (x.gt(0).item() ? x.mul(x) : x.neg());
  for (const fn of [viaItem, viaCmp]) {
    assert.is(grad(fn)(2).item(), 4);
    assert.is(grad(fn)(-2).item(), -1);
    assert.is(grad(grad(fn))(2).item(), 2);
    assert.is(jvp(fn, [-3], [1])[1].item(), -1);
    assert.is(jacfwd(fn)(3).item(), 6);
    assert.is(jacrev(fn)(-3).item(), -1);
  }
  // Loops whose trip count depends on the value.
  const powLoop = (x: any) => {
    let y: any = x;
    while (y.item() < 100) y = y.mul(x);
    return y;
  };
  // at x = 3: 3 -> 9 -> 27 -> 81 -> 243 = x^5, derivative 5 x^4 = 405
  assert.is(grad(powLoop)(3).item(), 405);
  // Branch inside a nested transformation, where the inner value depends on the outer tracer.
  assert.is(grad((x: any) => grad(viaCmp)(x))(2).item(), 2);
});

// ---------- semantics at the edges, as JAX ----------

test("max/min split the cotangent evenly at ties", () => {
  assert.equal(grad((x: any) => np.max(x))(np.array([1, 3, 3])).tolist(), [0, 0.5, 0.5]);
  assert.equal(grad((x: any) => np.min(x))(np.array([2, 2, 2, 5])).tolist(), [1 / 3, 1 / 3, 1 / 3, 0]);
  assert.equal(grad((x: any) => x.max())(np.array([1, 3, 2])).tolist(), [0, 1, 0]);
  assert.equal(grad((x: any) => np.sum(np.max(x, 1)))(np.array([[1, 1], [0, 2]])).tolist(), [[0.5, 0.5], [0, 1]]);
  assert.equal(jvp((x: any) => np.max(x), [np.array([1, 3, 3])], [np.array([5, 2, 4])])[1].item(), 3);
  assert.equal(L(grad((x: any, y: any) => np.maximum(x, y), { argnums: [0, 1] })(2, 2)), [0.5, 0.5]);
  assert.equal(L(grad((x: any, y: any) => np.maximum(x, y), { argnums: [0, 1] })(3, 2)), [1, 0]);
  assert.equal(L(grad((x: any, y: any) => np.minimum(x, y), { argnums: [0, 1] })(2, 2)), [0.5, 0.5]);
  assert.equal(L(grad((x: any, y: any) => np.minimum(x, y), { argnums: [0, 1] })(3, 2)), [0, 1]);
});

test("nn.relu has gradient 0 at 0, 1 above, 0 below", () => {
  assert.equal(grad((x: any) => np.sum(nn.relu(x)))(np.array([-1, 0, 2])).tolist(), [0, 0, 1]);
  assert.is(grad(nn.relu)(0).item(), 0);
});

test("integer powers at 0 have exact derivatives", () => {
  assert.is(grad((x: any) => np.power(x, 0))(0).item(), 0);
  assert.is(grad((x: any) => np.power(x, 1))(0).item(), 1);
  assert.is(grad((x: any) => np.power(x, 2))(0).item(), 0);
  assert.is(grad(grad((x: any) => np.power(x, 2)))(0).item(), 2);
  assert.is(grad(grad(grad((x: any) => np.power(x, 3))))(0).item(), 6);
  assert.is(grad((x: any) => np.square(x))(0).item(), 0);
  assert.is(grad((x: any) => x.pow(0))(0).item(), 0);
  assert.is(grad((x: any) => np.power(x, -1))(2).item(), -0.25);
  // A Tensor-valued exponent at 0: d/dx x^0 is 0 too.
  assert.is(grad((x: any) => np.power(x, np.array(0)))(0).item(), 0);
});

test("logsumexp and softplus stay finite at 1000, with JAX's values and gradients", () => {
  const v = nn.logsumexp(np.array([1000, 1000]));
  assert.is(v.item(), 1000.6931471805599);
  assert.equal(grad((x: any) => nn.logsumexp(x))(np.array([1000, 1000])).tolist(), [0.5, 0.5]);
  close(grad((x: any) => nn.logsumexp(x))(np.array([0, Math.log(3)])), [0.25, 0.75], 1e-15);
  assert.is(nn.softplus(1000).item(), 1000);
  assert.is(nn.softplus(-1000).item(), 0);
  assert.is(grad(nn.softplus)(1000).item(), 1);
  assert.is(grad(nn.softplus)(-1000).item(), 0);
  assert.is(grad(nn.softplus)(0).item(), 0.5);
  const g = grad((x: any) => np.sum(nn.softplus(x)))(np.array([-1000, 1000]));
  assert.equal(g.tolist(), [0, 1]);
});

test("an exception inside a transformed function propagates unchanged and leaves no trace level", () => {
  class Boom extends Error {}
  const boom = new Boom("boom");
  const bad = (x: any) => {
    if (x.item() > 1) throw boom;
    return x;
  };
  for (const run of [() => grad(grad(bad))(2), () => jacrev(bad)(2), () => jacfwd(bad)(2), () => vjp(bad, [2]), () => hessian(bad)(2)]) {
    assert.is(caught(run), boom);
    assert.is(traceDepth(), 0);
  }
  assert.is(grad(bad)(0.5).item(), 1, "later calls work");
});

// ---------- the gradient of a matmul is matmuls ----------

test("the gradient of a matmul is matmuls (dot_general), never a reduce_sum of a broadcast product", () => {
  const f = (W: any, x: any) => np.sum(np.tanh(np.matmul(W, x)));
  const cj = makeJaxpr(grad(f, { argnums: [0, 1] }))(np.ones([3, 4]), np.ones([4, 2]));
  const text = cj.toString();
  const eqns = cj.jaxpr.eqns;
  const names = eqns.map((e) => e.primitive.name);
  // forward W @ x, then dW = ct @ x^T and dx = W^T @ ct
  assert.is(names.filter((n) => n === "dot_general").length, 3, text);
  assert.ok(text.includes("dot_general"), text);
  // No reduce_sum whose operand is a mul of something broadcast (the naive "unbroadcast" form).
  const producer = new Map<unknown, (typeof eqns)[number]>();
  for (const e of eqns) for (const v of e.outBinders) producer.set(v, e);
  for (const e of eqns) {
    if (e.primitive.name !== "reduce_sum") continue;
    const p = producer.get(e.inputs[0]);
    if (p === undefined || p.primitive.name !== "mul") continue;
    const broadcastIn = p.inputs.some((a) => producer.get(a)?.primitive.name === "broadcast_in_dim");
    assert.not.ok(broadcastIn, `reduce_sum of a broadcast product in:\n${text}`);
  }
  // Values: d/dW sum(tanh(W x)) = (1 - tanh^2) x^T with W x = 4 everywhere.
  const [gW, gx] = grad(f, { argnums: [0, 1] })(np.ones([3, 4]), np.ones([4, 2]));
  const d = 1 - Math.tanh(4) ** 2;
  close(gW, [0, 1, 2].map(() => [0, 1, 2, 3].map(() => 2 * d)));
  close(gx, [0, 1, 2, 3].map(() => [0, 1].map(() => 3 * d)));
  // Batched matmul gradient is dot_general too.
  const cb = makeJaxpr(grad((a: any, b: any) => np.sum(np.matmul(a, b)), { argnums: [0, 1] }))(np.ones([5, 2, 3]), np.ones([5, 3, 4]));
  assert.ok(cb.jaxpr.eqns.filter((e) => e.primitive.name === "dot_general").length >= 2, cb.toString());
});

test("linearize gives integer inputs no tangent, as jvp does (k*k at an int32 k has derivative 0)", () => {
  const k = np.array([2], "int32");
  const sq = (x: any) => np.multiply(x, x);
  const [y, jvpFn] = linearize(sq, [k]);
  assert.equal(y.tolist(), [4]);
  assert.equal(jvpFn(np.array([7], "int32")).tolist(), [0]);
  assert.equal(jvp(sq, [k], [np.array([7], "int32")])[1].tolist(), [0]);
  // A float input next to the int one keeps its tangent.
  const [, lin2] = linearize((x: any, n: any) => np.multiply(x, np.multiply(n, n)), [np.array([3.0]), k]);
  assert.equal(lin2(np.array([1.0]), np.array([5], "int32")).tolist(), [4]);
});

test("tree.unflatten gives back undefined where the tree had undefined (not null)", () => {
  const def = tree.structure({ a: undefined, b: 1, c: null });
  const back = tree.unflatten(def, [2]);
  assert.equal(Object.keys(back).sort(), ["a", "b", "c"]);
  assert.is(back.a, undefined);
  assert.is(back.c, null);
  assert.is(tree.unflatten(tree.structure(undefined), []), undefined);
});

test("tree structures compare by structure, not by their printed form (a key containing ': *, ' is not two keys)", () => {
  const odd = { "a: *, b": 1 };
  const two = { a: 1, b: 2 };
  assert.is(String(tree.structure(odd)), String(tree.structure(two)));
  assert.not.ok(tree.structure(odd).equals(tree.structure(two)));
  throwsWith(() => tree.map((x: any, y: any) => x + y, odd, two), TreeError, ["tree.map", "structure"]);
  assert.ok(tree.structure([{ a: 1, b: null }, 2]).equals(tree.structure([{ a: 5, b: null }, 7])));
  assert.not.ok(tree.structure([1, [2]]).equals(tree.structure([1, 2])));
});

test("jacobian auto remembers output sizes per input shape, and a stale size still gives the right numbers", () => {
  // The output size depends on the input's values: 9 outputs (forward mode) when the sum is
  // positive, 1 output (reverse mode) otherwise. The second call reuses the first call's size.
  let calls = 0;
  const f = (x: Tensor) => {
    calls++;
    return x.sum().item() > 0 ? np.concatenate([x, x.mul(2), np.sin(x)]) : x.slice([0, 1]).mul(3);
  };
  const pos = np.array([0.5, 1, 2]);
  const neg = np.array([-0.5, -1, -2]);
  close(L(jacobian(f)(pos)), L(jacrev(f)(pos)), 1e-15);
  calls = 0;
  const again = jacobian(f)(neg);
  assert.equal(again.shape, [1, 3]);
  assert.equal(again.tolist(), [[3, 0, 0]]);
  assert.is(calls, 1);
  close(L(jacobian(f)(pos)), L(jacfwd(f)(pos)), 0);
});

test.run();
