// lax.convGeneralDilated, lax.conv and lax.reduceWindow: JAX's argument conventions (padding as
// "SAME", "VALID" or [lo, hi] pairs; dimension numbers as three layout strings or axis lists)
// turned into the explicit params of the conv_general_dilated and reduce_window primitives.
import { describe } from "../core/convert.js";
import { JacobiError, ShapeError, fmtShape } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import * as E from "fp-ts/lib/Either.js";
import { type Validator, checkOptions, integers, positiveInteger } from "../core/validate.js";
import { add, maximum, minimum } from "../numpy/math.js";
import { resultType, toTensor } from "../numpy/promote.js";
import { type ConvParams, convGeneralDilatedPrim } from "../primitives/conv.js";
import { convertElementType, neg } from "../primitives/elementwise.js";
import { type WindowParams, maxIdentity, reduceWindowMax, reduceWindowSum } from "../primitives/reduce-window.js";

/** `"SAME"`, `"VALID"`, or one [lo, hi] pair per spatial dimension. */
export type Padding = "SAME" | "VALID" | readonly (readonly [number, number])[];

/** Layout strings as JAX's (`["NHWC", "HWIO", "NHWC"]`), or the axis lists of ConvDimensionNumbers. */
export type ConvDimensionNumbers =
  | readonly [string, string, string]
  | { lhsSpec: readonly number[]; rhsSpec: readonly number[]; outSpec: readonly number[] };

export interface ConvOptions {
  lhsDilation?: readonly number[];
  rhsDilation?: readonly number[];
  dimensionNumbers?: ConvDimensionNumbers;
  featureGroupCount?: number;
  batchGroupCount?: number;
}

/** Operands converted to their common dtype, shapes untouched. */
function promoteDTypes(where: string, args: unknown[]): Tensor[] {
  const xs = args.map((a, i) => toTensor(a, `${where}: ${i === 0 ? "lhs" : "rhs"}`));
  const [d, w] = resultType(xs, args);
  return xs.map((x) => (x.dtype === d ? x : convertElementType(x, d, w)));
}

/** Accepts any value: the option is checked where its meaning is known (its length needs the rank). */
const anyValue: Validator<unknown> = (v) => E.right(v);

function positiveInts(where: string, what: string, v: unknown, n: number): number[] {
  if (!Array.isArray(v) || v.length !== n || !v.every((x) => Number.isInteger(x) && x >= 1)) {
    throw new JacobiError(`${where}: ${what} must be a list of ${n} positive integers (one per spatial dimension), got ${describe(v)}`);
  }
  return [...v];
}

/** JAX's padtype_to_pads: "SAME" pads so that out = ceil(in / stride), the odd cell at the end. */
export function padsFor(where: string, padding: unknown, inShape: readonly number[], window: readonly number[], strides: readonly number[]): [number, number][] {
  if (padding === "VALID") return inShape.map(() => [0, 0]);
  if (padding === "SAME") {
    return inShape.map((d, i) => {
      const total = Math.max(0, (Math.ceil(d / strides[i]) - 1) * strides[i] + window[i] - d);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    });
  }
  const ok = Array.isArray(padding) && padding.length === inShape.length &&
    padding.every((p) => Array.isArray(p) && p.length === 2 && Number.isInteger(p[0]) && Number.isInteger(p[1]));
  if (!ok) throw new JacobiError(`${where}: padding must be "SAME", "VALID" or ${inShape.length} pairs [lo, hi] of integers, got ${describe(padding)}`);
  return (padding as [number, number][]).map(([lo, hi]) => [lo, hi]);
}

