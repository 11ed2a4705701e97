// More of NumPy's shape vocabulary (issue 10 item 3), all composites of the existing shape
// primitives (slice, concatenate, reshape, transpose, broadcast, pad, gather) as in jax.numpy.
import { JacobiError, ShapeError, fmtShape } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { checkOptions, oneOf } from "../core/validate.js";
import * as E from "fp-ts/lib/Either.js";
import * as shapeOps from "../primitives/shape.js";
import { type Validator, describe, invalid } from "../core/validate.js";
import { toTensor, broadcastTo } from "./promote.js";
import { concatenate, reshape, slice, transpose, flatten } from "./shape.js";
import { take } from "./indexing.js";
import { where } from "./math.js";
import { sum } from "./reductions.js";
import { array } from "./creation.js";

function axisOf(name: string, axis: number, ndim: number): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) throw new ShapeError(`${name}: axis ${axis} is out of bounds for an array of rank ${ndim}`);
  return axis < 0 ? axis + ndim : axis;
}

/** Slices `[lo, hi)` along one axis (hi clamped as Python slicing). */
function along(t: Tensor, axis: number, lo: number, hi: number): Tensor {
  const start = t.shape.map((_, i) => (i === axis ? lo : 0));
  const limit = t.shape.map((d, i) => (i === axis ? hi : d));
  return shapeOps.slice(t, start, limit);
}

/** Reverses the order of elements along the given axes (all when omitted). */
export function flip(x: TensorLike, axis?: number | number[] | null): Tensor {
  const t = toTensor(x, "flip: argument 0");
  const axes = axis === undefined || axis === null ? t.shape.map((_, i) => i) : (Array.isArray(axis) ? axis : [axis]).map((a) => axisOf("flip", a, t.ndim));
  if (t.ndim === 0) return t;
  return slice(t, ...t.shape.map((_, i): [null, null, number] | null => (axes.includes(i) ? [null, null, -1] : null)));
}

/** Rolls elements along axes (flattened when `axis` is omitted); elements past the end wrap around. */
export function roll(x: TensorLike, shift: number | number[], axis?: number | number[] | null): Tensor {
  const t = toTensor(x, "roll: argument 0");
  if (axis === undefined || axis === null) {
    if (Array.isArray(shift)) throw new ShapeError("roll: a list of shifts needs a list of axes");
    return reshape(roll(flatten(t), shift, 0), t.shape);
  }
  const axes = Array.isArray(axis) ? axis : [axis];
  const shifts = Array.isArray(shift) ? shift : axes.map(() => shift);
  if (shifts.length !== axes.length) throw new ShapeError(`roll: ${shifts.length} shifts for ${axes.length} axes`);
  let out = t;
  axes.forEach((a0, k) => {
    const a = axisOf("roll", a0, t.ndim);
    const n = t.shape[a];
    if (!Number.isInteger(shifts[k])) throw new ShapeError(`roll: shift must be an integer, got ${shifts[k]}`);
    if (n === 0) return;
    const s = ((shifts[k] % n) + n) % n;
    if (s !== 0) out = concatenate([along(out, a, n - s, n), along(out, a, 0, n - s)], a);
  });
  return out;
}

export function swapaxes(x: TensorLike, axis1: number, axis2: number): Tensor {
  const t = toTensor(x, "swapaxes: argument 0");
  const a = axisOf("swapaxes", axis1, t.ndim), b = axisOf("swapaxes", axis2, t.ndim);
  const perm = t.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return transpose(t, perm);
}

