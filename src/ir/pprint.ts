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
  if (dtype === "int32") return String(v);
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
function formatParam(v: unknown): string {
  if (Array.isArray(v)) return v.length === 1 ? `(${formatParam(v[0])},)` : `(${v.map(formatParam).join(", ")})`;
  return String(v);
}
export function formatParams(params: Params): string {
  const keys = Object.keys(params).sort();
  if (keys.length === 0) return "";
  return `[${keys.map((k) => `${snake(k)}=${formatParam(params[k])}`).join(" ")}]`;
}

/** Prints as JAX does: `{ lambda consts ; args . let eqns in ( outs ) }`. A loop, so a million equations print. */
export function printJaxpr(jaxpr: Jaxpr): string {
  const names = new Map<Var, string>();
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
    const rhs = [e.primitive.name + formatParams(e.params), ...e.inputs.map(atom)].join(" ");
    lines.push(`${i === 0 ? "  let " : "      "}${lhs} = ${rhs}`);
  });
  lines.push(`  in ( ${jaxpr.outs.map(atom).join(" ")} ) }`);
  return lines.join("\n");
}
