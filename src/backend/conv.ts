// Convolution as im2col + the matmul kernel: the input windows are gathered once into a
// [groups, kernel-volume x in-features, batch x out-positions] matrix, so the arithmetic runs in
// batchMatmul's blocked (or WebAssembly SIMD) product instead of a per-element loop.
import { type DType, type TypedArray, allocate } from "../core/dtype.js";
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
  // The same geometry recurs at every training step: the table is built once per shape.
  const key = JSON.stringify([inShape, inStrides, window, out, w.strides, w.padLo, w.baseDilation, w.windowDilation]);
  let offs = offsetCache.get(key);
  if (offs === undefined) {
    offs = buildOffsets(inShape, inStrides, window, out, w);
    if (offsetCache.size >= 64) offsetCache.clear();
    offsetCache.set(key, offs);
  }
  return offs;
}

const offsetCache = new Map<string, Int32Array>();

function buildOffsets(inShape: readonly number[], inStrides: readonly number[], window: readonly number[], out: readonly number[], w: WindowPlacement): Int32Array {
  const nd = inShape.length;
  const K = sizeOf(window), P = sizeOf(out);
  const offs = new Int32Array(K * P);
  const kIdx = new Array<number>(nd).fill(0);
  let cur = new Int32Array(P), next = new Int32Array(P);
  for (let k = 0; k < K; k++) {
    // Offsets over the output positions, one dimension at a time: [outer positions] x out[d].
    cur[0] = 0;
    let n = 1;
    for (let d = 0; d < nd; d++) {
      const od = out[d], s = w.strides[d], bd = w.baseDilation[d], st = inStrides[d], size = inShape[d];
      const shift = kIdx[d] * w.windowDilation[d] - w.padLo[d];
      for (let i = 0, at = 0; i < n; i++) {
        const base = cur[i];
        for (let p = 0; p < od; p++, at++) {
          const pos = p * s + shift;
          const j = pos / bd;
          next[at] = base < 0 || pos < 0 || pos % bd !== 0 || j >= size ? -1 : base + j * st;
        }
      }
      n *= od;
      [cur, next] = [next, cur];
    }
    offs.set(cur.subarray(0, P), k * P);
    for (let d = nd - 1; d >= 0 && ++kIdx[d] === window[d]; d--) kIdx[d] = 0;
  }
  return offs;
}

// The im2col matrix lives only during one product: one zeroed buffer per dtype is reused rather
// than a fresh allocation per convolution (most of a training step's garbage otherwise).
const scratchBuffers = new Map<DType, TypedArray>();
// Larger matrices are allocated per call, so that one big convolution does not pin its memory.
const SCRATCH_LIMIT = 1 << 22;
function scratch(dtype: DType, n: number): TypedArray {
  let buf = scratchBuffers.get(dtype);
  if (buf === undefined || buf.length < n) {
    buf = allocate(dtype, n);
    if (n <= SCRATCH_LIMIT) scratchBuffers.set(dtype, buf);
    return buf;
  }
  return buf.subarray(0, n).fill(0);
}

/**
 * The im2col matrix [T][I x K][nOut x P] (zero where a window reads padding), each entry found
 * through the offset table. Any geometry.
 */
function im2colTable(l: Arr, col: TypedArray, kSpatial: number[], outSpatial: number[], w: WindowPlacement, I: number, G: number, B: number, T: number, nOut: number): void {
  const K = sizeOf(kSpatial), P = sizeOf(outSpatial);
  const offs = windowOffsets(l.shape.slice(2), l.stride.slice(2), kSpatial, outSpatial, w);
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
}

/**
 * The same matrix when the last spatial dimension has no lhs dilation: along it, the positions a
 * window element reads form one run of evenly spaced input elements, so only the outer
 * dimensions go through the offset table and each run is a strided copy.
 */
