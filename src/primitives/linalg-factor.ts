// The matrix factorizations as primitives: cholesky, lu, qr, eigh, svd. Leading axes are batch
// axes, so every batch rule moves the batch axis to the front and factors once. The JVP rules are
// JAX's (jax/_src/lax/linalg.py), written with triangular_solve, dot_general and elementwise
// products by constants computed from the primal factors: linear in the input tangent, so that
// reverse mode is their transpose.
import { contiguous, view } from "../backend/index.js";
import { linalg as K } from "../backend/index.js";
import type { FloatArray } from "../backend/index.js";
import { DTypeError, JacobiError, ShapeError } from "../core/errors.js";
import { type Params, type Primitive, type Tangent, Zero, definePrimitive } from "../core/primitive.js";
import { moveBatchAxis } from "./batching.js";
import { ShapedArray } from "../core/shaped-array.js";
import type { Tensor } from "../core/tensor.js";
import { bind, bind1 } from "../core/trace.js";
import { add, div, integerPow, mul, sub } from "./elementwise.js";
import { triangularSolve } from "./linalg-solve.js";
import { batchCount, batchShape, checkFloatMatrix, checkSquare, diagMatrix, diagonal, eye, mT, mm, permutationMatrix, scaleBy, triangle } from "./linalg-util.js";
import { frontBatch } from "./rule-helpers.js";
import { broadcastInDim, pad, slice } from "./shape.js";
import { isZero } from "./util.js";

const data = (a: Parameters<typeof contiguous>[0]): FloatArray => contiguous(a).data as FloatArray;
const sameParams = <P>(p: P): P => p;
const zeros = (outs: Tensor[]): Tangent[] => outs.map((o) => new Zero(o.aval.strong()));
const flops = (n: number) => ({ flops: Math.round(n), transcendentals: 0 });

/** The batch rule of a factorization with several outputs: batch axis to the front, every output batched there. */
function frontBatchAll<P extends Params>(self: Primitive<P>): NonNullable<Primitive<P>["batch"]> {
  return ([x], [d], p) => {
    const outs = bind(self, [moveBatchAxis(x, d as number, 0)], p);
    return [outs, outs.map(() => 0)];
  };
}

// ---- cholesky ----

/** Lower Cholesky factor of each matrix; only the lower triangle is read (NaN factor when not positive definite). */
export const choleskyP: Primitive = definePrimitive("cholesky", (self) => ({
  impl: ([a], _p, [o]) => [view(K.cholesky(data(a), batchCount(o.shape), o.shape[o.ndim - 1]).l, o.shape)],
  abstractEval: ([a]) => {
    checkSquare("cholesky", a);
    return [a.strong()];
  },
  // Murray (2016), "Differentiation of the Cholesky decomposition": dL = L Phi(L^-1 dA L^-T), Phi
  // taking the lower triangle with the diagonal halved.
  jvp: ([a], [ta]) => {
    const l = cholesky(a);
    if (isZero(ta)) return [[l], [ta]];
    // L^-1 dA L^-T as a left solve and a right one: no transposes, here or in the transpose
    // (a right solve with L, then a left one with L^T).
    const left = triangularSolve(l, ta, { leftSide: true, lower: true, transposeA: false, unitDiagonal: false });
    const inner = triangularSolve(l, left, { leftSide: false, lower: true, transposeA: true, unitDiagonal: false });
    return [[l], [mm(l, scaleBy(inner, "phi", (i, j) => (i > j ? 1 : i === j ? 0.5 : 0)))]];
  },
  batch: frontBatch(self, sameParams),
  cost: ([a]) => {
    const n = a.shape[a.ndim - 1];
    return { flops: Math.round((batchCount(a.shape) * n ** 3) / 3) + batchCount(a.shape) * n, transcendentals: batchCount(a.shape) * n };
  },
}));
export const cholesky = (a: Tensor): Tensor => bind1(choleskyP, [a]);

// ---- lu ----

