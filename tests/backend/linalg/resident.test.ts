// The blocked Cholesky and triangular solves with their matrices resident in WebAssembly memory
// (src/backend/wasm/resident.ts): the same results as the path through batchMatmul on JavaScript
// arrays (the wasm kernels switched off) to 1e-13, LAPACK-quality residuals, float32 and batches,
// the fallbacks when there is no workspace, and the workspace's own product (C -= A B on blocks,
// strided operands, rows shared with the worker threads).
import { test } from "uvu";
import { guardTraceState } from "../../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { availableParallelism } from "node:os";
import { cholesky, triangularSolve } from "../../../src/backend/linalg/index.js";
import { setWasmGemm, wasmGemmLimits } from "../../../src/backend/wasm/gemm.js";
import { f64Workspace, workspaceGemm, workspaceOf } from "../../../src/backend/wasm/resident.js";
import { addProduct, rows } from "../../../src/backend/linalg/subtract-product.js";
import { matmul, near, randomMatrix, relDiff, spdMatrix } from "./util.js";

const defaults = { ...wasmGemmLimits };

/** Runs `fn` with the wasm kernels on or off and the given limits, restoring both. */
function withWasm<T>(on: boolean, fn: () => T, limits: Partial<typeof defaults> = {}): T {
  const was = setWasmGemm(on);
  Object.assign(wasmGemmLimits, defaults, limits);
  try {
    return fn();
  } finally {
    setWasmGemm(was);
    Object.assign(wasmGemmLimits, defaults);
  }
}

/** A lower-triangular factor with a well-conditioned diagonal. */
const factorOf = (n: number, seed: number): Float64Array => cholesky(spdMatrix(n, seed), 1, n).l;

function stack(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

test("cholesky in wasm memory: the JavaScript path's factor to 1e-13, ||A - LL^T|| <= 1e-13 ||A||, batches", () => {
  for (const n of [33, 70, 200]) {
    const a = stack([spdMatrix(n, n), spdMatrix(n, n + 1)]);
    const got = withWasm(true, () => cholesky(a, 2, n));
    const want = withWasm(false, () => cholesky(a, 2, n));
    near(got.l, want.l, 1e-13, `cholesky n=${n}`);
    assert.equal(Array.from(got.info), [0, 0]);
    for (let t = 0; t < 2; t++) {
      const l = got.l.subarray(t * n * n, (t + 1) * n * n), at = a.subarray(t * n * n, (t + 1) * n * n);
      assert.ok(relDiff(matmul(l, l, n, n, n, false, true), at) <= 1e-13, `residual n=${n}`);
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) assert.is(l[i * n + j], 0);
    }
  }
});

test("cholesky in wasm memory: a matrix that is not positive definite is all NaN with LAPACK's info, its batch neighbour unharmed", () => {
  const n = 80;
  const bad = spdMatrix(n, 3);
  bad[50 * n + 50] = -1e6;
  const r = withWasm(true, () => cholesky(stack([bad, spdMatrix(n, 4)]), 2, n));
  assert.is(r.info[0], 51);
  assert.ok(r.l.subarray(0, n * n).every(Number.isNaN));
  assert.is(r.info[1], 0);
  near(r.l.subarray(n * n), withWasm(false, () => cholesky(spdMatrix(n, 4), 1, n)).l, 1e-13, "neighbour");
});

test("cholesky in wasm memory: float32 input is factored in float64 and rounded once", () => {
  const n = 64;
  const a = spdMatrix(n, 9);
  const got = withWasm(true, () => cholesky(Float32Array.from(a), 1, n));
  assert.instance(got.l, Float32Array);
  near(got.l, Float32Array.from(withWasm(false, () => cholesky(Float64Array.from(Float32Array.from(a)), 1, n)).l), 1e-6, "float32");
});

test("triangular solves in wasm memory, every side, triangle, transpose and diagonal: the JavaScript path's X to 1e-13", () => {
  const n = 150;
  const lower = factorOf(n, 21);
  const upper = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) upper[i * n + j] = lower[j * n + i];
  for (const [m, k] of [[n, 120], [90, n], [n, 2], [n, 1], [1, n]] as const) {
    const b = randomMatrix(m * k, m + k);
    for (const leftSide of [true, false]) {
      if ((leftSide ? m : k) !== n) continue;
      for (const lowerA of [true, false]) for (const transposeA of [false, true]) for (const unitDiagonal of [false, true]) {
        const opts = { leftSide, lower: lowerA, transposeA, unitDiagonal };
        const a = lowerA ? lower : upper;
        const got = withWasm(true, () => triangularSolve(a, b, 1, m, k, opts));
        const want = withWasm(false, () => triangularSolve(a, b, 1, m, k, opts));
        near(got, want, 1e-13, `${m}x${k} ${JSON.stringify(opts)}`);
      }
    }
  }
});

