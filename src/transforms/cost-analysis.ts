// costAnalysis: what jacfwd and jacrev would cost on given arguments, from the library's own
// staging. The function is linearized once at the arguments, under a counting level that sits
// below the linearization and records every primitive evaluated eagerly (the forward sweep: the
// primal and the derivative coefficients such as cos x for sin x). The linearization leaves the
// tangent program (a linear jaxpr); transposing it under `traceToJaxpr` leaves the cotangent
// program. Forward mode runs the sweep and then the tangent program for each of the n input
// columns; reverse mode runs the sweep, stores the residuals the tangent program reads, and runs
// the cotangent program for each of the m output rows. jacfwd and jacrev batch those columns or
// rows into one vmapped pass, so a program's primitives are applied once (on batched buffers)
// while its FLOPs and buffers scale with the number of columns or rows.
import { type DType, type TypedArray, itemBytes } from "../core/dtype.js";
import { JacobiError } from "../core/errors.js";
import { checkOptions, integers } from "../core/validate.js";
import { type Cost, type Params, type Primitive, eqnsCost } from "../core/primitive.js";
import { ShapedArray } from "../core/shaped-array.js";
import { type Tensor, Tracer } from "../core/tensor.js";
import { type CustomCallParams, type MainTrace, type Trace, bind, withMain } from "../core/trace.js";
import { traceToJaxpr } from "../interpreters/staging.js";
import type { ClosedJaxpr, Jaxpr, Var } from "../ir/jaxpr.js";
import { argsFlattener } from "./autodiff.js";
import { type Fn, checkFn, normArgnums, outputLeaves, requireFloat } from "./common.js";
import { chooseMode } from "./jacobian.js";
import { linearizeFlat } from "../interpreters/partial-eval.js";
import { pullback } from "../interpreters/transpose.js";
import { sparseColorCounts } from "./sparse-jacobian.js";

/** Primitive applications of one program, with their arithmetic. */
export interface OpStats {
  /** Applications per primitive name (a batched application counts once). */
  counts: Record<string, number>;
  /** Total primitive applications. */
  ops: number;
  /** Floating-point operations for one column (or row, or the single sweep). */
  flops: number;
  /** Of those, transcendental evaluations (sin, exp, log, tanh, sqrt, ...). */
  transcendentals: number;
}

export interface ModeCost {
  mode: "fwd" | "rev";
  /** Jacobian columns (fwd: input elements) or rows (rev: output elements), one batched pass over all. */
  passes: number;
  /** The forward sweep (primal and derivative coefficients); the same for both modes. */
  sweep: OpStats;
  /** The tangent program (fwd) or the cotangent program (rev), per column or row. */
  linear: OpStats;
  /** All primitive applications: sweep plus the batched linear program. */
  primitives: Record<string, number>;
  ops: number;
  /** Sweep FLOPs plus `passes` times the linear program's FLOPs. */
  flops: number;
  transcendentals: number;
  /**
   * Bytes of intermediates kept from the sweep for later: the residuals the cotangent program
   * reads (rev); 0 for forward mode, which uses each coefficient as soon as it is computed.
   */
  storedBytes: number;
  /** Peak bytes of live tangent (fwd) or cotangent (rev) buffers over the batched linear program. */
  peakLiveBytes: number;
}

export interface CostAnalysis {
  /** Elements of the differentiated inputs and of the outputs. */
  nIn: number;
  nOut: number;
  fwd: ModeCost;
  /** Null when reverse mode cannot differentiate `f` (a `whileLoop`, say): `revUnavailable` says why. */
  rev: ModeCost | null;
  revUnavailable: string | null;
  /** What `jacobian(f, { mode: "auto" })` picks here, and why. */
  auto: "fwd" | "rev";
  reason: string;
  /** Residuals stored by reverse mode, as `f64[3]`-style types. */
  residuals: string[];
  /**
   * Passes of `jacobian(f, { sparsity: "auto" })`: colors of the detected pattern's columns
   * (forward, against nIn) and rows (reverse, against nOut); null if `f` branches on values.
   */
  colors: { fwd: number; rev: number } | null;
  toString(): string;
}

