// conv_general_dilated, as XLA's ConvGeneralDilated: bilinear, so its JVP is two convolutions and
// its transposes with respect to either operand are convolutions again (the derivations of JAX's
// lax/convolution.py: the input's cotangent is a convolution of the output cotangent with the
// flipped kernel, strides and lhs dilation swapping roles; the kernel's cotangent is a
// convolution of the input with the output cotangent, feature groups becoming batch groups).
import { convGeneralDilated as convKernel } from "../backend/index.js";
import { DTypeError, ShapeError, fmtShape } from "../core/errors.js";
import { type Primitive, definePrimitive } from "../core/primitive.js";
import { ShapedArray } from "../core/shaped-array.js";
import type { Tensor } from "../core/tensor.js";
import { bind1 } from "../core/trace.js";
import { gather } from "./gather.js";
import { bilinear } from "./rule-helpers.js";
import { reshape, transpose } from "./shape.js";

export type ConvParams = {
  windowStrides: number[];
  /** [lo, hi] per spatial dimension, possibly negative. */
  padding: [number, number][];
  lhsDilation: number[];
  rhsDilation: number[];
  /** lhs axes in the order [batch, feature, spatial...]. */
  lhsSpec: number[];
  /** rhs axes in the order [out feature, in feature, spatial...]. */
  rhsSpec: number[];
  /** output axes in the order [batch, feature, spatial...]. */
  outSpec: number[];
  featureGroupCount: number;
  batchGroupCount: number;
};

/** A size after inserting `dilation - 1` holes between elements. */
export const dilateDim = (d: number, dilation: number): number => (d === 0 ? 0 : 1 + dilation * (d - 1));

/** The output shape in canonical order [batch, feature, spatial...]. */
function canonicalOutShape(lhs: readonly number[], rhs: readonly number[], p: ConvParams): number[] {
  const spatial = p.windowStrides.map((s, i) => {
    const padded = dilateDim(lhs[p.lhsSpec[i + 2]], p.lhsDilation[i]) + p.padding[i][0] + p.padding[i][1];
    const window = dilateDim(rhs[p.rhsSpec[i + 2]], p.rhsDilation[i]);
    return padded < window ? 0 : Math.floor((padded - window) / s) + 1;
  });
  return [lhs[p.lhsSpec[0]] / p.batchGroupCount, rhs[p.rhsSpec[0]], ...spatial];
}

function checkShapes(l: ShapedArray, r: ShapedArray, p: ConvParams): void {
  const bad = (why: string) => new ShapeError(`conv_general_dilated: ${why} (lhs ${fmtShape(l.shape)}, rhs ${fmtShape(r.shape)})`);
  if (l.ndim !== r.ndim || l.ndim < 2) throw bad("lhs and rhs must have the same rank, at least 2");
  const n = l.ndim - 2;
  for (const [what, xs] of [["windowStrides", p.windowStrides], ["lhsDilation", p.lhsDilation], ["rhsDilation", p.rhsDilation], ["padding", p.padding]] as const) {
    if (xs.length !== n) throw bad(`${what} must have one entry per spatial dimension (${n}), got ${xs.length}`);
  }
  const G = p.featureGroupCount, B = p.batchGroupCount;
  const C = l.shape[p.lhsSpec[1]], N = l.shape[p.lhsSpec[0]], O = r.shape[p.rhsSpec[0]], I = r.shape[p.rhsSpec[1]];
  if (G > 1 && B > 1) throw bad(`at most one of featureGroupCount (${G}) and batchGroupCount (${B}) may exceed 1`);
  if (C % G !== 0 || C / G !== I) throw bad(`the lhs feature size ${C} divided by featureGroupCount ${G} must equal the rhs input feature size ${I}`);
  if (O % G !== 0) throw bad(`the rhs output feature size ${O} must be a multiple of featureGroupCount ${G}`);
  if (N % B !== 0 || O % B !== 0) throw bad(`batchGroupCount ${B} must divide the lhs batch size ${N} and the rhs output feature size ${O}`);
  for (let i = 0; i < n; i++) {
    const padded = dilateDim(l.shape[p.lhsSpec[i + 2]], p.lhsDilation[i]) + p.padding[i][0] + p.padding[i][1];
    if (padded < 0) throw bad(`negative padding ${JSON.stringify(p.padding[i])} is larger than spatial dimension ${i}`);
  }
}

