// What a primitive's ONNX lowering sees: a builder of one ONNX graph. Declared in core, below the
// primitives that use it; the exporter (src/export/onnx.ts) implements it.
import type { DType } from "./dtype.js";
import type { ShapedArray } from "./shaped-array.js";

/** An ONNX node attribute: tagged, because ONNX tells ints from lists and graphs from strings. */
export type OnnxAttr =
  | { i: number }
  | { ints: readonly number[] }
  | { s: string }
  | { g: OnnxGraphHandle };

/** A subgraph built by `OnnxLowering.graph`, to pass as an `If`/`Loop` attribute. */
export interface OnnxGraphHandle {
  readonly onnxGraph: unknown;
}

/** The type of a subgraph input or output; int64 only for `Loop`'s iteration counter and trip count. */
export interface OnnxValueType {
  dtype: DType | "int64";
  shape: readonly number[];
}

export interface OnnxLowering {
  /** The operator set version of the default domain being targeted. */
  readonly opset: number;
  /** Appends `op(inputs)` and returns the names of its `numOutputs` outputs. */
  node(op: string, inputs: readonly string[], attrs?: Record<string, OnnxAttr>, numOutputs?: number): string[];
  /** A constant tensor (row-major values) as a graph value. */
  constant(values: readonly number[], dtype: DType | "int64", shape: readonly number[]): string;
  /** The ONNX TensorProto data type of a dtype (for Cast's `to`). */
  dtypeCode(dtype: DType | "int64"): number;
  /** Lowers a closed jaxpr (from a control-flow primitive's params) inline on `args`: its outputs' names. */
  call(closed: unknown, args: readonly string[]): string[];
  /**
   * A subgraph (an `If` branch, a `Loop` body) with inputs of types `formals`; `body` builds it
   * with its own lowering context and returns its outputs. Names of the enclosing graphs stay
   * visible inside, as ONNX scoping allows.
   */
  subgraph(formals: readonly OnnxValueType[], body: (ctx: OnnxLowering, inputs: string[]) => { outputs: string[]; types: OnnxValueType[] }): OnnxGraphHandle;
}

/** A primitive's ONNX lowering: the names of its outputs, from the names of its inputs. */
export type OnnxRule<P> = (ctx: OnnxLowering, inputs: string[], params: P, ins: readonly ShapedArray[], outs: readonly ShapedArray[]) => string[];
