import type { ShapedArray } from "./shaped-array.js";
import type { Tensor } from "./tensor.js";
import type { Arr } from "../backend/index.js";
import type { DType } from "./dtype.js";
import { InternalError } from "./errors.js";
import { bind } from "./trace.js";
import type { OnnxRule } from "./onnx-lowering.js";

/** A tangent or cotangent known to be zero: carried symbolically, never allocated. */
export class Zero {
  constructor(readonly aval: ShapedArray) {}
}
export type Tangent = Tensor | Zero;

/** A linear input of a jaxpr being transposed: only its abstract value is known. */
export class UndefPrimal {
  constructor(readonly aval: ShapedArray) {}
}

export type Params = Record<string, unknown>;
/** Per flat element of a value, the sorted positions of the differentiated inputs it depends on. */
export type IndexSets = Int32Array[];
export type BatchDim = number | null;

/** Arithmetic of one primitive application, for `costAnalysis`. */
export interface Cost {
  /** Floating-point operations (a multiply-add counts 2). */
  flops: number;
  /** Of those, transcendental evaluations (sin, exp, log, sqrt, ...). */
  transcendentals: number;
}

/**
 * Everything a primitive declares, in one object: its rules (how each transformation treats it)
 * and its facts (metadata that tests, `costAnalysis` and the teaching tables read).
 *
 * ```ts
 * export const sinP = definePrimitive("sin", (self) => ({
 *   ...elementwiseRules(self, "Math.sin(x0)", floatAval("sin")), // impl, elementwiseExpr, abstractEval, batch
 *   jvp: defjvp(self, (t, [x]) => mul(t, cos(x))),               // one rule per argument
 *   cost: transcendentalCost,
 *   notation: prefix("sin"),
 * }));
 * export const sin = (x: Tensor) => bind1(sinP, [x]);
 * ```
 *
 * A linear primitive adds `linear: true` and a `transpose`; one whose derivative is zero
 * everywhere says `differentiable: false` and gets its jvp rule supplied. Helpers write the usual
 * rules (primitives/rule-helpers.ts: `linearJvp`, `defjvp`, `bilinear`, `linearTranspose`,
 * `frontBatch`, `reducerBatch`, `elementwiseRules`; primitives/metadata.ts: `transcendentalCost`,
 * `movementCost`, `reductionCost`, `infix`, `prefix`, `call`, `reduction`; primitives/util.ts:
 * `sameAval`, `naryAvals`, `floatAval`). Rules are data on the primitive object, so the tests sweep
 * `allPrimitives` and check every rule a primitive's facts call for: a new primitive needs a batch
 * case in tests/primitives/rules.test.ts and, unless `differentiable: false`, a derivative case in
 * tests/primitives/derivatives.test.ts.
 */
