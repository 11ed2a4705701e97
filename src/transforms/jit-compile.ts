// Compiles a jaxpr into a program over buffers: maximal chains of elementwise equations of one
// shape, with the reductions (sum, max, min, prod) of their values, become a single generated
// loop (backend/fusion.ts); every other equation calls its primitive's impl directly. Both compute
// exactly what evalJaxpr computes on concrete inputs.
import { type FusedChain, FusedKernel, type FusedOp, type FusedReduction } from "../backend/index.js";
import type { FoldKind } from "../backend/index.js";
import type { Arr } from "../backend/index.js";
import { scalar } from "../core/convert.js";
import type { Params, Primitive } from "../core/primitive.js";
import { type ShapedArray, sameShape } from "../core/shaped-array.js";
import { type Atom, Eqn, type Jaxpr, Literal, Var } from "../ir/jaxpr.js";
import { VarTable, slotRange } from "../ir/var-table.js";

/** What compilation did, for tests and benchmarks. */
export interface JitStats {
  /** Fused loops in the program (chains of two or more elementwise equations). */
  loops: number;
  /** Equations folded into those loops. */
  fusedEqns: number;
  /** Buffers those loops write: the chains' live outputs. */
  fusedBuffers: number;
  /** Reductions folded into those loops (their inputs are never written). */
  fusedReductions: number;
  /** Equations run one by one through their impl. */
  eqnSteps: number;
}

interface EqnStep {
  kind: "eqn";
  prim: Primitive<any>;
  params: Params;
  outAvals: ShapedArray[];
  ins: number[];
  outs: number[];
  /** Slots whose last use is this step: released so the garbage collector can take them. */
  frees: number[];
}
interface FusedStep {
  kind: "fused";
  kernel: FusedKernel;
  shape: readonly number[];
  ins: number[];
  outs: number[];
  frees: number[];
  /** The chain's equations one by one, for inputs whose layout the loop cannot reduce as eager does. */
  eqns: EqnStep[];
  /** Slots the equations define that the loop keeps local: cleared after they run. */
  locals: number[];
}
type Step = EqnStep | FusedStep;

interface Group {
  eqns: Eqn[];
  shape: readonly number[];
}

/**
 * Longest chain in one loop: the generated function holds one local per equation, and a function
 * of a hundred thousand statements takes V8 long to compile (long scalar chains are common in
 * tests of deep graphs); past this length a new loop starts, reading the previous one's results.
 */
export const MAX_CHAIN = 256;

const fusable = (e: Eqn): boolean =>
  e.primitive.elementwiseExpr !== undefined && e.outBinders.length === 1 && e.inputs.every((a) => sameShape(a.aval.shape, e.outBinders[0].aval.shape));

const REDUCTIONS: Record<string, FoldKind> = { reduce_sum: "sum", reduce_max: "max", reduce_min: "min", reduce_prod: "prod" };
/** The fold of a reduction equation that can join the chain producing its input. */
const reductionOf = (e: Eqn): FoldKind | undefined => (Object.hasOwn(REDUCTIONS, e.primitive.name) ? REDUCTIONS[e.primitive.name] : undefined);

/**
 * Jaxprs longer than this run their first call equation by equation and compile on the second:
 * compiling a long chain (grouping, generating and parsing its loops) cost several eager calls,
 * so a jitted function called once would pay for a program it never reuses.
 */
export const INTERPRET_FIRST_CALL = 2000;

/** A jaxpr's compiled program, made at its first call (its second, for long jaxprs). */
export class CompiledJaxpr {
  private program: Program | null = null;
  private calls = 0;
  /** How long making the program took, in milliseconds (0 until it is made). */
  compileMs = 0;

  constructor(private readonly jaxpr: Jaxpr) {}

  /** Whether the program has been made (a long jaxpr's first call runs without one). */
  get isCompiled(): boolean {
    return this.program !== null;
  }

