// jit: stage a function once per input signature into a jaxpr, then run that jaxpr. Concrete calls
// run a compiled program (elementwise chains fused into single loops); calls on tracers evaluate
// the jaxpr equation by equation through bind, so jit composes with every other transformation.
// The call that stages a signature on concrete inputs also computes its results while staging
// (jit-first-call.ts), so a function called once costs about an eager call, not a trace, a compile
// and a run; the compiled program serves the calls after it.
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
import { CompiledJaxpr, INTERPRET_FIRST_CALL, type JitStats } from "./jit-compile.js";
import { type Recording, stageAndEvaluate } from "./jit-first-call.js";
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

/** One staged signature of a jitted function. */
class Entry {
  compiled: CompiledJaxpr | null = null;
  /** Whether a call has already run (its results computed while staging): the next one compiles. */
  ranOnce = false;
  private staged: ClosedJaxpr | null;
  private recording: Recording | null;
  /** Equations of the staged jaxpr. */
  readonly eqns: number;

  constructor(
    staged: ClosedJaxpr | Recording,
    readonly outDef: TreeDef,
    /** The user function's name and the traced arguments' avals, for config "logCompiles". */
    readonly name: string,
    readonly signature: string,
  ) {
    const isJaxpr = "jaxpr" in staged;
    this.staged = isJaxpr ? staged : null;
    this.recording = isJaxpr ? null : staged;
    this.eqns = isJaxpr ? staged.jaxpr.eqns.length : staged.kept;
  }

  /** The staged jaxpr, made from a first call's recording when first asked for. */
  get closed(): ClosedJaxpr {
    if (this.staged === null) {
      this.staged = (this.recording as Recording).toClosedJaxpr();
      this.recording = null;
    }
    return this.staged;
  }

  /** The compiled program (not made until a run needs it; a long jaxpr's first run interprets). */
  program(): CompiledJaxpr {
    if (this.compiled === null) {
      this.compiled = new CompiledJaxpr(this.closed.jaxpr);
      if (this.ranOnce) this.compiled.ranElsewhere();
    }
    return this.compiled;
  }
}

/** With config "logCompiles", says on stderr what was traced or compiled, for which signature, in how long. */
function logCompile(what: string, entry: Entry, ms: number): void {
  if (config.read("logCompiles")) console.warn(`jacobi: jit ${what} ${entry.name}(${entry.signature}): ${entry.eqns} equations in ${ms.toFixed(1)} ms`);
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

/**
 * Everything a call needs: the staged function for this signature, the traced inputs, and the
 * results when staging computed them (a first call on concrete inputs).
 */
function prepare(f: Fn, statics: number[], args: unknown[], evaluate: boolean): [Entry, Tensor[], ArrayTensor[] | null] {
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
  if (hit !== undefined) return [hit, leaves, null];

  let outDef: TreeDef | undefined;
  const traceStart = performance.now();
  const run = (xs: Tensor[]): Tensor[] => {
    xs.forEach((x, i) => markJsInteger(x, kinds[i]));
    const dyn = unflatten(def, xs) as unknown[];
    let k = 0;
    const full = args.map((a, i) => (isStatic[i] ? a : dyn[k++]));
    const [outs, d] = outputLeaves(f(...full), "jit");
    outDef = d;
    return outs;
  };
  const signature = leaves.map((l) => `${l.aval.str()}${l.aval.weakType ? "{weak}" : ""}`).join(", ");
  const name = f.name || "anonymous";
  let entry: Entry, values: ArrayTensor[] | null = null, consts: readonly Tensor[];
  // Tracer leaves (jit under another transformation) have no values to evaluate with.
  if (evaluate && leaves.every((l) => l instanceof ArrayTensor)) {
    const first = stageAndEvaluate("jit", leaves as ArrayTensor[], run);
    values = first.outputs;
    // Without values (a tracer of another transformation stopped the evaluation) the jaxpr runs now.
    entry = new Entry(values === null ? first.recording.toClosedJaxpr() : first.recording, outDef as TreeDef, name, signature);
    consts = first.recording.consts;
  } else {
    const closed = traceToJaxpr("jit", leaves.map((l) => l.aval), run);
    entry = new Entry(closed, outDef as TreeDef, name, signature);
    consts = closed.consts;
  }
  logCompile("traced", entry, performance.now() - traceStart);
  // A closed-over tracer of an enclosing transformation is only valid during this call: such a
  // staging is used once and not kept.
  if (!consts.some((c) => c instanceof Tracer)) cache.set(key, entry);
  return [entry, leaves, values];
}

/** The entry's outputs for `leaves`: `values` when staging computed them, else a run of the jaxpr. */
function runEntry(entry: Entry, leaves: Tensor[], values: ArrayTensor[] | null): Tensor[] {
  if (values !== null) {
    // The first call. A short program compiles now, as it would at a first run; a long one at the
    // next call, so that a function called once never pays for compiling.
    entry.ranOnce = true;
    if (entry.eqns <= INTERPRET_FIRST_CALL) withProgram(entry, () => null);
    return values;
  }
  const { closed } = entry;
  const concrete = leaves.every((l) => l instanceof ArrayTensor) && closed.consts.every((c) => c instanceof ArrayTensor);
  if (!concrete) return evalJaxpr(closed.jaxpr, closed.consts, leaves);
  const outs = withProgram(entry, (p) =>
    p.run(
      closed.consts.map((c) => (c as ArrayTensor).arr),
      leaves.map((l) => (l as ArrayTensor).arr),
    ),
  );
  return outs.map((a: Arr, i) => new ArrayTensor(a, closed.jaxpr.outs[i].aval));
}

/** `use` of the entry's program, saying so under "logCompiles" when that is what compiled it. */
function withProgram<T>(entry: Entry, use: (p: CompiledJaxpr) => T): T {
  const was = entry.compiled?.isCompiled === true;
  const program = entry.program();
  const r = use(program);
  if (!was && program.isCompiled) logCompile("compiled", entry, program.compileMs);
  return r;
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
      const [entry, leaves] = prepare(f, statics, args, false);
      return runOnOrt(entry.closed, leaves).then((outs) => unflatten(entry.outDef, outs));
    };
  }
  const jitted = (...args: unknown[]): unknown => {
    const [entry, leaves, values] = prepare(f, statics, args, true);
    return unflatten(entry.outDef, runEntry(entry, leaves, values));
  };
  wrappers.set(jitted, { f, statics });
  return jitted;
}

/** Internal: the staged jaxpr and compilation stats `jitted` uses for these arguments. */
export function jitInspect(jitted: Fn, ...args: unknown[]): { jaxpr: ClosedJaxpr; stats: JitStats; source: string[] } {
  const w = wrappers.get(jitted);
  if (w === undefined) throw new JacobiError("jitInspect: expected a function returned by jit");
  const [entry] = prepare(w.f, w.statics, args, false);
  const program = entry.program();
  return { jaxpr: entry.closed, stats: program.stats, source: program.sources() };
}
