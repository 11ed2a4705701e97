// The matmul kernels: the WebAssembly SIMD kernel against the JavaScript kernel and a naive triple
// loop, over shapes with edge tiles, strided/transposed/broadcast/reversed views, batches, NaN
// and infinities, in float64 (same bits as the JavaScript kernel where the order of operations is
// the same, else within 1e-13 of the absolute-value product) and float32 (within float32 rounding
// of the float64 product).
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { GENERATED_PATH, WAT_PATH, compileWat, generatedModule } from "../../scripts/build-wasm.mjs";
import { type Arr, view } from "../../src/backend/ndarray-view.js";
import { batchMatmul } from "../../src/backend/structural.js";
import { type Job, defaultThreads, keptInstance, keptLocalInstance, threadsFor, loadKernels, runRows, setWasmGemm, unsharedMemory, wasmBatchMatmul, wasmGemmEnabled, wasmGemmLimits } from "../../src/backend/wasm/gemm.js";
import { GEMM_WASM_BASE64 } from "../../src/backend/wasm/gemm-wasm.generated.js";
import { throwsWith } from "../helpers.js";
import type { DType } from "../../src/core/dtype.js";
import { np } from "../../src/index.js";

const defaults = { ...wasmGemmLimits };

/** Runs `fn` with the WebAssembly kernel on (for every size) or off, restoring the settings. */
function withKernel<T>(wasm: boolean, fn: () => T, limits: Partial<typeof defaults> = {}): T {
  const was = setWasmGemm(wasm);
  Object.assign(wasmGemmLimits, defaults, { minWork: 1, load: () => 0 }, limits);
  try {
    return fn();
  } finally {
    setWasmGemm(was);
    Object.assign(wasmGemmLimits, defaults);
  }
}

type Float = "float64" | "float32";
const ctor = (d: Float) => (d === "float64" ? Float64Array : Float32Array);

// Deterministic values in [-1, 1) from a 32-bit LCG.
function values(n: number, seed: number, d: Float): Float64Array | Float32Array {
  const out = new (ctor(d))(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

type Layout = "row-major" | "transposed" | "stepped" | "reversed" | "broadcast batch";
const LAYOUTS: Layout[] = ["row-major", "transposed", "stepped", "reversed", "broadcast batch"];

/** A [nb, r, c] view with the given layout over a fresh buffer (at an offset). */
function operand(nb: number, r: number, c: number, layout: Layout, d: Float, seed: number): Arr {
  const off = 3;
  switch (layout) {
    case "row-major":
      return view(values(off + nb * r * c, seed, d), [nb, r, c], [r * c, c, 1], off);
    case "transposed":
      return view(values(off + nb * r * c, seed, d), [nb, r, c], [r * c, 1, r], off);
    case "stepped": // every other row and every third column of a larger buffer
      return view(values(off + nb * 2 * r * 3 * c, seed, d), [nb, r, c], [2 * r * 3 * c, 2 * 3 * c, 3], off);
    case "reversed":
      return view(values(nb * r * c, seed, d), [nb, r, c], [-r * c, -c, -1], nb * r * c - 1);
    case "broadcast batch":
      return view(values(off + r * c, seed, d), [nb, r, c], [0, c, 1], off);
  }
}

const at = (x: Arr, t: number, i: number, j: number): number => x.data[x.offset + t * x.stride[0] + i * x.stride[1] + j * x.stride[2]];

/** The naive product in float64 and, per element, the sum of |a||b| that bounds its rounding. */
function naive(a: Arr, b: Arr): { c: number[]; mag: number[] } {
  const [nb, m, k] = a.shape, n = b.shape[2];
  const c: number[] = [], mag: number[] = [];
  for (let t = 0; t < nb; t++) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0, g = 0;
    for (let p = 0; p < k; p++) {
      s += at(a, t, i, p) * at(b, t, p, j);
      g += Math.abs(at(a, t, i, p) * at(b, t, p, j));
    }
    c.push(s);
    mag.push(g);
  }
  return { c, mag };
}

const run = (wasm: boolean, a: Arr, b: Arr, d: DType) => withKernel(wasm, () => batchMatmul(a, b, d));

function checkClose(got: ArrayLike<number>, want: { c: number[]; mag: number[] }, tol: number, what: string): void {
  assert.is(got.length, want.c.length, `${what}: size`);
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i] - want.c[i]);
    if (!(err <= tol * want.mag[i])) assert.unreachable(`${what}: element ${i} is ${got[i]}, want ${want.c[i]} (error ${err}, bound ${tol * want.mag[i]})`);
  }
}

