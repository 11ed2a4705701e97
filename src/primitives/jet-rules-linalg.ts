// Taylor-mode (jet) rules of the linear-algebra primitives. triangular_solve and cholesky solve, at
// every order, the same linear equation as their JVP with a right side made of the lower-order
// coefficients (Griewank & Walther, ch. 13: a linear or quadratic implicit equation gives one
// Cauchy product per coefficient), and so does lu; eigh, qr and svd solve their JVP's equations
// too, with the orthonormality of the factors imposed at every order.
import type { Primitive } from "../core/primitive.js";
import type { Tensor } from "../core/tensor.js";
import { bind } from "../core/trace.js";
import type { JetRule } from "../interpreters/jet.js";
import { add, div, integerPow, mul, neg, sub } from "./elementwise.js";
import { jetFromJvp } from "./jet-from-jvp.js";
import { type Coefs, cauchy, full, isZ, linearly, markZero, orderOf } from "./jet-series.js";
import { type SvdParams, cholesky, choleskyP, eigh, eighP, luP, qrP, svdP } from "./linalg-factor.js";
import { type TriangularSolveParams, triangularSolve, triangularSolveP } from "./linalg-solve.js";
import { batchShape, diagMatrix, diagonal, eye, mT, mm, permutationMatrix, scaleBy, triangle } from "./linalg-util.js";
import { broadcastInDim, pad, slice } from "./shape.js";
import { fullLike, zerosLike } from "./util.js";

/** a - b, b null when it has no terms; a known zero when both are. */
const zsub = (a: Tensor, b: Tensor | null): Tensor => (b === null ? a : isZ(a) ? neg(b) : sub(a, b));
/** a + b, b null when it has no terms. */
const zadd = (a: Tensor, b: Tensor | null): Tensor => (b === null ? a : isZ(a) ? b : add(a, b));

/** The solution of a linear equation with right side `rhs`: a known zero for a known-zero right side. */
const solveNonzero = (rhs: Tensor, solve: (r: Tensor) => Tensor): Tensor => (isZ(rhs) ? rhs : solve(rhs));

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
    X.push(solveNonzero(zsub(B[k], cauchy(A, X, k, 1, k, times)), solve));
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
    L.push(solveNonzero(zsub(A[k], cauchy(L, L, k, 1, k - 1, (x, y) => mm(x, mT(y)))), phiSolve));
  }
  return [[L[0]], [L.slice(1)]];
};

/**
 * eigh, A V = V diag(w) with V^T V = I: writing V_k = V_0 C_k and S_j = V_0^T A_j V_0, coefficient k
 * of the eigen-equation is W_0 C_k - C_k W_0 + R_k = diag(w_k), R_k = Σ_{j=1..k} S_j C_{k-j} -
 * Σ_{j=1..k-1} C_j diag(w_{k-j}). So w_k = diag(R_k), C_k off the diagonal is the JVP's F o R_k
 * (F[i, j] = 1 / (w_j - w_i)), and on it -1/2 diag(Σ_{j=1..k-1} C_j^T C_{k-j}) from V^T V = I.
 * Exact along symmetric paths with distinct eigenvalues; the first coefficients are the JVP's.
 */
const eighJet: JetRule = ([a], [s]) => {
  const order = (s as Tensor[]).length;
  const [w0, v0] = eigh(a);
  const n = a.shape[a.ndim - 1], nb = a.ndim - 2;
  const lead = Array.from({ length: nb }, (_, i) => i);
  // M[i, j] = w[j]: a vector along the rows, scaling columns.
  const rows = (w: Tensor): Tensor => broadcastInDim(w, a.shape, [...lead, nb + 1]);
  const id = eye(n, a.dtype, batchShape(a.shape));
  const f = sub(integerPow(add(id, sub(rows(w0), broadcastInDim(w0, a.shape, [...lead, nb]))), -1), id);
  const S: Coefs = full(a, s, order).map((c, j) => (j === 0 ? c : linearly(c, (x) => mm(mm(mT(v0), x), v0))));
  const C: Coefs = [id], W: Coefs = [w0];
  for (let k = 1; k <= order; k++) {
    // S_k C_0 = S_k: the term that is there at every order.
    const r = zsub(zadd(S[k], cauchy(S, C, k, 1, k - 1, mm)), cauchy(C, W, k, 1, k - 1, (c, w) => mul(c, rows(w))));
    W.push(linearly(r, diagonal));
    const norm = cauchy(C, C, k, 1, k - 1, (x, y) => mm(mT(x), y));
    const off = linearly(r, (x) => mul(f, x));
    C.push(zadd(off, norm === null ? null : diagMatrix(mul(diagonal(norm), fullLike(w0, -0.5)))));
  }
  return [[w0, v0], [W.slice(1), C.slice(1).map((c) => linearly(c, (x) => mm(v0, x)))]];
};

