import { asTensor, describe } from "../core/convert.js";
import { isFloat } from "../core/dtype.js";
import { DTypeError, InternalError, JacobiError, ShapeError, TreeError, escapedTracerError, fmtShape } from "../core/errors.js";
import { Tensor, Tracer, isTensorLike } from "../core/tensor.js";
import { type LooseTree, type TensorTree, type TreeDef, flatten, unflatten } from "../core/tree.js";

export type { IsAny, LeafOf, LooseLeaves, LooseTree, Output, Pytree, TensorArgs, TensorTree, WithLeaves } from "../core/tree.js";

export function checkFn(f: unknown, transform: string): asserts f is Fn {
  if (typeof f !== "function") throw new JacobiError(`${transform}: expected a function to transform, got ${describe(f)}`);
}

/** Normalizes `argnums` (negative counts from the end) against the number of arguments passed. */
export function normArgnums(argnums: number | readonly number[], nargs: number, transform: string): number[] {
  const list = Array.isArray(argnums) ? argnums : [argnums];
  if (Array.isArray(argnums) && list.length === 0) throw new JacobiError(`${transform}: argnums must not be empty`);
  const out = list.map((a) => {
    if (typeof a !== "number" || !Number.isInteger(a)) throw new JacobiError(`${transform}: argnums must be integers, got ${typeof a === "number" ? String(a) : (JSON.stringify(a) ?? String(a))}`);
    if (a < -nargs || a >= nargs) throw new JacobiError(`${transform}: argnums ${a} is out of range for a call with ${nargs} positional argument${nargs === 1 ? "" : "s"}`);
    return a < 0 ? a + nargs : a;
  });
  if (new Set(out).size !== out.length) throw new JacobiError(`${transform}: argnums ${JSON.stringify(list)} has duplicates`);
  return out;
}

/** Flattens a pytree of inputs into Tensors, naming the argument in any error. */
export function inputLeaves(tree: unknown, where: string): [Tensor[], TreeDef] {
  const [leaves, def] = flatten(tree);
  return [leaves.map((l, i) => {
    // A tracer of a transformation that has ended would otherwise be taken as a constant (JAX raises).
    if (l instanceof Tracer && !l.main.valid) throw escapedTracerError(l.aval.shape, l.aval.dtype, l.main.transform);
    return asTensor(l, leaves.length === 1 ? where : `${where} (leaf ${i})`);
  }), def];
}

export function requireFloat(xs: Tensor[], transform: string, where: string): void {
  xs.forEach((x, i) => {
    if (!isFloat(x.dtype)) {
      throw new DTypeError(`${transform} requires floating-point inputs, but ${where}${xs.length > 1 ? ` (leaf ${i})` : ""} has dtype ${x.dtype}; convert it with np.astype(x, "float64") or leave it out of argnums`);
    }
  });
}

const isThenable = (x: unknown): boolean =>
  (typeof x === "object" || typeof x === "function") && x !== null && typeof (x as { then?: unknown }).then === "function";

/** Flattens what a user function returned into Tensors, with a clear error for anything else. */
export function outputLeaves(out: unknown, transform: string): [Tensor[], TreeDef] {
  if (isThenable(out)) {
    // Handle its rejection here: the caller never sees this Promise, and an unhandled rejection
    // would end the process after the clear error below.
    (out as PromiseLike<unknown>).then(undefined, () => undefined);
    throw new JacobiError(`${transform}: the function returned a Promise; transformations need synchronous functions (async functions cannot be transformed)`);
  }
  if (out === undefined) throw new JacobiError(`${transform}: the function returned undefined; it must return a Tensor or a pytree of Tensors`);
  const [leaves, def] = flatten(out);
  const ts = leaves.map((l, i) => {
    if (!isTensorLike(l)) throw new JacobiError(`${transform}: the function returned ${describe(l)}${leaves.length > 1 ? ` at output leaf ${i}` : ""}; it must return Tensors`);
    return asTensor(l);
  });
  return [ts, def];
}

