// triangular_solve: X with op(A) X = B (leftSide) or X op(A) = B, as JAX's lax.linalg primitive.
// It is linear in B: its transpose is the solve with op(A) transposed. Its derivative with respect
// to A is -op(A)^-1 op(dA) X (or -X op(dA) op(A)^-1), restricted to the triangle A's solve reads;
// the products are ordered so that the solve runs on the smaller operand (JAX's
// _triangular_solve_jvp_rule_a).
import { contiguous, view } from "../backend/index.js";
import { type FloatArray, triangularSolve as solveKernel } from "../backend/index.js";
import { DTypeError, InternalError, ShapeError, fmtShape } from "../core/errors.js";
import { type Primitive, UndefPrimal, definePrimitive } from "../core/primitive.js";
import { ShapedArray, sameShape } from "../core/shaped-array.js";
import type { Tensor } from "../core/tensor.js";
import { bind1 } from "../core/trace.js";
import { batchAtFront } from "./batching.js";
import { neg } from "./elementwise.js";
import { batchCount, batchShape, checkSquare, mT, mm, triangle } from "./linalg-util.js";
import { defjvp, linearTranspose } from "./rule-helpers.js";

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
  jvp: defjvp(
    self,
    (ta, [a], x, p) => {
      const [m, k] = x.shape.slice(-2);
      // d(op(A)^-1) = -op(A)^-1 op(dA) op(A)^-1, with dA restricted to the triangle that is read.
      let g = neg(triangle(ta, p.lower, p.lower ? (p.unitDiagonal ? -1 : 0) : p.unitDiagonal ? 1 : 0));
      if (p.transposeA) g = mT(g);
      const solveA = (rhs: Tensor) => triangularSolve(a, rhs, p);
      if (p.leftSide) return m > k ? solveA(mm(g, x)) : mm(solveA(g), x);
      return m < k ? solveA(mm(x, g)) : mm(x, solveA(g));
    },
    (tb, [a], _x, p) => triangularSolve(a, tb, p),
  ),
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
