// Edge cases of the linear-algebra kernels: empty matrices and batches, NaN/Inf inputs, batches
// equal to loops of single calls, shared operands, blocked paths with ragged edges, subnormal
// pivots, bad sizes and mixed element types, and inputs left untouched.
import { test } from "uvu";
import { guardTraceState } from "../../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { DTypeError, ShapeError } from "../../../src/core/errors.js";
import { type FloatArray, cholesky, det, eigh, inverse, lu, luSolve, pivotsToPermutation, qr, slogdet, solve, svd, triangularSolve } from "../../../src/backend/linalg/index.js";
import { bidiagonalQr } from "../../../src/backend/linalg/svd.js";
import { norm2 } from "../../../src/backend/linalg/common.js";
import { throwsWith } from "../../helpers.js";
import { matmul, near, orthogonalityError, randomMatrix, relDiff, spdMatrix } from "./util.js";

const allNaN = (x: ArrayLike<number>): boolean => Array.from(x).every(Number.isNaN);
const same = (a: ArrayLike<number>, b: ArrayLike<number>, what: string): void => {
  assert.is(a.length, b.length, `${what} length`);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.unreachable(`${what}[${i}]: ${a[i]} vs ${b[i]}`);
};
const lowerOnly = { leftSide: true, lower: true, transposeA: false, unitDiagonal: false };