/** [lu, pivots, permutation] of each m x n matrix, as JAX's lax.linalg.lu: A[permutation] = L U. */
export const luP: Primitive = definePrimitive("lu", (self) => ({
  impl: ([a], _p, [o]) => {
    const [m, n] = o.shape.slice(-2);
    const r = K.lu(data(a), batchCount(o.shape), m, n);
    return [view(r.lu, o.shape), view(r.pivots, [...batchShape(o.shape), Math.min(m, n)]), view(r.permutation, [...batchShape(o.shape), m])];
  },
  abstractEval: ([a]) => {
    checkFloatMatrix("lu", a);
    const [m, n] = a.shape.slice(-2);
    const b = batchShape(a.shape);
    return [a.strong(), new ShapedArray([...b, Math.min(m, n)], "int32"), new ShapedArray([...b, m], "int32")];
  },
  // JAX's _lu_jvp_rule: with P A = L U, L^-1 P dA U^-1 splits into its strictly lower part (L's
  // tangent, times L) and its upper part (U's, times U).
  jvp: ([a], [ta]) => {
    const outs = bind(self, [a]);
    const [lu, , perm] = outs;
    if (isZero(ta)) return [outs, zeros(outs)];
    const [m, n] = a.shape.slice(-2);
    const k = Math.min(m, n);
    const nb = a.ndim - 2;
    const none = Array<number>(nb).fill(0);
    const x = mm(permutationMatrix(perm, a.dtype), ta);
    const lCols = triangle(slice(lu, [...none, 0, 0], [...batchShape(a.shape), m, k]), true, -1);
    const l = add(pad(lCols, 0, [...none, 0, 0], [...none, 0, m - k]), eye(m, a.dtype, batchShape(a.shape)));
    const uRows = triangle(slice(lu, [...none, 0, 0], [...batchShape(a.shape), k, n]), false);
    let u = pad(uRows, 0, [...none, 0, 0], [...none, n - k, 0]);
    if (n > k) u = add(u, pad(eye(n - k, a.dtype, batchShape(a.shape)), 0, [...none, k, k], [...none, 0, 0]));
    const la = triangularSolve(l, x, { leftSide: true, lower: true, transposeA: false, unitDiagonal: true });
    const lau = triangularSolve(u, la, { leftSide: false, lower: false, transposeA: false, unitDiagonal: false });
    const luDot = add(mm(l, triangle(lau, true, -1)), mm(triangle(lau, false), u));
    return [outs, [luDot, ...zeros(outs.slice(1))]];
  },
  batch: frontBatchAll(self),
  cost: ([a]) => {
    const [m, n] = a.shape.slice(-2);
    const k = Math.min(m, n);
    return flops(batchCount(a.shape) * (2 * m * n * k - (m + n) * k * k + (2 * k ** 3) / 3));
  },
}));
export const lu = (a: Tensor): [Tensor, Tensor, Tensor] => bind(luP, [a]) as [Tensor, Tensor, Tensor];

// ---- qr ----

export type QrParams = { fullMatrices: boolean };

/** [q, r] of each m x n matrix: reduced (k = min(m, n) columns of q) or full (m). */
export const qrP: Primitive<QrParams> = definePrimitive("qr", (self) => ({
  impl: ([a], p, [q, r]) => {
    const [m, n] = a.shape.slice(-2);
    const res = K.qr(data(a), batchCount(a.shape), m, n, p.fullMatrices ? "complete" : "reduced");
    return [view(res.q as FloatArray, q.shape), view(res.r, r.shape)];
  },
  abstractEval: ([a], p) => {
    checkFloatMatrix("qr", a);
    const [m, n] = a.shape.slice(-2);
    const cols = p.fullMatrices ? m : Math.min(m, n);
    const b = batchShape(a.shape);
    return [new ShapedArray([...b, m, cols], a.dtype), new ShapedArray([...b, cols, n], a.dtype)];
  },
  // JAX's qr_jvp_rule (J. Townsend's derivation), defined for m >= n with the reduced factors.
  jvp: ([a], [ta], p) => {
    const [m, n] = a.shape.slice(-2);
    if (m < n || (p.fullMatrices && m !== n)) {
      throw new JacobiError(`qr: the derivative is defined for matrices with at least as many rows as columns and reduced factors (mode "reduced" or "r", or a square matrix), got shape [${a.shape.join(",")}]${p.fullMatrices ? ' with mode "complete"' : ""}`);
    }
    const outs = bind(self, [a], p);
    if (isZero(ta)) return [outs, zeros(outs)];
    const [q, r] = outs;
    const dxRinv = triangularSolve(r, ta, { leftSide: false, lower: false, transposeA: false, unitDiagonal: false });
    const qtDxRinv = mm(mT(q), dxRinv);
    const lower = triangle(qtDxRinv, true, -1);
    const omega = sub(lower, mT(lower));
    const dq = add(mm(q, sub(omega, qtDxRinv)), dxRinv);
    const dr = mm(sub(qtDxRinv, omega), r);
    return [outs, [dq, dr]];
  },
  batch: frontBatchAll(self),
  cost: ([a], _outs, p) => {
    const [m, n] = a.shape.slice(-2);
    const k = Math.min(m, n), cols = p.fullMatrices ? m : k;
    // Householder R (2mnk - (m+n)k^2 + 2k^3/3) and forming Q's columns from the reflectors, about as much again.
    const r = 2 * m * n * k - (m + n) * k * k + (2 * k ** 3) / 3;
    return flops(batchCount(a.shape) * (r + (r * cols) / Math.max(n, 1)));
  },
}));
export const qr = (a: Tensor, fullMatrices: boolean): [Tensor, Tensor] => bind(qrP, [a], { fullMatrices }) as [Tensor, Tensor];

