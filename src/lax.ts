// The `lax` namespace: structured control flow (cond, switch, whileLoop, foriLoop, scan). User
// functions are staged into jaxprs on the abstract values of their operands; every value they
// capture from outside becomes an explicit operand of the primitive, so that enclosing
// transformations (jvp, vmap, makeJaxpr) see it.
import { asTensor, describe, jsIntegerKind, scalar } from "./core/convert.js";
import { type DType, promoteTypes } from "./core/dtype.js";
import { DTypeError, JacobiError, ShapeError, TreeError, fmtShape } from "./core/errors.js";
import { ShapedArray, sameShape } from "./core/shaped-array.js";
import type { Tensor, TensorLike } from "./core/tensor.js";
import { bind } from "./core/trace.js";
import { type Fixed, type TreeDef, flatten, unflatten } from "./core/tree.js";
import { traceToJaxpr } from "./interpreters/staging.js";
import { checked } from "./ir/check-jaxpr.js";
import { ClosedJaxpr, Jaxpr, Var } from "./ir/jaxpr.js";
import { clampIndex, condP } from "./primitives/control-flow/cond.js";
import { scanP } from "./primitives/control-flow/scan.js";
import { whileP } from "./primitives/control-flow/while.js";
import { add, convertElementType, lt, ne } from "./primitives/elementwise.js";
import { laxShifts } from "./primitives/bitwise.js";
import { laxSpecial } from "./primitives/special.js";
import { laxConv } from "./lax/conv.js";
import { laxIndexing, laxMap } from "./lax/indexing.js";
import { laxLinalg } from "./lax/linalg.js";
import { laxElementwise } from "./numpy/math-extra.js";
import * as E from "fp-ts/lib/Either.js";
import { type Validator, checkOptions } from "./core/validate.js";
import { full } from "./primitives/util.js";
import { type LooseLeaves, type Output, type TensorArgs, type TensorTree, Recorded, inputLeaves, outputLeaves } from "./transforms/common.js";

type Fn = (...args: any[]) => any;

/** A branch of cond/switch for the operands `O`: it receives them with Tensor leaves. */
export type Branch<O extends unknown[]> = (...operands: TensorArgs<O>) => Output;
/**
 * What a loop body returns for the carry `C`: its structure with TensorLike leaves. The member
 * that no value has makes an array literal returned by the body read as a tuple, as `C` is one.
 */
export type Carry<C> = Fixed<LooseLeaves<C>> | readonly [never, ...never[]];

/** What scan stacks from the `y`s: their structure with Tensor leaves (null when `f` returns no y). */
export type Stacked<Y> = [Y] extends [undefined] ? null : TensorTree<Y>;

function checkFunction(f: unknown, api: string, name: string): asserts f is Fn {
  if (typeof f !== "function") throw new JacobiError(`${api}: ${name} must be a function, got ${describe(f)}`);
}

/** A user function staged into a jaxpr whose inputs are its captured values, then its arguments. */
interface Staged {
  jaxpr: ClosedJaxpr;
  consts: Tensor[];
  outDef: TreeDef;
  outs: ShapedArray[];
}

function stage(where: string, avals: ShapedArray[], call: (xs: Tensor[]) => unknown): Staged {
  const outDef = new Recorded<TreeDef>(`${where}: the output structure`);
  const closed = traceToJaxpr(where, avals, (xs) => {
    const [leaves, def] = outputLeaves(call(xs), where);
    outDef.set(def);
    return leaves;
  });
  const j = closed.jaxpr;
  return {
    jaxpr: checked(new ClosedJaxpr(new Jaxpr([], [...j.constBinders, ...j.inBinders], j.eqns, j.outs), [])),
    consts: closed.consts,
    outDef: outDef.get(),
    outs: j.outs.map((a) => a.aval),
  };
}

/** The staged jaxpr taking the union of several functions' captured values (unused ones ignored). */
function takingConsts(s: Staged, all: Tensor[]): ClosedJaxpr {
  const ins = s.jaxpr.jaxpr.inBinders;
  const constIns = all.map((t) => {
    const k = s.consts.indexOf(t);
    return k >= 0 ? ins[k] : new Var(t.aval);
  });
  const j = s.jaxpr.jaxpr;
  return checked(new ClosedJaxpr(new Jaxpr([], [...constIns, ...ins.slice(s.consts.length)], j.eqns, j.outs), []));
}

/**
 * A loop carry must keep its shape and dtype. An init leaf given as a JS number (weakly typed)
 * takes the dtype the body gives it, as in JAX; returns the converted init when one changed.
 */
