import { fromArr } from "../core/convert.js";
import { ShapeError, DTypeError, JacobiError, TreeError, fmtShape } from "../core/errors.js";
import { isFloat } from "../core/dtype.js";
import { Zero, type Tangent } from "../core/primitive.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { unflatten, type TreeDef } from "../core/tree.js";
import { filled } from "../backend/index.js";
import { convertElementType } from "../primitives/elementwise.js";
import { instantiate } from "../interpreters/zeros.js";
import { type ArgsAt, type Argnums, type Fn, type LooseArgs, type LooseLeaves, type LooseTree, type TensorResult, type TensorTree, checkFn, checkLike, checkTree, flattenFun, inputLeaves, Recorded, normArgnums, outputLeaves, requireFloat } from "./common.js";
import { jvpFlat } from "../interpreters/jvp.js";
import { evalClosed as applyLinear } from "../interpreters/eval.js";
import { linearizeFlat } from "../interpreters/partial-eval.js";
import { pullback } from "../interpreters/transpose.js";

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

/** The gradient's type: the pytree type of `args[argnums]` with Tensor leaves (a tuple for an array `argnums`). */
export type GradOf<P extends unknown[], A extends Argnums> = TensorTree<ArgsAt<P, A>>;
/** What `grad(f, { argnums: A, hasAux: H })` returns when called, for `f: (...args: P) => R`. */
export type GradResult<P extends unknown[], R, A extends Argnums, H extends boolean> = H extends true ? [GradOf<P, A>, TensorTree<AuxOf<R>>] : GradOf<P, A>;
/** What `valueAndGrad(f, { argnums: A, hasAux: H })` returns when called, for `f: (...args: P) => R`. */
export type ValueAndGradResult<P extends unknown[], R, A extends Argnums, H extends boolean> = [H extends true ? [Tensor, TensorTree<AuxOf<R>>] : Tensor, GradOf<P, A>];

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
  const { argnums = 0, hasAux = false } = opts;
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
    const { primalsOut, lin } = linearizeFlat(fFlat, leaves, transform, 1);
    const { out: def, aux: auxDef } = defs.get();
    const y = primalsOut[0];
    if (def.kind !== "leaf") throw new ShapeError(`${transform}: the function must return a single scalar Tensor, got a pytree ${def}; use jacrev for several outputs`);
    if (y.ndim !== 0) {
      throw new ShapeError(`${transform}: the function must return a scalar (shape []), got shape ${fmtShape(y.shape)}; use jacrev for a Jacobian, or reduce the output first (e.g. .sum())`);
    }
    if (!isFloat(y.dtype)) throw new DTypeError(`${transform}: the function's output must be floating-point, got ${y.dtype}`);
    const cts = pullback(lin, [fromArr(filled([], 1, y.dtype), y.dtype, y.weakType)]);
    const grads = regroup(cts.map((c, i) => (c.dtype === leaves[i].dtype ? c : convertElementType(c, leaves[i].dtype))), Array.isArray(argnums));
    const value = auxDef !== null ? [y, unflatten(auxDef, primalsOut.slice(1))] : y;
    return [value, grads];
  };
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

/** Forward mode: `[f(...primals), J·tangents]`. */
export function jvp<F extends Fn>(f: F, primals: LooseArgs<F>, tangents: LooseArgs<F>): [TensorResult<F>, TensorResult<F>];
export function jvp(f: Fn, primals: unknown[], tangents: unknown[]): [unknown, unknown] {
  checkFn(f, "jvp");
  checkArgList(primals, "primals", "jvp");
  checkArgList(tangents, "tangents", "jvp");
  const [ps, pdef] = inputLeaves(primals, "jvp: primal");
  const [ts, tdef] = inputLeaves(tangents, "jvp: tangent");
  checkTree("the tangents", "jvp", tdef, pdef);
  const tIn: Tangent[] = ts.map((t, i) => {
    checkLike("tangent", "jvp", t, ps[i].aval, i);
    return isFloat(ps[i].dtype) ? convertElementType(t, ps[i].dtype) : new Zero(ps[i].aval);
  });
  const [fFlat, outTree] = flattenFun(f, pdef, "jvp");
  const [po, to] = jvpFlat(fFlat, ps, tIn);
  const def = outTree();
  return [unflatten(def, po), unflatten(def, to.map(instantiate))];
}

/** Reverse mode: `[f(...primals), vjpFn]`, where `vjpFn(ct)` returns one cotangent per primal. */
export function vjp<F extends Fn>(f: F, primals: LooseArgs<F>): [TensorResult<F>, (ct: LooseLeaves<ReturnType<F>>) => TensorTree<Parameters<F>>];
export function vjp(f: Fn, primals: unknown[]): [unknown, (ct: unknown) => unknown[]] {
  checkFn(f, "vjp");
  checkArgList(primals, "primals", "vjp");
  const [ps, pdef] = inputLeaves(primals, "vjp: primal");
  const [fFlat, outTree] = flattenFun(f, pdef, "vjp");
  const { primalsOut, lin } = linearizeFlat(fFlat, ps, "vjp");
  const def = outTree();
  const vjpFn = (ct: unknown): unknown[] => {
    const [cts, cdef] = inputLeaves(ct, "vjp function: cotangent");
    checkTree("the cotangent", "vjp function", cdef, def);
    cts.forEach((c, i) => checkLike("cotangent", "vjp function", c, primalsOut[i].aval, i));
    const res = pullback(lin, cts.map((c, i) => (isFloat(primalsOut[i].dtype) ? convertElementType(c, primalsOut[i].dtype) : new Zero(primalsOut[i].aval))));
    return unflatten(pdef, res.map((r, i) => convertElementType(r, ps[i].dtype)));
  };
  return [unflatten(def, primalsOut), vjpFn];
}

/** `[f(...primals), jvpFn]`: the primal work is done once; `jvpFn(...tangents)` is linear. */
export function linearize<F extends Fn>(f: F, primals: LooseArgs<F>): [TensorResult<F>, (...tangents: LooseArgs<F>) => TensorResult<F>];
export function linearize(f: Fn, primals: unknown[]): [unknown, (...tangents: unknown[]) => unknown] {
  checkFn(f, "linearize");
  checkArgList(primals, "primals", "linearize");
  const [ps, pdef] = inputLeaves(primals, "linearize: primal");
  const [fFlat, outTree] = flattenFun(f, pdef, "linearize");
  const { primalsOut, lin } = linearizeFlat(fFlat, ps, "linearize");
  const def = outTree();
  const jvpFn = (...tangents: unknown[]): unknown => {
    const [ts, tdef] = inputLeaves(tangents, "linearize's jvp function: tangent");
    checkTree("the tangents", "linearize's jvp function", tdef, pdef);
    ts.forEach((t, i) => checkLike("tangent", "linearize's jvp function", t, ps[i].aval, i));
    return unflatten(def, applyLinear(lin, ts.map((t, i) => convertElementType(t, ps[i].dtype))));
  };
  return [unflatten(def, primalsOut), jvpFn];
}
