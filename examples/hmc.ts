// Hamiltonian Monte Carlo on a banana-shaped density: `npx tsx examples/hmc.ts`.
//
// The target is the "twisted Gaussian"
//   x1 ~ N(0, a^2),   x2 | x1 ~ N(b (x1^2 - a^2), 1),
//   log p(x) = -x1^2 / (2 a^2) - (x2 - b (x1^2 - a^2))^2 / 2 + const,
// whose moments are known in closed form (E x1^3 = 0, Var x1^2 = 2 a^4):
//   E x1 = 0,  Var x1 = a^2,  E x2 = b (E x1^2 - a^2) = 0,  Var x2 = 1 + b^2 Var x1^2 = 1 + 2 b^2 a^4,
//   Cov(x1, x2) = b E x1^3 = 0.
// With a = 1 and b = 1 the posterior is a curved ridge (Var x2 = 3) that random-walk samplers
// cross slowly. One HMC transition (momentum from random.normal, `leapfrog` steps of the
// gradient from grad, a Metropolis test with random.uniform) is written for one chain and turned
// into a step for all chains at once with jit(vmap(...)); every chain gets its own key from
// random.split. After a warm-up, each chain's sample mean and variance are one estimate; their
// spread across the (independent) chains gives the standard errors printed beside the exact values.
//
// Options (flags or environment variables, for shorter runs):
//   --chains N  (HMC_CHAINS)  independent chains, default 64
//   --iters N   (HMC_ITERS)   transitions per chain after warm-up, default 1000
//   --warmup N  (HMC_WARMUP)  transitions discarded first, default 200
import { type Tensor, grad, jit, np, random, vmap } from "../src/index.js";

function option(flag: string, env: string, fallback: string): number {
  const i = process.argv.indexOf(`--${flag}`);
  if (i >= 0 && i + 1 < process.argv.length) return Number(process.argv[i + 1]);
  return Number(process.env[env] ?? fallback);
}
const chains = option("chains", "HMC_CHAINS", "64");
const iters = option("iters", "HMC_ITERS", "1000");
const warmup = option("warmup", "HMC_WARMUP", "200");
if (!([chains, iters, warmup].every(Number.isInteger) && chains >= 2 && iters >= 2 && warmup >= 0)) {
  throw new Error(`hmc: bad options chains ${chains}, iters ${iters}, warmup ${warmup}`);
}

const A = 1, B = 1;
const EXACT = { mean: [0, 0], variance: [A * A, 1 + 2 * B * B * A ** 4] };
const STEP = 0.3, LEAPFROG = 8;

function logDensity(x: Tensor): Tensor {
  const x1 = x.slice(0), x2 = x.slice(1);
  const ridge = np.subtract(x2, np.multiply(B, np.subtract(np.square(x1), A * A)));
  return np.negative(np.add(np.divide(np.square(x1), 2 * A * A), np.divide(np.square(ridge), 2)));
}
const gradLogDensity = grad(logDensity);

/** One HMC transition of one chain: the next position and whether the proposal was accepted (1 or 0). */
function transition(key: Tensor, x: Tensor): [Tensor, Tensor] {
  const keys = random.split(key);
  const kp = keys.slice(0), ku = keys.slice(1);
  const p0 = random.normal(kp, [2]);
  let q = x;
  let p = np.add(p0, np.multiply(0.5 * STEP, gradLogDensity(q)));
  for (let s = 0; s < LEAPFROG; s++) {
    q = np.add(q, np.multiply(STEP, p));
    p = np.add(p, np.multiply(s === LEAPFROG - 1 ? 0.5 * STEP : STEP, gradLogDensity(q)));
  }
  // H = -log p(q) + |p|^2 / 2; accept with probability min(1, exp(H0 - H1)).
  const h0 = np.subtract(np.multiply(0.5, np.sum(np.square(p0))), logDensity(x));
  const h1 = np.subtract(np.multiply(0.5, np.sum(np.square(p))), logDensity(q));
  const accept = np.less(np.log(random.uniform(ku)), np.subtract(h0, h1));
  return [np.where(accept, q, x), np.where(accept, 1, 0)];
}
const step = jit(vmap(transition));

let key = random.key(0);
const k0 = random.split(key).slice(0);
key = random.split(key).slice(1);
// Over-dispersed starting points: the warm-up has to bring every chain into the banana.
let x = np.multiply(2, random.normal(k0, [chains, 2]));

const sum = new Float64Array(chains * 2), sumSq = new Float64Array(chains * 2);
let accepted = 0;
const t0 = performance.now();
for (let it = 0; it < warmup + iters; it++) {
  const ks = random.split(key, chains + 1);
  key = ks.slice(0);
  const [next, acc] = step(ks.slice([1]), x) as [Tensor, Tensor];
  x = next;
  if (it < warmup) continue;
  const xs = x.toTypedArray(), as = acc.toTypedArray();
  for (let i = 0; i < chains * 2; i++) {
    sum[i] += xs[i];
    sumSq[i] += xs[i] * xs[i];
  }
  for (let c = 0; c < chains; c++) accepted += as[c];
}
const seconds = (performance.now() - t0) / 1000;

/** Mean over chains of a per-chain statistic, and its standard error from the spread across chains. */
function acrossChains(perChain: number[]): [number, number] {
  const m = perChain.reduce((s, v) => s + v, 0) / perChain.length;
  const v = perChain.reduce((s, u) => s + (u - m) ** 2, 0) / (perChain.length - 1);
  return [m, Math.sqrt(v / perChain.length)];
}

console.log(`banana: x1 ~ N(0, ${A}^2), x2 | x1 ~ N(${B} (x1^2 - ${A}^2), 1); HMC step ${STEP}, ${LEAPFROG} leapfrog steps`);
console.log(`${chains} chains x ${iters} transitions after ${warmup} warm-up, one jit(vmap(transition)) call per transition, ${seconds.toFixed(1)} s`);
console.log(`acceptance rate ${(accepted / (chains * iters)).toFixed(3)}`);
for (let d = 0; d < 2; d++) {
  const means = Array.from({ length: chains }, (_, c) => sum[c * 2 + d] / iters);
  const vars = Array.from({ length: chains }, (_, c) => sumSq[c * 2 + d] / iters - means[c] ** 2);
  const [m, mse] = acrossChains(means), [v, vse] = acrossChains(vars);
  const f = (u: number): string => (u >= 0 ? " " : "") + u.toFixed(3);
  console.log(`x${d + 1}: mean ${f(m)} +- ${mse.toFixed(3)} (exact ${EXACT.mean[d]}), variance ${f(v)} +- ${vse.toFixed(3)} (exact ${EXACT.variance[d]})`);
}