test("triangular solves in wasm memory: residuals, a shared triangle for a batch, batches of triangles, float32", () => {
  const n = 200;
  const l = factorOf(n, 31), l2 = factorOf(n, 32);
  const b = stack([randomMatrix(n * n, 33), randomMatrix(n * n, 34)]);
  const opts = { leftSide: true, lower: true, transposeA: false, unitDiagonal: false };
  const shared = withWasm(true, () => triangularSolve(l, b, 2, n, n, opts));
  const each = withWasm(true, () => triangularSolve(stack([l, l2]), b, 2, n, n, opts));
  for (let t = 0; t < 2; t++) {
    const bt = b.subarray(t * n * n, (t + 1) * n * n);
    assert.ok(relDiff(matmul(l, shared.subarray(t * n * n, (t + 1) * n * n), n, n, n), bt) <= 1e-13, `shared ${t}`);
    assert.ok(relDiff(matmul(t === 0 ? l : l2, each.subarray(t * n * n, (t + 1) * n * n), n, n, n), bt) <= 1e-13, `own ${t}`);
  }
  const right = withWasm(true, () => triangularSolve(l, b.subarray(0, n * n), 1, n, n, { ...opts, leftSide: false, transposeA: true }));
  assert.ok(relDiff(matmul(right, l, n, n, n, false, true), b.subarray(0, n * n)) <= 1e-13, "X L^T = B");
  const f32 = withWasm(true, () => triangularSolve(Float32Array.from(l), Float32Array.from(b.subarray(0, n * n)), 1, n, n, opts));
  assert.instance(f32, Float32Array);
  near(f32, Float32Array.from(withWasm(false, () => triangularSolve(Float64Array.from(Float32Array.from(l)), Float64Array.from(Float32Array.from(b.subarray(0, n * n))), 1, n, n, opts))), 1e-6, "float32");
});

/** X with X T = B for lower T (T[i][j] read at i * n + j, or at j * n + i when `transposed`), by column substitution. */
function rightSolveNaive(t: Float64Array, b: Float64Array, m: number, n: number, transposed: boolean, unit: boolean): Float64Array {
  const at = (i: number, j: number) => (transposed ? t[j * n + i] : t[i * n + j]);
  const x = new Float64Array(m * n);
  for (let r = 0; r < m; r++) {
    for (let j = n - 1; j >= 0; j--) {
      let v = b[r * n + j];
      for (let p = j + 1; p < n; p++) v -= x[r * n + p] * at(p, j);
      x[r * n + j] = unit ? v : v / at(j, j);
    }
  }
  return x;
}

test("X T = B with B lower triangular: X is lower triangular and its zero rows are skipped; the substitution's X", () => {
  const n = 120;
  const lower = factorOf(n, 71);
  const upper = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) upper[i * n + j] = lower[j * n + i];
  for (const m of [n, 100, 150]) {
    const b = randomMatrix(m * n, 72 + m);
    for (let i = 0; i < m; i++) for (let j = i + 1; j < n; j++) b[i * n + j] = 0;
    for (const on of [true, false]) for (const unitDiagonal of [false, true]) {
      // op(A) lower: A lower as it is, or A upper transposed.
      for (const [a, lowerA, transposeA] of [[lower, true, false], [upper, false, true]] as const) {
        const x = withWasm(on, () => triangularSolve(a, b, 1, m, n, { leftSide: false, lower: lowerA, transposeA, unitDiagonal }));
        near(x, rightSolveNaive(lower, b, m, n, false, unitDiagonal), 1e-12, `m=${m} wasm ${on} unit ${unitDiagonal} lower ${lowerA}`);
        for (let i = 0; i < m; i++) for (let j = i + 1; j < n; j++) assert.is(x[i * n + j], 0);
      }
    }
  }
});

test("X T = B with B lower triangular and T not finite or with a zero pivot: the full solve, NaN where it lands", () => {
  const n = 100;
  const b = randomMatrix(n * n, 81);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) b[i * n + j] = 0;
  const opts = { leftSide: false, lower: true, transposeA: false, unitDiagonal: false };
  const nan = factorOf(n, 82);
  nan[90 * n + 80] = NaN;
  const zero = factorOf(n, 83);
  zero[70 * n + 70] = 0;
  for (const on of [true, false]) {
    // Column 80 depends on row 90 of T: every row of X gets NaN in columns 0..80, the upper part included.
    const x = withWasm(on, () => triangularSolve(nan, b, 1, n, n, opts));
    assert.ok(Number.isNaN(x[10 * n + 50]), "NaN above the diagonal");
    const y = withWasm(on, () => triangularSolve(zero, b, 1, n, n, opts));
    assert.not.ok(Number.isFinite(y[10 * n + 70]), "a zero pivot divides the upper part too");
    // With a unit diagonal the diagonal is not read: NaN there changes nothing.
    const unit = factorOf(n, 84);
    unit[30 * n + 30] = NaN;
    const u = withWasm(on, () => triangularSolve(unit, b, 1, n, n, { ...opts, unitDiagonal: true }));
    near(u, rightSolveNaive(factorOf(n, 84), b, n, n, false, true), 1e-12, "unit diagonal");
  }
});

