// Matmul kernels side by side in one interleaved run: the JavaScript kernel against the
// WebAssembly SIMD kernel, on a 256x784 @ 784x512 matmul and on value+grad of a
// 256x784 -> 512 -> 10 MLP (relu, softmax cross-entropy), in float64 and float32; torch (one
// thread) as an optional column when Debian's python3 can import it. The wasm kernel runs on one
// thread and on the default number of threads (availableParallelism, at most 4).
//
//   npx tsx --expose-gc benchmarks/gemm.bench.ts
import { spawnSync } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import { type Tensor, nn, np, valueAndGrad } from "../src/index.js";
import { setWasmGemm, wasmGemmEnabled, wasmGemmLimits } from "../src/backend/wasm/gemm.js";
import { fmtMs, fmtRatio, machine, markdownTable, pairedRatio, randomArray, timeTogether } from "./timing.js";

const [M, K, H, O] = [256, 784, 512, 10];
type Float = "float64" | "float32";

const defaults = { ...wasmGemmLimits };
const defaultThreads = Math.min(defaults.threads, availableParallelism());
/**
 * `fn` on the JS kernel (threads = 0) or the wasm kernel on that many threads, forced even when
 * the load average says the machine is busy (by default matmul then stays on one thread).
 */
function onPath<T>(threads: number, fn: () => T): () => T {
  return () => {
    const was = setWasmGemm(threads > 0);
    Object.assign(wasmGemmLimits, { threads: Math.max(1, threads), load: () => 0 });
    try {
      return fn();
    } finally {
      setWasmGemm(was);
      Object.assign(wasmGemmLimits, defaults);
    }
  };
}

function contenders(d: Float): Record<string, () => unknown> {
  const t = (n: number, shape: number[], seed: number, scale = 1): Tensor => np.array(randomArray(n, -scale, scale, seed), d).reshape(shape);
  const A = t(M * K, [M, K], 1), B = t(K * H, [K, H], 2);
  const x = t(M * K, [M, K], 3);
  const labels = Array.from({ length: M }, (_, i) => (i * 7) % O);
  const y = np.array(labels.map((l) => Array.from({ length: O }, (_, j) => (j === l ? 1 : 0))), d);
  const params = { W1: t(K * H, [K, H], 4, 0.05), b1: t(H, [H], 5, 0.1), W2: t(H * O, [H, O], 6, 0.05), b2: t(O, [O], 7, 0.1) };
  type P = typeof params;
  const loss = (p: P, xs: Tensor, ys: Tensor): Tensor => {
    const h = nn.relu(np.add(np.matmul(xs, p.W1), p.b1));
    const logits = np.add(np.matmul(h, p.W2), p.b2);
    return np.negative(np.mean(np.sum(np.multiply(ys, nn.logSoftmax(logits)), -1)));
  };
  const step = valueAndGrad(loss);
  return {
    [`matmul ${d} js`]: onPath(0, () => np.matmul(A, B)),
    [`matmul ${d} wasm`]: onPath(1, () => np.matmul(A, B)),
    [`matmul ${d} wasm-threads`]: onPath(defaultThreads, () => np.matmul(A, B)),
    [`mlp ${d} js`]: onPath(0, () => step(params, x, y)),
    [`mlp ${d} wasm`]: onPath(1, () => step(params, x, y)),
    [`mlp ${d} wasm-threads`]: onPath(defaultThreads, () => step(params, x, y)),
  };
}

const TORCH = String.raw`
import time, statistics, torch
torch.set_num_threads(1)
M, K, H, O = 256, 784, 512, 10
out = []
for dt, name in ((torch.float64, "float64"), (torch.float32, "float32")):
    g = torch.Generator().manual_seed(0)
    r = lambda *s, sc=1.0: ((torch.rand(*s, generator=g, dtype=dt) * 2 - 1) * sc)
    A, B, x = r(M, K), r(K, H), r(M, K)
    y = torch.nn.functional.one_hot(torch.arange(M) * 7 % O, O).to(dt)
    ps = [r(K, H, sc=0.05), r(H, sc=0.1), r(H, O, sc=0.05), r(O, sc=0.1)]
    for p in ps: p.requires_grad_(True)
    def mlp():
        h = torch.relu(x @ ps[0] + ps[1])
        loss = -(y * torch.log_softmax(h @ ps[2] + ps[3], -1)).sum(-1).mean()
        return torch.autograd.grad(loss, ps)
    for label, fn in (("matmul", lambda: A @ B), ("mlp", mlp)):
        for _ in range(3): fn()
        ts = []
        for _ in range(15):
            t0 = time.perf_counter(); fn(); ts.append((time.perf_counter() - t0) * 1e3)
        out.append(f"{label} {name} torch {statistics.median(ts)}")
print("\n".join(out))
`;

function torchRows(): Record<string, number> {
  const r = spawnSync("/usr/bin/python3", ["-c", TORCH], { encoding: "utf8", timeout: 300_000 });
  if (r.status !== 0) return {};
  return Object.fromEntries(r.stdout.trim().split("\n").map((l) => {
    const parts = l.split(" ");
    return [parts.slice(0, 3).join(" "), Number(parts[3])];
  }));
}

if (!wasmGemmEnabled()) throw new Error("WebAssembly SIMD is unavailable here: nothing to compare");
const fns = { ...contenders("float64"), ...contenders("float32") };
const t = timeTogether(fns, { rounds: 11, minMs: 40 });
const torch = torchRows();
const rows: string[][] = [];
for (const what of ["matmul", "mlp"]) {
  for (const d of ["float64", "float32"]) {
    const js = t[`${what} ${d} js`], wasm = t[`${what} ${d} wasm`], thr = t[`${what} ${d} wasm-threads`];
    const speedup = pairedRatio((r) => js.samples[r], (r) => wasm.samples[r], js.samples.length);
    const threadGain = pairedRatio((r) => wasm.samples[r], (r) => thr.samples[r], js.samples.length);
    const gflops = (ms: number) => (what === "matmul" ? `${((2 * M * K * H) / ms / 1e6).toFixed(1)} GFLOP/s` : "");
    const tc = torch[`${what} ${d} torch`];
    rows.push([
      what === "matmul" ? `matmul ${M}x${K} @ ${K}x${H}` : `MLP ${M}x${K}→${H}→${O} value+grad`, d,
      `${fmtMs(js.ms)} ${gflops(js.ms)}`.trim(), `${fmtMs(wasm.ms)} ${gflops(wasm.ms)}`.trim(), fmtRatio(speedup),
      `${fmtMs(thr.ms)} ${gflops(thr.ms)} (${fmtRatio(threadGain)} vs 1)`.trim(),
      tc === undefined ? "n/a" : `${fmtMs(tc)} (best wasm/torch ${fmtRatio(Math.min(wasm.ms, thr.ms) / tc)})`,
    ]);
  }
}
const f32 = pairedRatio((r) => t["mlp float64 wasm"].samples[r], (r) => t["mlp float32 wasm"].samples[r], 11);
console.log(markdownTable(["workload", "dtype", "JS kernel", "wasm SIMD, 1 thread", "speedup", `wasm SIMD, ${defaultThreads} threads (forced)`, "torch 1 thread"], rows));
console.log(`\nMLP float64 / float32 time on the wasm kernel: ${fmtRatio(f32)}. ${machine()}, ${availableParallelism()} cores, load average ${loadavg()[0].toFixed(1)} at the end; medians of 11 interleaved rounds.`);
