// The other scatters of JAX's family: scatter (set), scatter-mul, scatter-min and scatter-max.
// None is linear in its operands together (set is, but only with the winner of repeated indices
// fixed), so each JVP is written with gather, scatter-add and select, which transpose: reverse
// mode of x.at[i].set(v) needs no transpose of its own. Repeated indices are exact: the kernel
// applies updates in order, so "set" keeps the last one, and the JVPs find that winner the same way.
import { type ScatterKind, scatter as scatterKernel } from "../backend/index.js";
import { type Primitive, Zero, definePrimitive } from "../core/primitive.js";
import type { Tensor } from "../core/tensor.js";
import { bind1 } from "../core/trace.js";
import { add, convertElementType, div, eq, mul, select, sub, sumTangents } from "./elementwise.js";
import { type ScatterParams, checkScatter, gatherForScatter, iota, scatterAddP, scatterBatch } from "./gather.js";
import { movementCost } from "./metadata.js";
import { reshape } from "./shape.js";
import { full, fullLike, isZero, zerosLike } from "./util.js";

function scatterPrim(name: string, kind: ScatterKind, jvp: (self: Primitive<ScatterParams>) => NonNullable<Primitive<ScatterParams>["jvp"]>, notation: string): Primitive<ScatterParams> {
  return definePrimitive<ScatterParams>(name, (self) => ({
    impl: ([x, i, u], p, [o]) => [scatterKernel(x, i, u, p, p.mode, kind, o.dtype)],
    abstractEval: (avals, p) => [checkScatter(name, avals, p)],
    jvp: jvp(self),
    batch: scatterBatch(self),
    cost: kind === "set" ? movementCost : (ins) => ({ flops: ins[ins.length - 1].size, transcendentals: 0 }),
    notation: ([x, i, u]) => `${x}.at[${i}].${notation}(${u})`,
  }));
}

const scatterAdd = (x: Tensor, i: Tensor, u: Tensor, p: ScatterParams): Tensor => bind1(scatterAddP, [x, i, u], p);
const toFloat = (b: Tensor, like: Tensor): Tensor => convertElementType(b, like.dtype);

/**
 * Which operand elements keep their value and which update elements land, for "set": every update
 * element scatters its own id (1, 2, ...), and an update landed where its id is read back.
 */
function winners(x: Tensor, i: Tensor, u: Tensor, p: ScatterParams): [Tensor, Tensor] {
  const ids = add(reshape(iota(u.size), u.shape), full(u.shape, 1, "int32"));
  const written = bind1(scatterP, [full(x.shape, 0, "int32"), i, ids], p);
  return [eq(written, full(x.shape, 0, "int32")), eq(gatherForScatter(written, i, u.shape, p), ids)];
}

export const scatterP: Primitive<ScatterParams> = scatterPrim(
  "scatter",
  "set",
  (self) => ([x, i, u], [tx, , tu], p) => {
    const out = bind1(self, [x, i, u], p);
    if (isZero(tx) && isZero(tu)) return [[out], [new Zero(out.aval.strong())]];
    const [kept, landed] = winners(x, i, u, p);
    const fromX = isZero(tx) ? tx : select(kept, tx, zerosLike(tx));
    const fromU = isZero(tu) ? tu : scatterAdd(zerosLike(x), i, select(landed, tu, zerosLike(tu)), p);
    return [[out], [sumTangents(fromX, fromU)]];
  },
  "set",
);

/**
 * d(x * prod u) = (prod u) dx + sum_k (x * prod_{j != k} u_j) du_k. The product of the others is
 * formed without dividing by a zero, and so that its own derivative is right too: with no other
 * zero it is (x * the nonzero factors) / u_k; with exactly one other zero, that quotient times the
 * zero factor itself (0, whose derivative is the quotient); with more, 0.
 */
export const scatterMulP: Primitive<ScatterParams> = scatterPrim(
  "scatter_mul",
  "mul",
  (self) => ([x, i, u], [tx, , tu], p) => {
    const out = bind1(self, [x, i, u], p);
    let t: Tensor | Zero = new Zero(out.aval.strong());
    if (!isZero(tx)) t = mul(tx, bind1(self, [fullLike(x, 1), i, u], p));
    if (!isZero(tu)) {
      const zero = zerosLike(u), isZ = eq(u, zero);
      const safe = select(isZ, fullLike(u, 1), u);
      const atUpdates = (v: Tensor) => gatherForScatter(scatterAdd(zerosLike(x), i, v, p), i, u.shape, p);
      const quotient = div(gatherForScatter(bind1(self, [x, i, safe], p), i, u.shape, p), safe);
      const zerosAmongOthers = sub(atUpdates(toFloat(isZ, u)), toFloat(isZ, u));
      const zeroFactor = select(isZ, u, zero);
      const otherZero = sub(atUpdates(zeroFactor), zeroFactor);
      const others = select(eq(zerosAmongOthers, zero), quotient, select(eq(zerosAmongOthers, fullLike(u, 1)), mul(quotient, otherZero), zero));
      t = sumTangents(t, scatterAdd(zerosLike(x), i, mul(tu, others), p));
    }
    return [[out], [t]];
  },
  "mul",
);

/**
 * JAX's _scatter_extremal_jvp: the output takes the tangent of whichever values equal it, split
 * evenly between ties (the operand counting as one of them when it is kept).
 */
function extremalJvp(self: Primitive<ScatterParams>): NonNullable<Primitive<ScatterParams>["jvp"]> {
  return ([x, i, u], [tx, , tu], p) => {
    const out = bind1(self, [x, i, u], p);
    if (isZero(tx) && isZero(tu)) return [[out], [new Zero(out.aval.strong())]];
    const won = toFloat(eq(u, gatherForScatter(out, i, u.shape, p)), u);
    const kept = toFloat(eq(x, out), x);
    const ties = add(scatterAdd(zerosLike(x), i, won, p), kept);
    // Every output element has at least one tie (it equals the operand or some update), so ties >= 1.
    const share = div(fullLike(ties, 1), select(eq(ties, zerosLike(ties)), fullLike(ties, 1), ties));
    const fromX = isZero(tx) ? tx : mul(tx, mul(kept, share));
    const fromU = isZero(tu) ? tu : scatterAdd(zerosLike(x), i, mul(tu, mul(won, gatherForScatter(share, i, u.shape, p))), p);
    return [[out], [sumTangents(fromX, fromU)]];
  };
}

export const scatterMinP: Primitive<ScatterParams> = scatterPrim("scatter_min", "min", extremalJvp, "min");
export const scatterMaxP: Primitive<ScatterParams> = scatterPrim("scatter_max", "max", extremalJvp, "max");

export const scatterPrims: Record<"set" | "add" | "mul" | "min" | "max", Primitive<ScatterParams>> = { set: scatterP, add: scatterAddP, mul: scatterMulP, min: scatterMinP, max: scatterMaxP };
