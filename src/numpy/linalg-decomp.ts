// np.linalg's decompositions and the functions built on them, as composites of the factorization
// primitives (primitives/linalg-factor.ts) and triangular_solve, in the way jax.numpy.linalg
// builds them: solve, inv, det and slogdet from LU; pinv, lstsq, the nuclear and spectral norms
// and matrixRank from the SVD. Leading axes are batch axes; integer inputs become float64.
import { isFloat } from "../core/dtype.js";
import { JacobiError, ShapeError, fmtShape } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { boolean, checkOptions, invalid, nonNegativeNumber, oneOf } from "../core/validate.js";
import * as E from "fp-ts/lib/Either.js";
import { convertElementType } from "../primitives/elementwise.js";
import * as F from "../primitives/linalg-factor.js";
import { triangularSolve } from "../primitives/linalg-solve.js";
import { customJvp } from "../transforms/custom-jvp.js";
import { batchShape, diagonal, eye, mT, mm, permutationMatrix, symmetrize } from "../primitives/linalg-util.js";
import * as M from "./math.js";
import { broadcastShapes, broadcastTo, toTensor } from "./promote.js";
import * as R from "./reductions.js";
import { arange } from "./creation.js";
import { expandDims, reshape, transpose } from "./shape.js";

/** The argument as a floating-point tensor (integers and bools become float64). */
export function floatArg(x: TensorLike, where: string): Tensor {
  const t = toTensor(x, where);
  return isFloat(t.dtype) ? t : convertElementType(t, "float64");
}

/** A stack of matrices (rank >= 2), optionally square; the error names the function and the shape. */
export function matrixArg(x: TensorLike, name: string, square: boolean): Tensor {
  const a = floatArg(x, `${name}: argument 0`);
  if (a.ndim < 2) throw new ShapeError(`${name}: expected a matrix or a stack of matrices (rank >= 2), got shape ${fmtShape(a.shape)}`);
  const [m, n] = a.shape.slice(-2);
  if (square && m !== n) throw new ShapeError(`${name}: expected square matrices (last two axes equal), got shape ${fmtShape(a.shape)}`);
  return a;
}

/** Lower Cholesky factor L (A = L L^T) of each symmetric positive definite matrix. Not positive definite: all NaN. */
export function cholesky(a: TensorLike): Tensor {
  return F.cholesky(symmetrize(matrixArg(a, "linalg.cholesky", true)));
}

/** Both operands with the broadcast batch axes; b a stack of matrices (a vector b gets a column axis). */
function solveOperands(name: string, a: TensorLike, b: TensorLike): [Tensor, Tensor, boolean] {
  let x = matrixArg(a, name, true);
  let y = floatArg(b, `${name}: argument 1`);
  const n = x.shape[x.ndim - 1];
  // NumPy 2's rule: b is a vector only when it is 1-D; otherwise a stack of n x k matrices.
  const vector = y.ndim === 1;
  if (vector) y = reshape(y, [y.shape[0], 1]);
  if (y.ndim < 2 || y.shape[y.ndim - 2] !== n) {
    throw new ShapeError(`${name}: a of shape ${fmtShape(x.shape)} and b of shape ${fmtShape(toTensor(b).shape)} do not fit: b needs ${n} rows`);
  }
  if (x.dtype !== y.dtype) {
    const d = x.dtype === "float64" || y.dtype === "float64" ? "float64" : "float32";
    x = x.dtype === d ? x : convertElementType(x, d);
    y = y.dtype === d ? y : convertElementType(y, d);
  }
  let batch: number[];
  try {
    batch = broadcastShapes(name, [batchShape(x.shape), batchShape(y.shape)]);
  } catch {
    throw new ShapeError(`${name}: the batch (leading) axes of a of shape ${fmtShape(x.shape)} and b of shape ${fmtShape(toTensor(b).shape)} do not broadcast`);
  }
  return [broadcastTo(x, [...batch, n, n], name), broadcastTo(y, [...batch, ...y.shape.slice(-2)], name), vector];
}

/** x = A^-1 b from the factors of P A = L U (NaN/Inf for a singular A, as LAPACK's). */
export function luSolveFactors(lu: Tensor, perm: Tensor, b: Tensor, transpose: boolean): Tensor {
  const p = permutationMatrix(perm, lu.dtype);
  if (!transpose) {
    const y = triangularSolve(lu, mm(p, b), { leftSide: true, lower: true, transposeA: false, unitDiagonal: true });
    return triangularSolve(lu, y, { leftSide: true, lower: false, transposeA: false, unitDiagonal: false });
  }
  // A^T = U^T L^T P.
  const y = triangularSolve(lu, b, { leftSide: true, lower: false, transposeA: true, unitDiagonal: false });
  return mm(mT(p), triangularSolve(lu, y, { leftSide: true, lower: true, transposeA: true, unitDiagonal: true }));
}