// ---- eigh ----

/**
 * [w, v] of each symmetric matrix, eigenvalues ascending with eigenvectors as the columns of v.
 * Only the lower triangle is read.
 */
export const eighP: Primitive = definePrimitive("eigh", (self) => ({
  impl: ([a], _p, [w, v]) => {
    const n = a.shape[a.shape.length - 1];
    const res = K.eigh(data(a), batchCount(a.shape), n, true);
    return [view(res.w, w.shape), view(res.v as FloatArray, v.shape)];
  },
  abstractEval: ([a]) => {
    const n = checkSquare("eigh", a);
    return [new ShapedArray([...batchShape(a.shape), n], a.dtype), a.strong()];
  },
  // JAX's eigh_jvp_rule: with S = V^T dA V, dw = diag(S) and dV = V (F o S), where
  // F[i, j] = 1 / (w[j] - w[i]) off the diagonal (infinite for repeated eigenvalues) and 0 on it.
  jvp: ([a], [ta]) => {
    const outs = bind(self, [a]);
    if (isZero(ta)) return [outs, zeros(outs)];
    const [w, v] = outs;
    const n = a.shape[a.ndim - 1];
    const shape = a.shape;
    const nb = a.ndim - 2;
    const lead = Array.from({ length: nb }, (_, i) => i);
    const wRow = broadcastInDim(w, shape, [...lead, nb + 1]), wCol = broadcastInDim(w, shape, [...lead, nb]);
    const id = eye(n, a.dtype, batchShape(shape));
    const f = sub(integerPow(add(id, sub(wRow, wCol)), -1), id);
    const s = mm(mm(mT(v), ta), v);
    return [outs, [diagonal(s), mm(v, mul(f, s))]];
  },
  batch: frontBatchAll(self),
  // Tridiagonal reduction, implicit QL with accumulated rotations and the back-transformation.
  cost: ([a]) => flops(batchCount(a.shape) * 9 * a.shape[a.ndim - 1] ** 3),
}));
export const eigh = (a: Tensor): [Tensor, Tensor] => bind(eighP, [a]) as [Tensor, Tensor];

// ---- svd ----

export type SvdParams = { fullMatrices: boolean; computeUv: boolean };