export interface CostOptions {
  argnums?: number | number[];
}

/**
 * Arithmetic of a jaxpr's equations, each primitive's `cost` (control flow counts its inner
 * jaxprs: scan `length` times, while one iteration of its condition and body, cond its costliest
 * branch), in a loop: nesting recurses only per control-flow level.
 */
export function jaxprArith(jaxpr: Jaxpr): Cost {
  return eqnsCost(jaxpr.eqns);
}

class Tally {
  readonly counts: Record<string, number> = {};
  ops = 0;
  flops = 0;
  transcendentals = 0;
  add(prim: Primitive<any>, ins: readonly ShapedArray[], outs: readonly ShapedArray[], params: Params): void {
    this.counts[prim.name] = (this.counts[prim.name] ?? 0) + 1;
    this.ops++;
    const a = prim.cost(ins, outs, params);
    this.flops += a.flops;
    this.transcendentals += a.transcendentals;
  }
  stats(): OpStats {
    const counts: Record<string, number> = {};
    for (const k of Object.keys(this.counts).sort()) counts[k] = this.counts[k];
    return { counts, ops: this.ops, flops: this.flops, transcendentals: this.transcendentals };
  }
}

/** A concrete value seen by the counting level; user code can still branch on it. */
class CountTracer extends Tracer {
  constructor(
    readonly main: MainTrace,
    readonly val: Tensor,
  ) {
    super();
  }
  get aval(): ShapedArray {
    return this.val.aval;
  }
  concrete() {
    return this.val.concrete();
  }
}

/**
 * Evaluates every primitive that reaches it (eagerly, on the wrapped values) and tallies it. It
 * also remembers which buffers its operations allocated, as opposed to views of existing ones.
 */
class CountTrace implements Trace {
  readonly staging = false;
  tally = new Tally();
  readonly fresh = new Set<TypedArray>();
  constructor(readonly main: MainTrace) {}
  processPrimitive(prim: Primitive<any>, args: Tensor[], params: Params): Tensor[] {
    const vals = args.map((a) => (a instanceof CountTracer && a.main === this.main ? a.val : a));
    const outs = bind(prim, vals, params);
    this.tally.add(prim, vals.map((v) => v.aval), outs.map((o) => o.aval), params);
    const inBufs = vals.map((v) => v.concrete()?.data);
    for (const o of outs) {
      const d = o.concrete()?.data;
      if (d !== undefined && !inBufs.includes(d)) this.fresh.add(d);
    }
    return outs.map((o) => new CountTracer(this.main, o));
  }
  /** A custom call is counted as the operations of its function. */
  processCustomJvpCall(_prim: Primitive<any>, args: Tensor[], params: CustomCallParams): Tensor[] {
    return params.fun.value(args);
  }
  processCustomVjpCall(_prim: Primitive<any>, args: Tensor[], params: CustomCallParams): Tensor[] {
    return params.fun.value(args);
  }
}

/** Primitives and FLOPs of a jaxpr's equations (one column or row). */
function tallyJaxpr(jaxpr: Jaxpr, into = new Tally()): Tally {
  for (const e of jaxpr.eqns) into.add(e.primitive, e.inputs.map((a) => a.aval), e.outBinders.map((v) => v.aval), e.params);
  return into;
}

const bytesOf = (a: ShapedArray): number => a.size * itemBytes(a.dtype as DType);

/**
 * Peak bytes of the values a jaxpr holds at once, executing its equations in order: inputs from
 * the start until their last use, results from their equation until their last use (outputs to
 * the end). Constants are not counted: they are the residuals, reported separately.
 */
