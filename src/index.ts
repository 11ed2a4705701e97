// The public surface of jacobi (../shared/API.md): nothing else is exported.
import { np } from "./numpy/index.js";
export { np };
export { nn } from "./nn.js";
export { Tensor } from "./core/tensor.js";
export type { TensorLike } from "./core/tensor.js";
export type { DType } from "./core/dtype.js";
export { tree } from "./core/tree.js";
export { JacobiError, ShapeError, DTypeError, ConcretizationError, EscapedTracerError, TreeError } from "./core/errors.js";
export { ClosedJaxpr, Jaxpr } from "./ir/jaxpr.js";
export { grad, valueAndGrad, jvp, vjp, linearize } from "./transforms/autodiff.js";
export { jacfwd, jacrev, jacobian, hessian } from "./transforms/jacobian.js";
export { vmap } from "./transforms/vmap-api.js";
export { makeJaxpr } from "./transforms/make-jaxpr.js";
export const stopGradient = np.stopGradient;
export { checkGrads } from "./transforms/check-grads.js";
export { traceTable, TraceTable, computationGraph, type TraceRow, type TraceTableOptions, type ComputationGraphOptions } from "./teaching/index.js";
export { lax } from "./lax.js";
