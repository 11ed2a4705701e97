// Matrix pieces the linear-algebra rules are written in: batched products over the last two axes,
// triangular masks, identities, diagonals. Each is a primitive (or a constant), so the JVP rules
// built from them are themselves differentiable, batchable and transposable in their tangent.
import { fromArr } from "../core/convert.js";
import { type DType, allocate, isFloat } from "../core/dtype.js";
import { DTypeError, ShapeError, fmtShape } from "../core/errors.js";
import type { ShapedArray } from "../core/shaped-array.js";
import type { Tensor } from "../core/tensor.js";
import { view } from "../backend/index.js";
import { dotGeneral } from "./dot.js";
import { add, convertElementType, eq, mul } from "./elementwise.js";
import { iota } from "./gather.js";
import { reduceSum } from "./reduce.js";
import { broadcastInDim, transpose } from "./shape.js";

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** The batch axes of a stack of matrices: all but the last two. */
export const batchShape = (shape: readonly number[]): number[] => shape.slice(0, -2);

/** Swaps the last two axes (`x^T` for every matrix of the stack). */
export function mT(x: Tensor): Tensor {
  const perm = range(x.ndim);
  perm[x.ndim - 2] = x.ndim - 1;
  perm[x.ndim - 1] = x.ndim - 2;
  return transpose(x, perm);
}

/** Matrix products of two stacks with equal batch axes. */
export function mm(a: Tensor, b: Tensor): Tensor {
  const nb = a.ndim - 2;
  const bd = range(nb);
  return dotGeneral(a, b, { contract: [[nb + 1], [nb]], batch: [bd, bd] });
}

// Masks and identities are rebuilt on every rule application otherwise (40000 elements at n = 200):
// the few distinct small ones a program uses are kept (read-only once made), at most 32 of at most
// 256 x 256 elements, so the cache never holds more than 16 MB.
const constants = new Map<string, Tensor>();
const MAX_CONSTANTS = 32;
const MAX_CACHED_SIZE = 256 * 256;

/** A constant [rows, cols] matrix (`kind` names its pattern) broadcast over the batch axes `batch` (a stride-0 view). */
function constantMatrix(kind: string, rows: number, cols: number, dtype: DType, batch: readonly number[], at: (i: number, j: number) => number): Tensor {
  const key = `${kind} ${rows} ${cols} ${dtype}`;
  let m = constants.get(key);
  if (m === undefined) {
    const d = allocate(dtype, rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) d[i * cols + j] = at(i, j);
    m = fromArr(view(d, [rows, cols]), dtype);
    if (rows * cols <= MAX_CACHED_SIZE) {
      if (constants.size >= MAX_CONSTANTS) constants.delete(constants.keys().next().value as string);
      constants.set(key, m);
    }
  }
  return batch.length === 0 ? m : broadcastInDim(m, [...batch, rows, cols], [batch.length, batch.length + 1]);
}

/** I (n x n) with the batch axes `batch`. */
export const eye = (n: number, dtype: DType, batch: readonly number[] = []): Tensor => constantMatrix("eye", n, n, dtype, batch, (i, j) => (i === j ? 1 : 0));

/** The entries on or below diagonal k (lower) or on or above it (upper) of every matrix; the others 0. */
export function triangle(x: Tensor, lower: boolean, k = 0): Tensor {
  const [r, c] = x.shape.slice(-2);
  const mask = constantMatrix(`${lower ? "lower" : "upper"} ${k}`, r, c, x.dtype, batchShape(x.shape), (i, j) => ((lower ? j - i <= k : j - i >= k) ? 1 : 0));
  return mul(x, mask);
}

/** `x` times a constant [rows, cols] matrix (named `kind`, one per pattern) elementwise, over the batch axes of `x`. */
export function scaleBy(x: Tensor, kind: string, at: (i: number, j: number) => number): Tensor {
  const [r, c] = x.shape.slice(-2);
  return mul(x, constantMatrix(kind, r, c, x.dtype, batchShape(x.shape), at));
}

/** The diagonal of every n x n matrix: [..., n]. */
export function diagonal(x: Tensor): Tensor {
  const n = x.shape[x.ndim - 1];
  return reduceSum(mul(x, eye(n, x.dtype, batchShape(x.shape))), [x.ndim - 1]);
}

/** Vectors [..., n] as diagonal matrices [..., n, n]. */
export function diagMatrix(v: Tensor): Tensor {
  const n = v.shape[v.ndim - 1];
  const shape = [...v.shape, n];
  return mul(broadcastInDim(v, shape, range(v.ndim)), eye(n, v.dtype, v.shape.slice(0, -1)));
}

/** (x + x^T) / 2, as JAX's symmetrize. */
export function symmetrize(x: Tensor): Tensor {
  return scaleBy(add(x, mT(x)), "half", () => 0.5);
}

/** The one-hot matrices P with P[i, j] = (perm[i] == j): P A permutes the rows of A as A[perm]. */
export function permutationMatrix(perm: Tensor, dtype: DType): Tensor {
  const m = perm.shape[perm.ndim - 1];
  const shape = [...perm.shape, m];
  const rows = broadcastInDim(perm, shape, range(perm.ndim));
  const cols = broadcastInDim(iota(m), shape, [perm.ndim]);
  return convertElementType(eq(rows, cols), dtype);
}

/** Throws unless `a` is a stack of square floating-point matrices; returns n. */
export function checkSquare(name: string, a: ShapedArray): number {
  checkFloatMatrix(name, a);
  const [r, c] = a.shape.slice(-2);
  if (r !== c) throw new ShapeError(`${name}: expected square matrices (last two axes equal), got shape ${fmtShape(a.shape)}`);
  return r;
}

/** Throws unless `a` is a stack of floating-point matrices (rank >= 2). */
export function checkFloatMatrix(name: string, a: ShapedArray): void {
  if (a.ndim < 2) throw new ShapeError(`${name}: expected a matrix or a stack of matrices (rank >= 2), got shape ${fmtShape(a.shape)}`);
  if (!isFloat(a.dtype)) throw new DTypeError(`${name}: expected float32 or float64 matrices, got ${a.dtype}`);
}

/** The number of matrices in a stack of the given shape. */
export const batchCount = (shape: readonly number[]): number => batchShape(shape).reduce((p, d) => p * d, 1);