export function checkLike(kind: string, transform: string, got: Tensor, want: { shape: readonly number[]; dtype: string }, i: number): void {
  if (got.shape.length !== want.shape.length || got.shape.some((d, k) => d !== want.shape[k])) {
    throw new ShapeError(`${transform}: ${kind} ${i} has shape ${fmtShape(got.shape)}, expected ${fmtShape(want.shape)}`);
  }
  if (isFloat(want.dtype as never) && got.dtype !== want.dtype && !got.weakType) {
    throw new DTypeError(`${transform}: ${kind} ${i} has dtype ${got.dtype}, expected ${want.dtype}`);
  }
}

export function checkTree(kind: string, transform: string, got: TreeDef, want: TreeDef): void {
  if (!got.equals(want)) throw new TreeError(`${transform}: ${kind} has structure ${got}, expected ${want}`);
}

// ---- Types of transformations (checked by tests/types) ----

/** A function a transformation accepts (internally; the public signatures infer the parameter and result types). */
export type Fn = (...args: any[]) => any;

/** The parameters of `F`, where a Tensor (also inside a pytree) accepts any TensorLike (a JS number, say). */
export type LooseArgs<F extends Fn> = LooseTree<Parameters<F>> extends infer P extends unknown[] ? P : Parameters<F>;

/** The return type of `F` as a transformation returns it (every leaf a Tensor). */
export type TensorResult<F extends Fn> = TensorTree<ReturnType<F>>;

/** `F`'s parameters with Tensors accepting TensorLike, returning Tensors: what vmap and jit make of `F`. */
export type Transformed<F extends Fn> = (...args: LooseArgs<F>) => TensorResult<F>;

/** `argnums`: one argument position (negative counts from the end) or several. */
export type Argnums = number | readonly number[];

/** The element of the tuple `P` at position `A` (negative from the end), or `P[number]` when unknown. */
export type ArgAt<P extends readonly unknown[], A extends number> =
  number extends A ? P[number]
  : number extends P["length"] ? P[number]
  : `${A}` extends `-${infer D extends number}` ? FromEnd<P, D>
  : `${A}` extends keyof P ? P[`${A}` & keyof P]
  : never;
type FromEnd<P extends readonly unknown[], D extends number, Seen extends unknown[] = [unknown]> =
  P extends readonly [...infer Rest, infer Last] ? (Seen["length"] extends D ? Last : FromEnd<Rest, D, [...Seen, unknown]>) : never;

/** The arguments at `argnums` in `P`: one for a number, a tuple of them for an array of positions. */
export type ArgsAt<P extends readonly unknown[], A extends Argnums> =
  A extends number ? ArgAt<P, A>
  : A extends readonly number[] ? { -readonly [K in keyof A]: ArgAt<P, A[K] & number> }
  : never;

/**
 * A user function made into a function of flat leaves (JAX's `flatten_fun`): it unflattens its
 * inputs with `inDef`, calls `f`, and flattens what `f` returned, recording the output structure
 * in `outTree()` (available once the flat function has run).
 */
export function flattenFun(f: Fn, inDef: TreeDef, transform: string): [(xs: Tensor[]) => Tensor[], () => TreeDef] {
  const outDef = new Recorded<TreeDef>(`${transform}: the output structure`);
  const flat = (xs: Tensor[]): Tensor[] => {
    const [outs, def] = outputLeaves(f(...(unflatten(inDef, xs) as unknown[])), transform);
    outDef.set(def);
    return outs;
  };
  return [flat, () => outDef.get()];
}

/** A value a traced function records while it runs (its output structure, say), read after it ran. */
export class Recorded<T> {
  private value: { v: T } | null = null;
  constructor(private readonly what: string) {}
  set(v: T): void {
    this.value = { v };
  }
  get(): T {
    if (this.value === null) throw new InternalError(`${this.what} is asked for before the function ran`);
    return this.value.v;
  }
}