/** Moves axes `source` to positions `destination`, keeping the others in order. */
export function moveaxis(x: TensorLike, source: number | number[], destination: number | number[]): Tensor {
  const t = toTensor(x, "moveaxis: argument 0");
  const src = (Array.isArray(source) ? source : [source]).map((a) => axisOf("moveaxis", a, t.ndim));
  const dst = (Array.isArray(destination) ? destination : [destination]).map((a) => axisOf("moveaxis", a, t.ndim));
  if (src.length !== dst.length) throw new ShapeError(`moveaxis: source and destination must have the same number of elements, got ${src.length} and ${dst.length}`);
  if (new Set(src).size !== src.length || new Set(dst).size !== dst.length) throw new ShapeError("moveaxis: repeated axis");
  const rest = t.shape.map((_, i) => i).filter((i) => !src.includes(i));
  const perm: number[] = new Array(t.ndim);
  dst.forEach((d, k) => (perm[d] = src[k]));
  for (let i = 0, r = 0; i < t.ndim; i++) if (perm[i] === undefined) perm[i] = rest[r++];
  return transpose(t, perm);
}

/** Repeats the whole array `reps` times along each axis (NumPy's tile). */
export function tile(x: TensorLike, reps: number | number[]): Tensor {
  const t = toTensor(x, "tile: argument 0");
  const r = Array.isArray(reps) ? reps : [reps];
  if (r.some((v) => !Number.isInteger(v) || v < 0)) throw new ShapeError(`tile: reps must be non-negative integers, got ${JSON.stringify(reps)}`);
  const nd = Math.max(r.length, t.ndim);
  const rr = [...Array(nd - r.length).fill(1), ...r];
  const shape = [...Array(nd - t.ndim).fill(1), ...t.shape];
  // [r0, s0, r1, s1, ...] broadcast, then merged pairwise.
  const inter = shape.flatMap((s, i) => [rr[i], s]);
  const b = shapeOps.broadcastInDim(reshape(t, shape), inter, shape.map((_, i) => 2 * i + 1));
  return reshape(b, shape.map((s, i) => s * rr[i]));
}

/** Repeats each element `repeats` times along `axis` (the flattened array when omitted). */
export function repeat(x: TensorLike, repeats: number | number[], axis?: number | null): Tensor {
  let t = toTensor(x, "repeat: argument 0");
  if (axis === undefined || axis === null) {
    t = flatten(t);
    axis = 0;
  }
  const a = axisOf("repeat", axis, t.ndim);
  const n = t.shape[a];
  if (Array.isArray(repeats)) {
    if (repeats.length !== n || repeats.some((v) => !Number.isInteger(v) || v < 0)) {
      throw new ShapeError(`repeat: repeats must be ${n} non-negative integers (one per element along axis ${a} of shape ${fmtShape(t.shape)}), got ${JSON.stringify(repeats)}`);
    }
    const idx = repeats.flatMap((c, i) => Array(c).fill(i) as number[]);
    return take(t, array(idx, "int32"), a);
  }
  if (!Number.isInteger(repeats) || repeats < 0) throw new ShapeError(`repeat: repeats must be a non-negative integer, got ${repeats}`);
  const inter = [...t.shape.slice(0, a + 1), repeats, ...t.shape.slice(a + 1)];
  const dims = t.shape.map((_, i) => (i <= a ? i : i + 1));
  const out = t.shape.map((d, i) => (i === a ? d * repeats : d));
  return reshape(shapeOps.broadcastInDim(t, inter, dims), out);
}

/** Splits into `sections` equal parts or at the given indices along `axis`. */
export function split(x: TensorLike, indicesOrSections: number | number[], axis = 0): Tensor[] {
  const t = toTensor(x, "split: argument 0");
  const a = axisOf("split", axis, t.ndim);
  const n = t.shape[a];
  let cuts: number[];
  if (Array.isArray(indicesOrSections)) {
    cuts = indicesOrSections.map((i) => Math.min(Math.max(i < 0 ? i + n : i, 0), n));
  } else {
    const k = indicesOrSections;
    if (!Number.isInteger(k) || k <= 0 || n % k !== 0) throw new ShapeError(`split: array split does not result in an equal division (${n} along axis ${a} into ${k} sections)`);
    cuts = Array.from({ length: k - 1 }, (_, i) => ((i + 1) * n) / k);
  }
  const bounds = [0, ...cuts, n];
  return bounds.slice(0, -1).map((lo, i) => along(t, a, lo, Math.max(lo, bounds[i + 1])));
}

