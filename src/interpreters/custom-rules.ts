// The primitives of functions with user-written derivative rules (customJvp, customVjp) and the
// linear map a customVjp function contributes to a linearization (custom_lin). What each trace
// does with a custom call is a method of the trace (jvp.ts, batching.ts, staging.ts); this file
// holds what they share: the parameter shapes and the primitives' evaluation.
import type { Arr } from "../backend/index.js";
import { InternalError, JacobiError, ShapeError, fmtShape } from "../core/errors.js";
import { Label } from "../core/label.js";
import { type Primitive, UndefPrimal, Zero, definePrimitive } from "../core/primitive.js";
import { ShapedArray, sameShape } from "../core/shaped-array.js";
import { ArrayTensor, type Tensor } from "../core/tensor.js";
import { type CustomCallParams, bind } from "../core/trace.js";
import type { ClosedJaxpr } from "../ir/jaxpr.js";
import { alignBatch } from "./axis-ops.js";
import { vmapFlat } from "./batching.js";
import { evalJaxpr } from "./eval.js";
import { instantiate, isZero, zeroTangents, zerosLike } from "./zeros.js";

/** A function on flat leaves. */
export type FlatFn = (xs: Tensor[]) => Tensor[];
/** A JVP rule on flat leaves, given every tangent (zeros instantiated): primal and tangent outputs. */
export type FlatJvpRule = (primals: Tensor[], tangents: Tensor[]) => [Tensor[], Tensor[]];
/** `fwd` on flat leaves: the outputs and the residuals. */
export type FlatFwd = (xs: Tensor[]) => [Tensor[], Tensor[]];
/** `bwd` on flat leaves: one cotangent per input leaf. */
export type FlatBwd = (res: Tensor[], cts: Tensor[]) => Tensor[];
/** The transpose of a `custom_lin`: one cotangent per linear input (null or Zero when zero). */
export type LinBwd = (res: Tensor[], cts: Tensor[]) => (Tensor | Zero | null)[];

/**
 * A custom call's inputs are `[...closed-over values, ...arguments]`: `numConsts` closed-over
 * values, hoisted out of the function when it was staged. `fun` takes them all; the rules see the
 * arguments only. `call` is the staged function, present once the call was recorded in a jaxpr.
 */
export interface CustomJvpParams extends CustomCallParams {
  name: string;
  fun: Label<FlatFn>;
  jvp: Label<FlatJvpRule>;
  numConsts: number;
  call?: ClosedJaxpr;
}
export interface CustomVjpParams extends CustomCallParams {
  name: string;
  fun: Label<FlatFn>;
  fwd: Label<FlatFwd>;
  bwd: Label<FlatBwd>;
  numConsts: number;
  call?: ClosedJaxpr;
}

export const avalsLabel = (avals: ShapedArray[]): Label<ShapedArray[]> => new Label(avals, `(${avals.map((a) => a.str()).join(", ")})`);

