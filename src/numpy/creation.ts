import { eyeArr, packValues, progressionArr } from "../backend/index.js";
import { view } from "../backend/index.js";
import { asTensor, describe, fromArr } from "../core/convert.js";
import { type DType, allocate, checkAllocation, checkDType, isFloat } from "../core/dtype.js";
import { boolean, checkOptions, dtype as dtypeOption } from "../core/validate.js";
import { JacobiError, ShapeError, fmtShape, DTypeError } from "../core/errors.js";
import { Tensor, type TensorLike } from "../core/tensor.js";
import * as elementwise from "../primitives/elementwise.js";
import { convertElementType } from "../primitives/elementwise.js";
import { broadcastTo, toTensor, resultType } from "./promote.js";
import * as shapeOps from "../primitives/shape.js";

function checkShape(shape: unknown, where: string, dtype: DType = "float64"): number[] {
  const s = typeof shape === "number" ? [shape] : shape;
  if (!Array.isArray(s) || !s.every((d) => Number.isInteger(d) && d >= 0)) throw new ShapeError(`${where}: shape must be a non-negative integer or an array of them, got ${JSON.stringify(shape)}`);
  checkAllocation(s.reduce((a: number, b: number) => a * b, 1), dtype, where, s);
  return s;
}

/** A Tensor from nested JS arrays (rectangular), numbers, booleans or any leaf; float64 by default. */
export function array(data: unknown, dtype?: DType): Tensor {
  const dt = dtype === undefined ? undefined : checkDType(dtype, "array");
  if (!Array.isArray(data)) {
    const t = asTensor(data, "array");
    const strong = t.weakType ? convertElementType(t, t.dtype, false) : t;
    return dt ? convertElementType(strong, dt) : strong;
  }
  const shape: number[] = [];
  for (let cur: unknown = data; Array.isArray(cur); cur = cur[0]) {
    shape.push(cur.length);
    if (cur.length === 0) break;
  }
  const flat: unknown[] = [];
  const walk = (x: unknown, d: number, path: string): void => {
    if (d === shape.length) {
      if (Array.isArray(x)) throw new ShapeError(`array: ragged nested array: element ${path} is an array, but elements at this depth are scalars (shape so far ${fmtShape(shape)})`);
      flat.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[d]) {
      throw new ShapeError(`array: ragged nested array: element ${path || "[]"} has ${Array.isArray(x) ? `length ${x.length}` : "no length"}, expected length ${shape[d]} (shape ${fmtShape(shape)})`);
    }
    x.forEach((y, i) => walk(y, d + 1, `${path}[${i}]`));
  };
  walk(data, 0, "");
  if (flat.some((v) => v instanceof Tensor)) return stackElements(flat, shape, dt);
  const allBool = flat.length > 0 && flat.every((v) => typeof v === "boolean");
  const bad = flat.findIndex((v) => typeof v !== "number" && typeof v !== "boolean");
  if (bad >= 0) throw new DTypeError(`array: element ${bad} is ${describe(flat[bad])}; expected numbers or booleans`);
  const d = dt ?? (allBool ? "bool" : "float64");
  return fromArr(packValues(flat as (number | boolean)[], shape, d), d);
}

/**
 * `np.array` of nested lists holding Tensors: stacked with primitives, so that a traced element
 * keeps its derivative (copying its value out would silently give a zero gradient) and an
 * abstract one stays abstract. Elements of one shape stack into `shape ++ element shape`.
 */
function stackElements(flat: unknown[], shape: number[], dtype?: DType): Tensor {
  const ts = flat.map((v, i) => {
    if (typeof v !== "number" && typeof v !== "boolean" && !(v instanceof Tensor)) throw new DTypeError(`array: element ${i} is ${describe(v)}; expected numbers, booleans or Tensors`);
    return toTensor(v, `array: element ${i}`);
  });
  const inner = ts[0].shape;
  ts.forEach((t, i) => {
    if (t.ndim !== inner.length || t.shape.some((d, k) => d !== inner[k])) {
      throw new ShapeError(`array: ragged nested array: element ${i} has shape ${fmtShape(t.shape)}, but element 0 has shape ${fmtShape(inner)}`);
    }
  });
  const [rd, weak] = resultType(ts, flat);
  const d = dtype ?? (weak && !isFloat(rd) ? "float64" : rd);
  const rows = ts.map((t) => shapeOps.reshape(convertElementType(t, d), [1, ...inner]));
  return shapeOps.reshape(shapeOps.concatenate(rows, 0), [...shape, ...inner]);
}

