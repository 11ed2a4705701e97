import { TreeError } from "./errors.js";
import type { Tensor, TensorLike } from "./tensor.js";

/**
 * The shape of a pytree without its leaves. `T` is the type of the pytree it was taken from, kept
 * for the types only (so that `tree.unflatten` can give that type back); `TreeDef` alone is any
 * structure.
 */
export class TreeDef<out T = unknown> {
  /** Never set: carries `T` for the type checker. */
  declare readonly pytreeType?: T;
  constructor(
    readonly kind: "leaf" | "none" | "array" | "object",
    readonly children: TreeDef[] = [],
    readonly keys: string[] = [],
    // No default: `undefined` passed explicitly must stay undefined, not turn into null.
    readonly noneValue?: null,
  ) {}
  get numLeaves(): number {
    let n = 0;
    const todo: TreeDef[] = [this];
    for (let d = todo.pop(); d !== undefined; d = todo.pop()) {
      if (d.kind === "leaf") n++;
      else for (const c of d.children) todo.push(c);
    }
    return n;
  }
  /** Structural equality, with a work list (not the printed form: a key may contain ", " or ": "). */
  equals(o: TreeDef): boolean {
    const todo: [TreeDef, TreeDef][] = [[this, o]];
    for (let p = todo.pop(); p !== undefined; p = todo.pop()) {
      const [a, b] = p;
      if (a.kind !== b.kind || a.children.length !== b.children.length || a.keys.length !== b.keys.length) return false;
      for (let i = 0; i < a.keys.length; i++) if (a.keys[i] !== b.keys[i]) return false;
      for (let i = 0; i < a.children.length; i++) todo.push([a.children[i], b.children[i]]);
    }
    return true;
  }
  /**
   * An encoding equal exactly for equal structures (a cache key): keys are JSON-escaped, and null
   * and undefined differ. Built with a work list, so deep trees do not overflow the stack.
   */
  canonicalKey(): string {
    const parts: string[] = [];
    const todo: (TreeDef | string)[] = [this];
    for (let d = todo.pop(); d !== undefined; d = todo.pop()) {
      if (typeof d === "string") {
        parts.push(d);
        continue;
      }
      switch (d.kind) {
        case "leaf": parts.push("*"); break;
        case "none": parts.push(d.noneValue === null ? "N" : "U"); break;
        case "array":
        case "object": {
          parts.push(d.kind === "array" ? `[${d.children.length}` : `{${d.children.length}`);
          todo.push(d.kind === "array" ? "]" : "}");
          for (let i = d.children.length - 1; i >= 0; i--) {
            todo.push(d.children[i]);
            if (d.kind === "object") todo.push(JSON.stringify(d.keys[i]));
          }
        }
      }
    }
    return parts.join("");
  }
  toString(): string {
    // With a work list of nodes and closing tokens: a tree 1e5 deep prints without recursion.
    const parts: string[] = [];
    const todo: (TreeDef | string)[] = [this];
    for (let d = todo.pop(); d !== undefined; d = todo.pop()) {
      if (typeof d === "string") {
        parts.push(d);
        continue;
      }
      if (d.kind === "leaf" || d.kind === "none") {
        parts.push(d.kind === "leaf" ? "*" : "None");
        continue;
      }
      const obj = d.kind === "object";
      parts.push(obj ? "{" : "[");
      todo.push(obj ? "}" : "]");
      for (let i = d.children.length - 1; i >= 0; i--) {
        todo.push(d.children[i]);
        if (obj) todo.push(`${d.keys[i]}: `);
        if (i > 0) todo.push(", ");
      }
    }
    return parts.join("");
  }
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== "object" || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  if (proto === Object.prototype || proto === null) return true;
  // Another realm's plain object (a vm context): its prototype is that realm's Object.prototype.
  return Object.getPrototypeOf(proto) === null && Object.prototype.toString.call(x) === "[object Object]";
}

const pathSegment = (key: string | number): string =>
  typeof key === "number" ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;

/**
 * Leaves in order (object keys sorted, as JAX) and the structure that holds them. A loop with its
 * own stack (deep trees do not overflow); a container that contains itself is a TreeError naming
 * the path where it recurs (a shared, acyclic subtree is fine).
 */
