// Dense linear-algebra kernels on row-major typed arrays with a leading batch count (see
// common.ts for the conventions shared by all of them).
export type { FloatArray } from "./common.js";
export { cholesky, type CholeskyResult } from "./cholesky.js";
export { lu, pivotsToPermutation, type LuResult } from "./lu.js";
export { triangularSolve, type TriangularSolveOptions } from "./triangular-solve.js";
export { luSolve, solve, inverse } from "./lu-solve.js";
export { det, slogdet, type SlogdetResult } from "./determinant.js";
export { qr, type QrMode, type QrResult } from "./qr.js";
export { eigh, type EighResult } from "./eigh.js";
export { svd, type SvdOptions, type SvdResult } from "./svd.js";
