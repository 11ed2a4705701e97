// `npx tsx benchmarks/memory.bench.ts [maxSteps]`: memory per equation of a long scalar chain
// (y = sin(y), n times), measured with process.memoryUsage().heapUsed after a full garbage
// collection, at several lengths, so that linear growth shows as a constant bytes-per-equation:
//   grad      everything alive at the end of the forward pass inside grad (the linear jaxpr and
//             its residuals, just before the backward pass runs)
//   vjp       what a vjpFn keeps alive after vjp returns (the same linear jaxpr)
//   makeJaxpr the staged ClosedJaxpr of the chain
//   jvp       alive at the end of the chain inside jvp (forward mode stores nothing: ~0)
// Also reports the wall time of grad (a separate, unprobed run), to show it stays linear too.
import v8 from "node:v8";
import vm from "node:vm";
import { grad, jvp, makeJaxpr, np, vjp } from "../src/index.js";
import { machine, markdownTable } from "./timing.js";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

/** Heap in use after two full collections (the second picks up what finalizers released). */
function heap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** sin applied n times; `atEnd` runs inside the transformation, with the whole chain traced. */
const chain = (n: number, atEnd: () => void = () => {}) => (x: any) => {
  let y = x;
  for (let i = 0; i < n; i++) y = np.sin(y);
  atEnd();
  return y;
};

interface Row {
  n: number;
  grad: number;
  vjp: number;
  makeJaxpr: number;
  jvp: number;
  gradMs: number;
}

function measure(n: number): Row {
  let inside = 0;

  let base = heap();
  grad(chain(n, () => (inside = heap())))(0.5);
  const gradBytes = inside - base;
  heap();
  const t0 = performance.now();
  grad(chain(n))(0.5); // timed without the collections the measurement above forces
  const gradMs = performance.now() - t0;

  base = heap();
  let kept: unknown = vjp(chain(n), [0.5]);
  const vjpBytes = heap() - base;
  kept = null;

  base = heap();
  kept = makeJaxpr(chain(n))(0.5);
  const jaxprBytes = heap() - base;
  kept = null;

  base = heap();
  jvp(chain(n, () => (inside = heap())), [0.5], [1]);
  const jvpBytes = inside - base;

  void kept;
  return { n, grad: gradBytes / n, vjp: vjpBytes / n, makeJaxpr: jaxprBytes / n, jvp: jvpBytes / n, gradMs };
}

const maxSteps = Number(process.argv[2] ?? 1_000_000);
const sizes = [maxSteps / 8, maxSteps / 4, maxSteps / 2, maxSteps].map(Math.round);
measure(10_000); // warm up the JIT so that code objects do not count as data

const rows = sizes.map(measure);
const fmt = (b: number) => b.toFixed(0);
console.log(`memory per equation of a chain of sin, ${machine()}\n`);
console.log(
  markdownTable(
    ["equations", "grad (B/eqn)", "vjp (B/eqn)", "makeJaxpr (B/eqn)", "jvp (B/eqn)", "grad time", "grad µs/eqn"],
    rows.map((r) => [String(r.n), fmt(r.grad), fmt(r.vjp), fmt(r.makeJaxpr), fmt(r.jvp), `${(r.gradMs / 1000).toFixed(2)} s`, ((1000 * r.gradMs) / r.n).toFixed(2)]),
  ),
);
const perEqn = rows.map((r) => r.grad);
const spread = (Math.max(...perEqn) - Math.min(...perEqn)) / Math.min(...perEqn);
console.log(`\ngrad bytes/equation vary by ${(100 * spread).toFixed(0)}% across a ${sizes[sizes.length - 1] / sizes[0]}x range of lengths: ${spread < 0.25 ? "linear growth" : "NOT linear"}`);