const EPS32 = 2 ** -23;
const SHAPES: [number, number, number, number][] = [
  // [batch, m, k, n]
  [1, 1, 1, 1], [1, 2, 1, 2], [1, 3, 5, 7], [1, 4, 4, 4], [1, 5, 3, 9], [1, 8, 8, 8], [1, 9, 17, 13],
  [1, 1, 300, 1], [1, 1, 30, 40], [1, 40, 30, 1], [1, 300, 2, 3], [1, 2, 3, 300], [1, 2, 600, 3],
  [1, 37, 261, 29], [1, 130, 20, 1030], [3, 6, 7, 5], [2, 33, 9, 17],
];

test("the generated module embeds the current compilation of gemm.wat", async () => {
  const bytes = await compileWat(await readFile(WAT_PATH, "utf8"));
  assert.is(await readFile(GENERATED_PATH, "utf8"), generatedModule(bytes), "run `node scripts/build-wasm.mjs` after editing gemm.wat");
});

test("WebAssembly SIMD is found here, and an engine without it gets no kernels", () => {
  assert.ok(loadKernels() instanceof WebAssembly.Module);
  assert.is(loadKernels(() => false), null);
  assert.ok(withKernel(true, wasmGemmEnabled));
  assert.not.ok(withKernel(false, wasmGemmEnabled));
});

test("products on this thread alone run on an unshared memory: the module with its memory import unshared", () => {
  const bytes = new Uint8Array(Buffer.from(GEMM_WASM_BASE64, "base64"));
  const local = unsharedMemory(bytes);
  assert.ok(local !== null && WebAssembly.validate(local));
  assert.equal(Array.from(local ?? []).filter((x, i) => x !== bytes[i]).length, 1, "one byte differs: the limits' flags");
  assert.ok(loadKernels(undefined, false) instanceof WebAssembly.Module);
  const inst = keptLocalInstance();
  assert.not.ok(inst.memory.buffer instanceof SharedArrayBuffer);
  assert.ok(keptInstance().memory.buffer instanceof SharedArrayBuffer);
  // Bytes without the expected import section are refused rather than patched blindly.
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const mod = (...sections: number[]) => new Uint8Array([...header, ...sections]);
  assert.is(unsharedMemory(mod(0x01, 0x01, 0x00)), null, "no import section");
  assert.is(unsharedMemory(mod(0x01, 0x01, 0x00, 0x02, 0x01, 0x02)), null, "two imports");
  assert.is(unsharedMemory(mod(0x02, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00)), null, "a function import");
  assert.is(unsharedMemory(mod(0x02, 0x07, 0x01, 0x01, 0x65, 0x01, 0x6d, 0x02, 0x01, 0x01, 0x01)), null, "an unshared memory already");
  // A product on this thread (below the threads' size) gives the product on the local instance.
  const x = operand(1, 20, 30, "row-major", "float64", 5), y = operand(1, 30, 10, "transposed", "float64", 6);
  checkClose(withKernel(true, () => batchMatmul(x, y, "float64")).data, naive(x, y), 1e-14, "local");
});

