import { test } from "uvu";
import * as assert from "uvu/assert";
import { DTypeError, JacobiError, ShapeError, type Tensor, hessian, jacfwd, jacobian, np, stopGradient } from "../../src/index.js";
import { colorColumns, colorRows, starColoring, transposePattern, type Pattern } from "../../src/transforms/coloring.js";
import { lastSparseCost } from "../../src/transforms/sparse-jacobian.js";
import { propagateSparsity } from "../../src/interpreters/sparsity.js";
import { costAnalysis, jit, makeJaxpr } from "../../src/index.js";
import { guardTraceState } from "../guard.js";
import { L, close, throwsWith } from "../helpers.js";

guardTraceState(test);

const xs = (n: number, shift = 0) => np.array(Array.from({ length: n }, (_, i) => 0.3 + 0.1 * i + shift));

// A 1-D discretised reaction-diffusion residual: tridiagonal Jacobian.
const residual = (u: Tensor): Tensor => {
  const left = np.concatenate([np.array([0]), u.slice([0, u.shape[0] - 1])]);
  const right = np.concatenate([u.slice([1, u.shape[0]]), np.array([0])]);
  return np.subtract(np.add(np.add(left, right), np.multiply(-2, u)), np.multiply(np.sin(u), u));
};

/** Dense nested-list pattern of a Tensor's nonzeros. */
const nz = (t: Tensor): boolean[][] => (L(t) as number[][]).map((r) => r.map((v) => v !== 0));

test("banded (tridiagonal) Jacobian: 3 colors, exactly jacfwd, forward and reverse", () => {
  const x = xs(9);
  const dense = jacfwd(residual)(x);
  for (const mode of ["auto", "fwd", "rev"] as const) {
    const got = jacobian(residual, { sparsity: "auto", mode })(x);
    assert.equal(L(got), L(dense), mode);
    assert.is(lastSparseCost?.colors, 3);
    assert.is(lastSparseCost?.mode, mode === "rev" ? "rev" : "fwd");
  }
  assert.equal({ m: lastSparseCost?.m, n: lastSparseCost?.n, nnz: lastSparseCost?.nnz }, { m: 9, n: 9, nnz: 25 });
});

test("costAnalysis reports the colors against n and m", () => {
  const c = costAnalysis(residual, [xs(10)]);
  assert.equal([c.colors, c.nIn, c.nOut], [{ fwd: 3, rev: 3 }, 10, 10]);
  // A value-dependent branch has no pattern valid everywhere.
  assert.is(costAnalysis((x: Tensor) => (np.sum(x).item() > 0 ? np.sin(x) : x), [xs(3)]).colors, null);
});

test("block-diagonal Jacobian (reshape, dot_general per block, transpose): colors = block size", () => {
  const A = np.array([
    [1, 2, 0.5],
    [0, 3, 1],
    [4, 0, 2],
  ]);
  const f = (x: Tensor) => {
    const blocks = np.reshape(x, [4, 3]);
    const y = np.tanh(np.matmul(blocks, np.transpose(A)));
    return np.reshape(np.transpose(np.transpose(y)), [12]);
  };
  const x = xs(12);
  assert.equal(L(jacobian(f, { sparsity: "auto" })(x)), L(jacfwd(f)(x)));
  assert.is(lastSparseCost?.colors, 3);
});

test("reductions over some axes, slices, broadcasts and constants: the pattern follows the kept axes", () => {
  const f = (x: Tensor) => {
    const m = np.reshape(x, [3, 4]);
    const rows = np.sum(np.square(m), 1); // each depends on one row of m
    const cols = np.max(m, 0); // each on one column
    return np.concatenate([rows, cols, np.zeros([1]), np.multiply(x.slice([0, 2]), rows.slice([0, 1])), np.zeros([1])]);
  };
  const x = xs(12);
  const sets = propagateSparsity(makeJaxpr(f)(x))[0].map((s) => Array.from(s));
  assert.equal(sets.slice(0, 3), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]);
  assert.equal(sets.slice(3, 7), [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]);
  assert.equal(sets.slice(7), [[], [0, 1, 2, 3], [0, 1, 2, 3], []]);
  assert.equal(L(jacobian(f, { sparsity: "auto" })(x)), L(jacfwd(f)(x)));
});

