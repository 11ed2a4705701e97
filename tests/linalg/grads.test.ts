// Derivatives of the linear-algebra functions: gradients against torch autograd in float64
// (tests/fixtures/gen-linalg-ops.py), checkGrads of order 2 in both modes on well-conditioned
// inputs, the adjoint identity of triangular_solve, batch rules against loops, and the documented
// limits (repeated eigenvalues, complete QR / full SVD of non-square matrices).
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { JacobiError, type Tensor, checkGrads, grad, jit, jvp, lax, np, scipy, vjp, vmap } from "../../src/index.js";
import { close, throwsWith } from "../helpers.js";

interface GradCase {
  args: number[][][];
  r: unknown[];
  out: unknown[];
  grads: unknown[];
}
const fx = JSON.parse(readFileSync(new URL("../fixtures/linalg-ops.json", import.meta.url), "utf8")) as {
  inputs: Record<string, number[][]>;
  d: number[];
  d3: number[];
  grads: Record<string, GradCase>;
};
const la = np.linalg;
const sym = (x: Tensor) => np.multiply(0.5, np.add(x, np.transpose(x)));
const I = (k: string): Tensor => np.array(fx.inputs[k]);

/** The gradient of sum(out * r) over every output, against torch's. */
function againstTorch(name: string, f: (...xs: Tensor[]) => Tensor | Tensor[], tol = 1e-11): void {
  const c = fx.grads[name];
  const args = c.args.map((a) => np.array(a));
  const outs = (xs: Tensor[]) => {
    const o = f(...xs);
    return Array.isArray(o) ? o : [o];
  };
  close(outs(args), c.out, tol, `${name} values`);
  const loss = (...xs: Tensor[]) => outs(xs).reduce((s: Tensor, o, i) => np.add(s, np.sum(np.multiply(o, np.array(c.r[i] as number[])))), np.array(0));
  const gs = grad(loss, { argnums: args.map((_, i) => i) })(...args);
  close(gs, c.grads, tol, `${name} gradient`);
}

test("gradients match torch autograd", () => {
  const d = np.array(fx.d), d3 = np.array(fx.d3);
  againstTorch("cholesky", (a) => la.cholesky(a));
  againstTorch("solve", (a, b) => la.solve(a, b));
  againstTorch("inv", (a) => la.inv(a));
  againstTorch("det", (a) => la.det(a));
  againstTorch("slogdet", (a) => la.slogdet(a)[1]);
  againstTorch("eigh", (a) => {
    const [w, v] = la.eigh(a);
    return [w, np.matmul(np.multiply(v, d), np.transpose(v))];
  });
  const svdF = (a: Tensor) => {
    const [u, s, vt] = la.svd(a, { fullMatrices: false });
    return [s, np.matmul(np.multiply(u, d3), vt)];
  };
  againstTorch("svd_tall", svdF);
  againstTorch("svd_wide", svdF);
  againstTorch("qr_tall", (a) => la.qr(a));
  againstTorch("qr_square", (a) => la.qr(a));
  againstTorch("expm", (a) => scipy.linalg.expm(a));
  againstTorch("expm_big", (a) => scipy.linalg.expm(a), 1e-10);
  againstTorch("solve_triangular", (a, b) => scipy.linalg.solveTriangular(a, b, { lower: true }));
  againstTorch("norm_nuc", (a) => la.norm(a, "nuc"));
  againstTorch("norm_2", (a) => la.norm(a, 2));
  againstTorch("pinv", (a) => la.pinv(a));
});

const g = I("g"), spd = I("spd"), tall = I("tall"), wide = I("wide"), b = I("b"), lower = I("lower");
const check2 = (f: (...xs: any[]) => unknown, args: unknown[]) => assert.is(checkGrads(f, args, { order: 2 }), undefined);