/** A k x n B with zeros above the diagonal (B[p, j] = 0 for p < j), row-major or read through transposed strides. */
function lowerB(k: number, n: number, d: Float, seed: number, transposed = false): Arr {
  const data = values(k * n, seed, d);
  for (let p = 0; p < k; p++) for (let j = p + 1; j < n; j++) data[transposed ? j * k + p : p * n + j] = 0;
  return transposed ? view(data, [1, k, n], [k * n, 1, k], 0) : view(data, [1, k, n]);
}

const same = (got: ArrayLike<number>, want: ArrayLike<number>, what: string) =>
  assert.equal(Array.from(got, (x) => Object.is(x, -0) ? "-0" : x), Array.from(want, (x) => Object.is(x, -0) ? "-0" : x), what);

test("a lower-triangular B skips its zero blocks: the JavaScript kernel's bits in float64, NaN from a non-finite A kept", () => {
  for (const [m, k, n, bt] of [[200, 200, 200, false], [150, 120, 100, true], [70, 90, 64, false], [64, 64, 90, true]] as const) {
    const a = operand(1, m, k, "transposed", "float64", m + k), b = lowerB(k, n, "float64", n, bt);
    same(run(true, a, b, "float64").data, run(false, a, b, "float64").data, `${m}x${k}x${n}`);
  }
  const b = lowerB(100, 100, "float64", 3);
  const a = operand(1, 80, 100, "row-major", "float64", 4);
  (a.data as Float64Array)[a.offset + 5 * 100 + 2] = Infinity;
  const withInf = run(true, a, b, "float64").data;
  assert.ok(Number.isNaN(withInf[5 * 100 + 50]), "Inf times the zeros of B is NaN");
  same(withInf, run(false, a, b, "float64").data, "non-finite A");
  // One value above the diagonal, or more terms than one KC block: the full product.
  (b.data as Float64Array)[3 * 100 + 90] = 0.5;
  same(run(true, operand(1, 80, 100, "row-major", "float64", 5), b, "float64").data, run(false, operand(1, 80, 100, "row-major", "float64", 5), b, "float64").data, "not triangular");
  // A wide B (k < n) whose last row has a value right of the diagonal is not triangular either
  // (the row walk once stopped a row short: a 1 x n B, as conv's im2col gives, passed as triangular).
  const wideB = lowerB(40, 100, "float64", 10);
  (wideB.data as Float64Array)[wideB.offset + 39 * 100 + 90] = 0.25;
  const a40 = operand(1, 120, 40, "row-major", "float64", 11);
  same(run(true, a40, wideB, "float64").data, run(false, a40, wideB, "float64").data, "wide, last row right of the diagonal");
  const tall = lowerB(300, 100, "float64", 6), wide = operand(1, 60, 300, "row-major", "float64", 7);
  checkClose(run(true, wide, tall, "float64").data, naive(wide, tall), 1e-14, "k > KC");
  // float32 sums in float32 lanes: against the naive product's rounding bound.
  const a32 = operand(1, 100, 120, "row-major", "float32", 8), b32 = lowerB(120, 96, "float32", 9);
  checkClose(run(true, a32, b32, "float32").data, naive(a32, b32), 8 * EPS32, "float32");
});

for (const d of ["float64", "float32"] as Float[]) {
  test(`${d}: WebAssembly and JavaScript kernels match the naive product on every shape and layout`, () => {
    let cases = 0;
    for (const [nb, m, k, n] of SHAPES) {
      for (const la of LAYOUTS) for (const lb of LAYOUTS) {
        if ((la === "broadcast batch" || lb === "broadcast batch") && nb === 1) continue;
        const a = operand(nb, m, k, la, d, 7 + cases), b = operand(nb, k, n, lb, d, 1009 + cases);
        const want = naive(a, b);
        const what = `${d} [${nb}] ${m}x${k} (${la}) @ ${k}x${n} (${lb})`;
        const w = run(true, a, b, d), j = run(false, a, b, d);
        assert.ok(w.data instanceof ctor(d) && j.data instanceof ctor(d), `${what}: output dtype`);
        assert.equal(w.shape, [nb, m, n], `${what}: shape`);
        if (d === "float64") {
          checkClose(w.data, want, 1e-15 * k, `${what}, wasm`);
          checkClose(j.data, want, 1e-15 * k, `${what}, js`);
        } else {
          // float32 sums rounded at each of k steps, then the float64 reference rounded once.
          checkClose(w.data, want, EPS32 * (k + 1), `${what}, wasm`);
          checkClose(j.data, want, EPS32, `${what}, js`);
        }
        cases++;
      }
    }
    assert.is(cases, 15 * 16 + 2 * 25);
  });
}

