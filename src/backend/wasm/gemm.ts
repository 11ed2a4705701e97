// Runs batched matmuls on the WebAssembly SIMD kernels of gemm.wat: copies the operands into the
// module's memory, runs the kernel per batch and copies C out. float64 computes in f64x2 lanes
// (same order of operations as the JavaScript kernel, so the same bits), float32 in f32x4 lanes.
import type { TypedArray } from "../../core/dtype.js";
import type { Arr } from "../ndarray-view.js";
import { GEMM_WASM_BASE64 } from "./gemm-wasm.generated.js";

type Kernel = (
  a: number, sam: number, sak: number, b: number, sbk: number, sbn: number,
  c: number, m: number, k: number, n: number, pa: number, pb: number,
) => void;
interface Exports {
  memory: WebAssembly.Memory;
  gemm_f64: Kernel;
  gemm_f32: Kernel;
}

// The blocking compiled into gemm.wat (MC rows of A, KC terms, NC columns of B; NR = 8 covers
// both tile widths).
const MC = 128, KC = 256, NC = 1024, NR = 8;
const SCRATCH = 128;
const PAGE = 65536;

/** Internal tuning, mutable so that tests can reach every path. */
export const wasmGemmLimits = {
  /** Products of fewer multiply-adds (m n k per batch) stay on the JavaScript kernel, where the copies in and out cost more than the kernel saves. */
  minWork: 4096,
  /** The module keeps its memory between calls up to this size; a product needing more runs on an instance of its own that is dropped afterwards, so one large product does not pin its memory. */
  keepBytes: 64 << 20,
  /** Beyond this a product stays on the JavaScript kernel (wasm32 memories end at 4 GiB). */
  maxBytes: 2 ** 31,
};

let module: WebAssembly.Module | null | undefined;
let shared: Exports | null = null;
let enabled = process.env.JACOBI_WASM !== "0";

/**
 * The compiled kernels, or null where this engine cannot run them: validating the module checks
 * for WebAssembly and its SIMD proposal without running anything. `validate` is a parameter so
 * that tests can play an engine without SIMD.
 */
export function loadKernels(validate: (bytes: Uint8Array<ArrayBuffer>) => boolean = (b) => typeof WebAssembly === "object" && WebAssembly.validate(b)): WebAssembly.Module | null {
  const bytes = new Uint8Array(Buffer.from(GEMM_WASM_BASE64, "base64"));
  return validate(bytes) ? new WebAssembly.Module(bytes) : null;
}

function compiled(): WebAssembly.Module | null {
  if (module === undefined) module = loadKernels();
  return module;
}

/** Whether matmuls may use the WebAssembly kernels: supported here and not switched off. */
export function wasmGemmEnabled(): boolean {
  return enabled && compiled() !== null;
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

const align = (x: number): number => (x + 15) & ~15;

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

function instantiate(): Exports {
  return new WebAssembly.Instance(compiled() as WebAssembly.Module).exports as unknown as Exports;
}

/**
 * [batch, m, k] @ [batch, k, n] -> [batch, m, n] row-major on the WebAssembly kernels, with m, k,
 * n >= 1 and operands whose buffers have the dtype's type. Returns null when the product is too
 * large for a wasm memory (the caller then runs the JavaScript kernel).
 */
export function wasmBatchMatmul(a: Arr, b: Arr, dtype: "float64" | "float32"): Float64Array | Float32Array | null {
  const [nb, m, k] = a.shape;
  const n = b.shape[2];
  const size = dtype === "float64" ? 8 : 4;
  const A = place(a, SCRATCH, size);
  const B = place(b, SCRATCH + A.bytes, size);
  const cAt = SCRATCH + A.bytes + B.bytes;
  const cBytes = align(nb * m * n * size);
  const paAt = cAt + cBytes;
  const pbAt = paAt + align(MC * KC * size);
  const total = pbAt + KC * (Math.min(n, NC) + NR) * size;
  if (total > wasmGemmLimits.maxBytes) return null;

  let inst: Exports;
  if (total <= wasmGemmLimits.keepBytes) {
    shared ??= instantiate();
    inst = shared;
  } else inst = instantiate();
  const have = inst.memory.buffer.byteLength;
  if (total > have) inst.memory.grow(Math.ceil((total - have) / PAGE));

  const buf = inst.memory.buffer;
  const heap = dtype === "float64" ? new Float64Array(buf) : new Float32Array(buf);
  A.copy(heap);
  B.copy(heap);
  heap.fill(0, cAt / size, (cAt + cBytes) / size);
  const kernel = dtype === "float64" ? inst.gemm_f64 : inst.gemm_f32;
  const [sab, sam, sak] = A.stride, [sbb, sbk, sbn] = B.stride;
  for (let t = 0; t < nb; t++) {
    kernel(A.base + t * sab * size, sam, sak, B.base + t * sbb * size, sbk, sbn, cAt + t * m * n * size, m, k, n, paAt, pbAt);
  }
  return heap.slice(cAt / size, cAt / size + nb * m * n);
}
