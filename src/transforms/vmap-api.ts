import { JacobiError, ShapeError, fmtShape, TreeError } from "../core/errors.js";
import type { BatchDim } from "../core/primitive.js";
import type { Tensor } from "../core/tensor.js";
import { type TreeDef, unflatten } from "../core/tree.js";
import { type Fn, type LooseTree, type Output, type TensorTree, checkFn, inputLeaves, outputLeaves, Recorded } from "./common.js";
import { type AxisSpec, axisSpec, checkOptions, numberWhere } from "../core/validate.js";
import { vmapFlat } from "../interpreters/batching.js";
import "../primitives/install-axis-ops.js";

export type { AxisSpec };
export interface VmapOptions {
  inAxes?: AxisSpec;
  outAxes?: AxisSpec;
  axisSize?: number;
}

/** Expands an axis spec (a prefix of the value's tree) into one axis per leaf. */
function broadcastSpec(spec: AxisSpec, def: TreeDef, where: string): BatchDim[] {
  if (spec === null || typeof spec === "number") return Array.from({ length: def.numLeaves }, () => spec);
  if (Array.isArray(spec)) {
    if (def.kind !== "array" || def.children.length !== spec.length) throw new TreeError(`vmap: ${where} is the list ${JSON.stringify(spec)}, which does not match the value's structure ${def}`);
    return spec.flatMap((s, i) => broadcastSpec(s, def.children[i], `${where}[${i}]`));
  }
  if (typeof spec === "object") {
    const keys = Object.keys(spec).sort();
    if (def.kind !== "object" || keys.join() !== def.keys.join()) throw new TreeError(`vmap: ${where} has keys ${keys.join(", ")}, which do not match the value's structure ${def}`);
    return keys.flatMap((k, i) => broadcastSpec(spec[k], def.children[i], `${where}.${k}`));
  }
  throw new JacobiError(`vmap: ${where} must be a number, null, or a pytree of them, got ${typeof spec}`);
}

/** Vectorizes `f` over a batch axis of its arguments. */
export function vmap<P extends any[], R extends Output>(f: (...args: P) => R, opts?: VmapOptions): (...args: LooseTree<P>) => TensorTree<R>;
export function vmap(f: Fn, opts: VmapOptions = {}): (...args: unknown[]) => unknown {
  checkFn(f, "vmap");
  // Every problem of the options (unknown keys, bad axis-spec leaves anywhere) at once.
  checkOptions("vmap", opts, { inAxes: axisSpec, outAxes: axisSpec, axisSize: numberWhere("a non-negative integer", (n) => Number.isInteger(n) && n >= 0) });
  // `null` is a real spec (not batched), so only `undefined` takes the default.
  const inAxes = opts.inAxes === undefined ? 0 : opts.inAxes;
  const outAxes = opts.outAxes === undefined ? 0 : opts.outAxes;
  return (...args: unknown[]): unknown => {
    if (Array.isArray(inAxes) && inAxes.length !== args.length) {
      throw new JacobiError(`vmap: inAxes has ${inAxes.length} entries but the function was called with ${args.length} arguments`);
    }
    const spec = Array.isArray(inAxes) ? inAxes : args.map(() => inAxes);
    // A JS function passed unbatched (inAxes null) is no array: f closes over it, as JAX passes
    // such a value through untouched.
    const fixed = args.map((a, i) => spec[i] === null && typeof a === "function");
    if (fixed.some(Boolean)) {
      const inner = (...rest: unknown[]) => {
        let k = 0;
        return f(...args.map((a, i) => (fixed[i] ? a : rest[k++])));
      };
      return vmap(inner, { ...opts, inAxes: spec.filter((_, i) => !fixed[i]) })(...args.filter((_, i) => !fixed[i]));
    }
    const [leaves, def] = inputLeaves(args, "vmap: argument");
    const axes = broadcastSpec(spec, def, "inAxes");
    const argOf: number[] = [];
    def.children.forEach((c, i) => {
      for (let k = 0; k < c.numLeaves; k++) argOf.push(i);
    });
    const norm = axes.map((a, i) => {
      if (a === null) return null;
      const nd = leaves[i].ndim;
      if (!Number.isInteger(a) || a < -nd || a >= nd) {
        throw new ShapeError(`vmap: inAxes ${a} is out of range for argument ${argOf[i]} of shape ${fmtShape(leaves[i].shape)}`);
      }
      return a < 0 ? a + nd : a;
    });
    // Checked here, where leaves still map to arguments, so the message names the user's arguments.
    const mapped = norm.flatMap((a, i) => (a === null ? [] : [{ i, a, n: leaves[i].shape[a] }]));
    const size = opts.axisSize ?? mapped[0]?.n;
    if (mapped.some((m) => m.n !== size)) {
      const where = (m: { i: number; a: number; n: number }) => {
        const leaf = def.children[argOf[m.i]].numLeaves > 1 ? ` (leaf ${m.i - argOf.indexOf(argOf[m.i])})` : "";
        return `argument ${argOf[m.i]}${leaf} has size ${m.n} along axis ${m.a} (shape ${fmtShape(leaves[m.i].shape)})`;
      };
      const lead = opts.axisSize === undefined ? "" : `axisSize is ${opts.axisSize}, but `;
      throw new ShapeError(`vmap: inconsistent sizes for the mapped axis: ${lead}${mapped.filter((m) => m.n !== size || (opts.axisSize === undefined && m === mapped[0])).map(where).join("; ")}`);
    }
    const outDef = new Recorded<TreeDef>("vmap: the output structure");
    let outSpec: BatchDim[] = [];
    const outs = vmapFlat(
      (xs: Tensor[]) => {
        const [o, d] = outputLeaves(f(...(unflatten(def, xs) as unknown[])), "vmap");
        outDef.set(d);
        outSpec = broadcastSpec(outAxes, d, "outAxes");
        return o;
      },
      leaves,
      norm,
      (i) => outSpec[i],
      opts.axisSize,
    );
    return unflatten(outDef.get(), outs);
  };
}
