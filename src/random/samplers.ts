// Samplers as JAX's jax.random builds them, from the bits of src/random/keys.ts: the same key,
// shape and dtype give JAX's numbers wherever the transformation from bits to values is exact
// (see README "Random numbers" for which samplers are bit-compatible). Every sampler is a
// composition of primitives, so it works under jit, vmap and grad like any other function.
import { type DType, isFloat } from "../core/dtype.js";
import { DTypeError, JacobiError, ShapeError, fmtShape } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { bitwiseAnd, bitwiseOr, shiftLeft, shiftRightLogical } from "../primitives/bitwise.js";
import * as P from "../primitives/elementwise.js";
import { argmax } from "../primitives/reduce.js";
import { broadcastInDim, reshape, slice } from "../primitives/shape.js";
import { erf, erfInv } from "../primitives/special.js";
import { full } from "../primitives/util.js";
import { T, broadcastShapes, broadcastTo } from "../numpy/promote.js";
import { type Shape, bits, blocks, checkKey, checkShapeArg, split } from "./keys.js";

export type FloatDType = "float64" | "float32";

export function checkOptions(where: string, opts: object, allowed: string[]): void {
  if (opts === null || typeof opts !== "object") throw new JacobiError(`${where}: options must be an object, got ${opts === null ? "null" : typeof opts}`);
  for (const k of Object.keys(opts)) if (!allowed.includes(k)) throw new JacobiError(`${where}: unknown option "${k}"; expected one of ${allowed.join(", ")}`);
}

export function floatDType(where: string, d: unknown = "float64"): FloatDType {
  if (d !== "float64" && d !== "float32") throw new DTypeError(`${where}: dtype must be a floating dtype (float64 or float32), got ${JSON.stringify(d)}`);
  return d;
}

/** A parameter as a Tensor of `dtype` (JS numbers, Tensors of any dtype converted as JAX does). */
export function param(x: TensorLike, dtype: DType, where: string): Tensor {
  const t = T(x, where);
  return t.dtype === dtype && !t.weakType ? t : P.convertElementType(t, dtype);
}

const c = (v: number, dtype: DType, shape: Shape = []): Tensor => full(shape, v, dtype);

/** Broadcasts `x` to `shape` (NumPy rules), failing with the sampler's name. */
function to(x: Tensor, shape: Shape, where: string): Tensor {
  return broadcastTo(x, shape, where);
}

/** float32 in [0, 1) from 32 random bits: the top 23 as the mantissa, (bits >>> 9) * 2^-23. */
export function unitFromBits32(b: Tensor): Tensor {
  const m = shiftRightLogical(b, c(9, "uint32", b.shape));
  return P.mul(P.convertElementType(m, "float32"), c(2 ** -23, "float32", b.shape));
}

/** float64 in [0, 1) from the 64-bit word (hi << 32 | lo): its top 52 bits as the mantissa. */
export function unitFromWords64(hi: Tensor, lo: Tensor): Tensor {
  const shape = hi.shape;
  const u = (v: number) => c(v, "uint32", shape);
  const top = P.convertElementType(shiftRightLogical(hi, u(12)), "float64");
  const low = P.convertElementType(bitwiseOr(shiftLeft(hi, u(20)), shiftRightLogical(lo, u(12))), "float64");
  return P.add(P.mul(top, c(2 ** -20, "float64", shape)), P.mul(low, c(2 ** -52, "float64", shape)));
}

/**
 * Floats in [0, 1) with JAX's mantissa fill: float32 from JAX's 32-bit bits (y0 ^ y1), float64
 * from its 64-bit bits (y0 << 32 | y1, JAX's x64 mode). Both are m * 2^-p exactly: the value JAX
 * gets by setting the exponent of 1.0 over the mantissa and subtracting 1.
 */
function unitFloats(key: Tensor, shape: Shape, dtype: FloatDType): Tensor {
  if (dtype === "float32") return unitFromBits32(bits(key, shape));
  const [hi, lo] = blocks(key, shape);
  return unitFromWords64(hi, lo);
}

/** JAX's affine map of unit floats onto [minval, maxval): max(minval, f * (maxval - minval) + minval). */
export function scaleUnit(f: Tensor, lo: Tensor, hi: Tensor, where: string): Tensor {
  const l = to(lo, f.shape, where), h = to(hi, f.shape, where);
  return P.max(l, P.add(P.mul(f, P.sub(h, l)), l));
}

