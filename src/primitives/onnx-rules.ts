// ONNX lowerings shared by many primitives (their `onnx` fields). Shapes are static, so shape
// operands are constants.
import type { DType } from "../core/dtype.js";
import { JacobiError } from "../core/errors.js";
import type { OnnxLowering, OnnxRule, OnnxValueType } from "../core/onnx-lowering.js";
import type { Params } from "../core/primitive.js";
import type { ShapedArray } from "../core/shaped-array.js";
import type { GatherParams, ScatterParams } from "./gather.js";

/**
 * Operators ONNX defines for double but ONNX Runtime implements for float only: in float64, tan and
 * cosh are written through Sin/Cos and Exp (within a few ulps); the others have no faithful
 * rewrite and are refused rather than exported as a model ONNX Runtime cannot load.
 */
const FLOAT32_ONLY: Record<string, ((ctx: OnnxLowering, x: string) => string) | null> = {
  Tan: (ctx, x) => ctx.node("Div", [ctx.node("Sin", [x])[0], ctx.node("Cos", [x])[0]])[0],
  Cosh: (ctx, x) => {
    const sum = ctx.node("Add", [ctx.node("Exp", [x])[0], ctx.node("Exp", [ctx.node("Neg", [x])[0]])[0]])[0];
    return ctx.node("Mul", [sum, ctx.constant([0.5], "float64", [])])[0];
  },
  Asin: null,
  Acos: null,
  Atan: null,
  Sinh: null,
  Erf: null,
};

/** One ONNX operator applied to the inputs as they are. */
export const onnxOp = (op: string): OnnxRule<Params> => (ctx, ins, _p, inAvals) => {
  const rewrite = FLOAT32_ONLY[op];
  if (rewrite === undefined || inAvals[0].dtype !== "float64") return ctx.node(op, ins);
  if (rewrite === null) throw new JacobiError(`exportOnnx: ${op} has no float64 kernel in ONNX Runtime; export it in float32 or compose it from other operations`);
  return [rewrite(ctx, ins[0])];
};

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

const typeOf = (a: ShapedArray, drop = 0): OnnxValueType => ({ dtype: a.dtype, shape: a.shape.slice(drop) });

/**
 * cond as nested Ifs: `index <= k` picks branch k, the last branch takes the rest (the index is
 * clamped, as the built-in impl does). The branches read the operands from the enclosing graph.
 */
export const onnxCond: OnnxRule<{ branches: unknown[] }> = (ctx, [index, ...ops], { branches }, _ins, outs) => {
  const types = outs.map((o) => typeOf(o));
  const from = (g: OnnxLowering, k: number): string[] => {
    if (k === branches.length - 1) return g.call(branches[k], ops);
    const pick = g.node("LessOrEqual", [index, g.constant([k], "int32", [])])[0];
    const then = g.subgraph([], (sub) => ({ outputs: sub.call(branches[k], ops), types }));
    const other = g.subgraph([], (sub) => ({ outputs: from(sub, k + 1), types }));
    return g.node("If", [pick], { then_branch: { g: then }, else_branch: { g: other } }, outs.length);
  };
  return from(ctx, 0);
};

/** while as a Loop without a trip count: the body runs body_jaxpr, then cond_jaxpr on its result. */
export const onnxWhile: OnnxRule<{ condJaxpr: unknown; bodyJaxpr: unknown; condNconsts: number; bodyNconsts: number }> = (ctx, args, p, _ins, outs) => {
  const condConsts = args.slice(0, p.condNconsts), bodyConsts = args.slice(p.condNconsts, p.condNconsts + p.bodyNconsts);
  const init = args.slice(p.condNconsts + p.bodyNconsts);
  const types = outs.map((o) => typeOf(o));
  const first = ctx.call(p.condJaxpr, [...condConsts, ...init])[0];
  const body = ctx.subgraph([{ dtype: "int64", shape: [] }, { dtype: "bool", shape: [] }, ...types], (sub, [, , ...carry]) => {
    const next = sub.call(p.bodyJaxpr, [...bodyConsts, ...carry]);
    const more = sub.call(p.condJaxpr, [...condConsts, ...next])[0];
    return { outputs: [more, ...next], types: [{ dtype: "bool", shape: [] }, ...types] };
  });
  return ctx.node("Loop", ["", first, ...init], { body: { g: body } }, outs.length);
};

/** scan as a Loop of `length` iterations whose scan outputs stack the ys; step t reads xs[t] with Gather. */
export const onnxScan: OnnxRule<{ jaxpr: unknown; length: number; reverse: boolean; numConsts: number; numCarry: number }> = (ctx, args, p, _ins, outs) => {
  const consts = args.slice(0, p.numConsts), init = args.slice(p.numConsts, p.numConsts + p.numCarry), xs = args.slice(p.numConsts + p.numCarry);
  const carryTypes = outs.slice(0, p.numCarry).map((o) => typeOf(o));
  const yTypes = outs.slice(p.numCarry).map((o) => typeOf(o, 1));
  const body = ctx.subgraph([{ dtype: "int64", shape: [] }, { dtype: "bool", shape: [] }, ...carryTypes], (sub, [i, go, ...carry]) => {
    const t = p.reverse ? sub.node("Sub", [sub.constant([p.length - 1], "int64", []), i])[0] : i;
    const xt = xs.map((x) => sub.node("Gather", [x, t], { axis: { i: 0 } })[0]);
    const stepOuts = sub.call(p.jaxpr, [...consts, ...carry, ...xt]);
    return { outputs: [go, ...stepOuts], types: [{ dtype: "bool", shape: [] }, ...carryTypes, ...yTypes] };
  });
  const loop = ctx.node("Loop", [ctx.constant([p.length], "int64", []), ctx.constant([1], "bool", []), ...init], { body: { g: body } }, outs.length);
  if (!p.reverse) return loop;
  // Stacked in iteration order: a reverse scan's ys are flipped back to index order.
  const flip = (y: string): string => ctx.node("Slice", [y, int64s(ctx, [-1]), int64s(ctx, [-(2 ** 53)]), int64s(ctx, [0]), int64s(ctx, [-1])])[0];
  return [...loop.slice(0, p.numCarry), ...loop.slice(p.numCarry).map(flip)];
};

