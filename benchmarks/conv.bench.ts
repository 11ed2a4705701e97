// A LeNet-sized conv net, forward and backward (the gradient of the loss with respect to every
// parameter), on a batch of 32 28x28 images: jacobi eager and under jit, in float32 and float64,
// next to tfjs-core's CPU backend and torch (Debian's python3, one thread) when they are there.
//
//   npx tsx --expose-gc benchmarks/conv.bench.ts
//
// The network (channels last): conv 5x5 1 -> 6 (SAME) + relu, max-pool 2, conv 5x5 6 -> 16
// (VALID) + relu, max-pool 2, dense 400 -> 120 -> 84 -> 10 (relu), softmax cross-entropy.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Tensor, jit, lax, nn, np, valueAndGrad } from "../src/index.js";
import { fmtMs, machine, markdownTable, randomArray, timeTogether } from "./timing.js";

const B = 32, ROUNDS = 7;
type Params = { c1: Tensor; b1: Tensor; c2: Tensor; b2: Tensor; w1: Tensor; d1: Tensor; w2: Tensor; d2: Tensor; w3: Tensor; d3: Tensor };
const SHAPES: Record<keyof Params, number[]> = {
  c1: [5, 5, 1, 6], b1: [6], c2: [5, 5, 6, 16], b2: [16], w1: [400, 120], d1: [120], w2: [120, 84], d2: [84], w3: [84, 10], d3: [10],
};
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
const data = (shape: number[], seed: number, scale: number) => Array.from(randomArray(size(shape), -scale, scale, seed));
const RAW = Object.fromEntries(Object.entries(SHAPES).map(([k, s], i) => [k, data(s, 11 + i, 1 / Math.sqrt(size(s) / s[s.length - 1]))])) as Record<keyof Params, number[]>;
const IMAGES = data([B, 28, 28, 1], 3, 1);
const LABELS = Array.from({ length: B }, (_, i) => (i * 7) % 10);

const conv = (x: Tensor, k: Tensor, b: Tensor, padding: "SAME" | "VALID") =>
  nn.relu(np.add(lax.convGeneralDilated(x, k, [1, 1], padding, { dimensionNumbers: ["NHWC", "HWIO", "NHWC"] }), b));
function loss(p: Params, x: Tensor, y: Tensor): Tensor {
  let h = nn.maxPool(conv(x, p.c1, p.b1, "SAME"), [2, 2], [2, 2]);
  h = nn.maxPool(conv(h, p.c2, p.b2, "VALID"), [2, 2], [2, 2]);
  h = np.reshape(h, [B, 400]);
  h = nn.relu(np.add(np.matmul(h, p.w1), p.d1));
  h = nn.relu(np.add(np.matmul(h, p.w2), p.d2));
  const logits = np.add(np.matmul(h, p.w3), p.d3);
  return np.negative(np.mean(np.sum(np.multiply(y, nn.logSoftmax(logits)), -1)));
}

function jacobiSteps(dtype: "float32" | "float64") {
  const params = Object.fromEntries(Object.entries(RAW).map(([k, v]) => [k, np.reshape(np.array(v, dtype), SHAPES[k as keyof Params])])) as Params;
  const x = np.reshape(np.array(IMAGES, dtype), [B, 28, 28, 1]);
  const y = nn.oneHot(np.array(LABELS, "int32"), 10, { dtype });
  const step = valueAndGrad(loss);
  const stepJit = jit(step);
  return { eager: () => step(params, x, y), jit: () => stepJit(params, x, y), loss: () => (stepJit(params, x, y) as [Tensor, unknown])[0].item() };
}

let tfjsLoss = NaN;

/** tfjs-core's CPU backend, the same network with tf.grads; null when the packages are missing. */
async function tfjsSteps(): Promise<Record<"float32", () => unknown> | null> {
  try {
    const tf = await import("@tensorflow/tfjs-core");
    await import("@tensorflow/tfjs-backend-cpu");
    // tfjs-core's Node bundle registers no gradients and its ES files need a bundler: bundle the
    // module that registers them (it registers into tfjs's global registries).
    const { buildSync } = await import("esbuild");
    const entry = createRequire(import.meta.url).resolve("@tensorflow/tfjs-core/dist/register_all_gradients.js");
    const dir = mkdtempSync(join(tmpdir(), "jacobi-conv-bench-"));
    const file = join(dir, "register-gradients.mjs");
    buildSync({ entryPoints: [entry], bundle: true, format: "esm", platform: "node", outfile: file, logLevel: "error" });
    await import(pathToFileURL(file).href);
    rmSync(dir, { recursive: true, force: true });
    await tf.setBackend("cpu");
    const ps = Object.entries(RAW).map(([k, v]) => tf.tensor(v, SHAPES[k as keyof Params]));
    const x = tf.tensor4d(IMAGES, [B, 28, 28, 1]);
    const y = tf.cast(tf.oneHot(tf.tensor1d(LABELS, "int32"), 10), "float32");
    const f = (c1: any, b1: any, c2: any, b2: any, w1: any, d1: any, w2: any, d2: any, w3: any, d3: any) => {
      let h: any = tf.maxPool(tf.relu(tf.add(tf.conv2d(x, c1, 1, "same"), b1)) as any, 2, 2, "valid");
      h = tf.maxPool(tf.relu(tf.add(tf.conv2d(h, c2, 1, "valid"), b2)) as any, 2, 2, "valid");
      let z = tf.reshape(h, [B, 400]);
      z = tf.relu(tf.add(tf.matMul(z as any, w1), d1));
      z = tf.relu(tf.add(tf.matMul(z as any, w2), d2));
      const logits = tf.add(tf.matMul(z as any, w3), d3);
      return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(logits)), -1)));
    };
    const g = tf.grads(f as any);
    const l = f(...(ps as [any, any, any, any, any, any, any, any, any, any])) as { dataSync(): ArrayLike<number> };
    tfjsLoss = l.dataSync()[0];
    return {
      float32: () => {
        const out = g(ps);
        for (const t of out) t.dataSync();
        tf.dispose(out);
        return out;
      },
    };
  } catch (e) {
    console.error(`tfjs row skipped: ${(e as Error).message}`);
    return null;
  }
}

