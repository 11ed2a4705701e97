// np.linalg / lax.linalg / scipy.linalg values against NumPy and SciPy in float64
// (tests/fixtures/gen-linalg-ops.py), and the errors bad input gets.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { JacobiError, OptionsError, ShapeError, DTypeError, type Tensor, jit, lax, np, scipy } from "../../src/index.js";
import { L, close, throwsWith } from "../helpers.js";

const fx = JSON.parse(readFileSync(new URL("../fixtures/linalg-ops.json", import.meta.url), "utf8")) as {
  inputs: Record<string, number[] | number[][] | number[][][]>;
  values: Record<string, any>;
};
const I = (k: string): Tensor => np.array(fx.inputs[k]);
const V = fx.values;
const { g, spd, tall, wide, b, bv, b5, lower, upper, big, stack, singular } = Object.fromEntries(Object.keys(fx.inputs).map((k) => [k, I(k)]));
const la = np.linalg;

test("cholesky, solve, inv, det and slogdet match NumPy", () => {
  close(la.cholesky(spd), V.cholesky_spd, 1e-13);
  close(la.solve(g, b), V.solve_g_b, 1e-13);
  close(la.solve(g, bv), V.solve_g_bv, 1e-13);
  close(la.solve(stack, np.ones([2, 3, 1])), V.solve_stack, 1e-13);
  close(la.inv(g), V.inv_g, 1e-13);
  close(la.det(g), V.det_g, 1e-13);
  close(la.det(stack), V.det_stack, 1e-13);
  close(la.slogdet(g), V.slogdet_g, 1e-13);
  close(la.slogdet(np.negative(g)), V.slogdet_neg_g, 1e-13);
  // Integer input is computed in float64, as jax.numpy.linalg does.
  close(la.det(np.array([[2, 1], [1, 3]], "int32")), 5, 1e-14);
});

test("solve broadcasts the batch axes of a and b", () => {
  const x = la.solve(stack, np.ones([3, 2]));
  assert.equal(x.shape, [2, 3, 2]);
  close(np.slice(x, [], [], [0, 1]), V.solve_stack, 1e-13);
});

test("eigh, eigvalsh, svd and qr match NumPy (vectors up to their sign gauge, via reconstruction)", () => {
  close(la.eigvalsh(spd), V.eigvalsh_spd, 1e-13);
  const [w, v] = la.eigh(spd);
  close(w, V.eigvalsh_spd, 1e-13);
  close(np.matmul(np.multiply(v, w), np.transpose(v)), L(spd), 1e-13);
  close(np.matmul(np.transpose(v), v), L(np.eye(4)), 1e-13);
  close(la.svd(tall, { computeUv: false }), V.svd_s_tall, 1e-13);
  close(la.svd(wide, { computeUv: false }), V.svd_s_wide, 1e-13);
  const [u, s, vt] = la.svd(tall);
  assert.equal([u.shape, s.shape, vt.shape], [[5, 5], [3], [3, 3]]);
  const [ur, , vtr] = la.svd(tall, { fullMatrices: false });
  close(np.matmul(np.multiply(ur, s), vtr), L(tall), 1e-13);
  assert.equal(vt.shape, vtr.shape);
  const [q, r] = la.qr(tall);
  close(q, V.qr_tall_q, 1e-13);
  close(r, V.qr_tall_r, 1e-13);
  const [qc, rc] = la.qr(tall, { mode: "complete" });
  close(qc, V.qr_tall_complete_q, 1e-13);
  close(rc, V.qr_tall_complete_r, 1e-13);
  close(la.qr(wide, { mode: "r" }), V.qr_wide_r, 1e-13);
});

test("eigh reads the upper triangle when asked and not symmetrizing", () => {
  const a = np.array([[2, 1], [100, 3]]);
  close(la.eigvalsh(a, { UPLO: "U", symmetrizeInput: false }), L(la.eigvalsh(np.array([[2, 1], [1, 3]]))), 1e-14);
  close(la.eigvalsh(a, { symmetrizeInput: false }), L(la.eigvalsh(np.array([[2, 100], [100, 3]]))), 1e-14);
});

