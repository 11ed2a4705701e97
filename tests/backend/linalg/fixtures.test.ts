// The linear-algebra kernels against NumPy/SciPy (LAPACK) values from tests/fixtures/gen-linalg.py,
// in float64 (1e-12) and float32 (computed from float32 inputs, float32 tolerance).
import { test } from "uvu";
import { guardTraceState } from "../../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { type FloatArray, cholesky, det, eigh, inverse, lu, luSolve, pivotsToPermutation, qr, slogdet, solve, svd, triangularSolve } from "../../../src/backend/linalg/index.js";
import { dims, fixColumnSigns, fixRowSigns, flat, loadFixture, matmul, near, orthogonalityError } from "./util.js";

const fx = loadFixture();
const F32_TOL = 2e-5;

/** A fixture matrix as [array in the requested precision, batch, rows, cols]. */
function stack(x: any, f32: boolean): [FloatArray, number, number, number] {
  const d = dims(x);
  const [m, n] = d.slice(-2);
  const batch = d.slice(0, -2).reduce((p, v) => p * v, 1);
  const data = flat(x);
  return [f32 ? Float32Array.from(data) : Float64Array.from(data), batch, m, n];
}

const transpose = (x: ArrayLike<number>, r: number, c: number): Float64Array => Float64Array.from({ length: r * c }, (_, i) => x[(i % r) * c + Math.floor(i / r)]);

