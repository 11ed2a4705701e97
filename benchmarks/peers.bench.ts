// jacobi next to its peers, in one schedule: TensorFlow.js (tfjs-core on its CPU backend, float32
// only), jax-js (WebAssembly backend, under its jit) and torch (Debian's python3, one thread, an
// optional column when it imports: a child process answering over FIFOs, so that its samples
// interleave with the JavaScript contenders' round by round), plus a hand-fused JS loop as the
// limit of JavaScript where one exists. Every workload first checks that all contenders agree,
// then times them in shuffled interleaved rounds and reports medians.
//
//   npx tsx --expose-gc benchmarks/peers.bench.ts [--rounds N] [--only scalar,w1,mlp,hessian,jac]
//
// jax-js computes float64 transcendental functions to float32 accuracy on WebAssembly, so its
// float64 answers are checked to float32 tolerance; tfjs has no float64.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { buildSync } from "esbuild";
import { type Tensor, hessian, jacfwd, jacrev, jit, nn, np, valueAndGrad } from "../src/index.js";
import { fmtMs, fmtRatio, machine, markdownTable, randomArray, settle, sink } from "./timing.js";

// jax-js reads Float16Array at import; Node 20 has none. A stand-in is enough for float32/64 work.
(globalThis as { Float16Array?: unknown }).Float16Array ??= class Float16Array extends Float32Array {};
const jax = await import("@jax-js/jax");
await jax.init("wasm", "cpu");
jax.defaultDevice("wasm");
await tf.setBackend("cpu");
await registerTfGradients();
await tf.ready();

/**
 * tfjs-core's Node bundle registers no gradients (the umbrella @tensorflow/tfjs package does), and
 * its ES module files use extensionless imports that only bundlers resolve: bundle the file that
 * registers them all. The copy registers into the registries tfjs keeps on globalThis, which the
 * tfjs-core imported above reads.
 */
async function registerTfGradients(): Promise<void> {
  const entry = createRequire(import.meta.url).resolve("@tensorflow/tfjs-core/dist/register_all_gradients.js");
  const dir = mkdtempSync(join(tmpdir(), "jacobi-tfjs-"));
  const file = join(dir, "register-gradients.mjs");
  buildSync({ entryPoints: [entry], bundle: true, format: "esm", platform: "node", outfile: file, logLevel: "error" });
  await import(pathToFileURL(file).href);
  rmSync(dir, { recursive: true, force: true });
}

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const ROUNDS = Number(opt("rounds") ?? 9);
const ONLY = opt("only")?.split(",");
const MIN_MS = 30;

// ---------------------------------------------------------------------------------------------
// Contenders and the schedule

type Column = "jacobi eager" | "jacobi jit" | "hand-fused JS" | "tfjs" | "jax-js jit" | "jax-js eager" | "torch";
const COLUMNS: Column[] = ["jacobi eager", "jacobi jit", "hand-fused JS", "tfjs", "jax-js jit", "jax-js eager", "torch"];

interface Contender {
  column: Column;
  /** One call; a promise is awaited (jax-js's arrays are ready asynchronously). */
  run?: () => unknown;
  /** The result's fingerprint (see fingerprint()). */
  check: () => Promise<number[]>;
  /** Relative agreement asked of this contender with the reference (the first contender). */
  tol: number;
  /** Milliseconds per call over k calls, measured elsewhere (torch). */
  remote?: (k: number) => number;
}

interface Workload {
  key: string;
  label: string;
  /** Per-call times are divided by this (ops in a call, for per-op overhead). */
  per?: number;
  contenders: Contender[];
}

/** Values at three positions, the sum and the sum of magnitudes of each output, flattened. */
function fingerprint(arrays: ArrayLike<number>[]): number[] {
  const out: number[] = [];
  for (const a of arrays) {
    const n = a.length;
    let s = 0, m = 0;
    for (let i = 0; i < n; i++) {
      s += a[i];
      m += Math.abs(a[i]);
    }
    out.push(a[0], a[Math.floor(n / 3)], a[n - 1], s, m);
  }
  return out;
}

