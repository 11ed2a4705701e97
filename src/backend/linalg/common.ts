// Shared pieces of the dense linear-algebra kernels.
//
// Conventions of every kernel in this folder:
// - Operands are plain typed arrays, row-major, with leading batch axes flattened into one
//   `batch` count: a stack of matrices is `batch * rows * cols` contiguous elements.
// - float32 inputs are computed in float64 and rounded once at the end. The factorizations are
//   O(n^3) against an O(n^2) copy, so the working copy costs nothing measurable, and rounding once
//   gives results at least as accurate as LAPACK's single-precision routines (pivot choices and
//   convergence decisions may differ from sgetrf/ssteqr in near-ties).
// - Inputs are never mutated.
import { ShapeError } from "../../core/errors.js";

export type FloatArray = Float64Array | Float32Array;

/** A zeroed array of `n` elements of the same element type as `like`. */
export function allocLike<T extends FloatArray>(like: T, n: number): T {
  return (like instanceof Float32Array ? new Float32Array(n) : new Float64Array(n)) as T;
}

/**
 * Runs `fn` on every matrix of a stack in float64, in place: `out` receives a copy of `a` and,
 * when float64, is worked on directly (fn sees `out` and matrix t's offset); a float32 stack goes
 * through one reused float64 scratch matrix, rounded into `out` after each `fn`.
 */
export function eachInPlace(a: FloatArray, out: FloatArray, batch: number, size: number, fn: (w: Float64Array, o: number, t: number) => void): void {
  if (out instanceof Float64Array) {
    out.set(a);
    for (let t = 0; t < batch; t++) fn(out, t * size, t);
    return;
  }
  const w = new Float64Array(size);
  for (let t = 0; t < batch; t++) {
    for (let i = 0; i < size; i++) w[i] = a[t * size + i];
    fn(w, 0, t);
    out.set(w, t * size);
  }
}

/** Matrix `t` of a stack (`size` elements each) as a float64 working copy. */
export function workCopy(a: FloatArray, t: number, size: number): Float64Array {
  const w = new Float64Array(size);
  const o = t * size;
  for (let i = 0; i < size; i++) w[i] = a[o + i];
  return w;
}

/** Writes the working copy `w` into matrix `t` of `out` (rounding when `out` is float32). */
export function storeInto(out: FloatArray, t: number, w: Float64Array): void {
  out.set(w, t * w.length);
}

/** Throws a ShapeError unless `a` holds exactly `batch` matrices of `dims`. */
export function checkStack(op: string, name: string, a: ArrayLike<number>, batch: number, dims: readonly number[]): void {
  for (const d of [batch, ...dims]) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`${op}: sizes must be non-negative integers, got batch ${batch} and ${name} dims [${dims.join(",")}]`);
  }
  const want = dims.reduce((p, d) => p * d, batch);
  if (a.length !== want) {
    throw new ShapeError(`${op}: ${name} has ${a.length} elements, but batch ${batch} of [${dims.join(",")}] needs ${want}`);
  }
}

/** ||x||_2 of `n` elements at stride `s` from `o`, scaled so that it neither overflows nor underflows. */
export function norm2(x: Float64Array, o: number, n: number, s: number): number {
  let scale = 0;
  for (let i = 0, p = o; i < n; i++, p += s) {
    const v = Math.abs(x[p]);
    if (v > scale || v !== v) scale = v;
  }
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  // Divided rather than multiplied by 1 / scale, which overflows when scale is subnormal.
  let sum = 0;
  for (let i = 0, p = o; i < n; i++, p += s) {
    const v = x[p] / scale;
    sum += v * v;
  }
  return scale * Math.sqrt(sum);
}

/**
 * Scales the first `rows` rows (length `len`) of `z` to unit norm. Every plane rotation applied to
 * accumulated singular/eigen vectors scales a row by 1 +- eps (c^2 + s^2 is 1 only to rounding);
 * over hundreds of rotations that drift dominates ||V^T V - I||, and this removes it.
 */
export function normalizeRows(z: Float64Array, rows: number, len: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * len;
    let ss = 0;
    for (let p = o; p < o + len; p++) ss += z[p] * z[p];
    const inv = 1 / Math.sqrt(ss);
    for (let p = o; p < o + len; p++) z[p] *= inv;
  }
}
