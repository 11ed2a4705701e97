import { describe } from "../core/convert.js";
import { ShapeError, fmtShape } from "../core/errors.js";
import { type Tensor, type TensorLike, type Axis, type SliceSpec } from "../core/tensor.js";
import * as shapeOps from "../primitives/shape.js";
import { gather } from "../primitives/gather.js";
import { toTensor, broadcastTo as bcast, resultType } from "./promote.js";
import { convertElementType } from "../primitives/elementwise.js";
import { normAxes } from "./reductions.js";

export function reshape(x: TensorLike, shape: number[] | number): Tensor {
  const t = toTensor(x, "reshape: argument 0");
  if (typeof shape !== "number" && !Array.isArray(shape)) throw new ShapeError(`reshape: shape must be an integer or an array of integers, got ${describe(shape)}`);
  const s = typeof shape === "number" ? [shape] : [...shape];
  const holes = s.filter((d) => d === -1).length;
  if (holes > 1 || s.some((d) => !Number.isInteger(d) || d < -1)) throw new ShapeError(`reshape: invalid target shape ${fmtShape(s)} for an array of shape ${fmtShape(t.shape)}`);
  if (holes === 1) {
    const known = s.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    if (known === 0 || t.size % known !== 0) throw new ShapeError(`reshape: cannot reshape an array of shape ${fmtShape(t.shape)} (size ${t.size}) into shape ${fmtShape(s)}`);
    s[s.indexOf(-1)] = t.size / known;
  }
  if (s.reduce((a, b) => a * b, 1) !== t.size) throw new ShapeError(`reshape: cannot reshape an array of shape ${fmtShape(t.shape)} (size ${t.size}) into shape ${fmtShape(s)}`);
  return shapeOps.reshape(t, s);
}

export const flatten = (x: TensorLike): Tensor => reshape(x, [-1]);

export function transpose(x: TensorLike, axes?: number[]): Tensor {
  const t = toTensor(x, "transpose: argument 0");
  if (axes !== undefined && !Array.isArray(axes)) throw new ShapeError(`transpose: axes must be an array of integers, got ${describe(axes)}`);
  const perm = axes ?? t.shape.map((_, i) => t.ndim - 1 - i);
  if (perm.length !== t.ndim) throw new ShapeError(`transpose: axes ${fmtShape(perm)} do not match an array of shape ${fmtShape(t.shape)}`);
  const norm = perm.map((a) => (a < 0 ? a + t.ndim : a));
  return shapeOps.transpose(t, norm);
}

export function broadcastTo(x: TensorLike, shape: number[]): Tensor {
  if (!Array.isArray(shape)) throw new ShapeError(`broadcastTo: shape must be an array of integers, got ${describe(shape)}`);
  return bcast(toTensor(x, "broadcastTo: argument 0"), shape);
}

export function expandDims(x: TensorLike, axis: number | number[]): Tensor {
  const t = toTensor(x, "expandDims: argument 0");
  const list = Array.isArray(axis) ? axis : [axis];
  const nd = t.ndim + list.length;
  const axes = list.map((a) => {
    if (!Number.isInteger(a) || a < -nd || a >= nd) throw new ShapeError(`expandDims: axis ${a} is out of bounds for the result of rank ${nd} (input shape ${fmtShape(t.shape)})`);
    return a < 0 ? a + nd : a;
  });
  if (new Set(axes).size !== axes.length) throw new ShapeError(`expandDims: repeated axis in ${JSON.stringify(list)}`);
  const shape: number[] = [];
  let k = 0;
  for (let i = 0; i < nd; i++) shape.push(axes.includes(i) ? 1 : t.shape[k++]);
  return shapeOps.reshape(t, shape);
}

export function squeeze(x: TensorLike, axis?: Axis): Tensor {
  const t = toTensor(x, "squeeze: argument 0");
  const axes = axis === undefined || axis === null ? t.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normAxes("squeeze", axis, t.shape);
  for (const a of axes) if (t.shape[a] !== 1) throw new ShapeError(`squeeze: cannot select an axis to squeeze out which has size not equal to one (axis ${a} of shape ${fmtShape(t.shape)})`);
  return shapeOps.squeeze(t, axes);
}

