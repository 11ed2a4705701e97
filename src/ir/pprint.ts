import type { Params } from "../core/primitive.js";
import type { Atom, Jaxpr, Var } from "./jaxpr.js";

/** Names in JAX's order: a..z, then ba, bb, ... */
export function varName(i: number): string {
  let s = "";
  let n = i;
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  } while (n > 0);
  return s;
}

export function formatNumber(v: number, dtype: string): string {
  if (dtype === "bool") return v ? "True" : "False";
  if (dtype === "int32" || dtype === "uint32") return String(v);
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  const s = dtype === "float32" ? shortestFloat32(v) : String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** The shortest decimal that rounds to `v` in float32: 0.1, not 0.10000000149011612. */
function shortestFloat32(v: number): string {
  for (let p = 1; p < 17; p++) {
    const s = String(Number(v.toPrecision(p)));
    if (Math.fround(Number(s)) === v) return s;
  }
  return String(v);
}

const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
// A parameter holding a jaxpr (the branches and bodies of control flow) is printed in full, one
// level deeper; its variables continue the enclosing jaxpr's names so that no two look alike.
const isClosedJaxpr = (v: unknown): v is { jaxpr: Jaxpr } => typeof v === "object" && v !== null && "jaxpr" in v && "consts" in v;
const hasJaxpr = (v: unknown): boolean => isClosedJaxpr(v) || (Array.isArray(v) && v.some(isClosedJaxpr));
const indent = (s: string, pad: string): string => (s.includes("\n") ? s.split("\n").join(`\n${pad}`) : s);
function formatParam(v: unknown, names?: Map<Var, string>): string {
  if (isClosedJaxpr(v)) return printJaxpr(v.jaxpr, names);
  if (Array.isArray(v) && v.some(isClosedJaxpr)) return `(\n  ${v.map((x) => indent(formatParam(x, names), "  ")).join("\n  ")}\n)`;
  if (Array.isArray(v)) return v.length === 1 ? `(${formatParam(v[0])},)` : `(${v.map((x) => formatParam(x)).join(", ")})`;
  return String(v);
}
export function formatParams(params: Params, names?: Map<Var, string>): string {
  const keys = Object.keys(params).sort();
  if (keys.length === 0) return "";
  if (keys.some((k) => hasJaxpr(params[k]))) return `[\n  ${keys.map((k) => indent(`${snake(k)}=${formatParam(params[k], names)}`, "  ")).join("\n  ")}\n]`;
  return `[${keys.map((k) => `${snake(k)}=${formatParam(params[k])}`).join(" ")}]`;
}

/** Prints as JAX does: `{ lambda consts ; args . let eqns in ( outs ) }`. A loop, so a million equations print. */
export function printJaxpr(jaxpr: Jaxpr, names = new Map<Var, string>()): string {
  const name = (v: Var): string => {
    let s = names.get(v);
    if (s === undefined) {
      s = varName(names.size);
      names.set(v, s);
    }
    return s;
  };
  const atom = (a: Atom): string => ("value" in a ? formatNumber(a.value, a.aval.dtype) : name(a));
  const binder = (v: Var): string => `${name(v)}:${v.aval.str()}`;
  const consts = jaxpr.constBinders.map(binder).join(" ");
  const args = jaxpr.inBinders.map(binder).join(" ");
  const head = `{ lambda ${consts ? `${consts} ; ` : ""}${args}${args ? " " : ""}.`;
  const lines: string[] = [head];
  jaxpr.eqns.forEach((e, i) => {
    const lhs = e.outBinders.map(binder).join(" ");
    const rhs = [e.primitive.name + formatParams(e.params, names), ...e.inputs.map(atom)].join(" ");
    lines.push(`${i === 0 ? "  let " : "      "}${lhs} = ${indent(rhs, "      ")}`);
  });
  lines.push(`  in ( ${jaxpr.outs.map(atom).join(" ")} ) }`);
  return lines.join("\n");
}
