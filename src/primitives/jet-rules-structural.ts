// Taylor-mode (jet) rules of the primitives that choose, reorder or multiply along an axis: products
// (reduce_prod, cumprod, scatter_mul), extrema (cummax, cummin, reduce_window_max, scatter_min/max),
// sort, scatter and the window selections. A choice made by the primal (which element is largest,
// where a value sorts to, which update lands) is locally constant, so along a path each output
// coefficient is the JVP's linear map, built once at the primal, applied to that input coefficient.
// Products multiply whole series, pairwise, never dividing, so zeros are exact.
import type { Params, Primitive } from "../core/primitive.js";
import type { Tensor } from "../core/tensor.js";
import { bind, bind1 } from "../core/trace.js";
import type { JetRule } from "../interpreters/jet.js";
import { associativeScan, cummaxP, cumminP, cumprodP } from "./cumulative.js";
import { add, convertElementType, div, eq, gt, lt, max, min, mul, ne, select, sub } from "./elementwise.js";
import { type ScatterParams, gatherForScatter, iota, scatterAddP, takeAlong } from "./gather.js";
import { type Coefs, full, isZ, linearly, markZero, orderOf, productSeries } from "./jet-series.js";
import { reduceProdP } from "./reduce.js";
import { type WindowParams, reduceWindowMaxP, selectAndGatherAdd, selectAndGatherAddP, selectAndScatterAddP } from "./reduce-window.js";
import { scatterMaxP, scatterMinP, scatterMulP, scatterP } from "./scatter.js";
import { broadcastInDim, pad, reshape, slice, transpose } from "./shape.js";
import { sortP } from "./sort.js";
import { full as fullOf, fullLike, zerosLike } from "./util.js";

/** Series that stay null for a constant and map each coefficient linearly otherwise. */
const mapSeries = (s: Tensor[] | null, f: (c: Tensor) => Tensor): Tensor[] | null => (s === null ? null : s.map((c) => linearly(c, f)));

/**
 * reduce_prod: the factors multiplied pairwise, halving their number each round as the JVP rule
 * does, with whole series multiplied (Cauchy products) instead of values.
 */
const reduceProdJet: JetRule = ([x], [s], params) => {
  const axes = params.axes as number[];
  const order = (s as Tensor[]).length;
  const out = bind1(reduceProdP, [x], params);
  const kept = x.shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const rest = kept.map((d) => x.shape[d]);
  const n = axes.reduce((acc, d) => acc * x.shape[d], 1);
  // The product of no factors is the constant 1.
  if (n === 0) return [[out], [null]];
  const zeros = rest.map(() => 0);
  let p: Coefs = [x, ...(s as Tensor[])].map((c) => linearly(c, (v) => reshape(transpose(v, [...axes, ...kept]), [n, ...rest])));
  while (p[0].shape[0] > 1) {
    let count = p[0].shape[0];
    if (count % 2 === 1) {
      // An odd factor out is paired with the constant 1 (coefficients 0).
      p = p.map((c, k) => linearly(c, (v) => pad(v, k === 0 ? 1 : 0, [0, ...zeros], [1, ...zeros])));
      count += 1;
    }
    const half = (c: Tensor, lo: number) => linearly(c, (v) => slice(v, [lo, ...zeros], [lo + count / 2, ...rest]));
    p = productSeries(p.map((c) => half(c, 0)), p.map((c) => half(c, count / 2)), order);
  }
  return [[out], [p.slice(1).map((c) => linearly(c, (v) => reshape(v, rest)))]];
};

/** cumprod: the associative scan of whole series under the series product. */
const cumprodJet: JetRule = ([x], [s], params) => {
  const order = (s as Tensor[]).length;
  const { axis, reverse } = params as { axis: number; reverse: boolean };
  const scanned = associativeScan((a: Coefs, b: Coefs) => productSeries(a, b, order), [x, ...(s as Tensor[])], { axis, reverse });
  return [[bind1(cumprodP, [x], params)], [scanned.slice(1)]];
};

/**
 * cummax/cummin: the JVP's scan of (value, tangent) pairs with every coefficient carried as a
 * tangent: the winner's, half each on a tie, the weights read from the primal values alone.
 */
