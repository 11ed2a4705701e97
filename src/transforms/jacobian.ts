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
import { type AuxOf, type OutOf, auxParts, flatDifferentiated, withAux } from "./autodiff.js";
import * as E from "fp-ts/lib/Either.js";
import { type Validator, boolean, checkOptions, oneOf } from "../core/validate.js";
import { Zero } from "../core/primitive.js";
import { type ArgsAt, type Argnums, type Fn, type LooseTree, type Output, type TensorTree, type WithLeaves, checkFn, normArgnums } from "./common.js";
import { jvpFlat } from "../interpreters/jvp.js";
import { evalClosed as applyLinear } from "../interpreters/eval.js";
import { type Linearized, linearizeFlat } from "../interpreters/partial-eval.js";
import { pullback } from "../interpreters/transpose.js";
import { vmapFlat } from "../interpreters/batching.js";
import { type CsrMatrix, type SparsityPattern, sparseHessian, sparseJacobian } from "./sparse-jacobian.js";
import "../primitives/install-axis-ops.js";

export interface JacOptions<A extends Argnums = Argnums, H extends boolean = boolean> {
  /** The argument(s) to differentiate: one position (negative counts from the end) or several. */
  argnums?: A;
  /** `f` returns `[output, aux]`: the result is `[jacobian, aux]`, aux undifferentiated. */
  hasAux?: H;
}
// argnums is checked against the call's arguments (normArgnums); the sparse Jacobian checks its pattern.
const anyValue: Validator<unknown> = (v) => E.right(v);
const JAC_OPTIONS = { argnums: anyValue as Validator<Argnums>, hasAux: boolean };
const modeOption = oneOf<JacMode>("auto", "fwd", "rev");
/** What `f` may return: an output, or with `hasAux` a pair [output, aux]. */
export type JacOutput<H extends boolean> = H extends true ? readonly [Output, unknown] | readonly unknown[] : Output;
/** `f`'s output for the Jacobian: the first of the pair with `hasAux`. */
export type JacOut<R, H extends boolean> = H extends true ? OutOf<R> : R;
/** `[jac, aux]` with `hasAux`, else `jac`. */
export type WithAux<J, R, H extends boolean> = H extends true ? [J, TensorTree<AuxOf<R>>] : J;
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
  /** The Jacobian blocks of the output leaves (aux's dropped) in the output's structure, with aux's values when asked for. */
  assemble: (blk: Tensor[][], primalsOut?: Tensor[]) => unknown;
  /** How many of fFlat's outputs are the output's (the rest are aux's). */
  nOut: () => number;
}

function setup(f0: Fn, argnums: Argnums, args: unknown[], transform: string, hasAux = false): Setup {
  const f = withAux(f0, hasAux, transform);
  const { leaves, fFlat, outTree: od, regroup } = flatDifferentiated(f, argnums, args, transform);
  const nOut = () => auxParts(od(), hasAux).n;
  const assemble = (blk: Tensor[][], primalsOut?: Tensor[]) => {
    const { out, aux, n } = auxParts(od(), hasAux);
    const jac = unflatten(out, blk.slice(0, n).map((row) => regroup(row, Array.isArray(argnums))));
    return aux === null ? jac : [jac, unflatten(aux, (primalsOut as Tensor[]).slice(n))];
  };
  return { leaves, fFlat, outDef: od, assemble, nOut };
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
  const n = s.nOut();
  const outs = lin.primalsOut.slice(0, n);
  const auxZeros = lin.primalsOut.slice(n).map((p) => new Zero(p.aval));
  const outShapes = outs.map((o) => o.shape);
  const cts = basis(outShapes, outs.map((o) => o.dtype));
  const rows = vmapFlat((c) => pullback(lin.lin, [...c, ...auxZeros]), cts, cts.map(() => 0), () => 0);
  // rows[j]: [M, ...in_j]; split M per output leaf -> block[j][i] of shape out_i ++ in_j.
  const perIn = blocks(rows, outShapes, false);
  return outs.map((_, i) => s.leaves.map((l, j) => convertElementType(perIn[j][i], l.dtype)));
}

/** Jacobian by forward mode: one batched JVP over the input basis (columns). */
export function jacfwd<P extends any[], R extends JacOutput<H>, const A extends Argnums = 0, H extends boolean = false>(
  f: (...args: P) => R,
  opts?: JacOptions<A, H>,
): (...args: LooseTree<P>) => WithAux<JacobianOf<P, JacOut<R, H>, A>, R, H>;
export function jacfwd(f: Fn, opts: JacOptions = {}): (...args: unknown[]) => unknown {
  return jacfwdOf(f, opts);
}

