// Checking the options objects of optim and nn: an unknown key is a mistake (a misspelt `momentun`
// would otherwise be ignored silently), so it is an error naming the key and the keys allowed.
import { describe } from "../core/convert.js";
import { JacobiError } from "../core/errors.js";

/** Throws unless `opts` is undefined or a plain object whose keys are all in `allowed`. */
export function checkOptions(where: string, opts: unknown, allowed: readonly string[]): void {
  if (opts === undefined) return;
  if (opts === null || typeof opts !== "object" || Array.isArray(opts)) throw new JacobiError(`${where}: options must be an object, got ${describe(opts)}`);
  for (const k of Object.keys(opts)) {
    if (!allowed.includes(k)) throw new JacobiError(`${where}: unknown option ${JSON.stringify(k)} (known options: ${allowed.join(", ")})`);
  }
}

/** A finite JS number (a hyperparameter), or a clear error naming it. */
export function checkNumber(where: string, name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new JacobiError(`${where}: ${name} must be a finite number, got ${typeof v === "number" ? v : describe(v)}`);
  return v;
}

export function checkBoolean(where: string, name: string, v: unknown): boolean {
  if (typeof v !== "boolean") throw new JacobiError(`${where}: ${name} must be true or false, got ${describe(v)}`);
  return v;
}
