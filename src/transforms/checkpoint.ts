// checkpoint (remat): a function whose reverse pass recomputes its intermediates from its inputs
// instead of storing them. Also the jaxpr helpers shared with the custom-rule primitives of
// custom.ts: staging a function with closure conversion, and deriving the JVP and the batched
// version of a staged jaxpr.
import type { Arr } from "../backend/ndarray-view.js";
import { ShapeError, fmtShape } from "../core/errors.js";
import { type BatchDim, type Primitive, type Tangent, UndefPrimal, Zero, definePrimitive } from "../core/primitive.js";
import { type ShapedArray, sameShape } from "../core/shaped-array.js";
import { ArrayTensor, type Tensor, Tracer } from "../core/tensor.js";
import { type MainTrace, bind, checkLive, traceDepth } from "../core/trace.js";
import { type TreeDef, unflatten } from "../core/tree.js";
import { traceToJaxpr } from "../ir/builder.js";
import { evalJaxpr } from "../ir/eval.js";
import { ClosedJaxpr, Jaxpr, Var } from "../ir/jaxpr.js";
import { batchSize } from "../primitives/batching.js";
import { isZero } from "../primitives/util.js";
import { type Fn, checkFn, inputLeaves, outputLeaves } from "./common.js";
import type { LooseArgs } from "./custom.js";
import { jvpFlat } from "./jvp.js";
import { backwardPass } from "./transpose.js";
import { vmapFlat } from "./vmap.js";

// ---- helpers for primitives that carry a staged function ----

/** The innermost live trace among `xs`, or null when every one of them is concrete. */
export function topMain(xs: readonly Tensor[]): MainTrace | null {
  let top: MainTrace | null = null;
  for (const x of xs) {
    if (x instanceof Tracer) {
      checkLive(x);
      if (top === null || x.main.level > top.level) top = x.main;
    }
  }
  return top;
}

export interface StagedCall {
  /** The function as a jaxpr whose inputs are `[...hoisted, ...leaves]`; its constants are concrete. */
  call: ClosedJaxpr;
  /** Values of transformations the function closed over, passed as leading inputs. */
  hoisted: Tensor[];
}

/**
 * Traces `fun` on abstract values shaped like `leaves`. Tracers it closes over become leading
 * inputs of the jaxpr (closure conversion): an equation's inputs are all that a trace looks at, so a
 * closed-over tracer hidden in the constants would escape the transformation it belongs to.
 */
export function stageCall(transform: string, fun: (xs: Tensor[]) => Tensor[], leaves: readonly Tensor[]): StagedCall {
  const closed = traceToJaxpr(transform, leaves.map((l) => l.aval), fun);
  const j = closed.jaxpr;
  const keptBinders: Var[] = [];
  const kept: Tensor[] = [];
  const hoistedBinders: Var[] = [];
  const hoisted: Tensor[] = [];
  closed.consts.forEach((c, i) => {
    if (c instanceof Tracer) {
      hoistedBinders.push(j.constBinders[i]);
      hoisted.push(c);
    } else {
      keptBinders.push(j.constBinders[i]);
      kept.push(c);
    }
  });
  return { call: new ClosedJaxpr(new Jaxpr(keptBinders, [...hoistedBinders, ...j.inBinders], j.eqns, j.outs), kept), hoisted };
}

export const callFn = (call: ClosedJaxpr) => (xs: Tensor[]): Tensor[] => evalJaxpr(call.jaxpr, call.consts, xs);

/** Output avals of a call primitive, after checking that its inputs fit the jaxpr. */
export function callAvals(name: string, avals: readonly ShapedArray[], call: ClosedJaxpr): ShapedArray[] {
  const ins = call.jaxpr.inBinders;
  if (avals.length !== ins.length) throw new ShapeError(`${name}: expected ${ins.length} inputs, got ${avals.length}`);
  avals.forEach((a, i) => {
    const w = ins[i].aval;
    if (!sameShape(a.shape, w.shape) || a.dtype !== w.dtype) {
      throw new ShapeError(`${name}: input ${i} is ${a.dtype}${fmtShape(a.shape)}, but the staged function takes ${w.dtype}${fmtShape(w.shape)}`);
    }
  });
  return call.jaxpr.outs.map((o) => o.aval);
}

