// jacfwd vs jacrev vs jacobian("auto") vs looped (one unbatched jvp per column, or one vjp
// linearization and a pullback per row), on f(x) = tanh(W x) for three (n inputs, m outputs)
// shapes, plus the Hessian of a scalar function of n = 200 inputs (the Jacobian of its gradient).
// `npm run bench:jacobian` prints this table alone; `npm run bench` prints it after the eager one.
import { grad, hessian, jacfwd, jacobian, jacrev, jvp, np, vjp } from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { fmtMs, fmtRatio, machine, markdownTable, pairedRatio, randomArray, timeTogether } from "./timing.js";

const ROUNDS = 25;

type F = (x: Tensor) => Tensor;

function unit(n: number, i: number): Tensor {
  const e = new Float64Array(n);
  e[i] = 1;
  return np.array(e);
}

/** The Jacobian one column at a time: a full JVP (primal included) per input direction. */
function loopedFwd(f: F, x: Tensor): Tensor {
  const n = x.size;
  const cols: Tensor[] = [];
  for (let i = 0; i < n; i++) cols.push(jvp(f, [x], [unit(n, i)])[1]);
  return np.stack(cols, -1);
}

/** The Jacobian one row at a time: one linearization, then a pullback per output direction. */
function loopedRev(f: F, x: Tensor): Tensor {
  const [y, back] = vjp(f, [x]);
  const m = (y as Tensor).size;
  const rows: Tensor[] = [];
  for (let j = 0; j < m; j++) rows.push(back(unit(m, j))[0]);
  return np.stack(rows, 0);
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  const x = a.toTypedArray(), y = b.toTypedArray();
  if (x.length !== y.length) return Infinity;
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  return d;
}

interface Row {
  label: string;
  n: number;
  m: number;
  fwd: () => Tensor;
  rev: () => Tensor;
  auto: () => Tensor;
  loopFwd: () => Tensor;
  loopRev: () => Tensor;
}

function tanhRow(n: number, m: number, seed: number): Row {
  // Scaled so that tanh stays away from saturation and every entry of the Jacobian matters.
  const W = np.reshape(np.array(randomArray(m * n, -1 / Math.sqrt(n), 1 / Math.sqrt(n), seed)), [m, n]);
  const x = np.array(randomArray(n, -1, 1, seed + 1));
  const f: F = (v) => np.tanh(np.matmul(W, v));
  return {
    label: `tanh(W x), n = ${n}, m = ${m}`,
    n,
    m,
    fwd: () => jacfwd(f)(x),
    rev: () => jacrev(f)(x),
    auto: () => jacobian(f)(x),
    loopFwd: () => loopedFwd(f, x),
    loopRev: () => loopedRev(f, x),
  };
}

/** The Hessian of g(x) = sum(tanh(W x)) + sum(x^3)/3: the Jacobian of the gradient (n = m). */
function hessianRow(n: number, seed: number): Row {
  const W = np.reshape(np.array(randomArray(n * n, -1 / Math.sqrt(n), 1 / Math.sqrt(n), seed)), [n, n]);
  const x = np.array(randomArray(n, -1, 1, seed + 1));
  const g: F = (v) => np.add(np.sum(np.tanh(np.matmul(W, v))), np.divide(np.sum(np.power(v, 3)), 3));
  const dg: F = grad(g);
  return {
    label: `Hessian of a scalar function, n = ${n}`,
    n,
    m: n,
    fwd: () => hessian(g)(x),
    rev: () => jacrev(dg)(x),
    auto: () => jacobian(dg)(x),
    loopFwd: () => loopedFwd(dg, x),
    loopRev: () => loopedRev(dg, x),
  };
}

export function runJacobian(): string {
  const rows = [tanhRow(10, 1000, 11), tanhRow(100, 100, 21), tanhRow(1000, 10, 31), hessianRow(200, 41)];
  const table: string[][] = [];
  const verdicts: string[] = [];
  for (const r of rows) {
    // Every method must produce the same Jacobian before its time means anything.
    const ref = r.fwd();
    for (const [name, fn] of [["jacrev", r.rev], ["auto", r.auto], ["looped fwd", r.loopFwd], ["looped rev", r.loopRev]] as const) {
      const d = maxAbsDiff(fn(), ref);
      if (!(d <= 1e-12)) throw new Error(`jacobian benchmark, ${r.label}: ${name} differs from jacfwd by ${d}`);
    }
    // Batched rows take well under a millisecond: single calls are interleaved in a shuffled
    // schedule, so collections and JIT state do not favour whoever ran first.
    const t = timeTogether({ fwd: r.fwd, rev: r.rev, auto: r.auto, loopFwd: r.loopFwd, loopRev: r.loopRev }, { rounds: ROUNDS, warmup: 2, minMs: 40, perCall: true });
    const at = (k: keyof typeof t) => (i: number) => t[k].samples[i];
    const fwdOverRev = pairedRatio(at("fwd"), at("rev"), ROUNDS);
    // The faster mode is decided once, by the medians; a per-round min of two near-equal noisy
    // times would be biased low and make any third contender look slow.
    const faster = at(fwdOverRev <= 1 ? "fwd" : "rev");
    const autoOverFaster = pairedRatio(at("auto"), faster, ROUNDS);
    // Batched against the better of the two loops.
    const loopedOverBatched = pairedRatio(at(t.loopFwd.ms <= t.loopRev.ms ? "loopFwd" : "loopRev"), faster, ROUNDS);
    const autoPick = r.n < r.m ? "fwd" : "rev";
    table.push([
      r.label,
      fmtMs(t.fwd.ms),
      fmtMs(t.rev.ms),
      `${fmtMs(t.auto.ms)} (${autoPick})`,
      fmtMs(t.loopFwd.ms),
      fmtMs(t.loopRev.ms),
      fmtRatio(fwdOverRev),
      `${autoOverFaster >= 1 ? "+" : ""}${((autoOverFaster - 1) * 100).toFixed(0)}%`,
      fmtRatio(loopedOverBatched),
    ]);
    verdicts.push(
      `${r.label}: ` +
        [
          r.n < r.m ? `fwd faster than rev ${fwdOverRev < 1 ? "✓" : "✗"}` : r.n > r.m ? `rev faster than fwd ${fwdOverRev > 1 ? "✓" : "✗"}` : null,
          `auto within 10% of the faster mode ${autoOverFaster <= 1.1 ? "✓" : "✗"}`,
          r.n === 100 ? `batched ≥ 5x faster than looped ${loopedOverBatched >= 5 ? "✓" : "✗"}` : null,
        ]
          .filter((s) => s !== null)
          .join(", "),
    );
  }
  const header = ["Jacobian", "jacfwd", "jacrev", "jacobian auto", "looped jvp", "looped vjp", "fwd / rev", "auto vs faster", "looped / batched"];
  return [
    `## Jacobians: batched (vmap over the basis) vs looped (${machine()}; medians of ${ROUNDS} rounds of shuffled interleaved calls, ratios paired per round)\n`,
    markdownTable(header, table),
    "",
    ...verdicts.map((v) => `- ${v}`),
  ].join("\n");
}

if (process.argv[1]?.endsWith("jacobian.bench.ts")) console.log(runJacobian());