export const convGeneralDilatedP: Primitive<ConvParams> = definePrimitive("conv_general_dilated", (self) => ({
  impl: ([a, b], p, [o]) => [convKernel(a, b, p, o.shape, o.dtype)],
  abstractEval: ([l, r], p) => {
    if (l.dtype !== r.dtype) throw new DTypeError(`conv_general_dilated: operands must have equal dtypes, got ${l.dtype} and ${r.dtype}`);
    if (l.dtype === "bool") throw new DTypeError("conv_general_dilated: operands must be numeric, got bool");
    checkShapes(l, r, p);
    const canonical = canonicalOutShape(l.shape, r.shape, p);
    const shape = new Array<number>(canonical.length);
    p.outSpec.forEach((axis, i) => (shape[axis] = canonical[i]));
    return [new ShapedArray(shape, l.dtype, l.weakType && r.weakType)];
  },
  ...bilinear(self, (a, b, p) => convGeneralDilatedPrim(a, b, p), transposeLhs, transposeRhs),
  batch: batchRule,
  // A multiply-add per output element and kernel element of one feature group.
  cost: ([, rhs], [out], p) => ({ flops: 2 * out.size * rhs.shape.reduce((k, d, i) => (i === p.rhsSpec[0] ? k : k * d), 1), transcendentals: 0 }),
}));

