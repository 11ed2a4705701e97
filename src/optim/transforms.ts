// Gradient transformations, as optax's: a transformation is a pair of pure functions over pytrees,
// `init(params) -> state` and `update(updates, state, params?) -> [updates, state]`. Optimizers are
// chains of small ones (scale by Adam's moments, add decayed weights, scale by the learning rate).
// Every leaf of a state is a Tensor (the step count an int32 scalar), and every step is built from
// np functions, so an update runs the same eagerly and under jit, grad or vmap.
import { describe } from "../core/convert.js";
import { JacobiError } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { flatten, map } from "../core/tree.js";
import { np } from "../numpy/index.js";
import { T } from "../numpy/promote.js";
import { checkBoolean, checkNumber, checkOptions } from "./options.js";
import type { ScalarOrSchedule, Schedule } from "./schedules.js";

/** An optimizer's state: a pytree whose leaves are Tensors. */
export type OptState = Tensor | null | readonly OptState[] | { readonly [key: string]: OptState };

/** optax's GradientTransformation: pure functions of pytrees of one structure `P`. */
export interface GradientTransformation {
  init<P>(params: P): OptState;
  update<P>(updates: P, state: OptState, params?: P): [P, OptState];
}

/** A pytree of booleans shaped like the params. */
export type MaskTree = boolean | null | readonly MaskTree[] | { readonly [key: string]: MaskTree };
/** Which leaves a transformation applies to: a MaskTree, or a function of the params making one. */
export type Mask = MaskTree | ((params: never) => MaskTree);

const INT32_MAX = 2147483647;

function transformation(init: (params: unknown) => OptState, update: (updates: unknown, state: OptState, params?: unknown) => [unknown, OptState]): GradientTransformation {
  return { init, update } as GradientTransformation;
}

/** count + 1, saturating at the largest int32 (optax's safe_increment). */
function increment(count: Tensor): Tensor {
  return np.where(np.less(count, INT32_MAX), np.add(count, 1), INT32_MAX);
}

const zeroCount = (): Tensor => np.zeros([], "int32");

function field(where: string, state: OptState, key: string): OptState {
  if (state === null || typeof state !== "object" || Array.isArray(state) || !(key in (state as object))) {
    throw new JacobiError(`${where}: the state has no ${JSON.stringify(key)}; pass the state that this transformation's init returned`);
  }
  return (state as { readonly [key: string]: OptState })[key];
}
const countOf = (where: string, state: OptState): Tensor => field(where, state, "count") as Tensor;

const dtypeOf = (x: TensorLike): string => T(x).dtype;
const castLike = (v: TensorLike, like: TensorLike): Tensor => np.astype(v, dtypeOf(like));

/** A learning rate or schedule, checked. */
function checkRate(where: string, name: string, lr: unknown): ScalarOrSchedule {
  if (typeof lr === "function") return lr as Schedule;
  return checkNumber(where, name, lr);
}

/** (1 - decay) * g^order + decay * t, leafwise (optax's update_moment). */
function updateMoment(updates: unknown, moments: OptState, decay: number, order: 1 | 2): unknown {
  return map((g: Tensor, t: Tensor) => np.add(np.multiply(1 - decay, order === 1 ? g : np.square(g)), np.multiply(decay, t)), updates, moments);
}

/** t / (1 - decay^count), leafwise, the correction cast to each leaf's dtype. */
function biasCorrection(moment: unknown, decay: number, count: Tensor): unknown {
  const c = np.subtract(1, np.power(T(decay), np.astype(count, "float64")));
  return map((t: Tensor) => np.divide(t, castLike(c, t)), moment);
}

function needParams(where: string, params: unknown): void {
  if (params === undefined) throw new JacobiError(`${where}: update needs the current params as its third argument`);
}

// ---------------------------------------------------------------------------------------------
// Building blocks

/** Leaves the updates unchanged. */
export function identity(): GradientTransformation {
  return transformation(() => null, (u, s) => [u, s]);
}

/** Multiplies every update by `stepSize`. */
export function scale(stepSize: number): GradientTransformation {
  const s = checkNumber("optim.scale", "stepSize", stepSize);
  return transformation(() => null, (u, state) => [map((g: Tensor) => np.multiply(s, g), u), state]);
}

