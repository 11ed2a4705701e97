// Compiles a jaxpr into a program over buffers: maximal chains of elementwise equations of one
// shape become a single generated loop (backend/fusion.ts); every other equation calls its
// primitive's impl directly. Both compute exactly what evalJaxpr computes on concrete inputs.
import { FusedKernel, type FusedOp } from "../backend/fusion.js";
import type { Arr } from "../backend/ndarray-view.js";
import { scalar } from "../core/convert.js";
import type { Params, Primitive } from "../core/primitive.js";
import { type ShapedArray, sameShape } from "../core/shaped-array.js";
import { Eqn, type Jaxpr, Literal, Var } from "../ir/jaxpr.js";

/** What compilation did, for tests and benchmarks. */
export interface JitStats {
  /** Fused loops in the program (chains of two or more elementwise equations). */
  loops: number;
  /** Equations folded into those loops. */
  fusedEqns: number;
  /** Buffers those loops write: the chains' live outputs. */
  fusedBuffers: number;
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

export class CompiledJaxpr {
  readonly stats: JitStats = { loops: 0, fusedEqns: 0, fusedBuffers: 0, eqnSteps: 0 };
  private readonly steps: Step[] = [];
  private readonly nSlots: number;
  private readonly constSlots: number[];
  private readonly argSlots: number[];
  private readonly fixed: [number, Arr][] = [];
  private readonly outSlots: number[];

  constructor(jaxpr: Jaxpr) {
    const slotOf = new Map<Var, number>();
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

    // Grouping, in program order. One open chain per shape; an equation that reads a value of an
    // open chain closes it first, so every chain runs after all it reads and before its readers.
    const order: (Eqn | Group)[] = [];
    const open = new Map<string, Group>();
    const groupOf = new Map<Var, Group>();
    const close = (g: Group): void => {
      open.delete(g.shape.join(","));
      order.push(g);
    };
    for (const e of jaxpr.eqns) {
      if (fusable(e)) {
        const key = e.outBinders[0].aval.shape.join(",");
        let g = open.get(key);
        if (g === undefined) open.set(key, (g = { eqns: [], shape: e.outBinders[0].aval.shape }));
        g.eqns.push(e);
        groupOf.set(e.outBinders[0], g);
        if (g.eqns.length === MAX_CHAIN) close(g);
      } else {
        for (const a of e.inputs) {
          const g = a instanceof Var ? groupOf.get(a) : undefined;
          if (g !== undefined && open.get(g.shape.join(",")) === g) close(g);
        }
        order.push(e);
      }
    }
    for (const g of [...open.values()]) close(g);

    // A chain's value is live when something outside the chain reads it.
    const liveOut = new Set<Var>();
    for (const a of jaxpr.outs) if (a instanceof Var) liveOut.add(a);
    for (const e of jaxpr.eqns) {
      // Only fusable equations' results are in groupOf: no need to test fusability again.
      const mine = groupOf.get(e.outBinders[0]);
      for (const a of e.inputs) if (a instanceof Var && groupOf.has(a) && groupOf.get(a) !== mine) liveOut.add(a);
    }

    for (const item of order) {
      if (item instanceof Eqn || item.eqns.length === 1) {
        // A lone elementwise equation gains nothing from a generated loop; its impl (mapN) also
        // keeps broadcast results at stride 0.
        const e = item instanceof Eqn ? item : item.eqns[0];
        this.steps.push({
          kind: "eqn",
          prim: e.primitive,
          params: e.params,
          outAvals: e.outBinders.map((v) => v.aval),
          ins: e.inputs.map(atomSlot),
          outs: e.outBinders.map(slot),
          frees: [],
        });
        this.stats.eqnSteps++;
        continue;
      }
      const g = item;
      const external: number[] = [];
      const valueIndex = new Map<number, number>();
      const inDtypes: ShapedArray[] = [];
      const local = new Map<Var, number>();
      const ops: FusedOp[] = [];
      const outs: number[] = [];
      const outSlots: number[] = [];
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
        local.set(out, ops.length);
        ops.push({ expr: (e.primitive.elementwiseExpr as NonNullable<Primitive["elementwiseExpr"]>)(e.params, out.aval.dtype), args, dtype: out.aval.dtype });
        if (liveOut.has(out)) {
          outs.push(ops.length - 1);
          outSlots.push(slot(out));
        }
      }
      // Value indices were provisional (inputs negative) because inputs keep being discovered.
      const nIn = external.length;
      for (const op of ops) op.args = op.args.map((a) => (a < 0 ? -1 - a : nIn + a));
      this.steps.push({
        kind: "fused",
        kernel: new FusedKernel({ inDtypes: inDtypes.map((a) => a.dtype), ops, outs }),
        shape: g.shape,
        ins: external,
        outs: outSlots,
        frees: [],
      });
      this.stats.loops++;
      this.stats.fusedEqns += ops.length;
      this.stats.fusedBuffers += outs.length;
    }
    this.outSlots = jaxpr.outs.map(atomSlot);
    this.nSlots = nSlots;

    // Release each slot after its last reader, as evalJaxpr does, unless it is an output.
    const keep = new Set(this.outSlots);
    const lastUse = new Map<number, number>();
    this.steps.forEach((st, i) => st.ins.forEach((s) => lastUse.set(s, i)));
    for (const [s, i] of lastUse) if (!keep.has(s)) this.steps[i].frees.push(s);
  }

  /** The generated loops with row-major inputs, for inspection. */
  sources(): string[] {
    return this.steps.flatMap((st) => (st.kind === "fused" ? [st.kernel.source("c".repeat(st.ins.length))] : []));
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
      for (const s of st.frees) env[s] = undefined;
      for (let i = 0; i < outs.length; i++) env[st.outs[i]] = outs[i];
    }
    return this.outSlots.map((s) => env[s] as Arr);
  }
}
