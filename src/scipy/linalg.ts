// jax.scipy.linalg's triangular and factored solves and expm, as composites of the linear-algebra
// primitives (SciPy's argument conventions: left-side solves, `lower`, `trans`).
import { JacobiError, ShapeError, fmtShape } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { boolean, checkOptions, invalid } from "../core/validate.js";
import * as E from "fp-ts/lib/Either.js";
import { solveTriangularMatrices } from "../lax/linalg.js";
import { floatArg, luSolveFactors, matrixArg, solve } from "../numpy/linalg-decomp.js";
import * as M from "../numpy/math.js";
import { toTensor } from "../numpy/promote.js";
import * as R from "../numpy/reductions.js";
import { reshape } from "../numpy/shape.js";
import { convertElementType } from "../primitives/elementwise.js";
import * as F from "../primitives/linalg-factor.js";
import { batchShape, eye, mT, mm } from "../primitives/linalg-util.js";

type Trans = 0 | 1 | 2 | "N" | "T" | "C";
const transValidator = (v: unknown, key: string) =>
  v === 0 || v === 1 || v === 2 || v === "N" || v === "T" || v === "C" ? E.right(v as Trans) : invalid<Trans>(`${key} must be 0, 1, 2, "N", "T" or "C", got ${JSON.stringify(v)}`);
const transposed = (t: Trans): boolean => t !== 0 && t !== "N";

/** b as a stack of matrices: a vector (one axis fewer than a) gets a column axis, undone by the returned function. */
function asColumns(name: string, a: Tensor, b: TensorLike): [Tensor, (x: Tensor) => Tensor] {
  const y = floatArg(b, `${name}: argument 1`);
  if (y.ndim === a.ndim - 1) return [reshape(y, [...y.shape, 1]), (x) => reshape(x, x.shape.slice(0, -1))];
  if (y.ndim !== a.ndim) throw new ShapeError(`${name}: b of shape ${fmtShape(y.shape)} must have the rank of a (${fmtShape(a.shape)}) or one less`);
  return [y, (x) => x];
}

/** x with op(a) x = b for triangular a (op: `trans` 0/"N" a, 1/"T" or 2/"C" a^T); b a vector or matrix. */
export function solveTriangular(a: TensorLike, b: TensorLike, opts?: { lower?: boolean; trans?: Trans; unitDiagonal?: boolean }): Tensor {
  const { lower = false, trans = 0, unitDiagonal = false } = checkOptions("scipy.linalg.solveTriangular", opts, { lower: boolean, trans: transValidator, unitDiagonal: boolean });
  const x = matrixArg(a, "scipy.linalg.solveTriangular", true);
  const [y, back] = asColumns("scipy.linalg.solveTriangular", x, b);
  return back(solveTriangularMatrices("scipy.linalg.solveTriangular", x, y, { leftSide: true, lower, transposeA: transposed(trans), unitDiagonal }));
}

/**
 * [c, lower]: the Cholesky factor of a read from its lower triangle (lower: true, c = L) or its upper
 * one (the default, c = U with a = U^T U), as scipy's cho_factor; no symmetrization.
 */
export function choFactor(a: TensorLike, opts?: { lower?: boolean }): [Tensor, boolean] {
  const { lower = false } = checkOptions("scipy.linalg.choFactor", opts, { lower: boolean });
  const x = matrixArg(a, "scipy.linalg.choFactor", true);
  const l = F.cholesky(lower ? x : mT(x));
  return [lower ? l : mT(l), lower];
}

/** x with a x = b from choFactor's [c, lower]; b a vector or a matrix. */
export function choSolve(cAndLower: [TensorLike, boolean], b: TensorLike): Tensor {
  const [c0, lower] = cAndLower;
  if (typeof lower !== "boolean") throw new JacobiError(`scipy.linalg.choSolve: the factor must come as [c, lower] from choFactor, got lower ${JSON.stringify(lower)}`);
  const c = matrixArg(c0, "scipy.linalg.choSolve", true);
  const [y, back] = asColumns("scipy.linalg.choSolve", c, b);
  const first = solveTriangularMatrices("scipy.linalg.choSolve", c, y, { leftSide: true, lower, transposeA: !lower, unitDiagonal: false });
  return back(solveTriangularMatrices("scipy.linalg.choSolve", c, first, { leftSide: true, lower, transposeA: lower, unitDiagonal: false }));
}