  private compiled(): Program {
    if (this.program === null) {
      const start = performance.now();
      this.program = new Program(this.jaxpr);
      this.compileMs = performance.now() - start;
    }
    return this.program;
  }

  /** What compilation did (compiling now if it has not yet). */
  get stats(): JitStats {
    return this.compiled().stats;
  }

  /** The generated loops with row-major inputs, for inspection. */
  sources(): string[] {
    return this.compiled().sources();
  }

  /**
   * Counts a call whose results were computed elsewhere (jit's staging evaluated them): a short
   * jaxpr compiles now, as at a first run, a long one at its next run.
   */
  ranElsewhere(): void {
    if (this.calls++ === 0 && this.jaxpr.eqns.length <= INTERPRET_FIRST_CALL) this.compiled();
  }

  run(consts: Arr[], args: Arr[]): Arr[] {
    if (this.calls++ === 0 && this.program === null && this.jaxpr.eqns.length > INTERPRET_FIRST_CALL) return interpret(this.jaxpr, consts, args);
    return this.compiled().run(consts, args);
  }
}

/** The jaxpr evaluated with each primitive's impl in order: what eager evaluation computes. */
function interpret(j: Jaxpr, consts: Arr[], args: Arr[]): Arr[] {
  // Tables indexed by Var id: hashing a million Vars into Maps cost several eager calls.
  const [lo, hi] = slotRange(j);
  // Each value is dropped after its last reader, so a long chain keeps a few buffers alive.
  const lastUse = new VarTable<number>(lo, hi);
  j.eqns.forEach((e, i) => {
    for (const a of e.inputs) if (a instanceof Var) lastUse.set(a, i);
  });
  for (const a of j.outs) if (a instanceof Var) lastUse.set(a, j.eqns.length);
  const env = new VarTable<Arr>(lo, hi);
  j.constBinders.forEach((v, i) => env.set(v, consts[i]));
  j.inBinders.forEach((v, i) => env.set(v, args[i]));
  const read = (a: Atom): Arr => (a instanceof Var ? (env.get(a) as Arr) : scalar(a.value, a.aval.dtype, a.aval.weakType).arr);
  for (let i = 0; i < j.eqns.length; i++) {
    const e = j.eqns[i];
    const outs = e.primitive.impl(e.inputs.map(read), e.params, e.outBinders.map((v) => v.aval));
    for (const a of e.inputs) if (a instanceof Var && lastUse.get(a) === i) env.delete(a);
    e.outBinders.forEach((v, k) => env.set(v, outs[k]));
  }
  return j.outs.map(read);
}

class Program {
  readonly stats: JitStats = { loops: 0, fusedEqns: 0, fusedBuffers: 0, fusedReductions: 0, eqnSteps: 0 };
  private readonly steps: Step[] = [];
  private readonly nSlots: number;
  private readonly constSlots: number[];
  private readonly argSlots: number[];
  private readonly fixed: [number, Arr][] = [];
  private readonly outSlots: number[];

