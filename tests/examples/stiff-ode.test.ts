// Runs examples/stiff-ode.ts: backward Euler with Newton steps on the sparse (colored) Jacobian
// agrees with the same method on dense jacfwd + np.linalg.solve, converges quadratically, tracks a
// fine explicit reference, and explicit Euler at the same step blows up.
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { backwardEuler, explicitEuler, solveTridiagonal } from "../../examples/stiff-ode.js";
import { guardTraceState } from "../guard.js";

guardTraceState(test);
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const maxDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

test("sparse-Jacobian Newton equals dense-Jacobian Newton and converges fast", () => {
  const opts = { points: 30, dt: 0.01, steps: 8 };
  const sparse = backwardEuler(opts);
  const dense = backwardEuler(opts, "dense");
  assert.ok(maxDiff(sparse.u, dense.u) < 1e-12, `difference ${maxDiff(sparse.u, dense.u)}`);
  assert.equal(sparse.newtonIterations, dense.newtonIterations);
  assert.ok(sparse.newtonIterations.every((k) => k >= 1 && k <= 5), String(sparse.newtonIterations));
  assert.ok(sparse.worstResidual < 1e-12);
});

test("backward Euler tracks a fine explicit reference; explicit Euler at dt = 0.01 blows up", () => {
  const points = 20;
  const be = backwardEuler({ points, dt: 0.005, steps: 10 }).u;
  // h^2 / 2 = 1.1e-3 is the explicit stability limit here: 5e-4 is stable and ~first-order exact.
  const ref = explicitEuler({ points, dt: 5e-4, steps: 100 });
  assert.ok(maxDiff(be, ref) < 0.02, `difference ${maxDiff(be, ref)}`);
  assert.ok(Math.max(...be) > 0.1 && Math.max(...be) < 1);
  const blown = explicitEuler({ points, dt: 0.01, steps: 5 });
  assert.ok(Math.max(...blown.map(Math.abs)) > 1e3);
});

test("the tridiagonal solver refuses entries outside the band", () => {
  const A = { indptr: Int32Array.from([0, 2, 3]), indices: Int32Array.from([0, 1, 1]), values: Float64Array.from([2, 1, 2]), shape: [2, 2] as [number, number] };
  assert.equal(Array.from(solveTridiagonal(A, Float64Array.from([3, 2]))), [1, 1]);
  const far = { indptr: Int32Array.from([0, 2, 3, 4]), indices: Int32Array.from([0, 2, 1, 2]), values: Float64Array.from([1, 1, 1, 1]), shape: [3, 3] as [number, number] };
  assert.throws(() => solveTridiagonal(far, new Float64Array(3)), /outside the band/);
});

test("the script prints the run", () => {
  const r = spawnSync("npx", ["tsx", "examples/stiff-ode.ts", "24"], { cwd: root, encoding: "utf8", timeout: 120_000 });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /N = 24, dt = 0.01, 30 backward Euler steps/);
  assert.match(r.stdout, /tridiagonal from 3 JVP lanes/);
  assert.match(r.stdout, /explicit Euler .* \(unstable\)/);
});

test.run();
