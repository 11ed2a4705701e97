import type { Jaxpr, Var } from "./jaxpr.js";
import { atomRef, expressionOf, traceNames } from "./notation.js";

export interface DotOptions {
  /** The graph's name. */
  name?: string;
  /** How intermediates are numbered: the chapter's level-by-level order (default) or program order. */
  order?: "levels" | "program";
  /** Names of the inputs shown next to v_{-n+1} … v_0; default `x1` … `xn`. */
  inputNames?: string[];
  /** Names of the outputs; default `y` for one output, `y1` … `ym` for several. */
  outputNames?: string[];
}

// DOT quoted strings: escape quotes and backslashes; "\n" is Graphviz's centred line break.
const q = (s: string): string => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
// Scalars are the chapter's case; only arrays get their shape printed under the name.
const withAval = (text: string, v: Var): string => (v.aval.ndim === 0 ? text : `${text}\n${v.aval.str()}`);

/**
 * Graphviz DOT of a jaxpr as the seed chapter draws computation graphs: inputs `v-1 = x1`, one node
 * per equation labelled with its defining expression (`v1 = ln v-1`), edges along the data flow
 * and the outputs marked `y`. Numbering matches `traceTable`, so a graph and its table agree.
 */
export function toDot(jaxpr: Jaxpr, opts: DotOptions = {}): string {
  const { order, name } = traceNames(jaxpr, opts.order);
  const ref = atomRef(name);
  const inputNames = opts.inputNames ?? jaxpr.inBinders.map((_, i) => `x${i + 1}`);
  const nOut = jaxpr.outs.length;
  const outputNames = opts.outputNames ?? jaxpr.outs.map((_, i) => (nOut === 1 ? "y" : `y${i + 1}`));
  const node = new Map<Var, string>();
  const lines = [`digraph ${q(opts.name ?? "jaxpr")} {`, "  rankdir=LR;", '  node [fontname="Helvetica"];', '  edge [color="#555555"];'];
  jaxpr.constBinders.forEach((v, i) => {
    node.set(v, `c${i}`);
    lines.push(`  c${i} [shape=note, label=${q(withAval(`${name.get(v)} (const)`, v))}];`);
  });
  jaxpr.inBinders.forEach((v, i) => {
    node.set(v, `in${i}`);
    lines.push(`  in${i} [shape=ellipse, style=filled, fillcolor="#dbeafe", label=${q(withAval(`${name.get(v)} = ${inputNames[i]}`, v))}];`);
  });
  const edge = (from: string | undefined, to: string, seen: Set<string>): void => {
    if (from === undefined || seen.has(from)) return;
    seen.add(from);
    lines.push(`  ${from} -> ${to};`);
  };
  order.forEach((e, k) => {
    const id = `e${k}`;
    const lhs = e.outBinders.map((v) => name.get(v)).join(", ");
    const avals = e.outBinders.some((v) => v.aval.ndim > 0) ? `\n${e.outBinders.map((v) => v.aval.str()).join(", ")}` : "";
    lines.push(`  ${id} [shape=box, style=rounded, label=${q(`${lhs} = ${expressionOf(e, ref)}${avals}`)}];`);
    const seen = new Set<string>();
    for (const a of e.inputs) if (!("value" in a)) edge(node.get(a), id, seen);
    for (const v of e.outBinders) node.set(v, id);
  });
  jaxpr.outs.forEach((a, i) => {
    const id = `out${i}`;
    const label = "value" in a ? `${outputNames[i]} = ${ref(a)}` : outputNames[i];
    lines.push(`  ${id} [shape=ellipse, peripheries=2, style=filled, fillcolor="#fde68a", label=${q(label)}];`);
    if (!("value" in a)) lines.push(`  ${node.get(a)} -> ${id};`);
  });
  lines.push("}");
  return lines.join("\n");
}
