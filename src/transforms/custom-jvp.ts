// customJvp: a function with a user-written JVP rule (JAX's custom_jvp). What a call means is
// up to the trace it meets (its processCustomJvpCall): forward mode calls the rule, staging records
// the function's jaxpr with the rule, vmap batches both, and outside any transformation the
// function is simply called.
import { describe } from "../core/convert.js";
import { DTypeError, JacobiError, ShapeError, TreeError, fmtShape } from "../core/errors.js";
import { isFloat } from "../core/dtype.js";
import { Label } from "../core/label.js";
import { sameShape } from "../core/shaped-array.js";
import type { Tensor } from "../core/tensor.js";
import { bind, traceDepth } from "../core/trace.js";
import { type TreeDef, unflatten } from "../core/tree.js";
import { type CustomJvpParams, type FlatFn, type FlatJvpRule, customJvpCallP } from "../interpreters/custom-rules.js";
import { convertElementType } from "../primitives/elementwise.js";
import "../primitives/install-axis-ops.js";
import { type Fn, type LooseArgs, type LooseLeaves, type TensorTree, checkFn, inputLeaves, outputLeaves } from "./common.js";
import { checkOptions, integers } from "../core/validate.js";
import { asTensor } from "../core/convert.js";
import * as tree from "../core/tree.js";
import { add } from "../primitives/elementwise.js";
import { zerosLike } from "../primitives/util.js";
import { OutInfo, leafAt, pairDesc } from "./custom-common.js";

/**
 * A JVP rule for `F`: it receives the arguments and their tangents (each an array with one entry
 * per argument, typed as `F`'s parameters; the leaves arrive as Tensors) and returns
 * `[out, tangentOut]`, both of `F`'s output structure.
 */
export type JvpRule<F extends Fn = Fn> = (
  primals: Parameters<F>,
  tangents: Parameters<F>,
) => readonly [LooseLeaves<ReturnType<F>>, LooseLeaves<ReturnType<F>>] | readonly LooseLeaves<ReturnType<F>>[];
/**
 * With `nondiffArgnums`, the rule receives those arguments first, as they were passed (JAX's
 * `jvp(*nondiff, primals, tangents)`); primals and tangents then hold the other arguments only.
 */
export type NondiffJvpRule = (...args: never[]) => readonly unknown[];
/** One argument's part of the output tangent for `defjvps`: `(tangent, out, ...primals) => tangentOut part`. */
export type ArgJvp<F extends Fn = Fn> = (tangent: Tensor, out: TensorTree<ReturnType<F>>, ...primals: Tensor[]) => LooseLeaves<ReturnType<F>>;
export interface CustomJvpFunction<F extends Fn> {
  (...args: LooseArgs<F>): ReturnType<F>;
  /** Sets the JVP rule `(primals, tangents) => [out, tangentOut]`; returns the function itself. */
  defjvp(rule: JvpRule<F>): CustomJvpFunction<F>;
  /**
   * Sets the JVP by one rule per (differentiable) argument, `(tangent, out, ...primals) => part`,
   * null for an argument that contributes nothing; the output tangent is the sum of the parts.
   */
  defjvps(...rules: (ArgJvp<F> | null)[]): CustomJvpFunction<F>;
}
/** A customJvp function with `nondiffArgnums`: its rule takes those arguments first. */
export interface NondiffCustomJvpFunction<F extends Fn> {
  (...args: LooseArgs<F>): ReturnType<F>;
  /** Sets the rule `(...nondiff, primals, tangents) => [out, tangentOut]`. */
  defjvp(rule: NondiffJvpRule): NondiffCustomJvpFunction<F>;
  defjvps(...rules: (ArgJvp<F> | null)[]): NondiffCustomJvpFunction<F>;
}
export interface CustomJvpOptions {
  /** Arguments passed to the rule as they are (not differentiated): functions, flags, sizes ... */
  nondiffArgnums?: number | number[];
}

