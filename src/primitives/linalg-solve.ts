// triangular_solve: X with op(A) X = B (leftSide) or X op(A) = B, as JAX's lax.linalg primitive.
// It is linear in B: its transpose is the solve with op(A) transposed. Its derivative with respect
// to A is -op(A)^-1 op(dA) X (or -X op(dA) op(A)^-1), restricted to the triangle A's solve reads.
import { contiguous, view } from "../backend/index.js";
import { type FloatArray, triangularSolve as solveKernel } from "../backend/index.js";
import { DTypeError, InternalError, ShapeError, fmtShape } from "../core/errors.js";
import { type Primitive, UndefPrimal, Zero, definePrimitive } from "../core/primitive.js";
import { ShapedArray, sameShape } from "../core/shaped-array.js";
import type { Tensor } from "../core/tensor.js";
import { bind1 } from "../core/trace.js";
import { batchAtFront } from "./batching.js";
import { neg, sumTangents } from "./elementwise.js";
import { batchCount, batchShape, checkSquare, mT, mm, triangle } from "./linalg-util.js";
import { linearTranspose } from "./rule-helpers.js";
import { isZero } from "./util.js";

export type TriangularSolveParams = { leftSide: boolean; lower: boolean; transposeA: boolean; unitDiagonal: boolean };

export const triangularSolveP: Primitive<TriangularSolveParams> = definePrimitive("triangular_solve", (self) => ({
  impl: ([a, b], p, [o]) => {
    const [m, k] = o.shape.slice(-2);
    const out = solveKernel(contiguous(a).data as FloatArray, contiguous(b).data as FloatArray, batchCount(o.shape), m, k, p);
    return [view(out, o.shape)];
  },
  abstractEval: ([a, b], p) => {
    const n = checkSquare("triangular_solve", a);
    if (b.ndim < 2) throw new ShapeError(`triangular_solve: b must be a matrix or a stack of matrices, got shape ${fmtShape(b.shape)}`);
    if (a.dtype !== b.dtype) throw new DTypeError(`triangular_solve: a and b must have equal dtypes, got ${a.dtype} and ${b.dtype}`);
    const [m, k] = b.shape.slice(-2);
    if (!sameShape(batchShape(a.shape), batchShape(b.shape)) || n !== (p.leftSide ? m : k)) {
      throw new ShapeError(
        `triangular_solve: a of shape ${fmtShape(a.shape)} does not fit b of shape ${fmtShape(b.shape)} (leftSide ${p.leftSide}: a's size must equal b's ${p.leftSide ? "rows" : "columns"} and the batch axes must be equal)`,
      );
    }
    return [new ShapedArray(b.shape, b.dtype, a.weakType && b.weakType)];
  },
  // d(op(A)^-1 B) = op(A)^-1 (dB - op(dA) X) (and (dB - X op(dA)) op(A)^-1 on the right), dA
  // restricted to the triangle the solve reads; the products are ordered so that the solve runs on
  // the smaller operand (JAX's _triangular_solve_jvp_rule_a). When the product is solved, both
  // tangents go through one solve, so that reverse mode solves the cotangent once, not once for
  // A and once for B; the minus sign goes on the smaller of X and dA.
  jvp: ([a, b], [ta, tb], p) => {
    const x = bind1(self, [a, b], p);
    const solveA = (rhs: Tensor) => triangularSolve(a, rhs, p);
    if (isZero(ta)) return [[x], [isZero(tb) ? new Zero(x.aval.strong()) : solveA(tb)]];
    const [m, k] = x.shape.slice(-2);
    const n = a.shape[a.ndim - 1];
    let g = triangle(ta, p.lower, p.lower ? (p.unitDiagonal ? -1 : 0) : p.unitDiagonal ? 1 : 0);
    if (p.transposeA) g = mT(g);
    const negX = m * k <= n * n;
    const xs = negX ? neg(x) : x;
    if (!negX) g = neg(g);
    if (p.leftSide ? m > k : m < k) return [[x], [solveA(sumTangents(tb, p.leftSide ? mm(g, xs) : mm(xs, g)) as Tensor)]];
    const prod = p.leftSide ? mm(solveA(g), xs) : mm(xs, solveA(g));
    return [[x], [sumTangents(isZero(tb) ? tb : solveA(tb), prod)]];
  },
  transpose: linearTranspose((ct, [a], p) => {
    if (a instanceof UndefPrimal) throw new InternalError("triangular_solve: cannot transpose with respect to the matrix a");
    return [null, triangularSolve(a, ct, { ...p, transposeA: !p.transposeA })];
  }),
  linear: true,
  batch: (args, dims, p, axisSize) => [[bind1(self, batchAtFront(args, dims, axisSize), p)], [0]],
  // Each output element is a dot product with one row of the triangle: n/2 multiply-adds on average.
  cost: ([a], [o]) => ({ flops: o.size * a.shape[a.ndim - 1], transcendentals: 0 }),
}));

/** Binds triangular_solve (a and b of equal dtypes and batch axes). */
export const triangularSolve = (a: Tensor, b: Tensor, p: TriangularSolveParams): Tensor => bind1(triangularSolveP, [a, b], p);
