// Copies one strided view into another of the same shape (what ndarray-ops' assign did). A plain
// loop: ndarray-ops generates its loops with `new Function` when it is imported, which a
// Content-Security-Policy without 'unsafe-eval' forbids.
import type { TypedArray } from "../core/dtype.js";

interface Strided {
  data: TypedArray;
  shape: readonly number[];
  stride: readonly number[];
  offset: number;
}

/** Writes every element of `src` into the same position of `dst`, in `dst`'s row-major order. */
export function stridedAssign(dst: Strided, src: Strided): void {
  // Merge adjacent axes that are contiguous in both views; size-1 axes drop out.
  const n: number[] = [], sd: number[] = [], ss: number[] = [];
  for (let d = 0; d < dst.shape.length; d++) {
    const len = dst.shape[d];
    if (len === 0) return;
    if (len === 1) continue;
    const k = n.length - 1;
    if (k >= 0 && sd[k] === dst.stride[d] * len && ss[k] === src.stride[d] * len) {
      n[k] *= len;
      sd[k] = dst.stride[d];
      ss[k] = src.stride[d];
    } else {
      n.push(len);
      sd.push(dst.stride[d]);
      ss.push(src.stride[d]);
    }
  }
  if (n.length === 0) {
    n.push(1);
    sd.push(0);
    ss.push(0);
  }
  const out = dst.data, inp = src.data;
  const last = n.length - 1, L = n[last], a = sd[last], b = ss[last];
  let outer = 1;
  for (let d = 0; d < last; d++) outer *= n[d];
  const idx = new Int32Array(n.length);
  let pd = dst.offset, ps = src.offset;
  for (let o = 0; o < outer; o++) {
    for (let j = 0, p = pd, q = ps; j < L; j++, p += a, q += b) out[p] = inp[q];
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      pd += sd[d];
      ps += ss[d];
      if (idx[d] < n[d]) break;
      pd -= sd[d] * n[d];
      ps -= ss[d] * n[d];
      idx[d] = 0;
    }
  }
}
