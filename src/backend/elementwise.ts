// Generated elementwise loops. Each operation's expression is compiled once into its own loop so
// that V8 sees a monomorphic body (a shared loop calling a closure per element is several times
// slower). Dimensions that are contiguous in every operand are merged first, so row-major and
// scalar-broadcast operands run as a single flat loop.
import { type DType, type TypedArray, allocate, checkAllocation } from "../core/dtype.js";
import { LAZY_MIN_SIZE, LazyArr, eagerFusionOn, lazyDtype } from "./lazy-elementwise.js";
import { type Arr, isSingleElement, sizeOf, view } from "./ndarray-view.js";
import { codegen, compileExpr, interpretedMap } from "./no-eval.js";

/**
 * The hot loop alone: one row of `L` elements, operand i read from `d_i` starting at `p_i` with
 * step `s_i`. Compiled per expression and per combination of buffer types, so that every element
 * access in it sees a single typed-array class (a loop shared by float64 and int32 buffers runs
 * on slower polymorphic loads).
 */
type RowLoop = (...args: unknown[]) => void;
/** Walks the outer dimensions and calls the row loop once per row. */
type Driver = (row: RowLoop, datas: TypedArray[], offsets: number[], strides: number[][], out: TypedArray, shape: number[]) => void;

// Row loops per arity, keyed by the expression and then by the buffer types, so that every
// element access in a loop sees one typed-array class. Maps, not a combined key string: building
// a string on every call cost more than the loop for small arrays.
const rowCache: Map<string, Map<number, RowLoop>>[] = [];
const drivers: Driver[] = [];

const typeCode = (a: TypedArray): number =>
  a instanceof Float64Array ? 0 : a instanceof Float32Array ? 1 : a instanceof Int32Array ? 2 : a instanceof Uint32Array ? 4 : 3;

function rowLoop(nIn: number, expr: string, datas: TypedArray[], out: TypedArray): RowLoop {
  const byExpr = (rowCache[nIn] ??= new Map());
  let byType = byExpr.get(expr);
  if (byType === undefined) byExpr.set(expr, (byType = new Map()));
  let sig = typeCode(out);
  for (let i = 0; i < nIn; i++) sig = sig * 5 + typeCode(datas[i]);
  let k = byType.get(sig);
  if (k) return k;
  const ins = Array.from({ length: nIn }, (_, i) => i);
  const params = [...ins.flatMap((i) => [`d${i}`, `p${i}`, `s${i}`]), "out", "po", "L"];
  const src = `// types ${sig}
    for (let j = 0; j < L; j++) {
      ${ins.map((i) => `const x${i} = d${i}[p${i}]; p${i} += s${i};`).join(" ")}
      out[po++] = ${expr};
    }`;
  // Named after the expression, so that CPU profiles tell the kernels apart.
  const name = `map_${expr.replace(/\W+/g, "_").slice(0, 48)}`;
  k = new Function(`return function ${name}(${params.join(", ")}) {${src}\n};`)() as RowLoop;
  byType.set(sig, k);
  return k;
}

function driver(nIn: number): Driver {
  let k = drivers[nIn];
  if (k) return k;
  const ins = Array.from({ length: nIn }, (_, i) => i);
  const call = `row(${[...ins.flatMap((i) => [`d${i}`, `p${i}`, `s${i}`]), "out", "po", "L"].join(", ")})`;
  const src = `
    ${ins.map((i) => `const d${i} = datas[${i}], st${i} = strides[${i}];`).join("\n")}
    const nd = shape.length, last = nd - 1, L = shape[last];
    if (L === 0) return;
    ${ins.map((i) => `const s${i} = st${i}[last]; let p${i} = offsets[${i}];`).join("\n")}
    if (nd === 1) { const po = 0; ${call}; return; }
    const outer = out.length / L;
    const idx = new Int32Array(nd);
    for (let o = 0, po = 0; o < outer; o++, po += L) {
      ${call};
      for (let d = last - 1; d >= 0; d--) {
        idx[d]++;
        ${ins.map((i) => `p${i} += st${i}[d];`).join(" ")}
        if (idx[d] < shape[d]) break;
        ${ins.map((i) => `p${i} -= st${i}[d] * shape[d];`).join(" ")}
        idx[d] = 0;
      }
    }`;
  k = new Function("row", "datas", "offsets", "strides", "out", "shape", src) as Driver;
  drivers[nIn] = k;
  return k;
}

type ScalarFn = (x0: number, x1: number, x2: number) => number;
const scalarCache = new Map<string, ScalarFn>();
function compileScalar(expr: string): ScalarFn {
  if (!codegen.enabled) {
    const ev = compileExpr(expr);
    return (x0, x1, x2) => ev([x0, x1, x2]);
  }
  let f = scalarCache.get(expr);
  if (!f) {
    f = new Function("x0", "x1", "x2", `return ${expr};`) as ScalarFn;
    scalarCache.set(expr, f);
  }
  return f;
}