/** Multiplies the updates by `fn(count)`, cast to each update's dtype; the count starts at 0. */
export function scaleBySchedule(fn: Schedule): GradientTransformation {
  if (typeof fn !== "function") throw new JacobiError(`optim.scaleBySchedule: expected a schedule (a function of the step count), got ${describe(fn)}`);
  return transformation(
    () => ({ count: zeroCount() }),
    (u, state) => {
      const count = countOf("optim.scaleBySchedule", state);
      const step = fn(count);
      return [map((g: Tensor) => np.multiply(castLike(step, g), g), u), { count: increment(count) }];
    },
  );
}

/** Scales by -learningRate (or by the learning rate itself if `flipSign` is false). */
export function scaleByLearningRate(learningRate: ScalarOrSchedule, opts: { flipSign?: boolean } = {}): GradientTransformation {
  const where = "optim.scaleByLearningRate";
  checkOptions(where, opts, ["flipSign"]);
  const lr = checkRate(where, "learningRate", learningRate);
  const m = checkBoolean(where, "flipSign", opts.flipSign ?? true) ? -1 : 1;
  if (typeof lr === "function") return scaleBySchedule((count) => np.multiply(m, lr(count)));
  return scale(m * lr);
}

/** Momentum: t' = g + decay t; the update is t' (or g + decay t' with `nesterov`). */
export function trace(opts: { decay: number; nesterov?: boolean }): GradientTransformation {
  const where = "optim.trace";
  checkOptions(where, opts, ["decay", "nesterov"]);
  const decay = checkNumber(where, "decay", opts.decay);
  const nesterov = checkBoolean(where, "nesterov", opts.nesterov ?? false);
  return transformation(
    (params) => ({ trace: map((p: TensorLike) => np.zerosLike(p), params) }),
    (u, state) => {
      const f = (g: Tensor, t: Tensor): Tensor => np.add(g, np.multiply(decay, t));
      const next = map(f, u, field(where, state, "trace"));
      return [nesterov ? map(f, u, next) : next, { trace: next as OptState }];
    },
  );
}

/** Adam's rescaling: bias-corrected first moment over the square root of the second, plus eps. */
export function scaleByAdam(opts: { b1?: number; b2?: number; eps?: number; epsRoot?: number; nesterov?: boolean } = {}): GradientTransformation {
  const where = "optim.scaleByAdam";
  checkOptions(where, opts, ["b1", "b2", "eps", "epsRoot", "nesterov"]);
  const b1 = checkNumber(where, "b1", opts.b1 ?? 0.9);
  const b2 = checkNumber(where, "b2", opts.b2 ?? 0.999);
  const eps = checkNumber(where, "eps", opts.eps ?? 1e-8);
  const epsRoot = checkNumber(where, "epsRoot", opts.epsRoot ?? 0);
  const nesterov = checkBoolean(where, "nesterov", opts.nesterov ?? false);
  return transformation(
    (params) => {
      const zeros = (): OptState => map((p: TensorLike) => np.zerosLike(p), params);
      return { count: zeroCount(), mu: zeros(), nu: zeros() };
    },
    (u, state) => {
      const mu = updateMoment(u, field(where, state, "mu"), b1, 1);
      const nu = updateMoment(u, field(where, state, "nu"), b2, 2);
      const count = increment(countOf(where, state));
      const muHat = nesterov
        ? map((m: Tensor, g: Tensor) => np.add(np.multiply(b1, m), np.multiply(1 - b1, g)), biasCorrection(mu, b1, increment(count)), biasCorrection(u, b1, count))
        : biasCorrection(mu, b1, count);
      const nuHat = biasCorrection(nu, b2, count);
      const updates = map((m: Tensor, v: Tensor) => np.divide(m, np.add(np.sqrt(np.add(v, epsRoot)), eps)), muHat, nuHat);
      return [updates, { count, mu: mu as OptState, nu: nu as OptState }];
    },
  );
}

/** RMSProp's rescaling: g / sqrt(nu + eps) with nu an exponential average of g^2. */
export function scaleByRms(opts: { decay?: number; eps?: number; initialScale?: number; epsInSqrt?: boolean; biasCorrection?: boolean } = {}): GradientTransformation {
  return scaleByRmsOrStddev("optim.scaleByRms", opts, false);
}

/** The centred RMSProp's rescaling: g / sqrt(nu - mu^2 + eps). */
export function scaleByStddev(opts: { decay?: number; eps?: number; initialScale?: number; epsInSqrt?: boolean; biasCorrection?: boolean } = {}): GradientTransformation {
  return scaleByRmsOrStddev("optim.scaleByStddev", opts, true);
}

