import { fromArr } from "../core/convert.js";
import { ShapeError, DTypeError, JacobiError, TreeError, fmtShape } from "../core/errors.js";
import { isFloat } from "../core/dtype.js";
import { Zero, type Tangent } from "../core/primitive.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { unflatten, type TreeDef } from "../core/tree.js";
import { filled, settleArr, withEagerFusion } from "../backend/index.js";
import { convertElementType } from "../primitives/elementwise.js";
import { instantiate } from "../interpreters/zeros.js";
import { type ArgsAt, type Argnums, type Fn, type LooseArgs, type LooseLeaves, type LooseTree, type TensorTree, checkFn, checkLike, checkTree, flattenFun, inputLeaves, Recorded, normArgnums, outputLeaves, requireFloat } from "./common.js";
import { jvpFlat } from "../interpreters/jvp.js";
import { evalClosed as applyLinear } from "../interpreters/eval.js";
import { linearizeFlat } from "../interpreters/partial-eval.js";
import { pullback } from "../interpreters/transpose.js";
import * as E from "fp-ts/lib/Either.js";
import { type Validator, boolean, checkOptions } from "../core/validate.js";

export interface GradOptions<A extends Argnums = Argnums, H extends boolean = boolean> {
  /** The argument(s) to differentiate: one position (negative counts from the end) or several. */
  argnums?: A;
  /** `f` returns `[output, aux]`; aux is passed through undifferentiated. */
  hasAux?: H;
}

/** What `f` returns for grad: a scalar, or with `hasAux` a pair `[scalar, aux]`. */
export type ScalarOutput<H extends boolean> = H extends true ? readonly [TensorLike, unknown] | readonly unknown[] : TensorLike;
/** The aux part of what a `hasAux` function returns. */
export type AuxOf<R> = R extends readonly [unknown, infer X] ? X : R extends readonly (infer E)[] ? E : unknown;

/** The output part of what a `hasAux` function returns. */
export type OutOf<R> = R extends readonly [infer O, unknown] ? O : R extends readonly (infer E)[] ? E : unknown;
/** The options of jvp, vjp and linearize. */
export interface AuxOptions<H extends boolean = boolean> {
  /** `f` returns `[output, aux]`; aux is returned as it is, undifferentiated, as the last result. */
  hasAux?: H;
}
/** What jvp returns for `f` returning `R`. */
export type JvpResult<R, H extends boolean> = H extends true ? [TensorTree<OutOf<R>>, TensorTree<OutOf<R>>, TensorTree<AuxOf<R>>] : [TensorTree<R>, TensorTree<R>];
/** What vjp returns for `f: (...args: P) => R`. */
export type VjpResult<P extends unknown[], R, H extends boolean> = H extends true
  ? [TensorTree<OutOf<R>>, (ct: LooseLeaves<OutOf<R>>) => TensorTree<P>, TensorTree<AuxOf<R>>]
  : [TensorTree<R>, (ct: LooseLeaves<R>) => TensorTree<P>];
/** What linearize returns for `f: (...args: P) => R`. */
export type LinearizeResult<P extends unknown[], R, H extends boolean> = H extends true
  ? [TensorTree<OutOf<R>>, (...tangents: LooseTree<P>) => TensorTree<OutOf<R>>, TensorTree<AuxOf<R>>]
  : [TensorTree<R>, (...tangents: LooseTree<P>) => TensorTree<R>];

// argnums is checked against the call's arguments when it is made (normArgnums), so here it passes.
const passThrough: Validator<unknown> = (v) => E.right(v);
const GRAD_OPTIONS = { argnums: passThrough, hasAux: boolean };
const AUX_OPTIONS = { hasAux: boolean };

/** With `hasAux`, `f` as a function returning the pair [out, aux] (checked to be one). */
export function withAux(f: Fn, hasAux: boolean, transform: string): Fn {
  return hasAux ? (...args: unknown[]) => splitAux(f(...args), true, transform) : f;
}
/** The output structure, split into the output's and aux's (null without hasAux), and the output's leaf count. */
export function auxParts(def: TreeDef, hasAux: boolean): { out: TreeDef; aux: TreeDef | null; n: number } {
  if (!hasAux) return { out: def, aux: null, n: def.numLeaves };
  const [out, aux] = def.children;
  return { out, aux, n: out.numLeaves };
}