/** Output avals of a staged call, after checking that its inputs fit the jaxpr. */
export function callAvals(name: string, avals: readonly ShapedArray[], call: ClosedJaxpr | undefined): ShapedArray[] {
  if (call === undefined) throw new InternalError(`${name}: only a staged call has abstract outputs`);
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
export function evalCallImpl(call: ClosedJaxpr | undefined, args: Arr[]): Arr[] {
  if (call === undefined) throw new InternalError("only a staged call is evaluated on buffers");
  const ins = call.jaxpr.inBinders;
  const outs = evalJaxpr(call.jaxpr, call.consts, args.map((a, i) => new ArrayTensor(a, ins[i].aval)));
  return outs.map((o) => o.concrete() as Arr);
}

/** A staged customJvp call. Traces treat it in `processCustomJvpCall`; staged, it evaluates its jaxpr. */
export const customJvpCallP: Primitive<CustomJvpParams> = definePrimitive<CustomJvpParams>("custom_jvp_call", () => ({
  customCall: "jvp",
  impl: (args, { call }) => evalCallImpl(call, args),
  abstractEval: (avals, { call, name }) => callAvals(`custom_jvp_call (${name})`, avals, call),
}));

/** A staged customVjp call. Traces treat it in `processCustomVjpCall`; staged, it evaluates its jaxpr. */
export const customVjpCallP: Primitive<CustomVjpParams> = definePrimitive<CustomVjpParams>("custom_vjp_call", () => ({
  customCall: "vjp",
  impl: (args, { call }) => evalCallImpl(call, args),
  abstractEval: (avals, { call, name }) => callAvals(`custom_vjp_call (${name})`, avals, call),
}));

export type CustomLinParams = { name: string; numRes: number; bwd: Label<LinBwd>; outAvals: Label<ShapedArray[]> };

/** customVjp functions define only a VJP: applying their linear map forward is forward mode. */
export function forwardModeError(name: string): JacobiError {
  return new JacobiError(
    `customVjp (${name}): a customVjp function cannot be differentiated in forward mode (jvp, jacfwd): it defines only ` +
      `a VJP. Use grad, vjp or jacrev, or give it a JVP rule with customJvp, which serves both modes`,
  );
}

/**
 * `[...residuals, ...tangents] -> tangents out`: a linear map known only by its transpose `bwd`,
 * as JAX's custom_lin. A linearization records it and reverse mode transposes it; evaluating it
 * forward would be forward mode, which a customVjp function does not define, so it throws — eagerly
 * and under jit alike, as in JAX.
 */
export const customLinP: Primitive<CustomLinParams> = definePrimitive<CustomLinParams>("custom_lin", (self) => ({
  impl: (_args, p) => {
    throw forwardModeError(p.name);
  },
  abstractEval: (avals, p) => {
    if (avals.length < p.numRes) throw new ShapeError(`custom_lin (${p.name}): expected at least ${p.numRes} residual inputs, got ${avals.length} inputs`);
    return p.outAvals.value;
  },
  // Linear in its tangent inputs: the JVP applies the same map to their tangents. A dependence of
  // the map on its residuals would need the map evaluated forward, which a customVjp function
  // does not define.
  jvp: (primals, tangents, p) => {
    const n = p.numRes;
    if (!tangents.slice(0, n).every((t) => isZero(t))) throw forwardModeError(p.name);
    const y = bind(self, primals, p);
    const dts = tangents.slice(n);
    return [y, dts.every((t) => isZero(t)) ? zeroTangents(y) : bind(self, [...primals.slice(0, n), ...dts.map(instantiate)], p)];
  },
  linear: true,
  transpose: (cts, args, p) => {
    const n = p.numRes;
    const res = args.slice(0, n);
    if (res.some((r) => r instanceof UndefPrimal)) {
      throw new JacobiError(`custom_lin (${p.name}): cannot transpose with respect to a residual; the map is linear in its tangent inputs only`);
    }
    const r = p.bwd.value(res as Tensor[], cts.map(instantiate));
    return args.map((a, i) => (i < n || !(a instanceof UndefPrimal) ? null : (r[i - n] ?? new Zero(a.aval))));
  },
  batch: (args, dims, p, size) => {
    const n = p.numRes;
    const rdims = dims.slice(0, n);
    const tAvals = args.slice(n).map((t, i) => {
      const d = dims[n + i];
      return d === null ? t.aval : new ShapedArray(t.shape.filter((_, k) => k !== d), t.dtype, t.weakType);
    });
    const ts = alignBatch(args.slice(n), dims.slice(n), size);
    const bwd = p.bwd.value;
    const batched: LinBwd = (res, cts) =>
      vmapFlat(
        (ys) => bwd(ys.slice(0, n), ys.slice(n)).map((c, i) => (c === null ? zerosLike({ aval: tAvals[i] }) : instantiate(c))),
        [...res, ...cts],
        [...rdims, ...cts.map(() => 0)],
        () => 0,
        size,
      );
    const outAvals = p.outAvals.value.map((a) => new ShapedArray([size, ...a.shape], a.dtype, a.weakType));
    const outs = bind(self, [...args.slice(0, n), ...ts], { ...p, bwd: new Label(batched, String(p.bwd)), outAvals: avalsLabel(outAvals) });
    return [outs, outs.map(() => 0)];
  },
}));
