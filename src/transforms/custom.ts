// customJvp and customVjp: functions with user-written derivative rules (JAX's custom_jvp and
// custom_vjp), and the primitives that carry them through every transformation.
//
// Under a JVP (forward mode, and the JVP that linearize stages for reverse mode) a call does not
// run the function at all: customJvp calls its rule on the primals and tangents, customVjp runs
// `fwd` now and emits a `custom_lin` equation, linear in the tangents, whose transpose calls `bwd`.
// Neither traces the function there, so both may branch on values like any function outside jit.
// Under any other trace (vmap, makeJaxpr, the body of a checkpoint) the call is staged as a
// `custom_jvp_call` / `custom_vjp_call` equation holding the function's jaxpr and the rules, so the
// rules survive until a later differentiation of that jaxpr needs them.
import { isAllZero } from "../backend/creation.js";
import type { Arr } from "../backend/ndarray-view.js";
import { asTensor, describe, fromArr } from "../core/convert.js";
import { dtypeOfTypedArray, isFloat } from "../core/dtype.js";
import { DTypeError, JacobiError, ShapeError, TreeError, fmtShape } from "../core/errors.js";
import { type Primitive, type Tangent, UndefPrimal, Zero, definePrimitive } from "../core/primitive.js";
import { ShapedArray, sameShape } from "../core/shaped-array.js";
import { type Tensor, type TensorLike, Tracer, isTensorLike } from "../core/tensor.js";
import { type MainTrace, bind, traceDepth } from "../core/trace.js";
import { type TreeDef, flatten, unflatten } from "../core/tree.js";
import { BuilderTrace } from "../ir/builder.js";
import type { ClosedJaxpr } from "../ir/jaxpr.js";
import { batchSize, broadcastBatch, moveBatchAxis } from "../primitives/batching.js";
import { addTangents, convertElementType } from "../primitives/elementwise.js";
import { reduceSum } from "../primitives/reduce.js";
import { instantiate, isZero, zerosLike } from "../primitives/util.js";
import { batchJaxpr, callAvals, callFn, evalCallImpl, stageCall, topMain } from "./checkpoint.js";
import { type Fn, checkFn, inputLeaves, outputLeaves } from "./common.js";
import { JvpTrace, JvpTracer, jvpFlat } from "./jvp.js";
import { linearizeFlat } from "./linearize.js";
import { backwardPass } from "./transpose.js";
import { vmapFlat } from "./vmap.js";

/** A parameter that prints as a short label instead of its contents (a JS function, a list of avals). */
export class Label<T> {
  constructor(
    readonly value: T,
    private readonly text: string,
  ) {}
  toString(): string {
    return this.text;
  }
}
export const avalsLabel = (avals: ShapedArray[]): Label<ShapedArray[]> => new Label(avals, `(${avals.map((a) => a.str()).join(", ")})`);

type FlatFn = (xs: Tensor[]) => Tensor[];
/** The parameters of `F`, where a Tensor parameter also accepts any TensorLike (a JS number, say). */
export type LooseArgs<F extends Fn> = Loosen<Parameters<F>>;
type Loosen<P extends unknown[]> = { [K in keyof P]: P[K] extends Tensor ? TensorLike : P[K] };
/** A JVP rule on flat leaves, given every tangent (zeros instantiated): primal and tangent outputs. */
export type FlatJvpRule = (primals: Tensor[], tangents: Tensor[]) => [Tensor[], Tensor[]];
/** `fwd` on flat leaves: the outputs and the residuals. */
export type FlatFwd = (xs: Tensor[]) => [Tensor[], Tensor[]];
/** `bwd` on flat leaves: one cotangent per input leaf. */
export type FlatBwd = (res: Tensor[], cts: Tensor[]) => Tensor[];
/** The transpose of a `custom_lin`: one cotangent per linear input (null or Zero when zero). */
export type LinBwd = (res: Tensor[], cts: Tensor[]) => (Tangent | null)[];

const pairDesc = (r: unknown): string => (Array.isArray(r) ? `an array of length ${r.length}` : describe(r));
const leafAt = (i: number, n: number): string => (n > 1 ? ` (leaf ${i})` : "");

/**
 * What one call learns about the function's output from whichever of the function and its rules
 * runs first; the others must agree with it.
 */