/**
 * x = A^-1 B for square stacks A and matrices B with equal batch axes, with the derivative of a
 * linear solve (JAX's custom_linear_solve, written as a JVP rule): dx = A^-1 (dB - dA x) reuses
 * A's LU factors, so reverse mode costs one transposed solve and an outer product, not the
 * derivative of the factorization.
 */
const solveMatrices = customJvp((a: Tensor, b: Tensor): Tensor => {
  const [lu, , perm] = F.lu(a);
  return luSolveFactors(lu, perm, b, false);
}).defjvp(([a, b], [da, db]) => {
  const [lu, , perm] = F.lu(a);
  const x = luSolveFactors(lu, perm, b, false);
  return [x, luSolveFactors(lu, perm, M.subtract(db, mm(da, x)), false)];
});

/** The solution of a x = b; b is a vector when 1-D (NumPy 2), otherwise a (stack of) n x k matrices. */
export function solve(a: TensorLike, b: TensorLike): Tensor {
  const [x, y, vector] = solveOperands("linalg.solve", a, b);
  const out = solveMatrices(x, y);
  return vector ? reshape(out, out.shape.slice(0, -1)) : out;
}

/** Inverse of each square matrix (Inf/NaN when singular); its derivative is -A^-1 dA A^-1. */
export function inv(a: TensorLike): Tensor {
  const x = matrixArg(a, "linalg.inv", true);
  return solveMatrices(x, eye(x.shape[x.ndim - 1], x.dtype, batchShape(x.shape)));
}

/** (-1)^(number of row interchanges) from LU pivots, as a float tensor [...batch]. */
function pivotSign(pivots: Tensor, dtype: Tensor["dtype"]): Tensor {
  const k = pivots.shape[pivots.ndim - 1];
  const swaps = R.sum(M.astype(M.notEqual(pivots, M.astype(broadcastTo(arange(0, k, 1, "int32"), pivots.shape), "int32")), dtype), -1);
  const odd = M.subtract(swaps, M.multiply(2, M.floor(M.divide(swaps, 2))));
  return M.subtract(1, M.multiply(2, odd));
}

/** Determinant of each square matrix, from its LU factors. */
export function det(a: TensorLike): Tensor {
  const x = matrixArg(a, "linalg.det", true);
  const [lu, pivots] = F.lu(x);
  return M.multiply(pivotSign(pivots, x.dtype), R.prod(diagonal(lu), -1));
}

/** [sign, logabsdet] of each square matrix: det = sign * exp(logabsdet); 0 and -Inf when singular. */
export function slogdet(a: TensorLike): [Tensor, Tensor] {
  const x = matrixArg(a, "linalg.slogdet", true);
  const [lu, pivots] = F.lu(x);
  const d = diagonal(lu);
  const sign = M.multiply(pivotSign(pivots, x.dtype), R.prod(M.sign(d), -1));
  return [sign, R.sum(M.log(M.abs(d)), -1)];
}

const EIGH_OPTIONS = { UPLO: oneOf("L", "U"), symmetrizeInput: boolean };
export interface EighOptions {
  /** Which triangle is read when the input is not symmetrized: "L" (default) or "U". */
  UPLO?: "L" | "U";
  /** Use (A + A^T) / 2 (default true, as JAX): derivatives then treat A as symmetric. */
  symmetrizeInput?: boolean;
}

function eighInput(name: string, a: TensorLike, opts: EighOptions | undefined): Tensor {
  const { UPLO = "L", symmetrizeInput = true } = checkOptions(name, opts, EIGH_OPTIONS);
  const x = matrixArg(a, name, true);
  return symmetrizeInput ? symmetrize(x) : UPLO === "U" ? mT(x) : x;
}

/** [w, v]: eigenvalues ascending and orthonormal eigenvectors (columns of v) of each symmetric matrix. */
export function eigh(a: TensorLike, opts?: EighOptions): [Tensor, Tensor] {
  return F.eigh(eighInput("linalg.eigh", a, opts));
}

/** Eigenvalues (ascending) of each symmetric matrix. */
export function eigvalsh(a: TensorLike, opts?: EighOptions): Tensor {
  return F.eigh(eighInput("linalg.eigvalsh", a, opts))[0];
}

