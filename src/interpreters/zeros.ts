// Symbolic zeros and the constants that replace them when a value is needed: every interpreter
// (and the rules above them) shares these.
import { filled } from "../backend/index.js";
import type { DType } from "../core/dtype.js";
import { type Tangent, Zero } from "../core/primitive.js";
import { ShapedArray } from "../core/shaped-array.js";
import { ArrayTensor, type Tensor } from "../core/tensor.js";

/** A concrete constant of `shape` that stores one element (all strides zero). */
export function full(shape: readonly number[], value: number, dtype: DType): Tensor {
  return new ArrayTensor(filled(shape, value, dtype), new ShapedArray(shape, dtype));
}
export const fullLike = (x: { aval: ShapedArray }, value: number): Tensor => full(x.aval.shape, value, x.aval.dtype);
export const zerosLike = (x: { aval: ShapedArray }): Tensor => fullLike(x, 0);

export const isZero = (t: Tangent | null | undefined): t is Zero => t instanceof Zero;
export const instantiate = (t: Tangent): Tensor => (t instanceof Zero ? zerosLike(t) : t);
/** Symbolic zero tangents for `outs`. */
export const zeroTangents = (outs: readonly Tensor[]): Tangent[] => outs.map((o) => new Zero(o.aval.strong()));
