// Stable sort of several same-shaped arrays along one axis by the first one (JAX's lax.sort with
// num_keys = 1): NaN keys sort last, as in NumPy and XLA. A bottom-up merge sort of positions in
// typed arrays (no comparator closure per comparison): stable, n log n, -0 and 0 equal.
import { allocate } from "../core/dtype.js";
import { type Arr, contiguous, dtypeOf, sizeOf, view } from "./ndarray-view.js";

/** Sorts positions 0..n-1 of `key` (read at base + i * step) stably into `order`, using `tmp` and `k` as scratch. */
function mergeSortPositions(keys: ArrayLike<number>, base: number, step: number, n: number, order: Int32Array, tmp: Int32Array, k: Float64Array): void {
  for (let i = 0; i < n; i++) {
    order[i] = i;
    k[i] = keys[base + i * step];
  }
  let src = order, dst = tmp;
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n), hi = Math.min(lo + 2 * width, n);
      let i = lo, j = mid, o = lo;
      while (i < mid && j < hi) {
        const a = k[src[i]], b = k[src[j]];
        // Take from the right run only when its key is strictly smaller (NaN is larger than all).
        if (b < a || (a !== a && b === b)) dst[o++] = src[j++];
        else dst[o++] = src[i++];
      }
      while (i < mid) dst[o++] = src[i++];
      while (j < hi) dst[o++] = src[j++];
    }
    const t = src;
    src = dst;
    dst = t;
  }
  if (src !== order) order.set(src.subarray(0, n));
}

/**
 * Values alone (no permutation to carry) in a contiguous row: the typed array's native sort, which
 * orders numbers as the merge sort does (NaN last) except that it puts -0 before 0, so a row
 * holding a -0 is left to the stable merge sort. Returns whether it sorted the row.
 */
function sortRowNatively(src: ArrayLike<number>, from: number, dst: TypedArrayLike, at: number, n: number): boolean {
  const row = dst.subarray(at, at + n);
  for (let i = 0; i < n; i++) {
    const v = src[from + i];
    if (v === 0 && 1 / v < 0) return false;
    row[i] = v;
  }
  row.sort();
  return true;
}

type TypedArrayLike = ReturnType<typeof allocate>;

export function sortAlong(args: Arr[], axis: number): Arr[] {
  const shape = args[0].shape;
  const n = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = sizeOf(shape) / Math.max(1, n * inner);
  const cs = args.map((a) => contiguous(a));
  const outs = cs.map((c) => allocate(dtypeOf(c), sizeOf(shape), shape));
  const keys = cs[0].data, ko = cs[0].offset;
  const order = new Int32Array(n), tmp = new Int32Array(n), k = new Float64Array(n);
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < inner; r++) {
      const base = o * n * inner + r;
      if (cs.length === 1 && inner === 1 && sortRowNatively(keys, ko + base, outs[0], base, n)) continue;
      mergeSortPositions(keys, ko + base, inner, n, order, tmp, k);
      for (let c = 0; c < cs.length; c++) {
        const src = cs[c].data, so = cs[c].offset + base, dst = outs[c];
        for (let i = 0; i < n; i++) dst[base + i * inner] = src[so + order[i] * inner];
      }
    }
  }
  return outs.map((d) => view(d, shape));
}
