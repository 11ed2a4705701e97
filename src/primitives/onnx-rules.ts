// ONNX lowerings shared by many primitives (their `onnx` fields). Shapes are static, so shape
// operands are constants.
import type { DType } from "../core/dtype.js";
import { JacobiError } from "../core/errors.js";
import type { OnnxLowering, OnnxRule } from "../core/onnx-lowering.js";
import type { Params } from "../core/primitive.js";
import type { ShapedArray } from "../core/shaped-array.js";

/** One ONNX operator applied to the inputs as they are. */
export const onnxOp = (op: string): OnnxRule<Params> => (ctx, ins) => ctx.node(op, ins);

/** An ONNX operator followed by Not (for `ne`). */
export const onnxNot = (op: string): OnnxRule<Params> => (ctx, ins) => ctx.node("Not", ctx.node(op, ins));

/** A constant int64 vector (shapes, axes, pads). */
export const int64s = (ctx: OnnxLowering, v: readonly number[]): string => ctx.constant(v, "int64", [v.length]);

/** `x` reshaped to the (static) output shape: reshape, squeeze, expand_dims. */
export const onnxReshape: OnnxRule<Params> = (ctx, [x], _p, _ins, [o]) => ctx.node("Reshape", [x, int64s(ctx, o.shape)]);

/** Cast to a dtype. */
export const onnxCast = (ctx: OnnxLowering, x: string, d: DType | "int64"): string => ctx.node("Cast", [x], { to: { i: ctx.dtypeCode(d) } })[0];

/** A reduction over `axes` without kept dimensions; ReduceSum takes its axes as an input from opset 13, the others from 18. */
export function onnxReduce(op: string): OnnxRule<Params & { axes: number[] }> {
  const reduce = (ctx: OnnxLowering, x: string, axes: number[]): string => {
    if (op === "ReduceSum" || ctx.opset >= 18) return ctx.node(op, [x, int64s(ctx, axes)], { keepdims: { i: 0 } })[0];
    return ctx.node(op, [x], { axes: { ints: axes }, keepdims: { i: 0 } })[0];
  };
  return (ctx, [x], { axes }, [xin]) => {
    if (axes.length === 0) return ctx.node("Identity", [x]);
    // ONNX Runtime has no uint32 kernels for these: reduce in int64, where every uint32 fits.
    if (xin.dtype === "uint32") return [onnxCast(ctx, reduce(ctx, onnxCast(ctx, x, "int64"), axes), "uint32")];
    return [reduce(ctx, x, axes)];
  };
}

/** x^y for a static integer y, as the same chain of products as the built-in kernel (1/(x...x) for y < 0). */
export const onnxIntegerPow: OnnxRule<{ y: number }> = (ctx, [x], { y }, _ins, [o]) => {
  if (y === 0) return [ctx.constant(new Array<number>(o.size).fill(1), o.dtype, o.shape)];
  let acc = x;
  for (let k = 1; k < Math.abs(y); k++) acc = ctx.node("Mul", [acc, x])[0];
  return y > 0 ? ctx.node("Identity", [acc]) : ctx.node("Reciprocal", [acc]);
};


/** dot_general as MatMul when it is a plain matrix product, Einsum otherwise. */
export const onnxDotGeneral: OnnxRule<{ contract: [number[], number[]]; batch: [number[], number[]] }> = (ctx, [a, b], { contract: [lc, rc], batch: [lb, rb] }, [l, r]) => {
  const plain = lb.length === 0 && lc.length === 1 && lc[0] === l.ndim - 1 && rc[0] === 0 && l.ndim <= 2 && r.ndim <= 2;
  if (plain) return ctx.node("MatMul", [a, b]);
  const letters = "abcdefghijklmnopqrstuvwxyz";
  let next = 0;
  const ls = new Array<string>(l.ndim), rs = new Array<string>(r.ndim);
  lb.forEach((d, i) => (ls[d] = rs[rb[i]] = letters[next++]));
  lc.forEach((d, i) => (ls[d] = rs[rc[i]] = letters[next++]));
  for (let d = 0; d < l.ndim; d++) ls[d] ??= letters[next++];
  for (let d = 0; d < r.ndim; d++) rs[d] ??= letters[next++];
  const out = [...lb.map((d) => ls[d]), ...ls.filter((_, d) => !lb.includes(d) && !lc.includes(d)), ...rs.filter((_, d) => !rb.includes(d) && !rc.includes(d))];
  return ctx.node("Einsum", [a, b], { equation: { s: `${ls.join("")},${rs.join("")}->${out.join("")}` } });
};

/** broadcast_in_dim: a reshape inserting the new axes as 1s, then Expand to the output shape. */
export const onnxBroadcastInDim: OnnxRule<{ shape: number[]; broadcastDimensions: number[] }> = (ctx, [x], { shape, broadcastDimensions }, [xin]: readonly ShapedArray[]) => {
  const mid = shape.map(() => 1);
  broadcastDimensions.forEach((d, i) => (mid[d] = xin.shape[i]));
  const r = ctx.node("Reshape", [x, int64s(ctx, mid)])[0];
  return ctx.node("Expand", [r, int64s(ctx, shape)]);
};

/** pad without interior padding (ONNX Pad has none). */
export const onnxPad: OnnxRule<{ lo: number[]; hi: number[]; interior: number[]; value: number }> = (ctx, [x], { lo, hi, interior, value }, [xin]) => {
  if (interior.some((d) => d !== 0)) throw new JacobiError(`exportOnnx: pad with interior padding ${JSON.stringify(interior)} has no ONNX lowering`);
  return ctx.node("Pad", [x, int64s(ctx, [...lo, ...hi]), ctx.constant([value], xin.dtype, [])]);
};
