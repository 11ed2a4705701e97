// Stable sort of several same-shaped arrays along one axis by the first one (JAX's lax.sort with
// num_keys = 1): NaN keys sort last, as in NumPy and XLA.
import { allocate } from "../core/dtype.js";
import { type Arr, contiguous, dtypeOf, sizeOf, view } from "./ndarray-view.js";

export function sortAlong(args: Arr[], axis: number): Arr[] {
  const shape = args[0].shape;
  const n = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = sizeOf(shape) / Math.max(1, n * inner);
  const cs = args.map((a) => contiguous(a));
  const outs = cs.map((c) => allocate(dtypeOf(c), sizeOf(shape), shape));
  const keys = cs[0].data, ko = cs[0].offset;
  const order = new Array<number>(n);
  const cmp = (i: number, j: number, base: number): number => {
    const a = keys[ko + base + i * inner], b = keys[ko + base + j * inner];
    if (a < b) return -1;
    if (a > b) return 1;
    const an = a !== a, bn = b !== b;
    if (an !== bn) return an ? 1 : -1;
    return i - j;
  };
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < inner; r++) {
      const base = o * n * inner + r;
      for (let i = 0; i < n; i++) order[i] = i;
      order.sort((i, j) => cmp(i, j, base));
      cs.forEach((c, k) => {
        const src = c.data, so = c.offset, dst = outs[k];
        for (let i = 0; i < n; i++) dst[base + i * inner] = src[so + base + order[i] * inner];
      });
    }
  }
  return outs.map((d) => view(d, shape));
}