function reconcileCarry(api: string, what: string, inits: Tensor[], outs: ShapedArray[]): Tensor[] | null {
  let changed = false;
  const next = inits.map((x, i) => {
    const o = outs[i];
    if (!sameShape(x.shape, o.shape)) {
      throw new ShapeError(`${api}: ${what} has shape ${fmtShape(o.shape)} at carry leaf ${i}, but init has shape ${fmtShape(x.shape)} there; a loop carry must keep its shape`);
    }
    if (x.dtype === o.dtype) return x;
    if (x.weakType && promoteTypes(x.dtype, true, o.dtype, o.weakType)[0] === o.dtype) {
      changed = true;
      return convertElementType(x, o.dtype);
    }
    throw new DTypeError(`${api}: ${what} has dtype ${o.dtype} at carry leaf ${i}, but init has dtype ${x.dtype} there; a loop carry must keep its dtype (convert with np.astype)`);
  });
  return changed ? next : null;
}

function intScalar(x: unknown, api: string, name: string, clamp = false): Tensor {
  if (typeof x === "number" && Number.isInteger(x) && (x < -(2 ** 31) || x >= 2 ** 31)) {
    // int32 would wrap it (2**32 + 2 is 2): JAX clamps an index and refuses a bound.
    if (clamp) return scalar(Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, x)), "int32");
    throw new DTypeError(`${api}: ${name} ${x} is out of int32 range [-2^31, 2^31)`);
  }
  const t = asTensor(x, `${api}: ${name}`);
  if (t.ndim !== 0) throw new ShapeError(`${api}: ${name} must be a scalar, got shape ${fmtShape(t.shape)}`);
  if (t.dtype === "int32") return t;
  // A JS integer passed to jit (a weak float64 tracer marked as one).
  if (jsIntegerKind(t) === 1) return convertElementType(t, "int32");
  const c = t.concrete();
  if (t.weakType && c !== null && Number.isInteger(t.item())) return scalar(t.item(), "int32");
  throw new DTypeError(`${api}: ${name} must be an integer (a JS integer or an int32 scalar), got ${c !== null && t.weakType ? String(t.item()) : `dtype ${t.dtype}`}`);
}

// ---- cond / switch ----

/** The branches must agree in structure, shapes and strong dtypes; returns each output leaf's common dtype. */
function checkBranches(api: string, names: string[], staged: Staged[]): DType[] {
  const s0 = staged[0];
  const target: DType[] = s0.outs.map((a) => a.dtype);
  staged.forEach((s, k) => {
    if (k === 0) return;
    if (!s.outDef.equals(s0.outDef)) {
      throw new TreeError(`${api}: ${names[0]} and ${names[k]} must return the same structure, but ${names[0]} returns ${s0.outDef} and ${names[k]} returns ${s.outDef}`);
    }
    s.outs.forEach((a, j) => {
      const a0 = s0.outs[j];
      if (!sameShape(a.shape, a0.shape)) {
        throw new ShapeError(`${api}: ${names[0]} and ${names[k]} must return the same shapes, but output leaf ${j} has shape ${fmtShape(a0.shape)} in ${names[0]} and ${fmtShape(a.shape)} in ${names[k]}`);
      }
    });
  });
  // Weakly typed outputs (JS numbers) take the dtype of the branches that fix one, as in JAX.
  s0.outs.forEach((_, j) => {
    const strong = [...new Set(staged.filter((s) => !s.outs[j].weakType).map((s) => s.outs[j].dtype))];
    if (strong.length > 1) {
      const k = staged.findIndex((s) => !s.outs[j].weakType && s.outs[j].dtype !== strong[0]);
      const k0 = staged.findIndex((s) => !s.outs[j].weakType);
      throw new DTypeError(`${api}: ${names[k0]} and ${names[k]} must return the same dtypes, but output leaf ${j} is ${strong[0]} in ${names[k0]} and ${strong[1]} in ${names[k]}`);
    }
    target[j] = staged.map((s) => s.outs[j]).reduce<[DType, boolean]>((acc, a) => promoteTypes(acc[0], acc[1], a.dtype, a.weakType), [staged[0].outs[j].dtype, staged[0].outs[j].weakType])[0];
  });
  return target;
}

