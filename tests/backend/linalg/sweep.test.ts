// A sweep over shapes (tall, wide, square, 1 to 13) and kinds of matrices (random, rank
// deficient, diagonal with zeros and repeated values, orthonormal columns, rows graded over 12
// orders of magnitude): SVD, eigh and QR reconstruct their input and give orthonormal factors to
// 1e-14, and singular values come out non-negative and descending.
import { test } from "uvu";
import { guardTraceState } from "../../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { eigh, qr, svd } from "../../../src/backend/linalg/index.js";
import { matmul, orthogonalityError, randomMatrix } from "./util.js";

const SIZES = [1, 2, 3, 5, 8, 13];
const LIMIT = 1e-14;

let seed = 1000;
function kinds(m: number, n: number): [string, Float64Array][] {
  const r = Math.max(1, Math.min(m, n) >> 1);
  const diag = new Float64Array(m * n);
  for (let i = 0; i < Math.min(m, n); i++) diag[i * n + i] = i % 3 === 1 ? 0 : i % 2 ? -1 : 2;
  const graded = randomMatrix(m * n, seed++).map((v, i) => v * 10 ** (-2 * (Math.floor(i / n) % 7)));
  const out: [string, Float64Array][] = [
    ["random", randomMatrix(m * n, seed++)],
    ["rank-deficient", matmul(randomMatrix(m * r, seed++), randomMatrix(r * n, seed++), m, r, n)],
    ["diagonal", diag],
    ["graded", graded],
  ];
  if (n <= m) {
    const q = qr(randomMatrix(m * m, seed++), 1, m, m).q as Float64Array;
    out.push(["orthonormal", Float64Array.from({ length: m * n }, (_, i) => q[Math.floor(i / n) * m + (i % n)])]);
  }
  return out;
}

/** ||got - want||_F / max(||want||_F, tiny). */
function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let d = 0, w = 0;
  for (let i = 0; i < want.length; i++) {
    d += (got[i] - want[i]) ** 2;
    w += want[i] ** 2;
  }
  return Math.sqrt(d) / Math.max(Math.sqrt(w), 1e-300);
}

const transpose = (x: ArrayLike<number>, r: number, c: number): Float64Array => Float64Array.from({ length: r * c }, (_, i) => x[(i % r) * c + Math.floor(i / r)]);

test("svd, eigh and qr over shapes and kinds of matrices", () => {
  for (const m of SIZES) {
    for (const n of SIZES) {
      const k = Math.min(m, n);
      for (const [kind, a] of kinds(m, n)) {
        const what = `${kind} ${m}x${n}`;
        for (const full of [true, false]) {
          const { u, s, vt } = svd(a, 1, m, n, { fullMatrices: full });
          const uc = full ? m : k, vr = full ? n : k;
          const us = new Float64Array(m * k);
          for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) us[i * k + j] = (u as Float64Array)[i * uc + j] * s[j];
          assert.ok(relErr(matmul(us, (vt as Float64Array).subarray(0, k * n), m, k, n), a) < LIMIT, `svd residual ${what}`);
          assert.ok(orthogonalityError(u as Float64Array, m, uc) < LIMIT, `svd U ${what}`);
          assert.ok(orthogonalityError(transpose(vt as Float64Array, vr, n), n, vr) < LIMIT, `svd V ${what}`);
          for (let i = 0; i < k; i++) assert.ok(s[i] >= 0 && (i === 0 || s[i] <= s[i - 1]), `svd order ${what}`);
        }
        for (const mode of ["reduced", "complete"] as const) {
          const { q, r } = qr(a, 1, m, n, mode);
          const qc = mode === "complete" ? m : k;
          assert.ok(relErr(matmul(q as Float64Array, r, m, qc, n), a) < LIMIT, `qr residual ${what}`);
          assert.ok(orthogonalityError(q as Float64Array, m, qc) < LIMIT, `qr Q ${what}`);
        }
        if (m === n) {
          const sym = Float64Array.from(a, (_, i) => a[Math.max(Math.floor(i / n), i % n) * n + Math.min(Math.floor(i / n), i % n)]);
          const { w, v } = eigh(sym, 1, n);
          const vw = Float64Array.from(v as Float64Array, (x, i) => x * w[i % n]);
          assert.ok(relErr(matmul(vw, v as Float64Array, n, n, n, false, true), sym) < LIMIT, `eigh residual ${what}`);
          assert.ok(orthogonalityError(v as Float64Array, n, n) < LIMIT, `eigh V ${what}`);
          for (let i = 1; i < n; i++) assert.ok(w[i] >= w[i - 1], `eigh order ${what}`);
        }
      }
    }
  }
});

test.run();