export function flatten(tree: unknown): [unknown[], TreeDef] {
  const leaves: unknown[] = [];
  interface Frame { node: object; items: unknown[]; keys: string[] | null; defs: TreeDef[]; seg: string }
  const frames: Frame[] = [];
  const open = new Set<object>();
  let root: TreeDef | undefined;
  const emit = (d: TreeDef): void => {
    if (frames.length === 0) root = d;
    else frames[frames.length - 1].defs.push(d);
  };
  const visit = (t: unknown, seg: string): void => {
    if (t === null || t === undefined) return emit(new TreeDef("none", [], [], t));
    const arr = Array.isArray(t);
    if (!arr && !isPlainObject(t)) {
      leaves.push(t);
      return emit(new TreeDef("leaf"));
    }
    if (open.has(t)) {
      const path = frames.map((f) => f.seg).join("") + seg;
      throw new TreeError(`pytree has a cycle: the container at tree${path} is one of its own ancestors`);
    }
    open.add(t);
    const keys = arr ? null : Object.keys(t).sort();
    const items = arr ? (t as unknown[]) : (keys as string[]).map((k) => (t as Record<string, unknown>)[k]);
    frames.push({ node: t, items, keys, defs: [], seg });
  };
  visit(tree, "");
  while (frames.length > 0) {
    const f = frames[frames.length - 1];
    const i = f.defs.length;
    if (i === f.items.length) {
      frames.pop();
      open.delete(f.node);
      emit(f.keys === null ? new TreeDef("array", f.defs) : new TreeDef("object", f.defs, f.keys));
    } else {
      visit(f.items[i], pathSegment(f.keys === null ? i : f.keys[i]));
    }
  }
  return [leaves, root as TreeDef];
}

export function unflatten(def: TreeDef, leaves: readonly unknown[]): any {
  if (leaves.length !== def.numLeaves) throw new TreeError(`tree.unflatten: structure ${def} has ${def.numLeaves} leaves, got ${leaves.length}`);
  let next = 0;
  interface Frame { d: TreeDef; vals: unknown[] }
  const frames: Frame[] = [];
  let root: unknown;
  const emit = (v: unknown): void => {
    if (frames.length === 0) root = v;
    else frames[frames.length - 1].vals.push(v);
  };
  const visit = (d: TreeDef): void => {
    if (d.kind === "leaf") emit(leaves[next++]);
    else if (d.kind === "none") emit(d.noneValue);
    else frames.push({ d, vals: [] });
  };
  visit(def);
  while (frames.length > 0) {
    const f = frames[frames.length - 1];
    if (f.vals.length < f.d.children.length) {
      visit(f.d.children[f.vals.length]);
      continue;
    }
    frames.pop();
    if (f.d.kind === "array") {
      emit(f.vals);
      continue;
    }
    const o: Record<string, unknown> = {};
    f.d.keys.forEach((k, j) => {
      // An own "__proto__" key must stay a key (plain assignment would set the prototype).
      if (k === "__proto__") Object.defineProperty(o, k, { value: f.vals[j], enumerable: true, writable: true, configurable: true });
      else o[k] = f.vals[j];
    });
    emit(o);
  }
  return root;
}

export const leaves = (t: unknown): unknown[] => flatten(t)[0];
export const structure = (t: unknown): TreeDef => flatten(t)[1];

/** Applies `fn` leafwise over trees of one structure. */
export function map(fn: (...xs: any[]) => unknown, tree: unknown, ...rest: unknown[]): any {
  const [ls, def] = flatten(tree);
  const others = rest.map((r, k) => {
    const [rl, rd] = flatten(r);
    if (!rd.equals(def)) throw new TreeError(`tree.map: tree ${k + 1} has structure ${rd}, expected ${def}`);
    return rl;
  });
  return unflatten(def, ls.map((l, i) => fn(l, ...others.map((o) => o[i]))));
}



// ---- Pytrees at the type level (the public signatures of tree and the transformations) ----

/**
 * `T`, hidden from type inference: a type parameter is read from where the user passes a value
 * (a loop's init, the tree given to tree.map), not from how a callback's parameter is annotated
 * (TypeScript's NoInfer, written to work before 5.4).
 */
export type Fixed<T> = [T][T extends unknown ? 0 : never];

/** True for `any` (which every conditional type would otherwise send down both branches). */
export type IsAny<T> = 0 extends 1 & T ? true : false;

/** A pytree with leaves of type `L`: a leaf, null/undefined, an array of pytrees, or an object of them. */
export type Pytree<L> = L | null | undefined | readonly Pytree<L>[] | { readonly [key: string]: Pytree<L> };

/** What a pytree holds as a leaf: anything that is not an array, a plain object, null or undefined. */
type AtomicLeaf = TensorLike | string | bigint | symbol | ((...args: never[]) => unknown);

/**
 * How deep the type-level pytree maps below descend before giving up on precision. Recursive
 * pytree types (`type State = Tensor | State[]`) would otherwise expand forever.
 */
type Deeper<D extends unknown[]> = [...D, unknown];
type TooDeep<D extends unknown[]> = D["length"] extends 12 ? true : false;