/** [lu, piv] as scipy's lu_factor: L's multipliers below U, pivots 0-based (row i swapped with piv[i]). */
export function luFactor(a: TensorLike): [Tensor, Tensor] {
  const [lu, piv] = F.lu(matrixArg(a, "scipy.linalg.luFactor", true));
  return [lu, piv];
}

/** x with a x = b (trans 0) or a^T x = b (trans 1 or 2) from luFactor's [lu, piv]. */
export function luSolve(luAndPiv: [TensorLike, TensorLike], b: TensorLike, opts?: { trans?: Trans }): Tensor {
  const { trans = 0 } = checkOptions("scipy.linalg.luSolve", opts, { trans: transValidator });
  const lu = matrixArg(luAndPiv[0], "scipy.linalg.luSolve", true);
  const piv = toTensor(luAndPiv[1], "scipy.linalg.luSolve: pivots");
  const n = lu.shape[lu.ndim - 1];
  const [y0, back] = asColumns("scipy.linalg.luSolve", lu, b);
  if (y0.shape[y0.ndim - 2] !== n || !sameBatch(lu, y0)) throw new ShapeError(`scipy.linalg.luSolve: lu of shape ${fmtShape(lu.shape)} does not fit b of shape ${fmtShape(y0.shape)}`);
  const y = y0.dtype === lu.dtype ? y0 : convertElementType(y0, lu.dtype);
  return back(luSolveFactors(lu, F.luPivotsToPermutation(piv, n), y, transposed(trans)));
}
const sameBatch = (a: Tensor, b: Tensor): boolean => batchShape(a.shape).join() === batchShape(b.shape).join();

// ---- expm ----

// Higham (2005), "The scaling and squaring method for the matrix exponential revisited": the
// [13/13] Pade approximant is accurate to double precision for ||A||_1 <= THETA_13.
const PADE13 = [64764752532480000, 32382376266240000, 7771770303897600, 1187353796428800, 129060195264000, 10559470521600, 670442572800, 33522128640, 1323241920, 40840800, 960960, 16380, 182, 1];
const THETA_13 = 5.371920351148152;
/** Squarings staged when the norm is not known while tracing (under jit): enough for ||A||_1 up to THETA_13 * 2^40. */
const MAX_SQUARINGS = 40;

function pade13(a: Tensor): Tensor {
  const id = eye(a.shape[a.ndim - 1], a.dtype, batchShape(a.shape));
  const a2 = mm(a, a), a4 = mm(a2, a2), a6 = mm(a4, a2);
  const comb = (c: number[], ms: Tensor[]) => ms.map((m, i) => M.multiply(c[i], m)).reduce((p, q) => M.add(p, q));
  const b = PADE13;
  const u = mm(a, M.add(mm(a6, comb([b[13], b[11], b[9]], [a6, a4, a2])), comb([b[7], b[5], b[3], b[1]], [a6, a4, a2, id])));
  const v = M.add(mm(a6, comb([b[12], b[10], b[8]], [a6, a4, a2])), comb([b[6], b[4], b[2], b[0]], [a6, a4, a2, id]));
  return solve(M.subtract(v, u), M.add(v, u));
}

/**
 * The matrix exponential of each square matrix by scaling and squaring with the [13/13] Pade
 * approximant (Higham 2005), differentiable through its composite. The number of squarings comes
 * from ||A||_1 (the largest over the batch); under jit, where the norm is not known, up to 40
 * squarings are staged and applied as the norm asks.
 */
export function expm(a: TensorLike): Tensor {
  const x = matrixArg(a, "scipy.linalg.expm", true);
  if (x.size === 0) return x;
  const norm1 = R.max(R.sum(M.abs(x), -2));
  const known = norm1.concrete();
  if (known !== null) {
    const v = norm1.item();
    const s = v > THETA_13 ? Math.ceil(Math.log2(v / THETA_13)) : 0;
    let r = pade13(s === 0 ? x : M.multiply(2 ** -s, x));
    for (let i = 0; i < s; i++) r = mm(r, r);
    return r;
  }
  const s = M.maximum(0, M.ceil(M.divide(M.log(M.divide(norm1, THETA_13)), Math.LN2)));
  let r = pade13(M.divide(x, M.astype(M.power(2, s), x.dtype)));
  for (let i = 0; i < MAX_SQUARINGS; i++) r = M.where(M.less(i, s), mm(r, r), r);
  return r;
}

export const linalg = { solveTriangular, choFactor, choSolve, luFactor, luSolve, expm };
