import { type DType, shortName } from "./dtype.js";

/** The abstract value of an array: shape, dtype and whether its type is weak (from a JS number). */
export class ShapedArray {
  readonly size: number;
  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly weakType = false,
  ) {
    let n = 1;
    for (const d of shape) n *= d;
    this.size = n;
  }
  get ndim(): number {
    return this.shape.length;
  }
  str(): string {
    return `${shortName(this.dtype)}[${this.shape.join(",")}]`;
  }
  equals(o: ShapedArray): boolean {
    return this.dtype === o.dtype && sameShape(this.shape, o.shape);
  }
  strong(): ShapedArray {
    return this.weakType ? new ShapedArray(this.shape, this.dtype, false) : this;
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
