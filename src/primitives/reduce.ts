import { reduce } from "../backend/index.js";
import { ShapeError, fmtShape } from "../core/errors.js";
import { type Primitive, definePrimitive } from "../core/primitive.js";
import { ShapedArray } from "../core/shaped-array.js";
import type { Tensor } from "../core/tensor.js";
import { bind1 } from "../core/trace.js";
import { add, convertElementType, div, eq, mul } from "./elementwise.js";
import { reductionCost, reduction } from "./metadata.js";
import { defjvp, frontBatch, linearJvp, linearTranspose, reducerBatch } from "./rule-helpers.js";
import { broadcastInDim, pad, reshape, slice, transpose } from "./shape.js";
import { zerosLike } from "./util.js";
import { onnxCast, onnxReduce } from "./onnx-rules.js";
import { reductionSparsity } from "../interpreters/sparsity.js";

type AxesParams = { axes: number[] };

function checkAxes(name: string, x: ShapedArray, axes: number[]): void {
  for (const a of axes) {
    if (!Number.isInteger(a) || a < 0 || a >= x.ndim) throw new ShapeError(`${name}: axis ${a} is out of bounds for shape ${fmtShape(x.shape)}`);
  }
  if (new Set(axes).size !== axes.length) throw new ShapeError(`${name}: repeated axis in ${JSON.stringify(axes)}`);
}
const keptDims = (ndim: number, axes: number[]): number[] => Array.from({ length: ndim }, (_, i) => i).filter((i) => !axes.includes(i));

function reduceAval(name: string, [x]: ShapedArray[], { axes }: AxesParams): ShapedArray[] {
  checkAxes(name, x, axes);
  return [new ShapedArray(x.shape.filter((_, i) => !axes.includes(i)), x.dtype, x.weakType)];
}

/** Broadcasts a reduced value back over the reduced axes of `like`. */
function unreduce(y: Tensor, like: { shape: readonly number[] }, axes: number[]): Tensor {
  return broadcastInDim(y, like.shape, keptDims(like.shape.length, axes));
}

export const reduceSumP: Primitive<AxesParams> = definePrimitive("reduce_sum", (self) => ({
  impl: ([x], { axes }, [o]) => [reduce("sum", x, axes, o.dtype)],
  abstractEval: (avals, p) => reduceAval("reduce_sum", avals, p),
  jvp: linearJvp(self),
  transpose: linearTranspose((ct, [x], { axes }) => [unreduce(ct, x.aval, axes)]),
  batch: reducerBatch(self),
  linear: true,
  cost: reductionCost,
  notation: reduction("sum"),
  sparsity: reductionSparsity,
  onnx: onnxReduce("ReduceSum"),
}));
export const reduceSum = (x: Tensor, axes: number[]): Tensor => (axes.length === 0 ? x : bind1(reduceSumP, [x], { axes }));

/** max/min: the tangent is averaged over the positions that attain the extreme (ties split evenly). */
function extremeJvp(self: Primitive<AxesParams>) {
  return defjvp(self, (t, [x], out, { axes }) => {
    const mask = convertElementType(eq(x, unreduce(out, x, axes)), x.dtype);
    return div(reduceSum(mul(t, mask), axes), reduceSum(mask, axes));
  });
}
export const reduceMaxP: Primitive<AxesParams> = definePrimitive("reduce_max", (self) => ({
  impl: ([x], { axes }, [o]) => [reduce("max", x, axes, o.dtype)],
  abstractEval: (avals, p) => reduceAval("reduce_max", avals, p),
  jvp: extremeJvp(self),
  batch: reducerBatch(self),
  cost: reductionCost,
  notation: reduction("max"),
  sparsity: reductionSparsity,
  onnx: onnxReduce("ReduceMax"),
}));
export const reduceMax = (x: Tensor, axes: number[]): Tensor => bind1(reduceMaxP, [x], { axes });
export const reduceMinP: Primitive<AxesParams> = definePrimitive("reduce_min", (self) => ({
  impl: ([x], { axes }, [o]) => [reduce("min", x, axes, o.dtype)],
  abstractEval: (avals, p) => reduceAval("reduce_min", avals, p),
  jvp: extremeJvp(self),
  batch: reducerBatch(self),
  cost: reductionCost,
  notation: reduction("min"),
  sparsity: reductionSparsity,
  onnx: onnxReduce("ReduceMin"),
}));
export const reduceMin = (x: Tensor, axes: number[]): Tensor => bind1(reduceMinP, [x], { axes });

