// Eager vs jit vs a hand-fused loop on sum(log(x) + x*y - sin(y)) over 1e6 float64 elements.
// Eager runs five elementwise passes (five 8 MB buffers) and a reduction; jit fuses the five
// into one generated loop writing one buffer; the hand-fused loop also folds in the sum.
// `npx tsx benchmarks/jit.bench.ts` prints the table (add --expose-gc through NODE_OPTIONS for
// steadier numbers).
import { jit, np } from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { jitInspect } from "../src/transforms/jit.js";
import { fmtMs, fmtRatio, machine, markdownTable, pairedRatio, randomArray, timeTogether } from "./timing.js";

const N = 1_000_000;
const ROUNDS = 11;

const f = (x: Tensor, y: Tensor): Tensor => np.sum(np.subtract(np.add(np.log(x), np.multiply(x, y)), np.sin(y)));

function handFused(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.log(x[i]) + x[i] * y[i] - Math.sin(y[i]);
  return s;
}

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
