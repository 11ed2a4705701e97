// einsum and the named contractions (issue 10 item 3). Every pairwise contraction is one
// dot_general (the matmul kernel); einsum picks the pairs greedily as opt_einsum's "greedy"
// strategy does: repeatedly the pair whose product removes the most elements.
import { ShapeError, fmtShape } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { dotGeneral } from "../primitives/dot.js";
import { convertElementType } from "../primitives/elementwise.js";
import * as shapeOps from "../primitives/shape.js";
import { toTensor, resultType } from "./promote.js";
import { reshape, transpose, slice, stack, flatten } from "./shape.js";
import { diagonal } from "./shape-extra.js";
import { multiply, subtract } from "./math.js";
import { sum } from "./reductions.js";
import { matmul } from "./linalg.js";

/** An operand with one letter per axis. */
interface Term {
  t: Tensor;
  ix: string[];
}

const LETTER = /^[a-zA-Z]$/;

/** Parses `spec` against the operand ranks; `...` becomes fresh labels (private-use characters). */
function parse(spec: string, ts: Tensor[]): { ins: string[][]; out: string[] } {
  const s = spec.replace(/\s+/g, "");
  const [lhs, rhs] = s.includes("->") ? s.split("->") : [s, null];
  const parts = lhs.split(",");
  if (parts.length !== ts.length) throw new ShapeError(`einsum: the spec ${JSON.stringify(spec)} has ${parts.length} operands, got ${ts.length} arrays`);
  let ellRank = 0;
  const split = (p: string, what: string): { pre: string[]; post: string[]; ell: boolean } => {
    const k = p.indexOf("...");
    const ell = k >= 0;
    const pre = [...(ell ? p.slice(0, k) : p)], post = ell ? [...p.slice(k + 3)] : [];
    for (const c of [...pre, ...post]) if (!LETTER.test(c)) throw new ShapeError(`einsum: invalid subscript ${JSON.stringify(c)} in ${what} of ${JSON.stringify(spec)}`);
    return { pre, post, ell };
  };
  const pieces = parts.map((p, i) => {
    const q = split(p, `operand ${i}`);
    const named = q.pre.length + q.post.length;
    if (q.ell ? named > ts[i].ndim : named !== ts[i].ndim) {
      throw new ShapeError(`einsum: operand ${i} has shape ${fmtShape(ts[i].shape)} but its subscripts ${JSON.stringify(p)} name ${named} axes`);
    }
    if (q.ell) ellRank = Math.max(ellRank, ts[i].ndim - named);
    return q;
  });
  const ellLabels = Array.from({ length: ellRank }, (_, i) => String.fromCharCode(0xe000 + i));
  const ins = pieces.map((q, i) => (q.ell ? [...q.pre, ...ellLabels.slice(ellRank - (ts[i].ndim - q.pre.length - q.post.length)), ...q.post] : q.pre));
  let out: string[];
  if (rhs === null) {
    const counts = new Map<string, number>();
    for (const ix of ins) for (const c of ix) counts.set(c, (counts.get(c) ?? 0) + 1);
    out = [...ellLabels, ...[...counts.keys()].filter((c) => !ellLabels.includes(c) && counts.get(c) === 1).sort()];
  } else {
    const q = split(rhs, "the output");
    out = q.ell ? [...q.pre, ...ellLabels, ...q.post] : q.pre;
    if (new Set(out).size !== out.length) throw new ShapeError(`einsum: repeated subscript in the output of ${JSON.stringify(spec)}`);
    for (const c of out) if (!ins.some((ix) => ix.includes(c))) throw new ShapeError(`einsum: output subscript ${JSON.stringify(c)} does not appear in the inputs of ${JSON.stringify(spec)}`);
  }
  return { ins, out };
}

/** Takes the diagonal of repeated labels and sums out labels needed nowhere else. */
function simplify(term: Term, keep: Set<string>): Term {
  let { t, ix } = term;
  for (;;) {
    const dup = ix.findIndex((c, i) => ix.indexOf(c) !== i);
    if (dup < 0) break;
    const first = ix.indexOf(ix[dup]);
    if (t.shape[first] !== t.shape[dup]) throw new ShapeError(`einsum: repeated subscript ${JSON.stringify(ix[dup])} has sizes ${t.shape[first]} and ${t.shape[dup]}`);
    t = diagonal(t, 0, first, dup);
    const c = ix[dup];
    ix = [...ix.filter((_, i) => i !== first && i !== dup), c];
  }
  const drop = ix.map((c, i) => (keep.has(c) ? -1 : i)).filter((i) => i >= 0);
  if (drop.length > 0) {
    t = sum(t, drop);
    ix = ix.filter((_, i) => !drop.includes(i));
  }
  return { t, ix };
}

const sizeOf = (term: Term, c: string): number => term.t.shape[term.ix.indexOf(c)];