function im2colRuns(l: Arr, col: TypedArray, kSpatial: number[], outSpatial: number[], w: WindowPlacement, I: number, G: number, B: number, T: number, nOut: number): void {
  const nd = kSpatial.length, last = nd - 1;
  const P = sizeOf(outSpatial), L = outSpatial[last], Q = P / L || 0, KL = kSpatial[last], KO = sizeOf(kSpatial) / KL;
  const outer = (xs: readonly number[]) => xs.slice(0, last);
  const offs = windowOffsets(outer(l.shape.slice(2)), outer(l.stride.slice(2)), outer(kSpatial), outer(outSpatial), {
    strides: outer(w.strides), padLo: outer(w.padLo), baseDilation: outer(w.baseDilation), windowDilation: outer(w.windowDilation),
  });
  const size = l.shape[2 + last], st = l.stride[2 + last], s = w.strides[last], wd = w.windowDilation[last], lo = w.padLo[last];
  // For window element kl of the last dimension: output positions [from, to) read inside the input.
  const from = new Int32Array(KL), to = new Int32Array(KL);
  for (let kl = 0; kl < KL; kl++) {
    const shift = kl * wd - lo;
    from[kl] = Math.min(L, Math.max(0, Math.ceil(-shift / s)));
    to[kl] = Math.max(from[kl], Math.min(L, Math.floor((size - 1 - shift) / s) + 1));
  }
  const src = l.data;
  const [sn, sc] = l.stride;
  const step = s * st;
  let dst = 0;
  for (let t = 0; t < T; t++) {
    for (let ci = 0; ci < I; ci++) {
      const c = G > 1 ? t * I + ci : ci;
      for (let ko = 0; ko < KO; ko++) {
        for (let kl = 0; kl < KL; kl++) {
          const a = from[kl], b = to[kl], first = (a * s + kl * wd - lo) * st;
          for (let n = 0; n < nOut; n++, dst += P) {
            const base = l.offset + (B > 1 ? t * nOut + n : n) * sn + c * sc + first;
            for (let q = 0; q < Q; q++) {
              const o = offs[ko * Q + q];
              if (o < 0) continue;
              let at = base + o;
              const row = dst + q * L;
              for (let p = a; p < b; p++, at += step) col[row + p] = src[at];
            }
          }
        }
      }
    }
  }
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
  const col = scratch(dtype, T * rows * cols);
  const placement: WindowPlacement = { strides: g.windowStrides, padLo: g.padding.map(([lo]) => lo), baseDilation: g.lhsDilation, windowDilation: g.rhsDilation };
  const nd = inSpatial.length;
  if (nd > 0 && g.lhsDilation[nd - 1] === 1) im2colRuns(l, col, kSpatial, outSpatial, placement, I, G, B, T, nOut);
  else im2colTable(l, col, kSpatial, outSpatial, placement, I, G, B, T, nOut);
  const toOut = g.outSpec.map((_, j) => g.outSpec.indexOf(j));
  const spatialStrides = rowMajorStrides(outSpatial);
  let canonical: Arr;
  if (T === 1 && toOut[toOut.length - 1] === 1 && toOut.every((c, j) => j === toOut.length - 1 || c === (j === 0 ? 0 : j + 1))) {
    // Channels last (N spatial... C): the transposed product [N x positions, C] is the output itself.
    const y = batchMatmul(transposeView(view(col, [1, rows, cols]), [0, 2, 1]), transposeView(view(r.data, [1, O, rows]), [0, 2, 1]), dtype);
    canonical = view(y.data, [nOut, O, ...outSpatial], [P * O, 1, ...spatialStrides.map((st) => st * O)], y.offset);
  } else {
    const y = batchMatmul(view(r.data, [T, perGroup, rows]), view(col, [T, rows, cols]), dtype);
    // y is [T, perGroup, nOut, P] row-major: output feature t*perGroup + o of example n at position p.
    canonical = view(y.data, [nOut, O, ...outSpatial], [P, cols, ...spatialStrides], y.offset);
  }
  return contiguous(transposeView(canonical, toOut));
}
