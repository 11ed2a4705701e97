// `npx tsx --expose-gc benchmarks/linalg-kernels.bench.ts`: the dense linear-algebra kernels of
// src/backend/linalg against straightforward textbook JS (unblocked Cholesky-Banachiewicz,
// Doolittle LU with partial pivoting and substitution), in one run on this machine: Cholesky,
// LU solve (one right-hand side) and slogdet of one 200 x 200 matrix and of a batch of 64 32 x 32
// ones, and a triangular solve with 200 right-hand sides (L X = B, 200 x 200: the size of the
// solves in the gradient of a GP marginal likelihood) against substitution. Medians of interleaved rounds (benchmarks/timing.ts). When Debian's python3 has NumPy, its
// times for the same operations (single-threaded BLAS, medians of its own rounds) are an
// optional last column.
import { spawnSync } from "node:child_process";
import { cholesky, slogdet, solve, triangularSolve } from "../src/backend/linalg/index.js";
import { fmtMs, fmtRatio, machine, markdownTable, pairedRatio, randomArray, timeTogether, spdStack } from "./timing.js";

const ROUNDS = 15;

// ---- textbook baselines ----

function textbookCholesky(a: Float64Array, batch: number, n: number): Float64Array {
  const l = new Float64Array(a.length);
  for (let t = 0; t < batch; t++) {
    const o = t * n * n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        let s = a[o + i * n + j];
        for (let k = 0; k < j; k++) s -= l[o + i * n + k] * l[o + j * n + k];
        l[o + i * n + j] = i === j ? Math.sqrt(s) : s / l[o + j * n + j];
      }
    }
  }
  return l;
}

/** Doolittle LU with partial pivoting, in place on a copy; returns [lu, perm, swaps]. */
function textbookLu(a: Float64Array, o: number, n: number): [Float64Array, Int32Array, number] {
  const m = a.slice(o, o + n * n);
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  let swaps = 0;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]) > Math.abs(m[p * n + k])) p = i;
    if (p !== k) {
      swaps++;
      for (let j = 0; j < n; j++) [m[k * n + j], m[p * n + j]] = [m[p * n + j], m[k * n + j]];
      [perm[k], perm[p]] = [perm[p], perm[k]];
    }
    for (let i = k + 1; i < n; i++) {
      const f = (m[i * n + k] /= m[k * n + k]);
      for (let j = k + 1; j < n; j++) m[i * n + j] -= f * m[k * n + j];
    }
  }
  return [m, perm, swaps];
}

function textbookSolve(a: Float64Array, b: Float64Array, batch: number, n: number): Float64Array {
  const x = new Float64Array(batch * n);
  for (let t = 0; t < batch; t++) {
    const [m, perm] = textbookLu(a, t * n * n, n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = b[t * n + perm[i]];
      for (let j = 0; j < i; j++) s -= m[i * n + j] * y[j];
      y[i] = s;
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i];
      for (let j = i + 1; j < n; j++) s -= m[i * n + j] * x[t * n + j];
      x[t * n + i] = s / m[i * n + i];
    }
  }
  return x;
}

function textbookSlogdet(a: Float64Array, batch: number, n: number): Float64Array {
  const out = new Float64Array(batch);
  for (let t = 0; t < batch; t++) {
    const [m] = textbookLu(a, t * n * n, n);
    let l = 0;
    for (let i = 0; i < n; i++) l += Math.log(Math.abs(m[i * n + i]));
    out[t] = l;
  }
  return out;
}

/** L X = B by forward substitution, row by row (each solved row subtracted from the rows below it). */
function textbookTriangularSolve(l: Float64Array, b: Float64Array, n: number, k: number): Float64Array {
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < i; p++) {
      const f = l[i * n + p];
      for (let c = 0; c < k; c++) x[i * k + c] -= f * x[p * k + c];
    }
    const d = l[i * n + i];
    for (let c = 0; c < k; c++) x[i * k + c] /= d;
  }
  return x;
}

function check(what: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
  if (!(worst <= 1e-9) || got.length !== want.length) throw new Error(`benchmark ${what}: kernel and textbook disagree (relative error ${worst})`);
}

// ---- NumPy, optional ----

