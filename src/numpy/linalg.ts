import { ShapeError, fmtShape } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { dotGeneral } from "../primitives/dot.js";
import { convertElementType, mul } from "../primitives/elementwise.js";
import { reshape } from "../primitives/shape.js";
import { reduceSum } from "../primitives/reduce.js";
import { toTensor, broadcastShapes, broadcastTo, checkResultSize, resultType, promoteArgs } from "./promote.js";

function unify(name: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  const x = toTensor(a, `${name}: argument 0`), y = toTensor(b, `${name}: argument 1`);
  const [d] = resultType([x, y], [a, b]);
  return [x.dtype === d ? x : convertElementType(x, d), y.dtype === d ? y : convertElementType(y, d)];
}

/** NumPy matmul: 1-D operands are promoted and their axis removed; leading axes broadcast. */
export function matmul(a: TensorLike, b: TensorLike): Tensor {
  const [x0, y0] = unify("matmul", a, b);
  if (x0.dtype === "bool") return boolProduct(matmul, x0, y0);
  if (x0.ndim === 0 || y0.ndim === 0) throw new ShapeError(`matmul: operands must not be scalars, got shapes ${fmtShape(x0.shape)} and ${fmtShape(y0.shape)}`);
  const x = x0.ndim === 1 ? reshape(x0, [1, x0.shape[0]]) : x0;
  const y = y0.ndim === 1 ? reshape(y0, [y0.shape[0], 1]) : y0;
  const k = x.shape[x.ndim - 1];
  if (k !== y.shape[y.ndim - 2]) {
    throw new ShapeError(`matmul: shapes ${fmtShape(x0.shape)} and ${fmtShape(y0.shape)} are not aligned: ${k} (last axis of the first) != ${y.shape[y.ndim - 2]} (${y0.ndim === 1 ? "the only" : "second-to-last"} axis of the second)`);
  }
  let batch: number[];
  try {
    batch = broadcastShapes("matmul", [x.shape.slice(0, -2), y.shape.slice(0, -2)]);
  } catch {
    throw new ShapeError(`matmul: the batch (leading) axes of shapes ${fmtShape(x0.shape)} and ${fmtShape(y0.shape)} do not broadcast`);
  }
  const nb = batch.length;
  const xb = broadcastTo(x, [...batch, ...x.shape.slice(-2)], "matmul");
  const yb = broadcastTo(y, [...batch, ...y.shape.slice(-2)], "matmul");
  const bd = Array.from({ length: nb }, (_, i) => i);
  checkResultSize("matmul", [x0, y0], [...batch, x.shape[nb], y.shape[nb + 1]], x.dtype);
  let out = x.dtype === "int32" || x.dtype === "uint32" ? wrappingMatmul(xb, yb) : dotGeneral(xb, yb, { contract: [[nb + 1], [nb]], batch: [bd, bd] });
  const shape = [...batch, ...(x0.ndim === 1 ? [] : [x.shape[x.ndim - 2]]), ...(y0.ndim === 1 ? [] : [y.shape[y.ndim - 1]])];
  out = reshape(out, shape);
  return out;
}

/** NumPy dot: products for scalars, inner product for vectors, else contracts a's last axis with b's second-to-last. */
/**
 * Integer matrix products wrap modulo 2^32 (NumPy): products by wrapping multiplication, then a
 * sum, which stays exact in double for up to 2^21 terms and wraps when converted back. The GEMM
 * kernels multiply in double and would lose the low bits of products past 2^53.
 */
function wrappingMatmul(x: Tensor, y: Tensor): Tensor {
  const nd = x.ndim;
  const [m, k, n] = [x.shape[nd - 2], x.shape[nd - 1], y.shape[nd - 1]];
  const lead = x.shape.slice(0, -2);
  const shape = [...lead, m, k, n];
  const xs = broadcastTo(reshape(x, [...lead, m, k, 1]), shape, "matmul");
  const ys = broadcastTo(reshape(y, [...lead, 1, k, n]), shape, "matmul");
  return convertElementType(reduceSum(mul(xs, ys), [nd - 1]), x.dtype);
}

/**
 * NumPy and JAX: a product of booleans is the OR of ANDs. Counting in int32 and testing != 0 gives
 * it (the bool kernels would store the counts in a bool buffer).
 */
function boolProduct(f: (a: Tensor, b: Tensor) => Tensor, x: Tensor, y: Tensor): Tensor {
  return convertElementType(f(convertElementType(x, "int32"), convertElementType(y, "int32")), "bool");
}

export function dot(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = unify("dot", a, b);
  if (x.dtype === "bool" && x.ndim > 0 && y.ndim > 0) return boolProduct(dot, x, y);
  // For matrices and vectors dot is matmul, whose integer products wrap exactly.
  if ((x.dtype === "int32" || x.dtype === "uint32") && x.ndim > 0 && y.ndim > 0 && x.ndim <= 2 && y.ndim <= 2) return matmul(x, y);
  if (x.ndim === 0 || y.ndim === 0) {
    const [p, q] = promoteArgs("dot", [x, y]);
    return mul(p, q);
  }
  const ya = y.ndim === 1 ? 0 : y.ndim - 2;
  if (x.shape[x.ndim - 1] !== y.shape[ya]) {
    throw new ShapeError(`dot: shapes ${fmtShape(x.shape)} and ${fmtShape(y.shape)} are not aligned: ${x.shape[x.ndim - 1]} (last axis of the first) != ${y.shape[ya]} (axis ${ya} of the second)`);
  }
  const out = dotGeneral(x, y, { contract: [[x.ndim - 1], [ya]], batch: [[], []] });
  return out;
}

export function outer(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = unify("outer", a, b);
  const xf = reshape(x, [x.size, 1]), yf = reshape(y, [1, y.size]);
  return dotGeneral(xf, yf, { contract: [[1], [0]], batch: [[], []] });
}