function jacfwdOf(f: Fn, opts: JacOptions, name = "jacfwd"): (...args: unknown[]) => unknown {
  checkFn(f, name);
  const { argnums = 0, hasAux = false } = checkOptions(name, opts, JAC_OPTIONS);
  return (...args: unknown[]): unknown => {
    const s = setup(f, argnums, args, "jacfwd", hasAux);
    if (!hasAux) return s.assemble(forwardJacobian(s));
    // aux's values come from the primal outputs, which the batched JVP does not return.
    const lin = linearizeFlat(s.fFlat, s.leaves, "jacfwd");
    return s.assemble(forwardJacobian(s, lin), lin.primalsOut);
  };
}

/** Jacobian by reverse mode: one linearization, then one batched VJP over the output basis (rows). */
export function jacrev<P extends any[], R extends JacOutput<H>, const A extends Argnums = 0, H extends boolean = false>(
  f: (...args: P) => R,
  opts?: JacOptions<A, H>,
): (...args: LooseTree<P>) => WithAux<JacobianOf<P, JacOut<R, H>, A>, R, H>;
export function jacrev(f: Fn, opts: JacOptions = {}): (...args: unknown[]) => unknown {
  return jacrevOf(f, opts);
}

function jacrevOf(f: Fn, opts: JacOptions, name = "jacrev"): (...args: unknown[]) => unknown {
  checkFn(f, name);
  const { argnums = 0, hasAux = false } = checkOptions(name, opts, JAC_OPTIONS);
  return (...args: unknown[]): unknown => {
    const s = setup(f, argnums, args, "jacrev", hasAux);
    const lin = linearizeFlat(s.fFlat, s.leaves, "jacrev");
    return s.assemble(reverseJacobian(s, lin), lin.primalsOut);
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
  checkOptions("jacobian", opts, { ...JAC_OPTIONS, mode: modeOption, sparsity: anyValue, format: oneOf("dense", "csr") });
  if (opts.sparsity !== undefined || opts.format !== undefined) {
    if (opts.hasAux) throw new JacobiError("jacobian: hasAux is not supported with sparsity or format");
    return sparseJacobian(f, { ...opts, sparsity: opts.sparsity ?? "auto" });
  }
  checkFn(f, "jacobian");
  const mode = opts.mode ?? "auto";
  const dense = { argnums: opts.argnums, hasAux: opts.hasAux };
  if (mode === "fwd") return jacfwdOf(f, dense, "jacobian");
  if (mode === "rev") return jacrevOf(f, dense, "jacobian");
  if (opts.hasAux) return jacrevOf(f, dense, "jacobian");
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
export function hessian<P extends any[], R extends JacOutput<H>, const A extends Argnums = 0, H extends boolean = false>(
  f: (...args: P) => R,
  opts?: JacOptions<A, H> & { sparsity?: "auto" | SparsityPattern; format?: "dense" },
): (...args: LooseTree<P>) => WithAux<HessianOf<P, JacOut<R, H>, A>, R, H>;
export function hessian<P extends any[]>(f: (...args: P) => Output, opts: JacOptions & { sparsity?: "auto" | SparsityPattern; format: "csr" }): (...args: LooseTree<P>) => CsrMatrix;
export function hessian(f: Fn, opts: JacOptions & { sparsity?: "auto" | SparsityPattern; format?: "dense" | "csr" } = {}): (...args: unknown[]) => unknown {
  checkOptions("hessian", opts, { ...JAC_OPTIONS, sparsity: anyValue, format: oneOf("dense", "csr") });
  if (opts.sparsity !== undefined || opts.format !== undefined) {
    if (opts.hasAux) throw new JacobiError("hessian: hasAux is not supported with sparsity or format");
    return sparseHessian(f, { ...opts, sparsity: opts.sparsity ?? "auto" });
  }
  checkFn(f, "hessian");
  const dense = { argnums: opts.argnums, hasAux: opts.hasAux };
  const h = jacfwdOf(jacrevOf(f, dense, "hessian"), dense, "hessian");
  // Checked first so that a bad argnums names hessian rather than the jacfwd it is built from.
  return (...args: unknown[]): unknown => (normArgnums(opts.argnums ?? 0, args.length, "hessian"), h(...args));
}