/**
 * qr (reduced, m >= n), A = Q R with Q^T Q = I and R upper triangular: with B_k = A_k -
 * Σ_{j=1..k-1} Q_j R_{k-j}, D = B_k R_0^-1 and M = Q_0^T D, the k-th coefficients are
 * R_k = (M - X) R_0 and Q_k = D - Q_0 (M - X), where X = Q_0^T Q_k has M's strictly lower triangle
 * and X + X^T = -P_k, P_k = Σ_{j=1..k-1} Q_j^T Q_{k-j} (orthonormality at order k). At k = 1 this
 * is the JVP's (P_1 = 0: X = Ω).
 */
const qrGeneral = jetFromJvp(qrP);
const qrJet: JetRule = ([a], [s], params, ruleOf) => {
  const order = (s as Tensor[]).length;
  const outs = bind(qrP, [a], params);
  const [m, n] = a.shape.slice(-2);
  // The JVP's conditions (it names the shape it cannot differentiate).
  if (m < n || (params.fullMatrices && m !== n)) return qrGeneral([a], [s], params, ruleOf);
  const [q0, r0] = outs;
  const A = full(a, s, order);
  const Q: Coefs = [q0], R: Coefs = [r0];
  for (let k = 1; k <= order; k++) {
    const b = zsub(A[k], cauchy(Q, R, k, 1, k - 1, mm));
    const p = cauchy(Q, Q, k, 1, k - 1, (x, y) => mm(mT(x), y));
    if (isZ(b) && p === null) {
      Q.push(b);
      R.push(markZero(zerosLike(r0)));
      continue;
    }
    const d = triangularSolve(r0, b, { leftSide: false, lower: false, transposeA: false, unitDiagonal: false });
    const mq = mm(mT(q0), d);
    const lower = triangle(mq, true, -1);
    // X: M's strictly lower triangle, minus its transpose above, minus P's upper triangle with its diagonal halved.
    const skew = sub(lower, mT(lower));
    const x = p === null ? skew : sub(skew, scaleBy(p, "upper, diagonal halved", (i, j) => (j > i ? 1 : i === j ? 0.5 : 0)));
    const mx = sub(mq, x);
    R.push(mm(mx, r0));
    Q.push(sub(d, mm(q0, mx)));
  }
  return [outs, [Q.slice(1), R.slice(1)]];
};

/**
 * lu, P A = L U (L unit lower m x k, U upper k x n, k = min(m, n), packed in one m x n matrix): the
 * k-th coefficients solve L_0 U_k + L_k U_0 = P A_k - Σ_{j=1..k-1} L_j U_{k-j}, the JVP's equation
 * with that right side, so they are the JVP's solution of it: with L_0 and U_0 completed to square
 * unit triangles, X = L_0^-1 B U_0^-1 and the packed coefficient L_0 tril(X, -1) + triu(X) U_0.
 * The pivots stay those of the primal, as the JVP's.
 */
const luJet: JetRule = ([a], [s]) => {
  const order = (s as Tensor[]).length;
  const outs = bind(luP, [a]);
  const [lu0, , perm] = outs;
  const [m, n] = a.shape.slice(-2);
  const k = Math.min(m, n);
  const batch = batchShape(a.shape);
  const none = batch.map(() => 0);
  // The unit lower m x k and upper k x n factors packed in a coefficient (L's diagonal is not stored).
  const lowerOf = (c: Tensor): Tensor => triangle(slice(c, [...none, 0, 0], [...batch, m, k]), true, -1);
  const upperOf = (c: Tensor): Tensor => triangle(slice(c, [...none, 0, 0], [...batch, k, n]), false);
  // L_0 completed to a unit lower m x m, U_0 to an upper n x n with ones below its k rows.
  const l = add(pad(lowerOf(lu0), 0, [...none, 0, 0], [...none, 0, m - k]), eye(m, a.dtype, batch));
  let u = pad(upperOf(lu0), 0, [...none, 0, 0], [...none, n - k, 0]);
  if (n > k) u = add(u, pad(eye(n - k, a.dtype, batch), 0, [...none, k, k], [...none, 0, 0]));
  const solve = (b: Tensor): Tensor => {
    const la = triangularSolve(l, b, { leftSide: true, lower: true, transposeA: false, unitDiagonal: true });
    const x = triangularSolve(u, la, { leftSide: false, lower: false, transposeA: false, unitDiagonal: false });
    return add(mm(l, triangle(x, true, -1)), mm(triangle(x, false), u));
  };
  const p = permutationMatrix(perm, a.dtype);
  const A = full(a, s, order);
  const L: Coefs = [lowerOf(lu0)], U: Coefs = [upperOf(lu0)], LU: Coefs = [lu0];
  for (let j = 1; j <= order; j++) {
    const c = solveNonzero(zsub(linearly(A[j], (x) => mm(p, x)), cauchy(L, U, j, 1, j - 1, mm)), solve);
    LU.push(c);
    L.push(linearly(c, lowerOf));
    U.push(linearly(c, upperOf));
  }
  return [outs, [LU.slice(1), null, null]];
};

