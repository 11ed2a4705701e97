// poisson as JAX's: Knuth's multiplication method for lam < 10 (float32 uniforms, as JAX) and
// Hörmann's transformed rejection (PTRS) for lam >= 10, each over the whole array in one
// lax.whileLoop that runs until every element is done.
import type { DType } from "../core/dtype.js";
import { DTypeError } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { lax } from "../lax.js";
import { bitwiseAnd, bitwiseNot, bitwiseOr } from "../primitives/bitwise.js";
import * as P from "../primitives/elementwise.js";
import { reduceMax } from "../primitives/reduce.js";
import { lgamma } from "../primitives/special.js";
import { full } from "../primitives/util.js";
import { broadcastShapes, broadcastTo } from "../numpy/promote.js";
import { type Shape, checkKey, checkShapeArg, split } from "./keys.js";
import { checkOptions, param, row, uniformImpl } from "./samplers.js";

const MAX_ITERS = 2 ** 31 - 1;

/** Any element true (a bool scalar). */
function any(b: Tensor): Tensor {
  const i = P.convertElementType(b, "int32");
  return P.gt(b.ndim === 0 ? i : reduceMax(i, b.shape.map((_, k) => k)), full([], 0, "int32"));
}

function knuth(key: Tensor, lam: Tensor, shape: Shape): Tensor {
  const negLam = P.convertElementType(P.neg(lam), "float32");
  const [, k] = lax.whileLoop(
    ([i, , , logProd]: Tensor[]) => bitwiseAnd(any(P.gt(logProd, negLam)), P.lt(i, full([], MAX_ITERS, "int32"))),
    ([i, kk, rng, logProd]: Tensor[]) => {
      const s = split(rng);
      const next = P.select(P.gt(logProd, negLam), P.add(kk, full(shape, 1, "int32")), kk);
      const u = uniformImpl("random.poisson", row(s, 1), shape, "float32", 0, 1);
      return [P.add(i, full([], 1, "int32")), next, row(s, 0), P.add(logProd, P.log(u))];
    },
    [full([], 0, "int32"), full(shape, 0, "int32"), key, full(shape, 0, "float32")],
  ) as Tensor[];
  return P.sub(k, full(shape, 1, "int32"));
}

function rejection(key: Tensor, lam: Tensor, shape: Shape): Tensor {
  const d = lam.dtype as "float64" | "float32";
  const c = (v: number) => full(shape, v, d);
  const logLam = P.log(lam);
  const b = P.add(c(0.931), P.mul(c(2.53), P.sqrt(lam)));
  const a = P.add(c(-0.059), P.mul(c(0.02483), b));
  const invAlpha = P.add(c(1.1239), P.div(c(1.1328), P.sub(b, c(3.4))));
  const vR = P.sub(c(0.9277), P.div(c(3.6224), P.sub(b, c(2))));
  const [, kOut] = lax.whileLoop(
    ([i, , accepted]: Tensor[]) => bitwiseAnd(any(bitwiseNot(accepted)), P.lt(i, full([], MAX_ITERS, "int32"))),
    ([i, kOut, accepted, rng]: Tensor[]) => {
      const s = split(rng, 3);
      const u = P.sub(uniformImpl("random.poisson", row(s, 1), shape, d, 0, 1), c(0.5));
      const v = uniformImpl("random.poisson", row(s, 2), shape, d, 0, 1);
      const us = P.sub(c(0.5), P.abs(u));
      const k = P.floor(P.add(P.add(P.mul(P.add(P.div(P.mul(c(2), a), us), b), u), lam), c(0.43)));
      const sv = P.log(P.div(P.mul(v, invAlpha), P.add(P.div(a, P.mul(us, us)), b)));
      const t = P.sub(P.add(P.neg(lam), P.mul(k, logLam)), lgamma(P.add(k, c(1))));
      const accept1 = bitwiseAnd(P.ge(us, c(0.07)), P.le(v, vR));
      const reject = bitwiseOr(P.lt(k, c(0)), bitwiseAnd(P.lt(us, c(0.013)), P.gt(v, us)));
      const accept = bitwiseOr(accept1, bitwiseAnd(bitwiseNot(reject), P.le(sv, t)));
      return [P.add(i, full([], 1, "int32")), P.select(accept, k, kOut), bitwiseOr(accepted, accept), row(s, 0)];
    },
    [full([], 0, "int32"), c(-1), full(shape, 0, "bool"), key],
  ) as Tensor[];
  return P.convertElementType(kOut, "int32");
}

/** `poisson(key, lam, shape?, { dtype = "int32" })`: Poisson(lam) counts; shape defaults to lam's. */
export function poisson(key: TensorLike, lam: TensorLike, shape?: Shape | number, opts: { dtype?: DType } = {}): Tensor {
  const where = "random.poisson";
  checkOptions(where, opts, ["dtype"]);
  if ((opts.dtype ?? "int32") !== "int32") throw new DTypeError(`${where}: dtype must be int32, got ${JSON.stringify(opts.dtype)}`);
  const k = checkKey(key, where);
  const l = param(lam, "float64", `${where}: lam`);
  const s = shape === undefined ? broadcastShapes(where, [l.shape]) : checkShapeArg(shape, where);
  const lb = broadcastTo(l, s, where);
  const small = P.lt(lb, full(s, 10, "float64"));
  // Each branch sees a harmless lam where the other one applies, as JAX does.
  const lamKnuth = P.select(small, lb, full(s, 0, "float64"));
  const lamRej = P.select(small, full(s, 1e5, "float64"), lb);
  const out = P.select(small, knuth(k, lamKnuth, s), rejection(k, lamRej, s));
  return P.select(P.eq(lb, full(s, 0, "float64")), full(s, 0, "int32"), out);
}
