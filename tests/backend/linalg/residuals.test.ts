// LAPACK-quality residuals of the kernels on well-conditioned 200 x 200 float64 inputs (seeded):
// every reconstruction and orthogonality error at most 1e-13 in the Frobenius norm.
import { test } from "uvu";
import { guardTraceState } from "../../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { cholesky, eigh, lu, qr, svd, triangularSolve } from "../../../src/backend/linalg/index.js";
import { matmul, orthogonalityError, randomMatrix, relDiff, spdMatrix } from "./util.js";

const N = 200;
const LIMIT = 1e-13;

function below(what: string, value: number): void {
  assert.ok(value <= LIMIT, `${what} = ${value} exceeds ${LIMIT}`);
}

test("cholesky: ||A - L L^T|| / ||A||", () => {
  const a = spdMatrix(N, 11);
  const { l, info } = cholesky(a, 1, N);
  assert.is(info[0], 0);
  below("||A - LL^T||/||A||", relDiff(matmul(l, l, N, N, N, false, true), a));
});

test("lu: ||PA - LU|| / ||A||", () => {
  const a = randomMatrix(N * N, 12);
  const f = lu(a, 1, N, N);
  const l = new Float64Array(N * N), u = new Float64Array(N * N), pa = new Float64Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      const x = f.lu[i * N + j];
      if (j < i) l[i * N + j] = x;
      else u[i * N + j] = x;
      pa[i * N + j] = a[f.permutation[i] * N + j];
    }
    l[i * N + i] = 1;
  }
  below("||PA - LU||/||A||", relDiff(matmul(l, u, N, N, N), pa));
});

test("triangularSolve with 200 right-hand sides: ||T X - B|| / ||B||", () => {
  const { l } = cholesky(spdMatrix(N, 13), 1, N);
  const b = randomMatrix(N * N, 14);
  const x = triangularSolve(l, b, 1, N, N, { leftSide: true, lower: true, transposeA: false, unitDiagonal: false });
  below("||LX - B||/||B||", relDiff(matmul(l, x, N, N, N), b));
  const y = triangularSolve(l, b, 1, N, N, { leftSide: false, lower: true, transposeA: true, unitDiagonal: false });
  below("||Y L^T - B||/||B||", relDiff(matmul(y, l, N, N, N, false, true), b));
});

test("qr: ||A - QR|| / ||A|| and ||Q^T Q - I||", () => {
  const a = randomMatrix(N * N, 15);
  const { q, r } = qr(a, 1, N, N, "reduced");
  below("||A - QR||/||A||", relDiff(matmul(q as Float64Array, r, N, N, N), a));
  below("||Q^T Q - I||", orthogonalityError(q as Float64Array, N, N));
});

test("eigh: ||A - V diag(w) V^T|| / ||A|| and ||V^T V - I||", () => {
  const g = randomMatrix(N * N, 16);
  const a = new Float64Array(N * N);
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) a[i * N + j] = g[Math.max(i, j) * N + Math.min(i, j)];
  const { w, v } = eigh(a, 1, N);
  const vw = Float64Array.from(v as Float64Array, (x, i) => x * w[i % N]);
  below("||A - VΛV^T||/||A||", relDiff(matmul(vw, v as Float64Array, N, N, N, false, true), a));
  below("||V^T V - I||", orthogonalityError(v as Float64Array, N, N));
  for (let i = 1; i < N; i++) assert.ok(w[i - 1] <= w[i], "ascending");
});

test("svd: ||A - U S Vt|| / ||A||, ||U^T U - I|| and ||V^T V - I||", () => {
  const a = randomMatrix(N * N, 17);
  const { u, s, vt } = svd(a, 1, N, N);
  const us = Float64Array.from(u as Float64Array, (x, i) => x * s[i % N]);
  below("||A - USV^T||/||A||", relDiff(matmul(us, vt as Float64Array, N, N, N), a));
  below("||U^T U - I||", orthogonalityError(u as Float64Array, N, N));
  below("||V^T V - I||", orthogonalityError(vt as Float64Array, N, N));
  for (let i = 1; i < N; i++) assert.ok(s[i - 1] >= s[i], "descending");
});

test.run();
