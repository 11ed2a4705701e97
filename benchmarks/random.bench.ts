// random.normal against a hand-written generator, in one interleaved run: 1e6 float64 normals
// from JAX's threefry bits + erfinv (eager and under jit) next to an xorshift128+ generator with
// the Box–Muller transform in a plain loop, and the pieces (threefry bits, uniform floats) alone.
//
//   npx tsx --expose-gc benchmarks/random.bench.ts
import { type Tensor, jit, random } from "../src/index.js";
import { fmtMs, fmtRatio, machine, markdownTable, pairedRatio, timeTogether } from "./timing.js";

const N = 1_000_000;
const ROUNDS = 9;

/** xorshift128+ and Box–Muller: two normals per pair of uniforms, into a Float64Array. */
function xorshiftBoxMuller(n: number, seed: number): Float64Array {
  let s0 = (seed ^ 0x9e3779b9) >>> 0, s1 = 0x6c078965, s2 = 0x7f4a7c15, s3 = 0x243f6a88;
  // xoshiro-style 32-bit state update (xorshift128), 53-bit uniforms from two words.
  const next = (): number => {
    const t = s3;
    let s = s0;
    s3 = s2;
    s2 = s1;
    s1 = s;
    let x = t ^ (t << 11);
    x ^= x >>> 8;
    s = s ^ (s >>> 19);
    s0 = (x ^ s) >>> 0;
    return s0;
  };
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const u1 = ((next() >>> 5) * 67108864 + (next() >>> 6) + 1) / 9007199254740993;
    const u2 = ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
    const r = Math.sqrt(-2 * Math.log(u1)), th = 2 * Math.PI * u2;
    out[i] = r * Math.cos(th);
    if (i + 1 < n) out[i + 1] = r * Math.sin(th);
  }
  return out;
}

function main(): void {
  const key = random.key(0);
  const normalJit = jit((k: Tensor) => random.normal(k, [N]));
  const t = timeTogether(
    {
      normal: () => random.normal(key, [N]),
      normalJit: () => normalJit(key),
      handWritten: () => xorshiftBoxMuller(N, 42),
      bits: () => random.bits(key, [N]),
      uniform: () => random.uniform(key, [N]),
    },
    { rounds: ROUNDS, warmup: 2, minMs: 50 },
  );
  const base = t.handWritten;
  const rows = (["normal", "normalJit", "bits", "uniform"] as const).map((k) => [
    { normal: "random.normal(key, [1e6])", normalJit: "jit(random.normal)", bits: "random.bits (threefry only)", uniform: "random.uniform (float64)" }[k],
    fmtMs(t[k].ms),
    fmtRatio(pairedRatio((r) => t[k].samples[r], (r) => base.samples[r], ROUNDS)),
  ]);
  rows.push(["xorshift128 + Box–Muller loop", fmtMs(base.ms), "1.00x"]);
  console.log(`## 1e6 float64 normals (${machine()}; medians of ${ROUNDS} interleaved rounds, ratios paired per round)\n`);
  console.log(markdownTable(["generator", "time", "vs hand-written"], rows));
}

main();
