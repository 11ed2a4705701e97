// A fused chain evaluated one operation at a time, as eager evaluation would: mapN for each
// expression and reduce for each reduction. Fused loops are generated with `new Function`; where
// code generation is forbidden (no-eval.ts) jit runs its chains this way, and since a fused loop
// is bit-identical to eager evaluation by construction, so are the answers.
import type { DType } from "../core/dtype.js";
import { mapN } from "./elementwise.js";
import { type Arr, contiguous } from "./ndarray-view.js";
import { type ReduceKind, reduce } from "./reduce.js";

interface Chain {
  inDtypes: readonly DType[];
  ops: readonly { expr: string; args: readonly number[]; dtype: DType }[];
  outs: readonly number[];
  reductions?: readonly { kind: ReduceKind; arg: number; axes: readonly number[]; dtype: DType }[];
}

/** The chain's outputs as fresh row-major arrays, then its reductions' results. */
export function runChainEagerly(chain: Chain, ins: readonly Arr[]): Arr[] {
  const values: Arr[] = [...ins];
  for (const op of chain.ops) values.push(mapN(op.expr, op.args.map((a) => values[a]), op.dtype));
  const nIn = ins.length;
  const outs = chain.outs.map((k) => contiguous(values[nIn + k]));
  const reduced = (chain.reductions ?? []).map((r) => reduce(r.kind, values[r.arg], [...r.axes].sort((a, b) => a - b), r.dtype));
  return [...outs, ...reduced];
}
