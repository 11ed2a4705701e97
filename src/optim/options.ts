// Checking the options objects of optim and nn: an unknown key is a mistake (a misspelt `momentun`
// would otherwise be ignored silently). Keys are checked by core/validate.ts, so the error is the
// project's OptionsError listing every unknown key; values are checked where they are read.
import * as E from "fp-ts/lib/Either.js";
import { describe } from "../core/convert.js";
import { JacobiError } from "../core/errors.js";
import { type Validator, checkOptions as checkSpec } from "../core/validate.js";

const present: Validator<unknown> = (v) => E.right(v);

/** Throws an OptionsError unless `opts` is undefined or a plain object whose keys are all in `allowed`. */
export function checkOptions(where: string, opts: unknown, allowed: readonly string[]): void {
  checkSpec(where, opts, Object.fromEntries(allowed.map((k) => [k, present])));
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
