import { test } from "uvu";
import * as assert from "uvu/assert";
import { guardTraceState } from "../guard.js";
import { close, throwsWith } from "../helpers.js";
import { JacobiError, jit, jvp, np, vmap, type Tensor } from "../../src/index.js";
import { cholesky, eigh, lu, qr, svd } from "../../src/primitives/linalg-factor.js";
import { type TriangularSolveParams, triangularSolve } from "../../src/primitives/linalg-solve.js";
import { K, check, jetOf, nestedJvp, rnd } from "./jet-check.js";

guardTraceState(test);

/** A well-conditioned matrix: deterministic entries in [-0.5, 0.5] plus `d` on the diagonal. */
const general = (n: number, seed: number, d = 2, batch: number[] = []): Tensor => np.add(rnd([...batch, n, n], seed), np.multiply(np.eye(n), d));
/** A symmetric positive definite matrix M M^T + n I, with distinct eigenvalues. */
const spd = (n: number, seed: number, batch: number[] = []): Tensor => {
  const m = rnd([...batch, n, n], seed, -1, 2);
  return np.add(np.matmul(m, np.swapaxes(m, -1, -2)), np.multiply(np.eye(n), n));
};

const solves: [string, TriangularSolveParams, number[]][] = [
  ["left lower", { leftSide: true, lower: true, transposeA: false, unitDiagonal: false }, [3, 2]],
  ["left upper transposed", { leftSide: true, lower: false, transposeA: true, unitDiagonal: false }, [3, 2]],
  ["right lower unit diagonal", { leftSide: false, lower: true, transposeA: false, unitDiagonal: true }, [2, 3]],
  ["right upper unit diagonal transposed", { leftSide: false, lower: false, transposeA: true, unitDiagonal: true }, [2, 3]],
];
for (const [name, p, bShape] of solves) {
  test(`jet rule of triangular_solve (${name}) against nested jvp to order ${K}`, () => {
    check(`triangular_solve ${name}`, (a, b) => triangularSolve(a, b, p), [general(3, 1), rnd(bShape, 2, -1, 2)], { consts: true });
  });
}

test("triangular_solve with a batch axis", () => {
  const p = { leftSide: true, lower: true, transposeA: true, unitDiagonal: false };
  check("batched triangular_solve", (a, b) => triangularSolve(a, b, p), [general(3, 3, 2, [2]), rnd([2, 3, 2], 4, -1, 2)], { consts: true });
});

// Symmetric paths through cholesky and eigh: np.linalg symmetrizes its input, and both read only
// one triangle, so a symmetric path is the one their derivatives describe.
test(`jet rule of cholesky against nested jvp to order ${K}`, () => {
  check("cholesky", (a) => cholesky(a), [spd(4, 5)], { symmetric: true });
  check("batched cholesky", (a) => cholesky(a), [spd(3, 6, [2])], { symmetric: true });
});

test("cholesky and eigh: the first coefficient is the JVP's for a tangent that is not symmetric", () => {
  const s = spd(3, 42), t = rnd([3, 3], 43);
  for (const f of [(x: Tensor) => cholesky(x), (x: Tensor) => eigh(x)[1], (x: Tensor) => eigh(x)[0]]) {
    close(jetOf(f, [s], [[t]])[1][0], jvp(f, [s], [t])[1] as Tensor, 1e-12);
  }
});

