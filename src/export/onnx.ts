// exportOnnx: a staged jaxpr written as an ONNX model. Each equation is lowered by its primitive's
// `onnx` rule; every shape is static, so reshapes and broadcasts use constant shapes.
import onnxProto from "onnx-proto";
import { readFlat } from "../backend/index.js";
import type { DType } from "../core/dtype.js";
import { JacobiError } from "../core/errors.js";
import type { OnnxAttr, OnnxGraphHandle, OnnxLowering, OnnxValueType } from "../core/onnx-lowering.js";
import { ArrayTensor } from "../core/tensor.js";
import { unflatten } from "../core/tree.js";
import { traceToJaxpr } from "../interpreters/staging.js";
import { type Atom, ClosedJaxpr, Literal, type Var } from "../ir/jaxpr.js";
import { type Fn, checkFn, inputLeaves, outputLeaves } from "../transforms/common.js";

const { onnx } = onnxProto;

export interface ExportOnnxOptions {
  /** The ONNX operator set version of the default domain: 13 to 21, default 17. */
  opset?: number;
}

const DTYPE_CODES: Record<DType | "int64", number> = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11, uint32: 12 };

function rawBytes(values: readonly number[], dtype: DType | "int64"): Uint8Array {
  const typed =
    dtype === "float64" ? Float64Array.from(values)
    : dtype === "float32" ? Float32Array.from(values)
    : dtype === "int32" ? Int32Array.from(values)
    : dtype === "uint32" ? Uint32Array.from(values)
    : dtype === "int64" ? BigInt64Array.from(values, (v) => BigInt(v))
    : Uint8Array.from(values, (v) => (v !== 0 ? 1 : 0));
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

function valueInfo(name: string, t: OnnxValueType): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: DTYPE_CODES[t.dtype], shape: { dim: t.shape.map((d) => ({ dimValue: d })) } } },
  };
}

/** Unique value names across a model and its subgraphs (ONNX forbids shadowing outer names). */
class Names {
  private n = 0;
  fresh(prefix: string): string {
    return `${prefix}${this.n++}`;
  }
}

/** One ONNX graph under construction; implements what primitives' lowerings see. */
class GraphBuilder implements OnnxLowering {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly initializers: onnxProto.onnx.ITensorProto[] = [];

  constructor(
    private readonly names: Names,
    readonly opset: number,
  ) {}

  node(op: string, inputs: readonly string[], attrs: Record<string, OnnxAttr> = {}, numOutputs = 1): string[] {
    const output = Array.from({ length: numOutputs }, () => this.names.fresh("v"));
    const attribute = Object.entries(attrs).map(([name, a]): onnxProto.onnx.IAttributeProto => {
      if ("i" in a) return { name, type: onnx.AttributeProto.AttributeType.INT, i: a.i };
      if ("ints" in a) return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...a.ints] };
      if ("s" in a) return { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(a.s) };
      return { name, type: onnx.AttributeProto.AttributeType.GRAPH, g: a.g.onnxGraph as onnxProto.onnx.IGraphProto };
    });
    this.nodes.push({ opType: op, input: [...inputs], output, attribute, name: this.names.fresh(`${op}_`) });
    return output;
  }

  constant(values: readonly number[], dtype: DType | "int64", shape: readonly number[]): string {
    const name = this.names.fresh("c");
    this.initializers.push({ name, dataType: DTYPE_CODES[dtype], dims: [...shape], rawData: rawBytes(values, dtype) });
    return name;
  }

  dtypeCode(dtype: DType | "int64"): number {
    return DTYPE_CODES[dtype];
  }

  call(closed: unknown, args: readonly string[]): string[] {
    if (!(closed instanceof ClosedJaxpr)) throw new JacobiError("exportOnnx: a lowering called a value that is not a jaxpr");
    const constNames = closed.consts.map((c) => this.tensorConstant(c));
    return lowerJaxpr(this, closed, [...constNames, ...args]);
  }

  subgraph(formals: readonly OnnxValueType[], body: (ctx: OnnxLowering, inputs: string[]) => { outputs: string[]; types: OnnxValueType[] }): OnnxGraphHandle {
    const sub = new GraphBuilder(this.names, this.opset);
    const inputs = formals.map(() => this.names.fresh("a"));
    const { outputs, types } = body(sub, inputs);
    return { onnxGraph: sub.finish(this.names.fresh("g"), inputs.map((n, i) => valueInfo(n, formals[i])), outputs, types) };
  }

  tensorConstant(c: unknown): string {
    if (!(c instanceof ArrayTensor)) throw new JacobiError("exportOnnx: the function closes over a value of an enclosing transformation; export the transformation's result instead");
    const values = Array.from({ length: c.aval.size }, (_, k) => readFlat(c.arr, k));
    return this.constant(values, c.aval.dtype, c.aval.shape);
  }

  /** The graph with outputs renamed through Identity nodes, so an output is never an input or a repeat. */
  finish(name: string, input: onnxProto.onnx.IValueInfoProto[], outs: string[], types: OnnxValueType[], outNames?: string[]): onnxProto.onnx.IGraphProto {
    const output = outs.map((o, i) => {
      const n = outNames?.[i] ?? this.names.fresh("out");
      this.nodes.push({ opType: "Identity", input: [o], output: [n], name: this.names.fresh("Identity_") });
      return valueInfo(n, types[i]);
    });
    return { name, node: this.nodes, initializer: this.initializers, input, output };
  }
}

