// np.convolve as a composite of conv_general_dilated: NumPy's convolution flips v and slides it
// over a (the lax primitive is a cross-correlation), padding for "full", "same" and "valid".
import { describe } from "../core/convert.js";
import { JacobiError, ShapeError, fmtShape } from "../core/errors.js";
import type { Tensor, TensorLike } from "../core/tensor.js";
import { convGeneralDilatedPrim, rev } from "../primitives/conv.js";
import { reshape } from "../primitives/shape.js";
import { resultType, toTensor } from "./promote.js";
import { convertElementType } from "../primitives/elementwise.js";

export type ConvolveMode = "full" | "same" | "valid";

/** The discrete linear convolution of two 1-d arrays, as numpy.convolve. */
export function convolve(a: TensorLike, v: TensorLike, mode: ConvolveMode = "full"): Tensor {
  const where = "np.convolve";
  if (mode !== "full" && mode !== "same" && mode !== "valid") throw new JacobiError(`${where}: mode must be "full", "same" or "valid", got ${describe(mode)}`);
  let x = toTensor(a, `${where}: a`), k = toTensor(v, `${where}: v`);
  if (x.ndim !== 1 || k.ndim !== 1) throw new ShapeError(`${where}: a and v must be 1-d, got shapes ${fmtShape(x.shape)} and ${fmtShape(k.shape)}`);
  if (x.size === 0 || k.size === 0) throw new ShapeError(`${where}: a and v must not be empty, got shapes ${fmtShape(x.shape)} and ${fmtShape(k.shape)}`);
  const [d, w] = resultType([x, k], [a, v]);
  if (d === "bool") throw new JacobiError(`${where}: bool arrays are not supported; convert them to a numeric dtype first`);
  [x, k] = [x, k].map((t) => (t.dtype === d ? t : convertElementType(t, d, w)));
  // Convolution is symmetric: the shorter array slides, as NumPy does.
  if (k.size > x.size) [x, k] = [k, x];
  const m = k.size;
  const padding: [number, number] = mode === "full" ? [m - 1, m - 1] : mode === "same" ? [m >> 1, m - 1 - (m >> 1)] : [0, 0];
  const y = convGeneralDilatedPrim(reshape(x, [1, 1, x.size]), reshape(rev(k, [0]), [1, 1, m]), {
    windowStrides: [1],
    padding: [padding],
    lhsDilation: [1],
    rhsDilation: [1],
    lhsSpec: [0, 1, 2],
    rhsSpec: [0, 1, 2],
    outSpec: [0, 1, 2],
    featureGroupCount: 1,
    batchGroupCount: 1,
  });
  return reshape(y, [y.size]);
}
