// A named type import: the shipped .d.ts then needs no esModuleInterop in the consumer's tsconfig.
import type { NdArray } from "ndarray";
import { type Arr, contiguous, readFlat, toFlatCopy, view } from "../backend/index.js";
import { type DType, type TypedArray, dtypeOfTypedArray } from "./dtype.js";
import { ConcretizationError, InternalError, ShapeError, escapedTracerError, fmtShape } from "./errors.js";
import { formatArray, formatTraced, inspectSymbol } from "./format.js";
import { ShapedArray } from "./shaped-array.js";
import type { MainTrace } from "./trace.js";

export type Axis = number | number[] | null | undefined;
export interface ReduceOpts {
  keepdims?: boolean;
}
export type SliceSpec = number | null | [number?, number?, number?] | (number | undefined | null)[];
/** One index of `x.at(...)`: what `x.slice` takes, or an integer Tensor of indices. */
export type IndexSpec = SliceSpec | Tensor;
/** JAX's `x.at[...]`: the selected elements read (clamped) or updated functionally (out-of-range updates dropped). */
export interface AtIndexer {
  get(): Tensor;
  set(v: TensorLike): Tensor;
  add(v: TensorLike): Tensor;
  mul(v: TensorLike): Tensor;
  min(v: TensorLike): Tensor;
  max(v: TensorLike): Tensor;
}

/** Anything accepted where a Tensor is: JS numbers and booleans, Tensors, ndarrays, 1-D typed arrays. */
export type TensorLike = Tensor | number | boolean | NdArray<any> | Float64Array | Float32Array | Int32Array | Uint32Array;

/** The operations behind Tensor's fluent methods; installed by the numpy layer. */
export interface FluentOps {
  add(a: TensorLike, b: TensorLike): Tensor;
  subtract(a: TensorLike, b: TensorLike): Tensor;
  multiply(a: TensorLike, b: TensorLike): Tensor;
  divide(a: TensorLike, b: TensorLike): Tensor;
  power(a: TensorLike, b: TensorLike): Tensor;
  negative(a: TensorLike): Tensor;
  exp(a: TensorLike): Tensor;
  log(a: TensorLike): Tensor;
  sin(a: TensorLike): Tensor;
  cos(a: TensorLike): Tensor;
  tanh(a: TensorLike): Tensor;
  sqrt(a: TensorLike): Tensor;
  abs(a: TensorLike): Tensor;
  square(a: TensorLike): Tensor;
  sum(a: TensorLike, axis?: Axis, opts?: ReduceOpts): Tensor;
  mean(a: TensorLike, axis?: Axis, opts?: ReduceOpts): Tensor;
  max(a: TensorLike, axis?: Axis, opts?: ReduceOpts): Tensor;
  min(a: TensorLike, axis?: Axis, opts?: ReduceOpts): Tensor;
  prod(a: TensorLike, axis?: Axis, opts?: ReduceOpts): Tensor;
  argmax(a: TensorLike, axis?: number): Tensor;
  argmin(a: TensorLike, axis?: number): Tensor;
  reshape(a: TensorLike, shape: number[]): Tensor;
  transpose(a: TensorLike, axes?: number[]): Tensor;
  matmul(a: TensorLike, b: TensorLike): Tensor;
  dot(a: TensorLike, b: TensorLike): Tensor;
  less(a: TensorLike, b: TensorLike): Tensor;
  lessEqual(a: TensorLike, b: TensorLike): Tensor;
  greater(a: TensorLike, b: TensorLike): Tensor;
  greaterEqual(a: TensorLike, b: TensorLike): Tensor;
  equal(a: TensorLike, b: TensorLike): Tensor;
  notEqual(a: TensorLike, b: TensorLike): Tensor;
  astype(a: TensorLike, dtype: DType): Tensor;
  slice(a: TensorLike, ...specs: SliceSpec[]): Tensor;
  take(a: TensorLike, indices: TensorLike, axis?: number): Tensor;
  squeeze(a: TensorLike, axis?: Axis): Tensor;
  expandDims(a: TensorLike, axis: number | number[]): Tensor;
  flatten(a: TensorLike): Tensor;
  at(a: TensorLike, ...specs: IndexSpec[]): AtIndexer;
}
let fluent: FluentOps | null = null;
export function installFluentOps(ops: FluentOps): void {
  fluent = ops;
}
function ops(): FluentOps {
  if (!fluent) throw new InternalError("import jacobi from the package root so that Tensor methods are installed");
  return fluent;
}

/** The one array type users see, concrete or traced. Immutable. */
export abstract class Tensor {
  abstract readonly aval: ShapedArray;

  /** The buffer behind this value when it is known (concrete, or a tracer carrying one). */
  abstract concrete(): Arr | null;
  /** Describes where an abstract value came from, for ConcretizationError messages. */
  protected abstractWhere(): string {
    return "an abstract trace";
  }