/** [s, u, vt] of each m x n matrix (only [s] without computeUv), singular values descending. */
export const svdP: Primitive<SvdParams> = definePrimitive("svd", (self) => ({
  impl: ([a], p, outs) => {
    const [m, n] = a.shape.slice(-2);
    const res = K.svd(data(a), batchCount(a.shape), m, n, p);
    const arrs = [view(res.s, outs[0].shape)];
    if (p.computeUv) arrs.push(view(res.u as FloatArray, outs[1].shape), view(res.vt as FloatArray, outs[2].shape));
    return arrs;
  },
  abstractEval: ([a], p) => {
    checkFloatMatrix("svd", a);
    const [m, n] = a.shape.slice(-2);
    const k = Math.min(m, n);
    const b = batchShape(a.shape);
    const s = new ShapedArray([...b, k], a.dtype);
    if (!p.computeUv) return [s];
    return [s, new ShapedArray([...b, m, p.fullMatrices ? m : k], a.dtype), new ShapedArray([...b, p.fullMatrices ? n : k, n], a.dtype)];
  },
  // JAX's _svd_jvp_rule (real case): with dS = U^T dA V, ds = diag(dS) and
  // dU = U (F o (dS S + S dS^T)), dV = V (F o (S dS + dS^T S)), F[i, j] = 1 / (s[j]^2 - s[i]^2) off
  // the diagonal, plus the components outside the span of U (tall) or V (wide).
  jvp: ([a], [ta], p) => {
    const [m, n] = a.shape.slice(-2);
    if (p.computeUv && p.fullMatrices && m !== n) {
      throw new JacobiError(`svd: the derivative of the singular vectors is defined for the reduced factors (fullMatrices: false) of a non-square matrix, got shape [${a.shape.join(",")}]`);
    }
    const outs = bind(self, [a], p);
    if (isZero(ta)) return [outs, zeros(outs)];
    const [s, u, vt] = bind(self, [a], { fullMatrices: false, computeUv: true });
    const v = mT(vt);
    const dS = mm(mm(mT(u), ta), v);
    const ds = diagonal(dS);
    if (!p.computeUv) return [outs, [ds]];
    const k = Math.min(m, n);
    const nb = a.ndim - 2;
    const lead = Array.from({ length: nb }, (_, i) => i);
    const sq = mul(s, s);
    const kk = [...batchShape(a.shape), k, k];
    const sqRow = broadcastInDim(sq, kk, [...lead, nb + 1]), sqCol = broadcastInDim(sq, kk, [...lead, nb]);
    const id = eye(k, a.dtype, batchShape(a.shape));
    const f = sub(integerPow(add(id, sub(sqRow, sqCol)), -1), id);
    const sMat = diagMatrix(s);
    const dSS = mm(dS, sMat), sdS = mm(sMat, dS);
    let du = mm(u, mul(f, add(dSS, mT(dSS))));
    let dv = mm(v, mul(f, add(sdS, mT(sdS))));
    const sRowsOf = (x: Tensor) => broadcastInDim(s, x.shape, [...lead, nb + 1]);
    if (m > n) {
      const dAV = mm(ta, v);
      du = add(du, div(sub(dAV, mm(u, mm(mT(u), dAV))), sRowsOf(dAV)));
    }
    if (n > m) {
      const dAtU = mm(mT(ta), u);
      dv = add(dv, div(sub(dAtU, mm(v, mm(vt, dAtU))), sRowsOf(dAtU)));
    }
    return [outs, [ds, du, mT(dv)]];
  },
  batch: frontBatchAll(self),
  cost: ([a], _o, p) => {
    const [m, n] = a.shape.slice(-2);
    const big = Math.max(m, n), k = Math.min(m, n);
    // Golub-Kahan bidiagonalization, then implicit QR with (or without) accumulated rotations.
    return flops(batchCount(a.shape) * (p.computeUv ? 4 * big * k * k + 8 * k ** 3 : 4 * big * k * k - (4 * k ** 3) / 3));
  },
}));
export const svd = (a: Tensor, p: SvdParams): Tensor[] => bind(svdP, [a], p);

// ---- lu_pivots_to_permutation ----

export type PivotsParams = { permutationSize: number };

/** The row permutation of LAPACK-style 0-based pivots (row i swapped with row pivots[i] in turn). */
export const luPivotsToPermutationP: Primitive<PivotsParams> = definePrimitive("lu_pivots_to_permutation", (self) => ({
  impl: ([piv], p, [o]) => {
    const batch = o.shape.slice(0, -1).reduce((q, d) => q * d, 1);
    return [view(K.pivotsToPermutation(contiguous(piv).data as Int32Array, batch, p.permutationSize), o.shape)];
  },
  abstractEval: ([piv], p) => {
    if (piv.dtype !== "int32" || piv.ndim < 1) throw new DTypeError(`lu_pivots_to_permutation: pivots must be int32 with rank >= 1, got ${piv.dtype}[${piv.shape.join(",")}]`);
    if (!(Number.isInteger(p.permutationSize) && p.permutationSize >= piv.shape[piv.ndim - 1])) {
      throw new ShapeError(`lu_pivots_to_permutation: permutationSize ${p.permutationSize} must be an integer at least the number of pivots ${piv.shape[piv.ndim - 1]}`);
    }
    return [new ShapedArray([...piv.shape.slice(0, -1), p.permutationSize], "int32")];
  },
  differentiable: false,
  batch: frontBatchAll(self),
  cost: () => flops(0),
}));
export const luPivotsToPermutation = (pivots: Tensor, permutationSize: number): Tensor => bind1(luPivotsToPermutationP, [pivots], { permutationSize });
