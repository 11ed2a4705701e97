// jit's first call for an input signature on concrete inputs: one pass that stages the function
// and computes its results. Each primitive is recorded as BuilderTrace would record it and, once
// the recording is past EVALUATE_AFTER equations, also run through its impl on its inputs' values
// — what evaluating the staged jaxpr does equation by equation, so the results have the same bits.
// The equations before that point are evaluated then, in one go. A short function is only staged:
// its first call compiles and runs its program as before. The function sees abstract tracers
// (concrete() is null) either way, so what it may do is unchanged.
//
// The recording is compact (flat arrays of primitives, params and dense value numbers instead of
// Eqn and Var objects: about a fifth of the memory per equation, and no Var made per operation)
// and becomes a jaxpr only when something asks for one (the second call compiles it). Measured on a
// chain of 1e4-1e6 scalar sin (benchmarks/jit.bench.ts --first, memory.bench.ts --first-call): a
// first call takes 2.2-2.8 times one eager call (staging the chain costs about as much as running
// it), 1.2-2 times under grad, and under 2 times eager's peak memory.
import { type Arr, readFlat } from "../backend/index.js";
import { scalar } from "../core/convert.js";
import { Label } from "../core/label.js";
import type { Params, Primitive } from "../core/primitive.js";
import type { ShapedArray } from "../core/shaped-array.js";
import { ArrayTensor, Tensor, Tracer } from "../core/tensor.js";
import { type CustomCallParams, type MainTrace, type Trace, checkOutputsLive, withMain } from "../core/trace.js";
import { jaxprAsFun } from "../interpreters/eval.js";
import { outAvals, stageCall } from "../interpreters/staging.js";
import { type Atom, ClosedJaxpr, Eqn, Jaxpr, Literal, Var } from "../ir/jaxpr.js";

/**
 * A staged value, abstract to the function as a JaxprTracer is (concrete() is null), known to its
 * trace by number, and holding its concrete value (null once its trace stopped evaluating).
 */
class ValuedTracer extends Tracer {
  private v: Arr | number | null;
  constructor(
    readonly main: MainTrace,
    readonly aval: ShapedArray,
    readonly id: number,
    value: Arr | null,
  ) {
    super();
    this.v = value;
  }
  set value(v: Arr) {
    this.v = v;
  }
  concrete(): null {
    return null;
  }
  /** The value as evaluation reads it (a compacted one as a fresh buffer, as a literal is read). */
  get value(): Arr | null {
    const v = this.v;
    return typeof v === "number" ? scalar(v, this.aval.dtype).arr : v;
  }
  /**
   * Holds a 0-d value as a number, as a literal holds it: a one-element buffer costs some 25 times
   * its eight bytes, and the values that outlive their operation are mostly the residuals a
   * derivative keeps, a million of them for a chain of a million operations under grad.
   */
  compact(): void {
    const v = this.v;
    // A 0-d view's one element is at its offset (readFlat's arithmetic, without the call).
    if (typeof v === "object" && v !== null && this.aval.shape.length === 0) this.v = v.data[v.offset];
  }
}

/**
 * How many values stay buffers before they are compacted: enough that one used right after it is
 * made (nearly all of them) never converts back. Few, because the ring keeps its tracers alive
 * across collections: with 256 a 1e4-operation first call took a third longer (promoted garbage).
 */
const RECENT = 16; // a power of two

/**
 * Equations staged before evaluation starts. A function this short compiles and runs at its first
 * call; past it, the tracers made so far are followed by WeakRef (about a microsecond each, as much
 * as an eager operation) to give the live ones their values, so the point comes early.
 */
export const EVALUATE_AFTER = 128;

/** A recorded input or output: a value number (>= 0), or -1 - k for the k-th literal. */
type FlatAtom = number;

/**
 * Growable int32 list: the recording's numbers live outside the garbage-collected heap's object
 * graph, so collections during a long trace have nothing of it to scan or copy.
 */
class IntList {
  a = new Int32Array(256);
  length = 0;
  push(v: number): void {
    if (this.length === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.length++] = v;
  }
}

