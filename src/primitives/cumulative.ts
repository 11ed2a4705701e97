// The cumulative primitives as JAX's: cumsum is linear (its transpose the running sum the other
// way); cumprod, cummax and cummin run a kernel forward and take their JVP from the associative
// scan of (value, tangent) pairs, which is JAX's rule (jvp of associative_scan) written out, so the
// tangent is built from slices, pads and products by primal coefficients: all transposable.
import { type CumulativeKind, cumulative as cumulativeKernel } from "../backend/index.js";
import { asTensor } from "../core/convert.js";
import { JacobiError, ShapeError, fmtShape } from "../core/errors.js";
import { type Primitive, type PrimitiveRules, Zero, definePrimitive } from "../core/primitive.js";
import type { Tensor } from "../core/tensor.js";
import { bind1 } from "../core/trace.js";
import { flatten as treeFlatten, unflatten } from "../core/tree.js";
import { boolean, checkOptions, numberWhere } from "../core/validate.js";
import { add, eq, gt, max, min, mul, select } from "./elementwise.js";
import { gather as staticGather } from "./gather.js";
import { frontBatch, linearJvp, linearTranspose } from "./rule-helpers.js";
import { concatenate, pad, slice as slicePrim } from "./shape.js";
import { fullLike, instantiate, isZero } from "./util.js";
import { onnxCumsum } from "./onnx-rules.js";

type CumulativeParams = { axis: number; reverse: boolean };

function flipAxis(x: Tensor, axis: number): Tensor {
  const n = x.shape[axis];
  return n < 2 ? x : staticGather(x, Array.from({ length: n }, (_, i) => n - 1 - i), axis);
}

function sliceAxis(x: Tensor, axis: number, start: number, stop: number, step = 1): Tensor {
  const s = x.shape.map(() => 0), l = [...x.shape], st = x.shape.map(() => 1);
  s[axis] = start, l[axis] = Math.max(start, stop), st[axis] = step;
  return slicePrim(x, s, l, st);
}

/** a at the even positions, b at the odd ones, along `axis` (|a| = |b| or |b| + 1). */
function interleave(a: Tensor, b: Tensor, axis: number): Tensor {
  const na = a.shape[axis], nb = b.shape[axis];
  const lo = a.shape.map(() => 0), interior = a.shape.map(() => 0);
  interior[axis] = 1;
  const hiA = lo.map((_, d) => (d === axis ? (na === nb ? 1 : 0) : 0));
  const loB = lo.map((_, d) => (d === axis ? 1 : 0));
  const hiB = lo.map((_, d) => (d === axis ? (na === nb ? 0 : 1) : 0));
  return add(pad(a, 0, lo, hiA, interior), pad(b, 0, loB, hiB, interior));
}

type Leaves = Tensor[];

/**
 * JAX's associative_scan: all prefix combinations fn(x0, fn(x1, ...)) along `axis` for an
 * associative `fn` of two pytrees shaped like `xs`. Pairs are combined level by level, so the
 * work is O(n) applications of `fn` on slices and the depth O(log n), all of it differentiable.
 */
export function associativeScan<T>(fn: (a: T, b: T) => T, xs: T, opts?: { reverse?: boolean; axis?: number }): T {
  const { reverse = false, axis = 0 } = checkOptions("lax.associativeScan", opts, { reverse: boolean, axis: numberWhere("an integer", Number.isInteger) });
  if (typeof fn !== "function") throw new JacobiError("lax.associativeScan: fn must be a function");
  const [leaves0, def] = treeFlatten(xs);
  const leaves = leaves0.map((l, i) => asTensor(l, `lax.associativeScan: leaf ${i}`));
  if (leaves.length === 0) throw new JacobiError("lax.associativeScan: xs has no arrays");
  const rank = leaves[0].ndim;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) throw new ShapeError(`lax.associativeScan: axis ${axis} is out of bounds for shape ${fmtShape(leaves[0].shape)}`);
  const ax = axis < 0 ? axis + rank : axis;
  const n = leaves[0].shape[ax];
  if (leaves.some((l) => l.ndim !== rank || l.shape[ax] !== n)) throw new ShapeError(`lax.associativeScan: every leaf needs the same length along axis ${ax}, got shapes ${leaves.map((l) => fmtShape(l.shape)).join(", ")}`);
  const combine = (a: Leaves, b: Leaves): Leaves => {
    const [out] = treeFlatten(fn(unflatten(def, a) as T, unflatten(def, b) as T));
    return out.map((o, i) => asTensor(o, `lax.associativeScan: fn's output leaf ${i}`));
  };
  const scan = (elems: Leaves): Leaves => {
    const m = elems[0].shape[ax];
    if (m < 2) return elems;
    const reduced = combine(elems.map((e) => sliceAxis(e, ax, 0, m - 1, 2)), elems.map((e) => sliceAxis(e, ax, 1, m, 2)));
    const odd = scan(reduced);
    const even =
      m % 2 === 0
        ? combine(odd.map((e) => sliceAxis(e, ax, 0, e.shape[ax] - 1)), elems.map((e) => sliceAxis(e, ax, 2, m, 2)))
        : combine(odd, elems.map((e) => sliceAxis(e, ax, 2, m, 2)));
    const firsts = elems.map((e, i) => concatenate([sliceAxis(e, ax, 0, 1), even[i]], ax));
    return firsts.map((f, i) => interleave(f, odd[i], ax));
  };
  const input = reverse ? leaves.map((l) => flipAxis(l, ax)) : leaves;
  const out = scan(input);
  return unflatten(def, reverse ? out.map((l) => flipAxis(l, ax)) : out) as T;
}


