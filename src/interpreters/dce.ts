import { type Eqn, Jaxpr, Var } from "../ir/jaxpr.js";

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
  const live = new Set<Var>();
  for (const a of outs) if (a instanceof Var) live.add(a);
  const kept: Eqn[] = [];
  for (let i = j.eqns.length - 1; i >= 0; i--) {
    const e = j.eqns[i];
    let needed = false;
    // A variable is defined once: after its equation it can leave the set, which then holds only
    // the values live at this point (a handful for a long chain, not a million).
    for (const v of e.outBinders) if (live.delete(v)) needed = true;
    if (!needed && e.primitive.effectful !== true) continue;
    kept.push(e);
    for (const a of e.inputs) if (a instanceof Var) live.add(a);
  }
  kept.reverse();
  return { jaxpr: new Jaxpr(j.constBinders, j.inBinders, kept, outs), free: live };
}
