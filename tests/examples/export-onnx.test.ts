// Runs examples/export-onnx.ts as a user would (npx tsx) with a shorter jacobi training, and checks
// what it prints: the two exported models, ten ONNX Runtime training steps whose losses equal
// jacobi's to 1e-12 relative, and the ORT predictor's accuracy equal to jacobi's.
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { guardTraceState } from "../guard.js";

guardTraceState(test);

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

test("the exported training step continues in ONNX Runtime with jacobi's losses", () => {
  const r = spawnSync("npx", ["tsx", "examples/export-onnx.ts"], { cwd: root, encoding: "utf8", timeout: 120_000, env: { ...process.env, EXPORT_ONNX_STEPS: "30" } });
  assert.is(r.status, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^trained 30 steps in jacobi: loss [\d.]+/);
  assert.match(out, /exported the training step \(\d+ bytes\) and the predictor \(\d+ bytes\)/);
  const steps = [...out.matchAll(/step +(\d+) {2}loss jacobi ([\d.]+) {2}onnxruntime ([\d.]+) {2}relative difference ([\d.e+-]+)/g)];
  assert.is(steps.length, 10);
  assert.equal(steps.map((m) => Number(m[1])), Array.from({ length: 10 }, (_, i) => 31 + i));
  for (const m of steps) assert.ok(Number(m[4]) <= 1e-12, m[0]);
  // Gradient descent: the loss goes down in both runs.
  assert.ok(Number(steps[9][3]) < Number(steps[0][3]), out);
  const acc = /predictor in onnxruntime: training accuracy ([\d.]+) \(jacobi: ([\d.]+)\)/.exec(out);
  assert.ok(acc !== null, out);
  assert.is(acc[1], acc[2]);
  assert.ok(Number(acc[1]) > 0.8, out);
});

test.run();