/** Broadcasts size-1 axes of `a`'s labels shared with `b` (ellipsis broadcasting). */
function matchSizes(a: Term, b: Term): [Term, Term] {
  const fix = (p: Term, q: Term): Term => {
    const shape = p.ix.map((c, i) => (q.ix.includes(c) && p.t.shape[i] === 1 ? sizeOf(q, c) : p.t.shape[i]));
    // Sizes were checked to agree or be 1 when the spec was read.
    return shape.every((d, i) => d === p.t.shape[i]) ? p : { t: shapeOps.broadcastInDim(p.t, shape, shape.map((_, i) => i)), ix: p.ix };
  };
  return [fix(a, b), fix(b, a)];
}

/** One pairwise contraction as a single dot_general; labels in `keep` survive. */
function contractPair(a0: Term, b0: Term, keep: Set<string>): Term {
  const [a, b] = matchSizes(a0, b0);
  const shared = a.ix.filter((c) => b.ix.includes(c));
  const batch = shared.filter((c) => keep.has(c));
  const contract = shared.filter((c) => !keep.has(c));
  const t = dotGeneral(a.t, b.t, {
    contract: [contract.map((c) => a.ix.indexOf(c)), contract.map((c) => b.ix.indexOf(c))],
    batch: [batch.map((c) => a.ix.indexOf(c)), batch.map((c) => b.ix.indexOf(c))],
  });
  return { t, ix: [...batch, ...a.ix.filter((c) => !shared.includes(c)), ...b.ix.filter((c) => !shared.includes(c))] };
}

/** The labels of every term but `skip`, plus the output's. */
function neededBy(terms: Term[], out: string[], skip: number[]): Set<string> {
  const s = new Set(out);
  terms.forEach((term, i) => {
    if (!skip.includes(i)) for (const c of term.ix) s.add(c);
  });
  return s;
}

const sizeOfLabels = (labels: Iterable<string>, sizes: Map<string, number>): number => {
  let n = 1;
  for (const c of labels) n *= sizes.get(c) ?? 1;
  return n;
};

/**
 * Einstein summation. `spec` as NumPy's (`"ij,jk->ik"`, implicit output, `...`, repeated labels
 * for diagonals and traces). Operands are contracted pairwise, each pair as one dot_general, in
 * the greedy order: the pair whose result is smallest relative to its inputs first.
 */
export function einsum(spec: string, ...xs: TensorLike[]): Tensor {
  if (typeof spec !== "string") throw new ShapeError(`einsum: the first argument must be a subscripts string, got ${typeof spec}`);
  const raw = xs.map((x, i) => toTensor(x, `einsum: operand ${i}`));
  const [d] = resultType(raw, xs);
  const ts = raw.map((t) => (t.dtype === d ? t : convertElementType(t, d)));
  const { ins, out } = parse(spec, ts);
  const sizes = new Map<string, number>();
  ins.forEach((ix, i) =>
    ix.forEach((c, k) => {
      const n = ts[i].shape[k];
      const m = sizes.get(c);
      if (m !== undefined && m !== n && m !== 1 && n !== 1) throw new ShapeError(`einsum: subscript ${JSON.stringify(c)} has sizes ${m} and ${n}`);
      if (m === undefined || m === 1) sizes.set(c, n);
    }),
  );
  let terms: Term[] = ins.map((ix, i) => ({ t: ts[i], ix }));
  terms = terms.map((term, i) => simplify(term, neededBy(terms, out, [i])));
  while (terms.length > 1) {
    let best: [number, number] = [0, 1];
    let bestCost = Infinity;
    for (let i = 0; i < terms.length; i++) {
      for (let j = i + 1; j < terms.length; j++) {
        const keep = neededBy(terms, out, [i, j]);
        const result = new Set([...terms[i].ix, ...terms[j].ix].filter((c) => keep.has(c)));
        const shares = terms[i].ix.some((c) => terms[j].ix.includes(c));
        // opt_einsum's greedy cost: size(result) - size(a) - size(b); pairs sharing no label last.
        const cost = sizeOfLabels(result, sizes) - sizeOfLabels(terms[i].ix, sizes) - sizeOfLabels(terms[j].ix, sizes) + (shares ? 0 : 1e300);
        if (cost < bestCost) [bestCost, best] = [cost, [i, j]];
      }
    }
    const [i, j] = best;
    const joined = contractPair(terms[i], terms[j], neededBy(terms, out, [i, j]));
    terms = [...terms.filter((_, k) => k !== i && k !== j), joined];
  }
  const last = simplify(terms[0], new Set(out));
  const perm = out.map((c) => last.ix.indexOf(c));
  const res = perm.every((p, i) => p === i) ? last.t : transpose(last.t, perm);
  const want = out.map((c) => sizes.get(c) as number);
  return res.shape.every((n, i) => n === want[i]) ? res : shapeOps.broadcastInDim(res, want, want.map((_, i) => i));
}

