// The `nn` namespace: jax.nn's activations, normalisers and attention, composed from np functions.
import * as a from "./activations.js";
import { dotProductAttention } from "./attention.js";
import * as n from "./normalizers.js";
import { avgPool, maxPool } from "./pooling.js";
import { initializers } from "./initializers.js";

export type { LogsumexpOptions } from "./normalizers.js";
export type { AttentionOptions } from "./attention.js";
export type { AvgPoolOptions } from "./pooling.js";
export type { Initializer, FanOptions, FanMode, Distribution } from "./initializers.js";

export const nn = {
  relu: a.relu,
  relu6: a.relu6,
  sigmoid: a.sigmoid,
  logSigmoid: a.logSigmoid,
  softplus: a.softplus,
  softSign: a.softSign,
  silu: a.silu,
  swish: a.swish,
  gelu: a.gelu,
  elu: a.elu,
  celu: a.celu,
  selu: a.selu,
  leakyRelu: a.leakyRelu,
  hardTanh: a.hardTanh,
  hardSigmoid: a.hardSigmoid,
  glu: a.glu,
  mish: a.mish,
  squareplus: a.squareplus,
  sparsePlus: a.sparsePlus,
  log1mexp: a.log1mexp,
  logsumexp: n.logsumexp,
  logmeanexp: n.logmeanexp,
  softmax: n.softmax,
  logSoftmax: n.logSoftmax,
  standardize: n.standardize,
  oneHot: n.oneHot,
  dotProductAttention,
  maxPool,
  avgPool,
  initializers,
};
