// The `scipy` namespace: jax.scipy's special functions and distributions.
import { linalg } from "./linalg.js";
import * as special from "./special.js";
import * as stats from "./stats.js";

export const scipy = {
  linalg,
  special: {
    erf: special.erf,
    erfc: special.erfc,
    erfinv: special.erfinv,
    gammaln: special.gammaln,
    digamma: special.digamma,
    logit: special.logit,
    expit: special.expit,
    xlogy: special.xlogy,
    xlog1py: special.xlog1py,
    logsumexp: special.logsumexp,
    ndtr: special.ndtr,
    ndtri: special.ndtri,
    logNdtr: special.logNdtr,
    gammainc: special.gammainc,
    gammaincc: special.gammaincc,
    betainc: special.betainc,
  },
  stats: {
    norm: stats.norm,
    expon: stats.expon,
    uniform: stats.uniform,
    laplace: stats.laplace,
    cauchy: stats.cauchy,
    t: stats.t,
    gamma: stats.gamma,
    beta: stats.beta,
    bernoulli: stats.bernoulli,
    poisson: stats.poisson,
    multivariateNormal: stats.multivariateNormal,
  },
};