/**
 * svd, A = U diag(s) V^T with U^T U = V^T V = I (reduced factors). At order p, with G_p = A_p minus
 * every product U_i S_j V_l^T of lower orders only, H = U_0^T G_p V_0 and the orthonormality sums
 * P = Σ_{j=1..p-1} U_j^T U_{p-j}, Q likewise for V: H' = H + (P S_0 + S_0 Q) / 2 gives s_p =
 * diag(H'), U_0^T U_p = F o (H' S_0 + S_0 H'^T) - P/2 and V_0^T V_p = F o (S_0 H' + H'^T S_0) - Q/2
 * (F[i, j] = 1 / (s_j^2 - s_i^2), the JVP's), plus the JVP's components outside the span of U_0
 * (tall) or V_0 (wide) with G_p for dA. The first coefficients are the JVP's.
 */
const svdGeneral = jetFromJvp(svdP);
const svdJet: JetRule = ([a], [s], params, ruleOf) => {
  const p = params as SvdParams;
  const [m, n] = a.shape.slice(-2);
  // Full singular vectors of a non-square matrix: the JVP's error.
  if (p.computeUv && p.fullMatrices && m !== n) return svdGeneral([a], [s], params, ruleOf);
  const order = (s as Tensor[]).length;
  const outs = bind(svdP, [a], p);
  const [s0, u0, vt0] = bind(svdP, [a], { fullMatrices: false, computeUv: true });
  const v0 = mT(vt0);
  const k = Math.min(m, n), nb = a.ndim - 2, batch = batchShape(a.shape);
  const lead = Array.from({ length: nb }, (_, i) => i);
  /** A vector [..., len] as a [..., rows, cols] matrix constant along its rows (axis 1: M[i, j] = w[j]) or columns (axis 0: M[i, j] = w[i]). */
  const spread = (w: Tensor, rows: number, cols: number, axis: number): Tensor => broadcastInDim(w, [...batch, rows, cols], [...lead, nb + axis]);
  const half = (x: Tensor): Tensor => mul(x, fullLike(x, 0.5));
  const gram = (x: Tensor, y: Tensor): Tensor => mm(mT(x), y);
  const sq = mul(s0, s0);
  const id = eye(k, a.dtype, batch);
  const f = sub(integerPow(add(id, sub(spread(sq, k, k, 1), spread(sq, k, k, 0))), -1), id);
  /** diag(s_j) V_l^T. */
  const sv = (sj: Tensor, vl: Tensor): Tensor => mul(spread(sj, k, n, 0), mT(vl));
  const A = full(a, s, order);
  const U: Coefs = [u0], S: Coefs = [s0], V: Coefs = [v0], T: Coefs = [sv(s0, v0)];
  for (let q = 1; q <= order; q++) {
    // (S V^T)_q without its two terms of order q: Σ_{j=1..q-1} S_j V_{q-j}^T.
    const inner = cauchy(S, V, q, 1, q - 1, sv);
    const g = zsub(zsub(A[q], cauchy(U, T, q, 1, q - 1, mm)), inner === null ? null : mm(u0, inner));
    const pu = cauchy(U, U, q, 1, q - 1, gram), qv = cauchy(V, V, q, 1, q - 1, gram);
    let h = gram(u0, mm(g, v0));
    if (pu !== null) h = add(h, half(mul(pu, spread(s0, k, k, 1))));
    if (qv !== null) h = add(h, half(mul(spread(s0, k, k, 0), qv)));
    const hs = mul(h, spread(s0, k, k, 1)), sh = mul(spread(s0, k, k, 0), h);
    let c = mul(f, add(hs, mT(hs))), d = mul(f, add(sh, mT(sh)));
    if (pu !== null) c = sub(c, half(pu));
    if (qv !== null) d = sub(d, half(qv));
    let uq = mm(u0, c), vq = mm(v0, d);
    // The parts outside the span of the primal's singular vectors, each over its singular value.
    if (m > n) {
      const gv = mm(g, v0);
      uq = add(uq, div(sub(gv, mm(u0, gram(u0, gv))), spread(s0, m, k, 1)));
    }
    if (n > m) {
      const gu = gram(g, u0);
      vq = add(vq, div(sub(gu, mm(v0, gram(v0, gu))), spread(s0, n, k, 1)));
    }
    const sq_ = diagonal(h);
    U.push(uq), S.push(sq_), V.push(vq);
    T.push(zadd(add(sv(sq_, v0), sv(s0, vq)), inner));
  }
  return [outs, p.computeUv ? [S.slice(1), U.slice(1), V.slice(1).map(mT)] : [S.slice(1)]];
};

/** The rules of this module, merged into the table of primitives/jet-rules.ts. */
export const linalgJetRules: Map<Primitive<any>, JetRule> = new Map<Primitive<any>, JetRule>([
  [triangularSolveP, triangularSolveJet],
  [choleskyP, choleskyJet],
  [luP, luJet],
  [qrP, qrJet],
  [eighP, eighJet],
  [svdP, svdJet],
]);