  get shape(): number[] {
    return [...this.aval.shape];
  }
  get dtype(): DType {
    return this.aval.dtype;
  }
  get ndim(): number {
    return this.aval.shape.length;
  }
  get size(): number {
    return this.aval.size;
  }
  get weakType(): boolean {
    return this.aval.weakType;
  }

  protected requireConcrete(what: string): Arr {
    const a = this.concrete();
    if (a === null) {
      throw new ConcretizationError(
        `${what} needs a concrete value, but this is an abstract tracer of shape ${fmtShape(this.aval.shape)} and dtype ` +
          `${this.aval.dtype} inside ${this.abstractWhere()}: its value is not known while tracing. Branch with ` +
          `lax.cond / lax.switch, or select with np.where, instead of JS control flow on traced values; compute with ` +
          `np.* functions or fluent methods (x.mul(2)), never JS operators (x.item() is the explicit exit, outside jit)`,
      );
    }
    return a;
  }

  item(): number {
    const a = this.requireConcrete("item()");
    if (this.aval.size !== 1) throw new ShapeError(`item(): only size-1 tensors convert to a number, got shape ${fmtShape(this.aval.shape)}`);
    return readFlat(a, 0);
  }
  tolist(): any {
    const a = contiguous(this.requireConcrete("tolist()"));
    const flat = Array.from(a.data.subarray(a.offset, a.offset + this.aval.size) as ArrayLike<number>);
    const vals = this.aval.dtype === "bool" ? flat.map((v) => v !== 0) : flat;
    return nest(vals, this.aval.shape);
  }
  toTypedArray(): TypedArray {
    return toFlatCopy(this.requireConcrete("toTypedArray()"));
  }
  toNdarray(): NdArray<TypedArray> {
    return view(this.toTypedArray(), this.aval.shape) as NdArray<TypedArray>;
  }

  [Symbol.toPrimitive](hint: string): number | string {
    if (hint === "string") return this.toString();
    const a = this.requireConcrete("converting to a JS number (a comparison, arithmetic or Math.*)");
    if (this.aval.size !== 1) {
      throw new ShapeError(`converting a tensor of shape ${fmtShape(this.aval.shape)} to a JS number is ambiguous; only size-1 tensors convert (use .sum(), .any-style reductions or np.where)`);
    }
    return readFlat(a, 0);
  }
  /** JAX's repr: `Array([1.5, nan, inf], dtype=float64)`, NumPy's layout (core/format.ts). */
  toString(): string {
    const a = this.requireConcrete("printing");
    return formatArray(this.aval.shape, this.aval.dtype, this.aval.weakType, (i) => readFlat(a, i));
  }
  /** console.log / util.inspect print what String() does. */
  [inspectSymbol](): string {
    return this.toString();
  }
  /** JSON.stringify writes the nested list (NaN and ±Infinity become null there, as JSON has no such numbers). */
  toJSON(): unknown {
    return this.tolist();
  }

  add(o: TensorLike): Tensor { return ops().add(this, o); }
  sub(o: TensorLike): Tensor { return ops().subtract(this, o); }
  mul(o: TensorLike): Tensor { return ops().multiply(this, o); }
  div(o: TensorLike): Tensor { return ops().divide(this, o); }
  pow(o: TensorLike): Tensor { return ops().power(this, o); }
  neg(): Tensor { return ops().negative(this); }
  exp(): Tensor { return ops().exp(this); }
  log(): Tensor { return ops().log(this); }
  sin(): Tensor { return ops().sin(this); }
  cos(): Tensor { return ops().cos(this); }
  tanh(): Tensor { return ops().tanh(this); }
  sqrt(): Tensor { return ops().sqrt(this); }
  abs(): Tensor { return ops().abs(this); }
  square(): Tensor { return ops().square(this); }
  sum(axis?: Axis, opts?: ReduceOpts): Tensor { return ops().sum(this, axis, opts); }
  mean(axis?: Axis, opts?: ReduceOpts): Tensor { return ops().mean(this, axis, opts); }
  max(axis?: Axis, opts?: ReduceOpts): Tensor { return ops().max(this, axis, opts); }
  min(axis?: Axis, opts?: ReduceOpts): Tensor { return ops().min(this, axis, opts); }
  prod(axis?: Axis, opts?: ReduceOpts): Tensor { return ops().prod(this, axis, opts); }
  argmax(axis?: number): Tensor { return ops().argmax(this, axis); }
  argmin(axis?: number): Tensor { return ops().argmin(this, axis); }
  reshape(shape: number[]): Tensor { return ops().reshape(this, shape); }
  transpose(axes?: number[]): Tensor { return ops().transpose(this, axes); }
  get T(): Tensor { return ops().transpose(this); }
  matmul(o: TensorLike): Tensor { return ops().matmul(this, o); }
  dot(o: TensorLike): Tensor { return ops().dot(this, o); }
  lt(o: TensorLike): Tensor { return ops().less(this, o); }
  le(o: TensorLike): Tensor { return ops().lessEqual(this, o); }
  gt(o: TensorLike): Tensor { return ops().greater(this, o); }
  ge(o: TensorLike): Tensor { return ops().greaterEqual(this, o); }
  eq(o: TensorLike): Tensor { return ops().equal(this, o); }
  ne(o: TensorLike): Tensor { return ops().notEqual(this, o); }
  astype(dtype: DType): Tensor { return ops().astype(this, dtype); }
  slice(...specs: SliceSpec[]): Tensor { return ops().slice(this, ...specs); }
  take(indices: TensorLike, axis?: number): Tensor { return ops().take(this, indices, axis); }
  squeeze(axis?: Axis): Tensor { return ops().squeeze(this, axis); }
  expandDims(axis: number | number[]): Tensor { return ops().expandDims(this, axis); }
  flatten(): Tensor { return ops().flatten(this); }
  at(...specs: IndexSpec[]): AtIndexer { return ops().at(this, ...specs); }
}