function scaleByRmsOrStddev(
  where: string,
  opts: { decay?: number; eps?: number; initialScale?: number; epsInSqrt?: boolean; biasCorrection?: boolean },
  centered: boolean,
): GradientTransformation {
  checkOptions(where, opts, ["decay", "eps", "initialScale", "epsInSqrt", "biasCorrection"]);
  const decay = checkNumber(where, "decay", opts.decay ?? 0.9);
  const eps = checkNumber(where, "eps", opts.eps ?? 1e-8);
  const initialScale = checkNumber(where, "initialScale", opts.initialScale ?? 0);
  const epsInSqrt = checkBoolean(where, "epsInSqrt", opts.epsInSqrt ?? true);
  const corrected = checkBoolean(where, "biasCorrection", opts.biasCorrection ?? false);
  return transformation(
    (params) => {
      const state: { [key: string]: OptState } = { nu: map((p: TensorLike) => np.full(T(p).shape, initialScale, T(p).dtype), params) };
      if (centered) state.mu = map((p: TensorLike) => np.zerosLike(p), params);
      if (corrected) state.count = zeroCount();
      return state;
    },
    (u, state) => {
      const nu = updateMoment(u, field(where, state, "nu"), decay, 2);
      const mu = centered ? updateMoment(u, field(where, state, "mu"), decay, 1) : null;
      const next: { [key: string]: OptState } = { nu: nu as OptState };
      let nuHat = nu, muHat = mu;
      if (corrected) {
        const count = increment(countOf(where, state));
        nuHat = biasCorrection(nu, decay, count);
        if (centered) muHat = biasCorrection(mu, decay, count);
        next.count = count;
      }
      if (centered) next.mu = mu as OptState;
      const variance = centered ? map((m: Tensor, n: Tensor) => np.subtract(n, np.square(m)), muHat, nuHat) : nuHat;
      const scaling = map(
        (n: Tensor) => (epsInSqrt ? np.reciprocal(np.sqrt(np.add(n, eps))) : np.divide(1, np.add(np.sqrt(n), eps))),
        variance,
      );
      return [map((s: Tensor, g: Tensor) => np.multiply(s, g), scaling, u), next];
    },
  );
}

/** Adagrad's rescaling: g / sqrt(sum of all g^2 so far + eps), 0 where that sum is 0. */
export function scaleByRss(opts: { initialAccumulatorValue?: number; eps?: number } = {}): GradientTransformation {
  const where = "optim.scaleByRss";
  checkOptions(where, opts, ["initialAccumulatorValue", "eps"]);
  const init = checkNumber(where, "initialAccumulatorValue", opts.initialAccumulatorValue ?? 0.1);
  const eps = checkNumber(where, "eps", opts.eps ?? 1e-7);
  return transformation(
    (params) => ({ sumOfSquares: map((p: TensorLike) => np.full(T(p).shape, init, T(p).dtype), params) }),
    (u, state) => {
      const sos = map((g: Tensor, t: Tensor) => np.add(np.square(g), t), u, field(where, state, "sumOfSquares"));
      const inv = map((t: Tensor) => np.where(np.greater(t, 0), np.reciprocal(np.sqrt(np.add(t, eps))), 0), sos);
      return [map((s: Tensor, g: Tensor) => np.multiply(s, g), inv, u), { sumOfSquares: sos as OptState }];
    },
  );
}

/** The per-leaf mask as a pytree of booleans shaped like `params`. */
function maskTree(where: string, mask: Mask, params: unknown): unknown {
  const m = typeof mask === "function" ? (mask as (p: unknown) => MaskTree)(params) : mask;
  const [leaves] = flatten(m);
  for (const l of leaves) if (typeof l !== "boolean") throw new JacobiError(`${where}: a mask must be a pytree of true/false shaped like the params, found ${describe(l)}`);
  return m;
}

/** Adds weightDecay * param to each update (only where `mask` is true, when one is given). */
export function addDecayedWeights(opts: { weightDecay?: ScalarOrSchedule; mask?: Mask } = {}): GradientTransformation {
  const where = "optim.addDecayedWeights";
  checkOptions(where, opts, ["weightDecay", "mask"]);
  const wd = checkRate(where, "weightDecay", opts.weightDecay ?? 0);
  const mask = opts.mask;
  return transformation(
    () => (typeof wd === "function" ? { count: zeroCount() } : null),
    (u, state, params) => {
      needParams(where, params);
      let s: TensorLike = wd as number;
      let next = state;
      if (typeof wd === "function") {
        const count = countOf(where, state);
        s = wd(count);
        next = { count: increment(count) };
      } else if (wd === 0) return [u, state];
      const decayed = (g: Tensor, p: Tensor): Tensor => np.add(g, np.multiply(s, p));
      if (mask === undefined) return [map(decayed, u, params), next];
      return [map((g: Tensor, p: Tensor, on: boolean) => (on ? decayed(g, p) : g), u, params, maskTree(where, mask, params)), next];
    },
  );
}

