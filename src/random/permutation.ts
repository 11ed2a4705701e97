// permutation and choice as JAX's: a shuffle is one or more stable sorts by fresh random bits
// (enough rounds that ties are improbable), so the same key gives JAX's permutation. Values are
// picked by an index through a one-hot select and sum, built from differentiable primitives, so a
// permuted float array keeps its gradient (one caveat: a -0 picked this way comes out as +0).
import { view } from "../backend/index.js";
import { fromArr } from "../core/convert.js";
import { allocate, isFloat, isInteger } from "../core/dtype.js";
import { DTypeError, JacobiError, ShapeError, fmtShape } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { lax } from "../lax.js";
import { moveBatchAxis } from "../primitives/batching.js";
import * as P from "../primitives/elementwise.js";
import { reduceSum } from "../primitives/reduce.js";
import { broadcastInDim, reshape, slice, transpose } from "../primitives/shape.js";
import { sort } from "../primitives/sort.js";
import { full } from "../primitives/util.js";
import { T } from "../numpy/promote.js";
import { type Shape, bits, checkKey, checkShapeArg, split } from "./keys.js";
import { checkOptions, gumbelImpl, randint, row, uniformImpl } from "./samplers.js";

/** 0, 1, ..., n-1 as int32. */
function iota(n: number): Tensor {
  const d = allocate("int32", n);
  for (let i = 0; i < n; i++) d[i] = i;
  return fromArr(view(d, [n]), "int32");
}

/** JAX's _shuffle: sort `x` along `axis` by fresh 32-bit keys, ceil(3 ln(size) / ln(2^32 - 1)) times. */
function shuffle(key: Tensor, x: Tensor, axis: number): Tensor {
  const rounds = Math.ceil((3 * Math.log(Math.max(1, x.aval.size))) / Math.log(2 ** 32 - 1));
  let k = key;
  for (let r = 0; r < rounds; r++) {
    const s = split(k);
    k = row(s, 0);
    x = sort([bits(row(s, 1), x.shape), x], axis)[1];
  }
  return x;
}

/**
 * x[..., idx[...], ...] along `axis` (the last axis of x after moving it there), idx int32 of any
 * shape: out = sum_j [idx == j] x_j, a one-hot select so that derivatives flow to x.
 */
function takeAlong(x: Tensor, idx: Tensor, axis: number): Tensor {
  const isBool = x.dtype === "bool";
  let xl = moveBatchAxis(isBool ? P.convertElementType(x, "int32") : x, axis, x.ndim - 1);
  const n = xl.shape[xl.ndim - 1];
  const batch = xl.shape.slice(0, -1);
  const outShape = [...batch, ...idx.shape];
  const full_ = [...outShape, n];
  const hit = P.eq(broadcastInDim(idx, full_, idx.shape.map((_, i) => batch.length + i)), broadcastInDim(iota(n), full_, [full_.length - 1]));
  xl = broadcastInDim(xl, full_, [...batch.map((_, i) => i), full_.length - 1]);
  let out = reduceSum(P.select(hit, xl, full(full_, 0, xl.dtype)), [full_.length - 1]);
  // Back to x's axis order: the index dims take the place of `axis`.
  const ib = idx.ndim;
  const perm = [...Array(axis).keys(), ...Array.from({ length: ib }, (_, i) => batch.length + i), ...Array.from({ length: batch.length - axis }, (_, i) => axis + i)];
  if (perm.some((p, i) => p !== i)) out = transpose(out, perm);
  return isBool ? P.ne(out, full(out.shape, 0, "int32")) : out;
}

function normAxis(axis: number, ndim: number, where: string, shape: Shape): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) throw new ShapeError(`${where}: axis ${axis} is out of bounds for shape ${fmtShape(shape)}`);
  return axis < 0 ? axis + ndim : axis;
}

/** An integer count given as a JS number or a concrete integer scalar. */
function countOf(x: TensorLike, where: string): number {
  if (typeof x === "number") {
    if (!Number.isInteger(x) || x < 0) throw new JacobiError(`${where}: a count must be a non-negative integer, got ${x}`);
    return x;
  }
  const t = T(x, where);
  if (!isInteger(t.dtype)) throw new DTypeError(`${where}: a scalar x must be an integer (the number of items), got ${t.dtype}`);
  return t.item();
}

export interface PermutationOptions {
  axis?: number;
  independent?: boolean;
}

/**
 * `permutation(key, xOrN, { axis = 0, independent = false })`: a shuffled arange(n) for an integer,
 * else x shuffled along `axis` (every slice independently with `independent`), as JAX's.
 */