function branchOut(api: string, names: string[], fns: Fn[], index: Tensor, operands: unknown[]): unknown {
  const [ops, def] = inputLeaves(operands, `${api}: operand`);
  const n = fns.length;
  if (index.concrete() !== null) {
    // A known index (outside jit): run only the branch taken; derivatives follow it. The branches
    // are still traced abstractly and checked, as in JAX, so what passes here also passes under jit.
    const avals = ops.map((o) => o.aval);
    const target = checkBranches(api, names, fns.map((f, k) => stage(`${api} (${names[k]})`, avals, (xs) => f(...(unflatten(def, xs) as unknown[])))));
    const k = clampIndex(index.item(), n);
    const [outs, odef] = outputLeaves(fns[k](...(unflatten(def, ops) as unknown[])), `${api}: ${names[k]}`);
    return unflatten(odef, outs.map((l, j) => (l.dtype === target[j] ? l : convertElementType(l, target[j], l.weakType))));
  }
  const avals = ops.map((o) => o.aval);
  const calls = fns.map((f) => (xs: Tensor[]) => f(...(unflatten(def, xs) as unknown[])));
  let staged = calls.map((c, k) => stage(`${api} (${names[k]})`, avals, c));
  const target = checkBranches(api, names, staged);
  staged = staged.map((s, k) => {
    if (s.outs.every((a, j) => a.dtype === target[j])) return s;
    return stage(`${api} (${names[k]})`, avals, (xs) => {
      const [ls, d] = outputLeaves(calls[k](xs), `${api}: ${names[k]}`);
      return unflatten(d, ls.map((l, j) => convertElementType(l, target[j], l.weakType)));
    });
  });
  const consts: Tensor[] = [];
  for (const s of staged) for (const c of s.consts) if (!consts.includes(c)) consts.push(c);
  const outs = bind(condP, [index, ...consts, ...ops], { branches: staged.map((s) => takingConsts(s, consts)) });
  return unflatten(staged[0].outDef, outs);
}

/** `pred ? trueFn(...operands) : falseFn(...operands)`; both branches are staged when `pred` is traced. */
function cond<O extends unknown[], T extends Branch<O>, F extends Branch<O>>(pred: TensorLike, trueFn: T, falseFn: F, ...operands: O): TensorTree<ReturnType<T> | ReturnType<F>>;
function cond(pred: unknown, trueFn: unknown, falseFn: unknown, ...operands: unknown[]): unknown {
  const api = "lax.cond";
  checkFunction(trueFn, api, "trueFn");
  checkFunction(falseFn, api, "falseFn");
  const p = asTensor(pred, `${api}: pred`);
  if (p.ndim !== 0) throw new ShapeError(`${api}: pred must be a scalar, got shape ${fmtShape(p.shape)}`);
  const truth = p.dtype === "bool" ? p : ne(p, full([], 0, p.dtype));
  return branchOut(api, ["falseFn", "trueFn"], [falseFn, trueFn], convertElementType(truth, "int32"), operands);
}

/** `branches[index](...operands)`, the index clamped to the valid range as in JAX. */
function switchBranches<O extends unknown[], B extends readonly Branch<O>[]>(index: TensorLike, branches: B, ...operands: O): TensorTree<ReturnType<B[number]>>;
function switchBranches(index: unknown, branches: unknown, ...operands: unknown[]): unknown {
  const api = "lax.switch";
  if (!Array.isArray(branches) || branches.length === 0) {
    throw new JacobiError(`${api}: branches must be a non-empty array of functions, got ${Array.isArray(branches) ? "an empty array" : describe(branches)}`);
  }
  branches.forEach((b, k) => checkFunction(b, api, `branches[${k}]`));
  const idx = intScalar(index, api, "index", true);
  return branchOut(api, branches.map((_, k) => `branches[${k}]`), branches as Fn[], idx, operands);
}

// ---- loops ----

function stagedWhile(api: string, condFn: Fn, bodyFn: Fn, init: unknown, bodyName: string): unknown {
  let [inits, def] = inputLeaves(init, `${api}: init`);
  let body: Staged;
  for (;;) {
    body = stage(`${api} (${bodyName})`, inits.map((x) => x.aval), (xs) => bodyFn(unflatten(def, xs)));
    if (!body.outDef.equals(def)) {
      throw new TreeError(`${api}: ${bodyName} must return a value with the structure of init, which is ${def}; it returned ${body.outDef}`);
    }
    const fixed = reconcileCarry(api, `${bodyName}'s output`, inits, body.outs);
    if (fixed === null) break;
    inits = fixed;
  }
  const c = stage(`${api} (condFn)`, inits.map((x) => x.aval), (xs) => condFn(unflatten(def, xs)));
  if (c.outDef.kind !== "leaf" || c.outs[0].ndim !== 0 || c.outs[0].dtype !== "bool") {
    const got = c.outDef.kind === "leaf" ? c.outs[0].str() : `a pytree ${c.outDef}`;
    throw new DTypeError(`${api}: condFn must return a bool scalar (e.g. i.lt(n)), got ${got}`);
  }
  const outs = bind(whileP, [...c.consts, ...body.consts, ...inits], {
    condJaxpr: c.jaxpr,
    bodyJaxpr: body.jaxpr,
    condNconsts: c.consts.length,
    bodyNconsts: body.consts.length,
  });
  return unflatten(def, outs);
}