class OutInfo {
  def: TreeDef | null = null;
  private avals: ShapedArray[] = [];
  private who = "";
  constructor(private readonly where: string) {}
  record(def: TreeDef, outs: Tensor[], who: string): Tensor[] {
    if (this.def === null) {
      this.def = def;
      this.avals = outs.map((o) => o.aval);
      this.who = who;
      return outs;
    }
    if (!def.equals(this.def)) throw new TreeError(`${this.where}: ${who} has structure ${def}, but ${this.who} has structure ${this.def}`);
    return outs.map((o, i) => {
      const w = this.avals[i];
      const msg = `${this.where}: ${who}${leafAt(i, outs.length)} is ${o.aval.str()}, but ${this.who}${leafAt(i, outs.length)} is ${w.str()}`;
      if (!sameShape(o.shape, w.shape)) throw new ShapeError(msg);
      if (o.dtype === w.dtype) return o;
      if (o.weakType) return convertElementType(o, w.dtype);
      throw new DTypeError(msg);
    });
  }
}

/** A rule's result may not be a tracer of the very level being processed: that is perturbation confusion. */
function checkNoLeak(where: string, top: MainTrace, xs: Tensor[]): void {
  for (const x of xs) {
    if (x instanceof Tracer && x.main === top) {
      throw new JacobiError(
        `${where}: the rule's result depends on a value that ${top.transform} differentiates but that is not an argument ` +
          `(the function or its rule closes over it); pass that value as an argument instead`,
      );
    }
  }
}

/** The tangent contribution of values a staged function closed over (its leading `n` inputs). */
function closureTangents(call: ClosedJaxpr, primals: Tensor[], tangents: Tangent[], n: number, to: Tangent[]): Tangent[] {
  const dcs = tangents.slice(0, n);
  if (dcs.every((t) => isZero(t))) return to;
  const xs = primals.slice(n);
  const [, extra] = jvpFlat((cs) => callFn(call)([...cs, ...xs]), primals.slice(0, n), dcs, "custom rule (closed-over values)");
  return to.map((t, i) => addTangents(t, extra[i]));
}

const zeroTangents = (outs: Tensor[]): Tangent[] => outs.map((o) => new Zero(o.aval.strong()));
/** A JVP rule's tangents, with those of non-float outputs replaced by symbolic zeros (they have no derivative). */
const floatTangents = (po: Tensor[], to: Tangent[]): Tangent[] => to.map((t, i) => (isFloat(po[i].dtype) ? t : new Zero(po[i].aval.strong())));

/**
 * A custom call under a JVP trace. Without tangents it runs on the primals alone (`primalCall`)
 * with zero output tangents; otherwise `rule` gives the outputs and their tangents.
 */
function customCallUnderJvp(
  top: MainTrace,
  trace: JvpTrace,
  leaves: Tensor[],
  primalCall: (ps: Tensor[]) => Tensor[],
  rule: (ps: Tensor[], ts: Tangent[]) => [Tensor[], Tangent[]],
): Tensor[] {
  const lifted = leaves.map((l) => trace.lift(l));
  const ps = lifted.map((l) => l.primal);
  const ts = lifted.map((l) => l.tangent);
  if (ts.every((t) => isZero(t))) return primalCall(ps).map((o) => new JvpTracer(top, o, new Zero(o.aval.strong())));
  const [po, to] = rule(ps, ts);
  return po.map((p, i) => new JvpTracer(top, p, to[i]));
}

/**
 * The jvp rule of a staged custom call. With every argument tangent zero the call is bound again
 * as it is, so its rules stay staged for a later differentiation; otherwise `rule` gives the
 * outputs and their tangents from the arguments. Tangents of closed-over values are added either way.
 */
function customCallJvp<P extends { call: ClosedJaxpr; numConsts: number }>(
  self: Primitive<P>,
  rule: (xs: Tensor[], dxs: Tangent[], p: P) => [Tensor[], Tangent[]],
): (primals: Tensor[], tangents: Tangent[], p: P) => [Tensor[], Tangent[]] {
  return (primals, tangents, p) => {
    const n = p.numConsts;
    const dxs = tangents.slice(n);
    let po: Tensor[], to: Tangent[];
    if (dxs.every((t) => isZero(t))) {
      po = bind(self, primals, p);
      to = zeroTangents(po);
    } else {
      [po, to] = rule(primals.slice(n), dxs, p);
    }
    return [po, closureTangents(p.call, primals, tangents, n, to)];
  };
}