test("arrow-shaped Jacobians: a dense row alone favours reverse mode; with a dense column, n colors either way", () => {
  const f = (x: Tensor) => {
    const n = x.shape[0];
    const head = np.reshape(np.sum(np.square(x)), [1]);
    return np.concatenate([head, np.exp(x.slice([1, n]))]);
  };
  const x = xs(8);
  assert.equal(L(jacobian(f, { sparsity: "auto" })(x)), L(jacfwd(f)(x)));
  // Columns all meet in the dense row (8 colors); rows: the dense row alone, the diagonal ones share.
  assert.equal([lastSparseCost?.mode, lastSparseCost?.colors], ["rev", 2]);
  assert.equal(L(jacobian(f, { sparsity: "auto", mode: "fwd" })(x)), L(jacfwd(f)(x)));
  assert.is(lastSparseCost?.colors, 8);
  const arrow = (x: Tensor) => {
    const n = x.shape[0];
    const head = np.reshape(np.sum(np.square(x)), [1]);
    return np.concatenate([head, np.multiply(x.slice([1, n]), x.slice([0, 1]))]);
  };
  assert.equal(L(jacobian(arrow, { sparsity: "auto" })(x)), L(jacfwd(arrow)(x)));
  assert.equal([lastSparseCost?.mode, lastSparseCost?.colors], ["fwd", 8]);
});

test("a given pattern (nested booleans or bool Tensor); csr format round trip", () => {
  const x = xs(6);
  const dense = jacfwd(residual)(x);
  const pat = nz(dense);
  const csr = jacobian(residual, { sparsity: pat, format: "csr" })(x);
  assert.equal(csr.shape, [6, 6]);
  assert.equal(Array.from(csr.indptr), [0, 2, 5, 8, 11, 14, 16]);
  assert.ok(csr.values instanceof Float64Array);
  const back: number[][] = Array.from({ length: 6 }, () => new Array(6).fill(0));
  for (let i = 0; i < 6; i++) for (let k = csr.indptr[i]; k < csr.indptr[i + 1]; k++) back[i][csr.indices[k]] = csr.values[k];
  assert.equal(back, L(dense));
  assert.equal(L(jacobian(residual, { sparsity: np.array(pat) })(x)), L(dense));
  // format alone implies detection; float32 inputs give Float32Array values.
  const c32 = jacobian(residual, { format: "csr" })(np.astype(x, "float32"));
  assert.ok(c32.values instanceof Float32Array);
  close(Array.from(c32.values), Array.from(csr.values), 1e-6);
});

test("several inputs and outputs keep jacobian's structure", () => {
  const f = (a: Tensor, b: Tensor) => ({ p: np.multiply(a, b), q: np.sum(np.exp(a)) });
  const a = xs(3);
  const b = xs(3, 1);
  const want = jacobian(f, { argnums: [0, 1] })(a, b);
  close(jacobian(f, { argnums: [0, 1], sparsity: "auto" })(a, b), want, 0);
  close(jacobian(f, { argnums: 1, sparsity: "auto" })(a, b), jacobian(f, { argnums: 1 })(a, b), 0);
});

test("primitives without a rule, control flow and non-differentiable ones are handled conservatively", () => {
  const f = (x: Tensor) => {
    const c = np.cumsum(x); // no sparsity rule: every output depends on every input
    const w = np.where(np.greater(x, 0.5), x, np.multiply(x, x)); // the predicate carries no dependence
    return np.add(np.multiply(c, 0), w);
  };
  const sets = propagateSparsity(makeJaxpr(f)(xs(4)))[0].map((s) => Array.from(s));
  assert.equal(sets, [[0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3]]);
  const g = (x: Tensor) => np.multiply(stopGradient(x), np.where(np.greater(x, 0.5), x, np.multiply(x, x)));
  assert.equal(propagateSparsity(makeJaxpr(g)(xs(3)))[0].map((s) => Array.from(s)), [[0], [1], [2]]);
  const x = xs(5);
  assert.equal(L(jacobian(f, { sparsity: "auto" })(x)), L(jacfwd(f)(x)));
});

test("Hessians by star coloring: separable, banded, and a given pattern", () => {
  const sep = (x: Tensor) => np.sum(np.multiply(np.sin(x), np.exp(x)));
  const x = xs(7);
  close(hessian(sep, { sparsity: "auto" })(x), hessian(sep)(x), 1e-14);
  assert.is(lastSparseCost?.colors, 1);
  const chain = (x: Tensor) => {
    const n = x.shape[0];
    const d = np.subtract(x.slice([1, n]), np.square(x.slice([0, n - 1])));
    return np.add(np.sum(np.square(d)), np.sum(np.square(np.subtract(1, x))));
  };
  const x9 = xs(9);
  const want = hessian(chain)(x9);
  close(hessian(chain, { sparsity: "auto" })(x9), want, 1e-13);
  assert.equal([lastSparseCost?.mode, lastSparseCost?.colors], ["star", 3]);
  const csr = hessian(chain, { sparsity: nz(want), format: "csr" })(x9);
  assert.equal(csr.shape, [9, 9]);
  assert.is(csr.values.length, 25);
  // A pentadiagonal pattern: star coloring still recovers every entry.
  const penta = (x: Tensor) => {
    const n = x.shape[0];
    return np.sum(np.multiply(np.sin(x.slice([0, n - 2])), np.cos(np.add(x.slice([1, n - 1]), x.slice([2, n])))));
  };
  close(hessian(penta, { sparsity: "auto" })(x9), hessian(penta)(x9), 1e-13);
});