test("empty matrices and empty batches give empty results (det of 0 x 0 is 1, as NumPy)", () => {
  const e = new Float64Array(0);
  assert.is(cholesky(e, 1, 0).l.length, 0);
  assert.is(cholesky(e, 0, 5).info.length, 0);
  const f = lu(e, 1, 0, 3);
  assert.is(f.lu.length + f.pivots.length + f.permutation.length, 0);
  assert.equal(Array.from(lu(e, 1, 3, 0).permutation), [0, 1, 2]);
  assert.equal(Array.from(det(e, 1, 0)), [1]);
  const sd = slogdet(e, 1, 0);
  assert.equal([sd.sign[0], sd.logabsdet[0]], [1, 0]);
  assert.is(triangularSolve(e, e, 1, 0, 0, lowerOnly).length, 0);
  assert.is(triangularSolve(Float64Array.of(2), e, 1, 1, 0, lowerOnly).length, 0);
  const q0 = qr(e, 1, 3, 0, "complete");
  assert.equal(Array.from(q0.q as FloatArray), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  assert.is(q0.r.length, 0);
  assert.is(qr(e, 1, 0, 3).r.length, 0);
  const ev = eigh(e, 1, 0);
  assert.is(ev.w.length + (ev.v as FloatArray).length, 0);
  const s0 = svd(e, 1, 0, 3);
  assert.is(s0.s.length + (s0.u as FloatArray).length, 0);
  assert.equal(Array.from(s0.vt as FloatArray), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  const s1 = svd(e, 1, 2, 0, { fullMatrices: false });
  assert.is(s1.s.length + (s1.u as FloatArray).length + (s1.vt as FloatArray).length, 0);
  assert.is(inverse(e, 0, 4).length, 0);
});

test("1 x 1 matrices", () => {
  const a = Float64Array.of(-4);
  assert.ok(allNaN(cholesky(a, 1, 1).l));
  assert.equal(Array.from(cholesky(Float64Array.of(9), 1, 1).l), [3]);
  assert.equal(Array.from(inverse(a, 1, 1)), [-0.25]);
  const { u, s, vt } = svd(a, 1, 1, 1);
  assert.equal([u![0] * s[0] * vt![0], s[0]], [-4, 4]);
  assert.equal(Array.from(eigh(a, 1, 1).w), [-4]);
  assert.equal(Array.from(slogdet(a, 1, 1).sign), [-1]);
});

test("NaN and Inf inputs propagate: NaN factors, NaN values and vectors", () => {
  const a = spdMatrix(4, 1);
  a[5] = NaN;
  const c = cholesky(a, 1, 4);
  assert.ok(allNaN(c.l));
  assert.equal(Array.from(c.info), [2]);
  assert.ok(Array.from(lu(a, 1, 4, 4).lu).some(Number.isNaN));
  assert.ok(Number.isNaN(det(a, 1, 4)[0]));
  const sd = slogdet(a, 1, 4);
  assert.ok(Number.isNaN(sd.sign[0]) && Number.isNaN(sd.logabsdet[0]));
  assert.ok(Array.from(qr(a, 1, 4, 4).r).some(Number.isNaN));
  const ev = eigh(a, 1, 4);
  assert.ok(allNaN(ev.w) && allNaN(ev.v as FloatArray));
  const b = Float64Array.from(spdMatrix(4, 2));
  b[3] = Infinity;
  const sv = svd(b, 1, 4, 4);
  assert.ok(allNaN(sv.s) && allNaN(sv.u as FloatArray) && allNaN(sv.vt as FloatArray));
  assert.ok(allNaN(svd(b, 1, 4, 4, { computeUv: false }).s));
  // Only the failing matrix of a batch is NaN.
  const batch = new Float64Array(32);
  batch.set(spdMatrix(4, 3), 0);
  batch.set(a, 16);
  const cb = cholesky(batch, 2, 4);
  assert.equal(Array.from(cb.info), [0, 2]);
  assert.ok(!Array.from(cb.l.subarray(0, 16)).some(Number.isNaN) && allNaN(cb.l.subarray(16)));
  // NaN above the diagonal is never read, by the panels or by the blocked updates.
  const big = spdMatrix(70, 4), dirty = big.slice();
  for (let i = 0; i < 70; i++) for (let j = i + 1; j < 70; j++) dirty[i * 70 + j] = NaN;
  same(cholesky(dirty, 1, 70).l, cholesky(big, 1, 70).l, "cholesky with NaN above the diagonal");
  same(eigh(dirty, 1, 70).w, eigh(big, 1, 70).w, "eigh with NaN above the diagonal");
  // The scaled norm: NaN, Inf and subnormal entries.
  assert.ok(Number.isNaN(norm2(Float64Array.of(1, NaN, 2), 0, 3, 1)));
  assert.is(norm2(Float64Array.of(1, -Infinity), 0, 2, 1), Infinity);
  near([norm2(Float64Array.of(3e-320, 4e-320), 0, 2, 1)], [5e-320], 1e-3, "subnormal norm");
});

test("a batch equals a loop of single calls, in float64 and float32", () => {
  for (const f32 of [false, true]) {
    const make = (len: number, seed: number): FloatArray => (f32 ? Float32Array.from(randomMatrix(len, seed)) : randomMatrix(len, seed));
    const B = 3, m = 7, n = 5;
    const rect = make(B * m * n, 21);
    const sq = make(B * n * n, 22);
    const spd = f32 ? new Float32Array(B * n * n) : new Float64Array(B * n * n);
    for (let t = 0; t < B; t++) spd.set(spdMatrix(n, 30 + t), t * n * n);
    const rhs = make(B * n * 2, 23);
    const one = (x: FloatArray, t: number, size: number): FloatArray => x.slice(t * size, (t + 1) * size);
    const check = (all: ArrayLike<number>, per: (t: number) => ArrayLike<number>, what: string) => {
      const size = all.length / B;
      for (let t = 0; t < B; t++) same(Array.from(all).slice(t * size, (t + 1) * size), per(t), `${what} ${t}`);
    };
    check(cholesky(spd, B, n).l, (t) => cholesky(one(spd, t, n * n), 1, n).l, "cholesky");
    check(lu(rect, B, m, n).lu, (t) => lu(one(rect, t, m * n), 1, m, n).lu, "lu");
    check(lu(rect, B, n, m).permutation, (t) => lu(one(rect, t, m * n), 1, n, m).permutation, "lu permutation");
    check(triangularSolve(sq, rhs, B, n, 2, lowerOnly), (t) => triangularSolve(one(sq, t, n * n), one(rhs, t, 2 * n), 1, n, 2, lowerOnly), "triangularSolve");
    check(solve(sq, rhs, B, n, 2), (t) => solve(one(sq, t, n * n), one(rhs, t, 2 * n), 1, n, 2), "solve");
    check(slogdet(sq, B, n).logabsdet, (t) => slogdet(one(sq, t, n * n), 1, n).logabsdet, "slogdet");
    check(det(sq, B, n), (t) => det(one(sq, t, n * n), 1, n), "det");
    check(qr(rect, B, m, n, "complete").q as FloatArray, (t) => qr(one(rect, t, m * n), 1, m, n, "complete").q as FloatArray, "qr");
    check(eigh(sq, B, n).v as FloatArray, (t) => eigh(one(sq, t, n * n), 1, n).v as FloatArray, "eigh");
    check(svd(rect, B, n, m).u as FloatArray, (t) => svd(one(rect, t, m * n), 1, n, m).u as FloatArray, "svd u");
    check(svd(rect, B, m, n, { fullMatrices: false }).vt as FloatArray, (t) => svd(one(rect, t, m * n), 1, m, n, { fullMatrices: false }).vt as FloatArray, "svd vt");
  }
});

test("one triangle or one LU factorization shared by a batch of right-hand sides", () => {
  const n = 6, B = 4;
  const { l } = cholesky(spdMatrix(n, 40), 1, n);
  const b = randomMatrix(B * n * 3, 41);
  const shared = triangularSolve(l, b, B, n, 3, lowerOnly);
  const tiled = new Float64Array(B * n * n);
  for (let t = 0; t < B; t++) tiled.set(l, t * n * n);
  same(shared, triangularSolve(tiled, b, B, n, 3, lowerOnly), "shared triangle");
  const a = randomMatrix(n * n, 42);
  const f = lu(a, 1, n, n);
  const tiledA = new Float64Array(B * n * n);
  for (let t = 0; t < B; t++) tiledA.set(a, t * n * n);
  same(luSolve(f.lu, f.permutation, b, B, n, 3), solve(tiledA, b, B, n, 3), "shared LU");
});

test("blocked paths with ragged panels: Cholesky n = 131, LU 101 x 75 and 75 x 101", () => {
  const n = 131;
  const a = spdMatrix(n, 50);
  const { l } = cholesky(a, 1, n);
  assert.ok(relDiff(matmul(l, l, n, n, n, false, true), a) < 1e-14);
  for (const [m, k] of [[101, 75], [75, 101]]) {
    const x = randomMatrix(m * k, 51);
    const f = lu(x, 1, m, k);
    const r = Math.min(m, k);
    const L = new Float64Array(m * r), U = new Float64Array(r * k), px = new Float64Array(m * k);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < k; j++) {
        if (j < i && j < r) L[i * r + j] = f.lu[i * k + j];
        else if (i < r && j >= i) U[i * k + j] = f.lu[i * k + j];
        px[i * k + j] = x[f.permutation[i] * k + j];
      }
      if (i < r) L[i * r + i] = 1;
    }
    assert.ok(relDiff(matmul(L, U, m, r, k), px) < 1e-14, `lu ${m}x${k}`);
  }
  // Triangular solves by blocks (70 = two full blocks and a ragged one), all sixteen variants.
  const t = 70, rhs = 9;
  // Off-diagonal entries small enough that even the unit-diagonal triangles are well conditioned.
  const tri = randomMatrix(t * t, 53).map((v) => v / 8);
  for (let i = 0; i < t; i++) tri[i * t + i] = 1 + 8 * tri[i * t + i] ** 2;
  for (const leftSide of [true, false]) for (const lower of [true, false]) for (const transposeA of [true, false]) for (const unitDiagonal of [true, false]) {
    // op(A) as a dense matrix: the other triangle zeroed, the diagonal ones if unit.
    const op = new Float64Array(t * t);
    for (let i = 0; i < t; i++) {
      for (let j = 0; j < t; j++) {
        const [r, c] = transposeA ? [j, i] : [i, j];
        if (lower ? c < r : c > r) op[i * t + j] = tri[r * t + c];
        if (r === c) op[i * t + j] = unitDiagonal ? 1 : tri[r * t + c];
      }
    }
    const bm = leftSide ? t : rhs, bk = leftSide ? rhs : t;
    const b = randomMatrix(bm * bk, 54);
    const x = triangularSolve(tri, b, 1, bm, bk, { leftSide, lower, transposeA, unitDiagonal });
    const back = leftSide ? matmul(op, x, t, t, rhs) : matmul(x, op, rhs, t, t);
    assert.ok(relDiff(back, b) < 1e-13, `triangularSolve ${JSON.stringify({ leftSide, lower, transposeA, unitDiagonal })}: ${relDiff(back, b)}`);
  }
  // Blocked QR, and the blocked Q formation under SVD and eigh, on tall and wide shapes.
  for (const [m, k] of [[101, 75], [75, 101]]) {
    const x = randomMatrix(m * k, 55);
    for (const mode of ["reduced", "complete"] as const) {
      const { q, r } = qr(x, 1, m, k, mode);
      const qc = mode === "complete" ? m : Math.min(m, k);
      assert.ok(relDiff(matmul(q as FloatArray, r, m, qc, k), x) < 1e-14 && orthogonalityError(q as FloatArray, m, qc) < 1e-13, `qr ${m}x${k} ${mode}`);
    }
    const { u, s, vt } = svd(x, 1, m, k);
    const r = Math.min(m, k);
    const us = new Float64Array(m * r);
    for (let i = 0; i < m; i++) for (let j = 0; j < r; j++) us[i * r + j] = (u as FloatArray)[i * m + j] * s[j];
    assert.ok(relDiff(matmul(us, (vt as FloatArray).subarray(0, r * k), m, r, k), x) < 1e-14, `svd ${m}x${k}`);
    assert.ok(orthogonalityError(u as FloatArray, m, m) < 1e-13 && orthogonalityError((vt as FloatArray).map((_, i) => (vt as FloatArray)[(i % k) * k + Math.floor(i / k)]), k, k) < 1e-13, `svd ${m}x${k} orthogonality`);
  }
  const sym = randomMatrix(70 * 70, 56);
  const ev = eigh(sym, 1, 70);
  assert.ok(orthogonalityError(ev.v as FloatArray, 70, 70) < 1e-13, "eigh 70");
  // Tall and wide SVD with full matrices: orthonormal completions.
  for (const [m, k] of [[9, 4], [4, 9]]) {
    const x = randomMatrix(m * k, 52);
    const { u, s, vt } = svd(x, 1, m, k);
    assert.ok(orthogonalityError(u as FloatArray, m, m) < 1e-14 && orthogonalityError(Float64Array.from({ length: k * k }, (_, i) => (vt as FloatArray)[(i % k) * k + Math.floor(i / k)]), k, k) < 1e-14);
    assert.is(s.length, 4);
  }
});