test("checkGrads of order 2, both modes: the factorizations and solves", () => {
  check2((a: Tensor) => la.cholesky(a), [spd]);
  check2((a: Tensor, y: Tensor) => la.solve(a, y), [g, b]);
  check2((a: Tensor) => la.inv(a), [g]);
  check2((a: Tensor) => la.det(a), [g]);
  check2((a: Tensor) => la.slogdet(a)[1], [g]);
  check2((a: Tensor) => la.eigvalsh(a), [spd]);
  check2((a: Tensor) => {
    const [, v] = la.eigh(a);
    return np.abs(v);
  }, [sym(g)]);
  check2((a: Tensor) => la.svd(a, { computeUv: false }), [wide]);
  check2((a: Tensor) => {
    const [u, , vt] = la.svd(a, { fullMatrices: false });
    return np.matmul(u, vt);
  }, [tall]);
  check2((a: Tensor) => la.qr(a, { mode: "r" }), [tall]);
  check2((a: Tensor) => la.qr(a, { mode: "complete" }), [g]);
  check2((a: Tensor, y: Tensor) => lax.linalg.triangularSolve(a, y, { leftSide: true, lower: true, unitDiagonal: true }), [lower, b]);
  check2((a: Tensor) => lax.linalg.lu(a)[0], [g]);
  // Rectangular LU (L m x k, U k x n padded to square in the rule), tall and wide.
  check2((a: Tensor) => lax.linalg.lu(a)[0], [tall]);
  check2((a: Tensor) => lax.linalg.lu(a)[0], [wide]);
  // Both orders of the products in the rule for a: more right-hand sides than rows and fewer.
  const l3 = lower.slice([0, 3], [0, 3]);
  check2((a: Tensor, y: Tensor) => [lax.linalg.triangularSolve(a, y, { leftSide: true, lower: true }), lax.linalg.triangularSolve(a, np.transpose(y), { lower: true })], [l3, wide]);
  check2((a: Tensor, y: Tensor) => [lax.linalg.triangularSolve(a, y, { leftSide: true }), lax.linalg.triangularSolve(a, np.transpose(y), { transposeA: true })], [np.transpose(l3), tall.slice([0, 3], [0, 1])]);
});

test("checkGrads of order 2, both modes: the composites", () => {
  check2((a: Tensor) => la.pinv(a), [wide]);
  check2((a: Tensor, y: Tensor) => la.lstsq(a, y)[0], [tall, np.slice(I("b5"), [], [0, 1])]);
  check2((a: Tensor) => la.matrixPower(a, -3), [g]);
  check2((a: Tensor) => [la.norm(a), la.norm(a, 1), la.norm(a, -Infinity), la.norm(a, "nuc"), la.norm(a, -2)], [tall]);
  check2((v: Tensor) => [la.vectorNorm(v, { ord: 3 }), la.vectorNorm(v, { ord: Infinity })], [I("bv")]);
  check2((a: Tensor) => scipy.linalg.expm(a), [np.multiply(0.5, g)]);
  const [c, low] = scipy.linalg.choFactor(spd);
  check2((cc: Tensor, y: Tensor) => scipy.linalg.choSolve([cc, low], y), [c, b]);
  // choFactor does not symmetrize (as SciPy and JAX): its derivative is the one for symmetric tangents.
  check2((a: Tensor) => scipy.linalg.choFactor(sym(a), { lower: true })[0], [spd]);
  const [lu, piv] = scipy.linalg.luFactor(g);
  check2((m: Tensor, y: Tensor) => scipy.linalg.luSolve([m, piv], y, { trans: "T" }), [lu, b]);
});

test("triangular_solve: <solve(a, u), v> = <u, solve(a^T, v)> (the transpose rule), and vjp agrees", () => {
  const u = np.array([[0.3, -1], [2, 0.5], [-0.7, 1.1], [0.2, 0.4]]), v = np.array([[1, 0.1], [-0.4, 2], [0.6, -0.3], [1.5, 0.9]]);
  for (const lowerA of [true, false]) {
    for (const transposeA of [true, false]) {
      const p = { leftSide: true, lower: lowerA, transposeA };
      const a = lowerA ? lower : np.transpose(lower);
      const lhs = np.sum(np.multiply(lax.linalg.triangularSolve(a, u, p), v)).item();
      const rhs = np.sum(np.multiply(u, lax.linalg.triangularSolve(a, v, { ...p, transposeA: !transposeA }))).item();
      close(lhs, rhs, 1e-13);
      const [, back] = vjp((y: Tensor) => lax.linalg.triangularSolve(a, y, p), [u]);
      close(back(v)[0], lax.linalg.triangularSolve(a, v, { ...p, transposeA: !transposeA }).tolist(), 1e-14);
    }
  }
});