/** JAX's conv_general_permutations: each spec as [batch/out-feature, feature/in-feature, spatial in the rhs's order]. */
function parseDimensionNumbers(where: string, dn: unknown, ndim: number): [number[], number[], number[]] {
  const iota = Array.from({ length: ndim }, (_, i) => i);
  if (dn === undefined) return [iota, iota, iota];
  if (Array.isArray(dn) && dn.length === 3 && dn.every((s) => typeof s === "string")) {
    const [lhs, rhs, out] = dn as string[];
    const pairs: [string, string][] = [["N", "C"], ["O", "I"], ["N", "C"]];
    const spatialOf = (s: string, [a, b]: [string, string]) => [...s].filter((c) => c !== a && c !== b).sort().join("");
    [lhs, rhs, out].forEach((s, i) => {
      const [a, b] = pairs[i];
      if (s.length !== ndim) throw new ShapeError(`${where}: dimensionNumbers[${i}] ${JSON.stringify(s)} must have one letter per operand axis (${ndim})`);
      if (s.split(a).length !== 2 || s.split(b).length !== 2 || new Set(s).size !== s.length) {
        throw new JacobiError(`${where}: dimensionNumbers[${i}] ${JSON.stringify(s)} must contain '${a}' and '${b}' exactly once and no letter twice`);
      }
    });
    if (spatialOf(lhs, pairs[0]) !== spatialOf(rhs, pairs[1]) || spatialOf(out, pairs[2]) !== spatialOf(rhs, pairs[1])) {
      throw new JacobiError(`${where}: dimensionNumbers ${describe(dn)} must name the same spatial letters in all three layouts`);
    }
    const perm = (s: string, [a, b]: [string, string]) => {
      const spatial = [...rhs].filter((c) => c !== "O" && c !== "I").map((c) => s.indexOf(c));
      return [s.indexOf(a), s.indexOf(b), ...spatial];
    };
    return [perm(lhs, pairs[0]), perm(rhs, pairs[1]), perm(out, pairs[2])];
  }
  if (typeof dn === "object" && dn !== null && !Array.isArray(dn)) {
    const o = checkOptions(where + " dimensionNumbers", dn, { lhsSpec: integers, rhsSpec: integers, outSpec: integers });
    const specs = [o.lhsSpec, o.rhsSpec, o.outSpec].map((s) => (typeof s === "number" ? [s] : s));
    specs.forEach((s, i) => {
      const name = ["lhsSpec", "rhsSpec", "outSpec"][i];
      if (s === undefined || s.length !== ndim || [...s].sort((a, b) => a - b).some((x, j) => x !== j)) {
        throw new JacobiError(`${where}: dimensionNumbers.${name} must be a permutation of the ${ndim} operand axes, got ${describe(s)}`);
      }
    });
    return specs as [number[], number[], number[]];
  }
  throw new JacobiError(`${where}: dimensionNumbers must be three layout strings such as ["NCHW", "OIHW", "NCHW"] or { lhsSpec, rhsSpec, outSpec }, got ${describe(dn)}`);
}

/**
 * XLA's general dilated convolution (a cross-correlation, as JAX's): `lhs` the input, `rhs` the
 * kernel, laid out as `dimensionNumbers` say (default N C spatial..., O I spatial..., N C spatial...).
 */
export function convGeneralDilated(lhs: TensorLike, rhs: TensorLike, windowStrides: readonly number[], padding: Padding, opts: ConvOptions = {}): Tensor {
  const where = "lax.convGeneralDilated";
  const o = checkOptions(where, opts, {
    lhsDilation: anyValue,
    rhsDilation: anyValue,
    dimensionNumbers: anyValue,
    featureGroupCount: positiveInteger,
    batchGroupCount: positiveInteger,
  });
  const [l, r] = promoteDTypes(where, [lhs, rhs]);
  if (l.ndim !== r.ndim || l.ndim < 2) throw new ShapeError(`${where}: lhs and rhs must have the same rank, at least 2, got ${fmtShape(l.shape)} and ${fmtShape(r.shape)}`);
  const n = l.ndim - 2;
  const [lhsSpec, rhsSpec, outSpec] = parseDimensionNumbers(where, o.dimensionNumbers, l.ndim);
  const strides = positiveInts(where, "windowStrides", windowStrides, n);
  const ones = Array.from({ length: n }, () => 1);
  const lhsDilation = o.lhsDilation === undefined ? ones : positiveInts(where, "lhsDilation", o.lhsDilation, n);
  const rhsDilation = o.rhsDilation === undefined ? ones : positiveInts(where, "rhsDilation", o.rhsDilation, n);
  const window = rhsSpec.slice(2).map((a, i) => (r.shape[a] === 0 ? 0 : 1 + rhsDilation[i] * (r.shape[a] - 1)));
  const params: ConvParams = {
    windowStrides: strides,
    padding: padsFor(where, padding, lhsSpec.slice(2).map((a) => l.shape[a]), window, strides),
    lhsDilation,
    rhsDilation,
    lhsSpec,
    rhsSpec,
    outSpec,
    featureGroupCount: o.featureGroupCount ?? 1,
    batchGroupCount: o.batchGroupCount ?? 1,
  };
  return convGeneralDilatedPrim(l, r, params);
}