test("float64: the WebAssembly kernel gives the JavaScript kernel's bits when both sum in blocks of 256", () => {
  // Large products (packed JavaScript kernel) with k across several blocks, and small ones with
  // k <= 256 (row-update kernel, one block): the same sums in the same order.
  for (const [m, k, n] of [[40, 600, 50], [37, 513, 29], [5, 200, 6], [3, 256, 3]]) {
    const a = operand(1, m, k, "row-major", "float64", m), b = operand(1, k, n, "transposed", "float64", n);
    assert.equal(Array.from(run(true, a, b, "float64").data), Array.from(run(false, a, b, "float64").data), `${m}x${k}x${n}`);
  }
});

test("float32: the WebAssembly kernel computes in float32 (matrix-vector too), the JavaScript fallback rounds a float64 sum", () => {
  for (const [m, k, n] of [[16, 300, 16], [1, 300, 64], [64, 300, 1]]) {
    const a = operand(1, m, k, "row-major", "float32", m), b = operand(1, k, n, "row-major", "float32", n);
    const want = naive(a, b).c.map(Math.fround);
    // The fallback's float64 sum in another order may differ from the naive one by a last float32 bit.
    const js = Array.from(run(false, a, b, "float32").data), wasm = Array.from(run(true, a, b, "float32").data);
    const agree = (xs: number[]) => xs.filter((x, i) => x === want[i]).length / want.length;
    assert.ok(agree(js) >= 0.95, `${m}x${k}x${n}: fallback agrees with the rounded float64 sum on ${agree(js)}`);
    assert.ok(agree(wasm) < 0.8, `${m}x${k}x${n}: float32 accumulation agrees with the rounded float64 sum on ${agree(wasm)}`);
  }
});

test("k = 0 gives zeros on both paths", () => {
  for (const wasm of [true, false]) for (const d of ["float64", "float32"] as Float[]) {
    const a = view(new (ctor(d))(0), [2, 3, 0]), b = view(new (ctor(d))(0), [2, 0, 4]);
    const c = run(wasm, a, b, d);
    assert.equal(c.shape, [2, 3, 4]);
    assert.equal(Array.from(c.data), new Array(24).fill(0));
  }
});

test("NaN and infinities propagate to exactly the elements they reach", () => {
  for (const d of ["float64", "float32"] as Float[]) {
    const a = operand(1, 9, 7, "row-major", d, 3), b = operand(1, 7, 10, "row-major", d, 4);
    a.data[a.offset + 2 * 7 + 3] = NaN; // row 2 of C is NaN
    a.data[a.offset + 5 * 7 + 1] = Infinity; // row 5 is infinite (signed by B's row 1)...
    b.data[b.offset + 1 * 10 + 6] = 0; // ...except column 6, where inf * 0 = NaN
    b.data[b.offset + 4 * 10 + 8] = -Infinity; // column 8 is infinite, NaN where inf - inf meet
    const want = naive(a, b).c;
    for (const wasm of [true, false]) {
      const got = Array.from(run(wasm, a, b, d).data);
      got.forEach((g, i) => {
        const w = want[i];
        if (!Number.isFinite(w)) assert.ok(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)), `${d} wasm=${wasm} element ${i}: ${g}, want ${w}`);
        else assert.ok(Number.isFinite(g), `${d} wasm=${wasm} element ${i}: ${g} should be finite`);
      });
      assert.ok(Number.isNaN(got[2 * 10]) && got[5 * 10] === (b.data[b.offset + 10] > 0 ? Infinity : -Infinity), `${d} wasm=${wasm}`);
    }
  }
});