// ---------------------------------------------------------------------------------------------
// customJvp

export type JvpRule = (primals: any[], tangents: any[]) => [any, any] | any[];
export interface CustomJvpFunction<F extends Fn> {
  (...args: LooseArgs<F>): ReturnType<F>;
  /** Sets the JVP rule `(primals, tangents) => [out, tangentOut]`; returns the function itself. */
  defjvp(rule: JvpRule): CustomJvpFunction<F>;
}

function runJvpRule(where: string, rule: JvpRule, inDef: TreeDef, info: OutInfo, ps: Tensor[], ts: Tensor[]): [Tensor[], Tensor[]] {
  const r = rule(unflatten(inDef, ps) as unknown[], unflatten(inDef, ts) as unknown[]);
  if (!Array.isArray(r) || r.length !== 2) throw new TreeError(`${where}: the JVP rule must return a pair [primalOut, tangentOut], got ${pairDesc(r)}`);
  const [po0, pdef] = outputLeaves(r[0], `${where}: the JVP rule's primal output`);
  const [to0, tdef] = outputLeaves(r[1], `${where}: the JVP rule's tangent output`);
  if (!tdef.equals(pdef)) {
    throw new TreeError(`${where}: the JVP rule returned a primal output of structure ${pdef} but a tangent output of structure ${tdef}; they must match`);
  }
  const po = info.record(pdef, po0, "the JVP rule's primal output");
  const to = to0.map((t, i) => {
    const p = po[i];
    if (!sameShape(t.shape, p.shape)) {
      throw new ShapeError(`${where}: the JVP rule's tangent output${leafAt(i, po.length)} has shape ${fmtShape(t.shape)}, but the primal output has shape ${fmtShape(p.shape)}`);
    }
    if (!isFloat(p.dtype) || t.dtype === p.dtype) return t;
    if (t.weakType || isFloat(t.dtype)) return convertElementType(t, p.dtype);
    throw new DTypeError(`${where}: the JVP rule's tangent output${leafAt(i, po.length)} has dtype ${t.dtype}, but the primal output has dtype ${p.dtype}`);
  });
  return [po, to];
}

function customJvpCall(name: string, fun: FlatFn, rule: FlatJvpRule, leaves: Tensor[]): Tensor[] {
  const top = topMain(leaves);
  if (top === null) return fun(leaves);
  const trace = top.trace;
  if (trace instanceof JvpTrace) {
    return customCallUnderJvp(top, trace, leaves, (ps) => customJvpCall(name, fun, rule, ps), (ps, ts) => {
      const [po, to] = rule(ps, ts.map(instantiate));
      checkNoLeak(`customJvp (${name})`, top, [...po, ...to]);
      return [po, floatTangents(po, to)];
    });
  }
  const { call, hoisted } = stageCall(`customJvp (${name})`, fun, leaves);
  return bind(customJvpCallP, [...hoisted, ...leaves], { name, call, numConsts: hoisted.length, jvp: new Label(rule, `${name}_jvp`) });
}

export type CustomJvpParams = { name: string; call: ClosedJaxpr; numConsts: number; jvp: Label<FlatJvpRule> };

/** A staged customJvp call: inputs `[...closed-over values, ...arguments]`. */
export const customJvpCallP: Primitive<CustomJvpParams> = definePrimitive<CustomJvpParams>("custom_jvp_call", (self) => ({
  impl: (args, { call }) => evalCallImpl(call, args),
  abstractEval: (avals, { call, name }) => callAvals(`custom_jvp_call (${name})`, avals, call),
  jvp: customCallJvp(self, (xs, dxs, p) => {
    const [po, to] = p.jvp.value(xs, dxs.map(instantiate));
    return [po, floatTangents(po, to)];
  }),
  batch: (args, dims, p) => {
    const size = batchSize(args, dims);
    const xdims = dims.slice(p.numConsts);
    const m = xdims.length;
    const nOut = p.call.jaxpr.outs.length;
    const rule = p.jvp.value;
    // Tangents have the shapes of their primals, so they carry their batch axes at the same places.
    const batched: FlatJvpRule = (ps, ts) => {
      const outs = vmapFlat(
        (pt) => {
          const [po, to] = rule(pt.slice(0, m), pt.slice(m));
          return [...po, ...to];
        },
        [...ps, ...ts],
        [...xdims, ...xdims],
        () => 0,
        size,
      );
      return [outs.slice(0, nOut), outs.slice(nOut)];
    };
    const outs = bind(self, args, { ...p, call: batchJaxpr(p.call, args, dims, size), jvp: new Label(batched, String(p.jvp)) });
    return [outs, outs.map(() => 0)];
  },
}));

