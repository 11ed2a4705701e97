// The `random` namespace: JAX's jax.random with counter-based threefry keys.
import { bits, foldIn, key, keyData, split } from "./keys.js";
import * as G from "./gamma.js";
import { multivariateNormal, orthogonal } from "./multivariate.js";
import { choice, permutation } from "./permutation.js";
import { poisson } from "./poisson.js";
import * as S from "./samplers.js";

export const random = {
  key,
  keyData,
  split,
  foldIn,
  bits,
  uniform: S.uniform,
  normal: S.normal,
  bernoulli: S.bernoulli,
  rademacher: S.rademacher,
  exponential: S.exponential,
  gumbel: S.gumbel,
  laplace: S.laplace,
  logistic: S.logistic,
  truncatedNormal: S.truncatedNormal,
  categorical: S.categorical,
  randint: S.randint,
  gamma: G.gamma,
  loggamma: G.loggamma,
  beta: G.beta,
  dirichlet: G.dirichlet,
  poisson,
  permutation,
  choice,
  multivariateNormal,
  orthogonal,
};
