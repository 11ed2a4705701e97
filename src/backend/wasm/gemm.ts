// Runs batched matmuls on the WebAssembly SIMD kernels of gemm.wat: copies the operands into the
// module's memory, runs the kernel per batch and copies C out. float64 computes in f64x2 lanes
// (same order of operations as the JavaScript kernel, so the same bits), float32 in f32x4 lanes.
// Large products are split by rows of C across worker threads that share the module's memory; each
// element is still summed in the same order, so threads change no bits.
import { availableParallelism, loadavg } from "node:os";
import { Worker } from "node:worker_threads";
import type { TypedArray } from "../../core/dtype.js";
import type { Arr } from "../ndarray-view.js";
import { GEMM_WASM_BASE64 } from "./gemm-wasm.generated.js";

type Kernel = (a: number, sam: number, sak: number, pb: number, c: number, ldc: number, m: number, k: number, n: number, pa: number, sub: number) => void;
type PackB = (b: number, sbk: number, sbn: number, k: number, n: number, dst: number) => void;
interface Exports {
  gemm_f64: Kernel;
  gemm_f32: Kernel;
  pack_b_f64: PackB;
  pack_b_f32: PackB;
}

// The blocking compiled into gemm.wat: MC rows of A per packed block, KC terms.
const MC = 128, KC = 256;
const SCRATCH = 128;
const PAGE = 65536;
const MAX_PAGES = 65536;

/**
 * Threads for large products: JACOBI_GEMM_THREADS when it is a positive integer (1: no workers),
 * else the machine's parallelism, at most 4.
 */
export function defaultThreads(setting = process.env.JACOBI_GEMM_THREADS): number {
  const t = Number(setting);
  return Number.isInteger(t) && t >= 1 ? t : Math.min(4, availableParallelism());
}

/** Internal tuning, mutable so that tests can reach every path. */
export const wasmGemmLimits = {
  /**
   * Products of fewer multiply-adds (batch m n k, over all batches: the copies are made once) stay
   * on the JavaScript kernel, where the copies in and out cost more than the kernel saves: measured
   * on a 2-vCPU Zen 4, wasm was ahead from about 16^3 on a single product and already at 1000
   * batches of 4x4x4.
   */
  minWork: 2048,
  /** The module keeps its memory between calls up to this size; a product needing more runs on an instance of its own that is dropped afterwards, so one large product does not pin its memory. */
  keepBytes: 64 << 20,
  /** Beyond this a product stays on the JavaScript kernel (wasm32 memories end at 4 GiB). */
  maxBytes: 2 ** 31,
  /** At most this many threads (this one and workers) share a product of at least threadMinWork multiply-adds, by rows of C. */
  threads: defaultThreads(),
  threadMinWork: 1 << 21,
  /** Runnable threads on the machine, this one included: the 1-minute load average. */
  load: (): number => loadavg()[0],
  /** Whether this thread claims chunks of a shared product too (false leaves them all to the workers: tests). */
  selfWork: true,
};

/**
 * Threads for a product of `work` multiply-adds with m rows: at most `threads`, only for large
 * products, and no more than the cores that other processes leave idle: on a machine that is
 * already busy, a worker waits for a core while this thread waits for the worker (measured on a
 * 2-vCPU machine: 1.4x faster with two threads at load 6 of other agents, none at load 12).
 */
export function threadsFor(work: number, m: number): number {
  const lim = wasmGemmLimits;
  if (work < lim.threadMinWork || m < 8 || lim.threads <= 1) return 1;
  const cores = availableParallelism();
  return Math.max(1, Math.min(lim.threads, cores, Math.floor(cores - lim.load()) + 1, m >> 2));
}

let module: WebAssembly.Module | null | undefined;
let moduleLocal: WebAssembly.Module | null | undefined;
let shared: Instance | null = null;
let local: Instance | null = null;
let enabled = process.env.JACOBI_WASM !== "0";

/**
 * The compiled kernels, or null where this engine cannot run them: validating the module checks
 * for WebAssembly and its SIMD proposal without running anything. `validate` is a parameter so
 * that tests can play an engine without SIMD.
 */