test("memory: a product above the kept size runs on an instance of its own; above the limit it stays on JavaScript", () => {
  const a = operand(2, 30, 40, "row-major", "float64", 5), b = operand(2, 40, 20, "transposed", "float64", 6);
  const want = naive(a, b);
  checkClose(run(false, a, b, "float64").data, want, 1e-14, "js");
  checkClose(withKernel(true, () => batchMatmul(a, b, "float64"), { keepBytes: 0 }).data, want, 1e-14, "own instance");
  assert.is(withKernel(true, () => wasmBatchMatmul(a, b, "float64"), { keepBytes: 0, maxBytes: 1000 }), null);
  checkClose(withKernel(true, () => batchMatmul(a, b, "float64"), { keepBytes: 0, maxBytes: 1000 }).data, want, 1e-14, "over the limit");
  // A memory the engine cannot grow to (past wasm32's 4 GiB): 70000 x 70000 float64 from two broadcast vectors.
  const wide = view(new Float64Array(1), [1, 70000, 1], [0, 0, 0]), tall = view(new Float64Array(1), [1, 1, 70000], [0, 0, 0]);
  assert.is(withKernel(true, () => wasmBatchMatmul(wide, tall, "float64"), { maxBytes: 2 ** 40 }), null);
  assert.is(withKernel(true, () => wasmBatchMatmul(wide, tall, "float64")), null, "39 GB is over the default limit");
  // Growing the kept memory between calls keeps earlier results intact.
  const big = operand(1, 300, 300, "row-major", "float32", 8);
  const c1 = run(true, a, b, "float64"), c2 = run(true, big, big, "float32");
  checkClose(c1.data, want, 1e-14, "before growing");
  checkClose(c2.data, naive(big, big), EPS32 * 301, "grown");
});

test("worker threads split products by rows of C and change no bits", () => {
  for (const d of ["float64", "float32"] as Float[]) {
    for (const [nb, m, k, n] of [[1, 64, 300, 50], [3, 37, 20, 9], [1, 9, 5, 130], [2, 8, 3, 3]] as const) {
      const a = operand(nb, m, k, "transposed", d, m), b = operand(nb, k, n, "row-major", d, n);
      const one = Array.from(withKernel(true, () => batchMatmul(a, b, d), { threads: 1 }).data);
      for (const threads of [2, 4]) {
        const many = Array.from(withKernel(true, () => batchMatmul(a, b, d), { threads, threadMinWork: 1 }).data);
        assert.equal(many, one, `${d} [${nb}] ${m}x${k}x${n} on up to ${threads} threads`);
        // The workers' copy of the chunk loop alone.
        const workersOnly = Array.from(withKernel(true, () => batchMatmul(a, b, d), { threads, threadMinWork: 1, selfWork: false }).data);
        assert.equal(workersOnly, one, `${d} [${nb}] ${m}x${k}x${n} on workers only`);
      }
    }
  }
  // A product that needs an instance of its own stays on one thread.
  const a = operand(1, 64, 70, "row-major", "float64", 1), b = operand(1, 70, 40, "row-major", "float64", 2);
  checkClose(withKernel(true, () => batchMatmul(a, b, "float64"), { keepBytes: 0, threads: 2, threadMinWork: 1 }).data, naive(a, b), 1e-14, "own instance");
});

