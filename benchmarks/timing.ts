// Shared timing helpers for the benchmarks: warm up, then take medians of interleaved rounds, so
// that one garbage collection, JIT tier-up or burst of load from another process does not decide
// a row; ratios are medians of per-round ratios.

export interface Timing {
  /** Median wall time of one call, in milliseconds. */
  ms: number;
  runs: number;
  /** Per-round times of one call (round order), for paired comparisons. */
  samples: number[];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * The median over rounds of `num(round) / den(round)`: each ratio compares samples taken moments
 * apart, so a slow stretch of the machine cancels instead of landing on one side.
 */
export function pairedRatio(num: (r: number) => number, den: (r: number) => number, rounds: number): number {
  return median(Array.from({ length: rounds }, (_, r) => num(r) / den(r)));
}

/** Collects garbage when node runs with --expose-gc (as the npm scripts do), so that one
 * contender's garbage is not collected on another's clock. */
export function settle(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
}

// Keeps results reachable so V8 cannot drop the work that produced them.
let kept: unknown = null;
export function sink(x: unknown): void {
  kept = x;
}
export const lastKept = (): unknown => kept;

export function fmtMs(ms: number): string {
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${(ms * 1000).toFixed(0)} µs`;
}

export const fmtRatio = (r: number): string => `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}x`;

/** A Markdown table with a header row. */
export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

export function machine(): string {
  return `Node ${process.version}, ${process.platform}/${process.arch}`;
}

/** Deterministic pseudo-random numbers in [lo, hi) (a 32-bit LCG), so every run sees the same data. */
export function randomArray(n: number, lo: number, hi: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 4294967296;
  }
  return out;
}

/**
 * Times several functions against each other. Samples are interleaved (one sample of each per
 * round) so that a burst of load from other processes on a shared machine hits every contender
 * alike instead of deciding a ratio. The order is shuffled every round (seeded): with a fixed
 * rotation each contender always ran right after the same neighbour, and one that followed a
 * large allocator (which leaves freshly trimmed memory to page in again) was measured slow for
 * it. Returns the median per function.
 */
export function timeTogether(
  fns: Record<string, () => unknown>,
  opts: { warmup?: number; rounds?: number; minMs?: number; perCall?: boolean } = {},
): Record<string, Timing> {
  const { warmup = 2, rounds = 9, minMs = 20, perCall = false } = opts;
  const names = Object.keys(fns);
  const inner: Record<string, number> = {};
  for (const name of names) {
    const fn = fns[name];
    for (let i = 0; i < warmup; i++) sink(fn());
    let n = 1;
    for (;;) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) sink(fn());
      const dt = performance.now() - t0;
      if (dt >= minMs || n >= 1 << 20) break;
      n *= Math.max(2, Math.ceil(minMs / Math.max(dt, 1e-3)));
    }
    inner[name] = n;
  }
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const order = [...names];
  const pick = randomArray(rounds * names.length, 0, 1, 7);
  if (perCall) return timeCallByCall(fns, inner, rounds);
  for (let r = 0; r < rounds; r++) {
    for (let k = order.length - 1; k > 0; k--) {
      const j = Math.floor(pick[r * names.length + k] * (k + 1));
      [order[k], order[j]] = [order[j], order[k]];
    }
    for (let k = 0; k < order.length; k++) {
      const name = order[k];
      const fn = fns[name], n = inner[name];
      settle();
      const t0 = performance.now();
      for (let i = 0; i < n; i++) sink(fn());
      samples[name].push((performance.now() - t0) / n);
    }
  }
  const out: Record<string, Timing> = {};
  for (const name of names) out[name] = { ms: median(samples[name]), runs: rounds * inner[name], samples: samples[name] };
  return out;
}

/**
 * Interleaves single calls rather than whole samples: each round runs every contender its
 * calibrated number of times in one shuffled schedule and times each call. For sub-millisecond
 * contenders that allocate alike, garbage collection and JIT state then land on all of them in
 * proportion, where 40 ms samples taken one after another let a contender inherit a collection
 * (or a deoptimized state) another one caused.
 */
function timeCallByCall(fns: Record<string, () => unknown>, inner: Record<string, number>, rounds: number): Record<string, Timing> {
  const names = Object.keys(fns);
  const schedule = names.flatMap((name) => Array.from({ length: inner[name] }, () => name));
  const pick = randomArray(rounds * schedule.length, 0, 1, 13);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (let k = schedule.length - 1; k > 0; k--) {
      const j = Math.floor(pick[r * schedule.length + k] * (k + 1));
      [schedule[k], schedule[j]] = [schedule[j], schedule[k]];
    }
    const total: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
    settle();
    for (const name of schedule) {
      const fn = fns[name];
      const t0 = performance.now();
      sink(fn());
      total[name] += performance.now() - t0;
    }
    for (const name of names) samples[name].push(total[name] / inner[name]);
  }
  const out: Record<string, Timing> = {};
  for (const name of names) out[name] = { ms: median(samples[name]), runs: rounds * inner[name], samples: samples[name] };
  return out;
}

/** `batch` random symmetric positive-definite n×n matrices, row-major (G Gᵀ + n I). */
export function spdStack(batch: number, n: number, seed: number): Float64Array {
  const g = randomArray(batch * n * n, -1, 1, seed);
  const a = new Float64Array(batch * n * n);
  for (let t = 0; t < batch; t++) {
    const o = t * n * n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let p = 0; p < n; p++) s += g[o + i * n + p] * g[o + j * n + p];
        a[o + i * n + j] = a[o + j * n + i] = s + (i === j ? n : 0);
      }
    }
  }
  return a;
}