test("norm, vectorNorm and matrixNorm match numpy.linalg.norm for every ord", () => {
  const key = (o: unknown) => (o === Infinity ? "inf" : o === -Infinity ? "-inf" : String(o === null ? "None" : o));
  for (const [name, x] of [["tall", tall], ["g", g]] as const) {
    for (const o of [null, "fro", "nuc", Infinity, -Infinity, 1, -1, 2, -2] as const) close(la.norm(x, o), V[`norm_${name}_${key(o)}`], 1e-13, `${name} ord ${o}`);
  }
  for (const o of [null, Infinity, -Infinity, 0, 1, 2, 3, -1]) close(la.norm(bv, o), V[`norm_bv_${key(o)}`], 1e-13, `bv ord ${o}`);
  close(la.norm(tall, null, 0), V.norm_tall_axis0, 1e-13);
  close(la.norm(tall, 1, -1), V.norm_tall_axis1_ord1, 1e-13);
  close(la.norm(stack, "nuc", [1, 2]), V.norm_stack_axes_nuc, 1e-13);
  close(la.norm(stack, Infinity, [1, 0]), V.norm_stack_axes_inf_10, 1e-13);
  close(la.norm(stack), V.norm_stack_all, 1e-13);
  assert.equal(la.norm(stack, "fro", [1, 2], { keepdims: true }).shape, [2, 1, 1]);
  assert.equal(la.norm(stack, "nuc", [2, 1], { keepdims: true }).shape, [2, 1, 1]);
  assert.equal(la.norm(stack, 1, [1, 2], { keepdims: true }).shape, [2, 1, 1]);
  close(la.vectorNorm(stack), V.norm_stack_all, 1e-13);
  close(la.vectorNorm(tall, { ord: 1, axis: 1 }), V.norm_tall_axis1_ord1, 1e-13);
  close(la.vectorNorm(tall, { axis: [0] }), V.norm_tall_axis0, 1e-13);
  close(la.matrixNorm(stack, { ord: "nuc" }), V.norm_stack_axes_nuc, 1e-13);
  close(la.matrixNorm(g), V.norm_g_fro, 1e-13);
  close(la.matrixNorm(np.stack([g, g]), { ord: 2, keepdims: true }), [[[V.norm_g_2]], [[V.norm_g_2]]], 1e-13);
});

test("pinv, lstsq, matrixPower and matrixRank match NumPy", () => {
  close(la.pinv(tall), V.pinv_tall, 1e-13);
  close(la.pinv(wide), V.pinv_wide, 1e-13);
  const [x, res, rank, s] = la.lstsq(tall, b5);
  close([x, res, rank, s], V.lstsq_tall, 1e-12);
  assert.is(rank.dtype, "int32");
  const [xv, rv] = la.lstsq(tall, np.slice(b5, [], [0, 1]).reshape([5]));
  close(xv, (V.lstsq_tall[0] as number[][]).map((row) => row[0]), 1e-12);
  close(rv, V.lstsq_tall[1][0], 1e-12);
  close(la.matrixPower(g, 3), V.matrix_power_g_3, 1e-13);
  close(la.matrixPower(g, -2), V.matrix_power_g_m2, 1e-12);
  close(la.matrixPower(g, 1), L(g), 0);
  close(la.matrixPower(stack, 0), L(np.stack([np.eye(3), np.eye(3)])), 0);
  close(la.matrixRank(tall), V.matrix_rank_tall, 0);
  close(la.matrixRank(singular), V.matrix_rank_singular, 0);
  close(la.matrixRank(singular, { rtol: 0.5 }), 1, 0);
  close(la.matrixRank(np.array([0, 0])), 0, 0);
  close(la.matrixRank(np.array([0, 2])), 1, 0);
});

