// jit: stage a function once per input signature into a jaxpr, then run that jaxpr. Concrete calls
// run a compiled program (elementwise chains fused into single loops); calls on tracers evaluate
// the jaxpr equation by equation through bind, so jit composes with every other transformation.
import type { Arr } from "../backend/index.js";
import { config } from "../core/config.js";
import { JacobiError } from "../core/errors.js";
import { ArrayTensor, type Tensor, Tracer } from "../core/tensor.js";
import { type TreeDef, flatten, unflatten } from "../core/tree.js";
import { jsIntegerKind, markJsInteger } from "../core/convert.js";
import { traceToJaxpr } from "../interpreters/staging.js";
import { evalJaxpr } from "../interpreters/eval.js";
import type { ClosedJaxpr } from "../ir/jaxpr.js";
import { type Fn, type LooseTree, type Output, type TensorTree, checkFn, inputLeaves, outputLeaves } from "./common.js";
import { CompiledJaxpr, type JitStats } from "./jit-compile.js";
import { runOnOrt } from "../export/onnxruntime.js";

export interface JitOptions {
  /** Positions of arguments passed as they are (not traced); a new value retraces. */
  staticArgnums?: number | number[];
  /**
   * Where concrete calls run: "default" (the built-in compiled program) or "onnxruntime" (an ONNX
   * model of the staged jaxpr in ONNX Runtime, from the optional peer dependency
   * onnxruntime-node, one session per signature); with "onnxruntime" the jitted function returns
   * a Promise of its result.
   */
  backend?: "default" | "onnxruntime";
}

interface Entry {
  closed: ClosedJaxpr;
  outDef: TreeDef;
  compiled: CompiledJaxpr | null;
  /** The user function's name and the traced arguments' avals, for config "logCompiles". */
  name: string;
  signature: string;
}

/** With config "logCompiles", says on stderr what was traced or compiled, for which signature, in how long. */
function logCompile(what: string, entry: Entry, eqns: number, ms: number): void {
  if (config.read("logCompiles")) console.warn(`jacobi: jit ${what} ${entry.name}(${entry.signature}): ${eqns} equations in ${ms.toFixed(1)} ms`);
}

// Per user function (so two jit wrappers of one function share traces), then per signature.
const caches = new WeakMap<Fn, Map<string, Entry>>();
// Static values that are neither numbers, strings nor booleans are compared by identity.
const objectIds = new WeakMap<object, number>();
let nextObjectId = 0;

function staticKey(v: unknown): string {
  switch (typeof v) {
    case "number": return Object.is(v, -0) ? "n-0" : `n${v}`;
    case "string": return `s${JSON.stringify(v)}`;
    case "boolean": return `b${v}`;
    case "undefined": return "u";
    case "bigint": return `i${v}`;
    case "symbol": return `y${String(v)}`;
  }
  if (v === null) return "null";
  const o = v as object;
  let id = objectIds.get(o);
  if (id === undefined) objectIds.set(o, (id = nextObjectId++));
  return `o${id}`;
}

function checkStaticArgnums(s: unknown): number[] {
  const list = Array.isArray(s) ? s : [s];
  for (const a of list) {
    if (typeof a !== "number" || !Number.isInteger(a)) {
      throw new JacobiError(`jit: staticArgnums must be an integer or an array of integers, got ${typeof a === "number" ? String(a) : (JSON.stringify(a) ?? String(a))}`);
    }
  }
  if (new Set(list).size !== list.length) throw new JacobiError(`jit: staticArgnums ${JSON.stringify(list)} has duplicates`);
  return list as number[];
}

/** Everything a call needs: the staged function for this signature and the traced inputs. */
function prepare(f: Fn, statics: number[], args: unknown[]): [Entry, Tensor[]] {
  const nargs = args.length;
  const isStatic = new Array<boolean>(nargs).fill(false);
  for (const s of statics) {
    if (s < -nargs || s >= nargs) {
      throw new JacobiError(`jit: staticArgnums ${s} is out of range for a call with ${nargs} positional argument${nargs === 1 ? "" : "s"}`);
    }
    isStatic[s < 0 ? s + nargs : s] = true;
  }
  const dynamic = args.filter((_, i) => !isStatic[i]);
  const [leaves, def] = inputLeaves(dynamic, "jit: argument");
  // A JS integer is staged as a weak float64 that promotes like a JS integer (as eagerly): the kind
  // is part of the signature. The structure is keyed by its canonical encoding, not its printed form.
  const kinds = flatten(dynamic)[0].map(jsIntegerKind);
  let key = `${nargs}|${def.canonicalKey()}|`;
  leaves.forEach((l, i) => (key += `${l.aval.str()}${l.aval.weakType ? "w" : ""}${kinds[i]};`));
  for (let i = 0; i < nargs; i++) if (isStatic[i]) key += `|${i}=${staticKey(args[i])}`;

  let cache = caches.get(f);
  if (cache === undefined) caches.set(f, (cache = new Map()));
  const hit = cache.get(key);
  if (hit !== undefined) return [hit, leaves];

  let outDef: TreeDef | undefined;
  const traceStart = performance.now();
  const closed = traceToJaxpr(
    "jit",
    leaves.map((l) => l.aval),
    (xs) => {
      xs.forEach((x, i) => markJsInteger(x, kinds[i]));
      const dyn = unflatten(def, xs) as unknown[];
      let k = 0;
      const full = args.map((a, i) => (isStatic[i] ? a : dyn[k++]));
      const [outs, d] = outputLeaves(f(...full), "jit");
      outDef = d;
      return outs;
    },
  );
  const signature = leaves.map((l) => `${l.aval.str()}${l.aval.weakType ? "{weak}" : ""}`).join(", ");
  const entry: Entry = { closed, outDef: outDef as TreeDef, compiled: null, name: f.name || "anonymous", signature };
  logCompile("traced", entry, closed.jaxpr.eqns.length, performance.now() - traceStart);
  // A closed-over tracer of an enclosing transformation is only valid during this call: such a
  // staging is used once and not kept.
  if (!closed.consts.some((c) => c instanceof Tracer)) cache.set(key, entry);
  return [entry, leaves];
}