function peakLive(jaxpr: Jaxpr): number {
  const lastUse = new Map<Var, number>();
  const n = jaxpr.eqns.length;
  jaxpr.eqns.forEach((e, i) => {
    for (const a of e.inputs) if (!("value" in a)) lastUse.set(a, i);
  });
  for (const a of jaxpr.outs) if (!("value" in a)) lastUse.set(a, n);
  const consts = new Set(jaxpr.constBinders);
  let live = 0;
  for (const v of new Set(jaxpr.inBinders)) if (lastUse.has(v)) live += bytesOf(v.aval);
  let peak = live;
  const dying: Var[][] = Array.from({ length: n }, () => []);
  for (const [v, i] of lastUse) if (i < n && !consts.has(v)) dying[i].push(v);
  jaxpr.eqns.forEach((e, i) => {
    for (const v of e.outBinders) if (lastUse.has(v)) live += bytesOf(v.aval);
    peak = Math.max(peak, live);
    for (const v of dying[i]) live -= bytesOf(v.aval);
  });
  return peak;
}

function modeCost(mode: "fwd" | "rev", passes: number, sweep: OpStats, linear: OpStats, storedBytes: number, peakPerPass: number): ModeCost {
  const primitives: Record<string, number> = { ...sweep.counts };
  for (const [k, c] of Object.entries(linear.counts)) primitives[k] = (primitives[k] ?? 0) + c;
  const sorted: Record<string, number> = {};
  for (const k of Object.keys(primitives).sort()) sorted[k] = primitives[k];
  return {
    mode,
    passes,
    sweep,
    linear,
    primitives: sorted,
    ops: sweep.ops + linear.ops,
    flops: sweep.flops + passes * linear.flops,
    transcendentals: sweep.transcendentals + passes * linear.transcendentals,
    storedBytes,
    peakLiveBytes: passes * peakPerPass,
  };
}

const fmtCount = (n: number): string => n.toLocaleString("en-US");
const plural = (n: number, what: string): string => `${fmtCount(n)} ${what}${n === 1 ? "" : "s"}`;
function fmtBytes(b: number): string {
  if (b >= 1 << 20) return `${(b / (1 << 20)).toFixed(1)} MiB`;
  if (b >= 1 << 10) return `${(b / (1 << 10)).toFixed(1)} KiB`;
  return `${b} B`;
}

