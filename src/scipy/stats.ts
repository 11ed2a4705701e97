// jax.scipy.stats distributions: log densities (and densities, CDFs where JAX has them and they
// need no incomplete gamma or beta function), composed from np and the special functions, so
// they are differentiable in the values and the parameters. Parameters broadcast as in NumPy.
import type { Tensor, TensorLike } from "../core/tensor.js";
import { np } from "../numpy/index.js";
import { promoteArgs } from "../numpy/promote.js";
import { ShapeError, fmtShape } from "../core/errors.js";
import { cholesky, solveLower } from "../random/linalg.js";
import { betainc, gammainc, gammaincc, gammaln, logNdtr, ndtr, ndtri, xlog1py, xlogy } from "./special.js";

type T = TensorLike;
const LOG_2PI = Math.log(2 * Math.PI);
const args = (name: string, xs: T[]): Tensor[] => promoteArgs(`scipy.stats.${name}`, xs, { float: true });
/** (x - loc) / scale, with every argument promoted to float and broadcast. */
function standardize(name: string, x: T, loc: T, scale: T): [Tensor, Tensor] {
  const [xt, l, s] = args(name, [x, loc, scale]);
  return [np.divide(np.subtract(xt, l), s), s];
}

export const norm = {
  logpdf(x: T, loc: T = 0, scale: T = 1): Tensor {
    const [y, s] = standardize("norm.logpdf", x, loc, scale);
    return np.subtract(np.multiply(-0.5, np.multiply(y, y)), np.add(np.log(s), 0.5 * LOG_2PI));
  },
  pdf: (x: T, loc: T = 0, scale: T = 1): Tensor => np.exp(norm.logpdf(x, loc, scale)),
  cdf: (x: T, loc: T = 0, scale: T = 1): Tensor => ndtr(standardize("norm.cdf", x, loc, scale)[0]),
  logcdf: (x: T, loc: T = 0, scale: T = 1): Tensor => logNdtr(standardize("norm.logcdf", x, loc, scale)[0]),
  sf: (x: T, loc: T = 0, scale: T = 1): Tensor => ndtr(np.negative(standardize("norm.sf", x, loc, scale)[0])),
  ppf(q: T, loc: T = 0, scale: T = 1): Tensor {
    const [qt, l, s] = args("norm.ppf", [q, loc, scale]);
    return np.add(np.multiply(ndtri(qt), s), l);
  },
};

export const expon = {
  logpdf(x: T, loc: T = 0, scale: T = 1): Tensor {
    const [y, s] = standardize("expon.logpdf", x, loc, scale);
    return np.where(np.less(y, 0), -Infinity, np.subtract(np.negative(y), np.log(s)));
  },
  pdf: (x: T, loc: T = 0, scale: T = 1): Tensor => np.exp(expon.logpdf(x, loc, scale)),
  cdf(x: T, loc: T = 0, scale: T = 1): Tensor {
    const [y] = standardize("expon.cdf", x, loc, scale);
    return np.where(np.less(y, 0), 0, np.negative(np.expm1(np.negative(np.maximum(y, 0)))));
  },
  sf(x: T, loc: T = 0, scale: T = 1): Tensor {
    const [y] = standardize("expon.sf", x, loc, scale);
    return np.where(np.less(y, 0), 1, np.exp(np.negative(np.maximum(y, 0))));
  },
};

export const uniform = {
  logpdf(x: T, loc: T = 0, scale: T = 1): Tensor {
    const [xt, l, s] = args("uniform.logpdf", [x, loc, scale]);
    const inside = np.where(np.less(xt, l), false, np.lessEqual(xt, np.add(l, s)));
    return np.where(inside, np.negative(np.log(s)), -Infinity);
  },
  pdf: (x: T, loc: T = 0, scale: T = 1): Tensor => np.exp(uniform.logpdf(x, loc, scale)),
  cdf: (x: T, loc: T = 0, scale: T = 1): Tensor => np.clip(standardize("uniform.cdf", x, loc, scale)[0], 0, 1),
};

