// nn.initializers, as jax.nn.initializers: each is a function `init(key, shape, dtype?)` drawing
// from the `random` module, with fans computed from the shape as JAX's _compute_fans (the
// in-axis -2 and out-axis -1 by default, every other non-batch axis a receptive field).
import { describe } from "../core/convert.js";
import { JacobiError, ShapeError, fmtShape } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { checkOptions, integers, positiveNumber } from "../core/validate.js";
import { np } from "../numpy/index.js";
import { checkShapeArg } from "../random/keys.js";
import { floatDType, normal as normalSample, truncatedNormal, uniform as uniformSample } from "../random/samplers.js";

export type Initializer = (key: TensorLike, shape: readonly number[], dtype?: "float64" | "float32") => Tensor;

const shapeOf = (where: string, shape: unknown): number[] => checkShapeArg(shape, where);

/** An initializer filling every element with `value`. */
export function constant(value: number): Initializer {
  if (typeof value !== "number") throw new JacobiError(`nn.initializers.constant: value must be a number, got ${describe(value)}`);
  return (_key, shape, dtype) => np.full(shapeOf("nn.initializers.constant", shape), value, floatDType("nn.initializers.constant", dtype));
}

export const zeros: Initializer = (key, shape, dtype) => constant(0)(key, shape, dtype);
export const ones: Initializer = (key, shape, dtype) => constant(1)(key, shape, dtype);

/** Normal draws with standard deviation `stddev`. */
export function normal(stddev = 1e-2): Initializer {
  return (key, shape, dtype) => np.multiply(normalSample(key, shapeOf("nn.initializers.normal", shape), { dtype: floatDType("nn.initializers.normal", dtype) }), stddev);
}

/** Uniform draws on [0, scale). */
export function uniform(scale = 1e-2): Initializer {
  return (key, shape, dtype) => np.multiply(uniformSample(key, shapeOf("nn.initializers.uniform", shape), { dtype: floatDType("nn.initializers.uniform", dtype) }), scale);
}

export interface FanOptions {
  /** The axis (or axes) of input features: default -2. */
  inAxis?: number | number[];
  /** The axis (or axes) of output features: default -1. */
  outAxis?: number | number[];
  /** Axes of independent weights, left out of the fans: default none. */
  batchAxis?: number | number[];
}

/** JAX's _compute_fans: [fan in, fan out] of a weights shape (at least 2-d). */
export function computeFans(where: string, shape: readonly number[], opts: FanOptions = {}): [number, number] {
  if (shape.length < 2) throw new ShapeError(`${where}: cannot compute the fans of a ${shape.length}-d weights shape ${fmtShape(shape)}; it must be at least 2-d`);
  const axes = (a: number | number[] | undefined, dflt: number, what: string) => {
    const list = a === undefined ? [dflt] : typeof a === "number" ? [a] : a;
    return list.map((x) => {
      if (!(x >= -shape.length && x < shape.length)) throw new ShapeError(`${where}: ${what} ${x} is out of range for shape ${fmtShape(shape)}`);
      return x < 0 ? x + shape.length : x;
    });
  };
  const prod = (xs: number[]) => xs.reduce((p, a) => p * shape[a], 1);
  const inSize = prod(axes(opts.inAxis, -2, "inAxis")), outSize = prod(axes(opts.outAxis, -1, "outAxis"));
  const batchSize = opts.batchAxis === undefined ? 1 : prod(axes(opts.batchAxis, 0, "batchAxis"));
  const receptive = shape.reduce((p, d) => p * d, 1) / inSize / outSize / batchSize;
  return [inSize * receptive, outSize * receptive];
}

export type FanMode = "fan_in" | "fan_out" | "fan_avg" | "fan_geo";
export type Distribution = "truncated_normal" | "normal" | "uniform";

const FAN_OPTIONS = { inAxis: integers, outAxis: integers, batchAxis: integers };

/**
 * jax.nn.initializers.variance_scaling: draws with variance `scale / n`, n the fan the mode names;
 * the truncated normal (cut at two standard deviations) is rescaled by JAX's .87962566103423978,
 * the standard deviation of a unit normal truncated to [-2, 2].
 */