/**
 * `f` with a user-written JVP rule, set with `.defjvp((primals, tangents) => [out, tangentOut])`.
 * Forward mode calls the rule; reverse mode transposes the rule's tangent computation, which must
 * therefore be linear in the tangents (as in JAX). The rule is ordinary differentiable code, so
 * derivatives of higher order differentiate the rule. Outside any transformation `f` is called.
 */
export function customJvp<F extends Fn>(f: F): CustomJvpFunction<F> {
  checkFn(f, "customJvp");
  const name = f.name || "anonymous";
  const where = `customJvp (${name})`;
  let rule: JvpRule | null = null;
  const g = ((...args: unknown[]): unknown => {
    const r = rule;
    if (r === null) throw new JacobiError(`${where}: no JVP rule is defined; call .defjvp(rule) before calling the function`);
    const [leaves, inDef] = inputLeaves(args, `${where}: argument`);
    // Arguments reach f as Tensors whether or not a transformation is active.
    if (traceDepth() === 0) return f(...(unflatten(inDef, leaves) as unknown[]));
    const info = new OutInfo(where);
    const fun: FlatFn = (xs) => {
      const [outs, def] = outputLeaves(f(...(unflatten(inDef, xs) as unknown[])), where);
      return info.record(def, outs, "the function's output");
    };
    const flatRule: FlatJvpRule = (ps, ts) => runJvpRule(where, r, inDef, info, ps, ts);
    const outs = customJvpCall(name, fun, flatRule, leaves);
    return unflatten(info.def as TreeDef, outs);
  }) as unknown as CustomJvpFunction<F>;
  g.defjvp = (r: JvpRule) => {
    if (typeof r !== "function") throw new JacobiError(`${where}.defjvp: expected a rule (primals, tangents) => [out, tangentOut], got ${describe(r)}`);
    rule = r;
    return g;
  };
  return g;
}

// ---------------------------------------------------------------------------------------------
// customVjp

export type FwdRule = (...args: any[]) => [any, any] | any[];
export type BwdRule = (residuals: any, ct: any) => any[];
export interface CustomVjpFunction<F extends Fn> {
  (...args: LooseArgs<F>): ReturnType<F>;
  /** Sets `fwd(...args) => [out, residuals]` and `bwd(residuals, ct) => [one cotangent per argument]`; returns the function itself. */
  defvjp(fwd: FwdRule, bwd: BwdRule): CustomVjpFunction<F>;
}

function allZero(t: Tensor): boolean {
  const a = t.concrete();
  return a !== null && isAllZero(a);
}

/** Reverse mode stages tangents into a linear jaxpr; anything else reaching a customVjp function is forward mode. */
function linearTangent(name: string, t: Tensor): boolean {
  if (t instanceof Tracer) {
    if (t.main.trace instanceof BuilderTrace) return true;
  } else if (allZero(t)) {
    // A rule upstream returned a concrete zero tangent: nothing to differentiate.
    return false;
  }
  throw new JacobiError(
    `customVjp (${name}): a customVjp function cannot be differentiated in forward mode (jvp, jacfwd): it defines only ` +
      `a VJP. Use grad, vjp or jacrev, or give it a JVP rule with customJvp, which serves both modes`,
  );
}

/**
 * The JVP of a customVjp function inside a linearization: `fwd` runs now, and the output tangents
 * come from a `custom_lin` equation, linear in the input tangents, whose transpose calls `bwd`.
 */
