// Taylor mode through the matrix factorizations: the first four derivatives of each factor of a
// 40 x 40 matrix (50 x 40 for qr and svd) along a path with four nonzero terms, by the closed-form
// recurrences of src/primitives/jet-rules-linalg.ts, by the rule the factorization's JVP implies
// (jetFromJvp: a jet one order lower of the JVP, nested K deep), and by nesting jvp four times
// (the 4th derivative alone). All eager, float64; the three must agree to 1e-10 normwise before
// timing (the table gives the differences).
//
//   npx tsx --expose-gc benchmarks/jet-linalg.bench.ts
import { type Tensor, jvp, np } from "../src/index.js";
import type { Primitive } from "../src/core/primitive.js";
import { jetFlat } from "../src/interpreters/jet.js";
import { jetFromJvp } from "../src/primitives/jet-from-jvp.js";
import { jetRuleOf } from "../src/primitives/jet-rules.js";
import { cholesky, choleskyP, eigh, eighP, lu, luP, qr, qrP, svd, svdP } from "../src/primitives/linalg-factor.js";
import { fmtMs, fmtRatio, machine, markdownTable, pairedRatio, randomArray, timeTogether } from "./timing.js";

const N = 40, ORDER = 4, ROUNDS = 5;
const mat = (rows: number, cols: number, seed: number): Tensor => np.reshape(np.array(randomArray(rows * cols, -1, 1, seed)), [rows, cols]);
const symmetric = (seed: number): Tensor => np.add(mat(N, N, seed), np.swapaxes(mat(N, N, seed), 0, 1));
const spd = np.add(np.matmul(mat(N, N, 1), np.swapaxes(mat(N, N, 1), 0, 1)), np.multiply(np.eye(N), N));
const square = np.add(mat(N, N, 2), np.multiply(np.eye(N), 3));
const tall = mat(N + 10, N, 3);

type Case = { name: string; prim: Primitive<any>; f: (x: Tensor) => Tensor[]; x: Tensor; terms: Tensor[] };
const cases: Case[] = [
  { name: "cholesky", prim: choleskyP, f: (x) => [cholesky(x)], x: spd, terms: [4, 5, 6, 7].map(symmetric) },
  { name: "lu", prim: luP, f: (x) => [lu(x)[0]], x: square, terms: [4, 5, 6, 7].map((s) => mat(N, N, s)) },
  { name: "eigh", prim: eighP, f: (x) => eigh(x), x: spd, terms: [4, 5, 6, 7].map(symmetric) },
  { name: `qr (${N + 10} x ${N})`, prim: qrP, f: (x) => qr(x, false), x: tall, terms: [4, 5, 6, 7].map((s) => mat(N + 10, N, s)) },
  { name: `svd (${N + 10} x ${N})`, prim: svdP, f: (x) => svd(x, { fullMatrices: false, computeUv: true }), x: tall, terms: [4, 5, 6, 7].map((s) => mat(N + 10, N, s)) },
];

/** The K Taylor coefficients of every output, with `prim` taking the closed-form rule or the JVP-derived one. */
function coefficients(c: Case, generic: boolean): Tensor[][] {
  const general = jetFromJvp(c.prim);
  const [, series] = jetFlat((xs) => c.f(xs[0]), [c.x], [c.terms], (p) => (generic && p === c.prim ? general : jetRuleOf(p)));
  return series as Tensor[][];
}

/** The 4th derivative of every output along the same path, by nested jvp (term k of the path is k! x_k). */
function nested(c: Case): Tensor[] {
  let fact = 1;
  const terms = c.terms.map((t, k) => np.multiply(t, (fact *= k + 1)));
  const path = (t: Tensor): Tensor => {
    let acc = c.x, f = 1;
    terms.forEach((v, k) => (acc = np.add(acc, np.multiply(v, np.divide(np.power(t, k + 1), (f *= k + 1))))));
    return acc;
  };
  let g = (t: Tensor): Tensor[] => c.f(path(t));
  for (let k = 0; k < ORDER; k++) {
    const prev = g;
    g = (t: Tensor) => jvp((s: Tensor) => prev(s), [t], [np.array(1.0)])[1] as Tensor[];
  }
  return g(np.array(0.0));
}

/**
 * max |a - b| / max |b|: normwise, since a factor's derivatives span many magnitudes (1e5 down to
 * 1 at order 4 here) and each entry carries rounding relative to the largest terms it was summed from.
 */
const normwiseDiff = (a: Tensor, b: Tensor): number => {
  const x = a.toTypedArray(), y = b.toTypedArray();
  let e = 0, m = 0;
  for (let i = 0; i < x.length; i++) (e = Math.max(e, Math.abs(x[i] - y[i]))), (m = Math.max(m, Math.abs(y[i])));
  return e / m;
};

const rows: string[][] = [];
for (const c of cases) {
  // The 4th coefficient times 4! is the 4th derivative: all three must agree before they are timed.
  const closed = coefficients(c, false), generic = coefficients(c, true), ref = nested(c);
  let errClosed = 0, errGeneric = 0;
  ref.forEach((r, i) => {
    errClosed = Math.max(errClosed, normwiseDiff(np.multiply(closed[i][ORDER - 1], 24), r));
    errGeneric = Math.max(errGeneric, normwiseDiff(np.multiply(generic[i][ORDER - 1], 24), r));
  });
  if (!(Math.max(errClosed, errGeneric) <= 1e-10)) throw new Error(`${c.name}: jet and nested jvp disagree: max relative differences ${errClosed}, ${errGeneric}`);
  const t = timeTogether({ closed: () => coefficients(c, false), generic: () => coefficients(c, true), nested: () => nested(c) }, { rounds: ROUNDS });
  rows.push([
    c.name,
    fmtMs(t.closed.ms),
    fmtMs(t.generic.ms),
    fmtMs(t.nested.ms),
    fmtRatio(pairedRatio((r) => t.generic.samples[r], (r) => t.closed.samples[r], ROUNDS)),
    fmtRatio(pairedRatio((r) => t.nested.samples[r], (r) => t.closed.samples[r], ROUNDS)),
    `${errClosed.toExponential(1)} / ${errGeneric.toExponential(1)}`,
  ]);
}
console.log(`derivatives 1..${ORDER} of each factor along a path with ${ORDER} nonzero terms, n = ${N} (${machine()})\n`);
console.log(markdownTable(["factor", "jet (closed form)", "jet (from the JVP)", `nested jvp (${ORDER}th only)`, "JVP-derived / closed", "nested / closed", "normwise diff. to nested (closed / JVP-derived)"], rows));