test("singular and nearly singular: subnormal pivots are divided, zero pivots kept", () => {
  const f = lu(Float64Array.of(1e-310, 5e-311), 1, 2, 1);
  near(f.lu, [1e-310, 0.5], 1e-12, "subnormal pivot");
  const z = lu(Float64Array.of(0, 1, 0, 2), 1, 2, 2);
  assert.equal(Array.from(z.lu), [0, 1, 0, 2]);
  assert.equal(Array.from(det(Float64Array.of(0, 1, 0, 2), 1, 2)), [0]);
  // An upper triangular matrix needs no reflections: Q = I, R = A.
  const up = Float64Array.of(2, 1, 0, 3);
  const { q, r } = qr(up, 1, 2, 2);
  assert.equal([Array.from(q as FloatArray), Array.from(r)], [[1, 0, 0, 1], [2, 1, 0, 3]]);
  // Rank-deficient SVDs: a zero column inside, a zero row at the end.
  for (const x of [Float64Array.of(1, 0, 2, 3, 0, 1, 1, 0, 1), Float64Array.of(1, 2, 3, 4, 5, 6, 0, 0, 0)]) {
    const { u, s, vt } = svd(x, 1, 3, 3);
    const us = Float64Array.from(u as FloatArray, (v, i) => v * s[i % 3]);
    assert.ok(relDiff(matmul(us, vt as FloatArray, 3, 3, 3), x) < 1e-15 && orthogonalityError(u as FloatArray, 3, 3) < 1e-15, `svd of ${x}`);
    assert.ok(s[2] < 1e-15);
  }
  // Already bidiagonal with a zero inside the diagonal: that entry's e is rotated away first.
  const bd = Float64Array.of(1, 1, 0, 0, 0, 1, 0, 0, 1);
  const sb = svd(bd, 1, 3, 3);
  const usb = Float64Array.from(sb.u as FloatArray, (v, i) => v * sb.s[i % 3]);
  assert.ok(relDiff(matmul(usb, sb.vt as FloatArray, 3, 3, 3), bd) < 1e-15 && orthogonalityError(sb.u as FloatArray, 3, 3) < 1e-15);
  const gram = eigh(matmul(bd, bd, 3, 3, 3, true, false), 1, 3).w;
  near(sb.s, Array.from(gram, Math.sqrt).reverse(), 1e-15, "singular values of the bidiagonal");
  // The bidiagonal iteration gives up (and the caller fills NaN) when out of steps.
  assert.is(bidiagonalQr(Float64Array.of(1, 1), Float64Array.of(1, 0), 2, null, 2, null, 0), false);
});