/** Lowers the equations of `closed` into `g` with its binders (consts then inputs) named `args`. */
function lowerJaxpr(g: GraphBuilder, closed: ClosedJaxpr, args: readonly string[]): string[] {
  const { jaxpr } = closed;
  const env = new Map<Var, string>();
  [...jaxpr.constBinders, ...jaxpr.inBinders].forEach((v, i) => env.set(v, args[i]));
  const read = (a: Atom): string => (a instanceof Literal ? g.constant([a.value], a.aval.dtype, []) : (env.get(a) as string));
  for (const e of jaxpr.eqns) {
    const rule = e.primitive.onnx;
    if (rule === undefined) throw new JacobiError(`exportOnnx: the primitive "${e.primitive.name}" has no ONNX lowering`);
    const outs = rule(g, e.inputs.map(read), e.params, e.inputs.map((a) => a.aval), e.outBinders.map((v) => v.aval));
    e.outBinders.forEach((v, i) => env.set(v, outs[i]));
  }
  return jaxpr.outs.map(read);
}

function checkOptions(opts: unknown): number {
  if (typeof opts !== "object" || opts === null) throw new JacobiError(`exportOnnx: options must be an object such as { opset: 17 }, got ${String(opts)}`);
  for (const k of Object.keys(opts)) if (k !== "opset") throw new JacobiError(`exportOnnx: unknown option "${k}"; the options are: opset`);
  const { opset = 17 } = opts as ExportOnnxOptions;
  if (!Number.isInteger(opset) || opset < 13 || opset > 21) throw new JacobiError(`exportOnnx: opset must be an integer from 13 to 21, got ${String(opset)}`);
  return opset;
}

/** A closed jaxpr as a serialized ONNX ModelProto with inputs `inNames` and outputs `outNames`. */
export function jaxprToOnnx(closed: ClosedJaxpr, opset: number, inNames: string[], outNames: string[]): Uint8Array {
  const names = new Names();
  const g = new GraphBuilder(names, opset);
  const consts = closed.consts.map((c) => g.tensorConstant(c));
  const outs = lowerJaxpr(g, closed, [...consts, ...inNames]);
  const types = closed.jaxpr.outs.map((a) => ({ dtype: a.aval.dtype, shape: a.aval.shape }));
  const input = closed.jaxpr.inBinders.map((v, i) => valueInfo(inNames[i], { dtype: v.aval.dtype, shape: v.aval.shape }));
  const graph = g.finish("jacobi", input, outs, types, outNames);
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "jacobi",
    opsetImport: [{ domain: "", version: opset }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * `f` (or any transformation of it: `grad(f)`, `vmap(jacrev(f))` ...) staged on arguments shaped
 * like `args` and written as an ONNX model. Inputs are named x0, x1, ... and outputs y0, y1, ... in
 * flattened pytree order. Throws a JacobiError naming the first primitive without an ONNX lowering.
 */
export function exportOnnx(f: Fn, args: unknown[], opts: ExportOnnxOptions = {}): Uint8Array {
  checkFn(f, "exportOnnx");
  if (!Array.isArray(args)) throw new JacobiError("exportOnnx: args must be an array of the function's arguments");
  const opset = checkOptions(opts);
  const { closed, numIn, numOut } = stageForOnnx(f, args);
  return jaxprToOnnx(closed, opset, range(numIn, "x"), range(numOut, "y"));
}

const range = (n: number, prefix: string): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** `f` on `args` as a closed jaxpr over the flattened leaves. */
export function stageForOnnx(f: Fn, args: unknown[]): { closed: ClosedJaxpr; numIn: number; numOut: number } {
  const [leaves, def] = inputLeaves(args, "exportOnnx: argument");
  const closed = traceToJaxpr(
    "exportOnnx",
    leaves.map((l) => l.aval),
    (xs) => outputLeaves(f(...(unflatten(def, xs) as unknown[])), "exportOnnx")[0],
  );
  return { closed, numIn: leaves.length, numOut: closed.jaxpr.outs.length };
}
