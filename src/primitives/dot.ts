import { groupedView, reshapeView } from "../backend/index.js";
import { batchMatmul } from "../backend/index.js";
import { DTypeError, ShapeError, fmtShape } from "../core/errors.js";
import { type Primitive, definePrimitive } from "../core/primitive.js";
import { ShapedArray } from "../core/shaped-array.js";
import type { Tensor } from "../core/tensor.js";
import { bind1 } from "../core/trace.js";
import { moveBatchAxis } from "./batching.js";
import { bilinear } from "./rule-helpers.js";
import { onnxDotGeneral } from "./onnx-rules.js";
import { transpose } from "./shape.js";
import { dotSparsity } from "../interpreters/sparsity.js";

/** contract: [lhs axes, rhs axes] summed over; batch: [lhs axes, rhs axes] paired. Output: batch ++ lhs free ++ rhs free. */
export type DotParams = { contract: [number[], number[]]; batch: [number[], number[]] };

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const remaining = (n: number, ...taken: number[][]): number[] => range(n).filter((i) => !taken.some((t) => t.includes(i)));
const argsort = (xs: number[]): number[] => range(xs.length).sort((a, b) => xs[a] - xs[b]);

function outShape(l: ShapedArray, r: ShapedArray, { contract: [lc, rc], batch: [lb, rb] }: DotParams): number[] {
  // lc/rc: the lhs/rhs contracting axes, lb/rb: their batch axes (as in the params).
  const bad = (why: string) =>
    new ShapeError(`dot_general: ${why} (lhs ${fmtShape(l.shape)}, rhs ${fmtShape(r.shape)}, contracting ${JSON.stringify([lc, rc])}, batch ${JSON.stringify([lb, rb])})`);
  if (lc.length !== rc.length || lb.length !== rb.length) throw bad("contracting and batch dimension lists must pair up");
  for (const [ls, rs, what] of [[lc, rc, "contracting"], [lb, rb, "batch"]] as const) {
    ls.forEach((a, i) => {
      if (l.shape[a] === undefined || r.shape[rs[i]] === undefined) throw bad(`${what} axis out of range`);
      if (l.shape[a] !== r.shape[rs[i]]) throw bad(`${what} sizes ${l.shape[a]} and ${r.shape[rs[i]]} differ`);
    });
  }
  return [...lb.map((a) => l.shape[a]), ...remaining(l.ndim, lc, lb).map((a) => l.shape[a]), ...remaining(r.ndim, rc, rb).map((a) => r.shape[a])];
}

export const dotGeneralP: Primitive<DotParams> = definePrimitive("dot_general", (self) => ({
  impl: ([a, b], p, [o]) => {
    const { contract: [lc, rc], batch: [lb, rb] } = p;
    const lhsFree = remaining(a.shape.length, lc, lb), rhsFree = remaining(b.shape.length, rc, rb);
    // Strided [batch, m, k] / [batch, k, n] views when the axes merge without a copy.
    const lhsMatrices = groupedView(a, [...lb, ...lhsFree, ...lc], [lb.length, lhsFree.length, lc.length]);
    const rhsMatrices = groupedView(b, [...rb, ...rc, ...rhsFree], [rb.length, rc.length, rhsFree.length]);
    return [reshapeView(batchMatmul(lhsMatrices, rhsMatrices, o.dtype), o.shape)];
  },
  abstractEval: ([l, r], p) => {
    if (l.dtype !== r.dtype) throw new DTypeError(`dot_general: operands must have equal dtypes, got ${l.dtype} and ${r.dtype}`);
    return [new ShapedArray(outShape(l, r, p), l.dtype, l.weakType && r.weakType)];
  },
  ...bilinear(
    self,
    (a, b, p) => dotGeneral(a, b, p),
    (ct, b, aAval, p) => transposeLhs(ct, aAval, b, p, false),
    (ct, a, bAval, p) => transposeLhs(ct, bAval, a, { contract: [p.contract[1], p.contract[0]], batch: [p.batch[1], p.batch[0]] }, true),
  ),
  batch: ([a, b], [da, db], p) => {
    const shift = (xs: number[]) => xs.map((x) => x + 1);
    const { contract: [lc, rc], batch: [lb, rb] } = p;
    if (da !== null && db !== null) {
      const q: DotParams = { contract: [shift(lc), shift(rc)], batch: [[0, ...shift(lb)], [0, ...shift(rb)]] };
      return [[dotGeneral(moveBatchAxis(a, da, 0), moveBatchAxis(b, db, 0), q)], [0]];
    }
    if (da !== null) {
      // The batch axis becomes the first free axis of the lhs: it lands right after the batch axes.
      const q: DotParams = { contract: [shift(lc), rc], batch: [shift(lb), rb] };
      return [[dotGeneral(moveBatchAxis(a, da, 0), b, q)], [lb.length]];
    }
    const q: DotParams = { contract: [lc, shift(rc)], batch: [lb, shift(rb)] };
    const lhsFreeCount = a.ndim - lc.length - lb.length;
    return [[dotGeneral(a, moveBatchAxis(b, db as number, 0), q)], [lb.length + lhsFreeCount]];
  },
  // A multiply-add per output element and contracted index.
  cost: ([lhs], [out], { contract: [lhsContract] }) => ({ flops: 2 * out.size * lhsContract.reduce((s, a) => s * lhs.shape[a], 1), transcendentals: 0 }),
  // A plain matrix (or vector) product reads as `a @ b`; anything else keeps JAX's spelling.
  notation: ([a, b], { contract, batch }, [lhs]) =>
    batch[0].length === 0 && contract[0].length === 1 && contract[0][0] === lhs.ndim - 1 && contract[1][0] === 0 ? `${a} @ ${b}` : null,
  sparsity: dotSparsity,
  onnx: onnxDotGeneral,
}));

/** Cotangent of the lhs: contract the output cotangent with the rhs over the rhs's free axes. */
function transposeLhs(g: Tensor, x: ShapedArray, y: Tensor, p: DotParams, swapAns: boolean): Tensor {
  const { contract: [xc, yc], batch: [xb, yb] } = p;
  const xKept = remaining(x.ndim, xc, xb), yKept = remaining(y.ndim, yc, yb);
  const batchCount = xb.length;
  const ansBatch = range(batchCount);
  const ansY = swapAns ? range(yKept.length).map((i) => batchCount + i) : range(yKept.length).map((i) => batchCount + xKept.length + i);
  const dims: DotParams = { contract: [ansY, yKept], batch: [ansBatch, yb] };
  const xcSortedByY = argsort(yc).map((i) => xc[i]);
  const outAxes = argsort([...xb, ...xKept, ...xcSortedByY]);
  return transpose(dotGeneral(g, y, dims), outAxes);
}

export const dotGeneral = (a: Tensor, b: Tensor, p: DotParams): Tensor => bind1(dotGeneralP, [a, b], p);