function vjpAsJvp(name: string, fwd: FlatFwd, bwd: FlatBwd, ps: Tensor[], ts: Tangent[]): [Tensor[], Tangent[]] {
  const linAt: number[] = [];
  ts.forEach((t, i) => {
    if (!isZero(t) && isFloat(ps[i].dtype) && linearTangent(name, t)) linAt.push(i);
  });
  const [outs, res] = fwd(ps);
  const floatOut = outs.flatMap((o, j) => (isFloat(o.dtype) ? [j] : []));
  const to = zeroTangents(outs);
  if (linAt.length === 0 || floatOut.length === 0) return [outs, to];
  const outAvals = outs.map((o) => o.aval.strong());
  const linBwd: LinBwd = (r, cts) => {
    const full = outAvals.map((a) => zerosLike({ aval: a }));
    floatOut.forEach((j, k) => (full[j] = cts[k]));
    const all = bwd(r, full);
    return linAt.map((i) => all[i]);
  };
  const params: CustomLinParams = { name, numRes: res.length, bwd: new Label(linBwd, `${name}_bwd`), outAvals: avalsLabel(floatOut.map((j) => outAvals[j])) };
  const tOut = bind(customLinP, [...res, ...linAt.map((i) => ts[i] as Tensor)], params);
  floatOut.forEach((j, k) => (to[j] = tOut[k]));
  return [outs, to];
}

function customVjpCall(name: string, fun: FlatFn, fwd: FlatFwd, bwd: FlatBwd, leaves: Tensor[]): Tensor[] {
  const top = topMain(leaves);
  if (top === null) return fun(leaves);
  const trace = top.trace;
  if (trace instanceof JvpTrace) {
    return customCallUnderJvp(top, trace, leaves, (ps) => customVjpCall(name, fun, fwd, bwd, ps), (ps, ts) => {
      const [po, to] = vjpAsJvp(name, fwd, bwd, ps, ts);
      checkNoLeak(`customVjp (${name})`, top, po);
      return [po, to];
    });
  }
  const { call, hoisted } = stageCall(`customVjp (${name})`, fun, leaves);
  const params: CustomVjpParams = { name, call, numConsts: hoisted.length, fwd: new Label(fwd, `${name}_fwd`), bwd: new Label(bwd, `${name}_bwd`) };
  return bind(customVjpCallP, [...hoisted, ...leaves], params);
}

export type CustomVjpParams = { name: string; call: ClosedJaxpr; numConsts: number; fwd: Label<FlatFwd>; bwd: Label<FlatBwd> };

/** A staged customVjp call: inputs `[...closed-over values, ...arguments]`. */
export const customVjpCallP: Primitive<CustomVjpParams> = definePrimitive<CustomVjpParams>("custom_vjp_call", (self) => ({
  impl: (args, { call }) => evalCallImpl(call, args),
  abstractEval: (avals, { call, name }) => callAvals(`custom_vjp_call (${name})`, avals, call),
  jvp: customCallJvp(self, (xs, dxs, p) => vjpAsJvp(p.name, p.fwd.value, p.bwd.value, xs, dxs)),
  batch: (args, dims, p) => {
    const size = batchSize(args, dims);
    const xdims = dims.slice(p.numConsts);
    const fwd = p.fwd.value;
    const bwd = p.bwd.value;
    const batchedFwd: FlatFwd = (xs) => {
      let nOut = 0;
      const outs = vmapFlat(
        (ys) => {
          const [o, r] = fwd(ys);
          nOut = o.length;
          return [...o, ...r];
        },
        xs,
        xdims,
        () => 0,
        size,
      );
      return [outs.slice(0, nOut), outs.slice(nOut)];
    };
    // Residuals and output cotangents arrive batched at 0; each input cotangent goes back to its
    // input's batch axis, summed over the batch for an input that was not batched.
    const batchedBwd: FlatBwd = (res, cts) => {
      const nRes = res.length;
      const rc = [...res, ...cts];
      const cs = vmapFlat((ys) => bwd(ys.slice(0, nRes), ys.slice(nRes)), rc, rc.map(() => 0), () => 0, size);
      return cs.map((c, i) => (xdims[i] === null ? reduceSum(c, [0]) : moveBatchAxis(c, 0, xdims[i] as number)));
    };
    const params: CustomVjpParams = { ...p, call: batchJaxpr(p.call, args, dims, size), fwd: new Label(batchedFwd, String(p.fwd)), bwd: new Label(batchedBwd, String(p.bwd)) };
    const outs = bind(self, args, params);
    return [outs, outs.map(() => 0)];
  },
}));

export type CustomLinParams = { name: string; numRes: number; bwd: Label<LinBwd>; outAvals: Label<ShapedArray[]> };

