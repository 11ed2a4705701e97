// `npx tsx --expose-gc benchmarks/linalg.bench.ts`: np.linalg through the public API (eager), in
// one run on this machine:
//   1. cholesky, solve (one right-hand side) and slogdet of one 200 x 200 matrix and of a batch of
//      64 32 x 32 ones, beside the bare kernels they call (the difference is the API's own cost:
//      tracing-free dispatch, symmetrization, the LU composites) and NumPy (optional).
//   2. The gradient of a Gaussian-process log marginal likelihood (n = 200, squared-exponential
//      kernel; log lengthscale, log signal and log noise scales) by grad, eager and under jit,
//      beside a straightforward JS gradient (textbook Cholesky, explicit inverse, the trace formula
//      0.5 tr((a a^T - K^-1) dK)) and torch autograd (optional, one thread).
// Medians of interleaved rounds (benchmarks/timing.ts). Python rows come from Debian's python3 when
// it has NumPy / torch.
import { spawnSync } from "node:child_process";
import { cholesky as kCholesky, slogdet as kSlogdet, solve as kSolve } from "../src/backend/linalg/index.js";
import { type Tensor, grad, jit, np, scipy } from "../src/index.js";
import { fmtMs, fmtRatio, machine, markdownTable, pairedRatio, randomArray, timeTogether, spdStack } from "./timing.js";

const ROUNDS = 11;
const N_GP = 200;

// ---- the GP log marginal likelihood ----

/** Inputs on [0, 10) with a small deterministic jitter, targets a smooth function: the same data in JS and Python. */
const gpX = Array.from({ length: N_GP }, (_, i) => (10 * i) / N_GP + 0.01 * Math.sin(7 * i));
const gpY = gpX.map((x) => Math.sin(x) + 0.1 * Math.cos(3 * x));
const THETA = { logEll: 0.2, logSf: 0.1, logSn: -1.5 };

type Hyper = { logEll: Tensor; logSf: Tensor; logSn: Tensor };
const X = np.array(gpX), Y = np.array(gpY), EYE = np.eye(N_GP);
const D2 = np.square(np.subtract(np.reshape(X, [N_GP, 1]), np.reshape(X, [1, N_GP])));

function lml(p: Hyper): Tensor {
  const kse = np.multiply(np.exp(np.multiply(2, p.logSf)), np.exp(np.multiply(-0.5, np.multiply(D2, np.exp(np.multiply(-2, p.logEll))))));
  const k = np.add(kse, np.multiply(np.exp(np.multiply(2, p.logSn)), EYE));
  const l = np.linalg.cholesky(k);
  const alpha = scipy.linalg.choSolve([l, true], Y);
  const halfLogdet = np.sum(np.log(np.sum(np.multiply(l, EYE), 1)));
  return np.subtract(np.subtract(np.multiply(-0.5, np.dot(Y, alpha)), halfLogdet), 0.5 * N_GP * Math.log(2 * Math.PI));
}
const lmlGrad = grad(lml);
const lmlGradJit = jit(grad(lml));
const theta: Hyper = { logEll: np.array(THETA.logEll), logSf: np.array(THETA.logSf), logSn: np.array(THETA.logSn) };

/** The straightforward JS gradient: [d/dlogEll, d/dlogSf, d/dlogSn]. */
function textbookGpGrad(): number[] {
  const n = N_GP;
  const ell2 = Math.exp(2 * THETA.logEll), sf2 = Math.exp(2 * THETA.logSf), sn2 = Math.exp(2 * THETA.logSn);
  const kse = new Float64Array(n * n), d2 = new Float64Array(n * n), l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      d2[i * n + j] = (gpX[i] - gpX[j]) ** 2;
      kse[i * n + j] = sf2 * Math.exp((-0.5 * d2[i * n + j]) / ell2);
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = kse[i * n + j] + (i === j ? sn2 : 0);
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = i === j ? Math.sqrt(s) : s / l[j * n + j];
    }
  }
  // L^-1 column by column, then K^-1 = L^-T L^-1 and alpha = K^-1 y.
  const li = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    for (let i = c; i < n; i++) {
      let s = i === c ? 1 : 0;
      for (let k = c; k < i; k++) s -= l[i * n + k] * li[k * n + c];
      li[i * n + c] = s / l[i * n + i];
    }
  }
  const kinv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += li[k * n + i] * li[k * n + j];
      kinv[i * n + j] = kinv[j * n + i] = s;
    }
  }
  const alpha = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += kinv[i * n + j] * gpY[j];
    alpha[i] = s;
  }
  let gEll = 0, gSf = 0, gSn = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const w = alpha[i] * alpha[j] - kinv[i * n + j];
      gEll += w * kse[i * n + j] * (d2[i * n + j] / ell2);
      gSf += w * 2 * kse[i * n + j];
      if (i === j) gSn += w * 2 * sn2;
    }
  }
  return [0.5 * gEll, 0.5 * gSf, 0.5 * gSn];
}

// ---- Python references, optional ----