/**
 * Largest difference: a sum relative to its output's sum of magnitudes (cancellation makes a
 * plain relative error meaningless), the other entries relative to themselves.
 */
function disagreement(got: number[], want: number[]): number {
  if (got.length !== want.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const magnitude = want[i - (i % 5) + 4];
    const scale = i % 5 === 3 ? magnitude : Math.max(Math.abs(want[i]), 1e-12 * magnitude, 1e-300);
    worst = Math.max(worst, Math.abs(got[i] - want[i]) / scale);
  }
  return worst;
}

/** fmtMs, with two digits below a microsecond (per-op overheads). */
const fmtTime = (ms: number): string => (ms < 0.01 ? `${(ms * 1000).toFixed(2)} µs` : fmtMs(ms));

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function sample(c: Contender, k: number): Promise<number> {
  if (c.remote) return c.remote(k);
  const run = c.run as () => unknown;
  settle();
  const t0 = performance.now();
  for (let i = 0; i < k; i++) {
    const r = run();
    sink(r instanceof Promise ? await r : r);
  }
  return (performance.now() - t0) / k;
}

/** Calls per sample so that one sample takes at least MIN_MS. */
async function calibrate(c: Contender): Promise<number> {
  await sample(c, 1);
  await sample(c, 1);
  let k = 1;
  for (;;) {
    const ms = (await sample(c, k)) * k;
    if (ms >= MIN_MS || k >= 1 << 20) return k;
    k *= Math.max(2, Math.ceil(MIN_MS / Math.max(ms, 1e-3)));
  }
}

interface Result {
  workload: Workload;
  ms: Map<Column, number>;
  agreement: Map<Column, number>;
  /** Contenders that threw on this workload. */
  failed: Set<Column>;
}

async function measure(w: Workload): Promise<Result> {
  const ref = await w.contenders[0].check();
  const agreement = new Map<Column, number>();
  const failed = new Set<Column>();
  // A contender whose answer disagrees is reported as such and not timed: a fast wrong answer is
  // not a result.
  const agreeing: Contender[] = [];
  for (const c of w.contenders) {
    let d: number;
    try {
      d = disagreement(await c.check(), ref);
    } catch (e) {
      // A peer that cannot run the workload (a missing rule, an internal error) gets no time.
      process.stderr.write(`  ${c.column} failed: ${String(e).split("\n")[0]}\n`);
      failed.add(c.column);
      continue;
    }
    agreement.set(c.column, d);
    if (d <= c.tol) agreeing.push(c);
    else process.stderr.write(`  ${c.column} disagrees with ${w.contenders[0].column} by ${d.toExponential(2)} (tolerance ${c.tol}): not timed\n`);
  }
  const ks = new Map<Contender, number>();
  for (const c of agreeing) ks.set(c, await calibrate(c));
  const samples = new Map<Contender, number[]>(agreeing.map((c) => [c, []]));
  const pick = randomArray(ROUNDS * agreeing.length, 0, 1, 17);
  const order = [...agreeing];
  for (let r = 0; r < ROUNDS; r++) {
    // Shuffled every round, so no contender always follows the same neighbour.
    for (let k = order.length - 1; k > 0; k--) {
      const j = Math.floor(pick[r * order.length + k] * (k + 1));
      [order[k], order[j]] = [order[j], order[k]];
    }
    for (const c of order) (samples.get(c) as number[]).push(await sample(c, ks.get(c) as number));
  }
  const ms = new Map<Column, number>();
  for (const c of agreeing) ms.set(c.column, median(samples.get(c) as number[]) / (w.per ?? 1));
  process.stderr.write(`  ${[...ms].map(([c, t]) => `${c} ${fmtTime(t)}`).join(", ")}\n`);
  return { workload: w, ms, agreement, failed };
}