/** What a first call staged, before dead-code elimination made it a jaxpr. */
export class Recording {
  /** Per recorded equation: its primitive, params, and where its inputs and outputs end. */
  readonly prims: Primitive<any>[] = [];
  readonly params: Params[] = [];
  readonly inEnd = new IntList();
  readonly outEnd = new IntList();
  readonly ins = new IntList();
  readonly literals: Literal[] = [];
  readonly outIds = new IntList();
  /** The aval of every value number. */
  readonly avals: ShapedArray[] = [];
  /** Values from below (concrete arrays, outer tracers) by their value number, in the order met. */
  readonly constIds = new Map<Tensor, number>();
  inIds: number[] = [];
  outs: FlatAtom[] = [];
  /** After finish: which equations an output needs, how many, and the constants they read. */
  keep: Uint8Array = new Uint8Array(0);
  kept = 0;
  constNums: number[] = [];
  consts: Tensor[] = [];

  /** A new value number. */
  value(aval: ShapedArray): number {
    this.avals.push(aval);
    return this.avals.length - 1;
  }

  literal(l: Literal): FlatAtom {
    this.literals.push(l);
    return -this.literals.length;
  }

  /** Dead-code elimination (as dce does: outputs and effects are needed, backwards from the end), as flags. */
  finish(): void {
    const n = this.prims.length, prims = this.prims;
    const inEnd = this.inEnd.a, outEnd = this.outEnd.a, ins = this.ins.a, outIds = this.outIds.a;
    const live = new Uint8Array(this.avals.length);
    for (const a of this.outs) if (a >= 0) live[a] = 1;
    const keep = (this.keep = new Uint8Array(n));
    let kept = 0;
    for (let e = n - 1; e >= 0; e--) {
      let needed = false;
      for (let k = e > 0 ? outEnd[e - 1] : 0; k < outEnd[e]; k++) {
        const s = outIds[k];
        if (live[s] === 1) {
          live[s] = 0;
          needed = true;
        }
      }
      if (!needed && prims[e].effectful !== true) continue;
      keep[e] = 1;
      kept++;
      for (let k = e > 0 ? inEnd[e - 1] : 0; k < inEnd[e]; k++) if (ins[k] >= 0) live[ins[k]] = 1;
    }
    this.kept = kept;
    for (const [t, id] of this.constIds) {
      if (live[id] === 1) {
        this.constNums.push(id);
        this.consts.push(t);
      }
    }
  }

  /** The jaxpr BuilderTrace would have built: the kept equations in order, over fresh variables. */
  toClosedJaxpr(): ClosedJaxpr {
    const vars = new Array<Var>(this.avals.length);
    const bind = (id: number): Var => (vars[id] = new Var(this.avals[id]));
    const inBinders = this.inIds.map(bind);
    const constBinders = this.constNums.map(bind);
    const atom = (a: FlatAtom): Atom => (a >= 0 ? vars[a] : this.literals[-1 - a]);
    const inEnd = this.inEnd.a, outEnd = this.outEnd.a, ins = this.ins.a, outIds = this.outIds.a;
    const eqns: Eqn[] = [];
    for (let e = 0; e < this.prims.length; e++) {
      if (this.keep[e] === 0) continue;
      const i0 = e > 0 ? inEnd[e - 1] : 0, o0 = e > 0 ? outEnd[e - 1] : 0;
      const inputs = new Array<Atom>(inEnd[e] - i0);
      for (let k = i0; k < inEnd[e]; k++) inputs[k - i0] = atom(ins[k]);
      const outBinders = new Array<Var>(outEnd[e] - o0);
      for (let k = o0; k < outEnd[e]; k++) outBinders[k - o0] = bind(outIds[k]);
      eqns.push(new Eqn(this.prims[e], inputs, this.params[e], outBinders));
    }
    return new ClosedJaxpr(new Jaxpr(constBinders, inBinders, eqns, this.outs.map(atom)), this.consts);
  }
}

