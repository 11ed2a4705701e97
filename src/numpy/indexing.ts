// Indexing with traced indices, on the gather and scatter primitives: np.take, np.takeAlongAxis and
// JAX's functional updates x.at(...).set/add/mul/min/max/get. Out-of-range indices follow JAX's
// defaults: take and takeAlongAxis fill (NaN for floats), at(...).get clamps, updates are dropped.
// Negative indices count from the end, as NumPy's (wrapped once, by a select, so they may be traced).
import { view } from "../backend/index.js";
import { fromArr } from "../core/convert.js";
import { type DType, isFloat, isInteger } from "../core/dtype.js";
import { DTypeError, ShapeError, fmtShape } from "../core/errors.js";
import { type AtIndexer, type IndexSpec, Tensor, type TensorLike } from "../core/tensor.js";
import { checkOptions, numberWhere, oneOf } from "../core/validate.js";
import { add, convertElementType, lt, select } from "../primitives/elementwise.js";
import { type IndexMode, type ScatterParams, gatherDynamic, iota } from "../primitives/gather.js";
import { scatterPrims } from "../primitives/scatter.js";
import { broadcastInDim, concatenate, reshape } from "../primitives/shape.js";
import { full } from "../primitives/util.js";
import { bind1 } from "../core/trace.js";
import { broadcastShapes, broadcastTo, toTensor } from "./promote.js";
import { normAxes } from "./reductions.js";

/** Integer indices as int32, from a JS number, an integer Tensor, or a concrete float Tensor of integer values. */
export function indexTensor(idx: TensorLike, where: string): Tensor {
  if (typeof idx === "number") {
    if (!Number.isInteger(idx)) throw new ShapeError(`${where}: indices must be integers, got ${idx}`);
    return full([], idx, "int32");
  }
  const t = toTensor(idx, where);
  if (isInteger(t.dtype)) return t.dtype === "int32" ? t : convertElementType(t, "int32");
  if (isFloat(t.dtype) && t.concrete() !== null) {
    if (Array.from(t.toTypedArray()).some((v) => !Number.isInteger(v))) throw new ShapeError(`${where}: indices must be integers`);
    return convertElementType(t, "int32");
  }
  throw new DTypeError(`${where}: indices must have an integer dtype, got ${t.dtype}${t.concrete() === null ? " (traced)" : ""}`);
}

/** i < 0 ? i + n : i, elementwise. */
function wrapNegative(i: Tensor, n: number): Tensor {
  return select(lt(i, full(i.shape, 0, "int32")), add(i, full(i.shape, n, "int32")), i);
}

/** JAX's fill values for out-of-range gathers: NaN, the most negative int32, the largest uint32, true. */
function defaultFill(d: DType): number {
  return isFloat(d) ? NaN : d === "int32" ? -(2 ** 31) : d === "uint32" ? 2 ** 32 - 1 : 1;
}

const takeOptions = { mode: oneOf<IndexMode>("fill", "clip"), fillValue: numberWhere("a number", () => true) };

/** NumPy take: elements at `indices` along `axis` (of the flattened array without one). */
export function take(x: TensorLike, indices: TensorLike, axis?: number | null, opts?: { mode?: IndexMode; fillValue?: number }): Tensor {
  const o = checkOptions("np.take", opts, takeOptions);
  let t = toTensor(x, "take: argument 0");
  if (axis === undefined || axis === null) {
    t = reshape(t, [t.size]);
    axis = 0;
  }
  const [ax] = normAxes("take", axis, t.shape);
  const mode = o.mode ?? "fill";
  const n = t.shape[ax];
  let i = indexTensor(indices, "take: indices");
  if (mode === "fill") i = wrapNegative(i, n);
  const ishape = i.shape;
  const outShape = [...t.shape.slice(0, ax), ...ishape, ...t.shape.slice(ax + 1)];
  const offsetDims = outShape.map((_, d) => d).filter((d) => d < ax || d >= ax + ishape.length);
  // An empty axis has no element to clamp to: every index is out of range.
  if (n === 0) return full(outShape, mode === "fill" ? (o.fillValue ?? defaultFill(t.dtype)) : 0, t.dtype);
  return gatherDynamic(t, reshape(i, [...ishape, 1]), {
    offsetDims,
    collapsedSliceDims: [ax],
    startIndexMap: [ax],
    sliceSizes: t.shape.map((s, d) => (d === ax ? 1 : s)),
    mode,
    fillValue: o.fillValue ?? defaultFill(t.dtype),
  });
}

