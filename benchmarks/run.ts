// `npm run bench`: eager jacobi against hand-written Float64Array loops, in one run on this
// machine, so that the ratios (not the absolute times) are what the table reports.
//   1. sum(log(x) + x*y - sin(y)) on 1e6-element float64 vectors vs one fused loop
//   2. 256x784 @ 784x512 float64 matmul vs a naive triple loop
//   3. grad of (1) w.r.t. x and y vs evaluating (1), and vs a fused gradient loop
//   4. valueAndGrad of (1) vs one hand-fused loop computing the value and both gradients, with
//      eager fusion on (the default) and off (every elementwise step its own pass and buffer)
// then the Jacobian sweep of jacobian.bench.ts (skip it with `--no-jacobian`; run it alone with
// `npm run bench:jacobian`).
import { grad, np, valueAndGrad } from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { eagerFusion } from "../src/backend/index.js";
import { type Timing, fmtMs, fmtRatio, machine, markdownTable, pairedRatio, randomArray, timeTogether } from "./timing.js";

const N = 1_000_000;
const ROUNDS = 11;
const [M, K, P] = [256, 784, 512];

const f = (x: Tensor, y: Tensor): Tensor => np.sum(np.subtract(np.add(np.log(x), np.multiply(x, y)), np.sin(y)));

function fusedF(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.log(x[i]) + x[i] * y[i] - Math.sin(y[i]);
  return s;
}

/** d/dx = 1/x + y and d/dy = x - cos(y), in one pass. */
function fusedGrad(x: Float64Array, y: Float64Array): [Float64Array, Float64Array] {
  const gx = new Float64Array(x.length), gy = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    gx[i] = 1 / x[i] + y[i];
    gy[i] = x[i] - Math.cos(y[i]);
  }
  return [gx, gy];
}

/** The value and both gradients in one pass (what the peers benchmark calls hand-fused JS). */
function fusedValueAndGrad(x: Float64Array, y: Float64Array): [number, Float64Array, Float64Array] {
  const gx = new Float64Array(x.length), gy = new Float64Array(x.length);
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const a = x[i], b = y[i];
    s += Math.log(a) + a * b - Math.sin(b);
    gx[i] = 1 / a + b;
    gy[i] = a - Math.cos(b);
  }
  return [s, gx, gy];
}

/** Runs `f` with eager fusion off: the unfused baseline, in the same process and rounds. */
function unfused<T>(f: () => T): T {
  eagerFusion.enabled = false;
  try {
    return f();
  } finally {
    eagerFusion.enabled = true;
  }
}

function naiveMatmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      c[i * n + j] = s;
    }
  }
  return c;
}

function check(what: string, got: ArrayLike<number>, want: ArrayLike<number>, rtol: number): void {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
  if (!(worst <= rtol) || got.length !== want.length) throw new Error(`benchmark ${what}: jacobi disagrees with the hand-written loop (relative error ${worst})`);
}

