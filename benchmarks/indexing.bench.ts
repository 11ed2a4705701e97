// Indexing, sorting and scans (issue 10) next to hand-written loops, in one interleaved run:
// an embedding lookup (np.take of 4096 token rows from a 10000 x 64 table) and the gradient of a
// loss through it (a scatter-add of the row cotangents), a 1e6-element sort and cumsum. Each
// contender's answer is checked against the loop's first.
//
//   npx tsx --expose-gc benchmarks/indexing.bench.ts
import { type Tensor, grad, jit, np } from "../src/index.js";
import { fmtMs, fmtRatio, machine, markdownTable, pairedRatio, randomArray, timeTogether } from "./timing.js";

const V = 10_000, D = 64, T = 4096, N = 1_000_000;
const ROUNDS = 9;

function main(): void {
  const table = randomArray(V * D, -1, 1, 1);
  const tok = Int32Array.from(randomArray(T, 0, V, 2), (v) => Math.floor(v));
  const w = randomArray(T * D, -1, 1, 3);
  const E = np.reshape(np.array(table), [V, D]), tokens = np.array(tok), W = np.reshape(np.array(w), [T, D]);
  const xs = randomArray(N, -1, 1, 4);
  const x = np.array(xs);

  const lookupLoop = (): Float64Array => {
    const out = new Float64Array(T * D);
    for (let t = 0; t < T; t++) out.set(table.subarray(tok[t] * D, tok[t] * D + D), t * D);
    return out;
  };
  // d/dE sum(E[tok]^2 * W): row tok[t] accumulates 2 E[tok[t]] W[t] (a loss linear in E would
  // have a constant gradient, which jit folds away).
  const gradLoop = (): Float64Array => {
    const g = new Float64Array(V * D);
    for (let t = 0; t < T; t++) {
      const r = tok[t] * D, q = t * D;
      for (let d = 0; d < D; d++) g[r + d] += 2 * table[r + d] * w[q + d];
    }
    return g;
  };
  const sortLoop = (): Float64Array => Float64Array.from(xs).sort();
  const cumsumLoop = (): Float64Array => {
    const out = new Float64Array(N);
    let acc = 0;
    for (let i = 0; i < N; i++) out[i] = acc += xs[i];
    return out;
  };
  const loss = (e: Tensor) => np.take(e, tokens, 0).square().mul(W).sum();
  const gradJ = jit(grad(loss));
  const ops = {
    lookup: () => np.take(E, tokens, 0),
    lookupLoop,
    grad: () => grad(loss)(E),
    gradJit: () => gradJ(E),
    gradLoop,
    sort: () => np.sort(x),
    sortLoop,
    cumsum: () => np.cumsum(x),
    cumsumLoop,
  };
  const same = (a: Tensor, b: Float64Array, what: string, tol = 0) => {
    const got = a.toTypedArray();
    for (let i = 0; i < b.length; i++) if (Math.abs(got[i] - b[i]) > tol * Math.max(1, Math.abs(b[i]))) throw new Error(`${what}: element ${i} is ${got[i]}, the loop gives ${b[i]}`);
  };
  same(ops.lookup(), lookupLoop(), "lookup");
  same(ops.grad(), gradLoop(), "grad", 1e-12);
  same(ops.gradJit(), gradLoop(), "jit(grad)", 1e-12);
  same(ops.sort(), sortLoop(), "sort");
  same(ops.cumsum(), cumsumLoop(), "cumsum");

  const t = timeTogether(ops, { rounds: ROUNDS, warmup: 2, minMs: 50 });
  const ratio = (k: keyof typeof ops, base: keyof typeof ops) => fmtRatio(pairedRatio((r) => t[k].samples[r], (r) => t[base].samples[r], ROUNDS));
  const rows = [
    [`np.take(E, tokens, 0): ${T} rows of a ${V}x${D} table`, fmtMs(t.lookup.ms), `copy loop ${fmtMs(t.lookupLoop.ms)}`, ratio("lookup", "lookupLoop")],
    ["grad of sum(take(E, tokens)^2 * W) w.r.t. E (scatter-add)", fmtMs(t.grad.ms), `accumulate loop ${fmtMs(t.gradLoop.ms)}`, ratio("grad", "gradLoop")],
    ["the same under jit", fmtMs(t.gradJit.ms), `accumulate loop ${fmtMs(t.gradLoop.ms)}`, ratio("gradJit", "gradLoop")],
    ["np.sort, 1e6 float64", fmtMs(t.sort.ms), `Float64Array.prototype.sort ${fmtMs(t.sortLoop.ms)}`, ratio("sort", "sortLoop")],
    ["np.cumsum, 1e6 float64", fmtMs(t.cumsum.ms), `running-sum loop ${fmtMs(t.cumsumLoop.ms)}`, ratio("cumsum", "cumsumLoop")],
  ];
  console.log(`## Indexing, sort and cumsum (${machine()}; medians of ${ROUNDS} interleaved rounds, ratios paired per round; > 1 is slower)\n`);
  console.log(markdownTable(["benchmark", "jacobi", "baseline", "ratio"], rows));
}

main();
