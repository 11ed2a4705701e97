// Convolution as im2col + the matmul kernel: the input windows are gathered once into a
// [groups, kernel-volume x in-features, batch x out-positions] matrix, so the arithmetic runs in
// batchMatmul's blocked (or WebAssembly SIMD) product instead of a per-element loop.
import { type DType, allocate } from "../core/dtype.js";
import { type Arr, contiguous, rowMajorStrides, sizeOf, transposeView, view } from "./ndarray-view.js";
import { batchMatmul } from "./structural.js";

/** Where windows sit over a (dilated, padded) base: shared by convolution and reduce_window. */
export interface WindowPlacement {
  strides: readonly number[];
  /** Padding before each dimension (may be negative: a crop). */
  padLo: readonly number[];
  baseDilation: readonly number[];
  windowDilation: readonly number[];
}

/**
 * For every window element k (row-major over `window`) and output position p (row-major over
 * `out`): the offset, in units of `inStrides`, of the input element it reads, or -1 where it reads
 * padding or a hole of the base dilation. Laid out [k][p].
 */
export function windowOffsets(inShape: readonly number[], inStrides: readonly number[], window: readonly number[], out: readonly number[], w: WindowPlacement): Int32Array {
  const nd = inShape.length;
  // Per dimension, the input index read by window element k at output position p (or -1).
  const tables = inShape.map((size, d) => {
    const t = new Int32Array(window[d] * out[d]);
    for (let k = 0; k < window[d]; k++) {
      for (let p = 0; p < out[d]; p++) {
        const pos = p * w.strides[d] + k * w.windowDilation[d] - w.padLo[d];
        const bd = w.baseDilation[d];
        const i = pos / bd;
        t[k * out[d] + p] = pos >= 0 && pos % bd === 0 && i < size ? i : -1;
      }
    }
    return t;
  });
  const K = sizeOf(window), P = sizeOf(out);
  const offs = new Int32Array(K * P);
  const kIdx = new Array<number>(nd).fill(0);
  const pIdx = new Array<number>(nd);
  for (let k = 0; k < K; k++) {
    pIdx.fill(0);
    for (let p = 0; p < P; p++) {
      let off = 0;
      for (let d = 0; d < nd; d++) {
        const i = tables[d][kIdx[d] * out[d] + pIdx[d]];
        if (i < 0) {
          off = -1;
          break;
        }
        off += i * inStrides[d];
      }
      offs[k * P + p] = off;
      for (let d = nd - 1; d >= 0 && ++pIdx[d] === out[d]; d--) pIdx[d] = 0;
    }
    for (let d = nd - 1; d >= 0 && ++kIdx[d] === window[d]; d--) kIdx[d] = 0;
  }
  return offs;
}

export interface ConvGeometry {
  windowStrides: readonly number[];
  padding: readonly (readonly [number, number])[];
  lhsDilation: readonly number[];
  rhsDilation: readonly number[];
  /** lhs: [batch axis, feature axis, spatial axes...]; rhs: [out feature, in feature, spatial...]; out as lhs. */
  lhsSpec: readonly number[];
  rhsSpec: readonly number[];
  outSpec: readonly number[];
  featureGroupCount: number;
  batchGroupCount: number;
}

/**
 * XLA's ConvGeneralDilated on concrete arrays of any strides. Feature groups split the lhs
 * features and the rhs output features group-major; batch groups split the lhs batch and the rhs
 * output features group-major (at most one of the two counts exceeds 1).
 */
export function convGeneralDilated(lhs: Arr, rhs: Arr, g: ConvGeometry, outShape: readonly number[], dtype: DType): Arr {
  const l = transposeView(lhs, g.lhsSpec), r = contiguous(transposeView(rhs, g.rhsSpec));
  const [, , ...inSpatial] = l.shape;
  const [O, I, ...kSpatial] = r.shape;
  const [nOut, , ...outSpatial] = g.outSpec.map((a) => outShape[a]);
  const G = g.featureGroupCount, B = g.batchGroupCount, T = G * B, perGroup = O / T;
  const K = sizeOf(kSpatial), P = sizeOf(outSpatial), rows = I * K, cols = nOut * P;
  const offs = windowOffsets(inSpatial, l.stride.slice(2), kSpatial, outSpatial, {
    strides: g.windowStrides,
    padLo: g.padding.map(([lo]) => lo),
    baseDilation: g.lhsDilation,
    windowDilation: g.rhsDilation,
  });
  const col = allocate(dtype, T * rows * cols);
  const src = l.data;
  const [sn, sc] = l.stride;
  let dst = 0;
  for (let t = 0; t < T; t++) {
    for (let ci = 0; ci < I; ci++) {
      const c = G > 1 ? t * I + ci : ci;
      for (let k = 0; k < K; k++) {
        const ko = k * P;
        for (let n = 0; n < nOut; n++, dst += P) {
          const base = l.offset + (B > 1 ? t * nOut + n : n) * sn + c * sc;
          for (let p = 0; p < P; p++) {
            const o = offs[ko + p];
            if (o >= 0) col[dst + p] = src[base + o];
          }
        }
      }
    }
  }
  const y = batchMatmul(view(r.data, [T, perGroup, rows]), view(col, [T, rows, cols]), dtype);
  // y is [T, perGroup, nOut, P] row-major: output feature t*perGroup + o of example n at position p.
  const canonical = view(y.data, [nOut, O, ...outSpatial], [P, cols, ...rowMajorStrides(outSpatial)], y.offset);
  const toOut = g.outSpec.map((_, j) => g.outSpec.indexOf(j));
  return contiguous(transposeView(canonical, toOut));
}
