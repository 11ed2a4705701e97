// JAX's threefry keys with jax_threefry_partitionable semantics (JAX's default): a key is a
// uint32[2] Tensor; split, foldIn and bits encrypt counters that are the row-major index of each
// output element (high word, low word) under the key, so every element of every result depends
// only on the key and its own index.
import { view } from "../backend/index.js";
import { fromArr } from "../core/convert.js";
import { allocate, checkAllocation, isInteger } from "../core/dtype.js";
import { DTypeError, JacobiError, ShapeError, fmtShape } from "../core/errors.js";
import { Tensor, type TensorLike } from "../core/tensor.js";
import { bitwiseXor } from "../primitives/bitwise.js";
import { convertElementType } from "../primitives/elementwise.js";
import { threefry2x32 } from "../primitives/random-bits.js";
import { broadcastInDim, concatenate, reshape, slice } from "../primitives/shape.js";
import { full } from "../primitives/util.js";
import { T } from "../numpy/promote.js";

export type Shape = readonly number[];

/** Checks that `k` is a key: a uint32 tensor whose last axis has length 2 (one key: shape [2]). */
export function checkKey(k: unknown, where: string): Tensor {
  const t = T(k as TensorLike, `${where}: key`);
  if (t.dtype !== "uint32") throw new DTypeError(`${where}: a key must be a uint32 Tensor of shape [2] (from random.key), got dtype ${t.dtype}`);
  if (t.ndim !== 1 || t.shape[0] !== 2) {
    throw new ShapeError(`${where}: a key must have shape [2], got ${fmtShape(t.shape)}${t.ndim > 1 ? " (for a batch of keys, map over them with vmap)" : ""}`);
  }
  return t;
}

export function checkShapeArg(shape: unknown, where: string): number[] {
  const s = typeof shape === "number" ? [shape] : shape;
  if (!Array.isArray(s) || !s.every((d) => Number.isInteger(d) && d >= 0)) throw new ShapeError(`${where}: shape must be a non-negative integer or an array of them, got ${JSON.stringify(shape)}`);
  checkAllocation(s.reduce((a: number, b: number) => a * b, 1), "float64", where, s);
  return s;
}

/**
 * `random.key(seed)`: uint32[2] holding the seed as a 64-bit two's-complement integer, high word
 * first, as JAX's threefry_seed with jax_enable_x64 (for 0 <= seed < 2^32 that is [0, seed],
 * which JAX's default 32-bit mode gives too). A Tensor seed (an int32 or uint32 scalar, possibly
 * traced, e.g. under vmap) is a 32-bit integer: [0, seed mod 2^32], as JAX does for int32 seeds.
 */
export function key(seed: number | Tensor): Tensor {
  if (seed instanceof Tensor) {
    if (seed.ndim !== 0 || !isInteger(seed.dtype)) throw new DTypeError(`random.key: a Tensor seed must be an integer scalar, got ${seed.aval.str()}`);
    return concatenate([full([1], 0, "uint32"), reshape(convertElementType(seed, "uint32"), [1])], 0);
  }
  if (typeof seed !== "number" || !Number.isSafeInteger(seed)) throw new JacobiError(`random.key: seed must be a safe integer, got ${typeof seed === "number" ? seed : typeof seed}`);
  const s = BigInt.asUintN(64, BigInt(seed));
  const d = allocate("uint32", 2);
  d[0] = Number(s >> 32n);
  d[1] = Number(s & 0xffffffffn);
  return fromArr(view(d, [2]), "uint32");
}

/** The key's raw uint32[2] data (keys here are raw data already, as JAX's legacy PRNGKey). */
export const keyData = (k: TensorLike): Tensor => checkKey(k, "random.keyData");

/** The counters of an output of `shape`: the row-major index of each element, as (high, low) words. */
function iotaCounters(shape: Shape): [Tensor, Tensor] {
  const n = shape.reduce((a, b) => a * b, 1);
  const lo = allocate("uint32", n, shape);
  for (let i = 0; i < n; i++) lo[i] = i;
  // Buffers hold fewer than 2^32 elements, so every high word is 0.
  return [full(shape, 0, "uint32"), fromArr(view(lo, shape), "uint32")];
}

/** The two key words broadcast to `shape`. */
function keyWords(k: Tensor, shape: Shape): [Tensor, Tensor] {
  const word = (i: number) => broadcastInDim(reshape(slice(k, [i], [i + 1]), []), shape, []);
  return [word(0), word(1)];
}

/** threefry2x32 of the key on the iota counters of `shape`: the two words of every element's block. */
export function blocks(k: Tensor, shape: Shape): [Tensor, Tensor] {
  const [c0, c1] = iotaCounters(shape);
  const [k0, k1] = keyWords(k, shape);
  return threefry2x32(k0, k1, c0, c1);
}

/** `random.split(key, num = 2)`: uint32[num, 2], new key i being the block of counter i. */
export function split(k: TensorLike, num = 2): Tensor {
  const t = checkKey(k, "random.split");
  if (!Number.isInteger(num) || num < 0) throw new JacobiError(`random.split: num must be a non-negative integer, got ${num}`);
  const [y0, y1] = blocks(t, [num]);
  return concatenate([reshape(y0, [num, 1]), reshape(y1, [num, 1])], 1);
}

/** `random.foldIn(key, data)`: the key encrypting the counter (0, data mod 2^32), as JAX's. */
export function foldIn(k: TensorLike, data: number | Tensor): Tensor {
  const t = checkKey(k, "random.foldIn");
  let d: Tensor;
  if (typeof data === "number") {
    if (!Number.isSafeInteger(data)) throw new JacobiError(`random.foldIn: data must be an integer, got ${data}`);
    d = full([], Number(BigInt.asUintN(32, BigInt(data))), "uint32");
  } else {
    if (data.ndim !== 0 || data.dtype === "float64" || data.dtype === "float32") throw new DTypeError(`random.foldIn: data must be an integer scalar, got ${data.aval.str()}`);
    d = convertElementType(data, "uint32");
  }
  const [k0, k1] = keyWords(t, []);
  const [y0, y1] = threefry2x32(k0, k1, full([], 0, "uint32"), d);
  return concatenate([reshape(y0, [1]), reshape(y1, [1])], 0);
}

/** `random.bits(key, shape)`: uint32 words, the xor of each element's two block words (JAX's 32-bit path). */
export function bits(k: TensorLike, shape: Shape | number = []): Tensor {
  const t = checkKey(k, "random.bits");
  const s = checkShapeArg(shape, "random.bits");
  const [y0, y1] = blocks(t, s);
  return bitwiseXor(y0, y1);
}
