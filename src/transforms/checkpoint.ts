// checkpoint (remat): a function whose reverse pass recomputes its intermediates from its inputs
// instead of storing them.
import { type Primitive, type Tangent, Zero, definePrimitive } from "../core/primitive.js";
import type { Tensor } from "../core/tensor.js";
import { bind, traceDepth } from "../core/trace.js";
import { unflatten } from "../core/tree.js";
import { checked } from "../ir/check-jaxpr.js";
import { ClosedJaxpr, Jaxpr } from "../ir/jaxpr.js";
import { batchJaxpr } from "../interpreters/batching.js";
import { callAvals, evalCallImpl } from "../interpreters/custom-rules.js";
import { dce } from "../interpreters/dce.js";
import { jvpJaxpr } from "../interpreters/jvp.js";
import { stageCall } from "../interpreters/staging.js";
import { transposeCall } from "../interpreters/transpose.js";
import { isZero } from "../interpreters/zeros.js";
import "../primitives/install-axis-ops.js";
import { checkOptions } from "../core/validate.js";
import { type Fn, type LooseTree, type Output, checkFn, flattenFun, inputLeaves } from "./common.js";

export interface TangentJaxpr {
  /** Inputs `[...primals, ...the tangents that are not zero]`; outputs the tangents that are not zero. */
  jaxpr: ClosedJaxpr;
  /** For each output of the call: whether its tangent is symbolically zero (and left out). */
  zeroOut: boolean[];
}

const tangentCache = new WeakMap<ClosedJaxpr, Map<string, TangentJaxpr>>();

/**
 * The tangent half of the JVP of `call`, staged: a function of the primal inputs and the nonzero
 * input tangents (`nonzero[i]`), linear in the tangents. It recomputes whatever primal values the
 * tangents need, so that a linearization stores the primal inputs and nothing else.
 */
export function tangentJaxpr(call: ClosedJaxpr, nonzero: readonly boolean[]): TangentJaxpr {
  const key = nonzero.map((b) => (b ? "1" : "0")).join("");
  let byMask = tangentCache.get(call);
  const hit = byMask?.get(key);
  if (hit) return hit;
  const nOut = call.jaxpr.outs.length;
  const jv = jvpJaxpr(call, nonzero, new Array<boolean>(nOut).fill(false));
  // Keep the tangent outputs only: the primal work they do not need is dropped.
  const j = jv.jaxpr.jaxpr;
  const tangentsOnly = dce(new Jaxpr(j.constBinders, j.inBinders, j.eqns, j.outs.slice(nOut))).jaxpr;
  const out = { jaxpr: checked(new ClosedJaxpr(tangentsOnly, jv.jaxpr.consts)), zeroOut: jv.outNz.map((nz) => !nz) };
  if (!byMask) tangentCache.set(call, (byMask = new Map()));
  byMask.set(key, out);
  return out;
}

export type CheckpointParams = { jaxpr: ClosedJaxpr };

/**
 * Evaluates its jaxpr. Its JVP is two checkpoints: one for the primal outputs and one for the
 * tangent half of the JVP (`tangentJaxpr`). Under linearize the first runs now and the second is
 * recorded with the primal inputs as its only residuals; transposing it replays the body.
 */
export const checkpointP: Primitive<CheckpointParams> = definePrimitive<CheckpointParams>("checkpoint", (self) => ({
  impl: (args, { jaxpr }) => evalCallImpl(jaxpr, args),
  abstractEval: (avals, { jaxpr }) => callAvals("checkpoint", avals, jaxpr),
  jvp: (primals, tangents, params) => {
    const po = bind(self, primals, params);
    const tj = tangentJaxpr(params.jaxpr, tangents.map((t) => !isZero(t)));
    const tin = tangents.filter((t): t is Tensor => !isZero(t));
    const tout = tj.jaxpr.jaxpr.outs.length > 0 ? bind(self, [...primals, ...tin], { jaxpr: tj.jaxpr }) : [];
    let k = 0;
    return [po, po.map((o, i): Tangent => (tj.zeroOut[i] ? new Zero(o.aval.strong()) : tout[k++]))];
  },
  linear: true,
  transpose: (cts, args, { jaxpr }) => transposeCall(jaxpr, cts, args),
  batch: (args, dims, { jaxpr }, size) => {
    const force = jaxpr.jaxpr.outs.map(() => true);
    const outs = bind(self, args, { jaxpr: batchJaxpr(jaxpr, dims, args.map((a) => a.aval), size, force).jaxpr });
    return [outs, outs.map(() => 0)];
  },
}));

/**
 * `f` whose reverse pass recomputes its intermediates instead of storing them (JAX's
 * `jax.checkpoint`, a.k.a. remat). Under a transformation `f` is traced on abstract values, so it
 * must not branch on the values of its arguments (use `np.where` or `lax.cond`); outside any
 * transformation it is simply called (on its arguments as Tensors).
 */
export function checkpoint<P extends any[], R extends Output>(f: (...args: P) => R, opts?: Record<string, never>): (...args: LooseTree<P>) => R;
export function checkpoint(f: Fn, opts?: unknown): (...args: unknown[]) => unknown {
  checkFn(f, "checkpoint");
  // JAX's policies and prevent_cse are not offered: any option is an error, never ignored.
  checkOptions("checkpoint", opts, {});
  const wrapped = (...args: unknown[]): unknown => {
    const [leaves, inDef] = inputLeaves(args, "checkpoint: argument");
    // Arguments reach f as Tensors whether or not a transformation is active.
    if (traceDepth() === 0) return f(...(unflatten(inDef, leaves) as unknown[]));
    const [fun, outTree] = flattenFun(f, inDef, "checkpoint");
    const { call, hoisted } = stageCall("checkpoint", fun, leaves);
    return unflatten(outTree(), bind(checkpointP, [...hoisted, ...leaves], { jaxpr: call }));
  };
  return wrapped;
}