type PadMode = "constant" | "edge" | "reflect" | "symmetric" | "wrap";
const padWidthsOk: Validator<number> = (v, key) => (typeof v === "number" ? E.right(v) : invalid(`${key} must be a number, got ${describe(v)}`));
const PAD_OPTIONS = { mode: oneOf<PadMode>("constant", "edge", "reflect", "symmetric", "wrap"), constantValues: padWidthsOk };

function padWidths(width: number | [number, number] | [number, number][], ndim: number): [number, number][] {
  const list: [number, number][] =
    typeof width === "number"
      ? Array.from({ length: ndim }, () => [width, width])
      : typeof width[0] === "number"
        ? Array.from({ length: ndim }, () => width as [number, number])
        : (width as [number, number][]);
  if (list.length !== ndim || list.some((p) => !Array.isArray(p) || p.length !== 2 || p.some((v) => !Number.isInteger(v) || v < 0))) {
    throw new ShapeError(`pad: padWidth must be a non-negative integer, a pair, or one pair per axis (${ndim}), got ${JSON.stringify(width)}`);
  }
  return list;
}

/** Pads with a constant (default 0) or by `edge`, `reflect`, `symmetric` or `wrap` (NumPy's modes). */
export function pad(x: TensorLike, padWidth: number | [number, number] | [number, number][], opts?: { mode?: PadMode; constantValues?: number }): Tensor {
  const { mode = "constant", constantValues = 0 } = checkOptions("np.pad", opts, PAD_OPTIONS);
  const t = toTensor(x, "pad: argument 0");
  const w = padWidths(padWidth, t.ndim);
  if (mode === "constant") return shapeOps.pad(t, constantValues, w.map((p) => p[0]), w.map((p) => p[1]));
  let out = t;
  w.forEach(([lo, hi], a) => {
    if (lo === 0 && hi === 0) return;
    const n = out.shape[a];
    if (n === 0) throw new ShapeError(`pad: cannot pad an empty axis ${a} in mode ${JSON.stringify(mode)}`);
    // The source index of each padded position, then one gather.
    const src = (i: number): number => {
      if (mode === "edge") return Math.min(Math.max(i, 0), n - 1);
      if (mode === "wrap") return ((i % n) + n) % n;
      const period = mode === "reflect" ? 2 * n - 2 : 2 * n;
      if (period === 0) return 0;
      let m = ((i % period) + period) % period;
      if (mode === "reflect") return m < n ? m : period - m;
      return m < n ? m : period - 1 - m;
    };
    const idx = Array.from({ length: lo + n + hi }, (_, k) => src(k - lo));
    out = take(out, array(idx, "int32"), a);
  });
  return out;
}

/** `values` appended to `arr` along `axis` (both flattened when it is omitted). */
export function append(arr: TensorLike, values: TensorLike, axis?: number | null): Tensor {
  const a = toTensor(arr, "append: argument 0"), v = toTensor(values, "append: argument 1");
  if (axis === undefined || axis === null) return concatenate([flatten(a), flatten(v)], 0);
  return concatenate([a, v], axis);
}

/** The mask `j - i >= k` (or `<=`) over the last two axes of a matrix of shape [n, m]. */
function triMask(n: number, m: number, k: number, lower: boolean): Tensor {
  const data = Array.from({ length: n }, (_, i) => Array.from({ length: m }, (_, j) => (lower ? j - i <= k : j - i >= k)));
  return array(data, "bool");
}

const triangle = (name: string, lower: boolean) => (x: TensorLike, k = 0): Tensor => {
  const t = toTensor(x, `${name}: argument 0`);
  if (t.ndim < 2) throw new ShapeError(`${name}: input must have at least 2 dimensions, got shape ${fmtShape(t.shape)}`);
  const [n, m] = t.shape.slice(-2);
  return where(broadcastTo(triMask(n, m, k, lower), t.shape), t, 0);
};
export const tril = triangle("tril", true);
export const triu = triangle("triu", false);

