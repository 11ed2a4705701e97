// Partial evaluation: splitting a jaxpr whose inputs are partly known into the part computable now
// and the part that must wait for the unknown inputs, and the linearization built on it.
import { isFloat } from "../core/dtype.js";
import { InternalError } from "../core/errors.js";
import { type Tangent, Zero } from "../core/primitive.js";
import type { Tensor } from "../core/tensor.js";
import { withMain } from "../core/trace.js";
import { checked } from "../ir/check-jaxpr.js";
import { type Atom, ClosedJaxpr, type Eqn, Jaxpr, Var } from "../ir/jaxpr.js";
import { VarTable, slotRange } from "../ir/var-table.js";
import { dce } from "./dce.js";
import { jvpFlat } from "./jvp.js";
import { BuilderTrace } from "./staging.js";
import { isZero, zerosLike } from "./zeros.js";

export interface PartialEval {
  /** Equations whose inputs are all known, in order. */
  knownEqns: Eqn[];
  /** Equations reading an unknown value (their outputs are unknown too), in order. */
  unknownEqns: Eqn[];
  /** Whether a variable is unknown. */
  isUnknown(a: Atom): a is Var;
  /**
   * Known non-constant variables that the unknown equations (or the outputs flagged in
   * `residualOuts`) read: what the known part must hand to the unknown part.
   */
  residuals: Var[];
}

/**
 * Splits `j`'s equations by whether they depend on the inputs flagged in `unknownIns` (a forward
 * loop). Known outputs flagged in `residualOuts` are residuals too.
 */
export function partialEval(j: Jaxpr, unknownIns: readonly boolean[], residualOuts: readonly boolean[] = []): PartialEval {
  const [lo, hi] = slotRange(j);
  const unknown = new VarTable<true>(lo, hi);
  j.inBinders.forEach((v, i) => {
    if (unknownIns[i]) unknown.set(v, true);
  });
  const isUnknown = (a: Atom): a is Var => a instanceof Var && unknown.has(a);
  const knownEqns: Eqn[] = [];
  const unknownEqns: Eqn[] = [];
  for (const e of j.eqns) {
    if (e.inputs.some(isUnknown)) {
      for (const v of e.outBinders) unknown.set(v, true);
      unknownEqns.push(e);
    } else {
      knownEqns.push(e);
    }
  }
  const consts = new Set<Var>(j.constBinders);
  const residuals: Var[] = [];
  const seen = new VarTable<true>(lo, hi);
  const need = (a: Atom): void => {
    if (a instanceof Var && !unknown.has(a) && !consts.has(a) && !seen.has(a)) {
      seen.set(a, true);
      residuals.push(a);
    }
  };
  for (const e of unknownEqns) e.inputs.forEach(need);
  j.outs.forEach((a, i) => {
    if (residualOuts[i]) need(a);
  });
  return { knownEqns, unknownEqns, isUnknown, residuals };
}

export interface SplitJvp {
  primalIns: Var[];
  tanIns: Var[];
  primalOuts: Atom[];
  residuals: Var[];
  knownEqns: Eqn[];
  /** The primal part computing `outs` from `ins` (the primal inputs by default). */
  known(outs: Atom[], ins?: Var[]): ClosedJaxpr;
  /** The tangent part, a function of `ins` (residuals and tangent inputs), linear in the tangents. */
  tangentPart(ins: Var[]): ClosedJaxpr;
}

/**
 * Splits a JVP jaxpr (primal inputs then tangent inputs -> primal outputs then tangent outputs)
 * into its primal part, which also returns the residuals the tangent part reads, and its tangent
 * part, which is linear in the tangents. This is what lets a linearization run the primal
 * computation now and stage only the tangent computation (reverse mode then transposes it).
 */
export function splitJvp(c: ClosedJaxpr, nIn: number, nOut: number): SplitJvp {
  const j = c.jaxpr;
  const primalIns = j.inBinders.slice(0, nIn);
  const tanIns = j.inBinders.slice(nIn);
  const pe = partialEval(
    j,
    j.inBinders.map((_, i) => i >= nIn),
    j.outs.map((_, i) => i >= nOut),
  );
  const primalOuts = j.outs.slice(0, nOut);
  const tanOuts = j.outs.slice(nOut);
  if (primalOuts.some(pe.isUnknown)) throw new InternalError("a primal output depends on a tangent");
  // Not checked here: a caller may name outputs it binds afterwards (cond adds zero residuals).
  const known = (outs: Atom[], ins: Var[] = primalIns): ClosedJaxpr => new ClosedJaxpr(dce(new Jaxpr(j.constBinders, ins, pe.knownEqns, outs)).jaxpr, c.consts);
  const tangentPart = (ins: Var[]): ClosedJaxpr => checked(new ClosedJaxpr(dce(new Jaxpr(j.constBinders, ins, pe.unknownEqns, tanOuts)).jaxpr, c.consts));
  return { primalIns, tanIns, primalOuts, residuals: pe.residuals, knownEqns: pe.knownEqns, known, tangentPart };
}

export interface Linearized {
  primalsOut: Tensor[];
  /** The JVP's tangent part as a linear jaxpr: tangents in -> tangents out of the first `nLinear` outputs. */
  lin: ClosedJaxpr;
}

/**
 * Linearize by partial evaluation: the JVP runs with known primals and unknown (staged) tangents,
 * so every primal operation executes now and every tangent operation is recorded into a linear
 * jaxpr whose constants are the residuals. Reverse mode transposes that jaxpr.
 */
export function linearizeFlat(f: (xs: Tensor[]) => Tensor[], primals: Tensor[], transform: string, nLinear?: number): Linearized {
  return withMain(
    `${transform} (linearization)`,
    (main) => new BuilderTrace(main),
    (b) => {
      const tIn = primals.map((p) => b.newArg(p.aval.strong()));
      // Integer and bool inputs have no tangent space (as in `jvp`): their binder stays unused, so
      // jvpFn ignores their tangents and the pullback gives them zero.
      const tJvp = tIn.map((t): Tangent => (isFloat(t.aval.dtype) ? t : new Zero(t.aval)));
      const [primalsOut, tOut] = jvpFlat(f, primals, tJvp, transform);
      const kept = tOut.slice(0, nLinear ?? tOut.length).map((t) => (isZero(t) ? zerosLike(t) : t));
      return { primalsOut, lin: b.build(tIn, kept) };
    },
  );
}