export interface QrOptions {
  /** "reduced" (default): Q m x k, R k x n; "complete": Q m x m, R m x n; "r": R alone (k x n). */
  mode?: "reduced" | "complete" | "r";
}
/** QR decomposition; `[q, r]`, or `r` alone for mode "r". */
export function qr(a: TensorLike, opts?: QrOptions & { mode?: "reduced" | "complete" }): [Tensor, Tensor];
export function qr(a: TensorLike, opts: { mode: "r" }): Tensor;
export function qr(a: TensorLike, opts?: QrOptions): [Tensor, Tensor] | Tensor {
  const { mode = "reduced" } = checkOptions("linalg.qr", opts, { mode: oneOf("reduced", "complete", "r") });
  const [q, r] = F.qr(matrixArg(a, "linalg.qr", false), mode === "complete");
  return mode === "r" ? r : [q, r];
}

export interface SvdOptions {
  /** U m x m and Vt n x n (true, NumPy's default) or m x k and k x n. */
  fullMatrices?: boolean;
  /** Return [u, s, vt] (true, default) or the singular values alone. */
  computeUv?: boolean;
}
/** Singular value decomposition `[u, s, vt]` (A = U diag(s) Vt, s descending), or `s` with computeUv false. */
export function svd(a: TensorLike, opts?: SvdOptions & { computeUv?: true }): [Tensor, Tensor, Tensor];
export function svd(a: TensorLike, opts: SvdOptions & { computeUv: false }): Tensor;
export function svd(a: TensorLike, opts?: SvdOptions): [Tensor, Tensor, Tensor] | Tensor {
  const { fullMatrices = true, computeUv = true } = checkOptions("linalg.svd", opts, { fullMatrices: boolean, computeUv: boolean });
  const x = matrixArg(a, "linalg.svd", false);
  if (!computeUv) return F.svd(x, { fullMatrices: false, computeUv: false })[0];
  const [s, u, vt] = F.svd(x, { fullMatrices, computeUv: true });
  return [u, s, vt];
}

/** `x` with axes r and c moved to the end, in that order. */
function moveaxisTo(x: Tensor, [r, c]: [number, number]): Tensor {
  return transpose(x, [...x.shape.map((_, i) => i).filter((i) => i !== r && i !== c), r, c]);
}

const singularValues = (x: Tensor): Tensor => F.svd(x, { fullMatrices: false, computeUv: false })[0];

// ---- norms ----

export type NormOrd = number | "fro" | "nuc" | null;
const NORM_OPTIONS = { keepdims: boolean };

function axisIndex(name: string, axis: number, ndim: number): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) throw new ShapeError(`${name}: axis ${axis} is out of bounds for an array of rank ${ndim}`);
  return axis < 0 ? axis + ndim : axis;
}

function vectorNormAlong(name: string, x: Tensor, axes: number[], ord: NormOrd, keepdims: boolean): Tensor {
  const opts = { keepdims };
  const ax = axes.length === 1 ? axes[0] : axes;
  if (ord === null || ord === 2) return M.sqrt(R.sum(M.multiply(x, x), ax, opts));
  if (typeof ord !== "number") throw new JacobiError(`${name}: ord ${JSON.stringify(ord)} is not a vector norm (use a number, Infinity or -Infinity)`);
  const ab = M.abs(x);
  if (ord === Infinity) return R.max(ab, ax, opts);
  if (ord === -Infinity) return R.min(ab, ax, opts);
  if (ord === 0) return R.sum(M.astype(M.notEqual(x, 0), x.dtype), ax, opts);
  if (ord === 1) return R.sum(ab, ax, opts);
  return M.power(R.sum(M.power(ab, ord), ax, opts), 1 / ord);
}

function matrixNormAlong(name: string, x: Tensor, [r, c]: [number, number], ord: NormOrd, keepdims: boolean): Tensor {
  if (r === c) throw new ShapeError(`${name}: the two axes of a matrix norm must differ, got ${r} twice`);
  const keep = (y: Tensor): Tensor => (keepdims ? expandDims(y, [r, c].sort((p, q) => p - q)) : y);
  if (ord === null || ord === "fro") return M.sqrt(R.sum(M.multiply(x, x), [r, c], { keepdims }));
  if (ord === "nuc" || ord === 2 || ord === -2) {
    const s = singularValues(moveaxisTo(x, [r, c]));
    return keep(ord === "nuc" ? R.sum(s, -1) : ord === 2 ? R.max(s, -1) : R.min(s, -1));
  }
  if (ord === 1 || ord === -1 || ord === Infinity || ord === -Infinity) {
    // 1: the largest column sum of |x| (sum over rows); Infinity: the largest row sum.
    const [sumAxis, otherAxis] = Math.abs(ord) === 1 ? [r, c] : [c, r];
    const sums = R.sum(M.abs(x), sumAxis, { keepdims: true });
    const pick = ord > 0 ? R.max(sums, otherAxis, { keepdims: true }) : R.min(sums, otherAxis, { keepdims: true });
    return keepdims ? pick : reshape(pick, x.shape.filter((_, i) => i !== r && i !== c));
  }
  throw new JacobiError(`${name}: ord ${JSON.stringify(ord)} is not a matrix norm (use "fro", "nuc", 1, -1, 2, -2, Infinity or -Infinity)`);
}