function runEntry(entry: Entry, leaves: Tensor[]): Tensor[] {
  const { closed } = entry;
  const concrete = leaves.every((l) => l instanceof ArrayTensor) && closed.consts.every((c) => c instanceof ArrayTensor);
  if (!concrete) return evalJaxpr(closed.jaxpr, closed.consts, leaves);
  if (entry.compiled === null) {
    const compileStart = performance.now();
    entry.compiled = new CompiledJaxpr(closed.jaxpr);
    logCompile("compiled", entry, closed.jaxpr.eqns.length, performance.now() - compileStart);
  }
  const outs = entry.compiled.run(
    closed.consts.map((c) => (c as ArrayTensor).arr),
    leaves.map((l) => (l as ArrayTensor).arr),
  );
  return outs.map((a: Arr, i) => new ArrayTensor(a, closed.jaxpr.outs[i].aval));
}

const wrappers = new WeakMap<Fn, { f: Fn; statics: number[] }>();

/**
 * `f` staged once per input signature (the pytree structure, shapes, dtypes and weak types of
 * the traced arguments, and the values of the static ones) and run as a compiled program. Inside
 * `f` values are abstract: JS branches on them throw ConcretizationError.
 */
export function jit<P extends any[], R extends Output>(f: (...args: P) => R, opts: JitOptions & { backend: "onnxruntime" }): (...args: LooseTree<P>) => Promise<TensorTree<R>>;
export function jit<P extends any[], R extends Output>(f: (...args: P) => R, opts?: JitOptions): (...args: LooseTree<P>) => TensorTree<R>;
export function jit(f: Fn, opts: JitOptions = {}): (...args: unknown[]) => unknown {
  checkFn(f, "jit");
  if (typeof opts !== "object" || opts === null) throw new JacobiError(`jit: options must be an object such as { staticArgnums: [1] }, got ${String(opts)}`);
  const statics = opts.staticArgnums === undefined ? [] : checkStaticArgnums(opts.staticArgnums);
  for (const k of Object.keys(opts)) if (k !== "staticArgnums" && k !== "backend") throw new JacobiError(`jit: unknown option "${k}"; the options are: staticArgnums, backend`);
  if (opts.backend !== undefined && opts.backend !== "default" && opts.backend !== "onnxruntime") {
    throw new JacobiError(`jit: backend must be "default" or "onnxruntime", got ${JSON.stringify(opts.backend) ?? String(opts.backend)}`);
  }
  if (opts.backend === "onnxruntime") {
    return (...args: unknown[]): Promise<unknown> => {
      const [entry, leaves] = prepare(f, statics, args);
      return runOnOrt(entry.closed, leaves).then((outs) => unflatten(entry.outDef, outs));
    };
  }
  const jitted = (...args: unknown[]): unknown => {
    const [entry, leaves] = prepare(f, statics, args);
    return unflatten(entry.outDef, runEntry(entry, leaves));
  };
  wrappers.set(jitted, { f, statics });
  return jitted;
}

/** Internal: the staged jaxpr and compilation stats `jitted` uses for these arguments. */
export function jitInspect(jitted: Fn, ...args: unknown[]): { jaxpr: ClosedJaxpr; stats: JitStats; source: string[] } {
  const w = wrappers.get(jitted);
  if (w === undefined) throw new JacobiError("jitInspect: expected a function returned by jit");
  const [entry] = prepare(w.f, w.statics, args);
  entry.compiled ??= new CompiledJaxpr(entry.closed.jaxpr);
  return { jaxpr: entry.closed, stats: entry.compiled.stats, source: entry.compiled.sources() };
}
