// The seed chapter end to end: `npm run demo` (or `npx tsx examples/seed.ts`).
//
// f(x1, x2) = ln(x1) + x1*x2 - sin(x2) at (2, 5): its jaxpr, the forward-mode table (primal and
// tangent trace), the reverse-mode table (adjoint trace), the jaxpr of its gradient, and jacfwd
// against jacrev on functions R^n -> R^m, timed against the chapter's rule of thumb.
import { grad, jacfwd, jacrev, makeJaxpr, np, traceTable, type Tensor } from "../src/index.js";

const f = (x1: Tensor | number, x2: Tensor | number) => np.subtract(np.add(np.log(x1), np.multiply(x1, x2)), np.sin(x2));

const section = (title: string): void => console.log(`\n== ${title} ${"=".repeat(Math.max(0, 72 - title.length))}\n`);

console.log("jacobi: the seed chapter's example, computed by the library itself");
console.log("f(x1, x2) = ln(x1) + x1*x2 - sin(x2)   at (x1, x2) = (2, 5)");
console.log(`f(2, 5) = ${f(2, 5).item()}`);

section("1. The function, staged as a jaxpr (makeJaxpr)");
console.log(makeJaxpr(f)(2, 5).toString());

section("2. Forward mode: primal trace and tangent trace, seeded with dx1 = 1");
console.log(traceTable(f, [2, 5], { mode: "forward", wrt: 0 }).toString());
console.log("\nOne forward pass gives one column of the Jacobian: dy/dx1 = 5.5.");
console.log("dy/dx2 needs a second pass seeded with dx2 = 1:");
const t2 = traceTable(f, [2, 5], { mode: "forward", wrt: 1 });
console.log(`  dy/dx2 = ${t2.rows[t2.rows.length - 1].tangent}`);

section("3. Reverse mode: adjoint trace, seeded with ybar = 1");
const rev = traceTable(f, [2, 5], { mode: "reverse" });
console.log(rev.toString());
const [g1, g2] = grad(f, { argnums: [0, 1] })(2, 5) as Tensor[];
console.log(`\nOne reverse pass gives the whole gradient: (dy/dx1, dy/dx2) = (${g1.item()}, ${g2.item()}).`);

section("4. The gradient, staged as a jaxpr");
console.log("makeJaxpr(grad(f, { argnums: [0, 1] }))(2, 5):\n");
console.log(makeJaxpr(grad(f, { argnums: [0, 1] }))(2, 5).toString());
console.log("\nThe linearized JVP transposed: no second set of derivative rules is involved.");

section("5. jacfwd vs jacrev on R^n -> R^m");
console.log("Rule of thumb (the chapter): forward mode needs n passes (one per input), reverse mode");
console.log("m passes (one per output). Forward wins when n << m, reverse when m << n.\n");

// A two-layer map x -> tanh(W2 tanh(W1 x)); deterministic weights so every run does the same work.
function layers(n: number, m: number, h: number): (x: Tensor) => Tensor {
  const mat = (r: number, c: number, s: number) => np.array(Array.from({ length: r }, (_, i) => Array.from({ length: c }, (_, j) => Math.sin(s * (i * c + j) + 1) / Math.sqrt(c))));
  const W1 = mat(h, n, 0.7), W2 = mat(m, h, 1.3);
  return (x) => np.tanh(np.matmul(W2, np.tanh(np.matmul(W1, x))));
}
function medianMs(fn: () => unknown, runs = 5): number {
  fn(); // warm-up
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    ts.push(performance.now() - t);
  }
  return ts.sort((a, b) => a - b)[Math.floor(runs / 2)];
}
const pad = (s: string, w: number) => s.padEnd(w);
console.log(`${pad("shape", 22)}${pad("rule of thumb", 28)}${pad("jacfwd", 12)}${pad("jacrev", 12)}measured`);
for (const [n, m] of [[8, 400], [400, 8]]) {
  const g = layers(n, m, 100);
  const x = np.linspace(-1, 1, n);
  const Jf = jacfwd(g)(x) as Tensor, Jr = jacrev(g)(x) as Tensor;
  const diff = np.max(np.abs(np.subtract(Jf, Jr))).item();
  if (!(diff < 1e-12)) throw new Error(`jacfwd and jacrev disagree by ${diff}`);
  const tf = medianMs(() => jacfwd(g)(x)), tr = medianMs(() => jacrev(g)(x));
  const predicted = n < m ? "jacfwd" : "jacrev";
  const measured = tf < tr ? "jacfwd" : "jacrev";
  console.log(
    `${pad(`R^${n} -> R^${m}`, 22)}${pad(n < m ? `jacfwd (n=${n} < m=${m})` : `jacrev (m=${m} < n=${n})`, 28)}${pad(`${tf.toFixed(1)} ms`, 12)}${pad(`${tr.toFixed(1)} ms`, 12)}` +
      `${measured} ${(Math.max(tf, tr) / Math.min(tf, tr)).toFixed(0)}x faster${measured === predicted ? "" : " (against the rule: a busy machine?)"}`,
  );
}
console.log("\nBoth Jacobians agree to 1e-12; each is computed as one vmapped pass over the basis vectors.");

section("6. Where to go next");
console.log(`  npx tsx examples/newton.ts            Newton's method with hessian on the Rosenbrock function
  npx tsx examples/mlp-iris.ts          a small MLP trained with grad on the Iris data set
  npx tsx examples/physics.ts           a pendulum whose equations of motion come from grad of its Hamiltonian
  npx tsx examples/jacfwd-vs-jacrev.ts  the forward/reverse trade-off in more detail
  npx tsx examples/graphs.ts            the computation graph and the gradient graph as Graphviz DOT / SVG
  traceTable(f, args, { mode })         these tables for your own functions (README, "The seed chapter, executable")`);