/** `impl` of a call primitive: evaluates the jaxpr on the concrete inputs. */
export function evalCallImpl(call: ClosedJaxpr, args: Arr[]): Arr[] {
  const ins = call.jaxpr.inBinders;
  const outs = evalJaxpr(call.jaxpr, call.consts, args.map((a, i) => new ArrayTensor(a, ins[i].aval)));
  return outs.map((o) => o.concrete() as Arr);
}

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
  const inAvals = call.jaxpr.inBinders.map((v) => v.aval);
  const n = inAvals.length;
  const tAvals = inAvals.filter((_, i) => nonzero[i]).map((a) => a.strong());
  let zeroOut: boolean[] = [];
  const jaxpr = traceToJaxpr("checkpoint (jvp)", [...inAvals, ...tAvals], (xs) => {
    let k = n;
    const ts: Tangent[] = inAvals.map((a, i) => (nonzero[i] ? xs[k++] : new Zero(a.strong())));
    const [, to] = jvpFlat(callFn(call), xs.slice(0, n), ts, "checkpoint");
    zeroOut = to.map(isZero);
    return to.filter((t): t is Tensor => !isZero(t));
  });
  const out = { jaxpr, zeroOut };
  if (!byMask) tangentCache.set(call, (byMask = new Map()));
  byMask.set(key, out);
  return out;
}

/** `call` vectorized over the batch axes `dims` of `args` (shapes as given), outputs batched at 0. */
export function batchJaxpr(call: ClosedJaxpr, args: readonly Tensor[], dims: readonly BatchDim[], size: number): ClosedJaxpr {
  return traceToJaxpr("vmap", args.map((a) => a.aval), (xs) => vmapFlat(callFn(call), xs, [...dims], () => 0, size));
}

/**
 * Transposes a call whose jaxpr is linear in the inputs given as UndefPrimal: the other inputs
 * become constants and the backward pass replays the equations that depend on them only (the
 * recomputation of a checkpoint) before pulling the cotangents back.
 */
export function transposeCall(call: ClosedJaxpr, cts: Tangent[], args: (Tensor | UndefPrimal)[]): (Tangent | null)[] {
  const j = call.jaxpr;
  const knownBinders = [...j.constBinders];
  const known: Tensor[] = [...call.consts];
  const linBinders: Var[] = [];
  const linAt: number[] = [];
  args.forEach((a, i) => {
    if (a instanceof UndefPrimal) {
      linBinders.push(j.inBinders[i]);
      linAt.push(i);
    } else {
      knownBinders.push(j.inBinders[i]);
      known.push(a);
    }
  });
  const res = backwardPass(new Jaxpr(knownBinders, linBinders, j.eqns, j.outs), known, cts);
  const out: (Tangent | null)[] = args.map(() => null);
  linAt.forEach((i, k) => (out[i] = res[k]));
  return out;
}

// ---- the checkpoint primitive ----

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
  transpose: (cts, args, { jaxpr }) => transposeCall(jaxpr, cts, args),
  batch: (args, dims, { jaxpr }) => {
    const outs = bind(self, args, { jaxpr: batchJaxpr(jaxpr, args, dims, batchSize(args, dims)) });
    return [outs, outs.map(() => 0)];
  },
}));

/**
 * `f` whose reverse pass recomputes its intermediates instead of storing them (JAX's
 * `jax.checkpoint`, a.k.a. remat). Under a transformation `f` is traced on abstract values, so it
 * must not branch on the values of its arguments (use `np.where` or `lax.cond`); outside any
 * transformation it is simply called (on its arguments as Tensors).
 */
export function checkpoint<F extends Fn>(f: F): (...args: LooseArgs<F>) => ReturnType<F> {
  checkFn(f, "checkpoint");
  const wrapped = (...args: unknown[]): unknown => {
    const [leaves, inDef] = inputLeaves(args, "checkpoint: argument");
    // Arguments reach f as Tensors whether or not a transformation is active.
    if (traceDepth() === 0) return f(...(unflatten(inDef, leaves) as unknown[]));
    let outDef: TreeDef | null = null;
    const fun = (xs: Tensor[]): Tensor[] => {
      const [outs, def] = outputLeaves(f(...(unflatten(inDef, xs) as unknown[])), "checkpoint");
      outDef = def;
      return outs;
    };
    const { call, hoisted } = stageCall("checkpoint", fun, leaves);
    return unflatten(outDef as unknown as TreeDef, bind(checkpointP, [...hoisted, ...leaves], { jaxpr: call }));
  };
  return wrapped as (...args: LooseArgs<F>) => ReturnType<F>;
}
