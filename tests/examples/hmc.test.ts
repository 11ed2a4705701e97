// Runs examples/hmc.ts as a user would (npx tsx) on a reduced budget (32 chains x 300 transitions)
// and checks what it prints: an acceptance rate in the range a tuned HMC has, and posterior means
// and variances within four standard errors of the banana's exact moments (the standard errors
// themselves small enough that the comparison means something).
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const run = (args: string[]) => spawnSync("npx", ["tsx", "examples/hmc.ts", ...args], { cwd: root, encoding: "utf8", timeout: 180_000 });

test("HMC samples the banana: sane acceptance, moments within a few standard errors of the exact ones", () => {
  const r = run(["--chains", "32", "--iters", "300", "--warmup", "100"]);
  assert.is(r.status, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^banana: x1 ~ N\(0, 1\^2\), x2 \| x1 ~ N\(1 \(x1\^2 - 1\^2\), 1\)/);
  assert.match(out, "32 chains x 300 transitions after 100 warm-up");
  const acc = /acceptance rate ([\d.]+)/.exec(out);
  assert.ok(acc !== null, out);
  const rate = Number(acc[1]);
  assert.ok(rate > 0.6 && rate < 0.995, `acceptance rate ${rate}`);
  // Exact moments: E x1 = E x2 = 0, Var x1 = a^2 = 1, Var x2 = 1 + 2 b^2 a^4 = 3.
  const exact = [[0, 1], [0, 3]];
  // Largest standard errors a working sampler gives at this budget (about twice the observed ones).
  const maxSe = [[0.25, 0.15], [0.25, 1.0]];
  for (const d of [0, 1]) {
    const m = new RegExp(`x${d + 1}: mean +(-?[\\d.]+) \\+- ([\\d.]+) \\(exact (-?[\\d.]+)\\), variance +(-?[\\d.]+) \\+- ([\\d.]+) \\(exact ([\\d.]+)\\)`).exec(out);
    assert.ok(m !== null, out);
    const [mean, meanSe, exactMean, variance, varSe, exactVar] = m.slice(1).map(Number);
    assert.equal([exactMean, exactVar], exact[d]);
    assert.ok(meanSe > 0 && meanSe < maxSe[d][0], `x${d + 1} mean standard error ${meanSe}`);
    assert.ok(varSe > 0 && varSe < maxSe[d][1], `x${d + 1} variance standard error ${varSe}`);
    assert.ok(Math.abs(mean - exactMean) < 4 * meanSe, `x${d + 1} mean ${mean} +- ${meanSe}, exact ${exactMean}`);
    assert.ok(Math.abs(variance - exactVar) < 4 * varSe, `x${d + 1} variance ${variance} +- ${varSe}, exact ${exactVar}`);
  }
});

test("bad options are refused with a message", () => {
  const r = run(["--chains", "1"]);
  assert.is.not(r.status, 0);
  assert.match(r.stderr, "hmc: bad options chains 1");
});

test.run();
