import { TreeError } from "./errors.js";

/** The shape of a pytree without its leaves. */
export class TreeDef {
  constructor(
    readonly kind: "leaf" | "none" | "array" | "object",
    readonly children: TreeDef[] = [],
    readonly keys: string[] = [],
    // No default: `undefined` passed explicitly must stay undefined, not turn into null.
    readonly noneValue?: null,
  ) {}
  get numLeaves(): number {
    if (this.kind === "leaf") return 1;
    return this.children.reduce((s, c) => s + c.numLeaves, 0);
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
  toString(): string {
    switch (this.kind) {
      case "leaf": return "*";
      case "none": return "None";
      case "array": return `[${this.children.map(String).join(", ")}]`;
      case "object": return `{${this.keys.map((k, i) => `${k}: ${this.children[i]}`).join(", ")}}`;
    }
  }
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== "object" || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** Leaves in order (object keys sorted, as JAX) and the structure that holds them. */
export function flatten(tree: unknown): [unknown[], TreeDef] {
  const leaves: unknown[] = [];
  const go = (t: unknown): TreeDef => {
    if (t === null || t === undefined) return new TreeDef("none", [], [], t);
    if (Array.isArray(t)) return new TreeDef("array", t.map(go));
    if (isPlainObject(t)) {
      const keys = Object.keys(t).sort();
      return new TreeDef("object", keys.map((k) => go(t[k])), keys);
    }
    leaves.push(t);
    return new TreeDef("leaf");
  };
  const def = go(tree);
  return [leaves, def];
}

export function unflatten(def: TreeDef, leaves: readonly unknown[]): any {
  if (leaves.length !== def.numLeaves) throw new TreeError(`tree.unflatten: structure ${def} has ${def.numLeaves} leaves, got ${leaves.length}`);
  let i = 0;
  const go = (d: TreeDef): unknown => {
    switch (d.kind) {
      case "leaf": return leaves[i++];
      case "none": return d.noneValue;
      case "array": return d.children.map(go);
      case "object": {
        const o: Record<string, unknown> = {};
        d.keys.forEach((k, j) => (o[k] = go(d.children[j])));
        return o;
      }
    }
  };
  return go(def);
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

export const tree = { flatten, unflatten, map, leaves, structure };
