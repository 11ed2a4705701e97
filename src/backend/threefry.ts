// Threefry-2x32 with 20 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC'11; the Random123 library's threefry2x32_R(20) and JAX's threefry2x32 primitive). All
// arithmetic is on uint32 words: sums wrap with `>>> 0`, rotations are `<<` / `>>>` pairs.
import { allocate } from "../core/dtype.js";
import { type Arr, contiguous, isSingleElement, sizeOf, view } from "./ndarray-view.js";

// The parity constant 0x1bd11bda of the Threefish key schedule for 32-bit words. Rotation amounts
// 13 15 26 6 in even groups of four rounds, 17 29 16 24 in odd ones; after every group the key
// words are injected in turn (k0, k1, k0 ^ k1 ^ parity) with the group count added to the second
// word. Unrolled: this is the inner loop of every random number.

/** One block: the pair (x0, x1) encrypted under the key (k0, k1), written to out0[i], out1[i]. */
function block(k0: number, k1: number, x0: number, x1: number, out0: Uint32Array, out1: Uint32Array, i: number): void {
  const ks0 = k0, ks1 = k1, ks2 = (k0 ^ k1 ^ 0x1bd11bda) >>> 0;
  x0 = (x0 + ks0) >>> 0;
  x1 = (x1 + ks1) >>> 0;
  x0 = (x0 + x1) >>> 0; x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) >>> 0; x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) >>> 0; x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) >>> 0; x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + ks1) >>> 0; x1 = (x1 + ks2 + 1) >>> 0;
  x0 = (x0 + x1) >>> 0; x1 = ((x1 << 17) | (x1 >>> 15)) ^ x0;
  x0 = (x0 + x1) >>> 0; x1 = ((x1 << 29) | (x1 >>> 3)) ^ x0;
  x0 = (x0 + x1) >>> 0; x1 = ((x1 << 16) | (x1 >>> 16)) ^ x0;
  x0 = (x0 + x1) >>> 0; x1 = ((x1 << 24) | (x1 >>> 8)) ^ x0;
  x0 = (x0 + ks2) >>> 0; x1 = (x1 + ks0 + 2) >>> 0;
  x0 = (x0 + x1) >>> 0; x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) >>> 0; x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) >>> 0; x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) >>> 0; x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + ks0) >>> 0; x1 = (x1 + ks1 + 3) >>> 0;
  x0 = (x0 + x1) >>> 0; x1 = ((x1 << 17) | (x1 >>> 15)) ^ x0;
  x0 = (x0 + x1) >>> 0; x1 = ((x1 << 29) | (x1 >>> 3)) ^ x0;
  x0 = (x0 + x1) >>> 0; x1 = ((x1 << 16) | (x1 >>> 16)) ^ x0;
  x0 = (x0 + x1) >>> 0; x1 = ((x1 << 24) | (x1 >>> 8)) ^ x0;
  x0 = (x0 + ks1) >>> 0; x1 = (x1 + ks2 + 4) >>> 0;
  x0 = (x0 + x1) >>> 0; x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) >>> 0; x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) >>> 0; x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) >>> 0; x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + ks2) >>> 0; x1 = (x1 + ks0 + 5) >>> 0;
  out0[i] = x0;
  out1[i] = x1;
}

/** A uint32 operand read as (data, offset, step): step 0 for one element broadcast. */
function reader(a: Arr): [Uint32Array, number, number] {
  if (isSingleElement(a)) return [a.data as Uint32Array, a.offset, 0];
  const c = contiguous(a);
  return [c.data as Uint32Array, c.offset, 1];
}

/** Elementwise threefry2x32 of same-shaped uint32 operands (any strides); two fresh outputs. */
export function threefry2x32(k0: Arr, k1: Arr, x0: Arr, x1: Arr): [Arr, Arr] {
  const shape = k0.shape;
  const n = sizeOf(shape);
  const o0 = allocate("uint32", n, shape) as Uint32Array, o1 = allocate("uint32", n, shape) as Uint32Array;
  const [a, ao, as] = reader(k0), [b, bo, bs] = reader(k1), [c, co, cs] = reader(x0), [d, dO, ds] = reader(x1);
  for (let i = 0; i < n; i++) block(a[ao + i * as], b[bo + i * bs], c[co + i * cs], d[dO + i * ds], o0, o1, i);
  return [view(o0, shape), view(o1, shape)];
}