export const reduceProdP: Primitive<AxesParams> = definePrimitive("reduce_prod", (self) => ({
  impl: ([x], { axes }, [o]) => [reduce("prod", x, axes, o.dtype)],
  abstractEval: (avals, p) => reduceAval("reduce_prod", avals, p),
  jvp: defjvp(self, (t, [x], _out, { axes }) => prodTangent(x, t, axes)),
  batch: reducerBatch(self),
  cost: reductionCost,
  notation: reduction("prod"),
  sparsity: reductionSparsity,
  onnx: onnxReduce("ReduceProd"),
}));
export const reduceProd = (x: Tensor, axes: number[]): Tensor => bind1(reduceProdP, [x], { axes });

/**
 * The tangent of a product, multiplied out pairwise (as JAX does): only mul, add, slice, pad and
 * reshape, so every higher derivative is exact, at zeros too (dividing by x is not).
 */
function prodTangent(x: Tensor, t: Tensor, axes: number[]): Tensor {
  const kept = keptDims(x.ndim, axes);
  const rest = kept.map((a) => x.shape[a]);
  const n = axes.reduce((s, a) => s * x.shape[a], 1);
  if (n === 0) return zerosLike({ aval: new ShapedArray(rest, x.dtype) });
  const flat = (v: Tensor) => reshape(transpose(v, [...axes, ...kept]), [n, ...rest]);
  // Halve the factors each round: products of pairs, and their tangents by the product rule.
  let products = flat(x), tangents = flat(t);
  const zeros = rest.map(() => 0);
  while (products.shape[0] > 1) {
    let count = products.shape[0];
    if (count % 2 === 1) {
      products = pad(products, 1, [0, ...zeros], [1, ...zeros]);
      tangents = pad(tangents, 0, [0, ...zeros], [1, ...zeros]);
      count += 1;
    }
    const lo = (v: Tensor) => slice(v, [0, ...zeros], [count / 2, ...rest]);
    const hi = (v: Tensor) => slice(v, [count / 2, ...zeros], [count, ...rest]);
    tangents = add(mul(lo(tangents), hi(products)), mul(lo(products), hi(tangents)));
    products = mul(lo(products), hi(products));
  }
  return reshape(tangents, rest);
}

type ArgParams = { axis: number };
function argPrim(name: "argmax" | "argmin"): Primitive<ArgParams> {
  return definePrimitive(name, (self) => ({
    impl: ([x], { axis }, [o]) => [reduce(name, x, [axis], o.dtype)],
    abstractEval: ([x], { axis }) => {
      checkAxes(name, x, [axis]);
      if (x.shape[axis] === 0) throw new ShapeError(`${name}: cannot take ${name} of an empty axis ${axis} of shape ${fmtShape(x.shape)}`);
      return [new ShapedArray(x.shape.filter((_, i) => i !== axis), "int32")];
    },
    differentiable: false,
    batch: frontBatch(self, ({ axis }) => ({ axis: axis + 1 })),
    cost: reductionCost,
    onnx: (ctx, [x], { axis }) => [onnxCast(ctx, ctx.node(name === "argmax" ? "ArgMax" : "ArgMin", [x], { axis: { i: axis }, keepdims: { i: 0 } })[0], "int32")],
  }));
}
export const argmaxP = argPrim("argmax");
export const argminP = argPrim("argmin");
export const argmax = (x: Tensor, axis: number): Tensor => bind1(argmaxP, [x], { axis });
export const argmin = (x: Tensor, axis: number): Tensor => bind1(argminP, [x], { axis });