function render(c: Omit<CostAnalysis, "toString">): string {
  const r = c.rev;
  const na = (f: (m: ModeCost) => string): string => (r === null ? "n/a" : f(r));
  const rows: [string, string, string][] = [
    ["passes (columns / rows)", plural(c.fwd.passes, "column"), na((m) => plural(m.passes, "row"))],
    ["primitive applications", fmtCount(c.fwd.ops), na((m) => fmtCount(m.ops))],
    ["  sweep (primal + coefficients)", fmtCount(c.fwd.sweep.ops), na((m) => fmtCount(m.sweep.ops))],
    ["  tangent / cotangent program", fmtCount(c.fwd.linear.ops), na((m) => fmtCount(m.linear.ops))],
    ["FLOPs", fmtCount(c.fwd.flops), na((m) => fmtCount(m.flops))],
    ["stored intermediates", fmtBytes(c.fwd.storedBytes), na((m) => fmtBytes(m.storedBytes))],
    ["peak live (co)tangents", fmtBytes(c.fwd.peakLiveBytes), na((m) => fmtBytes(m.peakLiveBytes))],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(6, ...rows.map((r) => r[1].length));
  const lines = [`costAnalysis: ${plural(c.nIn, "input element")} -> ${plural(c.nOut, "output element")}`];
  lines.push(`${"".padEnd(w0)}  ${"jacfwd".padStart(w1)}  jacrev`);
  for (const [a, b, d] of rows) lines.push(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${d}`);
  lines.push(`auto: ${c.auto} (${c.reason})`);
  return lines.join("\n");
}

/**
 * Counts of primitive applications, FLOPs and bytes of stored intermediates for `jacfwd` versus
 * `jacrev` of `f` at `args` (an array of positional arguments), and the choice `jacobian`'s
 * "auto" mode makes. Operations on values that do not depend on the differentiated inputs are
 * constants to both modes and are not counted.
 */
export function costAnalysis(f: Fn, args: unknown[], opts: CostOptions = {}): CostAnalysis {
  checkFn(f, "costAnalysis");
  if (!Array.isArray(args)) throw new JacobiError(`costAnalysis: args must be an array with one entry per argument of the function, got ${typeof args}`);
  const { argnums = 0 } = checkOptions("costAnalysis", opts, { argnums: integers });
  const nums = normArgnums(argnums, args.length, "costAnalysis");
  return withMain(
    "costAnalysis",
    (main) => new CountTrace(main),
    (counter, main) => {
      const { leaves, rebuild } = argsFlattener(args, nums, "costAnalysis");
      requireFloat(leaves, "costAnalysis", nums.length === 1 ? `argument ${nums[0]}` : `arguments ${nums.join(", ")}`);
      const ins = leaves.map((l) => new CountTracer(main, l));
      const fFlat = (xs: Tensor[]): Tensor[] => outputLeaves(f(...rebuild(xs)), "costAnalysis")[0];
      const { primalsOut, lin } = linearizeFlat(fFlat, ins, "costAnalysis");
      const sweep = counter.tally.stats();

      // The cotangent program; equations of the tangent program that read only residuals run
      // eagerly here (on the counting level) and belong to reverse mode's per-row work.
      counter.tally = new Tally();
      const outAvals = primalsOut.map((o) => o.aval.strong());
      let transposed: ClosedJaxpr | null = null;
      let revUnavailable: string | null = null;
      try {
        transposed = traceToJaxpr("costAnalysis (transpose)", outAvals, (cts) => pullback(lin, cts));
      } catch (e) {
        // Forward mode still has a cost to report (a whileLoop has no transpose).
        if (!(e instanceof JacobiError)) throw e;
        revUnavailable = e.message;
      }
      const revLinear = transposed === null ? null : tallyJaxpr(transposed.jaxpr, counter.tally).stats();
      const fwdLinear = tallyJaxpr(lin.jaxpr).stats();

      const inputBufs = new Set(ins.map((t) => t.concrete()?.data));
      const stored = new Set<TypedArray>();
      const residuals: string[] = [];
      for (const c of lin.consts) {
        const d = c.concrete()?.data;
        if (d === undefined || inputBufs.has(d) || !counter.fresh.has(d)) continue;
        residuals.push(c.aval.str());
        stored.add(d);
      }
      const storedBytes = [...stored].reduce((s, d) => s + d.byteLength, 0);

      const nIn = leaves.reduce((s, l) => s + l.size, 0);
      const nOut = primalsOut.reduce((s, o) => s + o.size, 0);
      const fwd = modeCost("fwd", nIn, sweep, fwdLinear, 0, peakLive(lin.jaxpr));
      const rev = transposed === null || revLinear === null ? null : modeCost("rev", nOut, sweep, revLinear, storedBytes, peakLive(transposed.jaxpr));
      const auto = rev === null ? "fwd" : chooseMode(nIn, nOut);
      const reason =
        rev === null
          ? `reverse mode is unavailable here: ${revUnavailable}`
          : auto === "fwd"
          ? `the input has ${plural(nIn, "element")}, fewer than the output's ${nOut}: ${plural(nIn, "forward column")} instead of ${plural(nOut, "reverse row")}, and no stored residuals`
          : `the output has ${plural(nOut, "element")}, ${nOut === nIn ? "as many as" : "fewer than"} the input's ${nIn}: ${plural(nOut, "reverse row")} instead of ${plural(nIn, "forward column")}, at the price of ${fmtBytes(storedBytes)} of stored residuals`;
      const colors = sparseColorCounts(fFlat, leaves);
      const report = { nIn, nOut, fwd, rev, revUnavailable, auto, reason, residuals, colors };
      return { ...report, toString: () => render(report) };
    },
  );
}