export function full(shape: number[] | number, value: number | boolean | Tensor, dtype?: DType): Tensor {
  if (typeof value === "number" || typeof value === "boolean") return fill("full", shape, value, dtype);
  if (!(value instanceof Tensor)) throw new DTypeError(`full: the fill value must be a number, boolean or Tensor, got ${describe(value)}`);
  // A Tensor fill (traced under grad, jit, vmap) is broadcast, so its derivative and batch survive.
  const dt = dtype === undefined ? value.dtype : checkDType(dtype, "full");
  const s = checkShape(shape, "full", dt);
  return broadcastTo(convertElementType(value, dt, false), s, "full");
}
/** `full` under the name the user called, so that errors name it. */
function fill(where: string, shape: number[] | number, value: number | boolean, dtype?: DType): Tensor {
  const dt = dtype === undefined ? (typeof value === "boolean" ? "bool" : "float64") : checkDType(dtype, where);
  const s = checkShape(shape, where, dt);
  const data = allocate(dt, s.reduce((a, b) => a * b, 1));
  const v = dt === "bool" ? Number(value !== 0 && value !== false) : Number(value);
  // Object.is: a -0 fill must be written (a fresh buffer holds +0).
  if (!Object.is(v, 0)) data.fill(v);
  return fromArr(view(data, s), dt);
}
export const zeros = (shape: number[] | number, dtype?: DType): Tensor => fill("zeros", shape, 0, dtype ?? "float64");
export const ones = (shape: number[] | number, dtype?: DType): Tensor => fill("ones", shape, 1, dtype ?? "float64");
export const zerosLike = (x: TensorLike, dtype?: DType): Tensor => {
  const t = toTensor(x, "zerosLike: argument 0");
  return full(t.shape, 0, dtype ?? t.dtype);
};
export const onesLike = (x: TensorLike, dtype?: DType): Tensor => {
  const t = toTensor(x, "onesLike: argument 0");
  return full(t.shape, 1, dtype ?? t.dtype);
};

export function eye(n: number, m?: number, k = 0, dtype: DType = "float64"): Tensor {
  if (!Number.isInteger(k)) throw new JacobiError(`eye: k (the diagonal offset) must be an integer, got ${String(k)}`);
  const cols = m ?? n;
  const [rows, c] = checkShape([n, cols], "eye", dtype);
  return fromArr(eyeArr(rows, c, k, checkDType(dtype, "eye")), dtype);
}

/** arange(stop), arange(start, stop, step); int32 when every argument is an integer, else float64. */
export function arange(start: number, stop?: number, step = 1, dtype?: DType): Tensor {
  const [a, b] = stop === undefined ? [0, start] : [start, stop];
  if (![a, b, step].every((v) => typeof v === "number" && Number.isFinite(v)) || step === 0) {
    throw new JacobiError(`arange: start, stop and step must be finite numbers with a non-zero step, got ${a}, ${b}, ${step}`);
  }
  const n = Math.max(0, Math.ceil((b - a) / step));
  const dt = dtype ?? ([a, b, step].every(Number.isInteger) ? "int32" : "float64");
  const outside = (v: number): boolean => v < -(2 ** 31) || v >= 2 ** 31;
  if (dt === "int32" && n > 0 && (outside(a) || outside(a + (n - 1) * step))) {
    throw new DTypeError(`arange: values from ${a} to ${a + (n - 1) * step} do not fit int32 (pass dtype "float64")`);
  }
  return fromArr(progressionArr(a, step, n, checkDType(dt, "arange")), dt);
}

export function linspace(start: number | Tensor, stop: number | Tensor, num = 50, opts: { endpoint?: boolean; dtype?: DType } = {}): Tensor {
  if (!Number.isInteger(num) || num < 0) throw new ShapeError(`linspace: num must be a non-negative integer, got ${num}`);
  const { endpoint = true, dtype: dt = "float64" } = checkOptions("linspace", opts, { endpoint: boolean, dtype: dtypeOption });
  const div = endpoint ? num - 1 : num;
  if (start instanceof Tensor || stop instanceof Tensor) {
    // Traced bounds: start * (1 - w) + stop * w with the fractions w = i / div, so both get their
    // derivatives (and the last point is stop exactly).
    const [a, b] = [start, stop].map((v) => {
      const t = toTensor(v, "linspace");
      if (t.ndim !== 0) throw new ShapeError(`linspace: start and stop must be scalars, got shape ${fmtShape(t.shape)}`);
      return broadcastTo(convertElementType(t, dt, false), [num], "linspace");
    });
    const w = fromArr(progressionArr(0, div > 0 ? 1 / div : 0, num, dt, endpoint ? 1 : undefined), dt);
    const rest = fromArr(progressionArr(1, div > 0 ? -1 / div : 0, num, dt, endpoint ? 0 : undefined), dt);
    return elementwise.add(elementwise.mul(a, rest), elementwise.mul(b, w));
  }
  const step = div > 0 ? (stop - start) / div : 0;
  return fromArr(progressionArr(start, step, num, dt, endpoint ? stop : undefined), dt);
}