/** JAX's normal from unit floats: sqrt(2) * erfinv(u) with u rescaled onto (-1, 1). */
export function normalFromUnit(f: Tensor): Tensor {
  const dtype = f.dtype as FloatDType;
  const u = scaleUnit(f, c(aboveMinusOne(dtype), dtype), c(1, dtype), "random.normal");
  return P.mul(c(Math.SQRT2, dtype, f.shape), erfInv(u));
}

export interface UniformOptions {
  dtype?: FloatDType;
  minval?: TensorLike;
  maxval?: TensorLike;
}

/** `uniform(key, shape = [], { dtype, minval = 0, maxval = 1 })`: max(minval, u * (maxval - minval) + minval), as JAX. */
export function uniform(key: TensorLike, shape: Shape | number = [], opts: UniformOptions = {}): Tensor {
  checkOptions("random.uniform", opts, ["dtype", "minval", "maxval"]);
  return uniformImpl("random.uniform", checkKey(key, "random.uniform"), checkShapeArg(shape, "random.uniform"), floatDType("random.uniform", opts.dtype), opts.minval ?? 0, opts.maxval ?? 1);
}

export function uniformImpl(where: string, key: Tensor, shape: Shape, dtype: FloatDType, minval: TensorLike, maxval: TensorLike): Tensor {
  const lo = param(minval, dtype, `${where}: minval`), hi = param(maxval, dtype, `${where}: maxval`);
  for (const [n, v] of [["minval", lo], ["maxval", hi]] as const) {
    if (v.ndim > shape.length) throw new ShapeError(`${where}: ${n} of shape ${fmtShape(v.shape)} has more dimensions than the sample shape ${fmtShape(shape)}`);
  }
  return scaleUnit(unitFloats(key, shape, dtype), lo, hi, where);
}

/** The float just above -1 in `dtype` (JAX's nextafter(-1, 0)). */
const aboveMinusOne = (dtype: FloatDType): number => (dtype === "float32" ? -1 + 2 ** -24 : -1 + 2 ** -53);

export interface DTypeOptions {
  dtype?: FloatDType;
}

/** `normal(key, shape = [], { dtype })`: sqrt(2) * erfinv(u), u uniform on (-1, 1), as JAX. */
export function normal(key: TensorLike, shape: Shape | number = [], opts: DTypeOptions = {}): Tensor {
  checkOptions("random.normal", opts, ["dtype"]);
  const dtype = floatDType("random.normal", opts.dtype);
  return normalImpl(checkKey(key, "random.normal"), checkShapeArg(shape, "random.normal"), dtype);
}

export function normalImpl(key: Tensor, shape: Shape, dtype: FloatDType): Tensor {
  return normalFromUnit(unitFloats(key, shape, dtype));
}

/** `bernoulli(key, p = 0.5, shape?)`: uniform(key, shape, p's float dtype) < p; shape defaults to p's. */
export function bernoulli(key: TensorLike, p: TensorLike = 0.5, shape?: Shape | number): Tensor {
  const k = checkKey(key, "random.bernoulli");
  let pt = T(p, "random.bernoulli: p");
  if (!isFloat(pt.dtype)) pt = P.convertElementType(pt, "float64");
  const s = shape === undefined ? pt.shape : checkShapeArg(shape, "random.bernoulli");
  const dtype = pt.dtype as FloatDType;
  const u = uniformImpl("random.bernoulli", k, s, dtype, 0, 1);
  return P.lt(u, to(pt.weakType ? P.convertElementType(pt, dtype) : pt, s, "random.bernoulli"));
}

/** `rademacher(key, shape = [], { dtype = "int32" })`: -1 or 1, as 2 * bernoulli(key, 0.5, shape) - 1. */
export function rademacher(key: TensorLike, shape: Shape | number = [], opts: { dtype?: DType } = {}): Tensor {
  checkOptions("random.rademacher", opts, ["dtype"]);
  const dtype = opts.dtype ?? "int32";
  if (dtype === "bool" || dtype === "uint32") throw new DTypeError(`random.rademacher: dtype must be int32 or a float dtype, got ${dtype}`);
  const b = P.convertElementType(bernoulli(key, 0.5, shape), dtype);
  return P.sub(P.mul(c(2, dtype, b.shape), b), c(1, dtype, b.shape));
}

/** `exponential(key, shape = [], { dtype })`: -log1p(-u), as JAX. */
export function exponential(key: TensorLike, shape: Shape | number = [], opts: DTypeOptions = {}): Tensor {
  checkOptions("random.exponential", opts, ["dtype"]);
  const dtype = floatDType("random.exponential", opts.dtype);
  return exponentialImpl("random.exponential", checkKey(key, "random.exponential"), checkShapeArg(shape, "random.exponential"), dtype);
}

