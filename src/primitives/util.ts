import { filled } from "../backend/ndarray-view.js";
import type { DType } from "../core/dtype.js";
import { DTypeError, ShapeError, fmtShape } from "../core/errors.js";
import { type Tangent, Zero } from "../core/primitive.js";
import { ShapedArray, sameShape } from "../core/shaped-array.js";
import { ArrayTensor, type Tensor } from "../core/tensor.js";

/** A concrete constant of `shape` that stores one element (all strides zero). */
export function full(shape: readonly number[], value: number, dtype: DType): Tensor {
  return new ArrayTensor(filled(shape, value, dtype), new ShapedArray(shape, dtype));
}
export const fullLike = (x: { aval: ShapedArray }, value: number): Tensor => full(x.aval.shape, value, x.aval.dtype);
export const zerosLike = (x: { aval: ShapedArray }): Tensor => fullLike(x, 0);

export const isZero = (t: Tangent | null | undefined): t is Zero => t instanceof Zero;
export const instantiate = (t: Tangent): Tensor => (t instanceof Zero ? zerosLike(t) : t);

export function sameAval([x]: ShapedArray[]): ShapedArray[] {
  return [x];
}

export function checkSameShapes(name: string, avals: ShapedArray[]): void {
  for (let i = 1; i < avals.length; i++) {
    if (!sameShape(avals[0].shape, avals[i].shape)) {
      throw new ShapeError(`${name}: operands must have equal shapes, got ${avals.map((a) => fmtShape(a.shape)).join(" and ")}`);
    }
  }
}

export function checkSameDTypes(name: string, avals: ShapedArray[]): void {
  for (let i = 1; i < avals.length; i++) {
    if (avals[0].dtype !== avals[i].dtype) {
      throw new DTypeError(`${name}: operands must have equal dtypes, got ${avals.map((a) => a.dtype).join(" and ")}`);
    }
  }
}

/** Output of a shape-strict n-ary op: weak only when every input is weak. */
export function naryAval(name: string, avals: ShapedArray[], dtype?: DType): ShapedArray {
  checkSameShapes(name, avals);
  checkSameDTypes(name, avals);
  const a0 = avals[0], d = dtype ?? a0.dtype, weak = avals.every((a) => a.weakType);
  // Reused when it already describes the output: one aval fewer kept alive per recorded equation.
  return a0.dtype === d && a0.weakType === weak ? a0 : new ShapedArray(a0.shape, d, weak);
}
