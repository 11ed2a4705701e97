// Runs examples/gaussian-process.ts as a user would (npx tsx) on a reduced budget (80 Adam steps)
// and checks what it prints: the log marginal likelihood at every step, rising from the start to
// the end, and fitted hyperparameters near the ones that generated the data.
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

test("the example fits the GP hyperparameters: the likelihood rises and the fit is near the generating values", () => {
  const r = spawnSync("npx", ["tsx", "examples/gaussian-process.ts", "--steps", "80"], { cwd: root, encoding: "utf8", timeout: 180_000 });
  assert.is(r.status, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^data: 150 points of a GP draw \(lengthscale 1.5, signal scale 1\) with noise scale 0.2, generated from random.key\(2024\)/);
  const lml = [...out.matchAll(/^step (\d+) {2}log marginal likelihood (-?[\d.]+)$/gm)].map((m) => [Number(m[1]), Number(m[2])]);
  assert.equal(lml.map(([k]) => k), Array.from({ length: 81 }, (_, k) => k));
  const values = lml.map(([, v]) => v);
  // From a poor start (every scale 0.5) the fit gains far more than the optimizer's last-step wobble.
  assert.ok(values[80] > values[0] + 50, `log marginal likelihood ${values[0]} -> ${values[80]}`);
  assert.ok(values.slice(60).every((v) => Math.abs(v - values[80]) < 0.1), `not settled: ${values.slice(60).join(", ")}`);
  const fit = /fitted: lengthscale ([\d.]+) \(generating 1.5\), signal scale ([\d.]+) \(generating 1\), noise scale ([\d.]+) \(generating 0.2\)/.exec(out);
  assert.ok(fit !== null, out);
  const [ell, sf, sn] = fit.slice(1).map(Number);
  // One draw of 150 points pins the noise closely and the lengthscale and signal scale to ~10%.
  assert.ok(Math.abs(ell / 1.5 - 1) < 0.15, `lengthscale ${ell}`);
  assert.ok(Math.abs(sf - 1) < 0.15, `signal scale ${sf}`);
  assert.ok(Math.abs(sn / 0.2 - 1) < 0.1, `noise scale ${sn}`);
});

test("bad options are refused with a message", () => {
  const r = spawnSync("npx", ["tsx", "examples/gaussian-process.ts", "--steps", "0"], { cwd: root, encoding: "utf8", timeout: 60_000 });
  assert.is.not(r.status, 0);
  assert.match(r.stderr, "gaussian-process: bad options steps 0");
});

test.run();
