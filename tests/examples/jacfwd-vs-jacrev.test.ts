// Runs examples/jacfwd-vs-jacrev.ts as a user would (npx tsx) and checks that it shows both
// regimes of the seed chapter's cost argument, with costAnalysis and the auto choice agreeing.
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

test("the example prints the forward and the reverse regime", () => {
  const r = spawnSync("npx", ["tsx", "examples/jacfwd-vs-jacrev.ts"], { cwd: root, encoding: "utf8", timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  const out = r.stdout;
  // Both ends of the sweep: n = 4, m = 900 goes to forward mode, n = 900, m = 4 to reverse mode,
  // by measured time (the gaps are over 10x) and by the auto rule.
  assert.match(out, /few inputs, many outputs \(n = 4, m = 900\): forward mode wins, jacfwd [\d.]+ ms vs jacrev [\d.]+ ms; auto picks fwd/);
  assert.match(out, /many inputs, few outputs \(n = 900, m = 4\): reverse mode wins, jacrev [\d.]+ ms vs jacfwd [\d.]+ ms; auto picks rev/);
  // The table rows carry costAnalysis's FLOPs: forward cheaper at the first row, reverse at the last.
  const rows = out.split("\n").filter((l) => /^\| \d+ \| \d+ \|/.test(l)).map((l) => l.split("|").map((c) => c.trim()));
  assert.is(rows.length, 5);
  const [first, last] = [rows[0], rows[4]];
  assert.equal([first[1], first[2], first[9]], ["4", "900", "fwd"]);
  assert.equal([last[1], last[2], last[9]], ["900", "4", "rev"]);
  assert.ok(Number(first[6]) < Number(first[7]), `FLOPs fwd ${first[6]} < rev ${first[7]}`);
  assert.ok(Number(last[7]) < Number(last[6]), `FLOPs rev ${last[7]} < fwd ${last[6]}`);
  // Residuals stored by reverse mode: 1 - tanh^2 for each of the m outputs, in float64.
  assert.is(first[8], `${900 * 8} B`);
  assert.is(last[8], `${4 * 8} B`);
  assert.match(out, "auto: fwd (the input has 4 elements, fewer than the output's 900");
});

test.run();