export function convGeneralDilatedPrim(lhs: Tensor, rhs: Tensor, p: ConvParams): Tensor {
  return bind1(convGeneralDilatedP, [lhs, rhs], p);
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Merges axis `src` into axis `dst` (numbered after `src` is removed), `src` the major part. */
export function reshapeAxisInto(src: number, dst: number, x: Tensor): Tensor {
  const perm = range(x.ndim).filter((i) => i !== src);
  perm.splice(dst, 0, src);
  const shape = x.shape.filter((_, i) => i !== src);
  shape[dst] *= x.shape[src];
  return reshape(transpose(x, perm), shape);
}

/** Splits axis `src` into [size1, rest]. */
export function reshapeAxisOutOf(src: number, size1: number, x: Tensor): Tensor {
  const shape = [...x.shape];
  shape.splice(src, 1, size1, shape[src] / size1);
  return reshape(x, shape);
}

/** `x` reversed along `axes` (a gather with descending indices: linear, with its own rules). */
export function rev(x: Tensor, axes: readonly number[]): Tensor {
  let y = x;
  for (const axis of axes) {
    const n = x.shape[axis];
    if (n > 1) y = gather(y, range(n).reverse(), axis);
  }
  return y;
}

const specTranspose = (spec: number[]): number[] => [spec[1], spec[0], ...spec.slice(2)];
const dilateShape = (shape: number[], dilation: number[]): number[] => shape.map((d, i) => dilateDim(d, dilation[i]));
const take = (shape: readonly number[], axes: number[]): number[] => axes.map((a) => shape[a]);

function vjpLhsPadding(inShape: number[], window: number[], strides: number[], outShape: number[], padding: [number, number][], lhsDil: number[], rhsDil: number[]): [number, number][] {
  const lhsD = dilateShape(inShape, lhsDil), rhsD = dilateShape(window, rhsDil), outD = dilateShape(outShape, strides);
  return lhsD.map((l, i) => {
    const before = rhsD[i] - padding[i][0] - 1;
    return [before, l + rhsD[i] - 1 - outD[i] - before];
  });
}

function vjpRhsPadding(inShape: number[], window: number[], strides: number[], outShape: number[], padding: [number, number][], lhsDil: number[], rhsDil: number[]): [number, number][] {
  const lhsD = dilateShape(inShape, lhsDil), rhsD = dilateShape(window, rhsDil), outD = dilateShape(outShape, strides);
  return padding.map(([lo], i) => [lo, outD[i] - lhsD[i] + rhsD[i] - lo - 1]);
}

function transposeLhs(ct: Tensor, rhsIn: Tensor, lhsAval: ShapedArray, p: ConvParams): Tensor {
  const { lhsSpec, rhsSpec, outSpec } = p;
  const sd = (spec: number[]) => spec.slice(2);
  let rhs = rhsIn;
  let groups = p.featureGroupCount;
  if (p.featureGroupCount > 1 || p.batchGroupCount > 1) {
    // The group axis moves from the kernel's output features to its input features.
    groups = Math.max(p.featureGroupCount, p.batchGroupCount);
    rhs = reshapeAxisInto(rhsSpec[0], rhsSpec[1], reshapeAxisOutOf(rhsSpec[0], groups, rhs));
  }
  const padding = vjpLhsPadding(take(lhsAval.shape, sd(lhsSpec)), take(rhsIn.shape, sd(rhsSpec)), p.windowStrides, take(ct.shape, sd(outSpec)), p.padding, p.lhsDilation, p.rhsDilation);
  let out = convGeneralDilatedPrim(ct, rev(rhs, sd(rhsSpec)), {
    windowStrides: p.lhsDilation,
    padding,
    lhsDilation: p.windowStrides,
    rhsDilation: p.rhsDilation,
    lhsSpec: outSpec,
    rhsSpec: specTranspose(rhsSpec),
    outSpec: lhsSpec,
    featureGroupCount: groups,
    batchGroupCount: 1,
  });
  if (p.batchGroupCount > 1) out = reshapeAxisInto(lhsSpec[1], lhsSpec[0], reshapeAxisOutOf(lhsSpec[1], p.batchGroupCount, out));
  return out;
}

function transposeRhs(ct: Tensor, lhs: Tensor, rhsAval: ShapedArray, p: ConvParams): Tensor {
  const { lhsSpec, rhsSpec, outSpec } = p;
  const sd = (spec: number[]) => spec.slice(2);
  const padding = vjpRhsPadding(take(lhs.shape, sd(lhsSpec)), take(rhsAval.shape, sd(rhsSpec)), p.windowStrides, take(ct.shape, sd(outSpec)), p.padding, p.lhsDilation, p.rhsDilation);
  return convGeneralDilatedPrim(lhs, ct, {
    windowStrides: p.rhsDilation,
    padding,
    lhsDilation: p.lhsDilation,
    rhsDilation: p.windowStrides,
    lhsSpec: specTranspose(lhsSpec),
    rhsSpec: specTranspose(outSpec),
    outSpec: specTranspose(rhsSpec),
    featureGroupCount: p.batchGroupCount,
    batchGroupCount: p.featureGroupCount,
  });
}

/** JAX's batch rule: a batched lhs folds into its batch axis, a batched rhs into its output features. */
function batchRule([lhs, rhs]: Tensor[], [ld, rd]: (number | null)[], p: ConvParams): [Tensor[], (number | null)[]] {
  const { lhsSpec, rhsSpec, outSpec } = p;
  if (ld !== null && rd !== null) {
    const size = lhs.shape[ld];
    let q: ConvParams, newLhs: Tensor;
    if (p.batchGroupCount > 1) {
      newLhs = reshapeAxisInto(ld, lhsSpec[0], lhs);
      q = { ...p, batchGroupCount: p.batchGroupCount * size };
    } else {
      newLhs = reshapeAxisInto(ld, lhsSpec[1], lhs);
      q = { ...p, featureGroupCount: p.featureGroupCount * size };
    }
    const out = convGeneralDilatedPrim(newLhs, reshapeAxisInto(rd, rhsSpec[0], rhs), q);
    return [[reshapeAxisOutOf(outSpec[1], size, out)], [outSpec[1]]];
  }
  if (ld !== null) {
    const size = lhs.shape[ld];
    let newLhs: Tensor;
    if (p.batchGroupCount === 1) newLhs = reshapeAxisInto(ld, lhsSpec[0], lhs);
    else {
      // The example axis goes inside each batch group: [groups, examples, per-group batch].
      newLhs = reshapeAxisOutOf(lhsSpec[0] + (ld <= lhsSpec[0] ? 1 : 0), p.batchGroupCount, lhs);
      newLhs = reshapeAxisInto(ld + (lhsSpec[0] < ld ? 1 : 0), lhsSpec[0] + 1, newLhs);
      newLhs = reshapeAxisInto(lhsSpec[0], lhsSpec[0], newLhs);
    }
    const out = convGeneralDilatedPrim(newLhs, rhs, p);
    return [[reshapeAxisOutOf(outSpec[0], size, out)], [outSpec[0]]];
  }
  const r = rd as number;
  const size = rhs.shape[r];
  if (p.featureGroupCount === 1 && p.batchGroupCount === 1) {
    const out = convGeneralDilatedPrim(lhs, reshapeAxisInto(r, rhsSpec[0], rhs), p);
    return [[reshapeAxisOutOf(outSpec[1], size, out)], [outSpec[1]]];
  }
  // Groups stay outermost in the kernel's output features: [groups, examples, per-group features].
  const groups = Math.max(p.featureGroupCount, p.batchGroupCount);
  let newRhs = reshapeAxisOutOf(rhsSpec[0] + (r <= rhsSpec[0] ? 1 : 0), groups, rhs);
  newRhs = reshapeAxisInto(r + (rhsSpec[0] < r ? 1 : 0), rhsSpec[0] + 1, newRhs);
  newRhs = reshapeAxisInto(rhsSpec[0], rhsSpec[0], newRhs);
  let out = convGeneralDilatedPrim(lhs, newRhs, p);
  out = reshapeAxisOutOf(outSpec[1], groups, out);
  out = reshapeAxisOutOf(outSpec[1] + 1, size, out);
  out = reshapeAxisInto(outSpec[1], outSpec[1] + 1, out);
  return [[out], [outSpec[1]]];
}
