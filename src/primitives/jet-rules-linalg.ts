// Taylor-mode (jet) rules of the linear-algebra primitives. triangular_solve and cholesky solve, at
// every order, the same linear equation as their JVP with a right side made of the lower-order
// coefficients (Griewank & Walther, ch. 13: a linear or quadratic implicit equation gives one
// Cauchy product per coefficient). lu, qr, eigh and svd take the rule their JVP implies.
import type { Primitive } from "../core/primitive.js";
import type { Tensor } from "../core/tensor.js";
import type { JetRule } from "../interpreters/jet.js";
import { neg, sub } from "./elementwise.js";
import { jetFromJvp } from "./jet-from-jvp.js";
import { type Coefs, cauchy, full, isZ, linearly, markZero, orderOf } from "./jet-series.js";
import { cholesky, choleskyP, eighP, luP, qrP, svdP } from "./linalg-factor.js";
import { type TriangularSolveParams, triangularSolve, triangularSolveP } from "./linalg-solve.js";
import { mT, mm, scaleBy, triangle } from "./linalg-util.js";
import { zerosLike } from "./util.js";

/** a - b where either may be null (no terms): null when both are. */
const minus = (a: Tensor | null, b: Tensor | null): Tensor | null => (b === null ? a : a === null ? neg(b) : sub(a, b));

/** A right side known to be zero (null) gives a known-zero solution shaped like `like`; otherwise `solve` of it. */
const solveOr = (rhs: Tensor | null, like: Tensor, solve: (r: Tensor) => Tensor): Tensor => (rhs === null ? markZero(zerosLike(like)) : solve(rhs));

/**
 * triangular_solve, op(A) X = B (or X op(A) = B): coefficient k solves op(A_0) X_k = B_k -
 * Σ_{j=1..k} op(A_j) X_{k-j}, A_j read in the triangle the primitive reads (its diagonal left out
 * with a unit diagonal, which is constant).
 */
const triangularSolveJet: JetRule = ([a, b], [sa, sb], params) => {
  const p = params as TriangularSolveParams;
  const order = orderOf([sa, sb]);
  const read = (c: Tensor): Tensor => {
    const t = triangle(c, p.lower, p.lower ? (p.unitDiagonal ? -1 : 0) : p.unitDiagonal ? 1 : 0);
    return p.transposeA ? mT(t) : t;
  };
  const A: Coefs = full(a, sa, order).map((c, j) => (j === 0 ? c : linearly(c, read)));
  const B = full(b, sb, order);
  const solve = (r: Tensor): Tensor => triangularSolve(a, r, p);
  const X: Coefs = [solve(b)];
  const times = p.leftSide ? mm : (aj: Tensor, x: Tensor) => mm(x, aj);
  for (let k = 1; k <= order; k++) {
    const rhs = minus(isZ(B[k]) ? null : B[k], cauchy(A, X, k, 1, k, times));
    X.push(solveOr(rhs, X[0], solve));
  }
  return [[X[0]], [X.slice(1)]];
};

/**
 * cholesky, L L^T = A: coefficient k solves L_0 L_k^T + L_k L_0^T = C_k with C_k = A_k -
 * Σ_{j=1..k-1} L_j L_{k-j}^T, whose solution is the JVP's, L_0 Φ(L_0^-1 C_k L_0^-T) (Φ: the lower
 * triangle, diagonal halved). Exact along symmetric paths (np.linalg.cholesky symmetrizes its input);
 * the first coefficient is the JVP's for any tangent.
 */
const choleskyJet: JetRule = ([a], [s]) => {
  const order = (s as Tensor[]).length;
  const A = full(a, s, order);
  const L: Coefs = [cholesky(a)];
  const left = (x: Tensor) => triangularSolve(L[0], x, { leftSide: true, lower: true, transposeA: false, unitDiagonal: false });
  const phiSolve = (c: Tensor): Tensor => mm(L[0], scaleBy(left(mT(left(mT(c)))), "phi", (i, j) => (i > j ? 1 : i === j ? 0.5 : 0)));
  for (let k = 1; k <= order; k++) {
    const rhs = minus(isZ(A[k]) ? null : A[k], cauchy(L, L, k, 1, k - 1, (x, y) => mm(x, mT(y))));
    L.push(solveOr(rhs, L[0], phiSolve));
  }
  return [[L[0]], [L.slice(1)]];
};

/** The rules of this module, merged into the table of primitives/jet-rules.ts. */
export const linalgJetRules: Map<Primitive<any>, JetRule> = new Map<Primitive<any>, JetRule>([
  [triangularSolveP, triangularSolveJet],
  [choleskyP, choleskyJet],
  [luP, jetFromJvp(luP)],
  [qrP, jetFromJvp(qrP)],
  [eighP, jetFromJvp(eighP)],
  [svdP, jetFromJvp(svdP)],
]);
