import { EscapedTracerError, fmtShape } from "./errors.js";
import type { Params, Primitive } from "./primitive.js";
import { ArrayTensor, Tensor, Tracer } from "./tensor.js";

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
    throw new EscapedTracerError(
      `a tracer of shape ${fmtShape(t.aval.shape)} and dtype ${t.aval.dtype} from ${t.main.transform} was used after ` +
        `that transformation ended (it escaped, e.g. stored in an outer variable); return it from the function instead`,
    );
  }
}

/** Applies a primitive: the innermost trace among the arguments decides what that means. */
export function bind(prim: Primitive<any>, args: Tensor[], params: Params = {}): Tensor[] {
  let top: MainTrace | null = null;
  for (const a of args) {
    if (a instanceof Tracer) {
      checkLive(a);
      if (top === null || a.main.level > top.level) top = a.main;
    }
  }
  if (top === null) {
    const avals = prim.abstractEval(args.map((a) => a.aval), params);
    const outs = prim.impl(args.map((a) => (a as ArrayTensor).arr), params, avals);
    return outs.map((o, i) => new ArrayTensor(o, avals[i]));
  }
  return top.trace.processPrimitive(prim, args, params);
}

export function bind1(prim: Primitive<any>, args: Tensor[], params: Params = {}): Tensor {
  return bind(prim, args, params)[0];
}
