// customVjp: a function with a user-written VJP rule (JAX's custom_vjp). What a call means is up
// to the trace it meets (its processCustomVjpCall): a linearization runs `fwd` and records a
// linear map whose transpose calls `bwd`, staging records the function's jaxpr with the rules,
// vmap batches them, and outside any transformation the function is simply called.
import { asTensor, describe } from "../core/convert.js";
import { DTypeError, JacobiError, ShapeError, TreeError, fmtShape } from "../core/errors.js";
import { isFloat } from "../core/dtype.js";
import { Label } from "../core/label.js";
import { sameShape } from "../core/shaped-array.js";
import { type Tensor, isTensorLike } from "../core/tensor.js";
import { bind, traceDepth } from "../core/trace.js";
import { type TreeDef, flatten, unflatten } from "../core/tree.js";
import { type CustomVjpParams, type FlatBwd, type FlatFn, type FlatFwd, customVjpCallP } from "../interpreters/custom-rules.js";
import { zerosLike } from "../interpreters/zeros.js";
import { convertElementType } from "../primitives/elementwise.js";
import "../primitives/install-axis-ops.js";
import { type Fn, type LooseArgs, type LooseLeaves, type TensorTree, checkFn, inputLeaves, outputLeaves } from "./common.js";
import { OutInfo, leafAt, pairDesc } from "./custom-common.js";

/** The forward rule for `F`: called as `F` is (its leaves arrive as Tensors), returns `[out, residuals]`. */
export type FwdRule<F extends Fn = Fn, Res = unknown> = (...args: Parameters<F>) => readonly [LooseLeaves<ReturnType<F>>, Res];
/** Cotangents for the arguments `P`, one per argument; `null` (or undefined) stands for a zero cotangent. */
export type ArgCotangents<P extends unknown[]> = { [K in keyof P]: LooseLeaves<P[K]> | null | undefined };
/** The backward rule for `F`: from the residuals and the output's cotangent to one cotangent per argument. */
export type BwdRule<F extends Fn = Fn, Res = unknown> = (residuals: TensorTree<Res>, ct: TensorTree<ReturnType<F>>) => ArgCotangents<Parameters<F>>;
export interface CustomVjpFunction<F extends Fn> {
  (...args: LooseArgs<F>): ReturnType<F>;
  /** Sets `fwd(...args) => [out, residuals]` and `bwd(residuals, ct) => [one cotangent per argument]`; returns the function itself. */
  defvjp<Res>(fwd: FwdRule<F, Res>, bwd: BwdRule<F, Res>): CustomVjpFunction<F>;
}

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
  let rules: [(...args: unknown[]) => unknown, (res: unknown, ct: unknown) => unknown] | null = null;
  const g = ((...args: unknown[]): unknown => {
    const rs = rules;
    if (rs === null) throw new JacobiError(`${where}: no VJP rule is defined; call .defvjp(fwd, bwd) before calling the function`);
    const [leaves, inDef] = inputLeaves(args, `${where}: argument`);
    if (traceDepth() === 0) return f(...(unflatten(inDef, leaves) as unknown[]));
    const [fwdRule, bwdRule] = rs;
    const info = new OutInfo(where);
    let resDef: TreeDef | null = null;
    let statics: (unknown | null)[] = [];
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
      // A JS function among the residuals is static (as a jax.tree_util.Partial's function): it is
      // kept aside and handed to bwd as it is; it must not close over traced values.
      statics = rl.map((l) => (typeof l === "function" ? l : null));
      const res = rl.flatMap((l, i) => {
        if (typeof l === "function") return [];
        if (!isTensorLike(l)) throw new JacobiError(`${where}: fwd's residuals must be a pytree of Tensors (or JS functions), got ${describe(l)} at residual leaf ${i}`);
        return [asTensor(l)];
      });
      return [outs, res];
    };
    const bwd: FlatBwd = (res, cts) => {
      let k = 0;
      const all = statics.map((fn) => fn ?? res[k++]);
      return bwdLeaves(where, bwdRule(unflatten(resDef as TreeDef, all), unflatten(info.def as TreeDef, cts)), inDef, leaves);
    };
    const params: CustomVjpParams = { name, fun: new Label(fun, name), fwd: new Label(fwd, `${name}_fwd`), bwd: new Label(bwd, `${name}_bwd`), numConsts: 0 };
    const outs = bind(customVjpCallP, leaves, params);
    return unflatten(info.def as TreeDef, outs);
  }) as unknown as CustomVjpFunction<F>;
  g.defvjp = <Res>(fwd: FwdRule<F, Res>, bwd: BwdRule<F, Res>) => {
    if (typeof fwd !== "function" || typeof bwd !== "function") {
      throw new JacobiError(`${where}.defvjp: expected two functions fwd(...args) => [out, residuals] and bwd(residuals, ct) => cotangents, got ${describe(fwd)} and ${describe(bwd)}`);
    }
    rules = [fwd as (...args: unknown[]) => unknown, bwd as (res: unknown, ct: unknown) => unknown];
    return g;
  };
  return g;
}