// ---------------------------------------------------------------------------------------------
// torch in a child process

class TorchWorker {
  private constructor(
    private readonly child: ChildProcess,
    private readonly toPy: number,
    private readonly fromPy: number,
    private readonly dir: string,
  ) {}

  /** Started when Debian's python3 imports torch; null (an absent column) otherwise. */
  static start(dir: string): TorchWorker | null {
    try {
      execFileSync("/usr/bin/python3", ["-c", "import torch, numpy"], { stdio: "ignore", timeout: 120_000 });
    } catch {
      return null;
    }
    const cmd = join(dir, "cmd"), ans = join(dir, "ans");
    execFileSync("mkfifo", [cmd, ans]);
    const script = join(dirname(fileURLToPath(import.meta.url)), "peers", "torch_worker.py");
    const child = spawn("/usr/bin/python3", [script, cmd, ans, dir], { stdio: ["ignore", "inherit", "inherit"] });
    // Opening blocks until the other end opens: the worker opens cmd, then ans, as we do.
    const toPy = openSync(cmd, "w");
    const fromPy = openSync(ans, "r");
    return new TorchWorker(child, toPy, fromPy, dir);
  }

  private ask(line: string): string {
    writeSync(this.toPy, `${line}\n`);
    let text = "";
    const buf = Buffer.alloc(1 << 16);
    while (!text.endsWith("\n")) {
      const n = readSync(this.fromPy, buf, 0, buf.length, null);
      if (n === 0) throw new Error(`torch worker closed its answers (after "${line}")`);
      text += buf.toString("utf8", 0, n);
    }
    return text.trim();
  }

  check(name: string): number[] {
    return JSON.parse(this.ask(`check ${name}`)) as number[];
  }

  time(name: string, k: number): number {
    return Number(this.ask(`time ${name} ${k}`));
  }

