import { type DType, isFloat, shortName } from "../core/dtype.js";
import { DTypeError, JacobiError } from "../core/errors.js";
import type { ShapedArray } from "../core/shaped-array.js";
import type { Tensor } from "../core/tensor.js";
import { scalar } from "../core/convert.js";
import { evalJaxpr } from "../interpreters/eval.js";
import { unflatten } from "../core/tree.js";
import { traceToJaxpr } from "../interpreters/staging.js";
import type { ClosedJaxpr, Eqn, Var } from "../ir/jaxpr.js";
import { atomRef, expressionOf, fmt3, traceNames } from "../ir/notation.js";
import { add } from "../primitives/elementwise.js";
import { full } from "../primitives/util.js";
import { jvp, vjp } from "../transforms/autodiff.js";
import { checkFn, inputLeaves, outputLeaves, type Fn } from "../transforms/common.js";
import { jacfwd, jacrev } from "../transforms/jacobian.js";

/** A number for a 0-d array, nested JS arrays otherwise (booleans for bool arrays). */
export type TraceValue = number | boolean | TraceValue[];

export interface TraceRow {
  /** `v-1`, `v0`, `v1`, … as in the chapter; `c0`, … for closed-over arrays; `y` (or `y1`, …) for outputs. */
  variable: string;
  kind: "const" | "input" | "intermediate" | "output";
  /** The defining expression: `x1` for an input, `ln v-1` or `v1 + v2` for an intermediate, `v5` for an output. */
  expression: string;
  /** The primitive that defines an intermediate (`log`, `mul`, …), null for other rows. */
  primitive: string | null;
  shape: number[];
  dtype: DType;
  /** The primal value, at full precision. */
  value: TraceValue;
  /** Forward mode: d v / d x_wrt, shape `v.shape ++ x_wrt.shape`; null where undefined (integer values). */
  tangent?: TraceValue | null;
  /** Reverse mode: d y / d v, shape `y.shape ++ v.shape`; null where undefined (integer values). */
  adjoint?: TraceValue | null;
}

export interface TraceTableOptions {
  mode?: "forward" | "reverse";
  /** Forward mode: the input (leaf index, counting from 0; negative counts from the end) the tangents are taken with respect to. */
  wrt?: number;
  /** Reverse mode: which output is y when the function returns several (leaf index). */
  output?: number;
  /** "levels" (the chapter's, default) lists intermediates level by level; "program" keeps the jaxpr's order. */
  order?: "levels" | "program";
}

/** Shape and dtype prefix plus values: everything for small arrays, the ends of large ones. */
function summarise(v: TraceValue, shape: readonly number[], dtype: string): string {
  if (!Array.isArray(v)) return fmt3(Number(v), dtype);
  const flat = (v as unknown[]).flat(Infinity) as (number | boolean)[];
  const f = (x: number | boolean): string => fmt3(Number(x), dtype);
  const head = `${shortName(dtype as DType)}[${shape.join(",")}]`;
  if (flat.length <= 6) {
    const nest = (x: TraceValue): string => (Array.isArray(x) ? `[${x.map(nest).join(", ")}]` : f(x));
    return `${head} ${nest(v)}`;
  }
  return `${head} [${flat.slice(0, 3).map(f).join(", ")}, …, ${f(flat[flat.length - 1])}]`;
}

const toValue = (t: Tensor): TraceValue => t.tolist() as TraceValue;

/**
 * The evaluation trace of the seed chapter's tables, made from the library's own machinery: `f`
 * is staged into a jaxpr (as `makeJaxpr` does), its equations become the rows v_1 … v_k, and the
 * derivative columns come from the library's transformations applied to an evaluation of that
 * jaxpr: `jvp` (`jacfwd` for a vector x_wrt) for tangents, `vjp` (`jacrev` for a vector y) for
 * adjoints.
 */
export class TraceTable {
  constructor(
    readonly mode: "forward" | "reverse",
    /** The inputs' names (`x1`, …); tangents are with respect to `inputNames[wrt]` (forward mode). */
    readonly inputNames: string[],
    readonly wrt: number,
    /** In printed order: forward from the inputs to the outputs, reverse from the output back to the inputs. */
    readonly rows: TraceRow[],
    /** The staged function the rows come from. */
    readonly jaxpr: ClosedJaxpr,
    /** Shape of x_wrt (forward) or of y (reverse): derivatives have shape `v ++ x` or `y ++ v`. */
    private readonly seedShape: readonly number[],
  ) {}

  private header(): string[] {
    const d = this.mode === "forward" ? `tangent dv/d${this.inputNames[this.wrt]}` : "adjoint dy/dv";
    return ["variable", "expression", "value", d];
  }

