import { escapedTracerError } from "./errors.js";
import type { Params, Primitive } from "./primitive.js";
import { ArrayTensor, Tensor, Tracer } from "./tensor.js";
import type { ShapedArray } from "./shaped-array.js";
import type { Arr } from "../backend/index.js";

/**
 * What a level of the trace stack does with what is applied to its tracers. Ordinary primitives go
 * to `processPrimitive`; calls carrying user-written derivative rules go to their own methods, so
 * that each kind of trace (eval, jvp, batch, staging) decides what a custom rule means to it, and
 * adding a trace never edits the custom-rule code (JAX's `process_custom_jvp_call`).
 */
export interface Trace {
  /** True when this trace records equations rather than computing values (jaxpr staging). */
  readonly staging: boolean;
  processPrimitive(prim: Primitive<any>, args: Tensor[], params: Params): Tensor[];
  processCustomJvpCall(prim: Primitive<any>, args: Tensor[], params: CustomCallParams): Tensor[];
  processCustomVjpCall(prim: Primitive<any>, args: Tensor[], params: CustomCallParams): Tensor[];
}

/** What every custom call carries: the function itself, on all its inputs (closed-over values first). */
export interface CustomCallParams extends Params {
  fun: { readonly value: (xs: Tensor[]) => Tensor[] };
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
 * Runs `body` with a new level on top of the trace stack, giving it the level's trace. The level is
 * popped and invalidated on every exit path, so an exception in user code leaves no trace state
 * behind.
 */
export function withMain<T extends Trace, R>(transform: string, makeTrace: (main: MainTrace) => T, body: (trace: T, main: MainTrace) => R): R {
  const main = new MainTrace(stack.length + 1, transform);
  const trace = makeTrace(main);
  main.trace = trace;
  stack.push(main);
  try {
    return body(trace, main);
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

/** The innermost live level among `xs`, or null when every one of them is concrete. */
export function topMain(xs: readonly Tensor[]): MainTrace | null {
  let top: MainTrace | null = null;
  for (const x of xs) {
    if (x instanceof Tracer) {
      checkLive(x);
      if (top === null || x.main.level > top.level) top = x.main;
    }
  }
  return top;
}

/** Applies a primitive to concrete values: its abstract evaluation, then its impl on the buffers. */
function evalPrimitive(prim: Primitive<any>, args: Tensor[], params: Params): Tensor[] {
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

/** The bottom of the stack: concrete values, computed now. A custom call just runs its function. */
export const evalTrace: Trace = {
  staging: false,
  processPrimitive: evalPrimitive,
  processCustomJvpCall: (_prim, args, params) => params.fun.value(args),
  processCustomVjpCall: (_prim, args, params) => params.fun.value(args),
};

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
  const call = prim.customCall;
  if (call !== undefined) {
    const trace = top === null ? evalTrace : top.trace;
    return call === "jvp" ? trace.processCustomJvpCall(prim, args, params as CustomCallParams) : trace.processCustomVjpCall(prim, args, params as CustomCallParams);
  }
  if (top === null) return evalPrimitive(prim, args, params);
  return top.trace.processPrimitive(prim, args, params);
}

export function bind1(prim: Primitive<any>, args: Tensor[], params: Params = NO_PARAMS): Tensor {
  return bind(prim, args, params)[0];
}
