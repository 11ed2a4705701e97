// `npx tsx benchmarks/memory.bench.ts [maxSteps]`: memory per equation of a long scalar chain
// (y = sin(y), n times), measured with process.memoryUsage().heapUsed after a full garbage
// collection, at several lengths, so that linear growth shows as a constant bytes-per-equation:
//   grad      everything alive at the end of the forward pass inside grad (the linear jaxpr and
//             its residuals, just before the backward pass runs)
//   vjp       what a vjpFn keeps alive after vjp returns (the same linear jaxpr)
//   makeJaxpr the staged ClosedJaxpr of the chain
//   jvp       alive at the end of the chain inside jvp (forward mode stores nothing: ~0)
// Also reports the wall time of grad (a separate, unprobed run), to show it stays linear too.
//
// `npx tsx benchmarks/memory.bench.ts --first-call [n]` (n = 1e6 by default) instead runs the chain
// once per fresh process, eagerly and as jit's first call, plain and under grad, and reports the
// time and the peak resident memory (maxRSS) of each, and the heap a jitted function keeps for its
// signature afterwards.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";
import { grad, jit, jvp, makeJaxpr, np, vjp } from "../src/index.js";
import { machine, markdownTable } from "./timing.js";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

/** Heap in use after two full collections (the second picks up what finalizers released). */
function heap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** sin applied n times; `atEnd` runs inside the transformation, with the whole chain traced. */
const chain = (n: number, atEnd: () => void = () => {}) => (x: any) => {
  let y = x;
  for (let i = 0; i < n; i++) y = np.sin(y);
  atEnd();
  return y;
};

interface Row {
  n: number;
  grad: number;
  vjp: number;
  makeJaxpr: number;
  jvp: number;
  gradMs: number;
}

function measure(n: number): Row {
  let inside = 0;

  let base = heap();
  grad(chain(n, () => (inside = heap())))(0.5);
  const gradBytes = inside - base;
  heap();
  const t0 = performance.now();
  grad(chain(n))(0.5); // timed without the collections the measurement above forces
  const gradMs = performance.now() - t0;

  base = heap();
  let kept: unknown = vjp(chain(n), [0.5]);
  const vjpBytes = heap() - base;
  kept = null;

  base = heap();
  kept = makeJaxpr(chain(n))(0.5);
  const jaxprBytes = heap() - base;
  kept = null;

  base = heap();
  jvp(chain(n, () => (inside = heap())), [0.5], [1]);
  const jvpBytes = inside - base;

  void kept;
  return { n, grad: gradBytes / n, vjp: vjpBytes / n, makeJaxpr: jaxprBytes / n, jvp: jvpBytes / n, gradMs };
}

const args = process.argv.slice(2);
if (args[0] === "--child") firstCallChild(args[1], Number(args[2]));
else if (args[0] === "--first-call") firstCallTable(Number(args[1] ?? 1_000_000));
else perEquationTable(Number(args[0] ?? 1_000_000));

function perEquationTable(maxSteps: number): void {
  const sizes = [maxSteps / 8, maxSteps / 4, maxSteps / 2, maxSteps].map(Math.round);
  measure(10_000); // warm up the JIT so that code objects do not count as data

  const rows = sizes.map(measure);
  const fmt = (b: number) => b.toFixed(0);
  console.log(`memory per equation of a chain of sin, ${machine()}\n`);
  console.log(
    markdownTable(
      ["equations", "grad (B/eqn)", "vjp (B/eqn)", "makeJaxpr (B/eqn)", "jvp (B/eqn)", "grad time", "grad µs/eqn"],
      rows.map((r) => [String(r.n), fmt(r.grad), fmt(r.vjp), fmt(r.makeJaxpr), fmt(r.jvp), `${(r.gradMs / 1000).toFixed(2)} s`, ((1000 * r.gradMs) / r.n).toFixed(2)]),
    ),
  );
  const perEqn = rows.map((r) => r.grad);
  const spread = (Math.max(...perEqn) - Math.min(...perEqn)) / Math.min(...perEqn);
  console.log(`\ngrad bytes/equation vary by ${(100 * spread).toFixed(0)}% across a ${sizes[sizes.length - 1] / sizes[0]}x range of lengths: ${spread < 0.25 ? "linear growth" : "NOT linear"}`);
}

interface FirstCallRow {
  ms: number;
  /** Peak resident memory of the process, and before the call. */
  maxRss: number;
  rssBefore: number;
  /** Heap still used after the call (the jitted function kept alive), over the heap before. */
  kept: number;
}

/** One call of the chain in this (fresh) process, after warming the code paths on a short chain. */
function firstCallChild(mode: string, n: number): void {
  const x = np.array(0.5);
  const run = (k: number): unknown => {
    const f = chain(k);
    const g = mode === "eager" ? f : mode === "jit" ? jit(f) : mode === "grad" ? grad(f) : jit(grad(f));
    return [g, g(x)];
  };
  for (let i = 0; i < 3; i++) run(2000);
  const before = heap();
  const rssBefore = process.resourceUsage().maxRSS * 1024;
  const t0 = performance.now();
  const kept = run(n);
  const ms = performance.now() - t0;
  const row: FirstCallRow = { ms, maxRss: process.resourceUsage().maxRSS * 1024, rssBefore, kept: heap() - before };
  void kept;
  console.log(JSON.stringify(row));
}

function firstCallTable(n: number): void {
  const self = fileURLToPath(import.meta.url);
  const measure = (mode: string): FirstCallRow =>
    JSON.parse(execFileSync(process.execPath, [...process.execArgv, self, "--child", mode, String(n)], { encoding: "utf8" }).trim().split("\n").pop() as string);
  // Interleaved rounds, each call in a fresh process; medians.
  const modes = ["eager", "jit", "grad", "jit-grad"];
  const runs: Record<string, FirstCallRow[]> = Object.fromEntries(modes.map((m) => [m, []]));
  for (let r = 0; r < 3; r++) for (const m of modes) runs[m].push(measure(m));
  const med = (m: string, k: keyof FirstCallRow): number => runs[m].map((row) => row[k]).sort((a, b) => a - b)[1];
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
  console.log(`one call of a chain of ${n} sin operations on a 0-d float64 array, each in a fresh process (median of 3); ${machine()}\n`);
  console.log(
    markdownTable(
      ["call", "time", "peak RSS", "time vs eager", "peak RSS vs eager", "heap kept after"],
      modes.map((m) => {
        const base = m.endsWith("grad") ? "grad" : "eager";
        const label = { eager: "chain (eager)", jit: "jit(chain), first call", grad: "grad(chain) (eager)", "jit-grad": "jit(grad(chain)), first call" }[m];
        return [
          label as string,
          `${(med(m, "ms") / 1000).toFixed(2)} s`,
          mb(med(m, "maxRss")),
          `${(med(m, "ms") / med(base, "ms")).toFixed(2)}x`,
          `${(med(m, "maxRss") / med(base, "maxRss")).toFixed(2)}x`,
          mb(Math.max(0, med(m, "kept"))),
        ];
      }),
    ),
  );
}
