import { type DType, isFloat } from "../core/dtype.js";
import { DTypeError, ShapeError, fmtShape } from "../core/errors.js";
import { ShapedArray, sameShape } from "../core/shaped-array.js";

// Constants and symbolic zeros live with the interpreters; re-exported for the primitives and
// the modules above them that import them from here.
export { full, fullLike, instantiate, isZero, zerosLike } from "../interpreters/zeros.js";

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

/** The abstract evaluation of an n-ary elementwise primitive: operands of equal shapes and dtypes, the output theirs. */
export function naryAvals(name: string): (avals: ShapedArray[]) => ShapedArray[] {
  return (avals) => [naryAval(name, avals)];
}

/** The abstract evaluation of a unary primitive defined on floating-point inputs only. */
export function floatAval(name: string): (avals: ShapedArray[]) => ShapedArray[] {
  return (avals) => {
    if (!isFloat(avals[0].dtype)) throw new DTypeError(`${name}: expected a floating-point input, got ${avals[0].dtype}`);
    return sameAval(avals);
  };
}