/**
 * Applies the linear map whose transpose is `bwd`: transposing `bwd` (linearized at zero, where a
 * linear function equals its linearization) gives the map back.
 */
function linForward(p: CustomLinParams, res: Tensor[], ts: Tensor[]): Tensor[] {
  const zeros = p.outAvals.value.map((a) => zerosLike({ aval: a }));
  const bwd = p.bwd.value;
  const { lin } = linearizeFlat((cts) => bwd(res, cts).map((c, i) => (c === null ? zerosLike(ts[i]) : instantiate(c))), zeros, `custom_lin (${p.name})`);
  return backwardPass(lin.jaxpr, lin.consts, ts).map(instantiate);
}

/**
 * `[...residuals, ...tangents] -> tangents out`: a linear map known by its transpose `bwd`, as
 * JAX's custom_lin. Reverse mode only ever transposes it. Evaluating it forward (linearize's
 * jvpFn, or a jaxpr that recorded it) transposes `bwd` back.
 */
export const customLinP: Primitive<CustomLinParams> = definePrimitive<CustomLinParams>("custom_lin", (self) => ({
  impl: (args, p) => {
    const xs = args.map((a) => fromArr(a, dtypeOfTypedArray(a.data) ?? "float64"));
    return linForward(p, xs.slice(0, p.numRes), xs.slice(p.numRes)).map((o) => o.concrete() as Arr);
  },
  abstractEval: (avals, p) => {
    if (avals.length < p.numRes) throw new ShapeError(`custom_lin (${p.name}): expected at least ${p.numRes} residual inputs, got ${avals.length} inputs`);
    return p.outAvals.value;
  },
  jvp: (primals, tangents, p) => {
    const n = p.numRes;
    const res = primals.slice(0, n);
    const ts = primals.slice(n);
    const dres = tangents.slice(0, n);
    const dts = tangents.slice(n);
    const y = bind(self, primals, p);
    let dy: Tangent[] = dts.every((t) => isZero(t)) ? zeroTangents(y) : bind(self, [...res, ...dts.map(instantiate)], p);
    // The map itself depends on the residuals: that part of the derivative goes through `bwd`.
    if (!dres.every((t) => isZero(t))) {
      const [, extra] = jvpFlat((r) => linForward(p, r, ts), res, dres, "custom_lin");
      dy = dy.map((d, i) => addTangents(d, extra[i]));
    }
    return [y, dy];
  },
  transpose: (cts, args, p) => {
    const n = p.numRes;
    const res = args.slice(0, n);
    if (res.some((r) => r instanceof UndefPrimal)) {
      throw new JacobiError(`custom_lin (${p.name}): cannot transpose with respect to a residual; the map is linear in its tangent inputs only`);
    }
    const r = p.bwd.value(res as Tensor[], cts.map(instantiate));
    return args.map((a, i) => (i < n || !(a instanceof UndefPrimal) ? null : (r[i - n] ?? new Zero(a.aval))));
  },
  batch: (args, dims, p) => {
    const size = batchSize(args, dims);
    const n = p.numRes;
    const rdims = dims.slice(0, n);
    const tAvals = args.slice(n).map((t, i) => {
      const d = dims[n + i];
      return d === null ? t.aval : new ShapedArray(t.shape.filter((_, k) => k !== d), t.dtype, t.weakType);
    });
    const ts = args.slice(n).map((t, i) => {
      const d = dims[n + i];
      return d === null ? broadcastBatch(t, size) : moveBatchAxis(t, d, 0);
    });
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

/** Flattens what `bwd` returned into one cotangent per input leaf, checking it against the arguments. */
function bwdLeaves(where: string, r: unknown, inDef: TreeDef, leaves: Tensor[]): Tensor[] {
  const nArgs = inDef.children.length;
  if (!Array.isArray(r) || r.length !== nArgs) {
    throw new TreeError(`${where}: bwd must return an array with one cotangent per argument (${nArgs}), got ${pairDesc(r)}`);
  }
  const out: Tensor[] = [];
  let at = 0;
  r.forEach((ct, i) => {
    const def = inDef.children[i];
    const mine = leaves.slice(at, at + def.numLeaves);
    at += def.numLeaves;
    if (ct === null || ct === undefined) {
      for (const l of mine) out.push(zerosLike({ aval: l.aval.strong() }));
      return;
    }
    const [cl, cdef] = flatten(ct);
    if (!cdef.equals(def)) throw new TreeError(`${where}: bwd's cotangent for argument ${i} has structure ${cdef}, but the argument has structure ${def}`);
    cl.forEach((c, k) => {
      if (!isTensorLike(c)) throw new JacobiError(`${where}: bwd's cotangent for argument ${i}${leafAt(k, cl.length)} is ${describe(c)}; it must be a Tensor`);
      const t = asTensor(c);
      const want = mine[k].aval;
      if (!sameShape(t.shape, want.shape)) {
        throw new ShapeError(`${where}: bwd's cotangent for argument ${i}${leafAt(k, cl.length)} has shape ${fmtShape(t.shape)}, but the argument has shape ${fmtShape(want.shape)}`);
      }
      if (!isFloat(want.dtype) || t.dtype === want.dtype) return void out.push(t);
      if (!t.weakType && !isFloat(t.dtype)) {
        throw new DTypeError(`${where}: bwd's cotangent for argument ${i}${leafAt(k, cl.length)} has dtype ${t.dtype}, but the argument has dtype ${want.dtype}`);
      }
      out.push(convertElementType(t, want.dtype));
    });
  });
  return out;
}

/**
 * `f` with a user-written VJP rule, set with `.defvjp(fwd, bwd)`: `fwd(...args)` returns
 * `[out, residuals]` and `bwd(residuals, ct)` one cotangent per argument (null for zero). It serves
 * grad, vjp, jacrev and vmap of those; forward mode (jvp, jacfwd) throws, as in JAX. Outside any
 * transformation `f` is called.
 */
export function customVjp<F extends Fn>(f: F): CustomVjpFunction<F> {
  checkFn(f, "customVjp");
  const name = f.name || "anonymous";
  const where = `customVjp (${name})`;
  let rules: [FwdRule, BwdRule] | null = null;
  const g = ((...args: unknown[]): unknown => {
    const rs = rules;
    if (rs === null) throw new JacobiError(`${where}: no VJP rule is defined; call .defvjp(fwd, bwd) before calling the function`);
    const [leaves, inDef] = inputLeaves(args, `${where}: argument`);
    if (traceDepth() === 0) return f(...(unflatten(inDef, leaves) as unknown[]));
    const [fwdRule, bwdRule] = rs;
    const info = new OutInfo(where);
    let resDef: TreeDef | null = null;
    const fun: FlatFn = (xs) => {
      const [outs, def] = outputLeaves(f(...(unflatten(inDef, xs) as unknown[])), where);
      return info.record(def, outs, "the function's output");
    };
    const fwd: FlatFwd = (xs) => {
      const r = fwdRule(...(unflatten(inDef, xs) as unknown[]));
      if (!Array.isArray(r) || r.length !== 2) throw new TreeError(`${where}: fwd must return a pair [output, residuals], got ${pairDesc(r)}`);
      const [o, odef] = outputLeaves(r[0], `${where}: fwd's output`);
      const outs = info.record(odef, o, "fwd's output");
      const [rl, rdef] = flatten(r[1]);
      resDef = rdef;
      const res = rl.map((l, i) => {
        if (!isTensorLike(l)) throw new JacobiError(`${where}: fwd's residuals must be a pytree of Tensors, got ${describe(l)} at residual leaf ${i}`);
        return asTensor(l);
      });
      return [outs, res];
    };
    const bwd: FlatBwd = (res, cts) => bwdLeaves(where, bwdRule(unflatten(resDef as TreeDef, res), unflatten(info.def as TreeDef, cts)), inDef, leaves);
    const outs = customVjpCall(name, fun, fwd, bwd, leaves);
    return unflatten(info.def as TreeDef, outs);
  }) as unknown as CustomVjpFunction<F>;
  g.defvjp = (fwd: FwdRule, bwd: BwdRule) => {
    if (typeof fwd !== "function" || typeof bwd !== "function") {
      throw new JacobiError(`${where}.defvjp: expected two functions fwd(...args) => [out, residuals] and bwd(residuals, ct) => cotangents, got ${describe(fwd)} and ${describe(bwd)}`);
    }
    rules = [fwd, bwd];
    return g;
  };
  return g;
}
