import type { Atom, Eqn, Jaxpr, Literal, Var } from "./jaxpr.js";
import { formatParams } from "./pprint.js";

// A shape test rather than instanceof: jaxpr.ts imports this module (through dot-export.ts) for
// ClosedJaxpr.toDot, so the jaxpr classes are imported as types only.
const isLiteral = (a: Atom): a is Literal => "value" in a;

/**
 * The seed chapter's notation for an evaluation trace, shared by the trace tables and the DOT
 * graphs so that both number variables the same way: inputs v_{-n+1} … v_0, intermediates
 * v_1 … v_k, and defining expressions such as `ln v-1`, `v-1 * v0`, `v4 - v3`.
 */

/** 3 decimals with trailing zeros dropped (`0.693`, `10`, `5.5`), exponents for tiny or huge values. */
export function fmt3(x: number, dtype = "float64"): string {
  if (dtype === "bool") return x ? "true" : "false";
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (dtype === "int32" || dtype === "uint32") return String(x);
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e6 || a < 5e-4) return x.toExponential(2).replace(/\.?0+e/, "e").replace("e+", "e");
  const s = x.toFixed(3).replace(/\.?0+$/, "");
  return s === "-0" ? "0" : s;
}

/** A literal as written in an expression: short values exactly (`0.5`, `1e-8`), long ones rounded. */
function literalText(v: number, dtype: string): string {
  const exact = dtype === "bool" ? fmt3(v, dtype) : String(v);
  return exact.length > 8 ? fmt3(v, dtype) : exact;
}

/**
 * The equations in the chapter's order: level by level (an equation's level is one more than the
 * deepest of its inputs), program order within a level. Tables list `sin v0` before `v1 + v2` as
 * the chapter does, although `ln(x1) + x1*x2 - sin(x2)` evaluates the sum first. Inputs always
 * come from lower levels, so this is still a valid evaluation order.
 */
export function levelOrder(jaxpr: Jaxpr): Eqn[] {
  const level = new Map<Var, number>();
  const levels: number[] = [];
  let maxLevel = 0;
  for (const e of jaxpr.eqns) {
    let l = 1;
    for (const a of e.inputs) if (!isLiteral(a)) l = Math.max(l, (level.get(a) ?? 0) + 1);
    for (const v of e.outBinders) level.set(v, l);
    levels.push(l);
    maxLevel = Math.max(maxLevel, l);
  }
  // Bucket by level: linear time, and stable within a level.
  const buckets: Eqn[][] = Array.from({ length: maxLevel + 1 }, () => []);
  jaxpr.eqns.forEach((e, i) => buckets[levels[i]].push(e));
  return buckets.flat();
}

export interface TraceNames {
  /** The equations in listing order. */
  order: Eqn[];
  /** Chapter name of every variable: `v-1`, `v0`, `v1`, …; constants are `c0`, `c1`, …. */
  name: Map<Var, string>;
  /** Input names as the chapter writes them: `x1` … `xn`. */
  inputNames: string[];
}

/** Names every variable of `jaxpr`; `order` "levels" (the chapter's) or "program" (the jaxpr's). */
export function traceNames(jaxpr: Jaxpr, order: "levels" | "program" = "levels"): TraceNames {
  const n = jaxpr.inBinders.length;
  const name = new Map<Var, string>();
  jaxpr.constBinders.forEach((v, i) => name.set(v, `c${i}`));
  jaxpr.inBinders.forEach((v, i) => name.set(v, `v${i - n + 1}`));
  const eqns = order === "levels" ? levelOrder(jaxpr) : jaxpr.eqns;
  let k = 0;
  for (const e of eqns) for (const v of e.outBinders) name.set(v, `v${++k}`);
  return { order: eqns, name, inputNames: jaxpr.inBinders.map((_, i) => `x${i + 1}`) };
}

const INFIX: Record<string, string> = { add: "+", sub: "-", mul: "*", div: "/", pow: "^", lt: "<", le: "<=", gt: ">", ge: ">=", eq: "==", ne: "!=" };
const PREFIX: Record<string, string> = {
  log: "ln", sin: "sin", cos: "cos", tan: "tan", asin: "arcsin", acos: "arccos", atan: "arctan", sinh: "sinh", cosh: "cosh", tanh: "tanh",
  exp: "exp", log1p: "log1p", expm1: "expm1", sqrt: "sqrt", rsqrt: "rsqrt", abs: "abs", sign: "sign", floor: "floor", ceil: "ceil",
  round: "round", stop_gradient: "stop_gradient",
};
const CALL: Record<string, string> = { max: "max", min: "min", atan2: "arctan2" };
const REDUCE: Record<string, string> = { reduce_sum: "sum", reduce_max: "max", reduce_min: "min", reduce_prod: "prod" };

/** The defining expression of one equation in the chapter's notation; `ref` names its operands. */
export function expressionOf(e: Eqn, ref: (a: Atom) => string): string {
  const p = e.primitive.name;
  const args = e.inputs.map(ref);
  if (args.length === 2 && p in INFIX) return `${args[0]} ${INFIX[p]} ${args[1]}`;
  if (args.length === 1 && p in PREFIX) return `${PREFIX[p]} ${args[0]}`;
  if (p in CALL) return `${CALL[p]}(${args.join(", ")})`;
  if (p === "neg") return `-${args[0]}`;
  if (p === "integer_pow") return `${args[0]}^${String(e.params.y)}`;
  if (p === "select") return `${args[0]} ? ${args[1]} : ${args[2]}`;
  if (p === "convert_element_type") return `${String(e.params.newDtype)}(${args[0]})`;
  if (p in REDUCE) {
    // Summing everything is the common case and reads as `sum v2`; partial reductions name their axes.
    const axes = e.params.axes as number[];
    return `${REDUCE[p]}${axes.length === e.inputs[0].aval.ndim ? "" : formatParams(e.params)} ${args[0]}`;
  }
  if (p === "dot_general") {
    const { contract, batch } = e.params as { contract: [number[], number[]]; batch: [number[], number[]] };
    const lhsLast = e.inputs[0].aval.ndim - 1;
    if (batch[0].length === 0 && contract[0].length === 1 && contract[0][0] === lhsLast && contract[1][0] === 0) return `${args[0]} @ ${args[1]}`;
  }
  return [p + formatParams(e.params), ...args].join(" ");
}

/** A reference to an operand: its chapter name, or the literal's value. */
export function atomRef(name: Map<Var, string>): (a: Atom) => string {
  return (a) => (isLiteral(a) ? literalText(a.value, a.aval.dtype) : (name.get(a) as string));
}