/** The 2-norm of x, 0 for an all-zero x. */
const norm = (x: Tensor): Tensor => np.sqrt(np.sum(np.square(x)));

/** LAMB's layer-wise trust ratio: each update scaled by ||param|| / ||update|| (1 if either is 0). */
export function scaleByTrustRatio(opts: { minNorm?: number; trustCoefficient?: number; eps?: number } = {}): GradientTransformation {
  const where = "optim.scaleByTrustRatio";
  checkOptions(where, opts, ["minNorm", "trustCoefficient", "eps"]);
  const minNorm = checkNumber(where, "minNorm", opts.minNorm ?? 0);
  const coef = checkNumber(where, "trustCoefficient", opts.trustCoefficient ?? 1);
  const eps = checkNumber(where, "eps", opts.eps ?? 0);
  const safeNorm = (x: Tensor): Tensor => {
    const n = norm(x);
    // optax's safe_norm: clipped at minNorm, with a finite derivative where the norm is that small.
    const masked = norm(np.where(np.lessEqual(n, minNorm), np.onesLike(x), x));
    return np.where(np.lessEqual(n, minNorm), minNorm, masked);
  };
  return transformation(
    () => null,
    (u, state, params) => {
      needParams(where, params);
      const one = (g: Tensor, p: TensorLike): Tensor => {
        const pn = safeNorm(T(p)), un = safeNorm(g);
        const ratio = np.divide(np.multiply(coef, pn), np.add(un, eps));
        const zero = np.where(np.equal(pn, 0), true, np.equal(un, 0));
        return np.multiply(g, np.where(zero, np.ones([], dtypeOf(p) as never), ratio));
      };
      return [map(one, u, params), state];
    },
  );
}

/** sqrt of the sum of squares of every element of every leaf. */
export function globalNorm(tree: unknown): Tensor {
  const [leaves] = flatten(tree);
  let sq: Tensor = T(0);
  for (const l of leaves) sq = np.add(sq, np.sum(np.square(T(l, "optim.globalNorm: leaf"))));
  return np.sqrt(sq);
}

/** Scales all updates by maxNorm / globalNorm(updates) when that norm is maxNorm or more. */
export function clipByGlobalNorm(maxNorm: number): GradientTransformation {
  const m = checkNumber("optim.clipByGlobalNorm", "maxNorm", maxNorm);
  return transformation(
    () => null,
    (u, state) => {
      const g = globalNorm(u);
      const keep = np.less(g, m);
      return [map((t: Tensor) => np.where(keep, t, np.multiply(np.divide(t, castLike(g, t)), m)), u), state];
    },
  );
}

/** Applies the transformations in order; the state is the array of their states. */
export function chain(...transforms: GradientTransformation[]): GradientTransformation {
  transforms.forEach((t, i) => {
    if (t === null || typeof t !== "object" || typeof t.init !== "function" || typeof t.update !== "function") {
      throw new JacobiError(`optim.chain: argument ${i} is not a gradient transformation { init, update }, got ${describe(t)}`);
    }
  });
  return transformation(
    (params) => transforms.map((t) => t.init(params)),
    (u, state, params) => {
      if (!Array.isArray(state) || state.length !== transforms.length) {
        throw new JacobiError(`optim.chain: expected the state of ${transforms.length} transformations (what init returned), got ${Array.isArray(state) ? `${state.length} states` : describe(state)}`);
      }
      const next: OptState[] = [];
      let updates = u;
      transforms.forEach((t, i) => {
        const [v, s] = t.update(updates, state[i] as OptState, params);
        updates = v;
        next.push(s);
      });
      return [updates, next];
    },
  );
}

/** params + updates, leafwise, each result in its param's dtype. */
export function applyUpdates<P>(params: P, updates: P): P {
  return map((p: TensorLike, u: TensorLike) => np.astype(np.add(p, u), dtypeOf(p)), params, updates) as P;
}

// ---------------------------------------------------------------------------------------------
// Optimizers (optax's aliases)

