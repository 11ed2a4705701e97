// Sparse Jacobians and Hessians: detect (or take) the sparsity pattern, color it, run one batched
// JVP or VJP per color instead of one per column or row, and read the nonzeros back out.
import { toFlatCopy, view } from "../backend/index.js";
import { fromArr, scalar } from "../core/convert.js";
import { type DType, allocate } from "../core/dtype.js";
import { ConcretizationError, DTypeError, JacobiError, ShapeError } from "../core/errors.js";
import { ArrayTensor, Tensor } from "../core/tensor.js";
import { type TreeDef, unflatten } from "../core/tree.js";
import { vmapFlat } from "../interpreters/batching.js";
import { jvpFlat } from "../interpreters/jvp.js";
import { linearizeFlat } from "../interpreters/partial-eval.js";
import { propagateSparsity } from "../interpreters/sparsity.js";
import { traceToJaxpr } from "../interpreters/staging.js";
import type { ClosedJaxpr } from "../ir/jaxpr.js";
import { pullback } from "../interpreters/transpose.js";
import { instantiate } from "../primitives/util.js";
import { flatDifferentiated } from "./autodiff.js";
import { type Coloring, type Pattern, colorColumns, colorRows, starColoring, transposePattern } from "./coloring.js";
import { type Argnums, type Fn, checkFn } from "./common.js";
import "../primitives/install-axis-ops.js";

/** A sparsity pattern given by the user: a bool Tensor or nested JS booleans of shape [m, n]. */
export type SparsityPattern = Tensor | readonly (readonly boolean[])[];

export interface SparseJacOptions {
  argnums?: Argnums;
  mode?: "auto" | "fwd" | "rev";
  /** "auto" detects the pattern from the staged function; a pattern must cover every nonzero. */
  sparsity: "auto" | SparsityPattern;
  /** "dense" (default): the Jacobian's usual structure; "csr": one [m, n] matrix over the flattened outputs and inputs. */
  format?: "dense" | "csr";
}

/** A sparse matrix in compressed sparse row form. */
export interface CsrMatrix {
  indptr: Int32Array;
  indices: Int32Array;
  values: Float64Array | Float32Array;
  shape: [number, number];
}

/** How a sparse derivative was computed: what `costAnalysis` reports for it. */
export interface SparseCost {
  /** Passes run: one batched JVP (forward) or VJP (reverse) lane per color. */
  colors: number;
  mode: "fwd" | "rev" | "star";
  /** Rows (outputs) and columns (inputs): a dense Jacobian would take n forward or m reverse passes. */
  m: number;
  n: number;
  nnz: number;
}

const KEYS = ["argnums", "mode", "sparsity", "format"];

function checkOptions(opts: SparseJacOptions, transform: string): void {
  for (const k of Object.keys(opts)) {
    if (!KEYS.includes(k) || (transform === "hessian" && k === "mode")) throw new JacobiError(`${transform}: unknown option ${JSON.stringify(k)}`);
  }
  if (!["dense", "csr", undefined].includes(opts.format)) throw new JacobiError(`${transform}: format must be "dense" or "csr", got ${JSON.stringify(opts.format)}`);
  if (!["auto", "fwd", "rev", undefined].includes(opts.mode)) throw new JacobiError(`${transform}: mode must be "auto", "fwd" or "rev", got ${JSON.stringify(opts.mode)}`);
  if (typeof opts.sparsity === "string" && opts.sparsity !== "auto") throw new JacobiError(`${transform}: sparsity must be "auto" or a pattern, got ${JSON.stringify(opts.sparsity)}`);
}