  constructor(jaxpr: Jaxpr) {
    // Tables indexed by Var id: hashing a million Vars into Maps dominated compiling long chains.
    const [lo, hi] = slotRange(jaxpr);
    const slotOf = new VarTable<number>(lo, hi);
    let nSlots = 0;
    const slot = (v: Var): number => {
      let s = slotOf.get(v);
      if (s === undefined) slotOf.set(v, (s = nSlots++));
      return s;
    };
    const literalSlot = new Map<Literal, number>();
    const atomSlot = (a: Var | Literal): number => {
      if (a instanceof Var) return slot(a);
      let s = literalSlot.get(a);
      if (s === undefined) {
        literalSlot.set(a, (s = nSlots++));
        // The same tensor evalJaxpr makes for a literal, so the impls see the same input.
        this.fixed.push([s, scalar(a.value, a.aval.dtype, a.aval.weakType).arr]);
      }
      return s;
    };
    this.constSlots = jaxpr.constBinders.map(slot);
    this.argSlots = jaxpr.inBinders.map(slot);

    // Grouping, in program order. One open chain per shape; a reduction joins the chain of its
    // input's shape. An equation that reads a value of an open chain it does not join (or a
    // reduction's result, which the loop only has at its end) closes that chain first, so every
    // chain runs after all it reads and before its readers.
    const order: (Eqn | Group)[] = [];
    const open = new Map<string, Group>();
    const groupOf = new VarTable<Group>(lo, hi);
    const reduced = new VarTable<true>(lo, hi);
    const isOpen = (g: Group): boolean => open.get(g.shape.join(",")) === g;
    const close = (g: Group): void => {
      open.delete(g.shape.join(","));
      order.push(g);
    };
    for (const e of jaxpr.eqns) {
      const red = reductionOf(e);
      const joins = red !== undefined || fusable(e);
      // An equation without outputs (debug_callback) has no shape to fuse on.
      const shape = red !== undefined ? e.inputs[0].aval.shape : (e.outBinders[0]?.aval.shape ?? []);
      const key = shape.join(",");
      for (const a of e.inputs) {
        const g = a instanceof Var ? groupOf.get(a) : undefined;
        if (g !== undefined && isOpen(g) && (!joins || g.shape.join(",") !== key || reduced.has(a as Var))) close(g);
      }
      if (!joins) {
        order.push(e);
        continue;
      }
      let g = open.get(key);
      if (g === undefined) open.set(key, (g = { eqns: [], shape }));
      g.eqns.push(e);
      groupOf.set(e.outBinders[0], g);
      if (red !== undefined) reduced.set(e.outBinders[0], true);
      if (g.eqns.length === MAX_CHAIN) close(g);
    }
    for (const g of [...open.values()]) close(g);

    // A chain's value is live when something outside the chain reads it.
    const liveOut = new VarTable<true>(lo, hi);
    for (const a of jaxpr.outs) if (a instanceof Var) liveOut.set(a, true);
    for (const e of jaxpr.eqns) {
      // Only fusable equations' results are in groupOf: no need to test fusability again.
      const mine = e.outBinders.length > 0 ? groupOf.get(e.outBinders[0]) : undefined;
      for (const a of e.inputs) {
        if (!(a instanceof Var)) continue;
        const g = groupOf.get(a);
        if (g !== undefined && g !== mine) liveOut.set(a, true);
      }
    }

    const eqnStep = (e: Eqn): EqnStep => ({
      kind: "eqn",
      prim: e.primitive,
      params: e.params,
      outAvals: e.outBinders.map((v) => v.aval),
      ins: e.inputs.map(atomSlot),
      outs: e.outBinders.map(slot),
      frees: [],
    });
    for (const item of order) {
      if (item instanceof Eqn || item.eqns.length === 1) {
        // A lone elementwise equation gains nothing from a generated loop; its impl (mapN) also
        // keeps broadcast results at stride 0.
        this.steps.push(eqnStep(item instanceof Eqn ? item : item.eqns[0]));
        this.stats.eqnSteps++;
        continue;
      }
      const g = item;
      const external: number[] = [];
      const valueIndex = new Map<number, number>();
      const inDtypes: ShapedArray[] = [];
      const local = new Map<Var, number>();
      const ops: FusedOp[] = [];
      const reductions: FusedReduction[] = [];
      const outs: number[] = [];
      const outSlots: number[] = [];
      const reducedSlots: number[] = [];
      const locals: Var[] = [];
      for (const e of g.eqns) {
        const args = e.inputs.map((a) => {
          if (a instanceof Var && local.has(a)) return local.get(a) as number;
          const s = atomSlot(a);
          let k = valueIndex.get(s);
          if (k === undefined) {
            valueIndex.set(s, (k = external.length));
            external.push(s);
            inDtypes.push(a.aval);
          }
          return -1 - k;
        });
        const out = e.outBinders[0];
        const red = reductionOf(e);
        if (red !== undefined) {
          reductions.push({ kind: red, arg: args[0], axes: (e.params as { axes: number[] }).axes, dtype: out.aval.dtype });
          reducedSlots.push(slot(out));
          continue;
        }
        local.set(out, ops.length);
        ops.push({ expr: (e.primitive.elementwiseExpr as NonNullable<Primitive["elementwiseExpr"]>)(e.params, out.aval.dtype, e.inputs.map((a) => a.aval.dtype)), args, dtype: out.aval.dtype });
        if (liveOut.has(out)) {
          outs.push(ops.length - 1);
          outSlots.push(slot(out));
        } else locals.push(out);
      }
      // Value indices were provisional (inputs negative) because inputs keep being discovered.
      const nIn = external.length;
      const fix = (a: number): number => (a < 0 ? -1 - a : nIn + a);
      for (const op of ops) op.args = op.args.map(fix);
      for (const r of reductions) r.arg = fix(r.arg);
      const chain: FusedChain = { inDtypes: inDtypes.map((a) => a.dtype), ops, outs };
      if (reductions.length > 0) chain.reductions = reductions;
      this.steps.push({
        kind: "fused",
        kernel: new FusedKernel(chain),
        shape: g.shape,
        ins: external,
        outs: [...outSlots, ...reducedSlots],
        frees: [],
        // Only a loop with reductions can decline its inputs' layouts (FusedKernel.run).
        eqns: reductions.length > 0 ? g.eqns.map(eqnStep) : [],
        locals: reductions.length > 0 ? locals.map(slot) : [],
      });
      this.stats.loops++;
      this.stats.fusedEqns += g.eqns.length;
      this.stats.fusedBuffers += outs.length;
      this.stats.fusedReductions += reductions.length;
    }
    this.outSlots = jaxpr.outs.map(atomSlot);
    this.nSlots = nSlots;

    // Release each slot after its last reader, as evalJaxpr does, unless it is an output.
    const keep = new Set(this.outSlots);
    const lastUse = new Int32Array(nSlots).fill(-1);
    this.steps.forEach((st, i) => st.ins.forEach((s) => (lastUse[s] = i)));
    lastUse.forEach((i, s) => {
      if (i >= 0 && !keep.has(s)) this.steps[i].frees.push(s);
    });
  }