export interface PrimitiveRules<P extends Params> {
  /** Evaluates on concrete buffers; `outAvals` come from `abstractEval`. */
  impl(args: Arr[], params: P, outAvals: ShapedArray[]): Arr[];
  /** Output shapes and dtypes; throws ShapeError/DTypeError for inputs the primitive rejects. */
  abstractEval(avals: ShapedArray[], params: P): ShapedArray[];
  /** Forward-mode rule: primal outputs and their tangents (some tangents may be Zero). */
  jvp?(primals: Tensor[], tangents: Tangent[], params: P): [Tensor[], Tangent[]];
  /**
   * Only linear primitives: cotangents of the linear (UndefPrimal) inputs, null for the others.
   * The backward pass never calls it with every cotangent Zero.
   */
  transpose?(cts: Tangent[], args: (Tensor | UndefPrimal)[], params: P): (Tangent | null)[];
  /** vmap rule: batched outputs and where their batch axes are; `axisSize` is the batch size. */
  batch?(args: Tensor[], dims: BatchDim[], params: P, axisSize: number): [Tensor[], BatchDim[]];
  /**
   * Only elementwise primitives whose impl is `mapN(expr, args, outDtype)`: that expression (in
   * x0, x1, ...), so that jit can fuse chains of them into one loop with the same arithmetic.
   */
  elementwiseExpr?(params: P, outDtype: DType, inDtypes: readonly DType[]): string;
  /** Linear in the inputs it is differentiated with respect to: it must have a `transpose`. Default false. */
  linear?: boolean;
  /**
   * False when the derivative is zero wherever it is defined (bool or integer results, piecewise
   * constant functions, stop_gradient): the jvp rule is then supplied, giving Zero tangents, and
   * the derivative tests do not ask for a finite-difference case. Default true.
   */
  differentiable?: boolean;
  /** FLOPs of one application, from the abstract inputs, outputs and params. Default: one per output element. */
  cost?(ins: readonly ShapedArray[], outs: readonly ShapedArray[], params: P): Cost;
  /**
   * The seed chapter's notation for an equation (`ln v-1`, `v-1 * v0`), given its operands as
   * written; null (or no rule) keeps JAX's spelling `name[params] operands`.
   */
  notation?(operands: string[], params: P, ins: readonly ShapedArray[]): string | null;
  /**
   * Only the primitives of functions with user-written derivative rules: `bind` hands them to the
   * trace's `processCustomJvpCall` / `processCustomVjpCall` instead of `processPrimitive`.
   */
  customCall?: "jvp" | "vjp";
  /**
   * Sparsity detection (`jacobian(f, { sparsity: "auto" })`): from the index sets of the inputs
   * (per flat element, the sorted positions of f's inputs it depends on), those of the outputs.
   * Helpers in interpreters/sparsity.ts. Absent: every output element depends on every element of
   * every input (conservative, always correct); `differentiable: false` outputs depend on nothing.
   */
  sparsity?(deps: IndexSets[], ins: readonly ShapedArray[], outs: readonly ShapedArray[], params: P): IndexSets[];
  /**
   * Has an effect beyond its outputs (debug callbacks): dead-code elimination keeps its equations
   * even when nothing reads their outputs.
   */
  effectful?: boolean;
  /**
   * Taylor mode (`jet`): from the primal inputs and, per input, its Taylor coefficients x_k / k!
   * for k = 1..K (null for an input that is constant), the primal outputs and theirs (null: all
   * zero). Absent: primitives/jet-rules.ts supplies the rule, or `jet` names the primitive and fails.
   */
  jet?(primals: Tensor[], series: (Tensor[] | null)[], params: P): [Tensor[], (Tensor[] | null)[]];
  /** Its ONNX lowering (`exportOnnx`, jit's "onnxruntime" backend); without one, export names the primitive and fails. */
  onnx?: OnnxRule<P>;
}

export interface Primitive<P extends Params = Params> extends Omit<PrimitiveRules<P>, "linear" | "differentiable" | "cost"> {
  readonly name: string;
  readonly linear: boolean;
  readonly differentiable: boolean;
  cost(ins: readonly ShapedArray[], outs: readonly ShapedArray[], params: P): Cost;
}

export const allPrimitives: Primitive<any>[] = [];

/** One FLOP per output element, none transcendental: the cost of a primitive that declares none. */
export function elementwiseCost(_ins: readonly ShapedArray[], outs: readonly ShapedArray[]): Cost {
  let flops = 0;
  for (const o of outs) flops += o.size;
  return { flops, transcendentals: 0 };
}

/** The equation shape `eqnsCost` needs (an ir `Eqn` has it); structural, so core does not import ir. */
export interface CostedEqn {
  readonly primitive: Primitive<any>;
  readonly inputs: readonly { readonly aval: ShapedArray }[];
  readonly outBinders: readonly { readonly aval: ShapedArray }[];
  readonly params: Params;
}

/** Arithmetic of a sequence of equations (a jaxpr's): what control flow counts for its inner jaxprs. */
export function eqnsCost(eqns: Iterable<CostedEqn>): Cost {
  const total = { flops: 0, transcendentals: 0 };
  for (const e of eqns) {
    const c = e.primitive.cost(e.inputs.map((x) => x.aval), e.outBinders.map((v) => v.aval), e.params);
    total.flops += c.flops;
    total.transcendentals += c.transcendentals;
  }
  return total;
}

/**
 * Declares a primitive once, with every rule and fact it has, and registers it in `allPrimitives`.
 * `rules` receives the primitive itself, for rules that bind it again.
 */
export function definePrimitive<P extends Params>(name: string, rules: (self: Primitive<P>) => PrimitiveRules<P>): Primitive<P> {
  const prim = { name } as { -readonly [K in keyof Primitive<P>]: Primitive<P>[K] };
  const { linear = false, differentiable = true, cost = elementwiseCost, ...rest } = rules(prim as Primitive<P>);
  Object.assign(prim, rest, { linear, differentiable, cost });
  if (!differentiable) {
    if (rest.jvp !== undefined) throw new InternalError(`${name}: a primitive declared not differentiable gets its jvp rule supplied; do not declare one`);
    prim.jvp = (primals, _tangents, params) => {
      const outs = bind(prim as Primitive<P>, primals, params);
      return [outs, outs.map((o) => new Zero(o.aval.strong()))];
    };
  }
  if (linear && rest.transpose === undefined) throw new InternalError(`${name}: a primitive declared linear must have a transpose rule`);
  allPrimitives.push(prim as Primitive<P>);
  return prim as Primitive<P>;
}
