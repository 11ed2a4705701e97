// The seed chapter's example as a page: a reader types f(x1, x2) and a point and sees the forward
// table, the reverse table, the gradient and the computation graph, all from jacobi itself
// (traceTable, grad, computationGraph); Graphviz (@viz-js/viz, WebAssembly) draws the graph.
import { instance } from "@viz-js/viz";
import { type TraceRow, type TraceTable, computationGraph, grad, np, traceTable } from "../../src/index.js";
import { parseFormula } from "./expression.js";

type TraceValue = TraceRow["value"];

const byId = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const form = byId<HTMLFormElement>("form");
const input = (id: string): HTMLInputElement => byId<HTMLInputElement>(id);

/** Three decimals, trailing zeros dropped, as in the chapter's tables. */
function fmt(v: TraceValue | null | undefined): string {
  if (typeof v === "number") return String(Number(v.toFixed(3)));
  if (typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(fmt).join(", ")}]`;
  return "";
}

function cell(row: HTMLTableRowElement, text: string, tag: "td" | "th" = "td", numeric = false): void {
  const c = document.createElement(tag);
  c.textContent = text;
  if (numeric) c.className = "num";
  row.append(c);
}

function fillTable(el: HTMLTableElement, table: TraceTable, derivative: string): void {
  el.replaceChildren();
  const head = el.createTHead().insertRow();
  for (const h of ["variable", "expression", "value", derivative]) cell(head, h, "th");
  const body = el.createTBody();
  for (const r of table.rows) {
    const row = body.insertRow();
    if (r.kind === "output") row.className = "output";
    cell(row, r.variable);
    cell(row, r.expression);
    cell(row, fmt(r.value), "td", true);
    cell(row, fmt(table.mode === "forward" ? r.tangent : r.adjoint), "td", true);
  }
}

function readNumber(id: string): number {
  const text = input(id).value.trim();
  const v = Number(text);
  if (text === "" || !Number.isFinite(v)) throw new Error(`${id} must be a number, got "${text}"`);
  return v;
}

const vizReady = instance();
let runs = 0;

async function compute(): Promise<void> {
  const error = byId("error");
  try {
    const f = parseFormula(input("formula").value);
    const x1 = readNumber("x1"), x2 = readNumber("x2");
    const wrt = Number(byId<HTMLSelectElement>("wrt").value);
    const args = [np.array(x1), np.array(x2)];
    const [g1, g2] = grad(f, { argnums: [0, 1] })(args[0], args[1]);
    byId("point").textContent = `${x1}, ${x2}`;
    byId("value").textContent = fmt(f(args[0], args[1]).item());
    byId("gradient").textContent = `${fmt(g1.item())}, ${fmt(g2.item())}`;
    const name = wrt === 0 ? "x1" : "x2";
    byId("forward-title").textContent = `Forward mode: tangents dv/d${name}, seeded with d${name} = 1`;
    fillTable(byId("forward"), traceTable(f, args, { mode: "forward", wrt }), `tangent dv/d${name}`);
    fillTable(byId("reverse"), traceTable(f, args, { mode: "reverse" }), "adjoint dy/dv");
    const gradient = input("gradient-graph").checked;
    byId("graph-title").textContent = gradient ? "Graph of [y, dy/dx1, dy/dx2] as reverse mode stages it" : "Computation graph";
    const svg = (await vizReady).renderSVGElement(computationGraph(f, args, { gradient }));
    byId("graph").replaceChildren(svg);
    error.hidden = true;
    byId("results").hidden = false;
  } catch (e) {
    error.textContent = e instanceof Error ? e.message : String(e);
    error.hidden = false;
  } finally {
    document.body.dataset.runs = String(++runs);
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  void compute();
});
void compute();
