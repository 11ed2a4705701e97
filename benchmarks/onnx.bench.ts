// `npx tsx --expose-gc benchmarks/onnx.bench.ts`: jit's default backend against
// jit(…, { backend: "onnxruntime" }) (ONNX Runtime's CPU kernels, threaded, via onnxruntime-node)
// on the MLP 256x784 -> 512 -> 10 value and gradient (float64 and float32) and the gradient of
// sum(ln x + x*y - sin y) on 1e6-element vectors. ORT calls are asynchronous, so rounds are
// timed here with await, interleaved, medians reported. ORT's time includes copying the inputs
// into its tensors and the outputs back.
import { type Tensor, jit, nn, np, valueAndGrad, grad } from "../src/index.js";
import { fmtMs, fmtRatio, machine, markdownTable, randomArray, settle } from "./timing.js";

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** Median ms per call of each contender, rounds interleaved so that machine load hits both alike. */
async function timeAsync(fns: Record<string, () => unknown>, rounds = 7, perRound = 3): Promise<Record<string, number>> {
  const names = Object.keys(fns);
  for (const n of names) for (let i = 0; i < 2; i++) await fns[n]();
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (const n of r % 2 ? [...names].reverse() : names) {
      settle();
      const t0 = performance.now();
      for (let i = 0; i < perRound; i++) await fns[n]();
      samples[n].push((performance.now() - t0) / perRound);
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(samples[n])]));
}

const [B, D, H, C] = [256, 784, 512, 10];
type Params = { W1: Tensor; b1: Tensor; W2: Tensor; b2: Tensor };
function loss(p: Params, x: Tensor, labels: Tensor): Tensor {
  const h = nn.relu(np.add(np.matmul(x, p.W1), p.b1));
  const logits = np.add(np.matmul(h, p.W2), p.b2);
  return np.negative(np.mean(np.sum(np.multiply(nn.logSoftmax(logits), labels), 1)));
}
function mlpArgs(dtype: "float64" | "float32"): [Params, Tensor, Tensor] {
  const arr = (n: number, shape: number[], scale: number, seed: number) => np.reshape(np.array(randomArray(n, -scale, scale, seed)), shape).astype(dtype);
  const onehot = new Float64Array(B * C);
  for (let i = 0; i < B; i++) onehot[i * C + (i % C)] = 1;
  const p = { W1: arr(D * H, [D, H], 0.05, 1), b1: arr(H, [H], 0.01, 2), W2: arr(H * C, [H, C], 0.05, 3), b2: arr(C, [C], 0.01, 4) };
  return [p, arr(B * D, [B, D], 1, 5), np.reshape(np.array(onehot), [B, C]).astype(dtype)];
}

const rows: string[][] = [];
for (const dtype of ["float64", "float32"] as const) {
  const args = mlpArgs(dtype);
  const vg = valueAndGrad(loss);
  const dflt = jit(vg), ortVg = jit(vg, { backend: "onnxruntime" });
  const t = await timeAsync({ default: () => dflt(...args), onnxruntime: () => ortVg(...args) });
  rows.push([`MLP ${B}x${D}->${H}->${C} value+grad, ${dtype}`, fmtMs(t.default), fmtMs(t.onnxruntime), fmtRatio(t.default / t.onnxruntime)]);
}

const N = 1_000_000;
const f = (x: Tensor, y: Tensor): Tensor => np.sum(np.subtract(np.add(np.log(x), np.multiply(x, y)), np.sin(y)));
const x = np.array(randomArray(N, 0.5, 2, 11)), y = np.array(randomArray(N, -1, 1, 12));
const g = grad(f, { argnums: [0, 1] });
const gd = jit(g), go = jit(g, { backend: "onnxruntime" });
const tg = await timeAsync({ default: () => gd(x, y), onnxruntime: () => go(x, y) });
rows.push([`grad of sum(ln x + x*y - sin y), n = 1e6, float64`, fmtMs(tg.default), fmtMs(tg.onnxruntime), fmtRatio(tg.default / tg.onnxruntime)]);

console.log(machine());
console.log(markdownTable(["program", "jit (default)", 'jit backend "onnxruntime"', "speedup"], rows));
