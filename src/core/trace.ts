import { escapedTracerError } from "./errors.js";
import type { Params, Primitive } from "./primitive.js";
import { ArrayTensor, Tensor, Tracer } from "./tensor.js";
import type { ShapedArray } from "./shaped-array.js";
import type { Arr } from "../backend/ndarray-view.js";

/** What a level of the trace stack does with a primitive applied to its tracers. */
export interface Trace {
  processPrimitive(prim: Primitive<any>, args: Tensor[], params: Params): Tensor[];
}

/** One level of the trace stack; `valid` turns false when its transformation ends. */
export class MainTrace {
  valid = true;
  trace!: Trace;
  constructor(
    readonly level: number,
    readonly transform: string,
  ) {}
}

const stack: MainTrace[] = [];

export function traceDepth(): number {
  return stack.length;
}

/**
 * Runs `body` with a new level on top of the trace stack. The level is popped and invalidated on
 * every exit path, so an exception in user code leaves no trace state behind.
 */
export function withMain<R>(transform: string, makeTrace: (main: MainTrace) => Trace, body: (main: MainTrace) => R): R {
  const main = new MainTrace(stack.length + 1, transform);
  main.trace = makeTrace(main);
  stack.push(main);
  try {
    return body(main);
  } finally {
    main.valid = false;
    const i = stack.lastIndexOf(main);
    if (i >= 0) stack.splice(i);
  }
}

export function checkLive(t: Tracer): void {
  if (!t.main.valid) {
    throw escapedTracerError(t.aval.shape, t.aval.dtype, t.main.transform);
  }
}

/** Checks the outputs of a transformed function, which reach the transformation without a bind. */
export function checkOutputsLive(outs: readonly Tensor[]): void {
  for (const o of outs) if (o instanceof Tracer) checkLive(o);
}

// Shared by every parameterless equation (a long chain would otherwise keep one `{}` per
// equation alive); frozen so that a rule writing to it fails loudly instead of corrupting others.
const NO_PARAMS: Params = Object.freeze({});

/** Applies a primitive: the innermost trace among the arguments decides what that means. */
export function bind(prim: Primitive<any>, args: Tensor[], params: Params = NO_PARAMS): Tensor[] {
  let top: MainTrace | null = null;
  for (const a of args) {
    if (a instanceof Tracer) {
      checkLive(a);
      if (top === null || a.main.level > top.level) top = a.main;
    }
  }
  if (top === null) {
    // Plain loops, not map with closures: this runs once per operation, and in a long chain the
    // garbage from it was a large share of the time.
    const n = args.length;
    const inAvals = new Array<ShapedArray>(n);
    const arrs = new Array<Arr>(n);
    for (let i = 0; i < n; i++) {
      inAvals[i] = args[i].aval;
      arrs[i] = (args[i] as ArrayTensor).arr;
    }
    const avals = prim.abstractEval(inAvals, params);
    const outs = prim.impl(arrs, params, avals);
    const res = new Array<Tensor>(outs.length);
    for (let i = 0; i < outs.length; i++) res[i] = new ArrayTensor(outs[i], avals[i]);
    return res;
  }
  return top.trace.processPrimitive(prim, args, params);
}

export function bind1(prim: Primitive<any>, args: Tensor[], params: Params = NO_PARAMS): Tensor {
  return bind(prim, args, params)[0];
}
