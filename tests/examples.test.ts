import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import { guardTraceState } from "./guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";

// Every example runs as its own process, as a user would run it; they start together so that
// the file takes as long as the slowest example rather than their sum.
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}
function run(file: string, args: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", file, ...args], { env, cwd: process.cwd() });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
const ok = (r: Run, name: string): string => {
  assert.is(r.code, 0, `${name} exited with ${r.code}: ${r.stderr}`);
  return r.stdout;
};

const graphsDir = mkdtempSync(join(tmpdir(), "jacobi-graphs-"));
const hasDot = spawnSync("dot", ["-V"], { stdio: "ignore" }).status === 0;
const runs = {
  seed: run("examples/seed.ts"),
  newton: run("examples/newton.ts"),
  iris: run("examples/mlp-iris.ts"),
  physics: run("examples/physics.ts"),
  graphs: run("examples/graphs.ts", [join(graphsDir, "with-path")]),
  // The same example on a PATH without Graphviz: it must say how to install it.
  // node is started by its absolute path, so an empty PATH directory hides only Graphviz.
  graphsNoDot: run("examples/graphs.ts", [join(graphsDir, "no-dot")], { ...process.env, PATH: join(graphsDir, "empty-path") }),
};

test("npm run demo is examples/seed.ts", () => {
  const pkg = JSON.parse(readFileSync("package.json", "utf8"));
  assert.is(pkg.scripts.demo, "tsx examples/seed.ts");
});

test("demo: the chapter's numbers, both jaxprs, jacfwd vs jacrev", async () => {
  const out = ok(await runs.seed, "seed");
  assert.match(out, "f(2, 5) = 11.652071455223084");
  // The function's jaxpr and the gradient's.
  assert.match(out, "{ lambda a:f64[] b:f64[] .\n  let c:f64[] = log a\n      d:f64[] = mul a b");
  // d/dx1 = 1/x1 + x2 and d/dx2 = x1 - cos x2: the seed cotangent 1 multiplies nothing.
  assert.match(
    out,
    "{ lambda a:f64[] b:f64[] .\n  let c:f64[] = div 1.0 a\n      d:f64[] = cos b\n      e:f64[] = mul -1.0 d\n" +
      "      f:f64[] = add_any e a\n      g:f64[] = add_any b c\n  in ( g f ) }",
  );
  // Forward table, tangents with respect to x1.
  assert.match(out, "v1       | ln v-1     |  0.693 |            0.5");
  assert.match(out, "v3       | sin v0     | -0.959 |              0");
  assert.match(out, "v5       | v4 - v3    | 11.652 |            5.5");
  // Reverse table, adjoints down to the inputs.
  const rev = out.slice(out.indexOf("Reverse mode:"));
  assert.match(rev, "y        | v5         | 11.652 |             1");
  assert.match(rev, "v0       | x2         |      5 |         1.716");
  assert.match(rev, "v-1      | x1         |      2 |           5.5");
  assert.match(out, "(dy/dx1, dy/dx2) = (5.5, 1.7163378145367738)");
  assert.match(out, /R\^8 -> R\^400 +jacfwd \(n=8 < m=400\) +[\d.]+ ms +[\d.]+ ms +jac(fwd|rev) \d+x faster/);
  assert.match(out, /R\^400 -> R\^8 +jacrev \(m=8 < n=400\) +[\d.]+ ms +[\d.]+ ms +jac(fwd|rev) \d+x faster/);
  assert.match(out, "Where to go next");
});

test("newton: Rosenbrock minimum (1, 1) in a few Newton steps", async () => {
  const out = ok(await runs.newton, "newton");
  const m = out.match(/converged after (\d+) Newton steps to \(([\d.]+), ([\d.]+)\)/);
  assert.ok(m, out);
  assert.ok(Number(m[1]) <= 10, `took ${m[1]} steps`);
  assert.equal([m[2], m[3]], ["1.000000", "1.000000"]);
  assert.match(out, "Hessian there: [[802,-400],[-400,200]]");
  const first = out.split("\n")[2].trim().split(/\s+/);
  assert.equal(first.slice(0, 3), ["0", "-1.200000000000", "1.000000000000"]);
});

test("mlp-iris: one line per epoch and at least 95% training accuracy", async () => {
  const out = ok(await runs.iris, "mlp-iris");
  const epochs = out.split("\n").filter((l) => /^epoch +\d+\/20 +loss [\d.]+ +training accuracy [\d.]+$/.test(l));
  assert.is(epochs.length, 20);
  const acc = Number(out.match(/final training accuracy: ([\d.]+)/)?.[1]);
  assert.ok(acc >= 0.95, `accuracy ${acc}`);
  const firstLoss = Number(epochs[0].match(/loss ([\d.]+)/)?.[1]);
  const lastLoss = Number(epochs[19].match(/loss ([\d.]+)/)?.[1]);
  assert.ok(lastLoss < firstLoss / 2, `loss ${firstLoss} -> ${lastLoss}`);
});

test("physics: Hamilton's equations from grad, bounded energy drift, the exact period", async () => {
  const out = ok(await runs.physics, "physics");
  assert.match(out, "dH/dq = 8.920208 (m g l sin q = 8.920208)");
  const drift = Number(out.match(/energy drift \(leapfrog\): ([\d.e+-]+)/)?.[1]);
  assert.ok(drift > 0 && drift < 1e-3, `leapfrog drift ${drift}`);
  const euler = Number(out.match(/explicit Euler: .*max relative energy drift ([\d.e+-]+)/)?.[1]);
  assert.ok(euler > 100 * drift, `Euler drift ${euler} should dwarf leapfrog's ${drift}`);
  const m = out.match(/period: leapfrog ([\d.]+) s, exact ([\d.]+) s/);
  assert.ok(m, out);
  assert.ok(Math.abs(Number(m[1]) - Number(m[2])) < 1e-3, `period ${m[1]} vs ${m[2]}`);
});

test("graphs: DOT files for the function and its gradient; SVG when dot is installed", async () => {
  const out = ok(await runs.graphs, "graphs");
  const fwd = readFileSync(join(graphsDir, "with-path", "seed-forward.dot"), "utf8");
  assert.match(fwd, 'label="v1 = ln v-1"');
  assert.match(fwd, 'label="v5 = v4 - v3"');
  const grad = readFileSync(join(graphsDir, "with-path", "seed-gradient.dot"), "utf8");
  assert.match(grad, 'label="dy/dx2"');
  assert.match(out, "seed-forward.dot (8 nodes, 9 edges)");
  assert.is(existsSync(join(graphsDir, "with-path", "seed-forward.svg")), hasDot);
  if (hasDot) assert.match(readFileSync(join(graphsDir, "with-path", "seed-gradient.svg"), "utf8"), "<svg");
  const noDot = ok(await runs.graphsNoDot, "graphs without dot");
  assert.match(noDot, "sudo apt-get install graphviz");
  assert.is(existsSync(join(graphsDir, "no-dot", "seed-forward.svg")), false);
  assert.is(existsSync(join(graphsDir, "no-dot", "seed-forward.dot")), true);
  rmSync(graphsDir, { recursive: true, force: true });
});

test.run();
