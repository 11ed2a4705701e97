// Taylor mode through a loop: the first four derivatives of the final state of a 1000-step
// recurrence (a damped pendulum, explicit Euler, 100 pendulums at once) with respect to the
// initial angle along one direction. `jet` carries the Taylor coefficients through one scan (one
// pass, order 4, all four derivatives); the reference nests `jvp` four times for the 4th alone, so
// its scan carries 2^4 copies of the state. Both eager, float64; the jaxpr of the jet is one scan,
// not an unrolled loop.
//
//   npx tsx --expose-gc benchmarks/jet-control-flow.bench.ts
import { type Tensor, jet, jvp, lax, makeJaxpr, np } from "../src/index.js";
import { fmtMs, fmtRatio, machine, markdownTable, pairedRatio, randomArray, timeTogether } from "./timing.js";

const N = 100, STEPS = 1000, ORDER = 4, ROUNDS = 5, DT = 0.01;
const theta0 = np.array(randomArray(N, -1, 1, 3));
const omega0 = np.zerosLike(theta0);

const finalAngle = (theta: Tensor): Tensor => {
  const [[th]] = lax.scan(
    ([t, w]: [Tensor, Tensor]) => [[t.add(w.mul(DT)), w.add(np.sin(t).mul(-9.81 * DT)).sub(w.mul(0.1 * DT))], null],
    [theta, omega0],
    null,
    { length: STEPS },
  ) as unknown as [[Tensor, Tensor], unknown];
  return th;
};

const ones = np.onesLike(theta0), zeros = np.zerosLike(theta0);
const viaJet = (): Tensor[] => jet(finalAngle, [theta0], [[ones, ...Array.from({ length: ORDER - 1 }, () => zeros)]])[1];

/** The derivatives of order 1..order by nested jvp, each its own nest. */
const nested = (order: number): Tensor[] => {
  const out: Tensor[] = [];
  let g = (t: Tensor): Tensor => finalAngle(theta0.add(ones.mul(t)));
  for (let k = 0; k < order; k++) {
    const prev = g;
    g = (t: Tensor) => jvp(prev, [t], [np.array(1.0)])[1] as Tensor;
    out.push(g(np.array(0.0)));
  }
  return out;
};
let fourth = (t: Tensor): Tensor => finalAngle(theta0.add(ones.mul(t)));
for (let k = 0; k < ORDER; k++) {
  const prev = fourth;
  fourth = (t: Tensor) => jvp(prev, [t], [np.array(1.0)])[1] as Tensor;
}
const viaJvp = (): Tensor => fourth(np.array(0.0));

const a = viaJet(), b = nested(ORDER);
let err = 0;
a.forEach((t, k) => {
  const x = t.toTypedArray(), y = b[k].toTypedArray();
  for (let i = 0; i < N; i++) err = Math.max(err, Math.abs(x[i] - y[i]) / Math.max(1, Math.abs(y[i])));
});
if (!(err <= 1e-9)) throw new Error(`jet and nested jvp disagree: max relative difference ${err}`);
const eqns = makeJaxpr((t: Tensor) => jet(finalAngle, [t], [[ones, zeros, zeros, zeros]]))(theta0).jaxpr.eqns;

const t = timeTogether({ jet: viaJet, jvp: viaJvp }, { rounds: ROUNDS });
const ratio = pairedRatio((r) => t.jvp.samples[r], (r) => t.jet.samples[r], ROUNDS);
console.log(`derivatives 1..${ORDER} through a ${STEPS}-step scan, ${N} pendulums (${machine()})\n`);
console.log(
  markdownTable(
    ["method", "time", "max relative difference"],
    [
      [`jet (one scan, derivatives 1..${ORDER})`, fmtMs(t.jet.ms), err.toExponential(1)],
      [`jvp nested ${ORDER} times (derivative ${ORDER} only)`, fmtMs(t.jvp.ms), "(reference)"],
    ],
  ),
);
console.log(`\njet is ${fmtRatio(ratio)} faster (median of paired rounds); its jaxpr: ${eqns.length} top-level equations, ${eqns.filter((e) => e.primitive.name === "scan").length} scan`);