/** Sums products over `axes` (a count of trailing/leading axes, or explicit lists). */
export function tensordot(a: TensorLike, b: TensorLike, axes: number | [number | number[], number | number[]] = 2): Tensor {
  const [x, y] = unify("tensordot", a, b);
  let ax: number[], bx: number[];
  if (typeof axes === "number") {
    if (!Number.isInteger(axes) || axes < 0 || axes > x.ndim || axes > y.ndim) throw new ShapeError(`tensordot: axes ${axes} out of range for shapes ${fmtShape(x.shape)} and ${fmtShape(y.shape)}`);
    ax = Array.from({ length: axes }, (_, i) => x.ndim - axes + i);
    bx = Array.from({ length: axes }, (_, i) => i);
  } else {
    const l = (v: number | number[]) => (Array.isArray(v) ? v : [v]);
    ax = l(axes[0]).map((i) => (i < 0 ? i + x.ndim : i));
    bx = l(axes[1]).map((i) => (i < 0 ? i + y.ndim : i));
    if (ax.length !== bx.length) throw new ShapeError(`tensordot: axes lists of different lengths ${JSON.stringify(axes)}`);
  }
  ax.forEach((i, k) => {
    if (x.shape[i] === undefined || x.shape[i] !== y.shape[bx[k]]) {
      throw new ShapeError(`tensordot: shape mismatch for sum: axis ${i} of ${fmtShape(x.shape)} and axis ${bx[k]} of ${fmtShape(y.shape)}`);
    }
  });
  return dotGeneral(x, y, { contract: [ax, bx], batch: [[], []] });
}

function unify(name: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  const x = toTensor(a, `${name}: argument 0`), y = toTensor(b, `${name}: argument 1`);
  const [d] = resultType([x, y], [a, b]);
  return [x.dtype === d ? x : convertElementType(x, d), y.dtype === d ? y : convertElementType(y, d)];
}

/** The dot product of the flattened arrays. */
export function vdot(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = unify("vdot", a, b);
  if (x.size !== y.size) throw new ShapeError(`vdot: arrays of sizes ${x.size} and ${y.size} (shapes ${fmtShape(x.shape)}, ${fmtShape(y.shape)}) cannot be multiplied`);
  return dotGeneral(flatten(x), flatten(y), { contract: [[0], [0]], batch: [[], []] });
}

/** Sums products over the last axes of both (scalars multiply). */
export function inner(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = unify("inner", a, b);
  if (x.ndim === 0 || y.ndim === 0) return multiply(x, y);
  if (x.shape[x.ndim - 1] !== y.shape[y.ndim - 1]) throw new ShapeError(`inner: last axes of shapes ${fmtShape(x.shape)} and ${fmtShape(y.shape)} differ`);
  return dotGeneral(x, y, { contract: [[x.ndim - 1], [y.ndim - 1]], batch: [[], []] });
}

/** The Kronecker product: blocks a[i] * b. */
export function kron(a: TensorLike, b: TensorLike): Tensor {
  const [x0, y0] = unify("kron", a, b);
  const nd = Math.max(x0.ndim, y0.ndim);
  const x = reshape(x0, [...Array(nd - x0.ndim).fill(1), ...x0.shape]);
  const y = reshape(y0, [...Array(nd - y0.ndim).fill(1), ...y0.shape]);
  const xe = reshape(x, x.shape.flatMap((s) => [s, 1]));
  const ye = reshape(y, y.shape.flatMap((s) => [1, s]));
  return reshape(multiply(xe, ye), x.shape.map((s, i) => s * y.shape[i]));
}

/** The cross product of 3-vectors (or 2-vectors, whose result is the scalar z) along the last axes. */
export function cross(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = unify("cross", a, b);
  const n = x.shape[x.ndim - 1], m = y.shape[y.ndim - 1];
  if (x.ndim === 0 || y.ndim === 0 || ![2, 3].includes(n) || ![2, 3].includes(m)) {
    throw new ShapeError(`cross: incompatible dimensions for cross product (dimension must be 2 or 3), got shapes ${fmtShape(x.shape)} and ${fmtShape(y.shape)}`);
  }
  const comp = (t: Tensor, k: number, size: number): Tensor | number => (k < size ? slice(moveLast(t), k) : 0);
  const [a0, a1, a2] = [0, 1, 2].map((k) => comp(x, k, n));
  const [b0, b1, b2] = [0, 1, 2].map((k) => comp(y, k, m));
  const z = subtract(multiply(a0, b1), multiply(a1, b0));
  if (n === 2 && m === 2) return z;
  return stack([subtract(multiply(a1, b2), multiply(a2, b1)), subtract(multiply(a2, b0), multiply(a0, b2)), z], -1);
}

/** The last axis first, so that its components are leading-index slices. */
const moveLast = (t: Tensor): Tensor => transpose(t, [t.ndim - 1, ...t.shape.slice(0, -1).map((_, i) => i)]);

/** Matrix-vector products over the last axes, leading axes broadcast (NumPy 2's matvec). */
export function matvec(a: TensorLike, v: TensorLike): Tensor {
  const x = toTensor(a, "matvec: argument 0"), y = toTensor(v, "matvec: argument 1");
  if (x.ndim < 2 || y.ndim < 1) throw new ShapeError(`matvec: needs a matrix and a vector, got shapes ${fmtShape(x.shape)} and ${fmtShape(y.shape)}`);
  const col = reshape(y, [...y.shape, 1]);
  const r = matmul(x, col);
  return reshape(r, r.shape.slice(0, -1));
}