/**
 * Index vectors of `comps` (int32 Tensors already of one shape G) stacked along a new last axis:
 * the indices operand of a gather or scatter that indexes those axes elementwise.
 */
function stackIndices(comps: Tensor[], shape: readonly number[]): Tensor {
  if (comps.length === 0) return full([...shape, 0], 0, "int32");
  return concatenate(comps.map((c) => reshape(c, [...shape, 1])), shape.length);
}

/** NumPy take_along_axis: out[..., j, ...] = arr[..., indices[..., j, ...], ...] along `axis` (other axes broadcast). */
export function takeAlongAxis(arr: TensorLike, indices: TensorLike, axis: number, opts?: { mode?: IndexMode; fillValue?: number }): Tensor {
  const o = checkOptions("np.takeAlongAxis", opts, takeOptions);
  const a = toTensor(arr, "takeAlongAxis: argument 0");
  let i = indexTensor(indices, "takeAlongAxis: indices");
  if (i.ndim !== a.ndim) throw new ShapeError(`takeAlongAxis: indices of shape ${fmtShape(i.shape)} must have the rank of the array, shape ${fmtShape(a.shape)}`);
  const [ax] = normAxes("takeAlongAxis", axis, a.shape);
  const mode = o.mode ?? "fill";
  if (mode === "fill") i = wrapNegative(i, a.shape[ax]);
  const others = broadcastShapes("takeAlongAxis", [a.shape.filter((_, d) => d !== ax), i.shape.filter((_, d) => d !== ax)]);
  const shape = [...others];
  shape.splice(ax, 0, i.shape[ax]);
  const aShape = [...others];
  aShape.splice(ax, 0, a.shape[ax]);
  const ab = broadcastTo(a, aShape, "takeAlongAxis");
  const comps = shape.map((s, d) => (d === ax ? broadcastTo(i, shape, "takeAlongAxis") : broadcastInDim(iota(s), shape, [d])));
  return gatherDynamic(ab, stackIndices(comps, shape), {
    offsetDims: [],
    collapsedSliceDims: shape.map((_, d) => d),
    startIndexMap: shape.map((_, d) => d),
    sliceSizes: shape.map(() => 1),
    mode,
    fillValue: o.fillValue ?? defaultFill(a.dtype),
  });
}

/** The indices a NumPy slice [start, stop, step] selects from an axis of length n (negatives count from the end, bounds clamp). */
function rangeIndices(n: number, [start, stop, step = 1]: readonly (number | null | undefined)[], d: number, shape: readonly number[]): Tensor {
  const st = step ?? 1;
  if (!Number.isInteger(st) || st === 0) throw new ShapeError(`at: step must be a non-zero integer, got ${st} for axis ${d} (shape ${fmtShape(shape)})`);
  const norm = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
  const a = start === null || start === undefined ? (st > 0 ? 0 : n - 1) : norm(start, st > 0 ? 0 : -1, st > 0 ? n : n - 1);
  const b = stop === null || stop === undefined ? (st > 0 ? n : -1) : norm(stop, st > 0 ? 0 : -1, st > 0 ? n : n - 1);
  const out: number[] = [];
  for (let i = a; st > 0 ? i < b : i > b; i += st) out.push(i);
  return fromArr(view(Int32Array.from(out), [out.length]), "int32");
}

/**
 * The gather/scatter form of x[...specs]: indices of shape [...G, k] for the first k axes and the
 * shape of what x[...specs] selects ([...G, ...the remaining axes]). Slices become index ranges
 * with an axis each; Tensor indices (and numbers beside them) broadcast together and take the
 * place of the first when they are adjacent, else go first, as NumPy's advanced indexing.
 */