export function concatenate(xs: TensorLike[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new ShapeError("concatenate: needs a non-empty array of arrays");
  const ts = xs.map((x, i) => toTensor(x, `concatenate: array ${i}`));
  if (ts.some((t) => t.ndim === 0)) throw new ShapeError(`concatenate: zero-dimensional arrays cannot be concatenated (shapes ${ts.map((t) => fmtShape(t.shape)).join(", ")})`);
  const nd = ts[0].ndim;
  if (!Number.isInteger(axis) || axis < -nd || axis >= nd) {
    throw new ShapeError(`concatenate: axis ${axis} is out of bounds for shapes ${ts.map((t) => fmtShape(t.shape)).join(", ")}`);
  }
  if (ts.some((t) => t.ndim !== nd)) {
    throw new ShapeError(`concatenate: shapes ${ts.map((t) => fmtShape(t.shape)).join(", ")} must have the same rank and agree except along axis ${axis}`);
  }
  const ax = axis < 0 ? axis + nd : axis;
  ts.forEach((t) => {
    if (t.shape.some((d, i) => i !== ax && d !== ts[0].shape[i])) {
      throw new ShapeError(`concatenate: shapes ${ts.map((u) => fmtShape(u.shape)).join(", ")} must agree except along axis ${ax}`);
    }
  });
  const [d] = resultType(ts);
  return shapeOps.concatenate(ts.map((t) => convertElementType(t, d, t.weakType && ts.every((u) => u.weakType))), ax);
}

export function stack(xs: TensorLike[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new ShapeError("stack: needs a non-empty array of arrays");
  const ts = xs.map((x, i) => toTensor(x, `stack: array ${i}`));
  ts.forEach((t) => {
    if (t.shape.length !== ts[0].shape.length || t.shape.some((d, i) => d !== ts[0].shape[i])) {
      throw new ShapeError(`stack: all input arrays must have the same shape, got ${ts.map((u) => fmtShape(u.shape)).join(", ")}`);
    }
  });
  const nd = ts[0].ndim + 1;
  if (!Number.isInteger(axis) || axis < -nd || axis >= nd) {
    throw new ShapeError(`stack: axis ${axis} is out of bounds for the result of rank ${nd} (shapes ${ts.map((t) => fmtShape(t.shape)).join(", ")})`);
  }
  const ax = axis < 0 ? axis + nd : axis;
  return concatenate(ts.map((t) => expandDims(t, ax)), ax);
}

/** Basic slicing, one spec per leading axis: an index (drops the axis), [start, stop, step], or null. */
export function slice(x: TensorLike, ...specs: SliceSpec[]): Tensor {
  const t = toTensor(x, "slice: argument 0");
  if (specs.length > t.ndim) throw new ShapeError(`slice: too many indices (${specs.length}) for an array of shape ${fmtShape(t.shape)}`);
  const start: number[] = [], limit: number[] = [], strides: number[] = [];
  const drop: number[] = [];
  const reversed: number[] = [];
  t.shape.forEach((n, d) => {
    const s = d < specs.length ? specs[d] : null;
    if (s === null || s === undefined) {
      start.push(0), limit.push(n), strides.push(1);
    } else if (typeof s === "number") {
      if (!Number.isInteger(s) || s < -n || s >= n) throw new ShapeError(`slice: index ${s} is out of bounds for axis ${d} with size ${n} (shape ${fmtShape(t.shape)})`);
      const i = s < 0 ? s + n : s;
      start.push(i), limit.push(i + 1), strides.push(1), drop.push(d);
    } else if (Array.isArray(s)) {
      const step = s[2] ?? 1;
      if (!Number.isInteger(step) || step === 0) throw new ShapeError(`slice: step must be a non-zero integer, got ${step} for axis ${d} (shape ${fmtShape(t.shape)})`);
      const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
      if (step > 0) {
        const a = s[0] ?? 0, b = s[1] ?? n;
        const lo = clamp(a < 0 ? a + n : a, 0, n);
        const hi = clamp(b < 0 ? b + n : b, 0, n);
        start.push(lo), limit.push(Math.max(lo, hi)), strides.push(step);
      } else {
        // Negative steps: take the mirrored positive-step range, then reverse it.
        const a = s[0] ?? n - 1, b = s[1];
        const first = clamp(a < 0 ? a + n : a, -1, n - 1);
        const stop = b === undefined || b === null ? -1 : clamp(b < 0 ? b + n : b, -1, n - 1);
        const count = Math.max(0, Math.ceil((first - stop) / -step));
        const last = first + (count - 1) * step;
        start.push(count > 0 ? last : 0), limit.push(count > 0 ? first + 1 : 0), strides.push(-step);
        reversed.push(d);
      }
    } else {
      throw new ShapeError(`slice: unsupported spec ${JSON.stringify(s)} for axis ${d} (shape ${fmtShape(t.shape)}); use a number, [start, stop, step] or null`);
    }
  });
  let out = shapeOps.slice(t, start, limit, strides);
  for (const d of reversed) {
    const n = out.shape[d];
    out = gather(out, Array.from({ length: n }, (_, i) => n - 1 - i), d);
  }
  return drop.length ? shapeOps.squeeze(out, drop) : out;
}
