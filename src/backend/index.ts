// The one door into the backend layer: everything above it imports from here, never from a
// kernel file (tests/architecture/layers.test.ts checks it). Today's backend is the CPU one:
// typed-array buffers behind ndarray views, generated loops (with a no-eval fallback), the
// WebAssembly SIMD GEMM and the linear-algebra kernels. `Arr` is its buffer type: an ndarray
// view over a typed array, which only code in this folder reads element by element. A second way
// to run programs (ONNX Runtime) plugs in at jit, not here: eager operations always run on these
// kernels.

export { convGeneralDilated } from "./conv.js";
export { eyeArr, isAllZero, packValues, progressionArr } from "./creation.js";
export { cumulative } from "./cumulative.js";
export type { CumulativeKind } from "./cumulative.js";
export { mapN } from "./elementwise.js";
export { FusedKernel } from "./fusion.js";
export type { FusedChain, FusedOp, FusedReduction } from "./fusion.js";
export { gather, scatter } from "./gather.js";
export type { GatherDims, IndexMode, ScatterDims, ScatterKind } from "./gather.js";
export { triangularSolve } from "./linalg/index.js";
export type { FloatArray } from "./linalg/index.js";
export { assignInto, broadcastInDimView, contiguous, empty, filled, groupedView, readFlat, reshapeView, sizeOf, sliceView, toFlatCopy, transposeView, view } from "./ndarray-view.js";
export type { Arr } from "./ndarray-view.js";
export { maxIdentity, reduceWindow, selectAndGatherAdd, selectAndScatterAdd } from "./reduce-window.js";
export { reduce } from "./reduce.js";
export type { FoldKind } from "./reduce.js";
export { sortAlong } from "./sort.js";
export { batchMatmul, concatenate, convert, convertExpr, pad } from "./structural.js";
export { threefry2x32 } from "./threefry.js";
export * as linalg from "./linalg/index.js";
export * as special from "./special.js";
export { eagerFusion, isDeferred, settleArr, withEagerFusion } from "./lazy-elementwise.js";