export function permutation(key: TensorLike, x: TensorLike, opts: PermutationOptions = {}): Tensor {
  const where = "random.permutation";
  checkOptions(where, opts, ["axis", "independent"]);
  const k = checkKey(key, where);
  const t = typeof x === "number" ? null : T(x, `${where}: x`);
  if (t === null || t.ndim === 0) return shuffle(k, iota(countOf(t ?? (x as number), where)), 0);
  const axis = normAxis(opts.axis ?? 0, t.ndim, where, t.shape);
  if (opts.independent && t.ndim > 1) {
    // Each slice along `axis` by its own keys: shuffle positions, then pick.
    const pos = broadcastInDim(iota(t.shape[axis]), t.shape, [axis]);
    const idx = shuffle(k, pos, axis);
    if (!isFloat(t.dtype)) return shuffle(k, t, axis);
    const xl = moveBatchAxis(t, axis, t.ndim - 1), il = moveBatchAxis(idx, axis, t.ndim - 1);
    const n = t.shape[axis];
    const shape2 = [...il.shape, n];
    const hit = P.eq(broadcastInDim(il, shape2, il.shape.map((_, i) => i)), broadcastInDim(iota(n), shape2, [shape2.length - 1]));
    const xb = broadcastInDim(xl, shape2, [...xl.shape.slice(0, -1).map((_, i) => i), shape2.length - 1]);
    return moveBatchAxis(reduceSum(P.select(hit, xb, full(shape2, 0, t.dtype)), [shape2.length - 1]), t.ndim - 1, axis);
  }
  const perm = shuffle(k, iota(t.shape[axis]), 0);
  // Integer arrays shuffled directly (as JAX sorts them); floats through the differentiable pick.
  if (t.ndim === 1 && !isFloat(t.dtype)) return shuffle(k, t, 0);
  return takeAlong(t, perm, axis);
}

export interface ChoiceOptions {
  replace?: boolean;
  p?: TensorLike;
  axis?: number;
}

/** Inclusive running sums along a 1-D array, sequentially (as a loop would add them). */
function cumsum(p: Tensor): Tensor {
  const [, ys] = lax.scan((acc: Tensor, v: Tensor) => {
    const s = P.add(acc, v);
    return [s, s];
  }, full([], 0, p.dtype), p) as Tensor[];
  return ys;
}

/**
 * `choice(key, a, shape = [], { replace = true, p, axis = 0 })`: draws from arange(a) (an integer
 * a) or from a's slices along `axis`, with JAX's methods: randint (uniform, with replacement),
 * permutation (without), inverse-CDF search of cumsum(p) (weighted, with), Gumbel top-k (weighted,
 * without).
 */
export function choice(key: TensorLike, a: TensorLike, shape: Shape | number = [], opts: ChoiceOptions = {}): Tensor {
  const where = "random.choice";
  checkOptions(where, opts, ["replace", "p", "axis"]);
  const k = checkKey(key, where);
  const s = checkShapeArg(shape, where);
  const arr = typeof a === "number" ? null : T(a, `${where}: a`);
  const scalar = arr === null || arr.ndim === 0;
  const axis = scalar ? 0 : normAxis(opts.axis ?? 0, arr.ndim, where, arr.shape);
  const nInputs = scalar ? countOf(arr ?? (a as number), where) : arr.shape[axis];
  const nDraws = s.reduce((x, y) => x * y, 1);
  const outShape = scalar ? s : [...arr.shape.slice(0, axis), ...s, ...arr.shape.slice(axis + 1)];
  if (nDraws === 0) return full(outShape, 0, scalar ? "int32" : arr.dtype);
  if (nInputs <= 0) throw new JacobiError(`${where}: a must be greater than 0 unless no samples are taken`);
  const replace = opts.replace ?? true;
  if (!replace && nDraws > nInputs) throw new JacobiError(`${where}: cannot take a larger sample (${nDraws}) than the population (${nInputs}) when replace is false`);
  let ind: Tensor;
  if (opts.p === undefined) {
    if (replace) ind = randint(k, s, 0, nInputs);
    else {
      const perm = permutation(k, scalar ? nInputs : iota(nInputs));
      ind = reshape(slice(perm, [0], [nDraws]), s);
    }
  } else {
    let p = T(opts.p, `${where}: p`);
    if (!isFloat(p.dtype)) p = P.convertElementType(p, "float64");
    if (p.ndim !== 1 || p.shape[0] !== nInputs) throw new ShapeError(`${where}: p must have shape [${nInputs}] (one probability per item), got ${fmtShape(p.shape)}`);
    const d = p.dtype as "float64" | "float32";
    if (replace) {
      const cum = cumsum(p);
      const total = broadcastInDim(reshape(slice(cum, [nInputs - 1], [nInputs]), []), s, []);
      const r = P.mul(total, P.sub(full(s, 1, d), uniformImpl(where, k, s, d, 0, 1)));
      // searchsorted(cum, r) (side left): how many running sums lie below r.
      const both = [...s, nInputs];
      const below = P.lt(broadcastInDim(cum, both, [s.length]), broadcastInDim(r, both, s.map((_, i) => i)));
      ind = reduceSum(P.convertElementType(below, "int32"), [s.length]);
    } else {
      const g = P.add(gumbelImpl(k, [nInputs], d), P.log(p));
      // top-k by a stable sort of -g: the indices of the nDraws largest.
      const order = sort([P.neg(g), iota(nInputs)], 0)[1];
      ind = reshape(slice(order, [0], [nDraws]), s);
    }
  }
  return scalar ? ind : takeAlong(arr, ind, axis);
}