  stop(): void {
    writeSync(this.toPy, "quit\n");
    closeSync(this.toPy);
    closeSync(this.fromPy);
    this.child.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Inputs, shared by every contender (and written to files for torch)

const dataDir = mkdtempSync(join(tmpdir(), "jacobi-peers-"));
const meta: Record<string, number[]> = {};
function input(name: string, shape: number[], lo: number, hi: number, seed: number): Float64Array {
  const a = randomArray(shape.reduce((p, q) => p * q, 1), lo, hi, seed);
  writeFileSync(join(dataDir, `${name}.f64`), new Uint8Array(a.buffer));
  meta[name] = shape;
  return a;
}

const N = 1_000_000;
const w1x = input("w1x", [N], 0.5, 2, 1), w1y = input("w1y", [N], -3, 3, 2);
const [M, K, H, O] = [256, 784, 512, 10];
const mlpX = input("mlp_x", [M, K], -1, 1, 3);
const mlpW1 = input("mlp_W1", [K, H], -0.05, 0.05, 4), mlpB1 = input("mlp_b1", [H], -0.1, 0.1, 5);
const mlpW2 = input("mlp_W2", [H, O], -0.05, 0.05, 6), mlpB2 = input("mlp_b2", [O], -0.1, 0.1, 7);
const mlpY = new Float64Array(M * O);
for (let i = 0; i < M; i++) mlpY[i * O + ((i * 7) % O)] = 1;
writeFileSync(join(dataDir, "mlp_y.f64"), new Uint8Array(mlpY.buffer));
meta.mlp_y = [M, O];
const HN = 200;
const hessW = input("hess_W", [HN, HN], -1 / Math.sqrt(HN), 1 / Math.sqrt(HN), 41), hessX = input("hess_x", [HN], -1, 1, 42);
const fwdW = input("fwd_W", [1000, 10], -1 / Math.sqrt(10), 1 / Math.sqrt(10), 11), fwdX = input("fwd_x", [10], -1, 1, 12);
const revW = input("rev_W", [10, 1000], -1 / Math.sqrt(1000), 1 / Math.sqrt(1000), 31), revX = input("rev_x", [1000], -1, 1, 32);
writeFileSync(join(dataDir, "meta.json"), JSON.stringify(meta));

const torch = TorchWorker.start(dataDir);
const torchContender = (name: string, tol = 1e-10): Contender[] =>
  torch === null ? [] : [{ column: "torch", check: async () => torch.check(name), tol, remote: (k) => torch.time(name, k) }];

// Helpers for each library's results.
const flatJ = (ts: Tensor[]): ArrayLike<number>[] => ts.map((t) => t.toTypedArray() as ArrayLike<number>);
const leavesJ = (x: unknown): Tensor[] => (Array.isArray(x) ? x.flatMap(leavesJ) : x !== null && typeof x === "object" && !("shape" in x) ? Object.values(x).flatMap(leavesJ) : [x as Tensor]);
type JArray = InstanceType<typeof jax.numpy.Array>;
async function jaxData(out: unknown): Promise<ArrayLike<number>[]> {
  const leaves = jax.tree.leaves(out as never) as JArray[];
  const data: ArrayLike<number>[] = [];
  for (const l of leaves) data.push((await l.data()) as ArrayLike<number>);
  return data;
}
async function jaxSettled(out: unknown): Promise<void> {
  await jax.blockUntilReady(out as never);
  jax.tree.dispose(out as never);
}
/** Runs `fn` (its intermediates freed by tidy), reads its outputs if asked, then frees them. */
function tfOutputs(fn: () => tf.Tensor[], read: boolean): ArrayLike<number>[] | null {
  const outs = tf.tidy(fn);
  const data = read ? outs.map((o) => o.dataSync() as ArrayLike<number>) : null;
  tf.dispose(outs);
  return data;
}
const F32 = 2e-4;
const JAX64 = 1e-4; // jax-js float64 on wasm: transcendental functions to float32 accuracy

// ---------------------------------------------------------------------------------------------
// Workloads

function scalarWorkload(): Workload {
  const chain = (v: Tensor): Tensor => {
    for (let i = 0; i < 100; i++) v = np.sin(v);
    return v;
  };
  const x = np.array(0.5);
  const tfChain = () =>
    tf.tidy(() => {
      let v = tf.scalar(0.5);
      for (let i = 0; i < 100; i++) v = tf.sin(v);
      return v.dataSync()[0];
    });
  const jaxChain = async () => {
    let v = jax.numpy.array(0.5, { dtype: jax.numpy.float32 });
    for (let i = 0; i < 100; i++) v = jax.numpy.sin(v);
    return (await v.data())[0];
  };
  return {
    key: "scalar",
    label: "eager op overhead: sin of a 0-d array, 100 in a row (time per op)",
    per: 100,
    contenders: [
      { column: "jacobi eager", run: () => chain(x), check: async () => fingerprint([[chain(x).item()]]), tol: 0 },
      { column: "tfjs", run: tfChain, check: async () => fingerprint([[tfChain()]]), tol: F32 },
      { column: "jax-js eager", run: jaxChain, check: async () => fingerprint([[await jaxChain()]]), tol: F32 },
      ...torchContender("scalar", 1e-14),
    ],
  };
}

function w1Workload(): Workload {
  const f = (x: Tensor, y: Tensor): Tensor => np.sum(np.subtract(np.add(np.log(x), np.multiply(x, y)), np.sin(y)));
  const vg = valueAndGrad(f, { argnums: [0, 1] });
  const jvg = jit(vg);
  const x = np.array(w1x), y = np.array(w1y);
  const hand = (): [number, Float64Array, Float64Array] => {
    const gx = new Float64Array(N), gy = new Float64Array(N);
    let s = 0;
    for (let i = 0; i < N; i++) {
      const a = w1x[i], b = w1y[i];
      s += Math.log(a) + a * b - Math.sin(b);
      gx[i] = 1 / a + b;
      gy[i] = a - Math.cos(b);
    }
    return [s, gx, gy];
  };
  const x32 = Float32Array.from(w1x), y32 = Float32Array.from(w1y);
  const tfx = tf.tensor1d(x32), tfy = tf.tensor1d(y32);
  const tfVg = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.sub(tf.add(tf.log(a), tf.mul(a, b)), tf.sin(b))) as tf.Scalar);
  const tfRun = (read: boolean) => tfOutputs(() => {
    const { value, grads } = tfVg([tfx, tfy]);
    return [value, ...grads];
  }, read);
  const jnp = jax.numpy;
  const jf = (a: JArray, b: JArray) => jnp.sum(jnp.log(a.ref).add(a.mul(b.ref)).sub(jnp.sin(b)));
  const jvgJax = jax.jit(jax.valueAndGrad(jf, { argnums: [0, 1] }));
  const jx = jnp.array(x32), jy = jnp.array(y32);
  const jaxRun = () => jvgJax(jx.ref, jy.ref);
  const ours = (out: unknown) => flatJ(leavesJ(out));
  return {
    key: "w1",
    label: `Σ(ln x + x·y − sin y), value + gradient, n = 1e6`,
    contenders: [
      { column: "jacobi eager", run: () => vg(x, y), check: async () => fingerprint(ours(vg(x, y))), tol: 0 },
      { column: "jacobi jit", run: () => jvg(x, y), check: async () => fingerprint(ours(jvg(x, y))), tol: 0 },
      { column: "hand-fused JS", run: hand, check: async () => fingerprint(((h) => [[h[0]], h[1], h[2]])(hand())), tol: 1e-12 },
      { column: "tfjs", run: () => tfRun(false), check: async () => fingerprint(tfRun(true) as ArrayLike<number>[]), tol: F32 },
      { column: "jax-js jit", run: async () => jaxSettled(jaxRun()), check: async () => fingerprint(await jaxData(jaxRun())), tol: F32 },
      ...torchContender("w1"),
    ],
  };
}