/**
 * numpy.linalg.norm: with `axis` null, the 2-norm of the flattened array when `ord` is null, else
 * the vector (1-D) or matrix (2-D) norm `ord`; an axis number gives vector norms along it, a pair
 * of axes matrix norms over them.
 */
export function norm(x: TensorLike, ord: NormOrd = null, axis: number | [number, number] | null = null, opts?: { keepdims?: boolean }): Tensor {
  const { keepdims = false } = checkOptions("linalg.norm", opts, NORM_OPTIONS);
  const t = floatArg(x, "linalg.norm: argument 0");
  if (axis === null) {
    if (ord === null) return vectorNormAlong("linalg.norm", t, t.shape.map((_, i) => i), null, keepdims);
    if (t.ndim === 1) return vectorNormAlong("linalg.norm", t, [0], ord, keepdims);
    if (t.ndim === 2) return matrixNormAlong("linalg.norm", t, [0, 1], ord, keepdims);
    throw new ShapeError(`linalg.norm: an ord without axis needs a 1-D or 2-D array, got shape ${fmtShape(t.shape)}`);
  }
  if (typeof axis === "number") return vectorNormAlong("linalg.norm", t, [axisIndex("linalg.norm", axis, t.ndim)], ord, keepdims);
  if (!Array.isArray(axis) || axis.length !== 2) throw new ShapeError(`linalg.norm: axis must be null, a number or a pair of numbers, got ${JSON.stringify(axis)}`);
  return matrixNormAlong("linalg.norm", t, [axisIndex("linalg.norm", axis[0], t.ndim), axisIndex("linalg.norm", axis[1], t.ndim)], ord, keepdims);
}

const ordValidator = (v: unknown, key: string) => (typeof v === "number" || v === "fro" || v === "nuc" ? E.right(v as NormOrd) : invalid<NormOrd>(`${key} must be a number, "fro" or "nuc", got ${JSON.stringify(v)}`));

/** numpy.linalg.vector_norm: `ord` (default 2) over `axis` (default: all axes, flattened). */
export function vectorNorm(x: TensorLike, opts?: { ord?: number; axis?: number | number[] | null; keepdims?: boolean }): Tensor {
  const { ord = 2, axis = null, keepdims = false } = checkOptions("linalg.vectorNorm", opts, { ord: ordValidator, axis: (v: unknown) => E.right(v as number | number[] | null), keepdims: boolean });
  const t = floatArg(x, "linalg.vectorNorm: argument 0");
  const axes = axis === null ? t.shape.map((_, i) => i) : (Array.isArray(axis) ? axis : [axis]).map((a) => axisIndex("linalg.vectorNorm", a, t.ndim));
  return vectorNormAlong("linalg.vectorNorm", t, axes, ord, keepdims);
}

/** numpy.linalg.matrix_norm: `ord` (default "fro") of the matrices over the last two axes. */
export function matrixNorm(x: TensorLike, opts?: { ord?: NormOrd; keepdims?: boolean }): Tensor {
  const { ord = "fro", keepdims = false } = checkOptions("linalg.matrixNorm", opts, { ord: ordValidator, keepdims: boolean });
  const t = matrixArg(x, "linalg.matrixNorm", false);
  return matrixNormAlong("linalg.matrixNorm", t, [t.ndim - 2, t.ndim - 1], ord, keepdims);
}

// ---- built on the SVD ----

const EPS = { float64: 2 ** -52, float32: 2 ** -23 } as Record<string, number>;

/** Singular values above rtol * s_max: their reciprocals; the others 0 (the pseudo-inverse's). */
function invertAbove(s: Tensor, rtol: number | undefined, m: number, n: number): [Tensor, Tensor] {
  const tol = M.multiply(R.max(s, -1, { keepdims: true }), rtol ?? 10 * Math.max(m, n) * EPS[s.dtype]);
  const keep = M.greater(s, tol);
  return [M.where(keep, M.divide(1, M.where(keep, s, 1)), 0), keep];
}

