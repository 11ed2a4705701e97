// Kernels that move data rather than map it: matmul, pad, concatenate, dtype conversion.
import { type DType, allocate } from "../core/dtype.js";
import { mapN } from "./elementwise.js";
import { type Arr, assignInto, contiguous, empty, sliceView, view } from "./ndarray-view.js";

const KB = 64; // rows of B (columns of A) kept hot in cache per pass

/**
 * [batch, m, k] @ [batch, k, n] -> [batch, m, n], row-major, accumulated in float64. The loop
 * order is i-k-j over blocks of k, so the innermost loop walks rows of B and C contiguously.
 */
export function batchMatmul(a: Arr, b: Arr, dtype: DType): Arr {
  const [nb, m, k] = a.shape;
  const n = b.shape[2];
  const A = contiguous(a).data;
  const B = contiguous(b).data;
  const C = new Float64Array(nb * m * n);
  for (let t = 0; t < nb; t++) {
    const aBase = t * m * k, bBase = t * k * n, cBase = t * m * n;
    for (let kk = 0; kk < k; kk += KB) {
      const kEnd = Math.min(kk + KB, k);
      let i = 0;
      // Four rows of C at a time: each loaded row of B is used four times.
      for (; i + 3 < m; i += 4) {
        const c0 = cBase + i * n, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n;
        const a0 = aBase + i * k;
        for (let p = kk; p < kEnd; p++) {
          const x0 = A[a0 + p], x1 = A[a0 + k + p], x2 = A[a0 + 2 * k + p], x3 = A[a0 + 3 * k + p];
          const bRow = bBase + p * n;
          for (let j = 0; j < n; j++) {
            const y = B[bRow + j];
            C[c0 + j] += x0 * y;
            C[c1 + j] += x1 * y;
            C[c2 + j] += x2 * y;
            C[c3 + j] += x3 * y;
          }
        }
      }
      for (; i < m; i++) {
        const c0 = cBase + i * n, a0 = aBase + i * k;
        for (let p = kk; p < kEnd; p++) {
          const x = A[a0 + p];
          const bRow = bBase + p * n;
          for (let j = 0; j < n; j++) C[c0 + j] += x * B[bRow + j];
        }
      }
    }
  }
  if (dtype === "float64") return view(C, [nb, m, n]);
  const out = allocate(dtype, C.length);
  for (let i = 0; i < C.length; i++) out[i] = C[i];
  return view(out, [nb, m, n]);
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

export function convert(a: Arr, dtype: DType): Arr {
  return mapN(dtype === "bool" ? "x0 !== 0 ? 1 : 0" : "x0", [a], dtype);
}