/** The gradient's type: the pytree type of `args[argnums]` with Tensor leaves (a tuple for an array `argnums`). */
export type GradOf<P extends unknown[], A extends Argnums> = TensorTree<ArgsAt<P, A>>;
/** What `grad(f, { argnums: A, hasAux: H })` returns when called, for `f: (...args: P) => R`. */
export type GradResult<P extends unknown[], R, A extends Argnums, H extends boolean> = H extends true ? [GradOf<P, A>, TensorTree<AuxOf<R>>] : GradOf<P, A>;
/** What `valueAndGrad(f, { argnums: A, hasAux: H })` returns when called, for `f: (...args: P) => R`. */
export type ValueAndGradResult<P extends unknown[], R, A extends Argnums, H extends boolean> = [H extends true ? [Tensor, TensorTree<AuxOf<R>>] : Tensor, GradOf<P, A>];

/**
 * `f` as a function of the flat float leaves of the differentiated arguments (`argnums`): those
 * leaves, the flat function (recording the output structure in `outTree` as it runs), and a way
 * to regroup per-leaf results into the arguments' structure. What the Jacobians share.
 */
export function flatDifferentiated(f: Fn, argnums: Argnums, args: unknown[], transform: string) {
  const nums = normArgnums(argnums, args.length, transform);
  const { leaves, rebuild, regroup } = argsFlattener(args, nums, transform);
  requireFloat(leaves, transform, nums.length === 1 ? `argument ${nums[0]}` : `arguments ${nums.join(", ")}`);
  const outDef = new Recorded<TreeDef>(`${transform}: the output structure`);
  const fFlat = (xs: Tensor[]): Tensor[] => {
    const [outs, def] = outputLeaves(f(...rebuild(xs)), transform);
    outDef.set(def);
    return outs;
  };
  return { leaves, fFlat, outTree: () => outDef.get(), regroup, asArray: Array.isArray(argnums) };
}

/** Splits the call's arguments into the differentiated leaves and a way to rebuild the call. */
export function argsFlattener(args: unknown[], nums: number[], transform: string) {
  const parts = nums.map((n) => inputLeaves(args[n], `${transform}: argument ${n}`));
  const leaves = parts.flatMap((p) => p[0]);
  const rebuild = (xs: Tensor[]): unknown[] => {
    const out = [...args];
    let at = 0;
    nums.forEach((n, k) => {
      const [ls, def] = parts[k];
      out[n] = unflatten(def, xs.slice(at, at + ls.length));
      at += ls.length;
    });
    return out;
  };
  /** Regroups per-leaf results into the structure of the differentiated arguments. */
  const regroup = (xs: unknown[], asArray: boolean): unknown => {
    let at = 0;
    const trees = nums.map((_, k) => {
      const [ls, def] = parts[k];
      const t = unflatten(def, xs.slice(at, at + ls.length));
      at += ls.length;
      return t;
    });
    return asArray ? trees : trees[0];
  };
  return { leaves, perArg: parts.map((p) => p[0]), rebuild, regroup };
}

function splitAux(out: unknown, hasAux: boolean, transform: string): [unknown, unknown] {
  if (!hasAux) return [out, undefined];
  if (!Array.isArray(out) || out.length !== 2) {
    throw new TreeError(`${transform} with hasAux: the function must return a pair [output, aux], got ${Array.isArray(out) ? `an array of length ${out.length}` : typeof out}`);
  }
  return [out[0], out[1]];
}

/** `[value, grad]` of a scalar function, as JAX's value_and_grad. */
export function valueAndGrad<P extends any[], R extends ScalarOutput<H>, const A extends Argnums = 0, H extends boolean = false>(
  f: (...args: P) => R,
  opts?: GradOptions<A, H>,
): (...args: LooseTree<P>) => ValueAndGradResult<P, R, A, H>;
export function valueAndGrad(f: Fn, opts: GradOptions = {}): (...args: unknown[]) => [unknown, unknown] {
  return valueAndGradOf(f, opts, "valueAndGrad");
}