function mlpWorkload(d: "float64" | "float32"): Workload {
  const t = (a: Float64Array, shape: number[]) => np.reshape(np.array(a, d), shape);
  const params = { W1: t(mlpW1, [K, H]), b1: t(mlpB1, [H]), W2: t(mlpW2, [H, O]), b2: t(mlpB2, [O]) };
  const xs = t(mlpX, [M, K]), ys = t(mlpY, [M, O]);
  type P = typeof params;
  const loss = (p: P, a: Tensor, b: Tensor): Tensor => {
    const h = nn.relu(np.add(np.matmul(a, p.W1), p.b1));
    const logits = np.add(np.matmul(h, p.W2), p.b2);
    return np.negative(np.mean(np.sum(np.multiply(b, nn.logSoftmax(logits)), -1)));
  };
  const step = valueAndGrad(loss);
  const jstep = jit(step);
  // Our gradient pytree is {W1, b1, W2, b2}: flattened in that order, as the peers' are.
  const ours = (out: unknown) => {
    const [v, g] = out as [Tensor, P];
    return flatJ([v, g.W1, g.b1, g.W2, g.b2]);
  };
  const tol = d === "float64" ? 1e-10 : F32;
  const contenders: Contender[] = [
    { column: "jacobi eager", run: () => step(params, xs, ys), check: async () => fingerprint(ours(step(params, xs, ys))), tol: 0 },
    { column: "jacobi jit", run: () => jstep(params, xs, ys), check: async () => fingerprint(ours(jstep(params, xs, ys))), tol: 0 },
  ];
  if (d === "float32") {
    const tt = (a: Float64Array, shape: number[]) => tf.tensor(Float32Array.from(a), shape);
    const tp = [tt(mlpW1, [K, H]), tt(mlpB1, [H]), tt(mlpW2, [H, O]), tt(mlpB2, [O])];
    const tx = tt(mlpX, [M, K]), ty = tt(mlpY, [M, O]);
    const tfLoss = (w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor) => {
      const h = tf.relu(tf.add(tf.matMul(tx, w1), b1));
      const logits = tf.add(tf.matMul(h, w2), b2);
      return tf.neg(tf.mean(tf.sum(tf.mul(ty, tf.logSoftmax(logits)), -1))) as tf.Scalar;
    };
    const tfVg = tf.valueAndGrads(tfLoss as (...a: tf.Tensor[]) => tf.Scalar);
    const tfRun = (read: boolean) => tfOutputs(() => {
      const { value, grads } = tfVg(tp);
      return [value, ...grads];
    }, read);
    contenders.push({ column: "tfjs", run: () => tfRun(false), check: async () => fingerprint(tfRun(true) as ArrayLike<number>[]), tol: F32 });
  }
  {
    const jnp = jax.numpy;
    const dtype = d === "float64" ? jnp.float64 : jnp.float32;
    const ja = (a: Float64Array, shape: number[]) => jnp.array(d === "float64" ? a : Float32Array.from(a), { dtype }).reshape(shape);
    const jp = [ja(mlpW1, [K, H]), ja(mlpB1, [H]), ja(mlpW2, [H, O]), ja(mlpB2, [O])];
    const jx = ja(mlpX, [M, K]), jy = ja(mlpY, [M, O]);
    const jLoss = (p: JArray[], a: JArray, b: JArray) => {
      const h = jax.nn.relu(jnp.matmul(a, p[0]).add(p[1]));
      const logits = jnp.matmul(h, p[2]).add(p[3]);
      return jnp.mean(jnp.sum(b.mul(jax.nn.logSoftmax(logits)), -1)).neg();
    };
    const jstepJax = jax.jit(jax.valueAndGrad(jLoss));
    const jaxRun = () => jstepJax(jp.map((p) => p.ref), jx.ref, jy.ref);
    contenders.push({
      column: "jax-js jit",
      run: async () => jaxSettled(jaxRun()),
      check: async () => fingerprint(await jaxData(jaxRun())),
      tol: d === "float64" ? JAX64 : F32,
    });
  }
  contenders.push(...torchContender(`mlp-${d}`, tol));
  return { key: "mlp", label: `MLP ${M}×${K}→${H}→${O}, value + gradient, ${d}`, contenders };
}

