// Learning-rate schedules, as optax's: functions from the step count (an int32 Tensor inside an
// optimizer's state, or a JS number when called by hand) to a value. Built from np functions, so a
// schedule evaluates the same eagerly and under jit.
import { JacobiError } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { np } from "../numpy/index.js";
import { T } from "../numpy/promote.js";
import { checkBoolean, checkNumber, checkOptions } from "./options.js";

/** A function of the step count (0 for the first update). */
export type Schedule = (count: TensorLike) => Tensor;
/** A learning rate: a number, or a schedule of the step count. */
export type ScalarOrSchedule = number | Schedule;

const asFloat = (count: TensorLike): Tensor => np.astype(count, "float64");

/** The same value at every step. */
export function constant(value: number): Schedule {
  const v = checkNumber("optim.constant", "value", value);
  return () => T(v);
}

/**
 * init * rate^((count - transitionBegin) / transitionSteps) (the exponent floored if `staircase`),
 * `initValue` before `transitionBegin`, and never past `endValue` when one is given.
 */
export function exponentialDecay(
  initValue: number,
  transitionSteps: number,
  decayRate: number,
  opts: { transitionBegin?: number; staircase?: boolean; endValue?: number } = {},
): Schedule {
  const where = "optim.exponentialDecay";
  checkOptions(where, opts, ["transitionBegin", "staircase", "endValue"]);
  const init = checkNumber(where, "initValue", initValue);
  const steps = checkNumber(where, "transitionSteps", transitionSteps);
  const rate = checkNumber(where, "decayRate", decayRate);
  // As optax: a non-positive transition length or a zero rate is a constant schedule, and a
  // negative start counts from 0.
  if (steps <= 0 || rate === 0) return () => T(init);
  const begin = Math.max(0, checkNumber(where, "transitionBegin", opts.transitionBegin ?? 0));
  const staircase = checkBoolean(where, "staircase", opts.staircase ?? false);
  const end = opts.endValue === undefined ? undefined : checkNumber(where, "endValue", opts.endValue);
  return (count) => {
    const decreased = np.subtract(asFloat(count), begin);
    let p = np.divide(decreased, steps);
    if (staircase) p = np.floor(p);
    let v = np.where(np.lessEqual(decreased, 0), init, np.multiply(init, np.power(T(rate), p)));
    if (end !== undefined) v = rate < 1 ? np.maximum(v, end) : np.minimum(v, end);
    return v;
  };
}

/** init * ((1 - alpha) * (0.5 (1 + cos(pi min(count, decaySteps) / decaySteps)))^exponent + alpha). */
export function cosineDecay(initValue: number, decaySteps: number, opts: { alpha?: number; exponent?: number } = {}): Schedule {
  const where = "optim.cosineDecay";
  checkOptions(where, opts, ["alpha", "exponent"]);
  const init = checkNumber(where, "initValue", initValue);
  const steps = checkNumber(where, "decaySteps", decaySteps);
  if (!(steps > 0)) throw new JacobiError(`${where}: decaySteps must be positive, got ${steps}`);
  const alpha = checkNumber(where, "alpha", opts.alpha ?? 0);
  const exponent = checkNumber(where, "exponent", opts.exponent ?? 1);
  return (count) => {
    const c = np.minimum(asFloat(count), steps);
    const cos = np.multiply(0.5, np.add(1, np.cos(np.divide(np.multiply(Math.PI, c), steps))));
    return np.multiply(init, np.add(np.multiply(1 - alpha, np.power(cos, T(exponent))), alpha));
  };
}

/** (init - end) * (1 - clip(count - begin, 0, steps) / steps)^power + end. */
export function polynomialSchedule(
  initValue: number,
  endValue: number,
  power: number,
  transitionSteps: number,
  opts: { transitionBegin?: number } = {},
): Schedule {
  const where = "optim.polynomialSchedule";
  checkOptions(where, opts, ["transitionBegin"]);
  const init = checkNumber(where, "initValue", initValue);
  const end = checkNumber(where, "endValue", endValue);
  const pw = checkNumber(where, "power", power);
  const steps = checkNumber(where, "transitionSteps", transitionSteps);
  if (steps <= 0) return () => T(init);
  const begin = Math.max(0, checkNumber(where, "transitionBegin", opts.transitionBegin ?? 0));
  return (count) => {
    const c = np.clip(np.subtract(asFloat(count), begin), 0, steps);
    const frac = np.subtract(1, np.divide(c, steps));
    return np.add(np.multiply(init - end, np.power(frac, T(pw))), end);
  };
}

