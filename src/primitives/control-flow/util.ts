// Helpers shared by the control-flow primitives (cond, while, scan), whose parameters hold the
// jaxprs of their branches and bodies. Their rules transform those jaxprs with the interpreters'
// jvp/batch/transpose of a jaxpr and bind the primitive again, so control flow composes with every
// transformation. The jaxprs in params never close over tracers: lax passes every captured value
// as an operand.
import { type Arr, view } from "../../backend/index.js";
import { DTypeError, ShapeError, fmtShape } from "../../core/errors.js";
import { type ShapedArray, sameShape } from "../../core/shaped-array.js";
import type { Tensor } from "../../core/tensor.js";
import { checked } from "../../ir/check-jaxpr.js";
import { type Atom, ClosedJaxpr, Jaxpr, type Var } from "../../ir/jaxpr.js";
import { batchJaxpr as batchJaxprAt, batchedAvals } from "../../interpreters/batching.js";

export const inAvals = (c: ClosedJaxpr): ShapedArray[] => c.jaxpr.inBinders.map((v) => v.aval);
export const outAvals = (c: ClosedJaxpr): ShapedArray[] => c.jaxpr.outs.map((a) => a.aval);
export const pick = <T>(xs: readonly T[], idx: readonly number[]): T[] => idx.map((i) => xs[i]);
export const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
export const count = (xs: readonly boolean[]): number => xs.reduce((s, x) => s + (x ? 1 : 0), 0);
export const same = (a: readonly boolean[], b: readonly boolean[]): boolean => a.every((x, i) => x === b[i]);
export const arrOf = (t: Tensor): Arr => t.concrete() as Arr;

/** The same equations with other input binders (a permutation, or extra unused inputs) and outputs. */
export function rebind(c: ClosedJaxpr, ins: Var[], outs: Atom[] = c.jaxpr.outs): ClosedJaxpr {
  return checked(new ClosedJaxpr(new Jaxpr(c.jaxpr.constBinders, ins, c.jaxpr.eqns, outs), c.consts));
}

/**
 * A closed jaxpr batched along axis 0 of the inputs flagged in `inB`: outputs are batched at axis
 * 0 when they depend on the batch or are flagged in `force` (`outB` says which).
 */
export function batchJaxpr(c: ClosedJaxpr, inB: readonly boolean[], size: number, force: readonly boolean[]): { jaxpr: ClosedJaxpr; outB: boolean[] } {
  return batchJaxprAt(c, inB.map((b) => (b ? 0 : null)), batchedAvals(c, inB, size), size, force);
}

export function checkAvals(prim: string, what: string, got: readonly ShapedArray[], want: readonly ShapedArray[]): void {
  if (got.length !== want.length) throw new ShapeError(`${prim}: ${what}: expected ${want.length} values, got ${got.length}`);
  got.forEach((g, i) => {
    if (!sameShape(g.shape, want[i].shape)) throw new ShapeError(`${prim}: ${what} ${i} has shape ${fmtShape(g.shape)}, expected ${fmtShape(want[i].shape)}`);
    if (g.dtype !== want[i].dtype) throw new DTypeError(`${prim}: ${what} ${i} has dtype ${g.dtype}, expected ${want[i].dtype}`);
  });
}

/** One row of a stacked array (a view, no copy). */
export function indexView(a: Arr, t: number): Arr {
  return view(a.data, a.shape.slice(1), a.stride.slice(1), a.offset + t * a.stride[0]);
}