/** jacfwd/jacrev/hessian under each library's jit, on the functions of jacobian.bench.ts. */
function jacobianWorkloads(): Workload[] {
  const jnp = jax.numpy;
  const j64 = (a: Float64Array, shape: number[]) => jnp.array(a, { dtype: jnp.float64 }).reshape(shape);
  const out: Workload[] = [];
  const g = (W: Tensor) => (v: Tensor) => np.add(np.sum(np.tanh(np.matmul(W, v))), np.divide(np.sum(np.power(v, 3)), 3));
  const tanhW = (W: Tensor) => (v: Tensor) => np.tanh(np.matmul(W, v));
  const cases = [
    { key: "hessian", label: `Hessian of Σ tanh(W x) + Σ x³/3, n = ${HN}`, W: hessW, x: hessX, shape: [HN, HN], n: HN, mode: "hessian" as const },
    { key: "jacfwd", label: "jacfwd of tanh(W x), 10 → 1000", W: fwdW, x: fwdX, shape: [1000, 10], n: 10, mode: "fwd" as const },
    { key: "jacrev", label: "jacrev of tanh(W x), 1000 → 10", W: revW, x: revX, shape: [10, 1000], n: 1000, mode: "rev" as const },
  ];
  for (const c of cases) {
    const W = np.reshape(np.array(c.W), c.shape), x = np.array(c.x);
    const f = c.mode === "hessian" ? hessian(g(W)) : c.mode === "fwd" ? jacfwd(tanhW(W)) : jacrev(tanhW(W));
    const jf = jit(f);
    const jW = j64(c.W, c.shape), jx = j64(c.x, [c.n]);
    const jg = (v: JArray) => jnp.sum(jnp.tanh(jnp.matmul(jW.ref, v.ref))).add(jnp.sum(jnp.power(v, 3)).div(3));
    const jt = (v: JArray) => jnp.tanh(jnp.matmul(jW.ref, v));
    const jaxF = jax.jit(c.mode === "hessian" ? jax.hessian(jg) : c.mode === "fwd" ? jax.jacfwd(jt) : jax.jacrev(jt));
    const jaxRun = () => jaxF(jx.ref);
    out.push({
      key: "jac",
      label: `${c.label}, under jit`,
      contenders: [
        { column: "jacobi jit", run: () => jf(x), check: async () => fingerprint(flatJ([jf(x)])), tol: 0 },
        { column: "jacobi eager", run: () => f(x), check: async () => fingerprint(flatJ([f(x)])), tol: 1e-12 },
        { column: "jax-js jit", run: async () => jaxSettled(jaxRun()), check: async () => fingerprint(await jaxData(jaxRun())), tol: JAX64 },
        ...torchContender(c.key),
      ],
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

const workloads: Workload[] = [scalarWorkload(), w1Workload(), mlpWorkload("float64"), mlpWorkload("float32"), ...jacobianWorkloads()].filter(
  (w) => ONLY === undefined || ONLY.includes(w.key),
);
const results: Result[] = [];
try {
  for (const w of workloads) {
    process.stderr.write(`${w.label} ...\n`);
    results.push(await measure(w));
  }
} finally {
  torch?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

const used = COLUMNS.filter((c) => results.some((r) => r.agreement.has(c) || r.failed.has(c)));
const rows = results.map(({ workload, ms, agreement, failed }) => {
  const jacobiBest = Math.min(ms.get("jacobi eager") ?? Infinity, ms.get("jacobi jit") ?? Infinity);
  const peers = (["tfjs", "jax-js jit", "jax-js eager", "torch"] as Column[]).filter((c) => ms.has(c));
  const bestPeer = peers.reduce<Column | null>((b, c) => (b === null || (ms.get(c) as number) < (ms.get(b) as number) ? c : b), null);
  return [
    workload.label,
    ...used.map((c) => (ms.has(c) ? fmtTime(ms.get(c) as number) : agreement.has(c) ? "disagrees" : failed.has(c) ? "fails" : "—")),
    bestPeer === null ? "—" : `${fmtRatio(jacobiBest / (ms.get(bestPeer) as number))} (${bestPeer})`,
  ];
});
const worst = results.map(({ workload, agreement }) => {
  const entries = [...agreement].filter(([c]) => c !== workload.contenders[0].column).map(([c, d]) => `${c} ${d.toExponential(1)}`);
  return `- ${workload.label}: ${entries.join(", ")}`;
});
console.log(`command: npx tsx --expose-gc benchmarks/peers.bench.ts${args.length ? ` ${args.join(" ")}` : ""}`);
console.log(`machine: ${machine()}, ${cpus()[0]?.model ?? "unknown CPU"}, ${availableParallelism()} cores, load average ${loadavg()[0].toFixed(1)} at the end`);
console.log(`torch: ${torch === null ? "not importable by /usr/bin/python3 (column omitted)" : "Debian python3, 1 thread"}; tfjs-core + tfjs-backend-cpu (float32); jax-js on wasm`);
console.log(`medians of ${ROUNDS} shuffled interleaved rounds, each sample ≥ ${MIN_MS} ms of calls\n`);
console.log(markdownTable(["workload", ...used, "best jacobi / best peer"], rows));
console.log("\nAgreement with the first column (relative, on values, sums and samples of each output):");
console.log(worst.join("\n"));
