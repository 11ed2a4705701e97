// Taylor mode against nested reverse mode: the 4th derivative of sin at 1000 points, once through
// one `jet` pass (order 4) and once through four nested `grad`s (elementwise: the gradient of the
// sum of a separable function is its derivative at every point). Both eager, float64.
//
//   npx tsx --expose-gc benchmarks/jet.bench.ts
import { type Tensor, grad, jet, np } from "../src/index.js";
import { fmtMs, fmtRatio, machine, markdownTable, pairedRatio, randomArray, timeTogether } from "./timing.js";

const N = 1000, ORDER = 4, ROUNDS = 15;
const x = np.array(randomArray(N, -3, 3, 5));
const ones = np.onesLike(x), zeros = np.zerosLike(x);

const viaJet = (): Tensor => jet(np.sin, [x], [[ones, ...Array.from({ length: ORDER - 1 }, () => zeros)]])[1][ORDER - 1];

let g: (v: Tensor) => Tensor = np.sin;
for (let k = 0; k < ORDER; k++) {
  const prev = g;
  g = grad((v: Tensor) => np.sum(prev(v)));
}
const nestedGrad = g;
const viaGrad = (): Tensor => nestedGrad(x);

const a = viaJet().toTypedArray(), b = viaGrad().toTypedArray(), xs = x.toTypedArray();
let err = 0;
for (let i = 0; i < N; i++) err = Math.max(err, Math.abs(a[i] - b[i]), Math.abs(a[i] - Math.sin(xs[i])));
if (!(err <= 1e-12)) throw new Error(`jet and nested grad disagree: max |difference| ${err}`);

const t = timeTogether({ jet: viaJet, grad: viaGrad }, { rounds: ROUNDS });
const ratio = pairedRatio((r) => t.grad.samples[r], (r) => t.jet.samples[r], ROUNDS);
console.log(`4th derivative of sin at ${N} points (${machine()})\n`);
console.log(
  markdownTable(
    ["method", "time", "max |error|"],
    [
      [`jet (one pass, order ${ORDER})`, fmtMs(t.jet.ms), err.toExponential(1)],
      [`grad nested ${ORDER} times`, fmtMs(t.grad.ms), "(reference)"],
    ],
  ),
);
console.log(`\njet is ${fmtRatio(ratio)} faster (median of paired rounds)`);
