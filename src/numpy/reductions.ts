import { ShapeError, fmtShape } from "../core/errors.js";
import { isFloat } from "../core/dtype.js";
import { boolean, checkOptions } from "../core/validate.js";
import type { Axis, ReduceOpts, Tensor, TensorLike } from "../core/tensor.js";
import * as elementwiseOps from "../primitives/elementwise.js";
import * as reductionOps from "../primitives/reduce.js";
import { reshape } from "../primitives/shape.js";
import { full } from "../primitives/util.js";
import { toTensor } from "./promote.js";

/** Normalizes `axis` (a number, a list, or null/undefined for all) against `ndim`. */
export function normAxes(name: string, axis: Axis, shape: readonly number[]): number[] {
  const ndim = shape.length;
  if (axis === null || axis === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = Array.isArray(axis) ? axis : [axis];
  const out = list.map((a) => {
    if (!Number.isInteger(a) || a < -ndim || a >= ndim) throw new ShapeError(`${name}: axis ${a} is out of bounds for shape ${fmtShape(shape)}`);
    return a < 0 ? a + ndim : a;
  });
  if (new Set(out).size !== out.length) throw new ShapeError(`${name}: repeated axis in ${JSON.stringify(list)}`);
  return out.sort((a, b) => a - b);
}

const REDUCE_OPTIONS = { keepdims: boolean };

/** The reduced `y`, with the reduced axes kept as size 1 when `keepdims` is asked for. */
function keep(y: Tensor, shape: readonly number[], axes: number[], keepdims: boolean | undefined): Tensor {
  if (!keepdims) return y;
  return reshape(y, shape.map((d, i) => (axes.includes(i) ? 1 : d)));
}

const sumLike = (name: string, f: (x: Tensor, axes: number[]) => Tensor) => (x: TensorLike, axis?: Axis, opts?: ReduceOpts): Tensor => {
  const { keepdims } = checkOptions(name, opts, REDUCE_OPTIONS);
  let t = toTensor(x, `${name}: argument 0`);
  if (t.dtype === "bool") t = elementwiseOps.convertElementType(t, "int32");
  const axes = normAxes(name, axis, t.shape);
  return keep(f(t, axes), t.shape, axes, keepdims);
};
export const sum = sumLike("sum", reductionOps.reduceSum);
export const prod = sumLike("prod", reductionOps.reduceProd);

const extreme = (name: string, f: (x: Tensor, axes: number[]) => Tensor) => (x: TensorLike, axis?: Axis, opts?: ReduceOpts): Tensor => {
  const { keepdims } = checkOptions(name, opts, REDUCE_OPTIONS);
  const t = toTensor(x, `${name}: argument 0`);
  const axes = normAxes(name, axis, t.shape);
  if (axes.some((a) => t.shape[a] === 0)) throw new ShapeError(`${name}: zero-size reduction over an empty axis of shape ${fmtShape(t.shape)} has no identity`);
  return keep(axes.length === 0 ? t : f(t, axes), t.shape, axes, keepdims);
};
export const max = extreme("max", reductionOps.reduceMax);
export const min = extreme("min", reductionOps.reduceMin);

export function mean(x: TensorLike, axis?: Axis, opts?: ReduceOpts): Tensor {
  const { keepdims } = checkOptions("mean", opts, REDUCE_OPTIONS);
  let t = toTensor(x, "mean: argument 0");
  if (!isFloat(t.dtype)) t = elementwiseOps.convertElementType(t, "float64");
  const axes = normAxes("mean", axis, t.shape);
  const n = axes.reduce((a, i) => a * t.shape[i], 1);
  const s = reductionOps.reduceSum(t, axes);
  return keep(elementwiseOps.div(s, full(s.shape, n, s.dtype)), t.shape, axes, keepdims);
}

const arg = (name: "argmax" | "argmin", f: (x: Tensor, axis: number) => Tensor) => (x: TensorLike, axis?: number | null): Tensor => {
  let t = toTensor(x, `${name}: argument 0`);
  const given = t.shape;
  if (axis === undefined || axis === null) {
    t = reshape(t, [t.size]);
    axis = 0;
  }
  const [a] = normAxes(name, axis, t.shape);
  if (t.shape[a] === 0) throw new ShapeError(`${name}: attempt to get ${name} of an empty sequence (shape ${fmtShape(given)})`);
  return f(t, a);
};
export const argmax = arg("argmax", reductionOps.argmax);
export const argmin = arg("argmin", reductionOps.argmin);