for (const f32 of [false, true]) {
  const tol = f32 ? F32_TOL : 1e-12;
  const tag = f32 ? "float32" : "float64";

  test(`cholesky matches NumPy, and gives NaN for non-positive-definite input (${tag})`, () => {
    for (const c of fx.cholesky) {
      const [a, batch, n] = stack(c.a, f32);
      const { l, info } = cholesky(a, batch, n);
      assert.is(l instanceof Float32Array, f32);
      near(l, flat(c.l), tol, `cholesky ${c.name}`);
      const pd = flat(c.l).every((v) => !Number.isNaN(v));
      assert.ok(Array.from(info).every((v) => (pd ? v === 0 : v > 0)), `info of ${c.name}: ${info}`);
    }
    const failed = fx.cholesky.find((c: any) => c.name === "indefinite");
    assert.equal(Array.from(cholesky(stack(failed.a, f32)[0], 1, 3).info), [2]);
  });

  test(`lu matches LAPACK's getrf: packed factors, pivots, permutation (${tag})`, () => {
    for (const c of fx.lu) {
      const [a, batch, m, n] = stack(c.a, f32);
      const r = lu(a, batch, m, n);
      near(r.lu, flat(c.lu), tol, `lu ${c.name}`);
      assert.equal(Array.from(r.pivots), flat(c.pivots), `pivots ${c.name}`);
      assert.equal(Array.from(r.permutation), flat(c.permutation), `permutation ${c.name}`);
      assert.equal(Array.from(pivotsToPermutation(r.pivots, batch, m)), flat(c.permutation), `pivotsToPermutation ${c.name}`);
    }
  });

  test(`triangularSolve matches scipy.linalg.solve_triangular in all sixteen option combinations (${tag})`, () => {
    for (const c of fx.triangularSolve) {
      const [a] = stack(c.a, f32);
      const [b, , m, k] = stack(c.b, f32);
      const x = triangularSolve(a, b, 1, m, k, { leftSide: c.leftSide, lower: c.lower, transposeA: c.transposeA, unitDiagonal: c.unitDiagonal });
      near(x, flat(c.x), tol, `triangularSolve ${JSON.stringify([c.leftSide, c.lower, c.transposeA, c.unitDiagonal])}`);
    }
  });

  test(`det and slogdet match NumPy, singular included (${tag})`, () => {
    for (const c of fx.det) {
      const [a, batch, n] = stack(c.a, f32);
      near(det(a, batch, n), flat(c.det), tol, `det ${c.name}`);
      const s = slogdet(a, batch, n);
      near(s.sign, flat(c.sign), 0, `sign ${c.name}`);
      near(s.logabsdet, flat(c.logabsdet), tol, `logabsdet ${c.name}`);
    }
  });

  test(`solve, inverse and luSolve (plain and transposed) match NumPy (${tag})`, () => {
    for (const c of fx.solve) {
      const [a, batch, n] = stack(c.a, f32);
      const [b, , , k] = stack(c.b, f32);
      near(solve(a, b, batch, n, k), flat(c.x), tol, `solve ${c.name}`);
      near(inverse(a, batch, n), flat(c.inv), tol, `inverse ${c.name}`);
      const f = lu(a, batch, n, n);
      near(luSolve(f.lu, f.permutation, b, batch, n, k), flat(c.x), tol, `luSolve ${c.name}`);
      near(luSolve(f.lu, f.permutation, b, batch, n, k, true), flat(c.xT), tol, `luSolve transposed ${c.name}`);
    }
  });

  test(`qr matches NumPy in reduced, complete and r modes (${tag})`, () => {
    for (const c of fx.qr) {
      const [a, batch, m, n] = stack(c.a, f32);
      const red = qr(a, batch, m, n, "reduced");
      near(red.q as FloatArray, flat(c.q), tol, `q ${c.name}`);
      near(red.r, flat(c.r), tol, `r ${c.name}`);
      const comp = qr(a, batch, m, n, "complete");
      near(comp.q as FloatArray, flat(c.qComplete), tol, `q complete ${c.name}`);
      near(comp.r, flat(c.rComplete), tol, `r complete ${c.name}`);
      const only = qr(a, batch, m, n, "r");
      assert.is(only.q, null);
      near(only.r, flat(c.rOnly), tol, `r only ${c.name}`);
    }
    // The default mode is reduced.
    const c = fx.qr[1];
    near(qr(stack(c.a, f32)[0], 1, 3, 3).r, flat(c.r), tol, "default mode");
  });

  test(`eigh matches NumPy: ascending values, vectors up to sign, lower triangle only (${tag})`, () => {
    for (const c of fx.eigh) {
      const [a, batch, n] = stack(c.a, f32);
      const { w, v } = eigh(a, batch, n);
      near(w, flat(c.w), tol, `w ${c.name}`);
      near(eigh(a, batch, n, false).w, flat(c.w), tol, `w without vectors ${c.name}`);
      assert.is(eigh(a, batch, n, false).v, null);
      const vs = v as FloatArray, want = flat(c.v);
      for (let t = 0; t < batch; t++) {
        const o = t * n * n;
        const got = vs.subarray(o, o + n * n);
        assert.ok(orthogonalityError(got, n, n) < (f32 ? 1e-6 : 1e-14), `orthonormal ${c.name}`);
        // A repeated eigenvalue's vectors are any basis of its eigenspace: checked by orthogonality only.
        if (c.name !== "repeated") near(fixColumnSigns(got, n, n), fixColumnSigns(want.slice(o, o + n * n), n, n), tol, `v ${c.name}`);
      }
    }
  });

  test(`svd matches NumPy with full and reduced matrices (${tag})`, () => {
    for (const c of fx.svd) {
      const [a, batch, m, n] = stack(c.a, f32);
      const k = Math.min(m, n);
      for (const full of [true, false]) {
        const { u, s, vt } = svd(a, batch, m, n, { fullMatrices: full });
        near(s, flat(c.s), tol, `s ${c.name}`);
        const uc = full ? m : k, vr = full ? n : k;
        const wantU = flat(full ? c.u : c.uReduced), wantVt = flat(full ? c.vt : c.vtReduced);
        for (let t = 0; t < batch; t++) {
          const gu = (u as FloatArray).subarray(t * m * uc, (t + 1) * m * uc);
          const gv = (vt as FloatArray).subarray(t * vr * n, (t + 1) * vr * n);
          assert.ok(orthogonalityError(gu, m, uc) < (f32 ? 1e-6 : 1e-14), `U orthonormal ${c.name}`);
          assert.ok(orthogonalityError(transpose(gv, vr, n), n, vr) < (f32 ? 1e-6 : 1e-14), `Vt orthonormal ${c.name}`);
          // U[:, :k] diag(s) Vt[:k] = A
          const usk = new Float64Array(m * k);
          for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) usk[i * k + j] = gu[i * uc + j] * s[t * k + j];
          near(matmul(usk, gv.subarray(0, k * n), m, k, n), flat(c.a).slice(t * m * n, (t + 1) * m * n), f32 ? 1e-5 : 1e-13, `U S Vt ${c.name}`);
          // The zero matrix's vectors are any orthonormal bases.
          if (c.name !== "zero") {
            near(fixColumnSigns(gu, m, uc), fixColumnSigns(wantU.slice(t * m * uc, (t + 1) * m * uc), m, uc), f32 ? 1e-4 : 1e-11, `u ${c.name} full=${full}`);
            near(fixRowSigns(gv, vr, n), fixRowSigns(wantVt.slice(t * vr * n, (t + 1) * vr * n), vr, n), f32 ? 1e-4 : 1e-11, `vt ${c.name} full=${full}`);
          }
        }
      }
      const only = svd(a, batch, m, n, { computeUv: false });
      assert.is(only.u, null);
      assert.is(only.vt, null);
      near(only.s, flat(c.s), tol, `s only ${c.name}`);
    }
  });
}

test("a singular matrix: LU keeps the zero pivot, solves give Inf/NaN where LAPACK's getrs does", () => {
  const c = fx.singularSolve;
  const a = Float64Array.from(flat(c.a)), b = Float64Array.from(flat(c.b));
  near(solve(a, b, 1, 3, 1), flat(c.x), 0, "singular solve");
  const inv = inverse(a, 1, 3);
  assert.ok(Array.from(inv).some((v) => !Number.isFinite(v)), `inverse of a singular matrix: ${inv}`);
});
test.run();