/** A concrete value: an ndarray view over a typed-array buffer that nothing ever writes to. */
export class ArrayTensor extends Tensor {
  constructor(
    readonly arr: Arr,
    readonly aval: ShapedArray,
  ) {
    super();
  }
  concrete(): Arr {
    return this.arr;
  }
}

/** A value inside a transformation; `main` is the level of the trace stack it belongs to. */
export abstract class Tracer extends Tensor {
  abstract readonly main: MainTrace;
  /** `Traced<float64[3]> under jvp`, also in JSON, whether or not a concrete value is carried. */
  override toString(): string {
    return formatTraced(this.aval.shape, this.aval.dtype, this.main.transform);
  }
  override toJSON(): unknown {
    return this.toString();
  }
  /**
   * JS cannot overload operators, so `x * 2` on a tracer would compute with a plain number and drop
   * the derivative (or the batch, or the staging) silently: every number/default conversion throws.
   * The hint "string" (String(x), `${x}`, and also `arr[x]`, which JS cannot tell apart) prints the
   * description, which is never a valid array index.
   */
  override [Symbol.toPrimitive](hint: string): number | string {
    if (hint === "string") return this.toString();
    return this.refuseConversion(hint === "number" ? "converting to a JS number (a comparison, arithmetic or Math.*)" : "converting to a JS number (arithmetic or == with a JS value)");
  }
  override valueOf(): never {
    return this.refuseConversion("valueOf() (converting to a JS number)");
  }
  private refuseConversion(what: string): never {
    // An escaped or abstract tracer keeps its own, more specific message.
    this.requireConcrete(what);
    throw new ConcretizationError(
      `${what} is not allowed on a traced value (shape ${fmtShape(this.aval.shape)}, dtype ${this.aval.dtype}) inside ` +
        `${this.main.transform}: JS operators would use a plain number and silently drop what ${this.main.transform} tracks. ` +
        `Use x.item() to branch on a value, and np.* functions or fluent methods (x.mul(2), np.sin(x)) to compute`,
    );
  }
  /** The value this tracer takes its concrete value from, if it wraps one (a JVP's primal). */
  protected wrapped(): Tensor | null {
    return null;
  }
  protected override abstractWhere(): string {
    // A wrapper is abstract because what it wraps is: name the level that made the value abstract
    // (jit under grad is "jit", not "grad").
    let t: Tracer = this;
    for (let w = t.wrapped(); w instanceof Tracer && w.concrete() === null; w = t.wrapped()) t = w;
    return t.main.transform;
  }
  protected override requireConcrete(what: string): Arr {
    // An abstract tracer read after its transformation ended escaped; "abstract" would mislead.
    if (!this.main.valid && this.concrete() === null) throw escapedTracerError(this.aval.shape, this.aval.dtype, this.main.transform);
    return super.requireConcrete(what);
  }
}

function nest(flat: unknown[], shape: readonly number[]): any {
  const build = (d: number, at: number): unknown => {
    if (d === shape.length) return flat[at];
    let inner = 1;
    for (let k = d + 1; k < shape.length; k++) inner *= shape[k];
    const out: unknown[] = [];
    for (let i = 0; i < shape[d]; i++) out.push(build(d + 1, at + i * inner));
    return out;
  };
  return build(0, 0);
}

export function isNdarray(x: unknown): x is NdArray<any> {
  return typeof x === "object" && x !== null && "data" in x && "shape" in x && "stride" in x && "offset" in x;
}

/** True for the leaves of pytrees. */
export function isTensorLike(x: unknown): x is TensorLike {
  return x instanceof Tensor || typeof x === "number" || typeof x === "boolean" || isNdarray(x) || dtypeOfTypedArray(x as never) !== null;
}
