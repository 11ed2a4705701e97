// Gamma-family samplers as JAX's: gamma by Marsaglia and Tsang's rejection method, one element at
// a time under vmap with per-element keys split from the key, its loops staged with
// lax.whileLoop (so it runs under jit and vmap); alpha < 1 is boosted to alpha + 1 and scaled by
// U^(1/alpha). Differentiable in alpha through JAX's implicit rule (random_gamma_grad). beta and
// dirichlet normalise gamma samples in log space, as JAX does.
import type { DType } from "../core/dtype.js";
import { ShapeError, fmtShape } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { lax } from "../lax.js";
import { customJvp } from "../transforms/custom-jvp.js";
import { vmap } from "../transforms/vmap-api.js";
import { np } from "../numpy/index.js";
import { bitwiseAnd, bitwiseOr } from "../primitives/bitwise.js";
import * as P from "../primitives/elementwise.js";
import { reduceMax, reduceSum } from "../primitives/reduce.js";
import { broadcastInDim, reshape } from "../primitives/shape.js";
import { randomGammaGrad } from "../primitives/special.js";
import { full } from "../primitives/util.js";
import { broadcastShapes, broadcastTo } from "../numpy/promote.js";
import { type Shape, checkKey, checkShapeArg, split } from "./keys.js";
import { type DTypeOptions, type FloatDType, checkOptions, exponentialImpl, floatDType, normalImpl, param, row, uniformImpl } from "./samplers.js";

const c = (v: number, dtype: DType): Tensor => full([], v, dtype);

/** One Gamma(alpha) draw (alpha a scalar Tensor), or its log when `logSpace`. */
function gammaOne(key: Tensor, alpha: Tensor, logSpace: boolean): Tensor {
  const dtype = alpha.dtype as FloatDType;
  const one = c(1, dtype), zero = c(0, dtype);
  const boost = P.ge(alpha, one);
  const a = P.select(boost, alpha, P.add(alpha, one));
  const d = P.sub(a, c(1 / 3, dtype));
  const cc = P.div(c(1 / 3, dtype), P.sqrt(d));
  const ks = split(key);
  const loopKey = row(ks, 0), boostKey = row(ks, 1);
  // Reject while U >= 1 - 0.0331 X^2 and log U >= X/2 + d (1 - V + log V), with X = x^2, V = v^3.
  const reject = ([, X, V, U]: Tensor[]) =>
    bitwiseAnd(
      P.ge(U, P.sub(one, P.mul(c(0.0331, dtype), P.mul(X, X)))),
      P.ge(P.log(U), P.add(P.mul(X, c(0.5, dtype)), P.mul(d, P.add(P.sub(one, V), P.log(V))))),
    );
  const draw = ([k]: Tensor[]) => {
    const s = split(k, 3);
    const [, x, v] = lax.whileLoop(
      ([, , vv]: Tensor[]) => P.le(vv, zero),
      ([kk]: Tensor[]) => {
        const t = split(kk);
        const xx = normalImpl(row(t, 1), [], dtype);
        return [row(t, 0), xx, P.add(one, P.mul(xx, cc))];
      },
      [row(s, 1), zero, c(-1, dtype)],
    ) as Tensor[];
    return [row(s, 0), P.mul(x, x), P.mul(P.mul(v, v), v), uniformImpl("random.gamma", row(s, 2), [], dtype, 0, 1)];
  };
  const V = (lax.whileLoop(reject, draw, [loopKey, zero, one, c(2, dtype)]) as Tensor[])[2];
  const inv = P.div(one, alpha);
  if (logSpace) {
    const logU = P.neg(exponentialImpl("random.gamma", boostKey, [], dtype));
    const logBoost = P.select(bitwiseOr(boost, P.eq(logU, zero)), zero, P.mul(logU, inv));
    return P.add(P.add(P.log(d), P.log(V)), logBoost);
  }
  const u = P.sub(one, uniformImpl("random.gamma", boostKey, [], dtype, 0, 1));
  return P.mul(P.mul(d, V), P.select(boost, one, P.pow(u, inv)));
}

/** Gamma draws of the shape of `a`: element i from split(key, a.size)[i], as JAX's random_gamma. */
function gammaDraws(key: Tensor, a: Tensor, logSpace: boolean): Tensor {
  const n = a.aval.size;
  if (n === 0) return P.convertElementType(a, a.dtype);
  const keys = split(key, n);
  const flat = reshape(a, [n]);
  const out = vmap((k: Tensor, al: Tensor) => gammaOne(k, al, logSpace))(keys, flat) as Tensor;
  return reshape(out, a.shape);
}

type Sampler = (key: Tensor, a: Tensor) => Tensor;
const samplers = new Map<boolean, Sampler>();