test("Hessians keep the pytree structure of several arguments", () => {
  const f = (a: Tensor, b: Tensor) => np.sum(np.multiply(np.square(a), np.exp(b)));
  const a = xs(2);
  const b = xs(2, 0.5);
  close(hessian(f, { argnums: [0, 1], sparsity: "auto" })(a, b), hessian(f, { argnums: [0, 1] })(a, b), 1e-14);
});

test("coloring: columns, rows and star colorings are valid", () => {
  // The arrow matrix: first row and column dense, diagonal elsewhere.
  const n = 6;
  const rows: number[][] = Array.from({ length: n }, (_, i) => (i === 0 ? [...Array(n).keys()] : [0, i]));
  const p: Pattern = { m: n, n, indptr: Int32Array.from([0, ...rows.map((r) => r.length)].map((_, i, a) => a.slice(0, i + 1).reduce((x, y) => x + y, 0))), indices: Int32Array.from(rows.flat()) };
  assert.is(colorColumns(p).count, n);
  assert.is(colorRows(p).count, n);
  const star = starColoring(p);
  assert.is(star.count, 2);
  assert.is(transposePattern(transposePattern(p)).indices.join(), p.indices.join());
  const empty: Pattern = { m: 2, n: 3, indptr: new Int32Array(3), indices: new Int32Array(0) };
  assert.equal(colorColumns(empty).count, 1);
});

test("an empty pattern gives zeros without passes", () => {
  const f = (x: Tensor) => np.multiply(stopGradient(x), 2);
  assert.equal(L(jacobian(f, { sparsity: "auto" })(xs(3))), [[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
});

test("empty inputs or outputs: no passes, empty results", () => {
  const none = np.zeros([0]);
  assert.equal(jacobian((x: Tensor) => np.sin(x), { sparsity: "auto" })(none).shape, [0, 0]);
  assert.equal(jacobian((x: Tensor) => x.slice([0, 0]), { sparsity: [] })(xs(3)).shape, [0, 3]);
  assert.is(lastSparseCost?.mode, "rev");
  assert.equal(hessian((x: Tensor) => np.sum(x), { sparsity: "auto", format: "csr" })(none).shape, [0, 0]);
});

test("under jit the sparse path says it needs concrete values; other staging errors propagate", () => {
  throwsWith(() => jit((x: Tensor) => jacobian(residual, { sparsity: "auto" })(x))(xs(3)), JacobiError, ["concrete values", "jit"]);
  let calls = 0;
  const flaky = (x: Tensor) => {
    if (++calls > 1) throw new RangeError("second call");
    return np.sin(x);
  };
  assert.throws(() => costAnalysis(flaky, [xs(2)]), /second call/);
});

test("errors: bad patterns and options", () => {
  const x = xs(3);
  throwsWith(() => jacobian(residual, { sparsity: [[true, false]] })(x), ShapeError, ["[1, 2]", "[3, 3]"]);
  throwsWith(() => jacobian(residual, { sparsity: [[true, false, true], [true], [true, true, true]] })(x), ShapeError, ["same length"]);
  throwsWith(() => jacobian(residual, { sparsity: [[1, 0, 0]] as unknown as boolean[][] })(x), JacobiError, ["booleans"]);
  throwsWith(() => jacobian(residual, { sparsity: np.eye(3) })(x), DTypeError, ["bool"]);
  throwsWith(() => jacobian(residual, { sparsity: np.array([true, false, true]) })(x), ShapeError, ["matrix"]);
  throwsWith(() => jacobian(residual, { sparsity: "yes" as "auto" })(x), JacobiError, ["auto"]);
  throwsWith(() => jacobian(residual, { sparsity: "auto", format: "coo" as "csr" })(x), JacobiError, ["format"]);
  throwsWith(() => jacobian(residual, { sparsity: "auto", mode: "both" as "fwd" })(x), JacobiError, ["mode"]);
  throwsWith(() => jacobian(residual, { sparsity: "auto", colors: 3 } as { sparsity: "auto" })(x), JacobiError, ["colors"]);
  throwsWith(() => hessian((v: Tensor) => np.sum(v), { sparsity: "auto", mode: "fwd" } as { sparsity: "auto" })(x), JacobiError, ["mode"]);
  throwsWith(() => hessian((v: Tensor) => np.square(v), { sparsity: "auto" })(x), ShapeError, ["one scalar"]);
});

test.run();
