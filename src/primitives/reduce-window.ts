// reduce_window for sum and max, as XLA's ReduceWindow with a monoid. The sum is linear: its
// transpose is again a windowed sum, of the cotangent spread back over the base (JAX's
// _reduce_window_sum_transpose_rule). The max's tangent picks, in each window, the tangent at the
// operand's maximum: select_and_gather_add, linear in the tangent, whose transpose scatters back to
// those positions (select_and_scatter_add) and vice versa, as JAX's _reduce_window_chooser_jvp_rule.
import { maxIdentity, reduceWindow as reduceWindowKernel, selectAndGatherAdd as gatherKernel, selectAndScatterAdd as scatterKernel } from "../backend/index.js";
import { DTypeError, ShapeError, fmtShape } from "../core/errors.js";
import { type Cost, type Primitive, Zero, definePrimitive } from "../core/primitive.js";
import { ShapedArray } from "../core/shaped-array.js";
import type { Tensor } from "../core/tensor.js";
import { bind1 } from "../core/trace.js";
import { batchAtFront } from "./batching.js";
import { dilateDim } from "./conv.js";
import { frontBatch, linearJvp, linearTranspose } from "./rule-helpers.js";
import { isZero } from "./util.js";

export type WindowParams = {
  window: number[];
  strides: number[];
  /** [lo, hi] per dimension, possibly negative. */
  padding: [number, number][];
  baseDilation: number[];
  windowDilation: number[];
};

export function windowOutShape(name: string, shape: readonly number[], p: WindowParams): number[] {
  for (const [what, xs] of [["window", p.window], ["strides", p.strides], ["padding", p.padding], ["baseDilation", p.baseDilation], ["windowDilation", p.windowDilation]] as const) {
    if (xs.length !== shape.length) throw new ShapeError(`${name}: ${what} must have one entry per operand dimension (${shape.length}, shape ${fmtShape(shape)}), got ${xs.length}`);
  }
  return shape.map((d, i) => {
    const padded = dilateDim(d, p.baseDilation[i]) + p.padding[i][0] + p.padding[i][1];
    if (padded < 0) throw new ShapeError(`${name}: negative padding ${JSON.stringify(p.padding[i])} is larger than dimension ${i} (shape ${fmtShape(shape)})`);
    const w = dilateDim(p.window[i], p.windowDilation[i]);
    return padded < w ? 0 : Math.floor((padded - w) / p.strides[i]) + 1;
  });
}

const geometry = (p: WindowParams) => ({ window: p.window, strides: p.strides, padLo: p.padding.map(([lo]) => lo), baseDilation: p.baseDilation, windowDilation: p.windowDilation });

/** The params for one more leading axis, a window of one along it. */
const shifted = (p: WindowParams): WindowParams => ({
  window: [1, ...p.window],
  strides: [1, ...p.strides],
  padding: [[0, 0], ...p.padding],
  baseDilation: [1, ...p.baseDilation],
  windowDilation: [1, ...p.windowDilation],
});

const size = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);
/** One operation per window element read. */
const windowCost = (windows: ShapedArray, p: WindowParams): Cost => ({ flops: windows.size * size(p.window), transcendentals: 0 });

function numericAval(name: string, x: ShapedArray, p: WindowParams): ShapedArray {
  if (x.dtype === "bool") throw new DTypeError(`${name}: the operand must be numeric, got bool`);
  return new ShapedArray(windowOutShape(name, x.shape, p), x.dtype, x.weakType);
}

export const reduceWindowSumP: Primitive<WindowParams> = definePrimitive("reduce_window_sum", (self) => ({
  impl: ([x], p, [o]) => [reduceWindowKernel("sum", x, geometry(p), o.shape, o.dtype)],
  abstractEval: ([x], p) => [numericAval("reduce_window_sum", x, p)],
  jvp: linearJvp(self),
  transpose: linearTranspose((ct, [x], p) => {
    const inShape = x.aval.shape;
    // The windows touching each input element, read back from the cotangent spread out by the strides.
    const padding = inShape.map((d, i): [number, number] => {
      const lhsD = dilateDim(d, p.baseDilation[i]), w = dilateDim(p.window[i], p.windowDilation[i]), outD = dilateDim(ct.shape[i], p.strides[i]);
      const before = w - p.padding[i][0] - 1;
      return [before, lhsD + w - 1 - outD - before];
    });
    return [reduceWindowSum(ct, { window: p.window, strides: p.baseDilation, padding, baseDilation: p.strides, windowDilation: p.windowDilation })];
  }),
  batch: frontBatch(self, shifted),
  linear: true,
  cost: (_ins, [o], p) => windowCost(o, p),
}));

