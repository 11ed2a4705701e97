// Forward or reverse? `npx tsx examples/jacfwd-vs-jacrev.ts`
//
// The seed chapter's cost argument: forward mode builds a Jacobian one column per input (n
// passes), reverse mode one row per output (m passes), so forward should win when a function has
// few inputs and many outputs and reverse when it has many inputs and few outputs. jacfwd and
// jacrev batch their passes into one vmapped pass, but the work still grows with n or m. This
// sweeps f(x) = tanh(W x) from n << m to n >> m (n * m fixed), timing jacfwd and jacrev on this
// machine and showing what costAnalysis predicts (FLOPs, residuals stored by reverse mode) and
// what jacobian's "auto" mode picks (forward when n < m, as the chapter's rule says).
import { costAnalysis, jacfwd, jacrev, np, random, type Tensor } from "../src/index.js";

/** Deterministic pseudo-random numbers in [lo, hi): random.uniform from a key made from `seed`. */
const uniform = (n: number, lo: number, hi: number, seed: number): Tensor => random.uniform(random.key(seed), [n], { minval: lo, maxval: hi });

/** Median wall time of `fn` in milliseconds, after one warm-up call. */
function median(fn: () => unknown, repeats = 5): number {
  fn();
  const ts: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return ts.sort((a, b) => a - b)[repeats >> 1];
}

const ms = (t: number): string => (t >= 10 ? t.toFixed(0) : t.toFixed(2));
const sci = (x: number): string => x.toExponential(1);

const shapes: [number, number][] = [
  [4, 900],
  [15, 240],
  [60, 60],
  [240, 15],
  [900, 4],
];

console.log("f(x) = tanh(W x), W of shape [m, n]: Jacobian of shape [m, n]\n");
console.log("| n inputs | m outputs | jacfwd ms | jacrev ms | faster | FLOPs fwd | FLOPs rev | stored by rev | auto |");
console.log("|---:|---:|---:|---:|---|---:|---:|---:|---|");
const regimes: string[] = [];
for (const [n, m] of shapes) {
  const W = np.reshape(uniform(m * n, -1, 1, n * 7919 + m), [m, n]);
  const x = uniform(n, -1, 1, n + 1);
  const f = (v: Tensor) => np.tanh(np.divide(np.matmul(W, v), Math.sqrt(n)));

  const jf = jacfwd(f)(x) as Tensor;
  const jr = jacrev(f)(x) as Tensor;
  const a = jf.toTypedArray(), b = jr.toTypedArray();
  for (let i = 0; i < a.length; i++) {
    if (Math.abs(a[i] - b[i]) > 1e-12) throw new Error(`jacfwd and jacrev disagree at n=${n}, m=${m}`);
  }

  const tf = median(() => jacfwd(f)(x));
  const tr = median(() => jacrev(f)(x));
  const cost = costAnalysis(f, [x]);
  const auto = cost.auto;
  const faster = tf < tr ? "jacfwd" : "jacrev";
  console.log(
    `| ${n} | ${m} | ${ms(tf)} | ${ms(tr)} | ${faster} (${(Math.max(tf, tr) / Math.min(tf, tr)).toFixed(1)}x) | ` +
      `${sci(cost.fwd.flops)} | ${cost.rev ? sci(cost.rev.flops) : "n/a"} | ${cost.rev ? `${cost.rev.storedBytes} B` : "n/a"} | ${auto} |`,
  );
  const winner = tf < tr ? `forward mode wins, jacfwd ${ms(tf)} ms vs jacrev ${ms(tr)} ms` : `reverse mode wins, jacrev ${ms(tr)} ms vs jacfwd ${ms(tf)} ms`;
  if (n < m / 10) regimes.push(`few inputs, many outputs (n = ${n}, m = ${m}): ${winner}; auto picks ${auto}`);
  if (m < n / 10) regimes.push(`many inputs, few outputs (n = ${n}, m = ${m}): ${winner}; auto picks ${auto}`);
}

console.log("\nThe crossover the seed chapter predicts:");
for (const r of regimes) console.log(`- ${r}`);

const [n, m] = [4, 900];
const W = np.reshape(uniform(m * n, -1, 1, n * 7919 + m), [m, n]);
console.log(`\ncostAnalysis at n = ${n}, m = ${m}:\n`);
console.log(costAnalysis((v: Tensor) => np.tanh(np.divide(np.matmul(W, v), Math.sqrt(n))), [uniform(n, -1, 1, n + 1)]).toString());