/** Runs `val = bodyFn(val)` while `condFn(val)` holds. Differentiable in forward mode only (as in JAX). */
function whileLoop<C extends Output>(condFn: (val: Fixed<TensorTree<C>>) => TensorLike, bodyFn: (val: Fixed<TensorTree<C>>) => Carry<C>, init: C): TensorTree<C>;
function whileLoop(condFn: unknown, bodyFn: unknown, init: unknown): unknown {
  const api = "lax.whileLoop";
  checkFunction(condFn, api, "condFn");
  checkFunction(bodyFn, api, "bodyFn");
  return stagedWhile(api, condFn, bodyFn, init, "bodyFn");
}

export interface ScanOptions {
  length?: number;
  reverse?: boolean;
  /**
   * Reverse mode keeps at most `snapshots` carries and recomputes the others on the binomial
   * (revolve) schedule, instead of storing every step's residuals.
   */
  checkpoint?: { snapshots: number };
}

/** `checkpoint: { snapshots }` as the scan parameter, checked: a non-negative integer count. */
function checkpointOption(api: string, c: unknown): { snapshots?: number } {
  if (c === undefined) return {};
  if (c === null || typeof c !== "object") throw new JacobiError(`${api}: checkpoint must be an object { snapshots }, got ${describe(c)}`);
  const unknown = Object.keys(c).filter((k) => k !== "snapshots");
  if (unknown.length > 0) throw new JacobiError(`${api}: unknown checkpoint option ${unknown.map((k) => JSON.stringify(k)).join(", ")}; expected { snapshots }`);
  const s = (c as { snapshots?: unknown }).snapshots;
  if (typeof s !== "number" || !Number.isInteger(s) || s < 0) throw new JacobiError(`${api}: checkpoint.snapshots must be a non-negative integer, got ${describe(s)}`);
  return { snapshots: s };
}

function stagedScan(api: string, f: Fn, init: unknown, xs: unknown, opts: ScanOptions, fName: string): [unknown, unknown] {
  if (opts === null || typeof opts !== "object") throw new JacobiError(`${api}: options must be an object { length, reverse }, got ${describe(opts)}`);
  // Values are checked below with messages of their own; here only that every key is known.
  checkOptions(api, opts, { length: passThrough, reverse: passThrough, checkpoint: passThrough });
  const given = opts.length;
  if (given !== undefined && !(Number.isInteger(given) && given >= 0)) throw new JacobiError(`${api}: length must be a non-negative integer, got ${String(given)}`);
  let [inits, cdef] = inputLeaves(init, `${api}: init`);
  const [xsL, xdef] = inputLeaves(xs, `${api}: xs`);
  let length = given;
  let first = -1;
  xsL.forEach((x, i) => {
    if (x.ndim === 0) throw new ShapeError(`${api}: xs leaf ${i} is a scalar; every leaf of xs needs a leading axis to scan over`);
    const n = x.shape[0];
    if (length === undefined) {
      length = n;
      first = i;
    } else if (n !== length) {
      throw new ShapeError(
        first < 0
          ? `${api}: length is ${length}, but xs leaf ${i} has leading axis ${n} (shape ${fmtShape(x.shape)})`
          : `${api}: the leaves of xs must have equal leading axes, but leaf ${first} has ${length} (shape ${fmtShape(xsL[first].shape)}) and leaf ${i} has ${n} (shape ${fmtShape(x.shape)})`,
      );
    }
  });
  if (length === undefined) throw new JacobiError(`${api}: xs has no arrays to scan over, so the length option must be given`);
  const xAvals = xsL.map((x) => new ShapedArray(x.shape.slice(1), x.dtype, x.weakType));
  const nc = inits.length;
  const ydef = new Recorded<TreeDef>(`${api}: the structure of the ys`);
  let body: Staged;
  for (;;) {
    body = stage(`${api} (${fName})`, [...inits.map((x) => x.aval), ...xAvals], (a) => {
      const out = f(unflatten(cdef, a.slice(0, nc)), unflatten(xdef, a.slice(nc)));
      if (!Array.isArray(out) || out.length !== 2) {
        throw new TreeError(`${api}: ${fName} must return a pair [carry, y], got ${Array.isArray(out) ? `an array of length ${out.length}` : describe(out)}`);
      }
      const [cl, cd] = outputLeaves(out[0], `${api}: the carry returned by ${fName}`);
      if (!cd.equals(cdef)) throw new TreeError(`${api}: the carry returned by ${fName} has structure ${cd}, but init has structure ${cdef}`);
      const [yl, yd] = outputLeaves(out[1] === undefined ? null : out[1], `${api}: the y returned by ${fName}`);
      ydef.set(yd);
      return [...cl, ...yl];
    });
    const fixed = reconcileCarry(api, `the carry returned by ${fName}`, inits, body.outs.slice(0, nc));
    if (fixed === null) break;
    inits = fixed;
  }
  const outs = bind(scanP, [...body.consts, ...inits, ...xsL], {
    jaxpr: body.jaxpr,
    length,
    reverse: opts.reverse === true,
    numConsts: body.consts.length,
    numCarry: nc,
    ...checkpointOption(api, opts.checkpoint),
  });
  return [unflatten(cdef, outs.slice(0, nc)), unflatten(ydef.get(), outs.slice(nc))];
}