const PY = "/usr/bin/python3";
const PY_SCRIPT = `
import json, time, math
import numpy as np
out = {"numpy": np.__version__}
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
rng = np.random.default_rng(0)
for tag, b, n in (("200", 1, 200), ("64x32", 64, 32)):
    g = rng.uniform(-1, 1, (b, n, n))
    a = g @ np.swapaxes(g, -1, -2) + n * np.eye(n)
    if b == 1: a = a[0]
    rhs = rng.uniform(-1, 1, a.shape[:-1])
    out["cholesky " + tag] = median_ms(lambda: np.linalg.cholesky(a))
    out["solve " + tag] = median_ms(lambda: np.linalg.solve(a, rhs[..., None]))
    out["slogdet " + tag] = median_ms(lambda: np.linalg.slogdet(a))
try:
    import torch
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    n = ${N_GP}
    x = torch.tensor([10 * i / n + 0.01 * math.sin(7 * i) for i in range(n)])
    y = torch.sin(x) + 0.1 * torch.cos(3 * x)
    d2 = (x[:, None] - x[None, :]) ** 2
    def gp_grad():
        p = torch.tensor([${THETA.logEll}, ${THETA.logSf}, ${THETA.logSn}], requires_grad=True)
        k = torch.exp(2 * p[1]) * torch.exp(-0.5 * d2 * torch.exp(-2 * p[0])) + torch.exp(2 * p[2]) * torch.eye(n)
        l = torch.linalg.cholesky(k)
        alpha = torch.cholesky_solve(y[:, None], l)[:, 0]
        v = -0.5 * y @ alpha - torch.log(torch.diagonal(l)).sum() - 0.5 * n * math.log(2 * math.pi)
        return torch.autograd.grad(v, p)[0]
    out["gp grad"] = median_ms(gp_grad)
    out["gp grad value"] = gp_grad().tolist()
    out["torch"] = torch.__version__
except ImportError:
    pass
print(json.dumps(out))
`;

function pythonTimes(): Record<string, unknown> | null {
  const env = { ...process.env, OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
  const run = spawnSync(PY, ["-c", PY_SCRIPT], { encoding: "utf8", env });
  if (run.status !== 0) return null;
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

function agree(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-9): void {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
  if (!(worst <= tol) || got.length !== want.length) throw new Error(`benchmark ${what}: results disagree (relative error ${worst})`);
}

// ---- run ----

function main(): void {
  const py = pythonTimes();
  const ref = (k: string) => (py && typeof py[k] === "number" ? fmtMs(py[k] as number) : "—");
  const rows: string[][] = [];
  for (const [tag, batch, n] of [["200", 1, 200], ["64x32", 64, 32]] as const) {
    const a = spdStack(batch, n, 1 + n), b = randomArray(batch * n, -1, 1, 2 + n);
    const shape = batch === 1 ? [n, n] : [batch, n, n];
    const A = np.reshape(np.array(a), shape), B = np.reshape(np.array(b), [...shape.slice(0, -1), 1]);
    agree(`cholesky ${tag}`, np.linalg.cholesky(A).toTypedArray(), kCholesky(a, batch, n).l);
    agree(`solve ${tag}`, np.linalg.solve(A, B).toTypedArray(), kSolve(a, b, batch, n, 1));
    agree(`slogdet ${tag}`, np.linalg.slogdet(A)[1].toTypedArray(), kSlogdet(a, batch, n).logabsdet);
    const t = timeTogether({
      cholesky: () => np.linalg.cholesky(A),
      choleskyKernel: () => kCholesky(a, batch, n),
      solve: () => np.linalg.solve(A, B),
      solveKernel: () => kSolve(a, b, batch, n, 1),
      slogdet: () => np.linalg.slogdet(A),
      slogdetKernel: () => kSlogdet(a, batch, n),
    }, { rounds: ROUNDS, warmup: 3, minMs: 20 });
    const label = batch === 1 ? `${n}x${n}` : `${batch} x ${n}x${n}`;
    for (const op of ["cholesky", "solve", "slogdet"] as const) {
      const overhead = pairedRatio((r) => t[op].samples[r], (r) => t[`${op}Kernel`].samples[r], ROUNDS);
      rows.push([`np.linalg.${op} ${label}`, fmtMs(t[op].ms), fmtMs(t[`${op}Kernel`].ms), fmtRatio(overhead), ref(`${op} ${tag}`)]);
    }
  }
  console.log(`## np.linalg, eager (${machine()}; medians of ${ROUNDS} interleaved rounds)\n`);
  const npHead = py ? `NumPy ${py.numpy} (1 thread)` : "NumPy (not installed)";
  console.log(markdownTable(["operation", "jacobi", "bare kernel", "jacobi / kernel", npHead], rows));

  const want = textbookGpGrad();
  const got = lmlGrad(theta);
  agree("GP gradient (eager)", [got.logEll.item(), got.logSf.item(), got.logSn.item()], want, 1e-8);
  const gj = lmlGradJit(theta);
  agree("GP gradient (jit)", [gj.logEll.item(), gj.logSf.item(), gj.logSn.item()], want, 1e-8);
  if (py && Array.isArray(py["gp grad value"])) agree("GP gradient (torch)", py["gp grad value"] as number[], want, 1e-8);
  const t = timeTogether({ eager: () => lmlGrad(theta), jit: () => lmlGradJit(theta), textbook: () => textbookGpGrad() }, { rounds: ROUNDS, warmup: 3, minMs: 50 });
  const vsText = (k: "eager" | "jit") => fmtRatio(pairedRatio((r) => t.textbook.samples[r], (r) => t[k].samples[r], ROUNDS));
  console.log(`\n## Gradient of a GP log marginal likelihood, n = ${N_GP} (3 hyperparameters; goal < 10 ms)\n`);
  console.log(
    markdownTable(
      ["implementation", "time", "speed-up over textbook JS"],
      [
        ["jacobi grad, eager", fmtMs(t.eager.ms), vsText("eager")],
        ["jacobi jit(grad)", fmtMs(t.jit.ms), vsText("jit")],
        ["textbook JS (hand-derived gradient)", fmtMs(t.textbook.ms), "1.00x"],
        [py && py.torch ? `torch ${py.torch} autograd (1 thread)` : "torch (not installed)", ref("gp grad"), "—"],
      ],
    ),
  );
}

main();