/** The diagonal (offset `offset`) of the axes `axis1`, `axis2`, as the last axis of the result. */
export function diagonal(x: TensorLike, offset = 0, axis1 = 0, axis2 = 1): Tensor {
  const t = toTensor(x, "diagonal: argument 0");
  if (t.ndim < 2) throw new ShapeError(`diagonal: input must have at least 2 dimensions, got shape ${fmtShape(t.shape)}`);
  const a = axisOf("diagonal", axis1, t.ndim), b = axisOf("diagonal", axis2, t.ndim);
  if (a === b) throw new ShapeError("diagonal: axis1 and axis2 cannot be the same");
  const rest = t.shape.map((_, i) => i).filter((i) => i !== a && i !== b);
  const moved = transpose(t, [...rest, a, b]);
  const n = t.shape[a], m = t.shape[b];
  const len = Math.max(0, Math.min(n + Math.min(offset, 0), m - Math.max(offset, 0)));
  const idx = Array.from({ length: len }, (_, i) => (i - Math.min(offset, 0)) * m + i + Math.max(offset, 0));
  const flat = reshape(moved, [...rest.map((i) => t.shape[i]), n * m]);
  return take(flat, array(idx, "int32"), rest.length);
}

/** A 1-D input becomes the matrix with it on diagonal `k`; a 2-D input gives its diagonal `k`. */
export function diag(v: TensorLike, k = 0): Tensor {
  const t = toTensor(v, "diag: argument 0");
  if (t.ndim === 2) return diagonal(t, k);
  if (t.ndim !== 1) throw new ShapeError(`diag: input must be 1-D or 2-D, got shape ${fmtShape(t.shape)}`);
  const n = t.shape[0] + Math.abs(k);
  const mask = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => j - i === k));
  const idx = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => Math.min(Math.max(k >= 0 ? i : j, 0), Math.max(t.shape[0] - 1, 0))));
  if (t.shape[0] === 0) return reshape(t, [0, 0]);
  return where(array(mask, "bool"), take(t, array(idx, "int32"), 0), 0);
}

export function trace(x: TensorLike, offset = 0, axis1 = 0, axis2 = 1): Tensor {
  return sum(diagonal(x, offset, axis1, axis2), -1);
}

/** Coordinate grids from 1-D arrays; `indexing: "xy"` (default) swaps the first two axes as NumPy. */
export function meshgrid(...args: (TensorLike | { indexing?: "xy" | "ij" })[]): Tensor[] {
  const last = args[args.length - 1];
  const hasOpts = last !== null && typeof last === "object" && Object.getPrototypeOf(last) === Object.prototype;
  const { indexing = "xy" } = checkOptions("np.meshgrid", hasOpts ? last : undefined, { indexing: oneOf("xy", "ij") });
  const xs = (hasOpts ? args.slice(0, -1) : args).map((a, i) => flatten(toTensor(a, `meshgrid: argument ${i}`)));
  const shape = xs.map((x) => x.shape[0]);
  const swap = indexing === "xy" && xs.length >= 2;
  if (swap) [shape[0], shape[1]] = [shape[1], shape[0]];
  return xs.map((x, i) => {
    const dim = swap && i < 2 ? 1 - i : i;
    return shapeOps.broadcastInDim(x, shape, [dim]);
  });
}

export const ravel = (x: TensorLike): Tensor => flatten(x);

/** Scalars become shape [1]; higher ranks are returned as they are. One input gives one array. */
export function atleast1d(...xs: TensorLike[]): Tensor | Tensor[] {
  if (xs.length === 0) throw new JacobiError("atleast1d: needs at least one array");
  const out = xs.map((x, i) => {
    const t = toTensor(x, `atleast1d: argument ${i}`);
    return t.ndim === 0 ? reshape(t, [1]) : t;
  });
  return out.length === 1 ? out[0] : out;
}
