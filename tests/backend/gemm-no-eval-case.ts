// Run by gemm.test.ts as `node --disallow-code-generation-from-strings --import tsx <this file>`
// (what a Content-Security-Policy without 'unsafe-eval' does): the wasm matmul, its worker threads
// included, must work there and give the JavaScript kernel's bits. Prints one JSON line.
import { view } from "../../src/backend/ndarray-view.js";
import { batchMatmul } from "../../src/backend/structural.js";
import { setWasmGemm, wasmGemmEnabled, wasmGemmLimits } from "../../src/backend/wasm/gemm.js";

Object.assign(wasmGemmLimits, { threads: 2, threadMinWork: 1, load: () => 0 });
const a = view(Float64Array.from({ length: 64 * 300 }, (_, i) => Math.sin(i)), [1, 64, 300]);
const b = view(Float64Array.from({ length: 300 * 40 }, (_, i) => Math.cos(i)), [1, 300, 40]);
const wasm = Array.from(batchMatmul(a, b, "float64").data);
const enabled = wasmGemmEnabled();
setWasmGemm(false);
const js = Array.from(batchMatmul(a, b, "float64").data);
console.log(JSON.stringify({ enabled, same: wasm.every((x, i) => x === js[i]), n: wasm.length }));
