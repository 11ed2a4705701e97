// Sparse Jacobian by coloring vs dense jacfwd, on the residual of a 1-D reaction-diffusion
// discretisation F(u)_i = u_{i-1} - 2 u_i + u_{i+1} + h^2 (u_i - u_i^3): tridiagonal, 3 colors.
// Dense jacfwd runs one batched JVP lane per column (n lanes of n outputs: n^2 numbers), so at
// n = 10^4 it needs 800 MB and is skipped; the table times both up to the largest n dense manages
// here and the sparse one alone beyond, and extrapolates dense (quadratic in n) to compare.
// Run: `npx tsx --expose-gc benchmarks/sparse-jacobian.bench.ts`.
import { jacfwd, jacobian, np } from "../src/index.js";
import type { CsrMatrix, Tensor } from "../src/index.js";
import { fmtMs, fmtRatio, machine, markdownTable, timeTogether } from "./timing.js";

export function residual(u: Tensor): Tensor {
  const n = u.shape[0];
  const h2 = 1 / ((n + 1) * (n + 1));
  const left = np.concatenate([np.zeros([1]), u.slice([0, n - 1])]);
  const right = np.concatenate([u.slice([1, n]), np.zeros([1])]);
  const reaction = np.multiply(h2, np.subtract(u, np.multiply(u, np.square(u))));
  return np.add(np.add(np.add(left, right), np.multiply(-2, u)), reaction);
}

const point = (n: number): Tensor => np.array(Array.from({ length: n }, (_, i) => Math.sin((i + 1) / (n + 1))));

/** Largest |sparse - dense| over all entries (the CSR expanded). */
function maxDiff(csr: CsrMatrix, dense: Tensor): number {
  const d = dense.toTypedArray() as Float64Array;
  const [m, n] = csr.shape;
  const full = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let k = csr.indptr[i]; k < csr.indptr[i + 1]; k++) full[i * n + csr.indices[k]] = csr.values[k];
  let worst = 0;
  for (let i = 0; i < full.length; i++) worst = Math.max(worst, Math.abs(full[i] - d[i]));
  return worst;
}

export function runSparseJacobian(): string {
  const sparse = (x: Tensor) => jacobian(residual, { sparsity: "auto", format: "csr" })(x);
  const dense = (x: Tensor) => jacfwd(residual)(x);
  const rows: string[][] = [];
  let lastDense: { n: number; ms: number } | null = null;
  const notes: string[] = [];
  for (const n of [500, 1000, 2000]) {
    const x = point(n);
    const diff = maxDiff(sparse(x), dense(x));
    const t = timeTogether({ sparse: () => sparse(x), dense: () => dense(x) }, { rounds: 5, warmup: 1, minMs: 10 });
    rows.push([String(n), "3", fmtMs(t.sparse.ms), fmtMs(t.dense.ms), fmtRatio(t.dense.ms / t.sparse.ms), diff === 0 ? "0 (exact)" : diff.toExponential(1)]);
    lastDense = { n, ms: t.dense.ms };
  }
  const big = 10_000;
  const x = point(big);
  const csr = sparse(x);
  const t = timeTogether({ sparse: () => sparse(x) }, { rounds: 5, warmup: 1, minMs: 10 });
  if (process.argv.includes("--measure-dense")) {
    // One dense run at n = 10^4 (an 800 MB result, several GB of intermediates): run with
    // node --max-old-space-size=16000 on a machine with the memory.
    const t0 = performance.now();
    const J = dense(x);
    const ms = performance.now() - t0;
    rows.push([String(big), "3", fmtMs(t.sparse.ms), `${fmtMs(ms)} (one run)`, fmtRatio(ms / t.sparse.ms), maxDiff(csr, J) === 0 ? "0 (exact)" : maxDiff(csr, J).toExponential(1)]);
  } else {
    const extrapolated = (lastDense as { n: number; ms: number }).ms * (big / (lastDense as { n: number }).n) ** 2;
    rows.push([String(big), "3", fmtMs(t.sparse.ms), `~${fmtMs(extrapolated)} (extrapolated, n² from n = ${lastDense?.n}; 800 MB result; --measure-dense runs it)`, `~${fmtRatio(extrapolated / t.sparse.ms)}`, `nnz ${csr.values.length}`]);
  }
  notes.push(`sparse at n = 10^4 returns ${csr.values.length} nonzeros (3n - 2 = ${3 * big - 2}) in ${fmtMs(t.sparse.ms)}`);
  return [
    `## Sparse Jacobian by coloring vs dense jacfwd (${machine()}; 1-D reaction-diffusion residual, tridiagonal; medians of 5 interleaved rounds)\n`,
    markdownTable(["n", "colors", "sparse (csr, detection included)", "dense jacfwd", "dense / sparse", "max |difference|"], rows),
    "",
    ...notes.map((s) => `- ${s}`),
  ].join("\n");
}

if (process.argv[1]?.endsWith("sparse-jacobian.bench.ts")) console.log(runSparseJacobian());