function runJvpRule(where: string, rule: JvpRule, inDef: TreeDef, info: OutInfo, ps: Tensor[], ts: Tensor[]): [Tensor[], Tensor[]] {
  const r: unknown = rule(unflatten(inDef, ps), unflatten(inDef, ts));
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

/**
 * `f` with a user-written JVP rule, set with `.defjvp((primals, tangents) => [out, tangentOut])`.
 * Forward mode calls the rule; reverse mode transposes the rule's tangent computation, which must
 * therefore be linear in the tangents (as in JAX). The rule is ordinary differentiable code, so
 * derivatives of higher order differentiate the rule. Outside any transformation `f` is called.
 */
export function customJvp<F extends Fn>(f0: F, opts?: { nondiffArgnums?: undefined }): CustomJvpFunction<F>;
export function customJvp<F extends Fn>(f0: F, opts: CustomJvpOptions): NondiffCustomJvpFunction<F>;
export function customJvp<F extends Fn>(f0: F, opts?: CustomJvpOptions): CustomJvpFunction<F> {
  checkFn(f0, "customJvp");
  const { nondiffArgnums } = checkOptions("customJvp", opts, { nondiffArgnums: integers });
  const fixed = nondiffArgnums === undefined ? [] : Array.isArray(nondiffArgnums) ? nondiffArgnums : [nondiffArgnums];
  const name = f0.name || "anonymous";
  const where = `customJvp (${name})`;
  let rule0: ((...args: unknown[]) => unknown) | null = null;
  const g = ((...allArgs: unknown[]): unknown => {
    const r0 = rule0;
    if (r0 === null) throw new JacobiError(`${where}: no JVP rule is defined; call .defjvp(rule) before calling the function`);
    // The non-differentiable arguments are fixed for this call: f and the rule close over them.
    const nums = fixed.map((n) => {
      const k = n < 0 ? n + allArgs.length : n;
      if (!Number.isInteger(k) || k < 0 || k >= allArgs.length) throw new JacobiError(`${where}: nondiffArgnums entry ${n} is out of range for a call with ${allArgs.length} arguments`);
      return k;
    });
    const nondiff = nums.map((k) => allArgs[k]);
    const args = allArgs.filter((_, i) => !nums.includes(i));
    const merge = (diff: unknown[]): unknown[] => {
      const out: unknown[] = [];
      for (let i = 0, d = 0; i < allArgs.length; i++) out.push(nums.includes(i) ? allArgs[i] : diff[d++]);
      return out;
    };
    const f = (...diff: unknown[]): unknown => f0(...merge(diff));
    const r: JvpRule = (primals, tangents) => r0(...nondiff, primals, tangents) as ReturnType<JvpRule>;
    const [leaves, inDef] = inputLeaves(args, `${where}: argument`);
    // Arguments reach f as Tensors whether or not a transformation is active.
    if (traceDepth() === 0) return f(...(unflatten(inDef, leaves) as unknown[]));
    const info = new OutInfo(where);
    const fun: FlatFn = (xs) => {
      const [outs, def] = outputLeaves(f(...(unflatten(inDef, xs) as unknown[])), where);
      return info.record(def, outs, "the function's output");
    };
    const flatRule: FlatJvpRule = (ps, ts) => runJvpRule(where, r, inDef, info, ps, ts);
    const params: CustomJvpParams = { name, fun: new Label(fun, name), jvp: new Label(flatRule, `${name}_jvp`), numConsts: 0 };
    const outs = bind(customJvpCallP, leaves, params);
    return unflatten(info.def as TreeDef, outs);
  }) as unknown as CustomJvpFunction<F>;
  g.defjvp = (r: JvpRule<F>) => {
    if (typeof r !== "function") throw new JacobiError(`${where}.defjvp: expected a rule (primals, tangents) => [out, tangentOut], got ${describe(r)}`);
    rule0 = r as (...args: unknown[]) => unknown;
    return g;
  };
  g.defjvps = (...rules: (ArgJvp<F> | null)[]) => {
    rules.forEach((r, i) => {
      if (r !== null && typeof r !== "function") throw new JacobiError(`${where}.defjvps: rule ${i} must be a function (tangent, out, ...primals) => part or null, got ${describe(r)}`);
    });
    rule0 = (...ruleArgs: unknown[]) => {
      const nondiff = ruleArgs.slice(0, -2);
      const [primals, tangents] = ruleArgs.slice(-2) as [unknown[], unknown[]];
      if (rules.length !== primals.length) throw new JacobiError(`${where}.defjvps: ${rules.length} rules for ${primals.length} differentiable arguments`);
      const out = f0(...mergeNondiff(fixed, nondiff, primals)) as unknown;
      let total: unknown = null;
      rules.forEach((r, i) => {
        if (r === null) return;
        const part = r(tangents[i] as Tensor, out as TensorTree<ReturnType<F>>, ...(primals as Tensor[]));
        total = total === null ? part : tree.map((a: Tensor, b: Tensor) => add(asTensor(a), asTensor(b)), total, part);
      });
      return [out, total === null ? tree.map((o: Tensor) => zerosLike(asTensor(o)), out) : total];
    };
    return g;
  };
  return g;
}


/** The arguments of a call in their places: the fixed ones at `nums` (sorted as given), the others in order. */
function mergeNondiff(nums: number[], nondiff: unknown[], diff: unknown[]): unknown[] {
  const n = nums.length + diff.length;
  const at = nums.map((k) => (k < 0 ? k + n : k));
  const out: unknown[] = [];
  for (let i = 0, d = 0; i < n; i++) {
    const j = at.indexOf(i);
    out.push(j >= 0 ? nondiff[j] : diff[d++]);
  }
  return out;
}