function valueAndGradOf(f: Fn, opts: GradOptions, transform: string): (...args: unknown[]) => [unknown, unknown] {
  checkFn(f, transform);
  if (typeof opts !== "object" || opts === null) throw new JacobiError(`${transform}: options must be an object such as { argnums: 1 }, got ${opts === null ? "null" : typeof opts}`);
  const { argnums = 0, hasAux = false } = checkOptions(transform, opts, GRAD_OPTIONS) as GradOptions;
  return (...args: unknown[]): [unknown, unknown] => {
    const nums = normArgnums(argnums, args.length, transform);
    const { leaves, perArg, rebuild, regroup } = argsFlattener(args, nums, transform);
    nums.forEach((n, k) => requireFloat(perArg[k], transform, `argument ${n}`));
    const defs = new Recorded<{ out: TreeDef; aux: TreeDef | null }>(`${transform}: the output structure`);
    const fFlat = (xs: Tensor[]): Tensor[] => {
      const [out, aux] = splitAux(f(...rebuild(xs)), hasAux, transform);
      const [outs, def] = outputLeaves(out, transform);
      if (!hasAux) {
        defs.set({ out: def, aux: null });
        return outs;
      }
      const [auxs, ad] = outputLeaves(aux, `${transform} (aux)`);
      defs.set({ out: def, aux: ad });
      return [...outs, ...auxs];
    };
    // Eager elementwise steps fuse (see withEagerFusion); what the call returns is computed
    // before it returns, so that its cost lands here and nothing is left holding its operands.
    const [primalsOut, gs] = withEagerFusion(() => {
      const { primalsOut, lin } = linearizeFlat(fFlat, leaves, transform, 1);
      const { out: def } = defs.get();
      const y = primalsOut[0];
      if (def.kind !== "leaf") throw new ShapeError(`${transform}: the function must return a single scalar Tensor, got a pytree ${def}; use jacrev for several outputs`);
      if (y.ndim !== 0) {
        throw new ShapeError(`${transform}: the function must return a scalar (shape []), got shape ${fmtShape(y.shape)}; use jacrev for a Jacobian, or reduce the output first (e.g. .sum())`);
      }
      if (!isFloat(y.dtype)) throw new DTypeError(`${transform}: the function's output must be floating-point, got ${y.dtype}`);
      const cts = pullback(lin, [fromArr(filled([], 1, y.dtype), y.dtype, y.weakType)]);
      return [primalsOut, cts.map((c, i) => (c.dtype === leaves[i].dtype ? c : convertElementType(c, leaves[i].dtype)))];
    });
    settled(primalsOut);
    settled(gs);
    const auxDef = defs.get().aux;
    const y = primalsOut[0];
    const value = auxDef !== null ? [y, unflatten(auxDef, primalsOut.slice(1))] : y;
    return [value, regroup(gs, Array.isArray(argnums))];
  };
}

/** `ts`, with any deferred value among them computed (for a tracer, the concrete value it carries, if any). */
function settled<T extends readonly Tensor[]>(ts: T): T {
  for (const t of ts) {
    const a = t.concrete();
    if (a !== null) settleArr(a);
  }
  return ts;
}

/** The gradient of a scalar function, with the structure of the differentiated argument(s). */
export function grad<P extends any[], R extends ScalarOutput<H>, const A extends Argnums = 0, H extends boolean = false>(
  f: (...args: P) => R,
  opts?: GradOptions<A, H>,
): (...args: LooseTree<P>) => GradResult<P, R, A, H>;
export function grad(f: Fn, opts: GradOptions = {}): (...args: unknown[]) => unknown {
  const vg = valueAndGradOf(f, opts, "grad");
  return (...args: unknown[]): unknown => {
    const [value, g] = vg(...args);
    return opts.hasAux ? [g, (value as unknown[])[1]] : g;
  };
}

function checkArgList(x: unknown, what: string, transform: string): unknown[] {
  if (!Array.isArray(x)) throw new JacobiError(`${transform}: ${what} must be an array with one entry per argument of the function, got ${typeof x}`);
  return x;
}

/** Forward mode: `[f(...primals), J·tangents]` (with `hasAux`: `[out, J·tangents, aux]`). */
export function jvp<F extends Fn, H extends boolean = false>(f: F, primals: LooseArgs<F>, tangents: LooseArgs<F>, opts?: AuxOptions<H>): JvpResult<ReturnType<F>, H>;
export function jvp(f: Fn, primals: unknown[], tangents: unknown[], opts?: AuxOptions): unknown[] {
  checkFn(f, "jvp");
  const { hasAux = false } = checkOptions("jvp", opts, AUX_OPTIONS);
  checkArgList(primals, "primals", "jvp");
  checkArgList(tangents, "tangents", "jvp");
  const [ps, pdef] = inputLeaves(primals, "jvp: primal");
  const [ts, tdef] = inputLeaves(tangents, "jvp: tangent");
  checkTree("the tangents", "jvp", tdef, pdef);
  const tIn: Tangent[] = ts.map((t, i) => {
    checkLike("tangent", "jvp", t, ps[i].aval, i);
    return isFloat(ps[i].dtype) ? convertElementType(t, ps[i].dtype) : new Zero(ps[i].aval);
  });
  const [fFlat, outTree] = flattenFun(withAux(f, hasAux, "jvp"), pdef, "jvp");
  const [po, to] = withEagerFusion(() => jvpFlat(fFlat, ps, tIn));
  const { out, aux, n } = auxParts(outTree(), hasAux);
  const tangentsOut = settled(to.slice(0, n).map(instantiate));
  const res = [unflatten(out, settled(po).slice(0, n)), unflatten(out, tangentsOut)];
  return aux === null ? res : [...res, unflatten(aux, po.slice(n))];
}

