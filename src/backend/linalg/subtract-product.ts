// The level-3 update of the blocked factorizations and solves, C += alpha A B on blocks of float64
// working buffers. Large products go through the backend's matmul (batchMatmul: the WebAssembly
// SIMD GEMM where available, measured ~6x the JavaScript row updates on 200 x 32 x 200 blocks);
// small ones are added in place by JavaScript loops, where copying operands in and the product
// out would cost more than it saves.
import { view } from "../ndarray-view.js";
import { batchMatmul } from "../structural.js";
import { workspaceGemm, workspaceOf } from "../wasm/resident.js";

/** Below this many multiply-adds the product is added in place. */
const SMALL = 4096;
/** From this many multiply-adds up, a product of operands resident in wasm memory runs there (no copies to pay for). */
const RESIDENT_MIN = 512;

/** A block of a float64 buffer: element (i, j) is at offset + i * rowStride + j * colStride. */
export interface Block {
  data: Float64Array;
  offset: number;
  rowStride: number;
  colStride: number;
}

/** A row-major block (column stride 1) at `offset` with rows `ld` apart. */
export const rows = (data: Float64Array, offset: number, ld: number): Block => ({ data, offset, rowStride: ld, colStride: 1 });

/** The transpose of the row-major block at `offset` with rows `ld` apart. */
export const transposed = (data: Float64Array, offset: number, ld: number): Block => ({ data, offset, rowStride: 1, colStride: ld });

/**
 * C += alpha A B for an m x k block A and a k x n block B into the m x n block C (C row-major
 * with rows ldc apart). C must not overlap A or B.
 */
export function addProduct(c: Float64Array, co: number, ldc: number, a: Block, b: Block, m: number, k: number, n: number, alpha: number): void {
  if (m === 0 || n === 0 || k === 0) return;
  // Operands resident in wasm memory (a blocked kernel's workspace) are multiplied there in place:
  // no copies, and the same sums as the product below (c + (-s) is c - s exactly). Anything else
  // into a workspace is added by the loops: batchMatmul would lay its operands over the workspace.
  const ws = workspaceOf(c);
  if (ws !== null && m * n * k >= RESIDENT_MIN && (alpha === -1 || alpha === 1) && a.data === c && b.data === c) {
    workspaceGemm(ws, co, ldc, a.offset, a.rowStride, a.colStride, b.offset, b.rowStride, b.colStride, m, k, n, alpha === 1);
    return;
  }
  if (ws !== null || m * n * k < SMALL) {
    const ad = a.data, bd = b.data, bj = b.colStride;
    for (let i = 0; i < m; i++) {
      const ci = co + i * ldc;
      for (let p = 0; p < k; p++) {
        const x = alpha * ad[a.offset + i * a.rowStride + p * a.colStride];
        for (let j = 0, q = b.offset + p * b.rowStride; j < n; j++, q += bj) c[ci + j] += x * bd[q];
      }
    }
    return;
  }
  const av = view(a.data, [1, m, k], [0, a.rowStride, a.colStride], a.offset);
  const bv = view(b.data, [1, k, n], [0, b.rowStride, b.colStride], b.offset);
  const p = batchMatmul(av, bv, "float64");
  const pd = p.data, po = p.offset;
  for (let i = 0; i < m; i++) {
    const ci = co + i * ldc, pi = po + i * n;
    for (let j = 0; j < n; j++) c[ci + j] += alpha * pd[pi + j];
  }
}

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
  addProduct(c, co, ldc, rows(a, ao, lda), transB ? transposed(b, bo, ldb) : rows(b, bo, ldb), m, k, n, -1);
}