/** Moore-Penrose pseudo-inverse from the SVD; singular values at most rtol * s_max count as zero. */
export function pinv(a: TensorLike, opts?: { rtol?: number }): Tensor {
  const { rtol } = checkOptions("linalg.pinv", opts, { rtol: nonNegativeNumber });
  const x = matrixArg(a, "linalg.pinv", false);
  const [m, n] = x.shape.slice(-2);
  const [s, u, vt] = F.svd(x, { fullMatrices: false, computeUv: true });
  const [sInv] = invertAbove(s, rtol, m, n);
  return mm(mT(vt), M.multiply(expandDims(sInv, [sInv.ndim]), mT(u)));
}

/**
 * Least-squares solution of a x = b: `[x, residuals, rank, s]` as numpy.linalg.lstsq, with JAX's
 * residuals (the squared 2-norm of each column of b - a x, always computed).
 */
export function lstsq(a: TensorLike, b: TensorLike, opts?: { rcond?: number }): [Tensor, Tensor, Tensor, Tensor] {
  const { rcond } = checkOptions("linalg.lstsq", opts, { rcond: nonNegativeNumber });
  const x = matrixArg(a, "linalg.lstsq", false);
  if (x.ndim !== 2) throw new ShapeError(`linalg.lstsq: a must be a 2-D matrix, got shape ${fmtShape(x.shape)}`);
  let y = floatArg(b, "linalg.lstsq: argument 1");
  const [m, n] = x.shape;
  const vector = y.ndim === 1;
  if (vector) y = reshape(y, [y.shape[0], 1]);
  if (y.ndim !== 2 || y.shape[0] !== m) throw new ShapeError(`linalg.lstsq: a of shape ${fmtShape(x.shape)} and b of shape ${fmtShape(toTensor(b).shape)} do not fit: b needs ${m} rows`);
  if (y.dtype !== x.dtype) y = convertElementType(y, x.dtype);
  const [s, u, vt] = F.svd(x, { fullMatrices: false, computeUv: true });
  const [sInv, keep] = invertAbove(s, rcond, m, n);
  const sol = mm(mT(vt), M.multiply(expandDims(sInv, [1]), mm(mT(u), y)));
  const resid = R.sum(M.square(M.subtract(y, mm(x, sol))), 0);
  const rank = R.sum(M.astype(keep, "int32"));
  return [vector ? reshape(sol, [n]) : sol, vector ? reshape(resid, []) : resid, rank, s];
}

/** Each square matrix to an integer power (negative powers invert first), by repeated squaring. */
export function matrixPower(a: TensorLike, n: number): Tensor {
  if (!Number.isInteger(n)) throw new JacobiError(`linalg.matrixPower: the exponent must be an integer, got ${n}`);
  let x = matrixArg(a, "linalg.matrixPower", true);
  if (n === 0) return eye(x.shape[x.ndim - 1], x.dtype, batchShape(x.shape));
  if (n < 0) x = inv(x);
  let k = Math.abs(n);
  let result: Tensor | null = null;
  for (;;) {
    if (k % 2 === 1) result = result === null ? x : mm(result, x);
    k = Math.floor(k / 2);
    if (k === 0) return result as Tensor;
    x = mm(x, x);
  }
}

/** Number of singular values above rtol * s_max (default rtol: max(m, n) * eps), as int32. */
export function matrixRank(a: TensorLike, opts?: { rtol?: number }): Tensor {
  const { rtol } = checkOptions("linalg.matrixRank", opts, { rtol: nonNegativeNumber });
  const t = floatArg(a, "linalg.matrixRank: argument 0");
  // A vector has rank 1 unless it is all zeros (NumPy's rule).
  if (t.ndim < 2) return R.max(M.astype(M.notEqual(t, 0), "int32"));
  const [m, n] = t.shape.slice(-2);
  const s = singularValues(t);
  const tol = M.multiply(R.max(s, -1, { keepdims: true }), rtol ?? Math.max(m, n) * EPS[s.dtype]);
  return R.sum(M.astype(M.greater(s, tol), "int32"), -1);
}

/** The `np.linalg` namespace (NumPy's names in camelCase). */
export const linalgNamespace = {
  cholesky,
  solve,
  inv,
  det,
  slogdet,
  eigh,
  eigvalsh,
  qr,
  svd,
  norm,
  vectorNorm,
  matrixNorm,
  pinv,
  lstsq,
  matrixPower,
  matrixRank,
};