/** A user pattern as CSR, checked against the Jacobian's shape [m, n]. */
export function patternFrom(given: SparsityPattern, m: number, n: number, transform: string): Pattern {
  let rows: number;
  let cols: number;
  let at: (i: number, j: number) => boolean;
  if (given instanceof Tensor) {
    if (given.dtype !== "bool") throw new DTypeError(`${transform}: a sparsity pattern Tensor must be bool, got ${given.dtype}`);
    if (given.ndim !== 2 || !(given instanceof ArrayTensor)) throw new ShapeError(`${transform}: a sparsity pattern must be a concrete matrix [m, n], got shape [${given.shape.join(", ")}]`);
    [rows, cols] = given.shape;
    const flat = toFlatCopy(given.arr);
    at = (i, j) => flat[i * cols + j] !== 0;
  } else {
    if (!Array.isArray(given) || !given.every((r) => Array.isArray(r) && r.every((b) => typeof b === "boolean"))) {
      throw new JacobiError(`${transform}: a sparsity pattern must be a bool Tensor or nested arrays of booleans`);
    }
    rows = given.length;
    cols = rows === 0 ? n : given[0].length;
    if (!given.every((r) => r.length === cols)) throw new ShapeError(`${transform}: the rows of a sparsity pattern must all have the same length`);
    at = (i, j) => given[i][j];
  }
  if (rows !== m || cols !== n) throw new ShapeError(`${transform}: the sparsity pattern has shape [${rows}, ${cols}], but the Jacobian is [${m}, ${n}]`);
  const indptr = new Int32Array(m + 1);
  const indices: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) if (at(i, j)) indices.push(j);
    indptr[i + 1] = indices.length;
  }
  return { m, n, indptr, indices: Int32Array.from(indices) };
}

/** The detected pattern: rows are the flat outputs, columns the flat inputs. */
function patternOfSets(sets: Int32Array[], n: number): Pattern {
  const indptr = new Int32Array(sets.length + 1);
  let nnz = 0;
  for (let i = 0; i < sets.length; i++) indptr[i + 1] = nnz += sets[i].length;
  const indices = new Int32Array(nnz);
  sets.forEach((s, i) => indices.set(s, indptr[i]));
  return { m: sets.length, n, indptr, indices };
}

/** The seed matrix of a coloring, as one batch per leaf: leaf j gets [colors, ...shape_j]. */
function seeds(c: Coloring, shapes: number[][], dtypes: DType[]): Tensor[] {
  let at = 0;
  return shapes.map((s, j) => {
    const size = s.reduce((a, b) => a * b, 1);
    const data = allocate(dtypes[j], c.count * size, [c.count, ...s]);
    for (let k = 0; k < size; k++) data[c.colors[at + k] * size + k] = 1;
    at += size;
    return fromArr(view(data, [c.count, ...s]), dtypes[j]);
  });
}

/** Compressed results [colors, ...leaf] as one Float64Array [colors, total], leaves concatenated. */
function compressed(parts: Tensor[], count: number, transform: string): Float64Array {
  const total = parts.reduce((a, p) => a + p.size / Math.max(count, 1), 0);
  const out = new Float64Array(count * total);
  let at = 0;
  for (const p of parts) {
    if (!(p instanceof ArrayTensor)) throw new JacobiError(`${transform} with sparsity needs concrete values: it cannot run under jit or vmap`);
    const w = p.size / Math.max(count, 1);
    const flat = toFlatCopy(p.arr);
    for (let c = 0; c < count; c++) for (let k = 0; k < w; k++) out[c * total + at + k] = flat[c * w + k];
    at += w;
  }
  return out;
}

interface Flat {
  leaves: Tensor[];
  fFlat: (xs: Tensor[]) => Tensor[];
  outDef: () => TreeDef;
  regroup: (xs: unknown[], asArray: boolean) => unknown;
  asArray: boolean;
}

function flatten(f: Fn, argnums: Argnums, args: unknown[], transform: string): Flat {
  const { leaves, fFlat, outTree, regroup, asArray } = flatDifferentiated(f, argnums, args, transform);
  return { leaves, fFlat, outDef: outTree, regroup, asArray };
}

/** The values of `p`'s nonzeros in CSR order, each read by `read(row, col)`. */
function csrOf(p: Pattern, dtype: DType, read: (i: number, j: number) => number): CsrMatrix {
  const values = dtype === "float32" ? new Float32Array(p.indices.length) : new Float64Array(p.indices.length);
  for (let i = 0; i < p.m; i++) for (let k = p.indptr[i]; k < p.indptr[i + 1]; k++) values[k] = read(i, p.indices[k]);
  return { indptr: p.indptr, indices: p.indices, values, shape: [p.m, p.n] };
}