export function exponentialImpl(where: string, key: Tensor, shape: Shape, dtype: FloatDType): Tensor {
  return P.neg(P.log1p(P.neg(uniformImpl(where, key, shape, dtype, 0, 1))));
}

/** The smallest normal float of `dtype` (finfo.tiny). */
const tiny = (dtype: FloatDType): number => (dtype === "float32" ? 2 ** -126 : 2 ** -1022);

/** `gumbel(key, shape = [], { dtype })`: -log(-log(u)), u uniform on [tiny, 1), as JAX. */
export function gumbel(key: TensorLike, shape: Shape | number = [], opts: DTypeOptions = {}): Tensor {
  checkOptions("random.gumbel", opts, ["dtype"]);
  const dtype = floatDType("random.gumbel", opts.dtype);
  return gumbelImpl(checkKey(key, "random.gumbel"), checkShapeArg(shape, "random.gumbel"), dtype);
}

export function gumbelImpl(key: Tensor, shape: Shape, dtype: FloatDType): Tensor {
  const u = uniformImpl("random.gumbel", key, shape, dtype, tiny(dtype), 1);
  return P.neg(P.log(P.neg(P.log(u))));
}

/** `laplace(key, shape = [], { dtype })`: sign(u) * log1p(-|u|), u uniform on (-1, 1), as JAX. */
export function laplace(key: TensorLike, shape: Shape | number = [], opts: DTypeOptions = {}): Tensor {
  checkOptions("random.laplace", opts, ["dtype"]);
  const dtype = floatDType("random.laplace", opts.dtype);
  const u = uniformImpl("random.laplace", checkKey(key, "random.laplace"), checkShapeArg(shape, "random.laplace"), dtype, aboveMinusOne(dtype), 1);
  return P.mul(P.sign(u), P.log1p(P.neg(P.abs(u))));
}

/** `logistic(key, shape = [], { dtype })`: log(u / (1 - u)), u uniform on [tiny, 1), as JAX. */
export function logistic(key: TensorLike, shape: Shape | number = [], opts: DTypeOptions = {}): Tensor {
  checkOptions("random.logistic", opts, ["dtype"]);
  const dtype = floatDType("random.logistic", opts.dtype);
  const s = checkShapeArg(shape, "random.logistic");
  const u = uniformImpl("random.logistic", checkKey(key, "random.logistic"), s, dtype, tiny(dtype), 1);
  return P.log(P.div(u, P.sub(c(1, dtype, s), u)));
}

/**
 * `truncatedNormal(key, lower, upper, shape?, { dtype })`: sqrt(2) erfinv(u) with u uniform on
 * (erf(lower/sqrt 2), erf(upper/sqrt 2)), clipped into [lower, upper] (JAX clips to the floats
 * just inside; the bounds themselves are reached only by rounding).
 */
export function truncatedNormal(key: TensorLike, lower: TensorLike, upper: TensorLike, shape?: Shape | number, opts: DTypeOptions = {}): Tensor {
  const where = "random.truncatedNormal";
  checkOptions(where, opts, ["dtype"]);
  const dtype = floatDType(where, opts.dtype);
  const k = checkKey(key, where);
  const lo = param(lower, dtype, `${where}: lower`), hi = param(upper, dtype, `${where}: upper`);
  const s = shape === undefined ? broadcastShapes(where, [lo.shape, hi.shape]) : checkShapeArg(shape, where);
  const r2 = (x: Tensor) => P.div(x, c(Math.SQRT2, dtype, x.shape));
  const a = erf(r2(lo)), b = erf(r2(hi));
  const u = uniformImpl(where, k, s, dtype, a, b);
  const out = P.mul(c(Math.SQRT2, dtype, s), erfInv(u));
  return P.min(P.max(out, to(P.stopGradient(lo), s, where)), to(P.stopGradient(hi), s, where));
}

/**
 * `categorical(key, logits, shape?, { axis = -1 })`: argmax over `axis` of logits + Gumbel noise,
 * as JAX (shape defaults to the logits' shape without `axis`; leading extra dims draw more).
 */