/** Records like BuilderTrace (into a Recording) and, past EVALUATE_AFTER equations, evaluates as it goes, while it can. */
class FirstCallTrace implements Trace {
  readonly staging = true;
  /** Not evaluating yet: the recording is short so far. */
  deferred = true;
  /** Evaluating each equation as it is recorded (false while deferred, and for good once a value is missing). */
  evaluating = false;
  readonly rec = new Recording();
  /** While deferred: the tracers made so far by value number, weakly, to be given their values. */
  private pending: (WeakRef<ValuedTracer> | undefined)[] | null = [];
  /** The arguments' values by value number. */
  private readonly argValues: Arr[] = [];
  /** The last RECENT tracers made, in a ring: the one a new tracer replaces is compacted. */
  private readonly recent = new Array<ValuedTracer | undefined>(RECENT);
  private next = 0;

  constructor(readonly main: MainTrace) {}

  newArg(x: ArrayTensor): ValuedTracer {
    const id = this.rec.value(x.aval);
    this.rec.inIds.push(id);
    this.argValues[id] = x.arr;
    return new ValuedTracer(this.main, x.aval, id, x.arr);
  }

  /**
   * Evaluates the equations recorded so far (freeing each value after its last reader there) and
   * gives the tracers still alive their values; evaluation goes on from here, unless a constant
   * is a tracer of another transformation.
   */
  private startEvaluating(): void {
    const rec = this.rec, pending = this.pending as (WeakRef<ValuedTracer> | undefined)[];
    this.deferred = false;
    this.pending = null;
    const values = new Array<Arr | undefined>(rec.avals.length);
    this.argValues.forEach((v, id) => (values[id] = v));
    for (const [t, id] of rec.constIds) {
      if (!(t instanceof ArrayTensor)) return;
      values[id] = t.arr;
    }
    const inEnd = rec.inEnd.a, outEnd = rec.outEnd.a, ins = rec.ins.a, outIds = rec.outIds.a;
    const n = rec.prims.length;
    const lastUse = new Int32Array(rec.avals.length);
    for (let e = 0; e < n; e++) for (let k = e > 0 ? inEnd[e - 1] : 0; k < inEnd[e]; k++) if (ins[k] >= 0) lastUse[ins[k]] = e;
    for (let e = 0; e < n; e++) {
      const i0 = e > 0 ? inEnd[e - 1] : 0, o0 = e > 0 ? outEnd[e - 1] : 0;
      const args = new Array<Arr>(inEnd[e] - i0);
      for (let k = i0; k < inEnd[e]; k++) args[k - i0] = this.valueAt(ins[k], values[ins[k]] as Arr) as Arr;
      const avals = new Array<ShapedArray>(outEnd[e] - o0);
      for (let k = o0; k < outEnd[e]; k++) avals[k - o0] = rec.avals[outIds[k]];
      const outs = rec.prims[e].impl(args, rec.params[e], avals);
      for (let k = i0; k < inEnd[e]; k++) if (ins[k] >= 0 && lastUse[ins[k]] === e) values[ins[k]] = undefined;
      for (let k = o0; k < outEnd[e]; k++) {
        const id = outIds[k];
        const t = pending[id]?.deref();
        if (t !== undefined) t.value = outs[k - o0];
        if (lastUse[id] > e) values[id] = outs[k - o0];
      }
    }
    this.evaluating = true;
  }

  /** As BuilderTrace.atom: own values, scalars inline as literals, anything else a constant. */
  atom(x: Tensor): FlatAtom {
    if (x instanceof ValuedTracer && x.main === this.main) return x.id;
    if (x instanceof ArrayTensor && x.aval.ndim === 0) return this.rec.literal(new Literal(readFlat(x.arr, 0), x.aval));
    let id = this.rec.constIds.get(x);
    if (id === undefined) this.rec.constIds.set(x, (id = this.rec.value(x.aval)));
    return id;
  }

  /** The value behind an atom the way evalJaxpr reads it (a literal is a fresh scalar), or null. */
  valueAt(a: FlatAtom, t: Tensor | Arr): Arr | null {
    if (a < 0) {
      const l = this.rec.literals[-1 - a];
      return scalar(l.value, l.aval.dtype, l.aval.weakType).arr;
    }
    if (t instanceof ValuedTracer && t.main === this.main) return t.value;
    if (t instanceof ArrayTensor) return t.arr;
    return t instanceof Tensor ? null : t;
  }