  /** The generated loops with row-major inputs, for inspection. */
  sources(): string[] {
    return this.steps.flatMap((st) => (st.kind === "fused" ? [st.kernel.sourceFor(st.shape)] : []));
  }

  run(consts: Arr[], args: Arr[]): Arr[] {
    const env = new Array<Arr | undefined>(this.nSlots);
    for (let i = 0; i < consts.length; i++) env[this.constSlots[i]] = consts[i];
    for (let i = 0; i < args.length; i++) env[this.argSlots[i]] = args[i];
    for (const [s, a] of this.fixed) env[s] = a;
    for (const st of this.steps) {
      const ins = new Array<Arr>(st.ins.length);
      for (let i = 0; i < ins.length; i++) ins[i] = env[st.ins[i]] as Arr;
      const outs = st.kind === "eqn" ? st.prim.impl(ins, st.params, st.outAvals) : st.kernel.run(ins, st.shape);
      if (outs === null) {
        // The loop cannot reduce in eager's order for these layouts: the equations run one by one.
        runEqns((st as FusedStep).eqns, env);
        for (const s of (st as FusedStep).locals) env[s] = undefined;
      }
      for (const s of st.frees) env[s] = undefined;
      if (outs !== null) for (let i = 0; i < outs.length; i++) env[st.outs[i]] = outs[i];
    }
    return this.outSlots.map((s) => env[s] as Arr);
  }
}

function runEqns(steps: EqnStep[], env: (Arr | undefined)[]): void {
  for (const st of steps) {
    const outs = st.prim.impl(
      st.ins.map((s) => env[s] as Arr),
      st.params,
      st.outAvals,
    );
    for (let i = 0; i < outs.length; i++) env[st.outs[i]] = outs[i];
  }
}
