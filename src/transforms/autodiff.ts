import { fromArr } from "../core/convert.js";
import { ShapeError, DTypeError, JacobiError, TreeError, fmtShape } from "../core/errors.js";
import { isFloat } from "../core/dtype.js";
import { Zero, type Tangent } from "../core/primitive.js";
import type { Tensor } from "../core/tensor.js";
import { unflatten, type TreeDef } from "../core/tree.js";
import { filled } from "../backend/ndarray-view.js";
import { convertElementType } from "../primitives/elementwise.js";
import { instantiate } from "../interpreters/zeros.js";
import { type Fn, checkFn, checkLike, checkTree, flattenFun, inputLeaves, Recorded, normArgnums, outputLeaves, requireFloat } from "./common.js";
import { jvpFlat } from "../interpreters/jvp.js";
import { evalClosed as applyLinear } from "../interpreters/eval.js";
import { linearizeFlat } from "../interpreters/partial-eval.js";
import { pullback } from "../interpreters/transpose.js";

export interface GradOptions {
  argnums?: number | number[];
  hasAux?: boolean;
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
export function valueAndGrad(f: Fn, opts: GradOptions = {}, transform = "valueAndGrad") {
  checkFn(f, transform);
  const { argnums = 0, hasAux = false } = opts;
  return (...args: unknown[]): any => {
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
export function grad(f: Fn, opts: GradOptions = {}) {
  const vg = valueAndGrad(f, opts, "grad");
  return (...args: unknown[]): any => {
    const [value, g] = vg(...args);
    return opts.hasAux ? [g, value[1]] : g;
  };
}

function checkArgList(x: unknown, what: string, transform: string): unknown[] {
  if (!Array.isArray(x)) throw new JacobiError(`${transform}: ${what} must be an array with one entry per argument of the function, got ${typeof x}`);
  return x;
}

/** Forward mode: `[f(...primals), J·tangents]`. */
export function jvp(f: Fn, primals: unknown[], tangents: unknown[]): [any, any] {
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
export function vjp(f: Fn, primals: unknown[]): [any, (ct: unknown) => any[]] {
  checkFn(f, "vjp");
  checkArgList(primals, "primals", "vjp");
  const [ps, pdef] = inputLeaves(primals, "vjp: primal");
  const [fFlat, outTree] = flattenFun(f, pdef, "vjp");
  const { primalsOut, lin } = linearizeFlat(fFlat, ps, "vjp");
  const def = outTree();
  const vjpFn = (ct: unknown): any[] => {
    const [cts, cdef] = inputLeaves(ct, "vjp function: cotangent");
    checkTree("the cotangent", "vjp function", cdef, def);
    cts.forEach((c, i) => checkLike("cotangent", "vjp function", c, primalsOut[i].aval, i));
    const res = pullback(lin, cts.map((c, i) => (isFloat(primalsOut[i].dtype) ? convertElementType(c, primalsOut[i].dtype) : new Zero(primalsOut[i].aval))));
    return unflatten(pdef, res.map((r, i) => convertElementType(r, ps[i].dtype)));
  };
  return [unflatten(def, primalsOut), vjpFn];
}

/** `[f(...primals), jvpFn]`: the primal work is done once; `jvpFn(...tangents)` is linear. */
export function linearize(f: Fn, primals: unknown[]): [any, (...tangents: unknown[]) => any] {
  checkFn(f, "linearize");
  checkArgList(primals, "primals", "linearize");
  const [ps, pdef] = inputLeaves(primals, "linearize: primal");
  const [fFlat, outTree] = flattenFun(f, pdef, "linearize");
  const { primalsOut, lin } = linearizeFlat(fFlat, ps, "linearize");
  const def = outTree();
  const jvpFn = (...tangents: unknown[]): any => {
    const [ts, tdef] = inputLeaves(tangents, "linearize's jvp function: tangent");
    checkTree("the tangents", "linearize's jvp function", tdef, pdef);
    ts.forEach((t, i) => checkLike("tangent", "linearize's jvp function", t, ps[i].aval, i));
    return unflatten(def, applyLinear(lin, ts.map((t, i) => convertElementType(t, ps[i].dtype))));
  };
  return [unflatten(def, primalsOut), jvpFn];
}