export function loadKernels(validate: (bytes: Uint8Array<ArrayBuffer>) => boolean = (b) => typeof WebAssembly === "object" && WebAssembly.validate(b), sharedMemory = true): WebAssembly.Module | null {
  const base = new Uint8Array(Buffer.from(GEMM_WASM_BASE64, "base64"));
  const bytes = sharedMemory ? base : unsharedMemory(base);
  if (bytes === null || !validate(bytes)) return null;
  try {
    return new WebAssembly.Module(bytes);
  } catch {
    // A Content-Security-Policy without 'wasm-unsafe-eval' refuses to compile it: the JS kernel runs.
    return null;
  }
}

/**
 * The module's bytes with its memory import declared unshared, or null when they do not have the
 * layout gemm.wat compiles to (an import section whose one import is the memory). A product run
 * on this thread alone uses an unshared memory: JavaScript's fill, set and slice on a
 * SharedArrayBuffer go element by element (measured 3 to 20 times slower on Node 20), and those
 * copies are the cost around a product of a few hundred rows.
 */
export function unsharedMemory(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> | null {
  const out = bytes.slice();
  let p = 8;
  const leb = (): number => {
    let v = 0, shift = 0, b: number;
    do {
      b = out[p++];
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return v;
  };
  while (p < out.length) {
    const id = out[p++], size = leb(), end = p + size;
    if (id === 2) {
      if (leb() !== 1) return null;
      // The module and field names (lengths read before p moves past them).
      for (let name = 0; name < 2; name++) {
        const len = leb();
        p += len;
      }
      // kind 2 (memory), then the limits' flags: 3 is shared with a maximum, 1 the same unshared.
      if (out[p] !== 2 || out[p + 1] !== 3) return null;
      out[p + 1] = 1;
      return out;
    }
    p = end;
  }
  return null;
}

function compiled(sharedMemory = true): WebAssembly.Module | null {
  if (sharedMemory) {
    if (module === undefined) module = loadKernels();
    return module;
  }
  if (moduleLocal === undefined) moduleLocal = loadKernels(undefined, false);
  return moduleLocal;
}

/** Whether matmuls may use the WebAssembly kernels: supported here and not switched off. */
export function wasmGemmEnabled(): boolean {
  return enabled && compiled() !== null && compiled(false) !== null;
}

/**
 * Switches the WebAssembly kernels on or off (off: every matmul runs the JavaScript kernel) and
 * returns the previous setting. Internal: tests use it to cover both paths; JACOBI_WASM=0 in the
 * environment starts with them off.
 */
export function setWasmGemm(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** The range of element offsets a strided view touches: [lo, hi]. */
function span(x: Arr): [number, number] {
  let lo = x.offset, hi = x.offset;
  for (let d = 0; d < x.shape.length; d++) {
    const reach = (x.shape[d] - 1) * x.stride[d];
    if (reach < 0) lo += reach;
    else hi += reach;
  }
  return [lo, hi];
}

/** Where an operand sits in wasm memory: byte address of element [0, 0, 0] and its strides. */
interface Placed { base: number; stride: number[]; bytes: number; copy: (heap: TypedArray) => void }

// Arithmetic rather than bitwise rounding: sizes past 2^31 bytes must stay exact to be refused.
const align = (x: number): number => Math.ceil(x / 16) * 16;

/**
 * Plans the copy of operand `x` to byte address `at`. A view whose elements fill most of the
 * range it spans (row-major, transposed, broadcast) is copied as that range and keeps its strides;
 * a sparse one (a strided slice of a larger buffer) is gathered into row-major order.
 */
function place(x: Arr, at: number, size: number): Placed {
  const [lo, hi] = span(x);
  const count = x.shape[0] * x.shape[1] * x.shape[2];
  if (hi - lo + 1 <= 2 * count + 64) {
    return {
      base: at + (x.offset - lo) * size,
      stride: [...x.stride],
      bytes: align((hi - lo + 1) * size),
      copy: (heap) => heap.set(x.data.subarray(lo, hi + 1), at / size),
    };
  }
  const [d0, d1, d2] = x.shape;
  return {
    base: at,
    stride: [d1 * d2, d2, 1],
    bytes: align(count * size),
    copy: (heap) => {
      const [s0, s1, s2] = x.stride, src = x.data;
      let o = at / size;
      for (let i = 0; i < d0; i++) for (let j = 0; j < d1; j++) {
        let p = x.offset + i * s0 + j * s1;
        for (let l = 0; l < d2; l++, p += s2) heap[o++] = src[p];
      }
    },
  };
}

/** Columns of C per product when B is lower triangular (a multiple of both kernels' NR). */
const TRI_PANEL = 32;
/** Products below this many multiply-adds are not worth the check for a triangular B. */
const TRI_MIN_WORK = 1 << 18;

/**
 * Whether the one k x n matrix B (placed in `heap`) is lower triangular, B[p, j] = 0 for p < j,
 * with k <= KC, and A is all finite. Column j of C then needs only the terms p >= j (half the
 * work of a square product, as X^T L in the Cholesky gradient), and the result keeps
 * its bits: the terms skipped are exact zeros (a finite a times 0) at the start of each sum, which
 * the kernel begins from +0 (0 + ±0 is +0), and within one KC block the remaining terms are summed
 * in the same order. A non-finite A would turn those zeros into NaN, so it takes the full product.
 */
function lowerTriangularB(heap: TypedArray, A: Placed, B: Placed, size: number, m: number, k: number, n: number): boolean {
  // A is placed at address 0 (see wasmBatchMatmul).
  if (k > KC || n < 2 * TRI_PANEL || m * n * k < TRI_MIN_WORK) return false;
  const [, sbk, sbn] = B.stride, b0 = B.base / size;
  // Along rows of B or down its columns, whichever is the contiguous walk.
  if (Math.abs(sbn) <= Math.abs(sbk)) {
    for (let p = 0; p < k; p++) for (let j = p + 1, q = b0 + p * sbk + j * sbn; j < n; j++, q += sbn) if (heap[q] !== 0) return false;
  } else {
    for (let j = 1; j < n; j++) for (let p = 0, q = b0 + j * sbn, end = Math.min(j, k); p < end; p++, q += sbk) if (heap[q] !== 0) return false;
  }
  // All that was copied for A (A was placed from address 0; at most a few values besides A's own,
  // which can only make the check refuse): v - v is NaN exactly when v is NaN or infinite.
  for (let q = 0, end = A.bytes / size; q < end; q++) if (heap[q] - heap[q] !== 0) return false;
  return true;
}

/** An instance of the kernels with the shared memory it runs on. */
export interface Instance extends Exports { memory: WebAssembly.Memory }

/** An instance on a memory of its own: shared (workers can run on it) or not (this thread only; faster to copy to and from). */
function instantiate(sharedMemory: boolean): Instance {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: sharedMemory });
  const exports = new WebAssembly.Instance(compiled(sharedMemory) as WebAssembly.Module, { env: { memory } }).exports as unknown as Exports;
  return { ...exports, memory };
}

// Worker threads that run rows of a product on the kept instance's memory. The product is cut
// into chunks of rows that every thread, this one included, claims one at a time from a shared
// counter: a worker that the OS does not schedule (on a busy machine) then costs at most the
// chunk it holds, not a fixed half of the product. Each worker waits on its control words:
// [state, pa], state going idle -> posted -> running -> done (or failed); a posted job that no
// worker has started when this thread has claimed every chunk is taken back.
const IDLE = 0, POSTED = 1, RUNNING = 2, DONE = 3, FAILED = 4;
// Job words: [next chunk, chunks, rows per chunk, f32, nb, a, sam, sak, sab, pb, spb, c, scb, m, k, n, ldc, sub].
const JOB_WORDS = 18;
// The chunk loop, once as text for the workers and once as code here (no `new Function`, so that
// matmul runs where code generation from strings is forbidden); tests run each side alone.
const CHUNKS = `(e, job, pa) => {
  const [, chunks, rows, f32, nb, a, sam, sak, sab, pb, spb, c, scb, m, k, n, ldc, sub] = job;
  const kernel = f32 ? e.gemm_f32 : e.gemm_f64, size = f32 ? 4 : 8;
  for (let i = Atomics.add(job, 0, 1); i < chunks; i = Atomics.add(job, 0, 1)) {
    const r0 = i * rows, h = Math.min(rows, m - r0);
    for (let t = 0; t < nb; t++) kernel(a + t * sab + r0 * sam * size, sam, sak, pb + t * spb, c + t * scb + r0 * ldc * size, ldc, h, k, n, pa, sub);
  }
}`;
function runChunks(e: Exports, job: Int32Array, pa: number): void {
  const [, chunks, rows, f32, nb, a, sam, sak, sab, pb, spb, c, scb, m, k, n, ldc, sub] = job;
  const kernel = f32 ? e.gemm_f32 : e.gemm_f64, size = f32 ? 4 : 8;
  for (let i = Atomics.add(job, 0, 1); i < chunks; i = Atomics.add(job, 0, 1)) {
    const r0 = i * rows, h = Math.min(rows, m - r0);
    for (let t = 0; t < nb; t++) kernel(a + t * sab + r0 * sam * size, sam, sak, pb + t * spb, c + t * scb + r0 * ldc * size, ldc, h, k, n, pa, sub);
  }
}
const WORKER = `
const { workerData } = require("node:worker_threads");
const { module, memory, ctrl, job } = workerData;
const e = new WebAssembly.Instance(module, { env: { memory } }).exports;
const runChunks = ${CHUNKS};
for (;;) {
  Atomics.wait(ctrl, 0, ${IDLE});
  if (Atomics.compareExchange(ctrl, 0, ${POSTED}, ${RUNNING}) !== ${POSTED}) continue;
  let state = ${DONE};
  try {
    runChunks(e, job, ctrl[1]);
  } catch {
    state = ${FAILED};
  }
  Atomics.store(ctrl, 0, state);
  Atomics.notify(ctrl, 0);
  Atomics.wait(ctrl, 0, state);
}`;
const job = new Int32Array(new SharedArrayBuffer(JOB_WORDS * 4));
const pool: Int32Array[] = [];

function workers(count: number, inst: Instance): Int32Array[] {
  while (pool.length < count) {
    const ctrl = new Int32Array(new SharedArrayBuffer(2 * 4));
    new Worker(WORKER, { eval: true, workerData: { module: compiled(), memory: inst.memory, ctrl, job } }).unref();
    pool.push(ctrl);
  }
  return pool;
}

/**
 * One product on the kernels: addresses in bytes, A's strides in elements, batch strides in bytes;
 * B packed by pack_b at pb (spb bytes apart per batch); C's rows ldc elements apart; sub 1 to
 * subtract the product from C instead of adding it.
 */
export type Job = [f32: number, nb: number, a: number, sam: number, sak: number, sab: number, pb: number, spb: number, c: number, scb: number, m: number, k: number, n: number, ldc: number, sub: number];

/**
 * Runs `product` on `inst`: on this thread alone when `areas` (one packing area for A per thread)
 * has one entry, else in chunks of rows shared with `areas.length - 1` workers (which run on the
 * kept instance's memory). Throws when a kernel trapped (a bug, never bad input), after every
 * worker has stopped.
 */
export function runRows(inst: Instance, product: Job, areas: number[]): void {
  const selfWork = wasmGemmLimits.selfWork;
  const [f32, nb, a, sam, sak, sab, pb, spb, c, scb, m, k, n, ldc, sub] = product;
  if (areas.length === 1) {
    const kernel = f32 ? inst.gemm_f32 : inst.gemm_f64;
    for (let t = 0; t < nb; t++) kernel(a + t * sab, sam, sak, pb + t * spb, c + t * scb, ldc, m, k, n, areas[0], sub);
    return;
  }
  // About four chunks per thread, whole tiles high.
  const rows = Math.max(8, Math.ceil(m / (4 * areas.length) / 4) * 4);
  job.set([0, Math.ceil(m / rows), rows, ...product]);
  const ctrls = workers(areas.length - 1, inst).slice(0, areas.length - 1);
  ctrls.forEach((ctrl, i) => {
    ctrl[1] = areas[i + 1];
    Atomics.store(ctrl, 0, POSTED);
    Atomics.notify(ctrl, 0);
  });
  let failed = false;
  try {
    if (selfWork) runChunks(inst, job, areas[0]);
  } finally {
    for (const ctrl of ctrls) {
      if (selfWork && Atomics.compareExchange(ctrl, 0, POSTED, IDLE) === POSTED) continue; // never started
      // Workers notify only when they finish, so a wait on "posted" also ends then.
      for (let st = Atomics.load(ctrl, 0); st === POSTED || st === RUNNING; st = Atomics.load(ctrl, 0)) Atomics.wait(ctrl, 0, st);
      failed ||= Atomics.load(ctrl, 0) === FAILED;
      Atomics.store(ctrl, 0, IDLE);
      Atomics.notify(ctrl, 0);
    }
  }
  if (failed) throw new Error("jacobi: a matmul worker thread failed");
}

/** The kept instance on shared memory, created on first use (tests reach it to exercise runRows). */
export function keptInstance(): Instance {
  shared ??= instantiate(true);
  return shared;
}

/** The kept instance for products on this thread alone: on unshared memory where the engine allows. */
export function keptLocalInstance(): Instance {
  local ??= instantiate(false);
  return local;
}

/**
 * [batch, m, k] @ [batch, k, n] -> [batch, m, n] row-major on the WebAssembly kernels, with m, k,
 * n >= 1 and operands whose buffers have the dtype's type. Returns null when the product is too
 * large for a wasm memory, or the memory cannot grow to hold it (the caller then runs the
 * JavaScript kernel).
 */
export function wasmBatchMatmul(a: Arr, b: Arr, dtype: "float64" | "float32"): Float64Array | Float32Array | null {
  const [nb, m, k] = a.shape;
  const n = b.shape[2];
  const size = dtype === "float64" ? 8 : 4;
  const nr = dtype === "float64" ? 4 : 8;
  const lim = wasmGemmLimits;
  const A = place(a, 0, size);
  const B = place(b, A.bytes, size);
  const cAt = A.bytes + B.bytes;
  const cBytes = align(nb * m * n * size);
  // B packed per batch, or once when every batch shares it (a broadcast operand).
  const pbAt = cAt + cBytes, spb = B.stride[0] === 0 ? 0 : align(k * Math.ceil(n / nr) * nr * size);
  const paAt = pbAt + (spb === 0 ? align(k * Math.ceil(n / nr) * nr * size) : nb * spb);
  const paBytes = align(SCRATCH + MC * KC * size);
  const threads = threadsFor(nb * m * n * k, m);
  let total = paAt + threads * paBytes;
  let inst: Instance, parts = threads;
  if (total <= lim.keepBytes) inst = threads > 1 ? keptInstance() : keptLocalInstance();
  else {
    // A product that runs on an instance of its own stays on this thread.
    parts = 1;
    total = paAt + paBytes;
    if (total > lim.maxBytes) return null;
    inst = instantiate(false);
  }
  const have = inst.memory.buffer.byteLength;
  try {
    if (total > have) inst.memory.grow(Math.ceil((total - have) / PAGE));
  } catch {
    return null; // the engine refused the memory: the JavaScript kernel allocates its own way
  }

  const buf = inst.memory.buffer;
  const heap = dtype === "float64" ? new Float64Array(buf) : new Float32Array(buf);
  A.copy(heap);
  B.copy(heap);
  heap.fill(0, cAt / size, (cAt + cBytes) / size);
  const [sab, sam, sak] = A.stride, [sbb, sbk, sbn] = B.stride;
  const packB = dtype === "float64" ? inst.pack_b_f64 : inst.pack_b_f32;
  const areas = Array.from({ length: parts }, (_, i) => paAt + i * paBytes);
  const f32 = size === 4 ? 1 : 0;
  if (nb === 1 && lowerTriangularB(heap, A, B, size, m, k, n)) {
    // Column panel j0 of C needs B's rows from j0 on; panels past k are zero.
    for (let j0 = 0; j0 < Math.min(n, k); j0 += TRI_PANEL) {
      const w = Math.min(TRI_PANEL, n - j0);
      packB(B.base + (j0 * sbk + j0 * sbn) * size, sbk, sbn, k - j0, w, pbAt);
      runRows(inst, [f32, 1, A.base + j0 * sak * size, sam, sak, 0, pbAt, 0, cAt + j0 * size, 0, m, k - j0, w, n, 0], areas);
    }
  } else {
    for (let t = 0; t < (spb === 0 ? 1 : nb); t++) packB(B.base + t * sbb * size, sbk, sbn, k, n, pbAt + t * spb);
    runRows(inst, [f32, nb, A.base, sam, sak, sab * size, pbAt, spb, cAt, m * n * size, m, k, n, n, 0], areas);
  }
  // A new array filled by set: slice on a shared buffer copies element by element.
  const out = dtype === "float64" ? new Float64Array(nb * m * n) : new Float32Array(nb * m * n);
  out.set(heap.subarray(cAt / size, cAt / size + nb * m * n));
  return out;
}
