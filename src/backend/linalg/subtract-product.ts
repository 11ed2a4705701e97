// The level-3 update of the blocked factorizations and solves, C -= A B on blocks of float64
// working buffers. Large products go through the backend's matmul (batchMatmul: the WebAssembly
// SIMD GEMM where available, measured ~6x the JavaScript row updates on 200 x 32 x 200 blocks);
// small ones are subtracted in place by JavaScript loops, where copying operands in and the
// product out would cost more than it saves.
import { view } from "../ndarray-view.js";
import { batchMatmul } from "../structural.js";

/** Below this many multiply-adds the product is subtracted in place. */
const SMALL = 4096;

/**
 * C -= A B, all row-major blocks of float64 buffers: C is m x n at `co` (row stride ldc), A is
 * m x k at `ao` (row stride lda), and B is k x n at `bo` (row stride ldb) or, with `transB`, the
 * transpose of the n x k block stored there.
 */
export function subtractProduct(
  c: Float64Array, co: number, ldc: number,
  a: Float64Array, ao: number, lda: number,
  b: Float64Array, bo: number, ldb: number,
  m: number, k: number, n: number, transB: boolean,
): void {
  if (m === 0 || n === 0 || k === 0) return;
  if (m * n * k < SMALL) {
    for (let i = 0; i < m; i++) {
      const ci = co + i * ldc, ai = ao + i * lda;
      for (let p = 0; p < k; p++) {
        const x = a[ai + p];
        if (transB) for (let j = 0; j < n; j++) c[ci + j] -= x * b[bo + j * ldb + p];
        else for (let j = 0, bp = bo + p * ldb; j < n; j++) c[ci + j] -= x * b[bp + j];
      }
    }
    return;
  }
  const av = view(a, [1, m, k], [0, lda, 1], ao);
  const bv = transB ? view(b, [1, k, n], [0, 1, ldb], bo) : view(b, [1, k, n], [0, ldb, 1], bo);
  const p = batchMatmul(av, bv, "float64");
  const pd = p.data, po = p.offset;
  for (let i = 0; i < m; i++) {
    const ci = co + i * ldc, pi = po + i * n;
    for (let j = 0; j < n; j++) c[ci + j] -= pd[pi + j];
  }
}