/** `convGeneralDilated` with the default layouts (N C spatial..., O I spatial...) and no dilation. */
export function conv(lhs: TensorLike, rhs: TensorLike, windowStrides: readonly number[], padding: Padding): Tensor {
  return convGeneralDilated(lhs, rhs, windowStrides, padding);
}

/** A monoid reduce_window understands: a name, or np.add / np.maximum / np.minimum themselves. */
export type WindowComputation = "sum" | "add" | "max" | "min" | ((a: any, b: any) => Tensor);

export interface ReduceWindowOptions {
  baseDilation?: readonly number[];
  windowDilation?: readonly number[];
}

const monoids = new Map<unknown, "sum" | "max" | "min">([
  ["sum", "sum"], ["add", "sum"], ["max", "max"], ["min", "min"],
  [add, "sum"], [maximum, "max"], [minimum, "min"],
]);

/**
 * JAX's lax.reduce_window for sum, max and min: `initValue` must be the monoid's identity (0,
 * -Infinity, +Infinity; for integers the dtype's extremes), which is also what padding reads as.
 */
export function reduceWindow(
  operand: TensorLike,
  initValue: number,
  computation: WindowComputation,
  windowDimensions: readonly number[],
  windowStrides: readonly number[],
  padding: Padding,
  opts: ReduceWindowOptions = {},
): Tensor {
  const where = "lax.reduceWindow";
  const o = checkOptions(where, opts, { baseDilation: integers, windowDilation: integers });
  const x = toTensor(operand, `${where}: operand`);
  const kind = monoids.get(computation);
  if (kind === undefined) throw new JacobiError(`${where}: computation must be "sum", "max", "min" or np.add / np.maximum / np.minimum, got ${describe(computation)}`);
  const n = x.ndim;
  const window = positiveInts(where, "windowDimensions", windowDimensions, n);
  const strides = positiveInts(where, "windowStrides", windowStrides, n);
  const ones = x.shape.map(() => 1);
  const baseDilation = o.baseDilation === undefined ? ones : positiveInts(where, "baseDilation", o.baseDilation, n);
  const windowDilation = o.windowDilation === undefined ? ones : positiveInts(where, "windowDilation", o.windowDilation, n);
  const float = x.dtype === "float64" || x.dtype === "float32";
  if (kind === "min" && !float) throw new JacobiError(`${where}: min windows need a float operand, got ${x.dtype}`);
  const identity = kind === "sum" ? 0 : kind === "max" ? maxIdentity(x.dtype) : Infinity;
  if (initValue !== identity) {
    throw new JacobiError(`${where}: initValue must be the identity of ${kind} for ${x.dtype} (${identity}), got ${describe(initValue)}; other initial values are not supported`);
  }
  const params: WindowParams = { window, strides, padding: padsFor(where, padding, x.shape, window, strides), baseDilation, windowDilation };
  if (kind === "sum") return reduceWindowSum(x, params);
  if (kind === "max") return reduceWindowMax(x, params);
  return neg(reduceWindowMax(neg(x), params));
}

export const laxConv = { convGeneralDilated, conv, reduceWindow };