  private cells(): string[][] {
    return this.rows.map((r) => {
      const d = this.mode === "forward" ? r.tangent : r.adjoint;
      const dShape = this.derivativeShape(r);
      return [r.variable, r.expression, summarise(r.value, r.shape, r.dtype), d === null || d === undefined ? "—" : summarise(d, dShape, r.dtype)];
    });
  }

  private derivativeShape(r: TraceRow): number[] {
    return this.mode === "forward" ? [...r.shape, ...this.seedShape] : [...this.seedShape, ...r.shape];
  }

  /** A title line naming the mode, then an aligned text table. */
  toString(): string {
    const head = this.header();
    const body = this.cells();
    // A loop, not Math.max(...spread): a trace can have more rows than a call takes arguments.
    const widths = head.map((h, j) => body.reduce((w, c) => Math.max(w, c[j].length), h.length));
    // Columns of plain numbers read best right-aligned; summaries of arrays read best left-aligned.
    const numeric = head.map((_, j) => j >= 2 && body.every((c) => /^[-0-9.e—a-z]+$/.test(c[j]) && !c[j].includes("[")));
    const line = (c: string[]): string => c.map((s, j) => (numeric[j] ? s.padStart(widths[j]) : s.padEnd(widths[j]))).join(" | ").trimEnd();
    const rule = widths.map((w) => "-".repeat(w)).join("-+-");
    return [this.title(), line(head), rule, ...body.map(line)].join("\n");
  }

  /** The same table in Markdown, expressions as code. */
  toMarkdown(): string {
    const head = this.header();
    const esc = (s: string): string => s.replace(/\|/g, "\\|");
    const rows = this.cells().map((c) => `| ${c[0]} | \`${c[1]}\` | ${esc(c[2])} | ${esc(c[3])} |`);
    return [`**${this.title()}**`, "", `| ${head.join(" | ")} |`, "|:--|:--|--:|--:|", ...rows].join("\n");
  }

  private title(): string {
    const at = this.rows
      .filter((r) => r.kind === "input")
      .sort((a, b) => this.inputNames.indexOf(a.expression) - this.inputNames.indexOf(b.expression))
      .map((r) => `${r.expression} = ${summarise(r.value, r.shape, r.dtype)}`)
      .join(", ");
    const where = at === "" ? "" : ` at ${at}`;
    return this.mode === "forward"
      ? `Forward mode: primal trace and tangents d/d${this.inputNames[this.wrt]}${where}`
      : `Reverse mode: primal trace and adjoints dy/dv${where}`;
  }
}

/** One tracked value: a constant, an input, an equation's result or an output. */
interface Entry {
  row: Omit<TraceRow, "value" | "tangent" | "adjoint">;
  aval: ShapedArray;
}

/**
 * `traceTable(f, args, { mode, wrt })`: the rows of the chapter's evaluation trace for `f` at
 * `args` (an array with one entry per argument, as `jvp`'s primals), with the forward tangents
 * d v_i / d x_wrt or the reverse adjoints d y / d v_i.
 */