test("scipy.linalg: solveTriangular, choFactor/choSolve, luFactor/luSolve and expm match SciPy", () => {
  const sp = scipy.linalg;
  close(sp.solveTriangular(lower, b, { lower: true }), V.solve_triangular_lower, 1e-13);
  close(sp.solveTriangular(upper, bv, { trans: 1 }), V.solve_triangular_upper_T, 1e-13);
  close(sp.solveTriangular(upper, bv, { trans: "T" }), V.solve_triangular_upper_T, 1e-13);
  close(sp.solveTriangular(lower, b, { lower: true, unitDiagonal: true }), V.solve_triangular_unit, 1e-13);
  const cu = sp.choFactor(spd);
  assert.is(cu[1], false);
  close(cu[0], V.cho_factor_upper, 1e-13);
  close(sp.choSolve(cu, b), V.cho_solve_upper, 1e-13);
  const cl = sp.choFactor(spd, { lower: true });
  close(cl[0], V.cho_factor_lower, 1e-13);
  close(sp.choSolve(cl, bv), V.cho_solve_lower_v, 1e-13);
  const [lu, piv] = sp.luFactor(g);
  close(lu, V.lu_factor_lu, 1e-13);
  assert.equal(L(piv), V.lu_factor_piv);
  close(sp.luSolve([lu, piv], b), V.lu_solve, 1e-13);
  close(sp.luSolve([lu, piv], bv, { trans: 1 }), V.lu_solve_T, 1e-13);
  close(sp.expm(g), V.expm_g, 1e-13);
  close(sp.expm(big), V.expm_big, 1e-12);
  close(sp.expm(np.zeros([2, 2])), [[1, 0], [0, 1]], 0);
  assert.equal(sp.expm(np.zeros([3, 0, 0])).shape, [3, 0, 0]);
});

test("expm under jit stages its squarings and agrees with the eager result", () => {
  close(jit(scipy.linalg.expm)(big), V.expm_big, 1e-12);
  close(jit(scipy.linalg.expm)(g), V.expm_g, 1e-13);
});

test("lax.linalg: lu's permutation matches SciPy's P, triangularSolve's four sides", () => {
  const [lu, piv, perm] = lax.linalg.lu(g);
  close(lu, V.lu_factor_lu, 1e-13);
  assert.equal(L(piv), V.lu_factor_piv);
  assert.equal(L(perm), V.lu_perm);
  const l = lax.linalg.cholesky(spd);
  close(l, V.cholesky_spd, 1e-13);
  close(lax.linalg.cholesky(spd, { symmetrizeInput: false }), V.cholesky_spd, 1e-13);
  const x = np.array([[1, 2, 3, 4], [0.5, -1, 2, 0]]);
  for (const leftSide of [true, false]) {
    for (const transposeA of [true, false]) {
      const rhs = leftSide ? np.transpose(x) : x;
      const y = lax.linalg.triangularSolve(l, rhs, { leftSide, lower: true, transposeA });
      const opA = transposeA ? np.transpose(l) : l;
      close(leftSide ? np.matmul(opA, y) : np.matmul(y, opA), L(rhs), 1e-13, `leftSide ${leftSide} transposeA ${transposeA}`);
    }
  }
  // Defaults as JAX: right side, upper, A not transposed; a float32 operand is promoted.
  const u = np.transpose(l);
  close(np.matmul(lax.linalg.triangularSolve(u, np.astype(x, "float32")), u), L(x), 1e-6);
});

test("float32 inputs give float32 results", () => {
  const a = np.astype(spd, "float32");
  for (const out of [la.cholesky(a), la.inv(a), la.eigh(a)[1], la.svd(a)[0], la.qr(a)[1], la.det(a), scipy.linalg.expm(a)]) assert.is(out.dtype, "float32");
  close(la.cholesky(a), V.cholesky_spd, 1e-6);
});

test("sharp edges: non-PD Cholesky is NaN, a singular solve is Inf/NaN, singular slogdet is [0, -Infinity]", () => {
  const l = la.cholesky(np.array([[1, 2], [2, 1]]));
  assert.ok(Array.from(l.toTypedArray()).every(Number.isNaN));
  const x = la.solve(singular, np.array([1, 1]));
  assert.ok(Array.from(x.toTypedArray()).every((v) => !Number.isFinite(v)));
  assert.equal(la.slogdet(singular).map((t) => t.item()), [0, -Infinity]);
  close(la.det(singular), 0, 0);
});

