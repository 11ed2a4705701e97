import type { Tensor } from "../core/tensor.js";
import { unflatten } from "../core/tree.js";
import { traceToJaxpr } from "../interpreters/staging.js";
import type { ClosedJaxpr } from "../ir/jaxpr.js";
import { type Fn, type LooseTree, checkFn, inputLeaves, outputLeaves } from "./common.js";

/** Stages `f` on abstract values of the arguments' shapes and dtypes into a ClosedJaxpr. */
export function makeJaxpr<P extends any[]>(f: (...args: P) => unknown): (...args: LooseTree<P>) => ClosedJaxpr;
export function makeJaxpr(f: Fn): (...args: unknown[]) => ClosedJaxpr {
  checkFn(f, "makeJaxpr");
  return (...args: unknown[]): ClosedJaxpr => {
    const [leaves, def] = inputLeaves(args, "makeJaxpr: argument");
    return traceToJaxpr("makeJaxpr", leaves.map((l) => l.aval), (xs: Tensor[]) => outputLeaves(f(...(unflatten(def, xs) as unknown[])), "makeJaxpr")[0]);
  };
}
