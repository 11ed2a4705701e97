import { view } from "../backend/index.js";
import { fromArr } from "../core/convert.js";
import { type DType, allocate } from "../core/dtype.js";
import { JacobiError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";
import { type TreeDef, unflatten } from "../core/tree.js";
import { convertElementType } from "../primitives/elementwise.js";
import { moveBatchAxis } from "../primitives/batching.js";
import { reshape, slice } from "../primitives/shape.js";
import { instantiate } from "../primitives/util.js";
import { argsFlattener } from "./autodiff.js";
import { type ArgsAt, type Argnums, type Fn, type LooseTree, type Output, type TensorTree, type WithLeaves, checkFn, normArgnums, outputLeaves, requireFloat, Recorded } from "./common.js";
import { jvpFlat } from "../interpreters/jvp.js";
import { evalClosed as applyLinear } from "../interpreters/eval.js";
import { type Linearized, linearizeFlat } from "../interpreters/partial-eval.js";
import { pullback } from "../interpreters/transpose.js";
import { vmapFlat } from "../interpreters/batching.js";
import { type CsrMatrix, type SparsityPattern, sparseHessian, sparseJacobian } from "./sparse-jacobian.js";
import "../primitives/install-axis-ops.js";

export interface JacOptions<A extends Argnums = Argnums> {
  /** The argument(s) to differentiate: one position (negative counts from the end) or several. */
  argnums?: A;
}
export type JacMode = "auto" | "fwd" | "rev";

/**
 * The Jacobian's type for `f: (...args: P) => R`: the output's structure with, at each output
 * leaf, a block per differentiated input (the pytree type of `args[argnums]`, Tensor leaves).
 */
export type JacobianOf<P extends unknown[], R, A extends Argnums> = WithLeaves<R, TensorTree<ArgsAt<P, A>>>;
/** The Hessian's type: a Jacobian of the Jacobian, so the input structure nests twice under each output leaf. */
export type HessianOf<P extends unknown[], R, A extends Argnums> = WithLeaves<R, WithLeaves<TensorTree<ArgsAt<P, A>>, TensorTree<ArgsAt<P, A>>>>;

/**
 * The standard basis for leaves of `shapes`, as one batch per leaf: leaf j gets [N, ...shape_j],
 * whose row k is the k-th unit vector of the concatenated inputs restricted to leaf j.
 */
function basis(shapes: number[][], dtypes: DType[]): Tensor[] {
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const n = sizes.reduce((a, b) => a + b, 0);
  let at = 0;
  return shapes.map((s, j) => {
    const data = allocate(dtypes[j], n * sizes[j], [n, ...s]);
    for (let k = 0; k < sizes[j]; k++) data[(at + k) * sizes[j] + k] = 1;
    at += sizes[j];
    return fromArr(view(data, [n, ...s]), dtypes[j]);
  });
}

/**
 * Arranges batched results into Jacobian blocks. Each `batched[k]` has the basis axis first, which
 * is split per `basisShapes` leaf l into blocks[k][l]. Forward mode (`batchLast`: k an output, l
 * an input) moves the basis axes last; reverse mode (k an input, l an output) keeps them first.
 * Either way a block has shape out ++ in.
 */
function blocks(batched: Tensor[], basisShapes: number[][], batchLast: boolean): Tensor[][] {
  return batched.map((b) => {
    let at = 0;
    const rest = b.shape.slice(1);
    return basisShapes.map((s) => {
      const n = s.reduce((x, y) => x * y, 1);
      const start = b.shape.map((_, i) => (i === 0 ? at : 0));
      const limit = b.shape.map((d, i) => (i === 0 ? at + n : d));
      at += n;
      const part = slice(b, start, limit);
      if (batchLast) return reshape(moveBatchAxis(part, 0, part.ndim - 1), [...rest, ...s]);
      return reshape(part, [...s, ...rest]);
    });
  });
}

interface Setup {
  leaves: Tensor[];
  fFlat: (xs: Tensor[]) => Tensor[];
  outDef: () => TreeDef;
  assemble: (blk: Tensor[][]) => unknown;
}

function setup(f: Fn, argnums: Argnums, args: unknown[], transform: string): Setup {
  const nums = normArgnums(argnums, args.length, transform);
  const { leaves, rebuild, regroup } = argsFlattener(args, nums, transform);
  requireFloat(leaves, transform, nums.length === 1 ? `argument ${nums[0]}` : `arguments ${nums.join(", ")}`);
  const outDef = new Recorded<TreeDef>(`${transform}: the output structure`);
  const fFlat = (xs: Tensor[]): Tensor[] => {
    const [outs, def] = outputLeaves(f(...rebuild(xs)), transform);
    outDef.set(def);
    return outs;
  };
  const od = () => outDef.get();
  const assemble = (blk: Tensor[][]) => unflatten(od(), blk.map((row) => regroup(row, Array.isArray(argnums))));
  return { leaves, fFlat, outDef: od, assemble };
}

function forwardJacobian(s: Setup, lin?: Linearized): Tensor[][] {
  const shapes = s.leaves.map((l) => l.shape);
  const tangents = basis(shapes, s.leaves.map((l) => l.dtype));
  const push = lin
    ? (ts: Tensor[]) => applyLinear(lin.lin, ts)
    : (ts: Tensor[]) => jvpFlat(s.fFlat, s.leaves, ts, "jacfwd")[1].map(instantiate);
  const cols = vmapFlat(push, tangents, tangents.map(() => 0), () => 0);
  return blocks(cols, shapes, true);
}

function reverseJacobian(s: Setup, lin: Linearized): Tensor[][] {
  const outs = lin.primalsOut;
  const outShapes = outs.map((o) => o.shape);
  const cts = basis(outShapes, outs.map((o) => o.dtype));
  const rows = vmapFlat((c) => pullback(lin.lin, c), cts, cts.map(() => 0), () => 0);
  // rows[j]: [M, ...in_j]; split M per output leaf -> block[j][i] of shape out_i ++ in_j.
  const perIn = blocks(rows, outShapes, false);
  return outs.map((_, i) => s.leaves.map((l, j) => convertElementType(perIn[j][i], l.dtype)));
}

/** Jacobian by forward mode: one batched JVP over the input basis (columns). */
export function jacfwd<P extends any[], R extends Output, const A extends Argnums = 0>(f: (...args: P) => R, opts?: JacOptions<A>): (...args: LooseTree<P>) => JacobianOf<P, R, A>;
export function jacfwd(f: Fn, opts: JacOptions = {}): (...args: unknown[]) => unknown {
  return jacfwdOf(f, opts);
}

function jacfwdOf(f: Fn, opts: JacOptions): (...args: unknown[]) => unknown {
  checkFn(f, "jacfwd");
  return (...args: unknown[]): unknown => {
    const s = setup(f, opts.argnums ?? 0, args, "jacfwd");
    const blk = forwardJacobian(s);
    return s.assemble(blk);
  };
}

/** Jacobian by reverse mode: one linearization, then one batched VJP over the output basis (rows). */
export function jacrev<P extends any[], R extends Output, const A extends Argnums = 0>(f: (...args: P) => R, opts?: JacOptions<A>): (...args: LooseTree<P>) => JacobianOf<P, R, A>;
export function jacrev(f: Fn, opts: JacOptions = {}): (...args: unknown[]) => unknown {
  return jacrevOf(f, opts);
}

function jacrevOf(f: Fn, opts: JacOptions): (...args: unknown[]) => unknown {
  checkFn(f, "jacrev");
  return (...args: unknown[]): unknown => {
    const s = setup(f, opts.argnums ?? 0, args, "jacrev");
    const lin = linearizeFlat(s.fFlat, s.leaves, "jacrev");
    return s.assemble(reverseJacobian(s, lin));
  };
}

/** Chooses the mode by the seed chapter's rule: forward when there are fewer inputs than outputs. */
export function chooseMode(nIn: number, nOut: number): "fwd" | "rev" {
  return nIn < nOut ? "fwd" : "rev";
}

/** Output sizes seen by `jacobian` in auto mode, per function and input signature. */
const outSizes = new WeakMap<Fn, Map<string, number>>();

/** Jacobian with `mode: "auto"` choosing forward or reverse by the Jacobian's shape. */
export function jacobian<P extends any[], R extends Output, const A extends Argnums = 0>(
  f: (...args: P) => R,
  opts?: JacOptions<A> & { mode?: JacMode; sparsity?: undefined; format?: "dense" },
): (...args: LooseTree<P>) => JacobianOf<P, R, A>;
/** With `sparsity`: one pass per color of the pattern (transforms/sparse-jacobian.ts); `format: "csr"` gives a CsrMatrix. */
export function jacobian<P extends any[], R extends Output, const A extends Argnums = 0>(
  f: (...args: P) => R,
  opts: JacOptions<A> & { mode?: JacMode; sparsity: "auto" | SparsityPattern; format?: "dense" },
): (...args: LooseTree<P>) => JacobianOf<P, R, A>;
export function jacobian<P extends any[]>(f: (...args: P) => Output, opts: JacOptions & { mode?: JacMode; sparsity?: "auto" | SparsityPattern; format: "csr" }): (...args: LooseTree<P>) => CsrMatrix;
export function jacobian(f: Fn, opts: JacOptions & { mode?: JacMode; sparsity?: "auto" | SparsityPattern; format?: "dense" | "csr" } = {}): (...args: unknown[]) => unknown {
  if (opts.sparsity !== undefined || opts.format !== undefined) return sparseJacobian(f, { ...opts, sparsity: opts.sparsity ?? "auto" });
  checkFn(f, "jacobian");
  const mode = opts.mode ?? "auto";
  if (!["auto", "fwd", "rev"].includes(mode)) throw new JacobiError(`jacobian: mode must be "auto", "fwd" or "rev", got ${JSON.stringify(mode)}`);
  if (mode === "fwd") return jacfwdOf(f, opts);
  if (mode === "rev") return jacrevOf(f, opts);
  return (...args: unknown[]): unknown => {
    const s = setup(f, opts.argnums ?? 0, args, "jacobian");
    const nIn = s.leaves.reduce((a, l) => a + l.size, 0);
    // The output size is only known after running f. The first call with these input shapes
    // linearizes (which serves both modes) and remembers it; later calls pick the mode up front,
    // so forward mode runs as a plain batched JVP with nothing staged. A stale size (an output
    // shape that depends on input values) only costs speed: both modes give the same numbers.
    const sizes = outSizes.get(f) ?? new Map<string, number>();
    outSizes.set(f, sizes);
    const key = JSON.stringify([opts.argnums ?? 0, s.leaves.map((l) => [l.shape, l.dtype])]);
    const known = sizes.get(key);
    if (known !== undefined && chooseMode(nIn, known) === "fwd") return s.assemble(forwardJacobian(s));
    const lin = linearizeFlat(s.fFlat, s.leaves, "jacobian");
    const nOut = lin.primalsOut.reduce((a, o) => a + o.size, 0);
    sizes.set(key, nOut);
    const blk = chooseMode(nIn, nOut) === "fwd" ? forwardJacobian(s, lin) : reverseJacobian(s, lin);
    return s.assemble(blk);
  };
}

/** Second derivatives: jacfwd of jacrev. */
export function hessian<P extends any[], R extends Output, const A extends Argnums = 0>(f: (...args: P) => R, opts?: JacOptions<A> & { sparsity?: "auto" | SparsityPattern; format?: "dense" }): (...args: LooseTree<P>) => HessianOf<P, R, A>;
export function hessian<P extends any[]>(f: (...args: P) => Output, opts: JacOptions & { sparsity?: "auto" | SparsityPattern; format: "csr" }): (...args: LooseTree<P>) => CsrMatrix;
export function hessian(f: Fn, opts: JacOptions & { sparsity?: "auto" | SparsityPattern; format?: "dense" | "csr" } = {}): (...args: unknown[]) => unknown {
  if (opts.sparsity !== undefined || opts.format !== undefined) return sparseHessian(f, { ...opts, sparsity: opts.sparsity ?? "auto" });
  checkFn(f, "hessian");
  const h = jacfwdOf(jacrevOf(f, opts), opts);
  // Checked first so that a bad argnums names hessian rather than the jacfwd it is built from.
  return (...args: unknown[]): unknown => (normArgnums(opts.argnums ?? 0, args.length, "hessian"), h(...args));
}