function runCore(): string {
  const xs = randomArray(N, 0.5, 2, 1), ys = randomArray(N, -3, 3, 2);
  const x = np.array(xs), y = np.array(ys);
  const as = randomArray(M * K, -1, 1, 3), bs = randomArray(K * P, -1, 1, 4);
  const A = np.reshape(np.array(as), [M, K]), B = np.reshape(np.array(bs), [K, P]);
  const g = grad(f, { argnums: [0, 1] });
  const vg = valueAndGrad(f, { argnums: [0, 1] });

  // Same numbers first: a fast wrong answer is not a result.
  check("elementwise", [f(x, y).item()], [fusedF(xs, ys)], 1e-9);
  check("matmul", np.matmul(A, B).toTypedArray(), naiveMatmul(as, bs, M, K, P), 1e-12);
  const [gx, gy] = g(x, y) as Tensor[];
  const [hx, hy] = fusedGrad(xs, ys);
  check("grad x", gx.toTypedArray(), hx, 1e-12);
  check("grad y", gy.toTypedArray(), hy, 1e-12);
  // Fused and unfused agree bit for bit (same operations in the same order).
  const [v1, [fx, fy]] = vg(x, y) as [Tensor, Tensor[]];
  const [v0, [ux, uy]] = unfused(() => vg(x, y)) as [Tensor, Tensor[]];
  check("valueAndGrad x", fx.toTypedArray(), ux.toTypedArray(), 0);
  check("valueAndGrad y", fy.toTypedArray(), uy.toTypedArray(), 0);
  check("valueAndGrad value", [v1.item()], [v0.item()], 0);

  // Interleaved rounds: a burst of load from other processes hits jacobi and its baseline alike.
  const t = timeTogether({
    eager: () => f(x, y),
    fused: () => fusedF(xs, ys),
    matmul: () => np.matmul(A, B),
    naive: () => naiveMatmul(as, bs, M, K, P),
    grad: () => g(x, y),
    gradFused: () => fusedGrad(xs, ys),
    vg: () => vg(x, y),
    vgUnfused: () => unfused(() => vg(x, y)),
    vgFused: () => fusedValueAndGrad(xs, ys),
  }, { rounds: ROUNDS, warmup: 2, minMs: 40 });
  const [tEager, tFused, tMat, tNaive, tGrad, tGradFused] = [t.eager, t.fused, t.matmul, t.naive, t.grad, t.gradFused];
  const ratio = (a: Timing, b: Timing) => pairedRatio((r) => a.samples[r], (r) => b.samples[r], ROUNDS);
  const rE = ratio(tEager, tFused), rM = ratio(tNaive, tMat), rG = ratio(tGrad, tEager), rGF = ratio(tGrad, tGradFused);
  const [tVg, tVgU, tVgF] = [t.vg, t.vgUnfused, t.vgFused];
  const rV = ratio(tVg, tVgF), rVU = ratio(tVgU, tVgF);
  const mark = (ok: boolean) => (ok ? "✓" : "✗");
  const rows = [
    ["`sum(log(x) + x*y - sin(y))`, n = 1e6, eager", fmtMs(tEager.ms), `fused loop ${fmtMs(tFused.ms)}`, `${fmtRatio(rE)} slower`, `≤ 3x slower ${mark(rE <= 3)}`],
    ["matmul 256x784 @ 784x512", fmtMs(tMat.ms), `naive triple loop ${fmtMs(tNaive.ms)}`, `${fmtRatio(rM)} faster`, `≥ 1x, aim 3x ${mark(rM >= 1)}${rM >= 3 ? " ✓" : ""}`],
    ["`grad` of the sum w.r.t. x and y", fmtMs(tGrad.ms), `evaluating f ${fmtMs(tEager.ms)}`, `${fmtRatio(rG)} slower`, `≤ 4x slower ${mark(rG <= 4)}`],
    ["`grad` of the sum w.r.t. x and y", fmtMs(tGrad.ms), `fused gradient loop ${fmtMs(tGradFused.ms)}`, `${fmtRatio(rGF)} slower`, "—"],
    ["`valueAndGrad` of the sum w.r.t. x and y", fmtMs(tVg.ms), `fused value+gradient loop ${fmtMs(tVgF.ms)}`, `${fmtRatio(rV)} slower`, `≤ 2x slower ${mark(rV <= 2)}`],
    ["same, eager fusion off", fmtMs(tVgU.ms), `fused value+gradient loop ${fmtMs(tVgF.ms)}`, `${fmtRatio(rVU)} slower`, "—"],
  ];
  return markdownTable(["benchmark", "jacobi", "baseline", "ratio", "target"], rows);
}

async function main(): Promise<void> {
  console.log(`## Eager speed (${machine()}; medians of ${ROUNDS} interleaved rounds after warm-up, ratios paired per round)\n`);
  console.log(runCore());
  if (!process.argv.includes("--no-jacobian")) {
    const { runJacobian } = await import("./jacobian.bench.js");
    console.log("");
    console.log(runJacobian());
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