test("huge and tiny scales neither overflow nor underflow: results scale with the input", () => {
  const n = 6;
  const base = randomMatrix(n * n, 70);
  const sym = Float64Array.from(base, (_, i) => base[Math.max(Math.floor(i / n), i % n) * n + Math.min(Math.floor(i / n), i % n)]);
  const spd = spdMatrix(n, 71);
  const s1 = svd(base, 1, n, n).s, w1 = eigh(sym, 1, n).w, r1 = qr(base, 1, n, n).r, l1 = cholesky(spd, 1, n).l;
  for (const scale of [1e200, 1e-200]) {
    const up = (x: ArrayLike<number>) => Float64Array.from(x, (v) => v * scale);
    const down = (x: ArrayLike<number>) => Array.from(x, (v) => v / scale);
    near(down(svd(up(base), 1, n, n).s), s1, 1e-13, `svd x ${scale}`);
    near(down(eigh(up(sym), 1, n).w), w1, 1e-13, `eigh x ${scale}`);
    near(down(qr(up(base), 1, n, n).r), r1, 1e-13, `qr x ${scale}`);
    near([slogdet(up(base), 1, n).logabsdet[0] - n * Math.log(scale)], [slogdet(base, 1, n).logabsdet[0]], 1e-13, `slogdet x ${scale}`);
    near(solve(up(base), up(spd.subarray(0, n)), 1, n, 1), solve(base, spd.slice(0, n), 1, n, 1), 1e-12, `solve x ${scale}`);
    // L scales with the square root.
    near(Array.from(cholesky(up(spd), 1, n).l, (v) => v / Math.sqrt(scale)), l1, 1e-13, `cholesky x ${scale}`);
  }
});

