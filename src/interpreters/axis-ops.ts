// The few array operations the interpreters need to move batch axes around. They are primitives
// (transpose, broadcast_in_dim, reduce_sum), which live in the layer above; the primitives layer
// installs them here when it loads (as JAX's batching module reaches lax lazily), so that imports
// still point down only.
import { InternalError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";

export interface AxisOps {
  /** Moves axis `from` of `x` to position `to` (a transpose; a no-op when they are equal). */
  moveAxis(x: Tensor, from: number, to: number): Tensor;
  /** Gives an unbatched value a leading batch axis of `size`. */
  broadcastBatch(x: Tensor, size: number): Tensor;
  /** Sums `x` over its leading axis. */
  sumLeading(x: Tensor): Tensor;
}

let ops: AxisOps | null = null;

export function installAxisOps(o: AxisOps): void {
  ops = o;
}

export function axisOps(): AxisOps {
  if (ops === null) throw new InternalError("the primitives layer is not loaded: import jacobi from the package root");
  return ops;
}

/** Every batched value with its batch axis at 0, every unbatched one broadcast to a leading batch axis. */
export function alignBatch(args: readonly Tensor[], dims: readonly (number | null)[], size: number): Tensor[] {
  const o = axisOps();
  return args.map((a, i) => {
    const d = dims[i];
    return d === null ? o.broadcastBatch(a, size) : o.moveAxis(a, d, 0);
  });
}