export const laplace = {
  logpdf(x: T, loc: T = 0, scale: T = 1): Tensor {
    const [y, s] = standardize("laplace.logpdf", x, loc, scale);
    return np.subtract(np.negative(np.abs(y)), np.log(np.multiply(2, s)));
  },
  pdf: (x: T, loc: T = 0, scale: T = 1): Tensor => np.exp(laplace.logpdf(x, loc, scale)),
  cdf(x: T, loc: T = 0, scale: T = 1): Tensor {
    const [y] = standardize("laplace.cdf", x, loc, scale);
    const neg = np.less(y, 0);
    return np.where(neg, np.multiply(0.5, np.exp(np.minimum(y, 0))), np.subtract(1, np.multiply(0.5, np.exp(np.negative(np.maximum(y, 0))))));
  },
};

export const cauchy = {
  logpdf(x: T, loc: T = 0, scale: T = 1): Tensor {
    const [y, s] = standardize("cauchy.logpdf", x, loc, scale);
    return np.negative(np.add(np.add(np.log(s), Math.log(Math.PI)), np.log1p(np.multiply(y, y))));
  },
  pdf: (x: T, loc: T = 0, scale: T = 1): Tensor => np.exp(cauchy.logpdf(x, loc, scale)),
  cdf: (x: T, loc: T = 0, scale: T = 1): Tensor => np.add(0.5, np.divide(np.arctan(standardize("cauchy.cdf", x, loc, scale)[0]), Math.PI)),
};

export const t = {
  logpdf(x: T, df: T, loc: T = 0, scale: T = 1): Tensor {
    const [xt, d, l, s] = args("t.logpdf", [x, df, loc, scale]);
    const y = np.divide(np.subtract(xt, l), s);
    const half = np.multiply(0.5, np.add(d, 1));
    const norm_ = np.subtract(gammaln(half), np.add(gammaln(np.multiply(0.5, d)), np.multiply(0.5, np.log(np.multiply(d, Math.PI)))));
    return np.subtract(np.subtract(norm_, np.log(s)), np.multiply(half, np.log1p(np.divide(np.multiply(y, y), d))));
  },
  pdf: (x: T, df: T, loc: T = 0, scale: T = 1): Tensor => np.exp(t.logpdf(x, df, loc, scale)),
};

export const gamma = {
  logpdf(x: T, a: T, loc: T = 0, scale: T = 1): Tensor {
    const [xt, at, l, s] = args("gamma.logpdf", [x, a, loc, scale]);
    const y = np.divide(np.subtract(xt, l), s);
    const yp = np.maximum(y, 0);
    const lp = np.subtract(np.subtract(xlogy(np.subtract(at, 1), yp), yp), np.add(gammaln(at), np.log(s)));
    return np.where(np.less(y, 0), -Infinity, lp);
  },
  pdf: (x: T, a: T, loc: T = 0, scale: T = 1): Tensor => np.exp(gamma.logpdf(x, a, loc, scale)),
  cdf(x: T, a: T, loc: T = 0, scale: T = 1): Tensor {
    const [xt, at, l, s] = args("gamma.cdf", [x, a, loc, scale]);
    return gammainc(at, np.maximum(np.divide(np.subtract(xt, l), s), 0));
  },
};

export const beta = {
  logpdf(x: T, a: T, b: T, loc: T = 0, scale: T = 1): Tensor {
    const [xt, at, bt, l, s] = args("beta.logpdf", [x, a, b, loc, scale]);
    const y = np.divide(np.subtract(xt, l), s);
    const yc = np.clip(y, 0, 1);
    const lbeta = np.subtract(np.add(gammaln(at), gammaln(bt)), gammaln(np.add(at, bt)));
    const lp = np.subtract(np.add(xlogy(np.subtract(at, 1), yc), xlog1py(np.subtract(bt, 1), np.negative(yc))), np.add(lbeta, np.log(s)));
    return np.where(np.less(y, 0), -Infinity, np.where(np.greater(y, 1), -Infinity, lp));
  },
  pdf: (x: T, a: T, b: T, loc: T = 0, scale: T = 1): Tensor => np.exp(beta.logpdf(x, a, b, loc, scale)),
  cdf(x: T, a: T, b: T, loc: T = 0, scale: T = 1): Tensor {
    const [xt, at, bt, l, s] = args("beta.cdf", [x, a, b, loc, scale]);
    return betainc(at, bt, np.clip(np.divide(np.subtract(xt, l), s), 0, 1));
  },
};