const cumExtremumJet =
  (prim: Primitive<any>, pick: typeof max, wins: typeof gt): JetRule =>
  ([x], [s], params) => {
    const { axis, reverse } = params as { axis: number; reverse: boolean };
    const combine = ([a, ...ta]: Tensor[], [b, ...tb]: Tensor[]): Tensor[] => {
      const tie = eq(a, b), half = fullLike(a, 0.5), one = fullLike(a, 1), zero = fullLike(a, 0);
      const ca = select(tie, half, select(wins(a, b), one, zero));
      const cb = select(tie, half, select(wins(b, a), one, zero));
      return [pick(a, b), ...ta.map((t, k) => add(mul(t, ca), mul(tb[k], cb)))];
    };
    const scanned = associativeScan(combine, [x, ...(s as Tensor[])], { axis, reverse });
    return [[bind1(prim, [x], params)], [scanned.slice(1)]];
  };

/** sort: every operand's coefficients permuted as its primal (the permutation learnt by sorting an iota along). */
const sortJet: JetRule = (primals, series, params) => {
  const d = params.dimension as number;
  const shape = primals[0].shape;
  const outs = bind(sortP, [...primals, broadcastInDim(iota(shape[d]), shape, [d])], params);
  const perm = outs.pop() as Tensor;
  return [outs, series.map((s) => mapSeries(s, (c) => takeAlong(c, perm, d)))];
};

/** The operand's and the updates' coefficient k, zeros for a constant one. */
const termsOf = (x: Tensor, u: Tensor, sx: Tensor[] | null, su: Tensor[] | null, order: number): [Coefs, Coefs] => [full(x, sx, order), full(u, su, order)];

/** scatter (set): linear in operand and updates together once the indices are fixed. */
const scatterJet: JetRule = ([x, i, u], [sx, , su], params) => {
  const order = orderOf([sx, su]);
  const [xs, us] = termsOf(x, u, sx, su, order);
  const terms = xs.slice(1).map((xk, k) => {
    const t = bind1(scatterP, [xk, i, us[k + 1]], params);
    return isZ(xk) && isZ(us[k + 1]) ? markZero(t) : t;
  });
  return [[bind1(scatterP, [x, i, u], params)], [terms]];
};

const scatterAdd = (x: Tensor, i: Tensor, u: Tensor, p: Params): Tensor => bind1(scatterAddP, [x, i, u], p);

/**
 * scatter_min/max: as the JVP, each output coefficient is the mean of those of the values equal to
 * the output (the operand's when it is kept, and the updates landing there), weights from the primal.
 */
const scatterExtremumJet =
  (prim: Primitive<ScatterParams>): JetRule =>
  ([x, i, u], [sx, , su], params) => {
    const p = params as ScatterParams;
    const out = bind1(prim, [x, i, u], p);
    const won = convertElementType(eq(u, gatherForScatter(out, i, u.shape, p)), u.dtype);
    const kept = convertElementType(eq(x, out), x.dtype);
    // Every output element equals the operand or some update there, so the count is at least one.
    const share = div(fullLike(x, 1), add(scatterAdd(zerosLike(x), i, won, p), kept));
    const xWeight = mul(kept, share), uWeight = mul(won, gatherForScatter(share, i, u.shape, p));
    const order = orderOf([sx, su]);
    const [xs, us] = termsOf(x, u, sx, su, order);
    const terms = xs.slice(1).map((xk, k) => {
      const uk = us[k + 1];
      if (isZ(uk)) return linearly(xk, (v) => mul(v, xWeight));
      const fromU = scatterAdd(zerosLike(x), i, mul(uk, uWeight), p);
      return isZ(xk) ? fromU : add(mul(xk, xWeight), fromU);
    });
    return [[out], [terms]];
  };

/** The scatter-add of one value per element into a flat vector, at the given (n, 1) flat indices. */
const flatScatterAdd = (size: number, at: Tensor, values: Tensor): Tensor =>
  bind1(scatterAddP, [fullOf([size], 0, values.dtype), at, values], {
    updateWindowDims: [],
    insertedWindowDims: [0],
    scatterDimsToOperandDims: [0],
    mode: "clip",
  });