export function varianceScaling(scale: number, mode: FanMode, distribution: Distribution, opts: FanOptions = {}): Initializer {
  const where = "nn.initializers.varianceScaling";
  if (!(typeof scale === "number" && scale > 0 && Number.isFinite(scale))) throw new JacobiError(`${where}: scale must be a positive finite number, got ${describe(scale)}`);
  if (!["fan_in", "fan_out", "fan_avg", "fan_geo"].includes(mode)) throw new JacobiError(`${where}: mode must be "fan_in", "fan_out", "fan_avg" or "fan_geo", got ${describe(mode)}`);
  if (!["truncated_normal", "normal", "uniform"].includes(distribution)) {
    throw new JacobiError(`${where}: distribution must be "truncated_normal", "normal" or "uniform", got ${describe(distribution)}`);
  }
  const fans = checkOptions(where, opts, FAN_OPTIONS);
  return (key, shapeArg, dtypeArg) => {
    const shape = shapeOf(where, shapeArg), dtype = floatDType(where, dtypeArg);
    const [fanIn, fanOut] = computeFans(where, shape, fans);
    const n = mode === "fan_in" ? fanIn : mode === "fan_out" ? fanOut : mode === "fan_avg" ? (fanIn + fanOut) / 2 : Math.sqrt(fanIn * fanOut);
    const variance = scale / n;
    if (distribution === "truncated_normal") return np.multiply(truncatedNormal(key, -2, 2, shape, { dtype }), Math.sqrt(variance) / 0.87962566103423978);
    if (distribution === "normal") return np.multiply(normalSample(key, shape, { dtype }), Math.sqrt(variance));
    return np.multiply(uniformSample(key, shape, { dtype, minval: -1, maxval: 1 }), Math.sqrt(3 * variance));
  };
}

export const glorotUniform = (opts: FanOptions = {}): Initializer => varianceScaling(1, "fan_avg", "uniform", opts);
export const glorotNormal = (opts: FanOptions = {}): Initializer => varianceScaling(1, "fan_avg", "truncated_normal", opts);
export const lecunUniform = (opts: FanOptions = {}): Initializer => varianceScaling(1, "fan_in", "uniform", opts);
export const lecunNormal = (opts: FanOptions = {}): Initializer => varianceScaling(1, "fan_in", "truncated_normal", opts);
export const heUniform = (opts: FanOptions = {}): Initializer => varianceScaling(2, "fan_in", "uniform", opts);
export const heNormal = (opts: FanOptions = {}): Initializer => varianceScaling(2, "fan_in", "truncated_normal", opts);

/**
 * The Q of A = QR with R's diagonal positive, for a tall [m, n] matrix: Gram-Schmidt with each
 * column orthogonalised twice (CGS2, orthogonal to rounding for well-conditioned A). That Q is
 * unique, so it is JAX's Householder Q times sign(diag R), the same numbers up to rounding.
 */
function positiveQ(a: Tensor): Tensor {
  const n = a.shape[1];
  const cols: Tensor[] = [];
  for (let j = 0; j < n; j++) {
    let v = np.take(a, j, 1);
    for (let pass = 0; pass < 2 && cols.length > 0; pass++) {
      const q = np.stack(cols, 1);
      v = np.subtract(v, np.matmul(q, np.matmul(np.transpose(q), v)));
    }
    cols.push(np.divide(v, np.sqrt(np.sum(np.multiply(v, v)))));
  }
  return np.stack(cols, 1);
}

/** jax.nn.initializers.orthogonal: a (semi-)orthogonal matrix over `columnAxis` against the other axes flattened, times `scale`. */
export function orthogonal(scale = 1, columnAxis = -1): Initializer {
  const where = "nn.initializers.orthogonal";
  checkOptions(where, { scale }, { scale: positiveNumber });
  return (key, shapeArg, dtypeArg) => {
    const shape = shapeOf(where, shapeArg), dtype = floatDType(where, dtypeArg);
    if (shape.length < 2) throw new ShapeError(`${where}: the shape must be at least 2-d, got ${fmtShape(shape)}`);
    const axis = columnAxis < 0 ? columnAxis + shape.length : columnAxis;
    if (!Number.isInteger(axis) || axis < 0 || axis >= shape.length) throw new ShapeError(`${where}: columnAxis ${columnAxis} is out of range for shape ${fmtShape(shape)}`);
    const nCols = shape[axis], nRows = shape.reduce((p, d) => p * d, 1) / nCols;
    const wide = nRows < nCols;
    let q = positiveQ(normalSample(key, wide ? [nCols, nRows] : [nRows, nCols], { dtype }));
    if (wide) q = np.transpose(q);
    const others = shape.filter((_, i) => i !== axis);
    q = np.reshape(q, [...others, nCols]);
    // The column axis back in place.
    const perm = others.map((_, i) => i);
    perm.splice(axis, 0, others.length);
    return np.multiply(np.transpose(q, perm), scale);
  };
}

export const initializers = {
  zeros,
  ones,
  constant,
  normal,
  uniform,
  varianceScaling,
  glorotUniform,
  glorotNormal,
  lecunUniform,
  lecunNormal,
  heUniform,
  heNormal,
  orthogonal,
};