/** The [m, n] CSR matrix cut into dense blocks: rows per `rowShapes` leaf, columns per `colShapes` leaf. */
function denseBlocks(csr: CsrMatrix, rowShapes: number[][], colShapes: number[][], dtype: DType): Tensor[][] {
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const colStart: number[] = [];
  let c0 = 0;
  for (const s of colShapes) colStart.push(c0), (c0 += size(s));
  let r0 = 0;
  return rowShapes.map((rs) => {
    const rn = size(rs);
    const row = colShapes.map((cs, j) => {
      const cn = size(cs);
      const data = allocate(dtype, rn * cn, [...rs, ...cs]);
      for (let i = 0; i < rn; i++) {
        for (let k = csr.indptr[r0 + i]; k < csr.indptr[r0 + i + 1]; k++) {
          const col = csr.indices[k] - colStart[j];
          if (col >= 0 && col < cn) data[i * cn + col] = csr.values[k];
        }
      }
      return fromArr(view(data, [...rs, ...cs]), dtype);
    });
    r0 += rn;
    return row;
  });
}

const sizeOfLeaves = (ts: readonly { size: number }[]): number => ts.reduce((a, t) => a + t.size, 0);

/** The last sparse derivative computed, for `costAnalysis`. */
export let lastSparseCost: SparseCost | null = null;

/**
 * `jacobian(f, { sparsity })`: the Jacobian with one batched pass per color of its column
 * (forward) or row (reverse) intersection graph; `mode: "auto"` takes the fewer colors.
 */
export function sparseJacobian(f: Fn, opts: SparseJacOptions): (...args: unknown[]) => unknown {
  checkFn(f, "jacobian");
  checkOptions(opts, "jacobian");
  return (...args: unknown[]): unknown => {
    const s = flatten(f, opts.argnums ?? 0, args, "jacobian");
    const n = sizeOfLeaves(s.leaves);
    const closed = traceToJaxpr("jacobian (sparsity)", s.leaves.map((l) => l.aval), s.fFlat);
    const outAvals = closed.jaxpr.outs.map((o) => o.aval);
    const m = sizeOfLeaves(outAvals);
    const pattern = opts.sparsity === "auto" ? patternOfSets(propagateSparsity(closed).flat(), n) : patternFrom(opts.sparsity, m, n, "jacobian");
    const mode = opts.mode ?? "auto";
    const cols = mode === "rev" ? null : colorColumns(pattern);
    const rows = mode === "fwd" ? null : colorRows(pattern);
    const forward = rows === null || (cols !== null && cols.count <= rows.count);
    const dtype = s.leaves[0]?.dtype ?? "float64";
    let csr: CsrMatrix;
    if (forward) {
      const c = cols as Coloring;
      const tangents = seeds(c, s.leaves.map((l) => l.shape), s.leaves.map((l) => l.dtype));
      const push = (ts: Tensor[]) => jvpFlat(s.fFlat, s.leaves, ts, "jacobian")[1].map(instantiate);
      const b = compressed(c.count === 0 ? [] : vmapFlat(push, tangents, tangents.map(() => 0), () => 0), c.count, "jacobian");
      // b is [colors, m]: entry (i, j) of J sits at (color of j, i).
      csr = csrOf(pattern, dtype, (i, j) => b[c.colors[j] * m + i]);
    } else {
      const c = rows as Coloring;
      const lin = linearizeFlat(s.fFlat, s.leaves, "jacobian");
      const cts = seeds(c, outAvals.map((o) => [...o.shape]), outAvals.map((o) => o.dtype));
      const pulled = c.count === 0 ? [] : vmapFlat((ct) => pullback(lin.lin, ct), cts, cts.map(() => 0), () => 0);
      const b = compressed(pulled, c.count, "jacobian");
      csr = csrOf(pattern, dtype, (i, j) => b[c.colors[i] * n + j]);
    }
    lastSparseCost = { colors: (forward ? cols : rows)!.count, mode: forward ? "fwd" : "rev", m, n, nnz: pattern.indices.length };
    if (opts.format === "csr") return csr;
    const blk = denseBlocks(csr, outAvals.map((o) => [...o.shape]), s.leaves.map((l) => l.shape), dtype);
    return unflatten(s.outDef(), blk.map((row) => s.regroup(row, s.asArray)));
  };
}

