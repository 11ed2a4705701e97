// Kernels that move data rather than map it: matmul, pad, concatenate, dtype conversion.
import { type DType, type TypedArray, allocate, dtypeOfTypedArray } from "../core/dtype.js";
import { mapN } from "./elementwise.js";
import { type Arr, assignInto, dtypeOf, empty, sliceView, view } from "./ndarray-view.js";
import { wasmBatchMatmul, wasmGemmEnabled, wasmGemmLimits } from "./wasm/gemm.js";

// Blocking of the packed matmul: a KC x NC block of B (256 KB) stays in L2 while 4-row panels of
// A (KC x 4, 8 KB) sit in L1 and each 4x4 tile of C accumulates in registers.
const KC = 256;
const NC = 128;
// Below this many multiply-adds packing costs more than it saves.
const SMALL = 16384;

/**
 * [batch, m, k] @ [batch, k, n] -> [batch, m, n] row-major. Operands may have any strides
 * (transposed or broadcast views). Large float products run on the WebAssembly SIMD kernels
 * (float32 in float32); the rest, and everything where WebAssembly SIMD is missing or switched
 * off, on the JavaScript kernels below, which accumulate in float64 and read operands in place.
 * In float64 the wasm kernel sums in the JavaScript kernel's order, blocks of KC terms, so the
 * two agree bit for bit wherever the JavaScript kernel blocks too (k <= KC, or above SMALL); the
 * row-update and dot-product kernels sum k > KC terms in one run, which differs in rounding only.
 */
export function batchMatmul(a: Arr, b: Arr, dtype: DType): Arr {
  const [nb, m, k] = a.shape;
  const n = b.shape[2];
  // Matrix-vector products go to wasm in float32 only: in float64 it measured no faster than the
  // JavaScript dot products, which keep their order of summation (and so their bits).
  const shapeFits = dtype === "float32" ? m > 1 || n > 1 : m > 1 && n > 1;
  if ((dtype === "float64" || dtype === "float32") && shapeFits && k > 0 && nb * m * n * k >= wasmGemmLimits.minWork &&
    dtypeOfTypedArray(a.data) === dtype && dtypeOfTypedArray(b.data) === dtype && wasmGemmEnabled()) {
    const C = wasmBatchMatmul(a, b, dtype);
    if (C !== null) return view(C, [nb, m, n]);
  }
  const C = allocate("float64", nb * m * n, [nb, m, n]) as Float64Array;
  if (C.length > 0 && k > 0) {
    const [sab, sam, sak] = a.stride;
    const [sbb, sbk, sbn] = b.stride;
    const work = m * n * k;
    for (let t = 0; t < nb; t++) {
      const ao = a.offset + t * sab, bo = b.offset + t * sbb, co = t * m * n;
      if (n === 1) matvec(a.data, ao, sam, sak, b.data, bo, sbk, C, co, m, k);
      else if (work <= SMALL || m === 1) rowUpdates(a.data, ao, sam, sak, b.data, bo, sbk, sbn, C, co, m, k, n);
      else packedGemm(a.data, ao, sam, sak, b.data, bo, sbk, sbn, C, co, m, k, n);
    }
  }
  if (dtype === "float64") return view(C, [nb, m, n]);
  const out = allocate(dtype, C.length);
  for (let i = 0; i < C.length; i++) out[i] = C[i];
  return view(out, [nb, m, n]);
}

/** C[i] = sum_p A[i, p] B[p]: one dot product per row. */
function matvec(A: TypedArray, ao: number, sam: number, sak: number, B: TypedArray, bo: number, sbk: number, C: Float64Array, co: number, m: number, k: number): void {
  for (let i = 0; i < m; i++) {
    let s = 0;
    let pa = ao + i * sam, pb = bo;
    for (let p = 0; p < k; p++, pa += sak, pb += sbk) s += A[pa] * B[pb];
    C[co + i] = s;
  }
}

/** C[i, :] += A[i, p] * B[p, :], in i-p-j order: rows of B and C are walked contiguously. */
function rowUpdates(A: TypedArray, ao: number, sam: number, sak: number, B: TypedArray, bo: number, sbk: number, sbn: number, C: Float64Array, co: number, m: number, k: number, n: number): void {
  for (let i = 0; i < m; i++) {
    const c0 = co + i * n;
    for (let p = 0; p < k; p++) {
      const x = A[ao + i * sam + p * sak];
      let pb = bo + p * sbk;
      for (let j = 0; j < n; j++, pb += sbn) C[c0 + j] += x * B[pb];
    }
  }
}

const packA = new Float64Array(KC * 4);
const packB = new Float64Array(KC * NC);

