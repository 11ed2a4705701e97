import type { Jaxpr, Var } from "./jaxpr.js";

/**
 * Values keyed by Vars. Var ids are handed out in creation order, so the Vars of one jaxpr fill a
 * narrow id range: within the range given at construction this is a plain array, outside it a
 * Map. Hashing a million Vars into Maps and Sets took a quarter of differentiating a long chain.
 */
export class VarTable<T> {
  private readonly slots: (T | undefined)[];
  private overflow: Map<Var, T> | null = null;

  /** Array slots for ids in [lo, hi). */
  constructor(
    private readonly lo = 0,
    hi = 0,
  ) {
    this.slots = new Array<T | undefined>(Math.max(0, hi - lo));
  }

  get(v: Var): T | undefined {
    const i = v.id - this.lo;
    return i >= 0 && i < this.slots.length ? this.slots[i] : this.overflow?.get(v);
  }
  has(v: Var): boolean {
    return this.get(v) !== undefined;
  }
  set(v: Var, x: T): void {
    const i = v.id - this.lo;
    if (i >= 0 && i < this.slots.length) this.slots[i] = x;
    else (this.overflow ??= new Map()).set(v, x);
  }
  delete(v: Var): void {
    const i = v.id - this.lo;
    if (i >= 0 && i < this.slots.length) this.slots[i] = undefined;
    else this.overflow?.delete(v);
  }
}

/**
 * The id range [lo, hi) of a jaxpr's binders, for VarTables over it; empty when the ids are too
 * spread out (Vars gathered from far-apart traces), where an array would waste memory.
 */
export function slotRange(jaxpr: Jaxpr): [number, number] {
  let lo = Infinity, hi = -Infinity, n = 0;
  const see = (v: Var): void => {
    if (v.id < lo) lo = v.id;
    if (v.id > hi) hi = v.id;
    n++;
  };
  for (const v of jaxpr.constBinders) see(v);
  for (const v of jaxpr.inBinders) see(v);
  for (const e of jaxpr.eqns) for (const v of e.outBinders) see(v);
  return n > 0 && hi - lo < 4 * n + 4096 ? [lo, hi + 1] : [0, 0];
}