export function categorical(key: TensorLike, logits: TensorLike, shape?: Shape | number, opts: { axis?: number } = {}): Tensor {
  const where = "random.categorical";
  checkOptions(where, opts, ["axis"]);
  const k = checkKey(key, where);
  let l = T(logits, `${where}: logits`);
  if (!isFloat(l.dtype)) l = P.convertElementType(l, "float64");
  if (l.ndim === 0) throw new ShapeError(`${where}: logits must have at least one dimension, got a scalar`);
  const axisIn = opts.axis ?? -1;
  if (!Number.isInteger(axisIn) || axisIn < -l.ndim || axisIn >= l.ndim) throw new ShapeError(`${where}: axis ${axisIn} is out of bounds for logits of shape ${fmtShape(l.shape)}`);
  const axis = axisIn >= 0 ? axisIn - l.ndim : axisIn;
  const batch = l.shape.filter((_, i) => i !== l.ndim + axis);
  const s = shape === undefined ? batch : checkShapeArg(shape, where);
  const tail = s.slice(s.length - batch.length);
  if (s.length < batch.length || tail.some((d, i) => d !== batch[i])) {
    throw new ShapeError(`${where}: shape ${fmtShape(s)} must end with the logits' batch shape ${fmtShape(batch)}`);
  }
  const prefix = s.slice(0, s.length - batch.length);
  const full_ = [...prefix, ...l.shape];
  const g = gumbelImpl(k, full_, l.dtype as FloatDType);
  const lb = broadcastInDim(l, full_, l.shape.map((_, i) => prefix.length + i));
  return argmax(P.add(g, lb), full_.length + axis);
}

/** Unsigned remainder of uint32 values < 2^32, computed exactly in float64 and stored back. */
function urem(a: Tensor, n: Tensor): Tensor {
  const af = P.convertElementType(a, "float64"), nf = P.convertElementType(n, "float64");
  let r = P.sub(af, P.mul(P.floor(P.div(af, nf)), nf));
  // The quotient's rounding can be off by one either way; the correction is exact.
  const zero = c(0, "float64", r.shape);
  r = P.select(P.lt(r, zero), P.add(r, nf), r);
  r = P.select(P.ge(r, nf), P.sub(r, nf), r);
  return P.convertElementType(r, "uint32");
}

/**
 * `randint(key, shape, minval, maxval, { dtype = "int32" })`: integers in [minval, maxval), by
 * JAX's method: two words of bits from split(key), combined modulo the span as
 * ((hi mod span) * (2^32 mod span) + lo mod span) mod span in wrapping uint32 arithmetic.
 */
export function randint(key: TensorLike, shape: Shape | number, minval: TensorLike, maxval: TensorLike, opts: { dtype?: DType } = {}): Tensor {
  const where = "random.randint";
  checkOptions(where, opts, ["dtype"]);
  const dtype = opts.dtype ?? "int32";
  if (dtype !== "int32") throw new DTypeError(`${where}: dtype must be int32, got ${JSON.stringify(dtype)}`);
  const k = checkKey(key, where);
  const s = checkShapeArg(shape, where);
  const lo64 = P.convertElementType(T(minval, `${where}: minval`), "float64"), hi64 = P.convertElementType(T(maxval, `${where}: maxval`), "float64");
  const IMAX = 2 ** 31 - 1, IMIN = -(2 ** 31);
  // maxval above int32's range is clipped, and the span grows by one to keep it reachable, as JAX.
  const outOfRange = P.gt(hi64, c(IMAX, "float64", hi64.shape));
  const clip = (x: Tensor) => P.min(P.max(x, c(IMIN, "float64", x.shape)), c(IMAX, "float64", x.shape));
  const lo = to(P.convertElementType(clip(lo64), "int32"), s, where), hi = to(P.convertElementType(clip(hi64), "int32"), s, where);
  const ks = split(k, 2);
  const k1 = row(ks, 0), k2 = row(ks, 1);
  const higher = bits(k1, s), lower = bits(k2, s);
  const u = (v: number) => c(v, "uint32", s);
  let span = P.convertElementType(P.sub(hi, lo), "uint32");
  span = P.select(P.le(hi, lo), u(1), span);
  span = P.select(bitwiseAnd(to(outOfRange, s, where), P.gt(hi, lo)), P.add(span, u(1)), span);
  // A span of 2^32 wrapped to 0: the remainders below leave the bits as they are.
  const safeSpan = P.select(P.eq(span, u(0)), u(1), span);
  const rem = (x: Tensor) => P.select(P.eq(span, u(0)), x, urem(x, safeSpan));
  let mult = rem(u(2 ** 16));
  mult = rem(P.mul(mult, mult));
  const offset = rem(P.add(P.mul(rem(higher), mult), rem(lower)));
  return P.add(lo, P.convertElementType(offset, "int32"));
}

/** Row `i` of a uint32[n, 2] array of keys, as a key. */
export const row = (keys: Tensor, i: number): Tensor => reshape(slice(keys, [i, 0], [i + 1, 2]), [2]);