export const reduceWindowMaxP: Primitive<WindowParams> = definePrimitive("reduce_window_max", (self) => ({
  impl: ([x], p, [o]) => [reduceWindowKernel("max", x, geometry(p), o.shape, o.dtype)],
  abstractEval: ([x], p) => [numericAval("reduce_window_max", x, p)],
  jvp: ([x], [t], p) => {
    const out = bind1(self, [x], p);
    return [[out], [isZero(t) ? new Zero(out.aval.strong()) : selectAndGatherAdd(t, x, p)]];
  },
  batch: frontBatch(self, shifted),
  cost: (_ins, [o], p) => windowCost(o, p),
}));

function pairAval(name: string, [a, x]: ShapedArray[], aShape: readonly number[]): void {
  if (a.dtype !== x.dtype) throw new DTypeError(`${name}: operands must have equal dtypes, got ${a.dtype} and ${x.dtype}`);
  if (a.shape.length !== aShape.length || a.shape.some((d, i) => d !== aShape[i])) {
    throw new ShapeError(`${name}: the first operand must have shape ${fmtShape(aShape)}, got ${fmtShape(a.shape)}`);
  }
}

/** A select primitive's JVP: linear in its first operand; the operand it selects by has a zero derivative almost everywhere. */
const selectJvp = (self: Primitive<WindowParams>) => ([a, x]: Tensor[], [t]: (Tensor | Zero)[], p: WindowParams): [Tensor[], (Tensor | Zero)[]] => {
  const out = bind1(self, [a, x], p);
  return [[out], [isZero(t) ? new Zero(out.aval.strong()) : bind1(self, [t, x], p)]];
};

/** The batch rule of a two-operand window primitive: both batch axes lined up in front. */
const pairBatch = (self: Primitive<WindowParams>) => (args: Tensor[], dims: (number | null)[], p: WindowParams, axisSize: number): [Tensor[], number[]] => [
  [bind1(self, batchAtFront(args, dims, axisSize), shifted(p))],
  [0],
];

/** out[w] = t at the position of the maximum of x over window w (0 for a window of padding only). */
export const selectAndGatherAddP: Primitive<WindowParams> = definePrimitive("select_and_gather_add", (self) => ({
  impl: ([t, x], p, [o]) => [gatherKernel(t, x, geometry(p), o.shape, o.dtype)],
  abstractEval: ([t, x], p) => {
    pairAval("select_and_gather_add", [t, x], x.shape);
    return [numericAval("select_and_gather_add", x, p)];
  },
  jvp: selectJvp(self),
  transpose: linearTranspose((ct, [, x], p) => [selectAndScatterAdd(ct, x as Tensor, p), null]),
  batch: pairBatch(self),
  linear: true,
  cost: (_ins, [o], p) => windowCost(o, p),
}));

/** The transpose of select_and_gather_add: ct[w] added at the position of the maximum of x over window w. */
export const selectAndScatterAddP: Primitive<WindowParams> = definePrimitive("select_and_scatter_add", (self) => ({
  impl: ([ct, x], p, [o]) => [scatterKernel(ct, x, geometry(p), o.shape, o.dtype)],
  abstractEval: ([ct, x], p) => {
    pairAval("select_and_scatter_add", [ct, x], windowOutShape("select_and_scatter_add", x.shape, p));
    return [new ShapedArray(x.shape, x.dtype, x.weakType)];
  },
  jvp: selectJvp(self),
  transpose: linearTranspose((ct, [, x], p) => [selectAndGatherAdd(ct, x as Tensor, p), null]),
  batch: pairBatch(self),
  linear: true,
  cost: ([ct], _outs, p) => windowCost(ct, p),
}));

export const reduceWindowSum = (x: Tensor, p: WindowParams): Tensor => bind1(reduceWindowSumP, [x], p);
export const reduceWindowMax = (x: Tensor, p: WindowParams): Tensor => bind1(reduceWindowMaxP, [x], p);
export const selectAndGatherAdd = (t: Tensor, x: Tensor, p: WindowParams): Tensor => bind1(selectAndGatherAddP, [t, x], p);
export const selectAndScatterAdd = (ct: Tensor, x: Tensor, p: WindowParams): Tensor => bind1(selectAndScatterAddP, [ct, x], p);
export { maxIdentity };
