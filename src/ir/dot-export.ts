import type { Atom, Jaxpr, Var } from "./jaxpr.js";
import { formatNumber, formatParams } from "./pprint.js";

const esc = (s: string): string => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');

/**
 * Graphviz DOT of a jaxpr as the seed chapter draws computation graphs: inputs are v_{-n+1} … v_0,
 * each equation's result is v_1 … v_k, edges follow data flow, outputs are marked.
 */
export function toDot(jaxpr: Jaxpr, opts: { name?: string } = {}): string {
  const n = jaxpr.inBinders.length;
  const label = new Map<Var, string>();
  const node = new Map<Var, string>();
  const lines = [`digraph ${JSON.stringify(opts.name ?? "jaxpr")} {`, "  rankdir=LR;", '  node [fontname="Helvetica"];'];
  jaxpr.inBinders.forEach((v, i) => {
    const id = `in${i}`;
    label.set(v, `v${i - n + 1}`);
    node.set(v, id);
    lines.push(`  ${id} [shape=ellipse, style=filled, fillcolor="#dbeafe", label="${esc(`v${i - n + 1}\n${v.aval.str()}`)}"];`);
  });
  jaxpr.constBinders.forEach((v, i) => {
    const id = `c${i}`;
    label.set(v, `c${i}`);
    node.set(v, id);
    lines.push(`  ${id} [shape=note, label="${esc(`const c${i}\n${v.aval.str()}`)}"];`);
  });
  let lit = 0;
  const src = (a: Atom): string => {
    if ("value" in a) {
      const id = `lit${lit++}`;
      lines.push(`  ${id} [shape=plaintext, label="${esc(formatNumber(a.value, a.aval.dtype))}"];`);
      return id;
    }
    return node.get(a) ?? "unknown";
  };
  let k = 0;
  for (const e of jaxpr.eqns) {
    const id = `e${k}`;
    const names = e.outBinders.map(() => `v${++k}`);
    e.outBinders.forEach((v, i) => {
      label.set(v, names[i]);
      node.set(v, id);
    });
    const text = `${names.join(", ")} = ${e.primitive.name}${formatParams(e.params)}\n${e.outBinders.map((v) => v.aval.str()).join(", ")}`;
    lines.push(`  ${id} [shape=box, style=rounded, label="${esc(text)}"];`);
    for (const a of e.inputs) lines.push(`  ${src(a)} -> ${id};`);
  }
  jaxpr.outs.forEach((a, i) => {
    const id = `out${i}`;
    lines.push(`  ${id} [shape=doublecircle, style=filled, fillcolor="#fde68a", label="${esc(`y${jaxpr.outs.length > 1 ? i : ""}`)}"];`);
    lines.push(`  ${src(a)} -> ${id};`);
  });
  lines.push("}");
  return lines.join("\n");
}