function packedGemm(A: TypedArray, ao: number, sam: number, sak: number, B: TypedArray, bo: number, sbk: number, sbn: number, C: Float64Array, co: number, m: number, k: number, n: number): void {
  const Ap = packA, Bp = packB;
  for (let jj = 0; jj < n; jj += NC) {
    const nc = Math.min(NC, n - jj);
    const nq = (nc + 3) >> 2;
    for (let kk = 0; kk < k; kk += KC) {
      const kc = Math.min(KC, k - kk);
      // B[kk:kk+kc, jj:jj+nc] as panels of 4 columns, each [kc][4] (zero-padded past n).
      for (let q = 0; q < nq; q++) {
        const j0 = jj + q * 4, w = Math.min(4, n - j0);
        let dst = q * kc * 4;
        for (let p = 0; p < kc; p++, dst += 4) {
          const src = bo + (kk + p) * sbk + j0 * sbn;
          Bp[dst] = B[src];
          Bp[dst + 1] = w > 1 ? B[src + sbn] : 0;
          Bp[dst + 2] = w > 2 ? B[src + 2 * sbn] : 0;
          Bp[dst + 3] = w > 3 ? B[src + 3 * sbn] : 0;
        }
      }
      for (let i = 0; i < m; i += 4) {
        const h = Math.min(4, m - i);
        // A[i:i+4, kk:kk+kc] as one panel [kc][4] (zero-padded past m).
        for (let p = 0, dst = 0; p < kc; p++, dst += 4) {
          const src = ao + i * sam + (kk + p) * sak;
          Ap[dst] = A[src];
          Ap[dst + 1] = h > 1 ? A[src + sam] : 0;
          Ap[dst + 2] = h > 2 ? A[src + 2 * sam] : 0;
          Ap[dst + 3] = h > 3 ? A[src + 3 * sam] : 0;
        }
        for (let q = 0; q < nq; q++) {
          let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
          let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
          let pb = q * kc * 4;
          for (let pa = 0, end = kc * 4; pa < end; pa += 4, pb += 4) {
            const b0 = Bp[pb], b1 = Bp[pb + 1], b2 = Bp[pb + 2], b3 = Bp[pb + 3];
            const x0 = Ap[pa], x1 = Ap[pa + 1], x2 = Ap[pa + 2], x3 = Ap[pa + 3];
            c00 += x0 * b0; c01 += x0 * b1; c02 += x0 * b2; c03 += x0 * b3;
            c10 += x1 * b0; c11 += x1 * b1; c12 += x1 * b2; c13 += x1 * b3;
            c20 += x2 * b0; c21 += x2 * b1; c22 += x2 * b2; c23 += x2 * b3;
            c30 += x3 * b0; c31 += x3 * b1; c32 += x3 * b2; c33 += x3 * b3;
          }
          const j0 = jj + q * 4;
          let o = co + i * n + j0;
          if (h === 4 && j0 + 4 <= n) {
            C[o] += c00; C[o + 1] += c01; C[o + 2] += c02; C[o + 3] += c03; o += n;
            C[o] += c10; C[o + 1] += c11; C[o + 2] += c12; C[o + 3] += c13; o += n;
            C[o] += c20; C[o + 1] += c21; C[o + 2] += c22; C[o + 3] += c23; o += n;
            C[o] += c30; C[o + 1] += c31; C[o + 2] += c32; C[o + 3] += c33;
          } else {
            const w = Math.min(4, n - j0);
            const tile = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
            for (let r = 0; r < h; r++, o += n) for (let c = 0; c < w; c++) C[o + c] += tile[r * 4 + c];
          }
        }
      }
    }
  }
}

export function pad(a: Arr, value: number, lo: readonly number[], hi: readonly number[], interior: readonly number[], dtype: DType): Arr {
  const shape = a.shape.map((d, i) => lo[i] + hi[i] + d + Math.max(0, d - 1) * interior[i]);
  const out = empty(shape, dtype);
  if (value !== 0) out.data.fill(value);
  if (a.size === 0) return out;
  const start = lo.map((l) => l);
  const limit = shape.map((d, i) => d - hi[i]);
  assignInto(sliceView(out, start, limit, interior.map((s) => s + 1)), a);
  return out;
}

export function concatenate(arrs: readonly Arr[], axis: number, dtype: DType): Arr {
  const shape = [...arrs[0].shape];
  shape[axis] = arrs.reduce((s, a) => s + a.shape[axis], 0);
  const out = empty(shape, dtype);
  let at = 0;
  for (const a of arrs) {
    const start = shape.map((_, i) => (i === axis ? at : 0));
    const limit = shape.map((d, i) => (i === axis ? at + a.shape[axis] : d));
    assignInto(sliceView(out, start, limit, shape.map(() => 1)), a);
    at += a.shape[axis];
  }
  return out;
}

/**
 * The elementwise expression converting a `from` value to `to`. Float to int32/uint32 truncates
 * toward zero and saturates out of range, NaN giving 0 (XLA's ConvertElementType, hence JAX);
 * storing into an Int32Array alone would wrap modulo 2^32. Between integer types the bits are
 * kept (wrapping), as NumPy and XLA do.
 */
export function convertExpr(from: DType, to: DType): string {
  if (to === "bool") return "x0 !== 0 ? 1 : 0";
  if ((from === "float64" || from === "float32") && (to === "int32" || to === "uint32")) {
    const [lo, hi] = to === "int32" ? [-2147483648, 2147483647] : [0, 4294967295];
    return `(x0 !== x0 ? 0 : x0 <= ${lo} ? ${lo} : x0 >= ${hi} ? ${hi} : x0)`;
  }
  return "x0";
}

export function convert(a: Arr, dtype: DType): Arr {
  return mapN(convertExpr(dtypeOf(a), dtype), [a], dtype);
}
