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

/**
 * The defining expression of one equation in the chapter's notation (the primitive's `notation`
 * fact); `ref` names its operands. Primitives without one keep JAX's spelling, `name[params] operands`.
 */
export function expressionOf(e: Eqn, ref: (a: Atom) => string): string {
  const operands = e.inputs.map(ref);
  const written = e.primitive.notation?.(operands, e.params, e.inputs.map((a) => a.aval));
  return written ?? [e.primitive.name + formatParams(e.params), ...operands].join(" ");
}

/** A reference to an operand: its chapter name, or the literal's value. */
export function atomRef(name: Map<Var, string>): (a: Atom) => string {
  return (a) => (isLiteral(a) ? literalText(a.value, a.aval.dtype) : (name.get(a) as string));
}