test("batch rules: vmap of every function equals a loop, with the batch axis anywhere", () => {
  const stackOf = (xs: Tensor[], axis: number) => np.stack(xs, axis);
  const mats = [g, np.add(g, np.eye(4)), np.multiply(1.5, g)];
  const spds = mats.map((m) => np.add(np.matmul(m, np.transpose(m)), np.eye(4)));
  const fns: [string, (a: Tensor) => Tensor | Tensor[], Tensor[]][] = [
    ["cholesky", (a) => la.cholesky(a), spds],
    ["solve", (a) => la.solve(a, b), mats],
    ["slogdet", (a) => la.slogdet(a), mats],
    ["eigh", (a) => la.eigvalsh(a), spds],
    ["qr", (a) => la.qr(a), mats],
    ["svd", (a) => la.svd(a, { computeUv: false }), mats],
    ["expm", (a) => scipy.linalg.expm(np.multiply(0.3, a)), mats],
    ["luSolve", (a) => scipy.linalg.luSolve(scipy.linalg.luFactor(a), b), mats],
  ];
  for (const [name, f, xs] of fns) {
    for (const axis of [0, 2]) {
      const got = vmap(f, { inAxes: axis })(stackOf(xs, axis));
      const loop = xs.map((x) => f(x));
      const want = Array.isArray(loop[0]) ? (loop[0] as Tensor[]).map((_, k) => np.stack(loop.map((l) => (l as Tensor[])[k]))) : np.stack(loop as Tensor[]);
      close(got, want, 1e-12, `${name} at axis ${axis}`);
    }
  }
  // The matrix batched, the right-hand side shared, and the other way round.
  close(vmap((y: Tensor) => lax.linalg.triangularSolve(lower, y, { leftSide: true, lower: true }), { inAxes: 1 })(np.stack([b, b], 1)), np.stack([0, 1].map(() => lax.linalg.triangularSolve(lower, b, { leftSide: true, lower: true }))), 1e-14);
});

test("jit agrees with eager for values and gradients", () => {
  const f = (a: Tensor) => np.add(la.slogdet(a)[1], np.sum(la.solve(a, b)));
  close(jit(f)(g), f(g), 1e-13);
  close(jit(grad(f))(g), grad(f)(g), 1e-12);
  const h = (a: Tensor) => np.sum(la.cholesky(a));
  close(jit(grad(h))(spd), grad(h)(spd), 1e-12);
});

test("eigh/svd derivatives assume distinct values: repeated ones give non-finite derivatives, as JAX", () => {
  const [, [, dv]] = jvp((a: Tensor) => la.eigh(a), [np.eye(3)], [sym(g.slice([0, 3], [0, 3]))]);
  assert.ok(Array.from(dv.toTypedArray()).some((x) => !Number.isFinite(x)));
  const [, [du]] = jvp((a: Tensor) => la.svd(a, { fullMatrices: false }), [np.eye(3)], [g.slice([0, 3], [0, 3])]);
  assert.ok(Array.from(du.toTypedArray()).some((x) => !Number.isFinite(x)));
  // The eigenvalues alone stay finite.
  const [, dw] = jvp((a: Tensor) => la.eigvalsh(a), [np.eye(3)], [sym(g.slice([0, 3], [0, 3]))]);
  assert.ok(Array.from(dw.toTypedArray()).every(Number.isFinite));
});

test("derivatives JAX does not define throw: complete QR and full SVD of non-square matrices", () => {
  throwsWith(() => jvp((a: Tensor) => la.qr(a, { mode: "complete" }), [tall], [np.ones([5, 3])]), JacobiError, ["qr: the derivative", "[5,3]", "complete"]);
  throwsWith(() => jvp((a: Tensor) => la.qr(a), [wide], [np.ones([3, 5])]), JacobiError, ["qr: the derivative", "[3,5]"]);
  throwsWith(() => grad((a: Tensor) => np.sum(la.svd(a)[0]))(tall), JacobiError, ["svd: the derivative", "fullMatrices: false", "[5,3]"]);
  // Singular values alone are differentiable for any shape, and a square full SVD is too.
  check2((a: Tensor) => la.svd(a, { computeUv: false }), [tall]);
  check2((a: Tensor) => {
    const [u, , vt] = la.svd(a);
    return np.matmul(u, vt);
  }, [g]);
});

test("zero tangents pass through without work", () => {
  for (const f of [(a: Tensor) => la.cholesky(a), (a: Tensor) => lax.linalg.lu(a)[0], (a: Tensor) => la.qr(a)[1], (a: Tensor) => la.eigh(a)[0], (a: Tensor) => la.svd(a)[1]]) {
    const [, t] = jvp((s: Tensor) => f(np.add(spd, np.multiply(0, s))), [np.array(1)], [np.array(0)]);
    assert.ok(Array.from(t.toTypedArray()).every((x) => x === 0));
  }
});

test.run();
