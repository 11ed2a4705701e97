// lax.linalg: the factorization primitives with JAX's argument conventions (jax.lax.linalg).
import { ShapeError, fmtShape } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { boolean, checkOptions } from "../core/validate.js";
import { floatArg, matrixArg } from "../numpy/linalg-decomp.js";
import { broadcastShapes, broadcastTo } from "../numpy/promote.js";
import { convertElementType } from "../primitives/elementwise.js";
import * as F from "../primitives/linalg-factor.js";
import { triangularSolve as bindTriangularSolve } from "../primitives/linalg-solve.js";
import { batchShape, symmetrize } from "../primitives/linalg-util.js";

export interface TriangularSolveOptions {
  /** Solve op(a) x = b (true) or x op(a) = b (false, the default, as JAX). */
  leftSide?: boolean;
  /** a is lower triangular (true) or upper (false, the default); the other triangle is not read. */
  lower?: boolean;
  /** op(a) = a^T (default false). */
  transposeA?: boolean;
  /** Take a's diagonal as ones without reading it (default false). */
  unitDiagonal?: boolean;
}
const TS_OPTIONS = { leftSide: boolean, lower: boolean, transposeA: boolean, unitDiagonal: boolean };

/**
 * x with op(a) x = b (leftSide) or x op(a) = b, for a (stack of) triangular a and matrices b; the
 * batch axes broadcast. Linear in b; differentiable in both.
 */
export function triangularSolve(a: TensorLike, b: TensorLike, opts?: TriangularSolveOptions): Tensor {
  const { leftSide = false, lower = false, transposeA = false, unitDiagonal = false } = checkOptions("lax.linalg.triangularSolve", opts, TS_OPTIONS);
  return solveTriangularMatrices("lax.linalg.triangularSolve", a, b, { leftSide, lower, transposeA, unitDiagonal });
}

/** The shared body of triangularSolve and scipy's solveTriangular: dtype and batch axes made to agree. */
export function solveTriangularMatrices(name: string, a: TensorLike, b: TensorLike, p: Required<TriangularSolveOptions>): Tensor {
  let x = matrixArg(a, name, true);
  let y = floatArg(b, `${name}: argument 1`);
  if (y.ndim < 2) throw new ShapeError(`${name}: b must be a matrix or a stack of matrices, got shape ${fmtShape(y.shape)}`);
  if (x.dtype !== y.dtype) {
    if (x.dtype === "float64") y = convertElementType(y, "float64");
    else x = convertElementType(x, "float64");
  }
  const n = x.shape[x.ndim - 1], need = p.leftSide ? y.shape[y.ndim - 2] : y.shape[y.ndim - 1];
  if (n !== need) throw new ShapeError(`${name}: a of shape ${fmtShape(x.shape)} does not fit b of shape ${fmtShape(y.shape)}: b's ${p.leftSide ? "rows" : "columns"} must number ${n}`);
  const batch = broadcastShapes(name, [batchShape(x.shape), batchShape(y.shape)]);
  return bindTriangularSolve(broadcastTo(x, [...batch, n, n], name), broadcastTo(y, [...batch, ...y.shape.slice(-2)], name), p);
}

/** Lower Cholesky factor (input symmetrized first unless symmetrizeInput is false, as JAX). */
export function cholesky(a: TensorLike, opts?: { symmetrizeInput?: boolean }): Tensor {
  const { symmetrizeInput = true } = checkOptions("lax.linalg.cholesky", opts, { symmetrizeInput: boolean });
  const x = matrixArg(a, "lax.linalg.cholesky", true);
  return F.cholesky(symmetrizeInput ? symmetrize(x) : x);
}

/** [lu, pivots, permutation] as JAX's lax.linalg.lu: a[permutation] = L U, pivots 0-based int32. */
export function lu(a: TensorLike): [Tensor, Tensor, Tensor] {
  return F.lu(matrixArg(a, "lax.linalg.lu", false));
}

export const laxLinalg = { linalg: { triangularSolve, cholesky, lu } };
