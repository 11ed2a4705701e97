// Special functions as elementwise primitives: erf, erfc, erf_inv, lgamma, digamma (JAX's lax
// names). Each derivative is a closed form in primitives, so every order is differentiable:
// digamma's is the trigamma function, built here as a composite (recurrence plus asymptotic
// series) from elementwise primitives, as XLA does for polygamma.
import { special as K } from "../backend/index.js";
import { isFloat } from "../core/dtype.js";
import { DTypeError, JacobiError } from "../core/errors.js";
import { type Primitive, definePrimitive } from "../core/primitive.js";
import type { ShapedArray } from "../core/shaped-array.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { asTensor } from "../core/convert.js";
import { bind1 } from "../core/trace.js";
import { vectorizedBatch } from "./batching.js";
import { onnxOp } from "./onnx-rules.js";
import { add, div, exp, gt, log, log1p, mul, neg, select, sin, sub } from "./elementwise.js";
import { transcendentalCost, prefix } from "./metadata.js";
import { defjvp } from "./rule-helpers.js";
import { floatAval, fullLike, naryAval } from "./util.js";
import { elementwiseSparsity } from "../interpreters/sparsity.js";

type Unary = (x: Tensor) => Tensor;

/** `f32`: a float32 kernel, when float32 results should follow an algorithm of their own (erf_inv). */
function special(name: string, f: (x: number) => number, coef: (x: Tensor, y: Tensor) => Tensor, f32 = f): [Primitive, Unary] {
  const p = definePrimitive(name, (self) => ({
    impl: ([x], _params, [out]) => [K.mapScalar(out.dtype === "float32" ? f32 : f, x, out.dtype)],
    abstractEval: floatAval(name),
    jvp: defjvp(self, (t, [x], y) => mul(t, coef(x, y))),
    batch: vectorizedBatch(self),
    cost: transcendentalCost,
    notation: prefix(name),
    sparsity: elementwiseSparsity,
    ...(name === "erf" ? { onnx: onnxOp("Erf") } : {}),
  }));
  return [p, (x: Tensor) => bind1(p, [x])];
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

// erf' = 2/sqrt(pi) e^(-x^2); erfc' = -erf'; erf_inv' = sqrt(pi)/2 e^(y^2) with y = erf_inv(x).
export const [erfP, erf] = special("erf", K.erf, (x) => mul(fullLike(x, TWO_OVER_SQRT_PI), exp(neg(mul(x, x)))));
export const [erfcP, erfc] = special("erfc", K.erfc, (x) => mul(fullLike(x, -TWO_OVER_SQRT_PI), exp(neg(mul(x, x)))));
// float32 follows XLA's single-precision polynomial, so that float32 normals are JAX's bits.
export const [erfInvP, erfInv] = special("erf_inv", K.erfInv, (_x, y) => mul(fullLike(y, Math.sqrt(Math.PI) / 2), exp(mul(y, y))), K.erfInv32);
export const [lgammaP, lgamma] = special("lgamma", K.lgamma, (x) => digamma(x));
export const [digammaP, digamma] = special("digamma", K.digamma, (x) => trigamma(x));

/**
 * psi'(x): for x > 0, sum_{k<10} 1/(x+k)^2 plus the asymptotic series at x + 10
 * (1/z + 1/(2z^2) + 1/(6z^3) - 1/(30z^5) + 1/(42z^7) - 1/(30z^9) + 5/(66z^11)); for x <= 0 the
 * reflection psi'(x) = pi^2 / sin^2(pi x) - psi'(1 - x). A composite, so it differentiates too.
 */
export function trigamma(x: Tensor): Tensor {
  const c = (v: number) => fullLike(x, v);
  const positive = gt(x, c(0));
  const xp = select(positive, x, sub(c(1), x));
  let acc = c(0);
  for (let k = 0; k < 10; k++) {
    const s = add(xp, c(k));
    acc = add(acc, div(c(1), mul(s, s)));
  }
  const z = add(xp, c(10)), iz = div(c(1), z), iz2 = mul(iz, iz);
  // Horner in 1/z^2 for the odd-power tail.
  let tail = c(5 / 66);
  for (const b of [-1 / 30, 1 / 42, -1 / 30, 1 / 6]) tail = add(c(b), mul(tail, iz2));
  const asym = add(add(iz, mul(c(0.5), iz2)), mul(mul(tail, iz2), iz));
  const val = add(acc, asym);
  const s = sin(mul(c(Math.PI), x));
  const reflected = sub(div(c(Math.PI * Math.PI), mul(s, s)), val);
  return select(positive, val, reflected);
}

/**
 * `random_gamma_grad(a, x)`: d x / d a of Gamma(a) samples x by implicit differentiation of the
 * CDF, as JAX's primitive of that name. Like JAX's, it has no derivative of its own.
 */
export const randomGammaGradP = definePrimitive("random_gamma_grad", (self) => ({
  impl: ([a, x], _params, [out]) => [K.mapScalar2(K.gammaSampleGrad, a, x, out.dtype)],
  abstractEval: (avals: ShapedArray[]) => {
    if (!isFloat(avals[0].dtype)) throw new DTypeError(`random_gamma_grad: expected floating-point inputs, got ${avals.map((v) => v.dtype).join(" and ")}`);
    return [naryAval("random_gamma_grad", avals)];
  },
  cost: transcendentalCost,
  jvp: () => {
    throw new JacobiError("random_gamma_grad: second derivatives of gamma samples with respect to their shape parameter are not implemented (JAX has none either)");
  },
  batch: vectorizedBatch(self),
  sparsity: elementwiseSparsity,
}));
export const randomGammaGrad = (a: Tensor, x: Tensor): Tensor => bind1(randomGammaGradP, [a, x]);

/** Shape-strict float operands (the user-level wrappers broadcast and promote first). */
function floatOperands(name: string) {
  return (avals: ShapedArray[]): ShapedArray[] => {
    if (!avals.every((a) => isFloat(a.dtype))) throw new DTypeError(`${name}: expected floating-point inputs, got ${avals.map((v) => v.dtype).join(" and ")}`);
    return [naryAval(name, avals)];
  };
}

/** A JVP rule for an argument JAX does not differentiate with respect to either. */
const noDerivative = (name: string, arg: string) => (): never => {
  throw new JacobiError(`${name}: the derivative with respect to ${arg} is not implemented (as in JAX)`);
};

/** dP(a, x)/dx = x^(a-1) e^-x / Gamma(a), in log space. */
const igammaDx = (a: Tensor, x: Tensor): Tensor => exp(sub(add(neg(x), mul(sub(a, fullLike(a, 1)), log(x))), lgamma(a)));

/** d P(a, x) / d a (JAX's igamma_grad_a); differentiable in x (a closed form), not in a, as JAX's. */
export const igammaGradAP = definePrimitive("igamma_grad_a", (self) => ({
  impl: ([a, x], _params, [out]) => [K.mapScalar2(K.igammaGradA, a, x, out.dtype)],
  abstractEval: floatOperands("igamma_grad_a"),
  jvp: defjvp(self, noDerivative("igamma_grad_a", "a"), (t, [a, x]) => mul(t, mul(igammaDx(a, x), sub(log(x), digamma(a))))),
  batch: vectorizedBatch(self),
  cost: transcendentalCost,
  sparsity: elementwiseSparsity,
}));
export const igammaGradA = (a: Tensor, x: Tensor): Tensor => bind1(igammaGradAP, [a, x]);

/** The regularized lower incomplete gamma function P(a, x) (JAX's igamma). */
export const igammaP = definePrimitive("igamma", (self) => ({
  impl: ([a, x], _params, [out]) => [K.mapScalar2(K.igamma, a, x, out.dtype)],
  abstractEval: floatOperands("igamma"),
  jvp: defjvp(self, (t, [a, x]) => mul(t, igammaGradA(a, x)), (t, [a, x]) => mul(t, igammaDx(a, x))),
  batch: vectorizedBatch(self),
  cost: transcendentalCost,
  sparsity: elementwiseSparsity,
}));
export const igamma = (a: Tensor, x: Tensor): Tensor => bind1(igammaP, [a, x]);

/** Q(a, x) = 1 - P(a, x), accurate where it is small (JAX's igammac). */
export const igammacP = definePrimitive("igammac", (self) => ({
  impl: ([a, x], _params, [out]) => [K.mapScalar2(K.igammac, a, x, out.dtype)],
  abstractEval: floatOperands("igammac"),
  jvp: defjvp(self, (t, [a, x]) => neg(mul(t, igammaGradA(a, x))), (t, [a, x]) => neg(mul(t, igammaDx(a, x)))),
  batch: vectorizedBatch(self),
  cost: transcendentalCost,
  sparsity: elementwiseSparsity,
}));
export const igammac = (a: Tensor, x: Tensor): Tensor => bind1(igammacP, [a, x]);

/**
 * The regularized incomplete beta function I_x(a, b) (JAX's regularized_incomplete_beta):
 * differentiable in x, x^(a-1) (1-x)^(b-1) / B(a, b); not in a or b, as JAX's.
 */
export const betaincP = definePrimitive("regularized_incomplete_beta", (self) => ({
  impl: ([a, b, x], _params, [out]) => [K.mapScalar3(K.betainc, a, b, x, out.dtype)],
  abstractEval: floatOperands("regularized_incomplete_beta"),
  jvp: defjvp(self, noDerivative("betainc", "a"), noDerivative("betainc", "b"), (t, [a, b, x]) => {
    const one = fullLike(x, 1);
    const lbeta = sub(add(lgamma(a), lgamma(b)), lgamma(add(a, b)));
    return mul(t, exp(sub(add(mul(sub(b, one), log1p(neg(x))), mul(sub(a, one), log(x))), lbeta)));
  }),
  batch: vectorizedBatch(self),
  cost: transcendentalCost,
  sparsity: elementwiseSparsity,
}));
export const betainc = (a: Tensor, b: Tensor, x: Tensor): Tensor => bind1(betaincP, [a, b, x]);

/** jax.lax's names for these, taking any TensorLike (float inputs only, as lax does not promote). */
export const laxSpecial = {
  erf: (x: TensorLike): Tensor => erf(asTensor(x, "lax.erf: x")),
  erfc: (x: TensorLike): Tensor => erfc(asTensor(x, "lax.erfc: x")),
  erfInv: (x: TensorLike): Tensor => erfInv(asTensor(x, "lax.erfInv: x")),
  lgamma: (x: TensorLike): Tensor => lgamma(asTensor(x, "lax.lgamma: x")),
  digamma: (x: TensorLike): Tensor => digamma(asTensor(x, "lax.digamma: x")),
};