/** The tangent of a pairwise combination: each argument's tangent times its coefficient. */
type PairRule = (a: Tensor, b: Tensor) => [Tensor, Tensor, Tensor];
const productPair: PairRule = (a, b) => [mul(a, b), b, a];
/** max/min: the winner's tangent, half each on a tie (the max primitive's rule). */
const extremumPair = (pick: typeof max, wins: typeof gt): PairRule => (a, b) => {
  const out = pick(a, b);
  const half = fullLike(a, 0.5), one = fullLike(a, 1), zero = fullLike(a, 0);
  const ca = select(eq(a, b), half, select(wins(a, b), one, zero));
  return [out, ca, add(select(eq(a, b), half, zero), select(wins(b, a), one, zero))];
};

function cumulativeRules(self: Primitive<CumulativeParams>, kind: CumulativeKind, pair: PairRule | null): PrimitiveRules<CumulativeParams> {
  return {
    impl: ([x], { axis, reverse }, [o]) => [cumulativeKernel(x, axis, reverse, kind, o.dtype)],
    abstractEval: ([x], { axis }) => {
      if (!(Number.isInteger(axis) && axis >= 0 && axis < x.ndim)) throw new ShapeError(`cum${kind}: axis ${axis} is out of bounds for shape ${fmtShape(x.shape)}`);
      return [x];
    },
    batch: frontBatch(self, (p) => ({ ...p, axis: p.axis + 1 })),
    notation: ([x], { axis, reverse }) => `cum${kind}${reverse ? " reversed" : ""}[axis=${axis}] ${x}`,
    ...(kind === "sum" ? { onnx: onnxCumsum } : {}),
    ...(pair === null
      ? {
          jvp: linearJvp(self),
          transpose: linearTranspose((ct, _args, { axis, reverse }) => [bind1(self, [ct], { axis, reverse: !reverse })]),
          linear: true,
        }
      : {
          jvp: ([x], [t], p) => {
            const out = bind1(self, [x], p);
            if (isZero(t)) return [[out], [new Zero(out.aval.strong())]];
            const combine = ([a, ta]: Tensor[], [b, tb]: Tensor[]): Tensor[] => {
              const [v, ca, cb] = pair(a, b);
              return [v, add(mul(ta, ca), mul(tb, cb))];
            };
            const [, tOut] = associativeScan(combine, [x, instantiate(t)], { axis: p.axis, reverse: p.reverse });
            return [[out], [tOut]];
          },
        }),
  };
}

export const cumsumP: Primitive<CumulativeParams> = definePrimitive<CumulativeParams>("cumsum", (self) => cumulativeRules(self, "sum", null));
export const cumprodP: Primitive<CumulativeParams> = definePrimitive<CumulativeParams>("cumprod", (self) => cumulativeRules(self, "prod", productPair));
export const cummaxP: Primitive<CumulativeParams> = definePrimitive<CumulativeParams>("cummax", (self) => cumulativeRules(self, "max", extremumPair(max, gt)));
export const cumminP: Primitive<CumulativeParams> = definePrimitive<CumulativeParams>("cummin", (self) => cumulativeRules(self, "min", extremumPair(min, (a, b) => gt(b, a))));

const prims = { sum: cumsumP, prod: cumprodP, max: cummaxP, min: cumminP };
export const cumulative = (kind: CumulativeKind, x: Tensor, axis: number, reverse = false): Tensor => bind1(prims[kind], [x], { axis, reverse });
export const cumsum = (x: Tensor, axis: number, reverse = false): Tensor => cumulative("sum", x, axis, reverse);