/**
 * gather where it is ONNX's Gather along axis 0: whole rows of the operand picked by an index array
 * (x[i], embedding lookups, take along the first axis). The index is clamped ("clip") or the
 * rows out of range filled ("fill"), as the built-in kernel does; other gathers are refused.
 */
export const onnxGather: OnnxRule<GatherParams> = (ctx, [x, i], p, [xin, iin], [o]) => {
  const r = xin.ndim, b = iin.ndim - 1;
  const rows =
    p.startIndexMap.length === 1 && p.startIndexMap[0] === 0 && p.collapsedSliceDims.length === 1 && p.collapsedSliceDims[0] === 0 &&
    p.sliceSizes[0] === 1 && p.sliceSizes.every((s, d) => d === 0 || s === xin.shape[d]) && p.offsetDims.every((d, k) => d === b + k);
  if (!rows) throw new JacobiError(`exportOnnx: the primitive "gather" has an ONNX lowering for whole-row gathers along axis 0 only (got ${JSON.stringify(p)})`);
  const n = xin.shape[0];
  const idx = ctx.node("Reshape", [i, int64s(ctx, iin.shape.slice(0, b))])[0];
  const clamped = ctx.node("Max", [ctx.node("Min", [idx, ctx.constant([n - 1], iin.dtype, [])])[0], ctx.constant([0], iin.dtype, [])])[0];
  const picked = ctx.node("Gather", [x, clamped], { axis: { i: 0 } })[0];
  if (p.mode === "clip") return [picked];
  // Rows whose index was out of range are the fill value: the mask is broadcast over the row axes.
  const inRange = ctx.node("Equal", [idx, clamped])[0];
  const mask = ctx.node("Reshape", [inRange, int64s(ctx, [...iin.shape.slice(0, b), ...new Array<number>(r - 1).fill(1)])])[0];
  return ctx.node("Where", [mask, picked, ctx.constant([p.fillValue], o.dtype, [])]);
};

/** cumsum as ONNX CumSum along the (int32 constant) axis, reversed when asked. */
export const onnxCumsum: OnnxRule<{ axis: number; reverse: boolean }> = (ctx, [x], { axis, reverse }) =>
  ctx.node("CumSum", [x, ctx.constant([axis], "int32", [])], { reverse: { i: reverse ? 1 : 0 } });

/**
 * scatter_add of whole rows along axis 0 (the transpose of the row gather: gradients of x[i] and
 * embedding lookups) as ScatterND with reduction "add" (opset 16 on). Indices are clamped ("clip"),
 * or updates of out-of-range rows replaced by zeros ("fill" drops them); other scatters are refused.
 */
export const onnxScatterAdd: OnnxRule<ScatterParams> = (ctx, [x, i, u], p, [xin, iin, uin]) => {
  const b = iin.ndim - 1;
  const rows =
    p.scatterDimsToOperandDims.length === 1 && p.scatterDimsToOperandDims[0] === 0 && p.insertedWindowDims.length === 1 && p.insertedWindowDims[0] === 0 &&
    p.updateWindowDims.every((d, k) => d === b + k) && p.updateWindowDims.length === xin.ndim - 1;
  if (!rows || ctx.opset < 16) {
    throw new JacobiError(`exportOnnx: the primitive "scatter_add" has an ONNX lowering for whole-row scatters along axis 0 from opset 16 only (got ${JSON.stringify(p)}, opset ${ctx.opset})`);
  }
  const n = xin.shape[0];
  const clamped = ctx.node("Max", [ctx.node("Min", [i, ctx.constant([n - 1], iin.dtype, [])])[0], ctx.constant([0], iin.dtype, [])])[0];
  let updates = u;
  if (p.mode === "fill") {
    const idx = ctx.node("Reshape", [i, int64s(ctx, iin.shape.slice(0, b))])[0];
    const inRange = ctx.node("Equal", [idx, ctx.node("Reshape", [clamped, int64s(ctx, iin.shape.slice(0, b))])[0]])[0];
    const mask = ctx.node("Reshape", [inRange, int64s(ctx, [...iin.shape.slice(0, b), ...new Array<number>(xin.ndim - 1).fill(1)])])[0];
    updates = ctx.node("Where", [mask, u, ctx.constant([0], uin.dtype, [])])[0];
  }
  return ctx.node("ScatterND", [x, onnxCast(ctx, clamped, "int64"), updates], { reduction: { s: "add" } });
};
