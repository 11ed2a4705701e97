// The `optim` namespace: optax's gradient transformations, optimizers and schedules.
import * as s from "./schedules.js";
import * as t from "./transforms.js";

export type { Schedule, ScalarOrSchedule } from "./schedules.js";
export type { GradientTransformation, OptState, Mask, MaskTree } from "./transforms.js";

export const optim = {
  sgd: t.sgd,
  adam: t.adam,
  adamw: t.adamw,
  rmsprop: t.rmsprop,
  adagrad: t.adagrad,
  lamb: t.lamb,
  clipByGlobalNorm: t.clipByGlobalNorm,
  chain: t.chain,
  applyUpdates: t.applyUpdates,
  globalNorm: t.globalNorm,
  identity: t.identity,
  scale: t.scale,
  scaleByLearningRate: t.scaleByLearningRate,
  scaleBySchedule: t.scaleBySchedule,
  trace: t.trace,
  scaleByAdam: t.scaleByAdam,
  scaleByRms: t.scaleByRms,
  scaleByStddev: t.scaleByStddev,
  scaleByRss: t.scaleByRss,
  scaleByTrustRatio: t.scaleByTrustRatio,
  addDecayedWeights: t.addDecayedWeights,
  constant: s.constant,
  exponentialDecay: s.exponentialDecay,
  cosineDecay: s.cosineDecay,
  warmupCosineDecay: s.warmupCosineDecay,
  piecewiseConstant: s.piecewiseConstant,
  linearSchedule: s.linearSchedule,
  polynomialSchedule: s.polynomialSchedule,
  joinSchedules: s.joinSchedules,
};
