// Pages that are not cross-origin isolated have no SharedArrayBuffer; jacobi allocates its matmul
// threads' job words in one when it loads. A plain ArrayBuffer serves there (no threads run).
const SAB: typeof SharedArrayBuffer = (globalThis as { SharedArrayBuffer?: typeof SharedArrayBuffer }).SharedArrayBuffer ?? (ArrayBuffer as unknown as typeof SharedArrayBuffer);
export { SAB as SharedArrayBuffer };