/** The pattern made symmetric (a Hessian's is; detection may see only one triangle) with its diagonal. */
function symmetric(p: Pattern): Pattern {
  const t = transposePattern(p);
  const sets: Int32Array[] = [];
  for (let i = 0; i < p.n; i++) {
    const s = new Set<number>([i]);
    for (let k = p.indptr[i]; k < p.indptr[i + 1]; k++) s.add(p.indices[k]);
    for (let k = t.indptr[i]; k < t.indptr[i + 1]; k++) s.add(t.indices[k]);
    sets.push(Int32Array.from(s).sort());
  }
  return patternOfSets(sets, p.n);
}

/**
 * `hessian(f, { sparsity })` of a scalar f: the gradient's Jacobian pattern, star-colored, one
 * forward-over-reverse pass per color, each nonzero read where it stands alone in its row's color.
 */
export function sparseHessian(f: Fn, opts: Omit<SparseJacOptions, "mode">): (...args: unknown[]) => unknown {
  checkFn(f, "hessian");
  checkOptions(opts, "hessian");
  return (...args: unknown[]): unknown => {
    const s = flatten(f, opts.argnums ?? 0, args, "hessian");
    const n = sizeOfLeaves(s.leaves);
    const gFlat = (xs: Tensor[]): Tensor[] => {
      const lin = linearizeFlat(s.fFlat, xs, "hessian");
      const outs = lin.primalsOut;
      if (outs.length !== 1 || outs[0].size !== 1) throw new ShapeError(`hessian with sparsity: the function must return one scalar, got ${outs.length} outputs`);
      return pullback(lin.lin, [scalar(1, outs[0].dtype)]);
    };
    const raw =
      opts.sparsity === "auto"
        ? patternOfSets(propagateSparsity(traceToJaxpr("hessian (sparsity)", s.leaves.map((l) => l.aval), gFlat)).flat(), n)
        : patternFrom(opts.sparsity, n, n, "hessian");
    const pattern = symmetric(raw);
    const c = starColoring(pattern);
    const tangents = seeds(c, s.leaves.map((l) => l.shape), s.leaves.map((l) => l.dtype));
    const push = (ts: Tensor[]) => jvpFlat(gFlat, s.leaves, ts, "hessian")[1].map(instantiate);
    const b = compressed(c.count === 0 ? [] : vmapFlat(push, tangents, tangents.map(() => 0), () => 0), c.count, "hessian");
    // h_ij is (H S)[i, color j] when j is the only neighbor of i with its color; else h_ji by symmetry.
    const unique = (i: number, j: number): boolean => {
      for (let k = pattern.indptr[i]; k < pattern.indptr[i + 1]; k++) {
        const q = pattern.indices[k];
        if (q !== j && c.colors[q] === c.colors[j]) return false;
      }
      return true;
    };
    const dtype = s.leaves[0]?.dtype ?? "float64";
    const csr = csrOf(pattern, dtype, (i, j) => (unique(i, j) ? b[c.colors[j] * n + i] : b[c.colors[i] * n + j]));
    lastSparseCost = { colors: c.count, mode: "star", m: n, n, nnz: pattern.indices.length };
    if (opts.format === "csr") return csr;
    const shapes = s.leaves.map((l) => l.shape);
    const blk = denseBlocks(csr, shapes, shapes, dtype);
    return unflatten(s.outDef(), [s.regroup(blk.map((row) => s.regroup(row, s.asArray)), s.asArray)]);
  };
}

/**
 * Passes a sparse Jacobian of `fFlat` would take: colors of the detected pattern's columns
 * (forward) and rows (reverse), against the n columns and m rows a dense one takes; null when
 * `f` cannot be staged (it branches on values).
 */
export function sparseColorCounts(fFlat: (xs: Tensor[]) => Tensor[], leaves: readonly Tensor[]): { fwd: number; rev: number } | null {
  let closed: ClosedJaxpr;
  try {
    closed = traceToJaxpr("costAnalysis (sparsity)", leaves.map((l) => l.aval), fFlat);
  } catch (e) {
    // A function branching on values (x.item()) has no pattern valid at every point.
    if (e instanceof ConcretizationError) return null;
    throw e;
  }
  const pattern = patternOfSets(propagateSparsity(closed).flat(), sizeOfLeaves(leaves));
  return { fwd: colorColumns(pattern).count, rev: colorRows(pattern).count };
}
