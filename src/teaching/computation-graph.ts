import { isFloat } from "../core/dtype.js";
import { JacobiError } from "../core/errors.js";
import type { DotOptions } from "../ir/dot-export.js";
import { valueAndGrad } from "../transforms/autodiff.js";
import { type Fn, checkFn, inputLeaves, normArgnums } from "../transforms/common.js";
import { makeJaxpr } from "../transforms/make-jaxpr.js";

export interface ComputationGraphOptions {
  /** Draw the graph of the gradient computation (forward sweep and reverse sweep) instead of f's. */
  gradient?: boolean;
  /** With `gradient`: the arguments to differentiate; default every argument whose leaves are all floating-point. */
  argnums?: number | number[];
  /** The graph's name in the DOT source. */
  name?: string;
  /** Numbering of intermediates: the chapter's level order (default) or the jaxpr's program order. */
  order?: DotOptions["order"];
}

/**
 * Graphviz DOT of `f` at `args` (an array with one entry per argument): the forward computation
 * graph, or with `gradient: true` the graph that computes `[y, dy/dx…]` as reverse mode stages
 * it (the primal sweep, then the adjoint sweep pulling back from y). Inputs are named x1 … xn by
 * leaf, as in `traceTable`.
 */
export function computationGraph(f: Fn, args: unknown[], opts: ComputationGraphOptions = {}): string {
  checkFn(f, "computationGraph");
  if (!Array.isArray(args)) throw new JacobiError(`computationGraph: args must be an array with one entry per argument of the function, got ${typeof args}`);
  if (!opts.gradient) return makeJaxpr(f)(...args).toDot({ name: opts.name ?? "f", order: opts.order });

  const parts = args.map((a, i) => inputLeaves(a, `argument ${i}`)[0]);
  const argnums =
    opts.argnums === undefined
      ? args.map((_, i) => i).filter((i) => parts[i].length > 0 && parts[i].every((l) => isFloat(l.dtype)))
      : normArgnums(opts.argnums, args.length, "computationGraph");
  if (argnums.length === 0) throw new JacobiError("computationGraph: no floating-point argument to differentiate");
  // makeJaxpr numbers every leaf of every argument; the gradient outputs follow the leaves of argnums in order.
  const offsets: number[] = [];
  parts.reduce((at, p, i) => ((offsets[i] = at), at + p.length), 0);
  const outputNames = ["y", ...argnums.flatMap((i) => parts[i].map((_, k) => `dy/dx${offsets[i] + k + 1}`))];
  const closed = makeJaxpr(valueAndGrad(f, { argnums }))(...args);
  return closed.toDot({ name: opts.name ?? "grad_f", order: opts.order, outputNames });
}
