import type { Tensor } from "../core/tensor.js";
import { unflatten } from "../core/tree.js";
import { checkOptions } from "../core/validate.js";
import { traceToJaxpr } from "../interpreters/staging.js";
import type { ClosedJaxpr } from "../ir/jaxpr.js";
import { type Fn, type LooseTree, checkFn, inputLeaves, outputLeaves } from "./common.js";

/** Stages `f` on abstract values of the arguments' shapes and dtypes into a ClosedJaxpr. */
export function makeJaxpr<P extends any[]>(f: (...args: P) => unknown, opts?: Record<string, never>): (...args: LooseTree<P>) => ClosedJaxpr;
export function makeJaxpr(f: Fn, opts?: unknown): (...args: unknown[]) => ClosedJaxpr {
  checkFn(f, "makeJaxpr");
  // It takes no options: any is an error, never ignored.
  checkOptions("makeJaxpr", opts, {});
  return (...args: unknown[]): ClosedJaxpr => {
    const [leaves, def] = inputLeaves(args, "makeJaxpr: argument");
    return traceToJaxpr("makeJaxpr", leaves.map((l) => l.aval), (xs: Tensor[]) => outputLeaves(f(...(unflatten(def, xs) as unknown[])), "makeJaxpr")[0]);
  };
}