/**
 * The pytree `T` with every leaf replaced by `L`: the type of what a transformation returns when
 * it produces one `L` per leaf (a Jacobian block per output leaf, say). `any` (as `T` or `L`)
 * stays `any`, since an untyped function gives untyped results; `unknown` becomes `Pytree<L>`; a tree whose leaves are already all `L` is returned as it is.
 */
export type WithLeaves<T, L, D extends unknown[] = []> =
  IsAny<T> extends true ? any
  : IsAny<L> extends true ? any
  : unknown extends T ? Pytree<L>
  // What a function typed `any` is inferred to return: it stays untyped.
  : Output extends T ? any
  : [T] extends [Pytree<L>] ? ([T] extends [null | undefined] ? T : [L] extends [Tensor] ? T : Mapped<T, L, D>)
  : Mapped<T, L, D>;
type Mapped<T, L, D extends unknown[]> =
  TooDeep<D> extends true ? Pytree<L>
  : T extends AtomicLeaf ? L
  : T extends null | undefined ? T
  : T extends readonly unknown[] ? { -readonly [K in keyof T]: WithLeaves<T[K], L, Deeper<D>> }
  : T extends object ? { -readonly [K in keyof T]: WithLeaves<T[K], L, Deeper<D>> }
  : L;

/**
 * The type of a pytree of `T`'s structure as a transformation returns it: every leaf (a JS number,
 * boolean, ndarray, typed array or Tensor) becomes a Tensor. `TensorTree<[number, { w: Tensor }]>`
 * is `[Tensor, { w: Tensor }]`.
 */
export type TensorTree<T> = WithLeaves<T, Tensor>;

/** The leaves of a pytree type, as a union: `LeafOf<{ a: number; b: Tensor[] }>` is `number | Tensor`. */
export type LeafOf<T, D extends unknown[] = []> =
  IsAny<T> extends true ? any
  : unknown extends T ? unknown
  // A recursive pytree type has met all its leaf types by now.
  : TooDeep<D> extends true ? never
  : T extends AtomicLeaf ? T
  : T extends null | undefined ? never
  : T extends readonly (infer E)[] ? LeafOf<E, Deeper<D>>
  : T extends object ? LeafOf<T[keyof T], Deeper<D>>
  : T;

/** A pytree of `T`'s structure where a Tensor leaf may also be given as any TensorLike. */
export type LooseTree<T, D extends unknown[] = []> =
  IsAny<T> extends true ? any
  : TooDeep<D> extends true ? T
  : T extends Tensor ? TensorLike
  : T extends AtomicLeaf | null | undefined ? T
  : T extends readonly unknown[] ? { [K in keyof T]: LooseTree<T[K], Deeper<D>> }
  : T extends object ? { [K in keyof T]: LooseTree<T[K], Deeper<D>> }
  : T;

/**
 * What a transformed function may return: anything (a pytree of TensorLike leaves, checked at run
 * time; a function typed to return `unknown` is accepted). The tuple member makes TypeScript read
 * an array literal returned by a lambda as a tuple (`[y, aux]`), not an array.
 */
export type Output = readonly [unknown, ...unknown[]] | {} | null | undefined;

/** A cotangent or tangent for a value of type `T`: its structure, any TensorLike at the leaves. */
export type LooseLeaves<T> = WithLeaves<T, TensorLike>;

/** The argument tuple `P` as a function receives it from a transformation: every leaf a Tensor. */
export type TensorArgs<P extends unknown[]> = TensorTree<P> extends infer Q extends unknown[] ? Q : P;


/** The `tree` namespace as users see it: leaves and results typed from the pytrees passed in. */
export interface TreeApi {
  /** Leaves in order (object keys sorted, as JAX) and the structure that holds them. */
  flatten<T>(tree: T): [LeafOf<T>[], TreeDef<T>];
  /** The pytree of structure `def` holding `leaves` (`def`'s tree type with those leaves); throws TreeError when the count differs. */
  unflatten<T, L>(def: TreeDef<T>, leaves: readonly L[]): WithLeaves<T, L>;
  /** Applies `fn` leafwise over trees of one structure: `fn(leaf, ...leaves of rest at that position)`. */
  map<T, R, Rest extends unknown[]>(fn: (leaf: Fixed<LeafOf<T>>, ...others: Fixed<{ [K in keyof Rest]: LeafOf<Rest[K]> }>) => R, tree: T, ...rest: Rest): WithLeaves<T, R>;
  leaves<T>(tree: T): LeafOf<T>[];
  structure<T>(tree: T): TreeDef<T>;
}

export const tree: TreeApi = { flatten, unflatten, map, leaves, structure } as TreeApi;
