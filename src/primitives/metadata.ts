// Helpers for the facts a primitive declares besides its rules: its cost (for costAnalysis) and
// its notation in the seed chapter's tables.
import type { Cost, Params } from "../core/primitive.js";
import type { ShapedArray } from "../core/shaped-array.js";
import { formatParams } from "../ir/pprint.js";

const outputSize = (outs: readonly ShapedArray[]): number => outs.reduce((s, o) => s + o.size, 0);

/** A transcendental function per output element (sin, exp, log, sqrt, pow, ...). */
export function transcendentalCost(_ins: readonly ShapedArray[], outs: readonly ShapedArray[]): Cost {
  const n = outputSize(outs);
  return { flops: n, transcendentals: n };
}

/** Data movement (reshape, slice, gather, a dtype conversion): no arithmetic. */
export function movementCost(): Cost {
  return { flops: 0, transcendentals: 0 };
}

/** A reduction combines `in.size - out.size` pairs. */
export function reductionCost([x]: readonly ShapedArray[], outs: readonly ShapedArray[]): Cost {
  return { flops: x.size - outputSize(outs), transcendentals: 0 };
}

/** `a op b`, as `v-1 * v0`. */
export function infix(op: string): (operands: string[]) => string {
  return ([a, b]) => `${a} ${op} ${b}`;
}

/** `op a`, as `ln v-1`. */
export function prefix(op: string): (operands: string[]) => string {
  return ([a]) => `${op} ${a}`;
}

/** `fn(a, b, ...)`, as `max(v-1, v0)`. */
export function call(fn: string): (operands: string[]) => string {
  return (operands) => `${fn}(${operands.join(", ")})`;
}

/**
 * A reduction: `sum v2` when it reduces every axis (the common case), otherwise with its axes,
 * `sum[axes=(0,)] v2`.
 */
export function reduction(op: string): (operands: string[], params: Params & { axes: number[] }, ins: readonly ShapedArray[]) => string {
  return ([a], params, [x]) => `${op}${params.axes.length === x.ndim ? "" : formatParams(params)} ${a}`;
}
