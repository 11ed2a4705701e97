import { asTensor, jsIntegerKind } from "../core/convert.js";
import { type DType, MAX_BUFFER_BYTES, checkAllocation, isFloat, promoteTypes } from "../core/dtype.js";
import { ShapeError, fmtShape } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { convertElementType } from "../primitives/elementwise.js";
import { broadcastInDim } from "../primitives/shape.js";

/** An argument as a Tensor (JS numbers, nested lists and typed arrays converted); `where` names it in errors. */
export const toTensor = (x: TensorLike | unknown, where = "argument"): Tensor => asTensor(x, where);
/** @deprecated The one-letter name of `toTensor`, kept until the modules outside numpy/ use that. */
export const T = toTensor;

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

/**
 * Result dtype of several operands under weak typing. `raws` are the arguments as the user passed
 * them: a JS integer next to a strong int32/bool operand is a weak int, so `int32 + 1` stays int32
 * and `bool + 1` is int32 (JAX's weak Python int), while `int32 + 1.5` becomes float64.
 */
export function resultType(xs: Tensor[], raws?: readonly unknown[]): [DType, boolean] {
  const strongInt = raws !== undefined && xs.some((x) => !x.weakType && !isFloat(x.dtype));
  const kind = (i: number): [DType, boolean] => {
    const r = raws?.[i];
    const k = strongInt ? jsIntegerKind(r) : 0;
    const weakInt = k === 1 || (k === 2 && xs.some((x) => x.dtype === "uint32"));
    return weakInt ? ["int32", true] : [xs[i].dtype, xs[i].weakType];
  };
  let [d, w] = kind(0);
  for (let i = 1; i < xs.length; i++) [d, w] = promoteTypes(d, w, ...kind(i));
  return [d, w];
}

/** Converts operands to their common dtype (optionally at least floating) and broadcasts them. */
export function promoteArgs(name: string, args: unknown[], opts: { float?: boolean } = {}): Tensor[] {
  const xs = args.map((a, i) => toTensor(a, `${name}: argument ${i}`));
  let [d, w] = resultType(xs, args);
  if (opts.float && !isFloat(d)) [d, w] = ["float64", false];
  const shape = broadcastShapes(name, xs.map((x) => x.shape));
  checkResultSize(name, xs, shape, d);
  return xs.map((x) => broadcastTo(x.dtype === d ? x : convertElementType(x, d, w), shape, name));
}

/** Fails before any work when the broadcast result could not be allocated, naming every input shape. */
export function checkResultSize(name: string, xs: Tensor[], shape: readonly number[], d: DType): void {
  let n = 8;
  for (const s of shape) n *= s;
  if (n > MAX_BUFFER_BYTES) checkAllocation(n / 8, d, `${name} of shapes ${xs.map((x) => fmtShape(x.shape)).join(" and ")}`, shape);
}

export function toFloat(x: Tensor): Tensor {
  return isFloat(x.dtype) ? x : convertElementType(x, "float64");
}
