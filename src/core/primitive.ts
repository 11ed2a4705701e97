import type { ShapedArray } from "./shaped-array.js";
import type { Tensor } from "./tensor.js";
import type { Arr } from "../backend/ndarray-view.js";
import type { DType } from "./dtype.js";

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
export type BatchDim = number | null;

export interface PrimitiveRules<P extends Params> {
  /** Evaluates on concrete buffers; `outAvals` come from `abstractEval`. */
  impl(args: Arr[], params: P, outAvals: ShapedArray[]): Arr[];
  /** Output shapes and dtypes; throws ShapeError/DTypeError for inputs the primitive rejects. */
  abstractEval(avals: ShapedArray[], params: P): ShapedArray[];
  /** Forward-mode rule: primal outputs and their tangents (some tangents may be Zero). */
  jvp?(primals: Tensor[], tangents: Tangent[], params: P): [Tensor[], Tangent[]];
  /** Only linear primitives: cotangents of the linear (UndefPrimal) inputs, null for the others. */
  transpose?(cts: Tangent[], args: (Tensor | UndefPrimal)[], params: P): (Tangent | null)[];
  /** vmap rule: batched outputs and where their batch axes are. */
  batch?(args: Tensor[], dims: BatchDim[], params: P): [Tensor[], BatchDim[]];
  /**
   * Only elementwise primitives whose impl is `mapN(expr, args, outDtype)`: that expression (in
   * x0, x1, ...), so that jit can fuse chains of them into one loop with the same arithmetic.
   */
  elementwiseExpr?(params: P, outDtype: DType): string;
}

export interface Primitive<P extends Params = Params> extends PrimitiveRules<P> {
  readonly name: string;
}

export const allPrimitives: Primitive<any>[] = [];

/** Declares a primitive once, with every rule it has, and registers it in `allPrimitives`. */
export function definePrimitive<P extends Params>(name: string, rules: (self: Primitive<P>) => PrimitiveRules<P>): Primitive<P> {
  const prim = { name } as Primitive<P>;
  Object.assign(prim, rules(prim));
  allPrimitives.push(prim);
  return prim;
}
