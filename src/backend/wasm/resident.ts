// Float64 matrices kept in the WebAssembly memory for the whole of a blocked factorization or
// solve: copied in once, updated in place by every product of the recursion (C -= A B on blocks,
// rows ldc apart), and copied out once. Going through wasmBatchMatmul instead copies both
// operands in and the product out around each of the dozens of products of a 200 x 200 Cholesky,
// and that copying cost more than the products themselves.
//
// The workspace is a kept instance's memory from address 0, the same bytes wasmBatchMatmul lays
// its operands on: a caller must finish with its workspace before it runs any matmul. It is the
// unshared memory (copies to and from it are the fast ones) unless the largest products are big
// enough to be shared with the matmul worker threads.
import { type Instance, keptInstance, keptLocalInstance, runRows, threadsFor, wasmGemmEnabled, wasmGemmLimits } from "./gemm.js";

const PAGE = 65536;
// One packing area for A per thread: 128 bytes of spill for edge tiles, then MC x KC values.
const AREA = 128 + 128 * 256 * 8;

const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;

export interface Workspace {
  /** The memory as float64: the caller's `elements` values are heap[0 .. elements). */
  heap: Float64Array;
  /** Where the caller's scratch values start in heap (right after its elements). */
  scratch: number;
  inst: Instance;
  /** Byte address of the packed B of the current product. */
  packAt: number;
  /** Byte addresses of the packing areas for A, one per thread that may share a product. */
  areas: number[];
}

let current: Workspace | null = null;

/**
 * A workspace of `elements` float64 values and `scratch` more for products whose operands have at
 * most `maxDim` rows and columns, or null when the WebAssembly kernels are off or it would exceed the memory
 * the module keeps (the caller then works on JavaScript arrays, through batchMatmul). The
 * values hold whatever the memory held before.
 */
export function f64Workspace(elements: number, maxDim: number, scratch = 0): Workspace | null {
  if (!wasmGemmEnabled()) return null;
  const lim = wasmGemmLimits;
  const packAt = align((elements + scratch) * 8);
  const areasAt = packAt + align(maxDim * (maxDim + 3) * 8);
  // The largest product of a blocked kernel is about maxDim / 2 x maxDim / 2 x maxDim.
  const threads = threadsFor(maxDim ** 3 / 4, maxDim);
  const total = areasAt + threads * AREA;
  if (total > lim.keepBytes) return null;
  const inst = threads > 1 ? keptInstance() : keptLocalInstance();
  const have = inst.memory.buffer.byteLength;
  if (total > have) {
    try {
      inst.memory.grow(Math.ceil((total - have) / PAGE));
    } catch {
      return null; // the engine refused the memory
    }
  }
  const heap = current !== null && current.inst === inst && current.heap.byteLength >= total ? current.heap : new Float64Array(inst.memory.buffer);
  current = { heap, scratch: elements, inst, packAt, areas: Array.from({ length: threads }, (_, i) => areasAt + i * AREA) };
  return current;
}

/** The workspace whose heap is `data`, if it is one (the blocked kernels then multiply in place in wasm). */
export function workspaceOf(data: Float64Array): Workspace | null {
  return current !== null && current.heap === data ? current : null;
}

/**
 * C -= A B (or += when `add`) on the workspace's values: offsets and strides in elements, A m x k,
 * B k x n, C m x n with rows ldc apart (C must not overlap A or B). Large products are shared
 * with the matmul worker threads as wasmBatchMatmul's are.
 */
export function workspaceGemm(
  ws: Workspace, c: number, ldc: number,
  a: number, sam: number, sak: number,
  b: number, sbk: number, sbn: number,
  m: number, k: number, n: number, add = false,
): void {
  ws.inst.pack_b_f64(b * 8, sbk, sbn, k, n, ws.packAt);
  const parts = Math.min(threadsFor(m * n * k, m), ws.areas.length);
  runRows(ws.inst, [0, 1, a * 8, sam, sak, 0, ws.packAt, 0, c * 8, 0, m, k, n, ldc, add ? 0 : 1], ws.areas.slice(0, parts));
}
