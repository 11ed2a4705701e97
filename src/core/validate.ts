// Validation of options objects that reports every problem at once: each validator returns an
// fp-ts `Either` (Left: the problems, Right: the checked value), and the checks of all keys are
// combined in the applicative of validation, which concatenates the Lefts instead of stopping at
// the first. `checkOptions` then throws them as one OptionsError.
//
//   const opts = checkOptions("linspace", userOpts, { endpoint: boolean, dtype });
//   // opts: { endpoint?: boolean; dtype?: DType }
import * as A from "fp-ts/lib/Array.js";
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as NEA from "fp-ts/lib/NonEmptyArray.js";
import { DTYPES, type DType, isDType } from "./dtype.js";
import { OptionsError } from "./errors.js";

/** Left: what is wrong (each a phrase such as `order must be a positive integer, got 0`); Right: the value. */
export type Validation<T> = E.Either<NEA.NonEmptyArray<string>, T>;
/** Checks a present option's value; `key` names it in the problems. */
export type Validator<T> = (value: unknown, key: string) => Validation<T>;
/** The options a spec of validators accepts, every key optional. */
export type OptionsOf<S extends Record<string, Validator<unknown>>> = { [K in keyof S]?: S[K] extends Validator<infer T> ? T : never };

const collectAll = E.getApplicativeValidation(NEA.getSemigroup<string>());

export const invalid = <T = never>(problem: string): Validation<T> => E.left([problem]);

/** A value as a problem quotes it: JSON where that says what it is, its type otherwise. */
export function describe(v: unknown): string {
  if (typeof v === "function") return "a function";
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "number" || typeof v === "boolean" || v === null || v === undefined) return String(v);
  try {
    const s: string | undefined = JSON.stringify(v);
    if (s === undefined) return typeof v;
    return s.length > 40 ? `${s.slice(0, 37)}...` : s;
  } catch {
    return typeof v;
  }
}

export const boolean: Validator<boolean> = (v, key) => (typeof v === "boolean" ? E.right(v) : invalid(`${key} must be true or false, got ${describe(v)}`));

/** A number satisfying `ok`; `what` completes "must be ..." (`a positive integer`). */
export function numberWhere(what: string, ok: (n: number) => boolean): Validator<number> {
  return (v, key) => (typeof v === "number" && ok(v) ? E.right(v) : invalid(`${key} must be ${what}, got ${describe(v)}`));
}
export const positiveInteger = numberWhere("a positive integer", (n) => Number.isInteger(n) && n >= 1);
export const positiveNumber = numberWhere("a positive finite number", (n) => Number.isFinite(n) && n > 0);
export const nonNegativeNumber = numberWhere("a non-negative finite number", (n) => Number.isFinite(n) && n >= 0);

/** One of the listed strings. */
export function oneOf<T extends string>(...values: T[]): Validator<T> {
  return (v, key) => ((values as unknown[]).includes(v) ? E.right(v as T) : invalid(`${key} must be one of ${values.map((x) => JSON.stringify(x)).join(", ")}, got ${describe(v)}`));
}

export const dtype: Validator<DType> = (v, key) => (isDType(v) ? E.right(v) : invalid(`${key} must be one of the dtypes ${DTYPES.join(", ")}, got ${describe(v)}`));

/** An integer or a list of integers (argnums, axes): every bad entry is reported. */
export const integers: Validator<number | number[]> = (v, key) => {
  if (typeof v === "number") return Number.isInteger(v) ? E.right(v) : invalid(`${key} must be an integer or a list of integers, got ${describe(v)}`);
  if (!Array.isArray(v)) return invalid(`${key} must be an integer or a list of integers, got ${describe(v)}`);
  return pipe(
    v,
    A.traverseWithIndex(collectAll)((i, x) => (Number.isInteger(x) ? E.right(x as number) : invalid<number>(`${key}[${i}] must be an integer, got ${describe(x)}`))),
  );
};

/** A vmap axis spec: an integer, null, or a list or plain object of specs; every bad leaf is reported with its path. */
export type AxisSpec = number | null | AxisSpec[] | { [k: string]: AxisSpec };
export const axisSpec: Validator<AxisSpec> = (v, key) => {
  const problems: string[] = [];
  // A worklist, not recursion: a spec mirrors a pytree, whose depth is the user's.
  const work: [unknown, string][] = [[v, key]];
  for (let item = work.pop(); item !== undefined; item = work.pop()) {
    const [x, path] = item;
    if (x === null || (typeof x === "number" && Number.isInteger(x))) continue;
    if (Array.isArray(x)) x.forEach((c, i) => work.push([c, `${path}[${i}]`]));
    else if (isPlainObject(x)) for (const [k, c] of Object.entries(x)) work.push([c, `${path}.${k}`]);
    else problems.push(`${path} must be an integer, null, or a list or object of them, got ${describe(x)}`);
  }
  return problems.length === 0 ? E.right(v as AxisSpec) : E.left(problems as NEA.NonEmptyArray<string>);
};

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && [Object.prototype, null].includes(Object.getPrototypeOf(v));

/**
 * Checks an options object against `spec`: an unknown key is a problem naming it (and the known
 * ones), each present value (undefined counts as absent) must pass its key's validator. Every
 * problem is collected; the result is a new object, the input is not touched.
 */
export function validateOptions<S extends Record<string, Validator<unknown>>>(opts: unknown, spec: S): Validation<OptionsOf<S>> {
  if (opts === undefined) return E.right({});
  if (!isPlainObject(opts)) return invalid(`options must be a plain object, got ${describe(opts)}`);
  const known = Object.keys(spec);
  const checks = Object.keys(opts).map((key): Validation<[string, unknown]> => {
    if (!Object.prototype.hasOwnProperty.call(spec, key)) {
      return invalid(`unknown option ${JSON.stringify(key)} (${known.length === 0 ? "it takes no options" : `known: ${known.join(", ")}`})`);
    }
    const value = opts[key];
    return value === undefined ? E.right([key, undefined]) : pipe(spec[key](value, key), E.map((checked): [string, unknown] => [key, checked]));
  });
  return pipe(
    checks,
    A.sequence(collectAll),
    E.map((entries) => Object.fromEntries(entries.filter(([, v]) => v !== undefined)) as OptionsOf<S>),
  );
}

/** `validateOptions`, throwing every problem at once as an OptionsError from `where` (`np.linspace`). */
export function checkOptions<S extends Record<string, Validator<unknown>>>(where: string, opts: unknown, spec: S): OptionsOf<S> {
  return pipe(
    validateOptions(opts, spec),
    E.getOrElse((problems): OptionsOf<S> => {
      throw new OptionsError(where, problems);
    }),
  );
}