function indexPlan(x: Tensor, specs: IndexSpec[]): { indices: Tensor; k: number; outShape: number[] } {
  const k = specs.length;
  if (k > x.ndim) throw new ShapeError(`at: too many indices (${k}) for an array of shape ${fmtShape(x.shape)}`);
  const advanced = specs.some((s) => s instanceof Tensor);
  const isAdv = (s: IndexSpec) => s instanceof Tensor || (advanced && typeof s === "number");
  const advPos = specs.map((s, d) => (isAdv(s) ? d : -1)).filter((d) => d >= 0);
  const contiguousAdv = advPos.every((d, j) => j === 0 || d === advPos[j - 1] + 1);
  const comps: (Tensor | null)[] = specs.map((s, d) => {
    const n = x.shape[d];
    if (s instanceof Tensor) return wrapNegative(indexTensor(s, `at: index for axis ${d}`), n);
    if (typeof s === "number") {
      if (!Number.isInteger(s) || s < -n || s >= n) throw new ShapeError(`at: index ${s} is out of bounds for axis ${d} with size ${n} (shape ${fmtShape(x.shape)})`);
      return full([], s < 0 ? s + n : s, "int32");
    }
    if (s === null || s === undefined || Array.isArray(s)) return rangeIndices(n, s ?? [], d, x.shape);
    throw new ShapeError(`at: unsupported index ${JSON.stringify(s)} for axis ${d} (shape ${fmtShape(x.shape)}); use a number, [start, stop, step], null or an integer Tensor`);
  });
  const advShape = advanced ? broadcastShapes("at", advPos.map((d) => (comps[d] as Tensor).shape)) : [];
  // Axes of G in output order: one per slice, the advanced block at its place (or first).
  const G: number[] = [];
  const where: number[] = specs.map(() => -1);
  let advAt = advanced && !contiguousAdv ? 0 : -1;
  if (advAt === 0) G.push(...advShape);
  specs.forEach((s, d) => {
    if (isAdv(s)) {
      if (advAt === -1) {
        advAt = G.length;
        G.push(...advShape);
      }
    } else if (typeof s !== "number") {
      where[d] = G.length;
      G.push((comps[d] as Tensor).shape[0]);
    }
  });
  const placed = specs.map((s, d) => {
    const c = comps[d] as Tensor;
    if (isAdv(s)) {
      const lead = advShape.length - c.ndim;
      return broadcastInDim(c, G, c.shape.map((_, j) => advAt + lead + j));
    }
    if (typeof s === "number") return broadcastInDim(c, G, []);
    return broadcastInDim(c, G, [where[d]]);
  });
  return { indices: stackIndices(placed, G), k, outShape: [...G, ...x.shape.slice(k)] };
}

function atGet(x: Tensor, specs: IndexSpec[]): Tensor {
  const { indices, k, outShape } = indexPlan(x, specs);
  const g = outShape.length - (x.ndim - k);
  return gatherDynamic(x, indices, {
    offsetDims: x.shape.slice(k).map((_, j) => g + j),
    collapsedSliceDims: specs.map((_, d) => d),
    startIndexMap: specs.map((_, d) => d),
    sliceSizes: x.shape.map((s, d) => (d < k ? 1 : s)),
    mode: "clip",
    fillValue: 0,
  });
}

function atUpdate(kind: keyof typeof scatterPrims, x: Tensor, specs: IndexSpec[], v: TensorLike): Tensor {
  const { indices, k, outShape } = indexPlan(x, specs);
  const u = toTensor(v, `at(...).${kind}: the value`);
  const ub = broadcastTo(u.dtype === x.dtype ? u : convertElementType(u, x.dtype, u.weakType), outShape, `at(...).${kind}`);
  const g = outShape.length - (x.ndim - k);
  const p: ScatterParams = {
    updateWindowDims: x.shape.slice(k).map((_, j) => g + j),
    insertedWindowDims: specs.map((_, d) => d),
    scatterDimsToOperandDims: specs.map((_, d) => d),
    mode: "fill",
  };
  return bind1(scatterPrims[kind], [x, indices, ub], p);
}

/** JAX's x.at[...]: functional reads and updates of the selected elements. */
export function at(x: TensorLike, ...specs: IndexSpec[]): AtIndexer {
  const t = toTensor(x, "at: argument 0");
  return {
    get: () => atGet(t, specs),
    set: (v) => atUpdate("set", t, specs, v),
    add: (v) => atUpdate("add", t, specs, v),
    mul: (v) => atUpdate("mul", t, specs, v),
    min: (v) => atUpdate("min", t, specs, v),
    max: (v) => atUpdate("max", t, specs, v),
  };
}
