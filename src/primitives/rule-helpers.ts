// Helpers that write a primitive's rules from its structure, so that each declaration is one
// `definePrimitive` call and each idea (the JVP of a linear map, a sum of per-argument
// contributions, a symbolic-zero cotangent, a batch axis moved to the front) is written once.
// Shapes after JAX's interpreters/ad.py (defjvp, deflinear2, defbilinear) and batching.py.
import { mapN } from "../backend/index.js";
import type { DType } from "../core/dtype.js";
import { InternalError } from "../core/errors.js";
import { type Params, type Primitive, type PrimitiveRules, type Tangent, UndefPrimal, Zero } from "../core/primitive.js";
import type { ShapedArray } from "../core/shaped-array.js";
import type { Tensor } from "../core/tensor.js";
import { bind, bind1 } from "../core/trace.js";
import { moveBatchAxis, vectorizedBatch } from "./batching.js";
import { sumTangents } from "./elementwise.js";
import { instantiate, isZero } from "./util.js";

type JvpRule<P extends Params> = NonNullable<PrimitiveRules<P>["jvp"]>;
type TransposeRule<P extends Params> = NonNullable<PrimitiveRules<P>["transpose"]>;
type BatchRule<P extends Params> = NonNullable<PrimitiveRules<P>["batch"]>;

/**
 * The JVP of a linear primitive: the primitive applied to the primals, and again to the tangents
 * (Zero ones instantiated). `tangentParams` adjusts the params for the tangent (pad's value is 0).
 */
export function linearJvp<P extends Params>(self: Primitive<P>, tangentParams?: (params: P) => P): JvpRule<P> {
  return (primals, tangents, params) => [
    bind(self, primals, params),
    bind(self, tangents.map(instantiate), tangentParams === undefined ? params : tangentParams(params)),
  ];
}

/**
 * One argument's share of the output tangent of a single-output primitive, given that argument's
 * (nonzero) tangent `t`, the primals and the primal output; null: the argument has none (a predicate).
 */
export type ArgumentJvp<P extends Params> = ((t: Tensor, primals: Tensor[], out: Tensor, params: P) => Tangent) | null;

/**
 * A JVP rule from one rule per argument: the output tangent is the sum of the contributions of the
 * arguments whose tangents are not Zero (Zero when none is).
 */
export function defjvp<P extends Params>(self: Primitive<P>, ...rules: ArgumentJvp<P>[]): JvpRule<P> {
  return (primals, tangents, params) => {
    const out = bind1(self, primals, params);
    let sum: Tangent = new Zero(out.aval.strong());
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i], t = tangents[i];
      if (rule !== null && !isZero(t)) sum = sumTangents(sum, rule(t, primals, out, params));
    }
    return [[out], [sum]];
  };
}

/**
 * A transpose rule for a single-output linear primitive, written for a nonzero cotangent: a Zero
 * cotangent gives Zero cotangents to every linear input, handled here once.
 */
export function linearTranspose<P extends Params>(rule: (ct: Tensor, args: (Tensor | UndefPrimal)[], params: P) => (Tangent | null)[]): TransposeRule<P> {
  return ([ct], args, params) => (isZero(ct) ? args.map((a) => (a instanceof UndefPrimal ? new Zero(a.aval) : null)) : rule(ct, args, params));
}

/**
 * The rules of a product-like primitive `apply(a, b)`, linear in each argument separately (mul,
 * dot_general): its JVP `apply(ta, b) + apply(a, tb)`, its transpose with respect to whichever
 * argument is linear (`lhs` gives the cotangent of a from the cotangent and b, `rhs` that of b
 * from the cotangent and a), and the fact `linear`. `apply` may be a wrapper with shortcuts.
 */
export function bilinear<P extends Params>(
  self: Primitive<P>,
  apply: (a: Tensor, b: Tensor, params: P) => Tensor,
  lhs: (ct: Tensor, b: Tensor, aAval: ShapedArray, params: P) => Tensor,
  rhs: (ct: Tensor, a: Tensor, bAval: ShapedArray, params: P) => Tensor,
): { jvp: JvpRule<P>; transpose: TransposeRule<P>; linear: true } {
  return {
    jvp: ([a, b], [ta, tb], params) => {
      const out = apply(a, b, params);
      return [[out], [sumTangents(isZero(ta) ? ta : apply(ta, b, params), isZero(tb) ? tb : apply(a, tb, params))]];
    },
    transpose: linearTranspose((ct, [a, b], params) => {
      if (a instanceof UndefPrimal && b instanceof UndefPrimal) throw new InternalError(`${self.name}: cannot transpose a product of two linear inputs`);
      if (a instanceof UndefPrimal) return [lhs(ct, b as Tensor, a.aval, params), null];
      return [null, rhs(ct, a, (b as UndefPrimal).aval, params)];
    }),
    linear: true,
  };
}

/**
 * The batch rule of a one-operand primitive that handles a batched operand by moving its batch
 * axis to the front and applying itself once, with `shifted` giving the params for that extra
 * leading axis.
 */
export function frontBatch<P extends Params>(self: Primitive<P>, shifted: (params: P, axisSize: number) => P): BatchRule<P> {
  return ([x], [dim], params, axisSize) => [[bind1(self, [moveBatchAxis(x, dim as number, 0)], shifted(params, axisSize))], [0]];
}

/** The batch rule of a reduction over `axes`: the same reduction, one axis further along. */
export function reducerBatch<P extends Params & { axes: number[] }>(self: Primitive<P>): BatchRule<P> {
  return frontBatch(self, (params) => ({ ...params, axes: params.axes.map((a) => a + 1) }));
}

/**
 * impl, fused expression, abstract evaluation and batch rule of an elementwise primitive computing
 * `expr` (in x0, x1, ...; or an expression chosen by the output dtype) with `mapN`.
 */
export function elementwiseRules<P extends Params>(
  self: Primitive<P>,
  expr: string | ((dtype: DType) => string),
  abstractEval: (avals: ShapedArray[], params: P) => ShapedArray[],
): Pick<PrimitiveRules<P>, "impl" | "elementwiseExpr" | "abstractEval" | "batch"> {
  const exprFor = typeof expr === "string" ? () => expr : expr;
  return {
    impl: (args, _params, [out]) => [mapN(exprFor(out.dtype), args, out.dtype)],
    elementwiseExpr: (_params, dtype) => exprFor(dtype),
    abstractEval,
    batch: vectorizedBatch(self),
  };
}
