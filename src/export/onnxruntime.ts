// Running a staged jaxpr in ONNX Runtime (jit's "onnxruntime" backend). onnxruntime-node is an
// optional peer dependency: it is imported on first use, and its absence is a clear error.
import { view } from "../backend/index.js";
import type { TypedArray } from "../core/dtype.js";
import { JacobiError } from "../core/errors.js";
import { ArrayTensor, type Tensor } from "../core/tensor.js";
import type { ClosedJaxpr } from "../ir/jaxpr.js";
import { jaxprToOnnx } from "./onnx.js";

/** The part of onnxruntime-node's API used here. */
interface OrtTensor {
  readonly data: unknown;
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
}
interface OrtModule {
  Tensor: new (type: string, data: TypedArray, dims: readonly number[]) => OrtTensor;
  InferenceSession: { create(model: Uint8Array): Promise<OrtSession> };
}

export const ORT_MISSING_MESSAGE =
  'the "onnxruntime" backend needs the optional peer dependency onnxruntime-node: npm install onnxruntime-node ' +
  "(with onnxruntime-node-install=skip in .npmrc, or ONNXRUNTIME_NODE_INSTALL=skip, its CPU binaries need no download)";

let ortPromise: Promise<OrtModule> | null = null;
/** onnxruntime-node, imported once; `specifier` is only for tests of the missing-package error. */
export function loadOrt(specifier = "onnxruntime-node"): Promise<OrtModule> {
  const load = import(specifier).then(
    (m: { default?: OrtModule } & Partial<OrtModule>) => (m.InferenceSession === undefined ? (m.default as OrtModule) : (m as OrtModule)),
    (e: unknown) => {
      throw new JacobiError(`${ORT_MISSING_MESSAGE} (${e instanceof Error ? e.message : String(e)})`);
    },
  );
  if (specifier !== "onnxruntime-node") return load;
  ortPromise ??= load;
  return ortPromise;
}

// One session per staged signature: jit keeps the ClosedJaxpr of a signature for as long as its cache entry.
const sessions = new WeakMap<ClosedJaxpr, Promise<OrtSession>>();

/** ORT's name for a dtype's tensor type. */
const ORT_TYPES = { float64: "float64", float32: "float32", int32: "int32", uint32: "uint32", bool: "bool" } as const;

/** Runs `closed` on concrete `leaves` in ONNX Runtime, creating (once) its session. */
export async function runOnOrt(closed: ClosedJaxpr, leaves: readonly Tensor[], opset = 17): Promise<Tensor[]> {
  const { jaxpr } = closed;
  if (!leaves.every((l) => l instanceof ArrayTensor)) {
    throw new JacobiError('jit: the "onnxruntime" backend runs on concrete arrays only; transform the function inside jit (jit(grad(f), ...)) instead of transforming the jitted function');
  }
  let session = sessions.get(closed);
  if (session === undefined) {
    const inNames = jaxpr.inBinders.map((_, i) => `x${i}`);
    const outNames = jaxpr.outs.map((_, i) => `y${i}`);
    // Lowering errors surface synchronously to the first call's Promise.
    const model = jaxprToOnnx(closed, opset, inNames, outNames);
    session = loadOrt().then((ort) => ort.InferenceSession.create(model));
    sessions.set(closed, session);
  }
  const ort = await loadOrt();
  const feeds: Record<string, OrtTensor> = {};
  leaves.forEach((l, i) => (feeds[`x${i}`] = new ort.Tensor(ORT_TYPES[l.aval.dtype], l.toTypedArray(), l.aval.shape)));
  const results = await (await session).run(feeds);
  return jaxpr.outs.map((o, i) => {
    const { shape } = o.aval;
    const data = results[`y${i}`].data as TypedArray;
    // ORT hands bools back as a Uint8Array already; other types come in their own typed arrays.
    return new ArrayTensor(view(data, shape), o.aval);
  });
}