/**
 * Loops `[carry, y] = f(carry, x)` over the leading axis of `xs` (a pytree), returning the final
 * carry and the ys stacked along a new leading axis. `reverse` walks xs from the end.
 */
function scan<C extends Output, X extends Output, Y extends Output>(
  f: (carry: Fixed<TensorTree<C>>, x: Fixed<TensorTree<X>>) => readonly [Carry<C>, Y] | readonly (Carry<C> & Y)[],
  init: C,
  xs: X,
  opts?: ScanOptions,
): [TensorTree<C>, Stacked<Y>];
function scan(f: unknown, init: unknown, xs: unknown, opts: ScanOptions = {}): [unknown, unknown] {
  checkFunction(f, "lax.scan", "f");
  return stagedScan("lax.scan", f, init, xs, opts, "f");
}

/**
 * `val = bodyFn(i, val)` for i from `lower` to `upper` - 1. Concrete bounds make it a scan (so it is
 * reverse-differentiable); traced bounds make it a while loop.
 */
/**
 * A concrete floating-point bound as JAX's fori_loop takes it: int() of its value (so the loop
 * runs as a scan with an int32 index). Traced float bounds stay errors (JAX would loop on a float index).
 */
const passThrough: Validator<unknown> = (v) => E.right(v);

function truncConcrete(b: unknown): unknown {
  if (typeof b === "number") return Number.isFinite(b) && !Number.isInteger(b) ? Math.trunc(b) : b;
  const t = b as Tensor;
  if (t === null || typeof t !== "object" || typeof t.concrete !== "function" || t.ndim !== 0 || (t.dtype !== "float64" && t.dtype !== "float32")) return b;
  return t.concrete() === null || !Number.isFinite(t.item()) ? b : Math.trunc(t.item());
}
function foriLoop<C extends Output>(lower: TensorLike, upper: TensorLike, bodyFn: (i: Tensor, val: Fixed<TensorTree<C>>) => Carry<C>, init: C): TensorTree<C>;
function foriLoop(lower: unknown, upper: unknown, bodyFn: unknown, init: unknown): unknown {
  const api = "lax.foriLoop";
  checkFunction(bodyFn, api, "bodyFn");
  const lo = intScalar(truncConcrete(lower), api, "lower");
  const hi = intScalar(truncConcrete(upper), api, "upper");
  const one = scalar(1, "int32");
  const [, initDef] = flatten(init);
  const step = (i: Tensor, x: unknown): [Tensor, unknown] => {
    const out = bodyFn(i, x);
    const [, d] = flatten(out);
    if (!d.equals(initDef)) throw new TreeError(`${api}: bodyFn must return a value with the structure of init, which is ${initDef}; it returned ${d}`);
    return [add(i, one), out];
  };
  if (lo.concrete() !== null && hi.concrete() !== null) {
    const length = Math.max(0, hi.item() - lo.item());
    const [carry] = stagedScan(api, ([i, x]: [Tensor, unknown]) => [step(i, x), null], [lo, init], null, { length }, "bodyFn");
    return (carry as [Tensor, unknown])[1];
  }
  const carry = stagedWhile(api, ([i]: [Tensor]) => lt(i, hi), ([i, x]: [Tensor, unknown]) => step(i, x), [lo, init], "bodyFn");
  return (carry as [Tensor, unknown])[1];
}

export const lax = { cond, switch: switchBranches, whileLoop, foriLoop, scan, ...laxSpecial, ...laxShifts, ...laxConv, ...laxIndexing, map: laxMap(scan), ...laxLinalg, ...laxElementwise };