test("inputs are not mutated", () => {
  const a = spdMatrix(5, 60), b = randomMatrix(10, 61);
  const a0 = a.slice(), b0 = b.slice();
  cholesky(a, 1, 5);
  lu(a, 1, 5, 5);
  triangularSolve(a, b, 1, 5, 2, { leftSide: true, lower: false, transposeA: true, unitDiagonal: true });
  solve(a, b, 1, 5, 2);
  qr(a, 1, 5, 5, "complete");
  eigh(a, 1, 5);
  svd(a, 1, 5, 5);
  slogdet(a, 1, 5);
  same(a, a0, "a");
  same(b, b0, "b");
});

test("bad sizes are ShapeErrors naming the operand; mixed element types are DTypeErrors", () => {
  throwsWith(() => cholesky(new Float64Array(5), 1, 2), ShapeError, ["cholesky", "a has 5 elements", "batch 1 of [2,2] needs 4"]);
  throwsWith(() => lu(new Float64Array(6), 2, 1.5, 2), ShapeError, ["lu", "non-negative integers"]);
  throwsWith(() => qr(new Float64Array(6), -1, 2, 3), ShapeError, ["qr", "non-negative integers"]);
  throwsWith(() => triangularSolve(new Float64Array(9), new Float64Array(4), 1, 2, 2, lowerOnly), ShapeError, ["triangularSolve", "a has 9 elements"]);
  throwsWith(() => triangularSolve(new Float64Array(4), new Float64Array(5), 1, 2, 2, lowerOnly), ShapeError, ["triangularSolve", "b has 5"]);
  throwsWith(() => triangularSolve<FloatArray>(new Float32Array(4), new Float64Array(4), 1, 2, 2, lowerOnly), DTypeError, ["Float32Array", "Float64Array"]);
  const f = lu(new Float64Array([1, 2, 3, 4]), 1, 2, 2);
  throwsWith(() => luSolve<FloatArray>(f.lu, f.permutation, new Float32Array(2), 1, 2, 1), DTypeError, ["luSolve", "same element type"]);
  throwsWith(() => luSolve(f.lu, new Int32Array(3), new Float64Array(2), 1, 2, 1), ShapeError, ["permutation has 3"]);
  throwsWith(() => luSolve(f.lu, f.permutation, new Float64Array(4), 1, 2, 1), ShapeError, ["b has 4"]);
  throwsWith(() => solve(new Float64Array(3), new Float64Array(2), 1, 2, 1), ShapeError, ["solve", "a has 3"]);
  throwsWith(() => solve(new Float64Array(4), new Float64Array(3), 1, 2, 1), ShapeError, ["solve", "b has 3"]);
  throwsWith(() => solve<FloatArray>(new Float64Array(4), new Float32Array(2), 1, 2, 1), DTypeError, ["solve", "same element type"]);
  throwsWith(() => inverse(new Float64Array(3), 1, 2), ShapeError, ["inverse"]);
  throwsWith(() => det(new Float64Array(3), 1, 2), ShapeError, ["det"]);
  throwsWith(() => slogdet(new Float64Array(3), 1, 2), ShapeError, ["slogdet"]);
  throwsWith(() => eigh(new Float64Array(3), 1, 2), ShapeError, ["eigh"]);
  throwsWith(() => svd(new Float64Array(3), 1, 2, 2), ShapeError, ["svd"]);
  throwsWith(() => pivotsToPermutation(Int32Array.of(0, 2), 1, 2), ShapeError, ["pivot 2 at position 1", "outside 0..1"]);
  throwsWith(() => pivotsToPermutation(Int32Array.of(0, 1, 1), 1, 2), ShapeError, ["position 2"]);
  throwsWith(() => pivotsToPermutation(Int32Array.of(0, 1, 1), 2, 2), ShapeError, ["pivotsToPermutation", "non-negative integers"]);
  assert.is(pivotsToPermutation(new Int32Array(0), 0, 3).length, 0);
});

test.run();
