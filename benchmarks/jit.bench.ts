// Eager vs jit vs a hand-fused loop on sum(log(x) + x*y - sin(y)) over 1e6 float64 elements.
// Eager runs five elementwise passes (five 8 MB buffers) and a reduction; jit fuses the five
// into one generated loop writing one buffer; the hand-fused loop also folds in the sum.
// `npx tsx benchmarks/jit.bench.ts` prints the table (add --expose-gc through NODE_OPTIONS for
// steadier numbers).
//
// Then the first call of a jitted chain of n scalar sin operations (and of its grad) against one
// eager call: the first call stages the function, and for a long one computes its results in the
// same pass; the second call compiles. `npx tsx --expose-gc benchmarks/jit.bench.ts --first [n]`
// prints only this part (n = 10000 by default).
import { grad, jit, np } from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { jitInspect } from "../src/transforms/jit.js";
import { fmtMs, fmtRatio, machine, markdownTable, pairedRatio, randomArray, timeTogether } from "./timing.js";

const N = 1_000_000;
const ROUNDS = 11;
const firstOnly = process.argv.includes("--first");

const f = (x: Tensor, y: Tensor): Tensor => np.sum(np.subtract(np.add(np.log(x), np.multiply(x, y)), np.sin(y)));

function handFused(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.log(x[i]) + x[i] * y[i] - Math.sin(y[i]);
  return s;
}

if (!firstOnly) w1Table();
firstCallTable(Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 10_000));

function w1Table(): void {
  const xs = randomArray(N, 0.1, 5, 1), ys = randomArray(N, -3, 3, 2);
  const x = np.array(xs), y = np.array(ys);
  const jf = jit(f);

  const eagerV = f(x, y).item(), jitV = jf(x, y).item(), handV = handFused(xs, ys);
  if (!Object.is(eagerV, jitV)) throw new Error(`jit ${jitV} differs from eager ${eagerV}`);
  const { stats } = jitInspect(jf, x, y);

  const t = timeTogether({ eager: () => f(x, y), jit: () => jf(x, y), hand: () => handFused(xs, ys) }, { rounds: ROUNDS });
  const vsHand = (name: string) => pairedRatio((r) => t[name].samples[r], (r) => t.hand.samples[r], ROUNDS);
  const vsJit = (name: string) => pairedRatio((r) => t[name].samples[r], (r) => t.jit.samples[r], ROUNDS);

  console.log(`sum(log(x) + x*y - sin(y)), ${N.toExponential(0)} float64 elements; ${machine()}`);
  console.log(`jit program: ${stats.loops} fused loop(s) of ${stats.fusedEqns} equations writing ${stats.fusedBuffers} buffer(s), ${stats.eqnSteps} other step(s)`);
  console.log(`values: eager = jit = ${eagerV}, hand-fused ${handV} (relative difference ${Math.abs(handV - eagerV) / Math.abs(eagerV)}, summation order)\n`);
  console.log(
    markdownTable(
      ["version", "median time", "vs hand-fused", "vs jit"],
      (["eager", "jit", "hand"] as const).map((name) => [name === "hand" ? "hand-fused loop" : name, fmtMs(t[name].ms), fmtRatio(vsHand(name)), fmtRatio(vsJit(name))]),
    ),
  );
}

/** The first call of a fresh jitted chain (and of its grad) vs one eager call, interleaved. */
function firstCallTable(n: number): void {
  const chain = (x: Tensor): Tensor => {
    let y = x;
    for (let i = 0; i < n; i++) y = np.sin(y);
    return y;
  };
  const x = np.array(0.5);
  // Each jit wrapper of a new function is a first call: jit caches per function and signature.
  const fresh = (): ((x: Tensor) => Tensor) => (y) => chain(y);
  const freshGrad = () => grad(fresh());
  const secondCall = (make: () => (x: Tensor) => Tensor): number => {
    const jf = jit(make());
    jf(x);
    const t0 = performance.now();
    jf(x);
    return performance.now() - t0;
  };
  for (const [name, eager, jitted] of [
    ["chain", () => chain(x), () => jit(fresh())(x)],
    ["grad", () => freshGrad()(x), () => jit(freshGrad())(x)],
  ] as const) {
    if (!Object.is(eager().item(), jitted().item())) throw new Error(`${name}: jit's first call differs from eager`);
  }
  const rounds = 11;
  // Separately, so that the time of one pair is not set by the other's garbage.
  const t = {
    ...timeTogether({ eager: () => chain(x), first: () => jit(fresh())(x) }, { rounds, minMs: 30 }),
    ...timeTogether({ gradEager: () => freshGrad()(x), gradFirst: () => jit(freshGrad())(x) }, { rounds, minMs: 30 }),
  };
  const median5 = (f: () => number) => Array.from({ length: 5 }, f).sort((a, b) => a - b)[2];
  const second = median5(() => secondCall(fresh)), gradSecond = median5(() => secondCall(freshGrad));
  const ratio = (a: string, b: string) => pairedRatio((r) => t[a].samples[r], (r) => t[b].samples[r], rounds);
  console.log(`\nfirst call of jit on a chain of ${n} sin operations on a 0-d float64 array (results identical to eager); ${machine()}`);
  console.log(
    markdownTable(
      ["function", "one eager call", "jit first call", "first / eager", "jit second call (compiles)"],
      [
        ["chain", fmtMs(t.eager.ms), fmtMs(t.first.ms), fmtRatio(ratio("first", "eager")), fmtMs(second)],
        ["grad of chain", fmtMs(t.gradEager.ms), fmtMs(t.gradFirst.ms), fmtRatio(ratio("gradFirst", "gradEager")), fmtMs(gradSecond)],
      ],
    ),
  );
}