export const bernoulli = {
  logpmf(k: T, p: T, loc: T = 0): Tensor {
    const [kt, pt, l] = args("bernoulli.logpmf", [k, p, loc]);
    const y = np.subtract(kt, l);
    const lp = np.add(xlogy(y, pt), xlog1py(np.subtract(1, y), np.negative(pt)));
    return np.where(np.less(y, 0), -Infinity, np.where(np.greater(y, 1), -Infinity, lp));
  },
  pmf: (k: T, p: T, loc: T = 0): Tensor => np.exp(bernoulli.logpmf(k, p, loc)),
  cdf(k: T, p: T, loc: T = 0): Tensor {
    const [kt, pt, l] = args("bernoulli.cdf", [k, p, loc]);
    const y = np.subtract(kt, l);
    return np.where(np.less(y, 0), 0, np.where(np.less(y, 1), np.subtract(1, pt), 1));
  },
};

export const poisson = {
  logpmf(k: T, mu: T, loc: T = 0): Tensor {
    const [kt, m, l] = args("poisson.logpmf", [k, mu, loc]);
    const y = np.subtract(kt, l);
    const lp = np.subtract(np.subtract(xlogy(y, m), gammaln(np.add(np.maximum(y, 0), 1))), m);
    // Zero mass below 0 and between the integers.
    return np.where(np.less(y, 0), -Infinity, np.where(np.notEqual(np.floor(y), y), -Infinity, lp));
  },
  pmf: (k: T, mu: T, loc: T = 0): Tensor => np.exp(poisson.logpmf(k, mu, loc)),
  /** Q(floor(k) + 1, mu): the upper incomplete gamma function, 0 below k = 0. */
  cdf(k: T, mu: T, loc: T = 0): Tensor {
    const [kt, m, l] = args("poisson.cdf", [k, mu, loc]);
    const y = np.floor(np.subtract(kt, l));
    return np.where(np.less(y, 0), 0, gammaincc(np.add(np.maximum(y, 0), 1), m));
  },
};

export const multivariateNormal = {
  /** -|L^-1 (x - mean)|^2 / 2 - n log(2 pi) / 2 - sum log diag L, with L = cholesky(cov), as JAX. */
  logpdf(x: T, mean: T, cov: T): Tensor {
    const [xt, m] = args("multivariateNormal.logpdf", [x, mean]);
    const [c] = args("multivariateNormal.logpdf", [cov]);
    const n = xt.shape[xt.ndim - 1];
    if (c.ndim < 2 || c.shape[c.ndim - 1] !== n || c.shape[c.ndim - 2] !== n) {
      throw new ShapeError(`scipy.stats.multivariateNormal.logpdf: cov must have shape [..., ${n}, ${n}] for x of shape ${fmtShape(xt.shape)}, got ${fmtShape(c.shape)}`);
    }
    const l = cholesky(c);
    const d = np.subtract(xt, m);
    // Batch axes of x and cov broadcast inside the substitution.
    const y = solveLower(l, d);
    const logDiag = np.sum(np.log(np.sum(np.multiply(l, np.eye(n)), -1)), -1);
    return np.subtract(np.subtract(np.multiply(-0.5, np.sum(np.multiply(y, y), -1)), 0.5 * n * LOG_2PI), logDiag);
  },
  pdf: (x: T, mean: T, cov: T): Tensor => np.exp(multivariateNormal.logpdf(x, mean, cov)),
};