/** torch in Debian's python3 (one thread): median ms per step in each dtype, or null without torch. */
function torchMs(): Record<"float32" | "float64" | "loss_float32" | "loss_float64", number> | null {
  const script = `
import json, sys, time, statistics
import torch, torch.nn.functional as F
torch.set_num_threads(1)
d = json.load(sys.stdin)
out = {}
for name, dt in (("float32", torch.float32), ("float64", torch.float64)):
    ps = {k: torch.tensor(v, dtype=dt).reshape(d["shapes"][k]).requires_grad_() for k, v in d["raw"].items()}
    # channels-last data and HWIO kernels as the JavaScript side; torch wants NCHW / OIHW.
    x = torch.tensor(d["images"], dtype=dt).reshape(${B}, 28, 28, 1).permute(0, 3, 1, 2).contiguous()
    y = F.one_hot(torch.tensor(d["labels"]), 10).to(dt)
    def step():
        p = ps
        h = F.max_pool2d(F.relu(F.conv2d(x, p["c1"].permute(3, 2, 0, 1), p["b1"], padding=2)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, p["c2"].permute(3, 2, 0, 1), p["b2"])), 2)
        h = h.permute(0, 2, 3, 1).reshape(${B}, 400)
        h = F.relu(h @ p["w1"] + p["d1"]); h = F.relu(h @ p["w2"] + p["d2"])
        loss = -(y * F.log_softmax(h @ p["w3"] + p["d3"], -1)).sum(-1).mean()
        return loss, torch.autograd.grad(loss, list(p.values()))
    for _ in range(3): step()
    times = []
    for _ in range(${ROUNDS}):
        t0 = time.perf_counter(); n = 0
        while time.perf_counter() - t0 < 0.05: step(); n += 1
        times.append((time.perf_counter() - t0) / n * 1000)
    out[name] = statistics.median(times)
    out["loss_" + name] = step()[0].item()
print(json.dumps(out))
`;
  try {
    const input = JSON.stringify({ raw: RAW, shapes: SHAPES, images: IMAGES, labels: LABELS });
    const res = execFileSync("/usr/bin/python3", ["-c", script], { input, encoding: "utf8", timeout: 300_000, stdio: ["pipe", "pipe", "ignore"] });
    return JSON.parse(res) as Record<"float32" | "float64" | "loss_float32" | "loss_float64", number>;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const f32 = jacobiSteps("float32"), f64 = jacobiSteps("float64");
  const tfjs = await tfjsSteps();
  const fns: Record<string, () => unknown> = { eager32: f32.eager, jit32: f32.jit, eager64: f64.eager, jit64: f64.jit };
  if (tfjs !== null) fns.tfjs32 = tfjs.float32;
  const t = timeTogether(fns, { rounds: ROUNDS, warmup: 2, minMs: 200 });
  const torch = torchMs();
  const rows = [
    ["jacobi eager", fmtMs(t.eager32.ms), fmtMs(t.eager64.ms)],
    ["jacobi jit", fmtMs(t.jit32.ms), fmtMs(t.jit64.ms)],
  ];
  if (tfjs !== null) rows.push(["tfjs-core CPU backend", fmtMs(t.tfjs32.ms), "(no float64)"]);
  if (torch !== null) rows.push(["torch 1 thread (Debian python3)", fmtMs(torch.float32), fmtMs(torch.float64)]);
  console.log(`## LeNet-sized conv net, forward + backward, batch of ${B} 28x28 images (${machine()}; medians of ${ROUNDS} rounds)\n`);
  console.log(markdownTable(["", "float32 ms/step", "float64 ms/step"], rows));
  // The contenders compute the same loss (float64 to rounding, float32 to its precision).
  const losses = [`jacobi ${f64.loss()} (float64), ${f32.loss()} (float32)`];
  if (torch !== null) losses.push(`torch ${torch.loss_float64} (float64), ${torch.loss_float32} (float32)`);
  if (tfjs !== null) losses.push(`tfjs ${tfjsLoss} (float32)`);
  console.log(`\nloss at the benchmark's parameters: ${losses.join("; ")}`);
}

await main();
