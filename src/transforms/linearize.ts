import { isFloat } from "../core/dtype.js";
import { type Tangent, Zero } from "../core/primitive.js";
import type { Tensor } from "../core/tensor.js";
import { withMain } from "../core/trace.js";
import { BuilderTrace } from "../ir/builder.js";
import type { ClosedJaxpr } from "../ir/jaxpr.js";
import { evalClosed } from "../ir/eval.js";
import { zerosLike, isZero, instantiate } from "../primitives/util.js";
import { jvpFlat } from "./jvp.js";
import { backwardPass } from "./transpose.js";

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
    (main) => {
      const b = main.trace as BuilderTrace;
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

export const applyLinear = (lin: ClosedJaxpr, tangents: Tensor[]): Tensor[] => evalClosed(lin, tangents);

/** Pulls cotangents of the linear outputs back to the inputs; never returns symbolic zeros. */
export function pullback(lin: ClosedJaxpr, cts: Tangent[]): Tensor[] {
  const res = backwardPass(lin.jaxpr, lin.consts, cts);
  return res.map((r) => instantiate(r));
}
