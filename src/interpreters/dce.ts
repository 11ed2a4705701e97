import { type Eqn, Jaxpr, Var } from "../ir/jaxpr.js";
import { VarTable, slotRange } from "../ir/var-table.js";

export interface DceResult {
  jaxpr: Jaxpr;
  /** The variables read by what is kept and not defined by it: inputs and constants still needed. */
  free: Set<Var>;
}

/**
 * Dead-code elimination: drops the equations no output needs (the outputs flagged in `used`, all by
 * default) and that have no effect, with a backward loop. The binders stay as they are; `free` tells which are still read.
 */
export function dce(j: Jaxpr, used?: readonly boolean[]): DceResult {
  const outs = used === undefined ? j.outs : j.outs.filter((_, i) => used[i]);
  // A table indexed by Var id, not a Set: hashing every Var of a long chain in and out of a Set
  // cost as much as tracing it (every staging and every grad runs this).
  const [lo, hi] = slotRange(j);
  const live = new VarTable<true>(lo, hi);
  // Every variable made live, once (a variable is defined once, so it never comes back after its
  // equation): those still live at the end are the free ones.
  const reads: Var[] = [];
  const read = (v: Var): void => {
    if (!live.has(v)) {
      live.set(v, true);
      reads.push(v);
    }
  };
  for (const a of outs) if (a instanceof Var) read(a);
  const kept: Eqn[] = [];
  // Indexed loops: this runs over every equation of every staged function.
  for (let i = j.eqns.length - 1; i >= 0; i--) {
    const e = j.eqns[i];
    const bs = e.outBinders;
    let needed = false;
    for (let k = 0; k < bs.length; k++) {
      if (live.has(bs[k])) {
        live.delete(bs[k]);
        needed = true;
      }
    }
    if (!needed && e.primitive.effectful !== true) continue;
    kept.push(e);
    const ins = e.inputs;
    for (let k = 0; k < ins.length; k++) {
      const a = ins[k];
      if (a instanceof Var) read(a);
    }
  }
  kept.reverse();
  const free = new Set<Var>();
  for (const v of reads) if (live.has(v)) free.add(v);
  return { jaxpr: new Jaxpr(j.constBinders, j.inBinders, kept, outs), free };
}
