import type { BatchDim, Params, Primitive } from "../core/primitive.js";
import type { Tensor } from "../core/tensor.js";
import { bind } from "../core/trace.js";
import { broadcastInDim, transpose } from "./shape.js";

/** Moves axis `from` of `x` to position `to` (a transpose; a no-op when they are equal). */
export function moveBatchAxis(x: Tensor, from: number, to: number): Tensor {
  if (from === to) return x;
  const perm = Array.from({ length: x.ndim }, (_, i) => i).filter((i) => i !== from);
  perm.splice(to, 0, from);
  return transpose(x, perm);
}

/** Gives an unbatched value a leading batch axis of `size` (a stride-0 view when concrete). */
export function broadcastBatch(x: Tensor, size: number): Tensor {
  return broadcastInDim(x, [size, ...x.shape], x.shape.map((_, i) => i + 1));
}

/** Every batch axis lined up at 0, unbatched arguments broadcast to `axisSize` examples. */
export function batchAtFront(args: Tensor[], dims: BatchDim[], axisSize: number): Tensor[] {
  return args.map((a, i) => (dims[i] === null ? broadcastBatch(a, axisSize) : moveBatchAxis(a, dims[i] as number, 0)));
}

/** The batch rule of an elementwise primitive: line every batch axis up at 0 and apply it once. */
export function vectorizedBatch(self: Primitive<any>) {
  return (args: Tensor[], dims: BatchDim[], params: Params, axisSize: number): [Tensor[], BatchDim[]] => {
    const outs = bind(self, batchAtFront(args, dims, axisSize), params);
    return [outs, outs.map(() => 0)];
  };
}