test("without a workspace (kernels off, or more memory than the module keeps) the kernels run on JavaScript arrays", () => {
  assert.is(withWasm(false, () => f64Workspace(100, 10)), null);
  assert.is(withWasm(true, () => f64Workspace(1 << 20, 100), { keepBytes: 1 << 20 }), null);
  const n = 100;
  const a = spdMatrix(n, 41), b = randomMatrix(n * n, 42);
  const opts = { leftSide: true, lower: true, transposeA: true, unitDiagonal: false };
  const small = { keepBytes: 4096 };
  near(withWasm(true, () => cholesky(a, 1, n), small).l, withWasm(true, () => cholesky(a, 1, n)).l, 1e-13, "cholesky");
  const l = factorOf(n, 43);
  near(withWasm(true, () => triangularSolve(l, b, 1, n, n, opts), small), withWasm(true, () => triangularSolve(l, b, 1, n, n, opts)), 1e-13, "solve");
});

test("a workspace the memory cannot grow to hold is refused", () => {
  // 2^30 float64 values are 8 GiB, past the 4 GiB a wasm32 memory can reach.
  assert.is(withWasm(true, () => f64Workspace(2 ** 30, 1), { keepBytes: 2 ** 40 }), null);
});

/** C - A B (or + when add) for row-major A m x k, B k x n, C m x n. */
function reference(c: Float64Array, a: Float64Array, b: Float64Array, m: number, k: number, n: number, add: boolean): Float64Array {
  const p = matmul(a, b, m, k, n);
  return Float64Array.from(c, (x, i) => (add ? x + p[i] : x - p[i]));
}

test("workspaceGemm: C -= A B and C += A B on blocks with rows ldc apart, operands read through strides", () => {
  const [m, k, n, ldc] = [13, 7, 9, 20];
  const a = randomMatrix(m * k, 51), b = randomMatrix(k * n, 52), c = randomMatrix(m * n, 53);
  for (const add of [false, true]) {
    const got = withWasm(true, () => {
      const ws = f64Workspace(2000, 32, 10);
      if (ws === null) throw new Error("no workspace");
      const h = ws.heap;
      assert.is(workspaceOf(h), ws);
      assert.is(ws.scratch, 2000);
      // A stored transposed (k x m) at 0, B row-major at 200, C as a block of a 20-column matrix at 400.
      for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) h[p * m + i] = a[i * k + p];
      h.set(b, 200);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) h[400 + i * ldc + j] = c[i * n + j];
      h[400 + 5 * ldc + n] = 12345; // past C's columns: must stay
      workspaceGemm(ws, 400, ldc, 0, 1, m, 200, n, 1, m, k, n, add);
      assert.is(h[400 + 5 * ldc + n], 12345);
      return Float64Array.from({ length: m * n }, (_, t) => h[400 + Math.floor(t / n) * ldc + (t % n)]);
    });
    near(got, reference(c, a, b, m, k, n, add), 1e-14, add ? "+=" : "-=");
  }
  assert.is(workspaceOf(new Float64Array(4)), null);
});

test("addProduct into a workspace: operands elsewhere or another alpha are added in place, never through batchMatmul", () => {
  const [m, k, n] = [30, 20, 25];
  const a = randomMatrix(m * k, 91), b = randomMatrix(k * n, 92), c = randomMatrix(m * n, 93);
  const p = matmul(a, b, m, k, n);
  for (const [alpha, resident] of [[2, true], [-1, false]] as const) {
    const got = withWasm(true, () => {
      const ws = f64Workspace(4000, 64);
      if (ws === null) throw new Error("no workspace");
      const h = ws.heap;
      h.set(c, 3000);
      // A sentinel where batchMatmul would place its first operand.
      h[0] = 777;
      if (resident) {
        h.set(a, 1000);
        h.set(b, 2000);
      }
      addProduct(h, 3000, n, rows(resident ? h : a, resident ? 1000 : 0, k), rows(resident ? h : b, resident ? 2000 : 0, n), m, k, n, alpha);
      assert.is(h[0], 777);
      return h.slice(3000, 3000 + m * n);
    });
    near(got, Float64Array.from(c, (x, i) => x + alpha * p[i]), 1e-13, `alpha ${alpha}`);
  }
});

test("workspaceGemm: large products shared with the worker threads give the single thread's bits", () => {
  const [m, k, n] = [96, 64, 80];
  const a = randomMatrix(m * k, 61), b = randomMatrix(k * n, 62), c = randomMatrix(m * n, 63);
  const run = (threads: number): Float64Array =>
    withWasm(true, () => {
      const ws = f64Workspace(m * k + k * n + m * n, 100);
      if (ws === null) throw new Error("no workspace");
      assert.is(ws.areas.length, Math.min(threads, availableParallelism()));
      const h = ws.heap;
      h.set(a, 0);
      h.set(b, m * k);
      h.set(c, m * k + k * n);
      workspaceGemm(ws, m * k + k * n, n, 0, k, 1, m * k, n, 1, m, k, n);
      return h.slice(m * k + k * n, m * k + k * n + m * n);
    }, { threads, threadMinWork: 1, load: () => 0 });
  const one = run(1);
  near(one, reference(c, a, b, m, k, n, false), 1e-13, "one thread");
  assert.equal(Array.from(run(2)), Array.from(one));
});

test.run();