/** Merges adjacent dimensions that are laid out contiguously in every operand. */
function collapse(shape: readonly number[], strides: number[][]): [number[], number[][]] {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const k = outShape.length - 1;
    if (k >= 0 && strides.every((s, i) => outStrides[i][k] === s[d] * shape[d])) {
      outShape[k] *= shape[d];
      strides.forEach((s, i) => (outStrides[i][k] = s[d]));
    } else {
      outShape.push(shape[d]);
      strides.forEach((s, i) => outStrides[i].push(s[d]));
    }
  }
  return [outShape, outStrides];
}

/** True when every element of `a` is `value` because it is one element seen through stride 0. */
const isConstant = (a: Arr, value: number): boolean => isSingleElement(a) && a.data[a.offset] === value;

/** The operand can stand for the result: already of the result's buffer type (a deferred one is not computed to tell). */
const sameLayoutDtype = (a: Arr, dtype: DType): boolean => (lazyDtype(a) ?? DTYPE_NAME[typeCode(a.data)]) === dtype;
const DTYPE_NAME: DType[] = ["float64", "float32", "int32", "bool", "uint32"];

/**
 * The dims along which some operand varies, or null when every dim does (the common case). A dim
 * of size > 1 along which every operand has stride 0 holds the same values at every index.
 */
function variedDims(shape: readonly number[], args: Arr[]): number[] | null {
  let kept: number[] | null = null;
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] <= 1) continue;
    let constant = true;
    for (let i = 0; i < args.length && constant; i++) if (args[i].stride[d] !== 0) constant = false;
    if (constant && kept === null) {
      if (shape.includes(0)) return null;
      kept = [];
      for (let e = 0; e < d; e++) kept.push(e);
    } else if (!constant && kept !== null) kept.push(d);
  }
  return kept;
}

/**
 * Evaluates the expression once per distinct input combination and returns it seen through
 * stride 0 along the constant dims, as the inputs are. A cotangent that starts as a broadcast
 * scalar (the gradient of a sum) stays one element through neg, mul by constants, and so on,
 * instead of allocating and filling the full shape at every step.
 */
function broadcastResult(expr: string, args: Arr[], dtype: DType, kept: number[]): Arr {
  const shape = args[0].shape;
  const inner = kept.map((d) => shape[d]);
  const small = mapN(expr, args.map((a) => view(a.data, inner, kept.map((d) => a.stride[d]), a.offset)), dtype);
  const stride = shape.map(() => 0);
  kept.forEach((d, i) => (stride[d] = small.stride[i]));
  return view(small.data, shape, stride, small.offset);
}

/**
 * Applies `expr` (in terms of x0, x1, ...) elementwise to same-shaped operands of any strides,
 * writing a fresh array of `dtype`: row-major, except that dims along which every operand is
 * constant (stride 0) stay stride 0 in the result.
 */
export function mapN(expr: string, args: Arr[], dtype: DType): Arr {
  const shape = args[0].shape;
  if (args.length === 2) {
    // x * 1 and x / 1 are x exactly (NaN, infinities and -0 included): reverse mode multiplies
    // by the broadcast 1 that seeds a gradient, and skipping that pass saves a full buffer.
    if ((expr === "x0 * x1" || expr === "x0 / x1") && isConstant(args[1], 1) && sameLayoutDtype(args[0], dtype)) return args[0];
    if (expr === "x0 * x1" && isConstant(args[0], 1) && sameLayoutDtype(args[1], dtype)) return args[1];
  }
  const kept = variedDims(shape, args);
  if (kept !== null) return broadcastResult(expr, args, dtype, kept);
  // A bool buffer holds only 0 and 1, whatever the expression yields (bool + bool is logical or).
  if (dtype === "bool") expr = `(${expr}) ? 1 : 0`;
  if (shape.length === 0 && args.length <= 3) {
    // 0-d operands (long scalar chains): no stride bookkeeping, one call of the expression.
    const out = allocate(dtype, 1);
    const [a, b, c] = args;
    out[0] = compileScalar(expr)(a.data[a.offset], b === undefined ? 0 : b.data[b.offset], c === undefined ? 0 : c.data[c.offset]);
    return view(out, shape);
  }
  const n = sizeOf(shape);
  if (n >= LAZY_MIN_SIZE && codegen.enabled && eagerFusionOn()) {
    // Deferred: an impossible size still fails here, where the operation is.
    checkAllocation(n, dtype, "allocate", shape);
    return LazyArr.of(expr, args, dtype, shape, evaluate) as unknown as Arr;
  }
  return view(evaluate(expr, args, dtype, shape), shape);
}

/** A fresh row-major buffer of `expr` applied to same-shaped operands of any strides. */
function evaluate(expr: string, args: Arr[], dtype: DType, shape: readonly number[]): TypedArray {
  const out = allocate(dtype, sizeOf(shape), shape);
  if (out.length > 0) {
    const [cs, cst] = collapse(shape, args.map((a) => a.stride));
    const rank0 = shape.length > 0 && cs.length === 0;
    const datas = args.map((a) => a.data);
    const [offsets, strides, rows] = [args.map((a) => a.offset), rank0 ? cst.map(() => [0]) : cst, rank0 ? [1] : cs];
    if (!codegen.enabled) interpretedMap(compileExpr(expr), datas, offsets, strides, out, rows);
    else driver(args.length)(rowLoop(args.length, expr, datas, out), datas, offsets, strides, out, rows);
  }
  return out;
}
