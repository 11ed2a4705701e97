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
import { type Fn, type LooseArgs, type LooseLeaves, checkFn, inputLeaves, outputLeaves } from "./common.js";
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
export interface CustomJvpFunction<F extends Fn> {
  (...args: LooseArgs<F>): ReturnType<F>;
  /** Sets the JVP rule `(primals, tangents) => [out, tangentOut]`; returns the function itself. */
  defjvp(rule: JvpRule<F>): CustomJvpFunction<F>;
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
    const params: CustomJvpParams = { name, fun: new Label(fun, name), jvp: new Label(flatRule, `${name}_jvp`), numConsts: 0 };
    const outs = bind(customJvpCallP, leaves, params);
    return unflatten(info.def as TreeDef, outs);
  }) as unknown as CustomJvpFunction<F>;
  g.defjvp = (r: JvpRule<F>) => {
    if (typeof r !== "function") throw new JacobiError(`${where}.defjvp: expected a rule (primals, tangents) => [out, tangentOut], got ${describe(r)}`);
    rule = r;
    return g;
  };
  return g;
}

