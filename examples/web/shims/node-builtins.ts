// What the browser bundle gets for the `node:os` and `node:worker_threads` imports of jacobi's
// matrix-multiply threads (src/backend/wasm/gemm.ts): one thread, no workers. The build also sets
// JACOBI_WASM=0, so matmuls run the JavaScript kernel and these are never called.
export const availableParallelism = (): number => 1;
export const loadavg = (): number[] => [0, 0, 0];
export class Worker {
  constructor() {
    throw new Error("jacobi in the browser: no worker threads");
  }
}