const PY = "/usr/bin/python3";
const NUMPY_SCRIPT = `
import json, time, os
import numpy as np
rng = np.random.default_rng(0)
def spd(b, n):
    g = rng.uniform(-1, 1, (b, n, n))
    return g @ np.swapaxes(g, -1, -2) + n * np.eye(n)
def median_ms(f, rounds=9):
    f()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n): f()
        if time.perf_counter() - t0 >= 0.02 or n >= 1 << 16: break
        n *= 2
    ts = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n): f()
        ts.append((time.perf_counter() - t0) / n * 1000)
    return sorted(ts)[len(ts) // 2]
out = {}
for tag, b, n in (("200", 1, 200), ("64x32", 64, 32)):
    a = spd(b, n)
    if b == 1: a = a[0]
    rhs = rng.uniform(-1, 1, a.shape[:-1] + (1,))
    out["cholesky " + tag] = median_ms(lambda: np.linalg.cholesky(a))
    out["solve " + tag] = median_ms(lambda: np.linalg.solve(a, rhs))
    out["slogdet " + tag] = median_ms(lambda: np.linalg.slogdet(a))
try:
    import scipy.linalg
    l = np.linalg.cholesky(spd(1, 200)[0])
    rhs = rng.uniform(-1, 1, (200, 200))
    out["triangularSolve 200"] = median_ms(lambda: scipy.linalg.solve_triangular(l, rhs, lower=True))
except ImportError:
    pass
out["version"] = np.__version__
print(json.dumps(out))
`;

function numpyTimes(): Record<string, number | string> | null {
  const probe = spawnSync(PY, ["-c", "import numpy"], { encoding: "utf8" });
  if (probe.status !== 0) return null;
  const env = { ...process.env, OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
  const run = spawnSync(PY, ["-c", NUMPY_SCRIPT], { encoding: "utf8", env });
  if (run.status !== 0) return null;
  return JSON.parse(run.stdout) as Record<string, number | string>;
}

// ---- run ----

function main(): void {
  const cases: [string, number, number][] = [["200", 1, 200], ["64x32", 64, 32]];
  const np = numpyTimes();
  const rows: string[][] = [];
  for (const [tag, batch, n] of cases) {
    const a = spdStack(batch, n, 1 + n);
    const b = randomArray(batch * n, -1, 1, 2 + n);
    check(`cholesky ${tag}`, cholesky(a, batch, n).l, textbookCholesky(a, batch, n));
    check(`solve ${tag}`, solve(a, b, batch, n, 1), textbookSolve(a, b, batch, n));
    check(`slogdet ${tag}`, slogdet(a, batch, n).logabsdet, textbookSlogdet(a, batch, n));
    const t = timeTogether({
      cholesky: () => cholesky(a, batch, n),
      choleskyTextbook: () => textbookCholesky(a, batch, n),
      solve: () => solve(a, b, batch, n, 1),
      solveTextbook: () => textbookSolve(a, b, batch, n),
      slogdet: () => slogdet(a, batch, n),
      slogdetTextbook: () => textbookSlogdet(a, batch, n),
    }, { rounds: ROUNDS, warmup: 3, minMs: 20 });
    const shape = batch === 1 ? `${n}x${n}` : `${batch} x ${n}x${n}`;
    for (const op of ["cholesky", "solve", "slogdet"] as const) {
      const k = t[op], base = t[`${op}Textbook`];
      const speedup = pairedRatio((r) => base.samples[r], (r) => k.samples[r], ROUNDS);
      const ref = np ? np[`${op} ${tag}`] : undefined;
      rows.push([`${op} ${shape}`, fmtMs(k.ms), fmtMs(base.ms), `${fmtRatio(speedup)}`, typeof ref === "number" ? fmtMs(ref) : "—"]);
    }
  }
  {
    const n = 200, l = cholesky(spdStack(1, n, 3), 1, n).l, b = randomArray(n * n, -1, 1, 4);
    const opts = { leftSide: true, lower: true, transposeA: false, unitDiagonal: false };
    check("triangularSolve 200", triangularSolve(l, b, 1, n, n, opts), textbookTriangularSolve(l, b, n, n));
    const t = timeTogether({ kernel: () => triangularSolve(l, b, 1, n, n, opts), textbook: () => textbookTriangularSolve(l, b, n, n) }, { rounds: ROUNDS, warmup: 3, minMs: 20 });
    const speedup = pairedRatio((r) => t.textbook.samples[r], (r) => t.kernel.samples[r], ROUNDS);
    const ref = np ? np["triangularSolve 200"] : undefined;
    rows.push(["triangularSolve 200x200, 200 right-hand sides", fmtMs(t.kernel.ms), fmtMs(t.textbook.ms), fmtRatio(speedup), typeof ref === "number" ? `${fmtMs(ref)} (SciPy)` : "—"]);
  }
  console.log(`## Linear-algebra kernels (${machine()}; medians of ${ROUNDS} interleaved rounds, ratios paired per round)\n`);
  const npHead = np ? `NumPy ${np.version} (1 thread)` : "NumPy (not installed)";
  console.log(markdownTable(["operation", "kernel", "textbook JS", "kernel speed-up", npHead], rows));
}

main();