test("threads: only for large products with rows to share, and no more than the idle cores", () => {
  const cores = availableParallelism();
  const at = (load: number, work: number, m: number, threads = 4) => withKernel(true, () => threadsFor(work, m), { load: () => load, threads, threadMinWork: 1000 });
  assert.is(at(0, 999, 64), 1, "small product");
  assert.is(at(0, 1e6, 7), 1, "too few rows");
  assert.is(at(0, 1e6, 64, 1), 1, "one thread configured");
  assert.is(at(0, 1e6, 64), Math.min(4, cores), "no more threads than cores");
  assert.is(at(0, 1e6, 8), Math.min(2, cores), "two tiles of rows");
  assert.is(at(cores - 1, 1e6, 64), Math.min(2, cores), "one idle core besides ours");
  assert.is(at(cores + 3, 1e6, 64), 1, "busy machine");
});

test("JACOBI_GEMM_THREADS sets the thread count; anything but a positive integer means the machine's", () => {
  const machine = Math.min(4, availableParallelism());
  assert.is(defaultThreads("1"), 1);
  assert.is(defaultThreads("3"), 3);
  for (const bad of [undefined, "", "0", "-2", "1.5", "many"]) assert.is(defaultThreads(bad), machine, String(bad));
});

test("a worker whose kernel traps is reported, and the pool keeps working", () => {
  const inst = keptInstance();
  const past = inst.memory.buffer.byteLength + 4096;
  // Every chunk reads A past the end of the memory; the workers alone run them.
  const job: Job = [0, 1, past, 10, 1, 0, 0, 0, 0, 0, 64, 10, 1, 1, 0];
  throwsWith(() => withKernel(true, () => runRows(inst, job, [4096, 65536, 131072]), { selfWork: false }), Error, ["matmul worker thread failed"]);
  // On this thread the trap itself is thrown, after the workers have stopped.
  throwsWith(() => runRows(inst, job, [65536, 131072]), WebAssembly.RuntimeError, ["out of bounds"]);
  const x = operand(1, 16, 50, "row-major", "float64", 3), y = operand(1, 50, 12, "row-major", "float64", 4);
  checkClose(withKernel(true, () => batchMatmul(x, y, "float64"), { threads: 2, threadMinWork: 1 }).data, naive(x, y), 1e-14, "after a failure");
});

test("where code generation from strings is forbidden, the wasm kernels and their workers still run", () => {
  const out = execFileSync(process.execPath, ["--disallow-code-generation-from-strings", "--import", "tsx", "tests/backend/gemm-no-eval-case.ts"], { encoding: "utf8" });
  assert.equal(JSON.parse(out), { enabled: true, same: true, n: 64 * 40 });
});

test("int32 and mixed buffers stay on the JavaScript kernel", () => {
  const a = view(Int32Array.from({ length: 12 }, (_, i) => i - 5), [1, 3, 4]);
  const b = view(Int32Array.from({ length: 8 }, (_, i) => 2 * i - 7), [1, 4, 2]);
  const c = run(true, a, b, "int32");
  assert.ok(c.data instanceof Int32Array);
  assert.equal(Array.from(c.data), naive(a, b).c);
  // float64 buffers read into a float32 product (the primitives never mix; the kernel still must not misread).
  const x = operand(1, 5, 6, "row-major", "float64", 9), y = operand(1, 6, 7, "row-major", "float64", 10);
  checkClose(run(true, x, y, "float32").data, naive(x, y), EPS32, "float64 buffers, float32 result");
});

test("np.matmul in float32 returns float32 computed by the WebAssembly kernel", () => {
  const av = values(64 * 80, 11, "float32"), bv = values(80 * 48, 12, "float32");
  const A = np.array(av, "float32").reshape([64, 80]), B = np.array(bv, "float32").reshape([80, 48]);
  const got = withKernel(true, () => np.matmul(A, B));
  assert.is(got.dtype, "float32");
  assert.equal(got.shape, [64, 48]);
  const want = naive(view(av, [1, 64, 80]), view(bv, [1, 80, 48]));
  checkClose(got.toTypedArray() as Float32Array, want, EPS32 * 81, "np.matmul");
});

test.run();
