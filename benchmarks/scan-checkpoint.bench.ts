// Reverse mode through a long scan: storing every step's residuals against revolve's binomial
// checkpointing with a few snapshots. Reports time, the live bytes held (after GC) and the
// recomputed steps against the binomial optimum.
//   npx tsx --expose-gc benchmarks/scan-checkpoint.bench.ts [steps] [width]
import { type Tensor, lax, np, vjp } from "../src/index.js";
import { optimalRecomputation } from "../src/primitives/control-flow/revolve.js";
import { revolveStats } from "../src/primitives/control-flow/scan.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");
const live = (): number => {
  gc();
  gc();
  return process.memoryUsage().arrayBuffers;
};

const T = Number(process.argv[2] ?? 100000), n = Number(process.argv[3] ?? 100);
const body = (c: Tensor, x: Tensor) => [np.sin(c).mul(0.5).add(x), c.sum()];
const run = (snapshots?: number) => (c0: Tensor, xs: Tensor) => {
  const [c, ys] = lax.scan(body, c0, xs, snapshots === undefined ? {} : { checkpoint: { snapshots } });
  return c.sum().add(ys.sum());
};
const c0 = np.array(Array.from({ length: n }, (_, i) => Math.cos(i)));
const xs = np.array(Array.from({ length: T }, (_, i) => 0.001 * (i % 7))).reshape([T, 1]);

console.log(`grad of a ${T}-step scan, carry of ${n} float64 (${(n * 8 / 1024).toFixed(1)} KiB)\n`);
console.log("| reverse mode | time | live bytes held (peak) | recomputed steps | binomial optimum |");
console.log("| --- | --- | --- | --- | --- |");
let reference: Float64Array | null = null;
/** One row, in its own call so that nothing of the previous row stays reachable. */
function row(snapshots: number | undefined): void {
  const base = live();
  const t0 = performance.now();
  const [, back] = vjp(run(snapshots), [c0, xs]);
  let peak = live() - base;
  let calls = 0;
  revolveStats.advances = 0;
  revolveStats.sample = () => {
    if (++calls % 25000 === 0) peak = Math.max(peak, live() - base);
  };
  const [g] = back(np.array(1));
  revolveStats.sample = undefined;
  const ms = performance.now() - t0;
  const got = g.toTypedArray() as Float64Array;
  if (reference === null) reference = got;
  else if (!got.every((v, i) => v === (reference as Float64Array)[i])) throw new Error(`snapshots ${snapshots}: gradient differs from storing everything`);
  const name = snapshots === undefined ? "store every step" : `revolve, ${snapshots} snapshots`;
  const opt = snapshots === undefined ? "—" : String(optimalRecomputation(T, snapshots));
  console.log(`| ${name} | ${(ms / 1000).toFixed(2)} s | ${(peak / 1048576).toFixed(2)} MiB | ${snapshots === undefined ? 0 : revolveStats.advances} | ${opt} |`);
}
for (const snapshots of [undefined, 100, 20]) row(snapshots);
console.log("\nGradients are bit-identical in every row (checked).");