/** From `initValue` to `endValue` in a straight line over `transitionSteps` steps, then constant. */
export function linearSchedule(initValue: number, endValue: number, transitionSteps: number, opts: { transitionBegin?: number } = {}): Schedule {
  checkOptions("optim.linearSchedule", opts, ["transitionBegin"]);
  return polynomialSchedule(initValue, endValue, 1, transitionSteps, opts);
}

/** schedules[0] until boundaries[0], then schedules[1] counted from that boundary, and so on. */
export function joinSchedules(schedules: readonly Schedule[], boundaries: readonly number[]): Schedule {
  const where = "optim.joinSchedules";
  if (!Array.isArray(schedules) || schedules.length === 0 || schedules.some((s) => typeof s !== "function")) {
    throw new JacobiError(`${where}: expected a non-empty array of schedules`);
  }
  if (!Array.isArray(boundaries) || boundaries.length !== schedules.length - 1) {
    throw new JacobiError(`${where}: expected ${schedules.length - 1} boundaries for ${schedules.length} schedules, got ${Array.isArray(boundaries) ? boundaries.length : String(boundaries)}`);
  }
  boundaries.forEach((b, i) => checkNumber(where, `boundaries[${i}]`, b));
  return (count) => {
    const c = asFloat(count);
    let out = T(schedules[0](c));
    boundaries.forEach((b, i) => {
      out = np.where(np.less(c, b), out, schedules[i + 1](np.subtract(c, b)));
    });
    return out;
  };
}

/**
 * A linear warm-up from `initValue` to `peakValue` over `warmupSteps`, then a cosine decay to
 * `endValue` at `decaySteps` (counted from step 0, warm-up included), as optax's.
 */
export function warmupCosineDecay(
  initValue: number,
  peakValue: number,
  warmupSteps: number,
  decaySteps: number,
  opts: { endValue?: number; exponent?: number } = {},
): Schedule {
  const where = "optim.warmupCosineDecay";
  checkOptions(where, opts, ["endValue", "exponent"]);
  const peak = checkNumber(where, "peakValue", peakValue);
  const warm = checkNumber(where, "warmupSteps", warmupSteps);
  const decay = checkNumber(where, "decaySteps", decaySteps);
  const end = checkNumber(where, "endValue", opts.endValue ?? 0);
  if (!(decay - warm > 0)) throw new JacobiError(`${where}: decaySteps (${decay}) must exceed warmupSteps (${warm})`);
  const alpha = peak === 0 ? 0 : end / peak;
  return joinSchedules(
    [linearSchedule(initValue, peak, warm), cosineDecay(peak, decay - warm, { alpha, exponent: opts.exponent ?? 1 })],
    [warm],
  );
}

/**
 * `initValue`, multiplied by `boundariesAndScales[b]` once the count reaches each boundary `b`
 * (a count equal to b is past it, as optax's).
 */
export function piecewiseConstant(initValue: number, boundariesAndScales: Readonly<Record<number, number>> = {}): Schedule {
  const where = "optim.piecewiseConstant";
  const init = checkNumber(where, "initValue", initValue);
  if (boundariesAndScales === null || typeof boundariesAndScales !== "object" || Array.isArray(boundariesAndScales)) {
    throw new JacobiError(`${where}: boundariesAndScales must be an object { step: scale }`);
  }
  const pairs = Object.entries(boundariesAndScales).map(([k, s]): [number, number] => {
    const b = Number(k);
    checkNumber(where, `boundary ${JSON.stringify(k)}`, b);
    const scale = checkNumber(where, `the scale at ${k}`, s);
    if (scale < 0) throw new JacobiError(`${where}: scales must be non-negative, got ${scale} at ${k}`);
    return [b, scale];
  });
  pairs.sort((a, b) => a[0] - b[0]);
  return (count) => {
    const c = asFloat(count);
    let v = T(init);
    for (const [b, scale] of pairs) {
      const indicator = np.maximum(0, np.sign(np.subtract(b, c)));
      v = np.add(np.multiply(v, indicator), np.multiply(np.multiply(np.subtract(1, indicator), scale), v));
    }
    return v;
  };
}