/** Stochastic gradient descent, with optional (Nesterov) momentum. */
export function sgd(learningRate: ScalarOrSchedule, opts: { momentum?: number; nesterov?: boolean } = {}): GradientTransformation {
  const where = "optim.sgd";
  checkOptions(where, opts, ["momentum", "nesterov"]);
  const lr = checkRate(where, "learningRate", learningRate);
  const nesterov = checkBoolean(where, "nesterov", opts.nesterov ?? false);
  const first = opts.momentum === undefined ? identity() : trace({ decay: opts.momentum, nesterov });
  return chain(first, scaleByLearningRate(lr));
}

type AdamOpts = { b1?: number; b2?: number; eps?: number; epsRoot?: number; nesterov?: boolean };

/** Adam (Kingma & Ba): b1 0.9, b2 0.999, eps 1e-8, epsRoot 0, as optax. */
export function adam(learningRate: ScalarOrSchedule, opts: AdamOpts = {}): GradientTransformation {
  checkOptions("optim.adam", opts, ["b1", "b2", "eps", "epsRoot", "nesterov"]);
  const lr = checkRate("optim.adam", "learningRate", learningRate);
  return chain(scaleByAdam(opts), scaleByLearningRate(lr));
}

/** Adam with decoupled weight decay (default 1e-4, as optax), masked per leaf if `mask` is given. */
export function adamw(learningRate: ScalarOrSchedule, opts: AdamOpts & { weightDecay?: ScalarOrSchedule; mask?: Mask } = {}): GradientTransformation {
  checkOptions("optim.adamw", opts, ["b1", "b2", "eps", "epsRoot", "nesterov", "weightDecay", "mask"]);
  const lr = checkRate("optim.adamw", "learningRate", learningRate);
  const { weightDecay, mask, ...adamOpts } = opts;
  return chain(scaleByAdam(adamOpts), addDecayedWeights({ weightDecay: weightDecay ?? 1e-4, mask }), scaleByLearningRate(lr));
}

/** RMSProp as optax's (decay 0.9, eps 1e-8 inside the square root), optionally centred, with momentum. */
export function rmsprop(
  learningRate: ScalarOrSchedule,
  opts: { decay?: number; eps?: number; initialScale?: number; epsInSqrt?: boolean; centered?: boolean; momentum?: number; nesterov?: boolean; biasCorrection?: boolean } = {},
): GradientTransformation {
  const where = "optim.rmsprop";
  checkOptions(where, opts, ["decay", "eps", "initialScale", "epsInSqrt", "centered", "momentum", "nesterov", "biasCorrection"]);
  const lr = checkRate(where, "learningRate", learningRate);
  const { centered, momentum, nesterov, ...rest } = opts;
  const scaler = checkBoolean(where, "centered", centered ?? false) ? scaleByStddev(rest) : scaleByRms(rest);
  const mom = momentum === undefined ? identity() : trace({ decay: momentum, nesterov: nesterov ?? false });
  return chain(scaler, scaleByLearningRate(lr), mom);
}

/** Adagrad as optax's: initialAccumulatorValue 0.1, eps 1e-7. */
export function adagrad(learningRate: ScalarOrSchedule, opts: { initialAccumulatorValue?: number; eps?: number } = {}): GradientTransformation {
  checkOptions("optim.adagrad", opts, ["initialAccumulatorValue", "eps"]);
  const lr = checkRate("optim.adagrad", "learningRate", learningRate);
  return chain(scaleByRss(opts), scaleByLearningRate(lr));
}

/** LAMB (You et al.): Adam (eps 1e-6), decayed weights, then the layer-wise trust ratio. */
export function lamb(
  learningRate: ScalarOrSchedule,
  opts: { b1?: number; b2?: number; eps?: number; epsRoot?: number; weightDecay?: ScalarOrSchedule; mask?: Mask } = {},
): GradientTransformation {
  checkOptions("optim.lamb", opts, ["b1", "b2", "eps", "epsRoot", "weightDecay", "mask"]);
  const lr = checkRate("optim.lamb", "learningRate", learningRate);
  const { weightDecay, mask, ...adamOpts } = opts;
  return chain(
    scaleByAdam({ ...adamOpts, eps: adamOpts.eps ?? 1e-6 }),
    addDecayedWeights({ weightDecay: weightDecay ?? 0, mask }),
    scaleByTrustRatio(),
    scaleByLearningRate(lr),
  );
}