  private record(prim: Primitive<any>, args: Tensor[], params: Params, avals: ShapedArray[]): Tensor[] {
    const rec = this.rec;
    const n = args.length;
    let vals: Arr[] | null = this.evaluating ? new Array<Arr>(n) : null;
    for (let i = 0; i < n; i++) {
      const x = args[i];
      const a = this.atom(x);
      rec.ins.push(a);
      if (vals !== null) {
        const v = x instanceof ValuedTracer && x.main === this.main ? x.value : this.valueAt(a, x);
        if (v === null) {
          // A tracer of another transformation: no value here; the jaxpr will be run instead.
          this.evaluating = false;
          vals = null;
        } else vals[i] = v;
      }
    }
    rec.inEnd.push(rec.ins.length);
    rec.prims.push(prim);
    rec.params.push(params);
    const outs = vals === null ? null : prim.impl(vals, params, avals);
    const tracers = new Array<ValuedTracer>(avals.length);
    for (let i = 0; i < avals.length; i++) {
      const id = rec.value(avals[i]);
      rec.outIds.push(id);
      const t = (tracers[i] = new ValuedTracer(this.main, avals[i], id, outs === null ? null : outs[i]));
      this.recent[this.next]?.compact();
      this.recent[this.next] = t;
      this.next = (this.next + 1) & (RECENT - 1);
      if (this.pending !== null) this.pending[id] = new WeakRef(t);
    }
    rec.outEnd.push(rec.outIds.length);
    if (this.deferred && rec.prims.length > EVALUATE_AFTER) this.startEvaluating();
    return tracers;
  }

  processPrimitive(prim: Primitive<any>, args: Tensor[], params: Params): Tensor[] {
    return this.record(prim, args, params, outAvals(prim, args, params));
  }

  /** As BuilderTrace: the custom call is recorded with its function staged, so its rules survive. */
  private stageCustomCall(prim: Primitive<any>, args: Tensor[], params: CustomCallParams): Tensor[] {
    const { call, hoisted } = stageCall(prim.name, params.fun.value, args);
    // customJvp and customVjp always give numConsts (0 when nothing was hoisted before).
    const numConsts = (params.numConsts as number) + hoisted.length;
    const staged = { ...params, call, numConsts, fun: new Label(jaxprAsFun(call), String(params.fun)) };
    return this.record(prim, [...hoisted, ...args], staged, call.jaxpr.outs.map((a) => a.aval));
  }
  processCustomJvpCall(prim: Primitive<any>, args: Tensor[], params: CustomCallParams): Tensor[] {
    return this.stageCustomCall(prim, args, params);
  }
  processCustomVjpCall(prim: Primitive<any>, args: Tensor[], params: CustomCallParams): Tensor[] {
    return this.stageCustomCall(prim, args, params);
  }
}

export interface FirstCall {
  /** The staging, dead code already flagged; `toClosedJaxpr` makes its jaxpr. */
  recording: Recording;
  /** The outputs' values (with their avals), or null when a tracer of another transformation stopped the evaluation. */
  outputs: ArrayTensor[] | null;
}

/** Stages `f` on abstract tracers of `args`' avals, computing its outputs from `args`' values on the way. */
export function stageAndEvaluate(transform: string, args: readonly ArrayTensor[], f: (xs: Tensor[]) => Tensor[]): FirstCall {
  return withMain(
    transform,
    (main) => new FirstCallTrace(main),
    (trace) => {
      const ins = args.map((a) => trace.newArg(a));
      const outs = f(ins);
      // Outputs need not have gone through bind: a dead tracer here would become a constant.
      checkOutputsLive(outs);
      const rec = trace.rec;
      const outAtoms = outs.map((o) => trace.atom(o));
      rec.outs = outAtoms;
      rec.finish();
      const outputs: ArrayTensor[] = [];
      for (let i = 0; i < outs.length && trace.evaluating; i++) {
        const v = trace.valueAt(outAtoms[i], outs[i]);
        if (v === null) trace.evaluating = false;
        else outputs.push(new ArrayTensor(v, outs[i].aval));
      }
      return { recording: rec, outputs: trace.evaluating ? outputs : null };
    },
  );
}
