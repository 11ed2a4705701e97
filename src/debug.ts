// `debug.print` and `debug.callback`: look at concrete values from inside any transformation —
// under jit when the compiled program runs, under vmap once per example, under grad on the primals.
import { asTensor, describe } from "./core/convert.js";
import { JacobiError } from "./core/errors.js";
import { formatBody } from "./core/format.js";
import { Label } from "./core/label.js";
import { type Tensor, isTensorLike } from "./core/tensor.js";
import { bind } from "./core/trace.js";
import { flatten, unflatten } from "./core/tree.js";
import { debugCallbackP } from "./primitives/debug.js";

/** A tensor as NumPy's `str` shows it (`[1. 2. 3.]`), the form JAX's debug.print uses. */
function show(t: Tensor): string {
  const data = t.toTypedArray();
  return formatBody(t.shape, t.dtype, (i) => Number(data[i]), "", "", " ");
}

/** Calls `fn(...args)` with concrete values (Tensors where the arguments have Tensors), whatever transformation is active. */
function callback<A extends unknown[]>(fn: (...args: A) => void, ...args: A): void {
  if (typeof fn !== "function") throw new JacobiError(`debug.callback: expected a function, got ${describe(fn)}`);
  const [leaves, def] = flatten(args);
  const tensorAt: number[] = [];
  const tensors: Tensor[] = [];
  leaves.forEach((l, i) => {
    if (isTensorLike(l)) {
      tensorAt.push(i);
      tensors.push(asTensor(l));
    }
  });
  const run = (vals: Tensor[]): void => {
    const filled = [...leaves];
    tensorAt.forEach((at, k) => (filled[at] = vals[k]));
    fn(...(unflatten(def, filled) as A));
  };
  bind(debugCallbackP, tensors, { callback: new Label(run, fn.name || "callback") });
}

/**
 * Prints `format` with each `{}` (or `{0}`, `{1}` …) replaced by the concrete value of the matching
 * argument, as JAX's `jax.debug.print`. Checked when called: a placeholder without an argument, or
 * an argument without a placeholder, is a JacobiError.
 */
function print(format: string, ...args: unknown[]): void {
  if (typeof format !== "string") throw new JacobiError(`debug.print: the format must be a string, got ${describe(format)}`);
  const parts: (string | number)[] = [];
  let next = 0;
  const used = new Set<number>();
  const re = /\{(\d*)\}/g;
  let last = 0;
  for (let m = re.exec(format); m !== null; m = re.exec(format)) {
    parts.push(format.slice(last, m.index));
    const i = m[1] === "" ? next++ : Number(m[1]);
    if (i >= args.length) throw new JacobiError(`debug.print: the format ${JSON.stringify(format)} asks for argument ${i}, but ${args.length} were given`);
    used.add(i);
    parts.push(i);
    last = re.lastIndex;
  }
  parts.push(format.slice(last));
  if (used.size !== args.length) throw new JacobiError(`debug.print: ${args.length} arguments for ${used.size} placeholders in ${JSON.stringify(format)}`);
  callback((...vals: unknown[]) => {
    const text = parts.map((p) => (typeof p === "string" ? p : showValue(vals[p]))).join("");
    console.log(text);
  }, ...args);
}

function showValue(v: unknown): string {
  if (v !== null && typeof v === "object" && "toTypedArray" in v) return show(v as Tensor);
  if (Array.isArray(v)) return `[${v.map(showValue).join(", ")}]`;
  if (v !== null && typeof v === "object") return `{${Object.entries(v).map(([k, x]) => `${k}: ${showValue(x)}`).join(", ")}}`;
  return String(v);
}

export const debug = { print, callback };