export function traceTable(f: Fn, args: unknown[], opts: TraceTableOptions = {}): TraceTable {
  checkFn(f, "traceTable");
  if (!Array.isArray(args)) throw new JacobiError(`traceTable: args must be an array with one entry per argument of the function, got ${typeof args}`);
  const mode = opts.mode ?? "forward";
  if (mode !== "forward" && mode !== "reverse") throw new JacobiError(`traceTable: mode must be "forward" or "reverse", got ${JSON.stringify(mode)}`);

  const [leaves, def] = inputLeaves(args, "argument");
  const n = leaves.length;
  const wrt = mode === "forward" ? normIndex(opts.wrt ?? 0, n, "wrt", "input") : 0;
  const closed = traceToJaxpr("traceTable", leaves.map((l) => l.aval), (xs) =>
    outputLeaves(f(...(unflatten(def, xs) as unknown[])), "traceTable")[0],
  );
  const { jaxpr } = closed;
  const { order, name, inputNames } = traceNames(jaxpr, opts.order);
  const ref = atomRef(name);
  const nOut = jaxpr.outs.length;
  const outIndex = normIndex(opts.output ?? 0, nOut, "output", "output");

  const entries: Entry[] = [];
  const track = (variable: string, kind: TraceRow["kind"], expression: string, primitive: string | null, aval: ShapedArray): void => {
    entries.push({ row: { variable, kind, expression, primitive, shape: [...aval.shape], dtype: aval.dtype }, aval });
  };
  jaxpr.constBinders.forEach((v) => track(name.get(v) as string, "const", "constant", null, v.aval));
  jaxpr.inBinders.forEach((v, i) => track(name.get(v) as string, "input", inputNames[i], null, v.aval));
  for (const e of order) {
    const expr = expressionOf(e, ref);
    e.outBinders.forEach((v, i) => track(name.get(v) as string, "intermediate", e.outBinders.length > 1 ? `(${expr})[${i}]` : expr, e.primitive.name, v.aval));
  }
  jaxpr.outs.forEach((a, i) => track(nOut === 1 ? "y" : `y${i + 1}`, "output", ref(a), null, a.aval));

  const run = evaluator(order, closed, leaves, wrt);
  const values = run(null, null);
  const floatIdx = entries.map((e, i) => (isFloat(e.aval.dtype) ? i : -1)).filter((i) => i >= 0);
  const derivs: (Tensor | null)[] = entries.map(() => null);

  if (mode === "forward") {
    const x = leaves[wrt];
    if (!isFloat(x.dtype)) throw new DTypeError(`traceTable: forward mode needs a floating-point input to differentiate with respect to, but x${wrt + 1} has dtype ${x.dtype}`);
    const g = (xw: Tensor): Tensor[] => {
      const all = run(xw, null);
      return floatIdx.map((i) => all[i]);
    };
    // A scalar x_wrt is one forward pass seeded with 1; a vector needs one pass per element (jacfwd).
    const ts: Tensor[] = x.ndim === 0 ? jvp(g, [x], [scalar(1, x.dtype)])[1] : jacfwd(g)(x);
    floatIdx.forEach((i, k) => (derivs[i] = ts[k]));
  } else {
    const yAval = jaxpr.outs[outIndex].aval;
    if (!isFloat(yAval.dtype)) throw new DTypeError(`traceTable: reverse mode needs a floating-point output, but output ${outIndex} has dtype ${yAval.dtype}`);
    // The adjoint of v_i is the derivative of y with respect to a zero added to v_i.
    const h = (ds: Tensor[]): Tensor => {
      const deltas: (Tensor | null)[] = entries.map(() => null);
      floatIdx.forEach((i, k) => (deltas[i] = ds[k]));
      return run(null, deltas)[entries.length - nOut + outIndex];
    };
    const zeros = floatIdx.map((i) => full(entries[i].aval.shape, 0, entries[i].aval.dtype));
    let cts: Tensor[];
    if (yAval.ndim === 0) {
      const [, back] = vjp(h, [zeros]);
      cts = back(scalar(1, yAval.dtype))[0];
    } else {
      cts = jacrev(h)(zeros);
    }
    floatIdx.forEach((i, k) => (derivs[i] = cts[k]));
  }

  const rows: TraceRow[] = entries.map((e, i) => {
    const row: TraceRow = { ...e.row, value: toValue(values[i]) };
    const d = derivs[i];
    if (mode === "forward") row.tangent = d === null ? null : toValue(d);
    else row.adjoint = d === null ? null : toValue(d);
    return row;
  });
  const seedShape = mode === "forward" ? leaves[wrt].shape : jaxpr.outs[outIndex].aval.shape;
  return new TraceTable(mode, inputNames, wrt, mode === "forward" ? rows : rows.reverse(), closed, seedShape);
}

function normIndex(i: number, n: number, what: string, kind: string): number {
  if (!Number.isInteger(i) || i < -n || i >= n) {
    throw new JacobiError(`traceTable: ${what} ${String(i)} is out of range for a function with ${n} ${kind}${n === 1 ? "" : "s"}`);
  }
  return i < 0 ? i + n : i;
}

/**
 * Evaluates the staged program and returns every tracked value (constants, inputs, intermediates
 * in listing order, outputs). `xw` replaces input `wrt` (the forward seed point); `deltas` are zeros
 * added to tracked values so that reverse mode can ask for their adjoints.
 */
function evaluator(order: Eqn[], closed: ClosedJaxpr, leaves: Tensor[], wrt: number) {
  const { jaxpr, consts } = closed;
  const slot = new Map<Var, number>();
  for (const v of [...jaxpr.constBinders, ...jaxpr.inBinders]) slot.set(v, slot.size);
  for (const e of order) for (const v of e.outBinders) slot.set(v, slot.size);
  const nTracked = slot.size + jaxpr.outs.length;
  return (xw: Tensor | null, deltas: (Tensor | null)[] | null): Tensor[] => {
    const out = new Array<Tensor>(nTracked);
    const put = (i: number, t: Tensor): Tensor => {
      const d = deltas?.[i] ?? null;
      return (out[i] = d === null ? t : add(t, d));
    };
    const args = leaves.map((l, i) => (i === wrt && xw !== null ? xw : l));
    const ys = evalJaxpr(jaxpr, consts, args, (v, t) => put(slot.get(v) as number, t));
    ys.forEach((y, k) => put(slot.size + k, y));
    return out;
  };
}