/** Reverse mode: `[f(...primals), vjpFn]` (with `hasAux`: `[out, vjpFn, aux]`), where `vjpFn(ct)` returns one cotangent per primal. */
export function vjp<F extends Fn, H extends boolean = false>(f: F, primals: LooseArgs<F>, opts?: AuxOptions<H>): VjpResult<Parameters<F>, ReturnType<F>, H>;
export function vjp(f: Fn, primals: unknown[], opts?: AuxOptions): unknown[] {
  checkFn(f, "vjp");
  const { hasAux = false } = checkOptions("vjp", opts, AUX_OPTIONS);
  checkArgList(primals, "primals", "vjp");
  const [ps, pdef] = inputLeaves(primals, "vjp: primal");
  const [fFlat, outTree] = flattenFun(withAux(f, hasAux, "vjp"), pdef, "vjp");
  // The residuals may stay deferred: vjpFn reads them, and nothing else does.
  const { primalsOut, lin } = withEagerFusion(() => linearizeFlat(fFlat, ps, "vjp"));
  settled(primalsOut);
  const { out: def, aux, n } = auxParts(outTree(), hasAux);
  const outs = primalsOut.slice(0, n);
  // aux is no output of the linear map: its cotangents are zero.
  const auxZeros = primalsOut.slice(n).map((p) => new Zero(p.aval));
  const vjpFn = (ct: unknown): unknown[] => {
    const [cts, cdef] = inputLeaves(ct, "vjp function: cotangent");
    checkTree("the cotangent", "vjp function", cdef, def);
    cts.forEach((c, i) => checkLike("cotangent", "vjp function", c, outs[i].aval, i));
    const given = cts.map((c, i): Tangent => (isFloat(outs[i].dtype) ? convertElementType(c, outs[i].dtype) : new Zero(outs[i].aval)));
    const res = withEagerFusion(() => pullback(lin, [...given, ...auxZeros]).map((r, i) => convertElementType(r, ps[i].dtype)));
    return unflatten(pdef, settled(res));
  };
  const res = [unflatten(def, outs), vjpFn];
  return aux === null ? res : [...res, unflatten(aux, primalsOut.slice(n))];
}

/** `[f(...primals), jvpFn]` (with `hasAux`: `[out, jvpFn, aux]`): the primal work is done once; `jvpFn(...tangents)` is linear. */
export function linearize<F extends Fn, H extends boolean = false>(f: F, primals: LooseArgs<F>, opts?: AuxOptions<H>): LinearizeResult<Parameters<F>, ReturnType<F>, H>;
export function linearize(f: Fn, primals: unknown[], opts?: AuxOptions): unknown[] {
  checkFn(f, "linearize");
  const { hasAux = false } = checkOptions("linearize", opts, AUX_OPTIONS);
  checkArgList(primals, "primals", "linearize");
  const [ps, pdef] = inputLeaves(primals, "linearize: primal");
  const [fFlat, outTree] = flattenFun(withAux(f, hasAux, "linearize"), pdef, "linearize");
  const { primalsOut, lin } = withEagerFusion(() => linearizeFlat(fFlat, ps, "linearize"));
  settled(primalsOut);
  const { out: def, aux, n } = auxParts(outTree(), hasAux);
  const jvpFn = (...tangents: unknown[]): unknown => {
    const [ts, tdef] = inputLeaves(tangents, "linearize's jvp function: tangent");
    checkTree("the tangents", "linearize's jvp function", tdef, pdef);
    ts.forEach((t, i) => checkLike("tangent", "linearize's jvp function", t, ps[i].aval, i));
    const tangentsOut = withEagerFusion(() => applyLinear(lin, ts.map((t, i) => convertElementType(t, ps[i].dtype))).slice(0, n));
    return unflatten(def, settled(tangentsOut));
  };
  const res = [unflatten(def, primalsOut.slice(0, n)), jvpFn];
  return aux === null ? res : [...res, unflatten(aux, primalsOut.slice(n))];
}