/**
 * The series of the product of the updates landing on each operand element (1 where none does):
 * every update element is tagged with the flat position it lands on (gathered back from the
 * positions of the operand, + 1, so that 0 marks an update the fill mode drops); the updates'
 * series are sorted by that tag, multiplied within each run of equal tags by a segmented
 * associative scan of series products, and each run's last product is scattered to its element.
 */
function landedProducts(x: Tensor, i: Tensor, U: Coefs, p: ScatterParams, order: number): Coefs {
  const n = U[0].size, size = x.size;
  const tags = add(reshape(iota(size), x.shape), fullOf(x.shape, 1, "int32"));
  const [sortedTags, ...sorted] = bind(sortP, [reshape(gatherForScatter(tags, i, U[0].shape, p), [n]), ...U.map((c) => reshape(c, [n]))], { dimension: 0 });
  const prevTag = pad(slice(sortedTags, [0], [n - 1]), -1, [1], [0]);
  const nextTag = pad(slice(sortedTags, [1], [n]), -1, [0], [1]);
  const starts = convertElementType(ne(sortedTags, prevTag), x.dtype);
  // (start_a, A) then (start_b, B): B alone when b starts a run, else A B.
  const combine = ([fa, ...a]: Tensor[], [fb, ...b]: Tensor[]): Tensor[] => {
    const restart = gt(fb, zerosLike(fb));
    return [max(fa, fb), ...productSeries(a, b, order).map((c, k) => select(restart, b[k], c))];
  };
  const [, ...runs] = associativeScan(combine, [starts, ...sorted]);
  const ends = ne(sortedTags, nextTag);
  const at = reshape(sortedTags, [n, 1]);
  // Coefficient 0 of an element no update lands on is 1: the runs add their product minus 1.
  const one = fullLike(runs[0], 1);
  return runs.map((c, k) => {
    const landed = flatScatterAdd(size + 1, at, select(ends, k === 0 ? sub(c, one) : c, zerosLike(c)));
    const perElement = reshape(slice(landed, [1], [size + 1]), x.shape);
    return k === 0 ? add(perElement, fullLike(perElement, 1)) : perElement;
  });
}

/**
 * scatter_mul: the operand's series times the series of the product of the updates landing on each
 * element; with constant updates, linear in the operand.
 */
const scatterMulJet: JetRule = ([x, i, u], [sx, , su], params) => {
  const p = params as ScatterParams;
  const out = bind1(scatterMulP, [x, i, u], p);
  // No updates, or constant ones: linear in the operand.
  if (su === null || u.size === 0) return [[out], [mapSeries(sx, (c) => bind1(scatterMulP, [c, i, u], p))]];
  const order = su.length;
  const landed = landedProducts(x, i, [u, ...su], p, order);
  return [[out], [productSeries(full(x, sx, order), landed, order).slice(1)]];
};

/** reduce_window_max: every coefficient read at the position of its window's maximum. */
const reduceWindowMaxJet: JetRule = ([x], [s], params) => {
  const p = params as WindowParams;
  return [[bind1(reduceWindowMaxP, [x], p)], [mapSeries(s, (c) => selectAndGatherAdd(c, x, p))]];
};

/** select_and_gather_add / select_and_scatter_add: linear in the first operand; the second only selects. */
const selectJet =
  (prim: Primitive<any>): JetRule =>
  ([t, x], [st], params) => [[bind1(prim, [t, x], params)], [mapSeries(st, (c) => bind1(prim, [c, x], params))]];

/** The rules of this module, merged into the table of primitives/jet-rules.ts. */
export const structuralJetRules: Map<Primitive<any>, JetRule> = new Map<Primitive<any>, JetRule>([
  [reduceProdP, reduceProdJet],
  [cumprodP, cumprodJet],
  [cummaxP, cumExtremumJet(cummaxP, max, gt)],
  [cumminP, cumExtremumJet(cumminP, min, lt)],
  [sortP, sortJet],
  [scatterP, scatterJet],
  [scatterMulP, scatterMulJet],
  [scatterMinP, scatterExtremumJet(scatterMinP)],
  [scatterMaxP, scatterExtremumJet(scatterMaxP)],
  [reduceWindowMaxP, reduceWindowMaxJet],
  [selectAndGatherAddP, selectJet(selectAndGatherAddP)],
  [selectAndScatterAddP, selectJet(selectAndScatterAddP)],
]);