test(`jet of lu, qr, eigh, svd (the rules their JVPs imply) against nested jvp to order ${K}`, () => {
  // Tolerances 1e-10: the fifth derivative of a factor is a sum of many products of solves, each
  // rounded, whose size grows with the inverse gaps (here about 1) to the fifth power.
  const tol = 1e-10;
  const a = general(3, 7), tall = rnd([4, 3], 8, -1, 2), wide = rnd([3, 4], 9, -1, 2);
  check("lu", (x) => lu(x)[0], [a], { tol });
  check("lu (tall)", (x) => lu(x)[0], [tall], { tol });
  check("lu (wide)", (x) => lu(x)[0], [wide], { tol });
  check("qr q", (x) => qr(x, false)[0], [tall], { tol });
  check("qr r", (x) => qr(x, false)[1], [tall], { tol });
  check("qr (square, full matrices)", (x) => np.add(qr(x, true)[0], qr(x, true)[1]), [general(3, 15)], { tol });
  check("eigh w", (x) => eigh(x)[0], [spd(4, 10)], { symmetric: true, tol });
  check("eigh v", (x) => eigh(x)[1], [spd(4, 10)], { symmetric: true, tol });
  check("svd s", (x) => svd(x, { fullMatrices: false, computeUv: false })[0], [tall], { tol });
  check("svd u (tall)", (x) => svd(x, { fullMatrices: false, computeUv: true })[1], [tall], { tol });
  check("svd vt (wide)", (x) => svd(x, { fullMatrices: false, computeUv: true })[2], [wide], { tol });
  check("svd s (wide, full matrices)", (x) => svd(x, { fullMatrices: true, computeUv: false })[0], [wide], { tol });
  check("svd u and vt (wide)", (x) => np.add(np.sum(svd(x, { fullMatrices: false, computeUv: true })[1]), svd(x, { fullMatrices: false, computeUv: true })[2]), [wide], { tol });
  check("svd u, s and vt (tall)", (x) => np.add(np.sum(svd(x, { fullMatrices: false, computeUv: true })[0]), np.add(np.sum(svd(x, { fullMatrices: false, computeUv: true })[1]), svd(x, { fullMatrices: false, computeUv: true })[2])), [tall], { tol });
  check("svd (square, full matrices)", (x) => np.add(svd(x, { fullMatrices: true, computeUv: true })[1], svd(x, { fullMatrices: true, computeUv: true })[2]), [general(3, 16)], { tol });
});

test("lu, qr, eigh, svd with a batch axis", () => {
  const tol = 1e-10;
  check("batched lu", (x) => lu(x)[0], [general(3, 11, 2, [2])], { tol });
  check("batched qr", (x) => np.add(qr(x, false)[0], qr(x, false)[1]), [general(3, 12, 2, [2])], { tol });
  check("batched eigh", (x) => eigh(x)[1], [spd(3, 13, [2])], { symmetric: true, tol });
  check("batched svd", (x) => svd(x, { fullMatrices: false, computeUv: true })[1], [rnd([2, 4, 3], 14, -1, 2)], { tol });
});

test("zero series give zero coefficients through the solves", () => {
  const z = (x: Tensor) => Array.from({ length: 3 }, () => np.zerosLike(x));
  const p = { leftSide: true, lower: true, transposeA: false, unitDiagonal: false };
  const a = general(3, 1), b = rnd([3, 2], 2);
  close(jetOf((bb) => triangularSolve(a, bb, p), [b], [z(b)])[1], z(b));
  const s = spd(3, 5);
  close(jetOf((x) => cholesky(x), [s], [z(s)])[1], z(s));
  close(jetOf((x) => eigh(x)[1], [s], [z(s)])[1], z(s));
  close(jetOf((x) => eigh(x)[0], [s], [z(s)])[1], [0, 0, 0].map(() => [0, 0, 0]));
  const t = rnd([4, 3], 8);
  close(jetOf((x) => np.add(qr(x, false)[0], np.sum(qr(x, false)[1])), [t], [z(t)])[1], z(t));
  close(jetOf((x) => lu(x)[0], [t], [z(t)])[1], z(t));
});

test("a path whose first term is zero (second order at the start)", () => {
  const z3 = np.zeros([3, 3]);
  const s = spd(3, 5), v = np.add(rnd([3, 3], 21), np.swapaxes(rnd([3, 3], 21), 0, 1)), w = np.add(rnd([3, 3], 22), np.swapaxes(rnd([3, 3], 22), 0, 1));
  const p = { leftSide: true, lower: true, transposeA: false, unitDiagonal: false };
  const fs: [string, (x: Tensor) => Tensor, Tensor][] = [
    ["triangular_solve", (x) => triangularSolve(x, s, p), general(3, 1)],
    ["cholesky", (x) => cholesky(x), s],
    ["eigh", (x) => np.add(eigh(x)[1], np.sum(eigh(x)[0])), s],
    ["qr", (x) => np.add(qr(x, false)[0], qr(x, false)[1]), general(3, 2)],
    ["lu", (x) => lu(x)[0], general(3, 3)],
    ["svd", (x) => np.add(svd(x, { fullMatrices: false, computeUv: true })[1], svd(x, { fullMatrices: false, computeUv: true })[2]), general(3, 4)],
  ];
  for (const [name, f, x] of fs) close(jetOf(f, [x], [[z3, v, w, z3]])[1], nestedJvp(f, [x], [[z3, v, w, z3]], 4), 1e-10, name);
});

