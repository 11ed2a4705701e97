import { asTensor } from "../core/convert.js";
import { type DType, isFloat, promoteTypes } from "../core/dtype.js";
import { ShapeError, fmtShape } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { convertElementType } from "../primitives/elementwise.js";
import { broadcastInDim } from "../primitives/shape.js";

export const T = (x: TensorLike | unknown, where = "argument"): Tensor => asTensor(x, where);

/** NumPy broadcasting of shapes; the error names the operation and every shape as passed. */
export function broadcastShapes(name: string, shapes: readonly (readonly number[])[]): number[] {
  const nd = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < nd; i++) {
    let d = 1;
    for (const s of shapes) {
      const k = s.length - nd + i;
      const n = k < 0 ? 1 : s[k];
      if (n === 1) continue;
      if (d !== 1 && d !== n) throw new ShapeError(`${name}: cannot broadcast shapes ${shapes.map(fmtShape).join(" and ")}`);
      d = n;
    }
    out.push(d);
  }
  return out;
}

export function broadcastTo(x: Tensor, shape: readonly number[], name = "broadcastTo"): Tensor {
  if (x.ndim > shape.length) throw new ShapeError(`${name}: cannot broadcast shape ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  const lead = shape.length - x.ndim;
  x.shape.forEach((n, i) => {
    if (n !== 1 && n !== shape[lead + i]) throw new ShapeError(`${name}: cannot broadcast shape ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  });
  return broadcastInDim(x, shape, x.shape.map((_, i) => lead + i));
}

/** Result dtype of several operands under weak typing. */
export function resultType(xs: Tensor[]): [DType, boolean] {
  let [d, w] = [xs[0].dtype, xs[0].weakType];
  for (let i = 1; i < xs.length; i++) [d, w] = promoteTypes(d, w, xs[i].dtype, xs[i].weakType);
  return [d, w];
}

/** Converts operands to their common dtype (optionally at least floating) and broadcasts them. */
export function promoteArgs(name: string, args: unknown[], opts: { float?: boolean } = {}): Tensor[] {
  const xs = args.map((a, i) => T(a, `${name}: argument ${i}`));
  let [d, w] = resultType(xs);
  if (opts.float && !isFloat(d)) [d, w] = ["float64", false];
  const shape = broadcastShapes(name, xs.map((x) => x.shape));
  return xs.map((x) => broadcastTo(x.dtype === d ? x : convertElementType(x, d, w), shape, name));
}

export function toFloat(x: Tensor): Tensor {
  return isFloat(x.dtype) ? x : convertElementType(x, "float64");
}