/**
 * The draws with JAX's derivative in `a`: dx/da = random_gamma_grad(a, x) (for log-space draws
 * y = log x, dy/da = random_gamma_grad(a, x) / x).
 */
function gammaWithGrad(logSpace: boolean): Sampler {
  let f = samplers.get(logSpace);
  if (f === undefined) {
    const g = customJvp((key: Tensor, a: Tensor) => gammaDraws(key, a, logSpace));
    g.defjvp(([key, a]: Tensor[], [, ta]: Tensor[]) => {
      const out = gammaDraws(key, a, logSpace);
      const x = logSpace ? P.exp(out) : out;
      const dx = randomGammaGrad(a, x);
      return [out, P.mul(ta, logSpace ? P.div(dx, x) : dx)];
    });
    f = g as unknown as Sampler;
    samplers.set(logSpace, f);
  }
  return f;
}

function shapeFor(where: string, given: Shape | number | undefined, ...params: Tensor[]): number[] {
  if (given === undefined) return broadcastShapes(where, params.map((p) => p.shape));
  const s = checkShapeArg(given, where);
  for (const p of params) broadcastTo(p, s, where);
  return s;
}

/** `gamma(key, a, shape?, { dtype })`: Gamma(a, 1) draws; shape defaults to a's. */
export function gamma(key: TensorLike, a: TensorLike, shape?: Shape | number, opts: DTypeOptions = {}): Tensor {
  const where = "random.gamma";
  checkOptions(where, opts, ["dtype"]);
  const dtype = floatDType(where, opts.dtype);
  const k = checkKey(key, where);
  const at = param(a, dtype, `${where}: a`);
  const s = shapeFor(where, shape, at);
  return gammaWithGrad(false)(k, broadcastTo(at, s, where));
}

/** log of Gamma(a) draws, computed in log space (accurate for tiny a), as JAX's loggamma. */
export function loggamma(key: TensorLike, a: TensorLike, shape?: Shape | number, opts: DTypeOptions = {}): Tensor {
  const where = "random.loggamma";
  checkOptions(where, opts, ["dtype"]);
  const dtype = floatDType(where, opts.dtype);
  const k = checkKey(key, where);
  const at = param(a, dtype, `${where}: a`);
  const s = shapeFor(where, shape, at);
  return gammaWithGrad(true)(k, broadcastTo(at, s, where));
}

/** `beta(key, a, b, shape?, { dtype })`: G_a / (G_a + G_b) from log-space gamma draws, as JAX. */
export function beta(key: TensorLike, a: TensorLike, b: TensorLike, shape?: Shape | number, opts: DTypeOptions = {}): Tensor {
  const where = "random.beta";
  checkOptions(where, opts, ["dtype"]);
  const dtype = floatDType(where, opts.dtype);
  const k = checkKey(key, where);
  const at = param(a, dtype, `${where}: a`), bt = param(b, dtype, `${where}: b`);
  const s = shapeFor(where, shape, at, bt);
  const ks = split(k);
  const la = gammaWithGrad(true)(row(ks, 0), broadcastTo(at, s, where));
  const lb = gammaWithGrad(true)(row(ks, 1), broadcastTo(bt, s, where));
  const m = P.max(la, lb);
  const ea = P.exp(P.sub(la, m)), eb = P.exp(P.sub(lb, m));
  return P.div(ea, P.add(ea, eb));
}

/** `dirichlet(key, alpha, shape?, { dtype })`: softmax of log-gamma draws over the last axis, as JAX. */
export function dirichlet(key: TensorLike, alpha: TensorLike, shape?: Shape | number, opts: DTypeOptions = {}): Tensor {
  const where = "random.dirichlet";
  checkOptions(where, opts, ["dtype"]);
  const dtype = floatDType(where, opts.dtype);
  const k = checkKey(key, where);
  const al = param(alpha, dtype, `${where}: alpha`);
  if (al.ndim < 1) throw new ShapeError(`${where}: alpha must have at least one dimension, got shape ${fmtShape(al.shape)}`);
  const kdim = al.shape[al.ndim - 1];
  const batch = shape === undefined ? al.shape.slice(0, -1) : checkShapeArg(shape, where);
  const full_ = [...batch, kdim];
  const lg = gammaWithGrad(true)(k, broadcastTo(al, full_, where));
  const ax = full_.length - 1;
  const m = np.stopGradient(reduceMax(lg, [ax]));
  const e = P.exp(P.sub(lg, broadcastInDim(m, full_, batch.map((_, i) => i))));
  return P.div(e, broadcastInDim(reduceSum(e, [ax]), full_, batch.map((_, i) => i)));
}