test("np.linalg composites through these rules", () => {
  const tol = 1e-10;
  const a = general(3, 31), s = spd(3, 32), b = rnd([3, 2], 33);
  check("det", (x) => np.linalg.det(x), [a], { tol });
  check("slogdet", (x) => np.linalg.slogdet(x)[1], [a], { tol });
  check("solve", (x, y) => np.linalg.solve(x, y), [a, b], { consts: true, tol });
  check("inv", (x) => np.linalg.inv(x), [a], { tol });
  check("np.linalg.cholesky (symmetrized)", (x) => np.linalg.cholesky(x), [s], { symmetric: true, tol });
  check("eigvalsh", (x) => np.linalg.eigvalsh(x), [s], { symmetric: true, tol });
  check("nuclear norm", (x) => np.linalg.norm(x, "nuc"), [rnd([4, 3], 34)], { tol });
  check("pinv", (x) => np.linalg.pinv(x), [rnd([4, 3], 35)], { tol });
});

test("jet of these rules under jit and vmap", () => {
  const a = general(3, 36), v = rnd([3, 3], 37);
  const f = (x: Tensor) => np.linalg.det(x);
  const [p, s] = jetOf(jit(f), [a], [[v, v, v]]);
  const [p0, s0] = jetOf(f, [a], [[v, v, v]]);
  close(p, p0);
  close(s, s0);
  // vmap of jet over a batch of matrices, against the jets one by one.
  const as = general(3, 38, 2, [2]), vs = rnd([2, 3, 3], 39);
  const g = (x: Tensor, t: Tensor) => jetOf((y) => svd(y, { fullMatrices: false, computeUv: true })[1], [x], [[t, t, t]])[1];
  const batched = vmap(g)(as, vs) as Tensor[];
  for (let i = 0; i < 2; i++) close(batched.map((c) => c.at(i).get()), g(as.at(i).get(), vs.at(i).get()), 1e-12, `example ${i}`);
});

test("float32 series stay float32 and agree with float64", () => {
  const a = spd(3, 40), t = np.add(rnd([3, 3], 41), np.swapaxes(rnd([3, 3], 41), 0, 1));
  const p = { leftSide: true, lower: true, transposeA: false, unitDiagonal: false };
  const fs: ((x: Tensor) => Tensor)[] = [
    (x) => triangularSolve(x, np.eye(3, 3, 0, x.dtype), p),
    (x) => cholesky(x),
    (x) => lu(x)[0],
    (x) => eigh(x)[1],
    (x) => qr(x, false)[0],
    (x) => svd(x, { fullMatrices: false, computeUv: true })[2],
  ];
  for (const f of fs) {
    const a32 = np.astype(a, "float32"), t32 = np.astype(t, "float32");
    const [p32, s32] = jetOf(f, [a32], [[t32, t32]]);
    assert.equal([p32.dtype, ...s32.map((c) => c.dtype)], ["float32", "float32", "float32"]);
    close(s32, jetOf(f, [a], [[t, t]])[1], 1e-4);
  }
});

test("jet of qr and svd where its derivative is undefined names the shape, as jvp does", () => {
  const wide = rnd([3, 4], 9);
  throwsWith(() => jetOf((x) => qr(x, false)[0], [wide], [[wide, wide]]), JacobiError, ["qr", "at least as many rows as columns", "[3,4]"]);
  throwsWith(() => jetOf((x) => qr(x, false)[0], [wide], [[wide]]), JacobiError, ["qr", "[3,4]"]);
  throwsWith(() => jetOf((x) => svd(x, { fullMatrices: true, computeUv: true })[1], [wide], [[wide, wide]]), JacobiError, ["svd", "fullMatrices: false", "[3,4]"]);
});

test.run();