test("empty matrices: det 1, slogdet [1, 0], empty factors", () => {
  const z = np.zeros([0, 0]);
  close(la.det(z), 1, 0);
  close(la.slogdet(z), [1, 0], 0);
  assert.equal(la.inv(z).shape, [0, 0]);
  assert.equal(la.cholesky(z).shape, [0, 0]);
  assert.equal(la.det(np.zeros([0, 2, 2])).shape, [0]);
});

test("errors name the function and the shapes", () => {
  throwsWith(() => la.cholesky(tall), ShapeError, ["linalg.cholesky", "square", "[5,3]"]);
  throwsWith(() => la.inv(np.ones([3])), ShapeError, ["linalg.inv", "rank >= 2", "[3]"]);
  throwsWith(() => la.solve(g, np.ones([3])), ShapeError, ["linalg.solve", "[4,4]", "[3]"]);
  throwsWith(() => la.solve(g, np.ones([3, 3])), ShapeError, ["linalg.solve", "4 rows"]);
  throwsWith(() => la.solve(np.ones([2, 3, 3]), np.ones([4, 3, 1])), ShapeError, ["linalg.solve", "batch", "[2,3,3]", "[4,3,1]"]);
  throwsWith(() => la.det(wide), ShapeError, ["linalg.det", "[3,5]"]);
  throwsWith(() => la.qr(g, { mode: "economic" } as never), OptionsError, ["mode"]);
  throwsWith(() => la.svd(g, { full: true } as never), OptionsError, ["full"]);
  throwsWith(() => la.norm(g, "fro", 0), JacobiError, ["not a vector norm"]);
  throwsWith(() => la.norm(g, 3), JacobiError, ["not a matrix norm"]);
  throwsWith(() => la.norm(stack, 2), ShapeError, ["1-D or 2-D"]);
  throwsWith(() => la.norm(g, null, 2), ShapeError, ["axis 2"]);
  throwsWith(() => la.norm(g, null, [0, 0]), ShapeError, ["must differ"]);
  throwsWith(() => la.norm(g, null, [0, 1, 2] as never), ShapeError, ["pair"]);
  throwsWith(() => la.vectorNorm(g, { ord: {} as never }), OptionsError, ["ord"]);
  throwsWith(() => la.matrixPower(g, 1.5), JacobiError, ["integer", "1.5"]);
  throwsWith(() => la.lstsq(stack, b), ShapeError, ["2-D"]);
  throwsWith(() => la.lstsq(tall, b), ShapeError, ["5 rows"]);
  throwsWith(() => lax.linalg.triangularSolve(lower, bv), ShapeError, ["matrix", "[4]"]);
  throwsWith(() => lax.linalg.triangularSolve(lower, np.ones([4, 3])), ShapeError, ["columns", "4"]);
  throwsWith(() => scipy.linalg.solveTriangular(lower, np.ones([2, 2, 4])), ShapeError, ["rank"]);
  throwsWith(() => scipy.linalg.solveTriangular(lower, b, { trans: 3 as never }), OptionsError, ["trans"]);
  throwsWith(() => scipy.linalg.choSolve([spd, "yes" as never], b), JacobiError, ["[c, lower]"]);
  throwsWith(() => scipy.linalg.luSolve([g, np.array([0, 1, 2, 3], "int32")], np.ones([3])), ShapeError, ["luSolve", "[4,4]"]);
  throwsWith(() => scipy.linalg.luSolve([g, np.array([0, 1, 2, 3])], bv), DTypeError, ["int32"]);
  throwsWith(() => scipy.linalg.luSolve([g, np.array([0, 1, 2, 3, 4, 5], "int32")], bv), ShapeError, ["permutationSize"]);
});

test.run();
