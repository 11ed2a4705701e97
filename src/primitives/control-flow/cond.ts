// cond: inputs [index, ...operands]; runs branches[index] (the index is clamped, as in JAX).
import { readFlat } from "../../backend/index.js";
import { isFloat } from "../../core/dtype.js";
import { DTypeError, InternalError, JacobiError } from "../../core/errors.js";
import { type Primitive, UndefPrimal, Zero, definePrimitive, eqnsCost } from "../../core/primitive.js";
import { ArrayTensor, type Tensor } from "../../core/tensor.js";
import { bind } from "../../core/trace.js";
import { checked } from "../../ir/check-jaxpr.js";
import { type Atom, ClosedJaxpr, Jaxpr, Var } from "../../ir/jaxpr.js";
import { vmapFlat } from "../../interpreters/batching.js";
import { evalClosed } from "../../interpreters/eval.js";
import { jvpJaxpr, tangentsStaged } from "../../interpreters/jvp.js";
import { splitJvp } from "../../interpreters/partial-eval.js";
import { transposeJaxpr } from "../../interpreters/transpose.js";
import { full, instantiate, isZero, zerosLike } from "../../interpreters/zeros.js";
import { moveBatchAxis } from "../batching.js";
import { eq, max, min, select, stopGradient } from "../elementwise.js";
import { broadcastInDim } from "../shape.js";
import { onnxCond } from "../onnx-rules.js";
import { arrOf, batchJaxpr, checkAvals, inAvals, outAvals, range, same } from "./util.js";

export const clampIndex = (k: number, n: number): number => Math.min(Math.max(k, 0), n - 1);
function clampTensor(idx: Tensor, n: number): Tensor {
  return max(min(idx, full(idx.shape, n - 1, "int32")), full(idx.shape, 0, "int32"));
}

export type CondParams = { branches: ClosedJaxpr[] };

export const condP: Primitive<CondParams> = definePrimitive("cond", (self) => ({
  impl: ([index, ...ops], { branches }) => {
    const b = branches[clampIndex(readFlat(index, 0), branches.length)];
    const bs = b.jaxpr.inBinders;
    return evalClosed(b, ops.map((o, i) => new ArrayTensor(o, bs[i].aval))).map(arrOf);
  },

  abstractEval: ([index, ...ops], { branches }) => {
    if (index.ndim !== 0 || index.dtype !== "int32") throw new DTypeError(`cond: the index must be an int32 scalar, got ${index.str()}`);
    if (branches.length === 0) throw new JacobiError("cond: needs at least one branch");
    const outs0 = outAvals(branches[0]);
    branches.forEach((b, k) => {
      checkAvals("cond", `operand of branch ${k}`, ops, inAvals(b));
      checkAvals("cond", `output of branch ${k}`, outAvals(b), outs0);
    });
    return outs0.map((a, i) => (branches.every((b) => outAvals(b)[i].weakType) ? a : a.strong()));
  },

  jvp: (primals, tangents, { branches }) => {
    const [index, ...ops] = primals;
    const nz = tangents.slice(1).map((t, i) => !isZero(t) && isFloat(ops[i].dtype));
    const nOut = outAvals(branches[0]).length;
    let jvps = branches.map((b) => jvpJaxpr(b, nz, new Array<boolean>(nOut).fill(false)));
    // Every branch must return tangents for the same outputs: those nonzero in any branch.
    const union = range(0, nOut).map((i) => jvps.some((j) => j.outNz[i]));
    if (!union.some(Boolean)) {
      const outs = bind(self, primals, { branches });
      return [outs, outs.map((o) => new Zero(o.aval.strong()))];
    }
    if (jvps.some((j) => !same(j.outNz, union))) jvps = branches.map((b) => jvpJaxpr(b, nz, union));
    const tIn = tangents.slice(1).filter((_, i) => nz[i]) as Tensor[];
    let po: Tensor[], to: Tensor[];
    if (!tangentsStaged(tIn)) {
      const outs = bind(self, [index, ...ops, ...tIn], { branches: jvps.map((j) => j.jaxpr) });
      po = outs.slice(0, nOut);
      to = outs.slice(nOut);
    } else {
      // The tangents belong to a higher level than the primals (linearize stages them): compute the
      // primal outputs from the primals alone, and the tangents in a second, linear cond.
      const splits = branches.map((_, k) => splitJvp(jvps[k].jaxpr, ops.length, nOut));
      const resAvals = splits.map((s) => s.residuals.map((v) => v.aval));
      const primalBranches = splits.map((s, k) => {
        const zeros: Var[] = [];
        const zeroVals: Tensor[] = [];
        const outs: Atom[] = [...s.primalOuts];
        resAvals.forEach((avals, m) => {
          if (m === k) outs.push(...s.residuals);
          else
            for (const a of avals) {
              const v = new Var(a);
              zeros.push(v);
              zeroVals.push(zerosLike({ aval: a }));
              outs.push(v);
            }
        });
        const known = s.known(outs);
        return checked(new ClosedJaxpr(new Jaxpr([...known.jaxpr.constBinders, ...zeros], known.jaxpr.inBinders, known.jaxpr.eqns, outs), [...known.consts, ...zeroVals]));
      });
      const outs = bind(self, [index, ...ops], { branches: primalBranches });
      po = outs.slice(0, nOut);
      const res = outs.slice(nOut);
      const tangentBranches = splits.map((s, k) => {
        const ins: Var[] = [];
        resAvals.forEach((avals, m) => ins.push(...(m === k ? s.residuals : avals.map((a) => new Var(a)))));
        return s.tangentPart([...ins, ...s.tanIns]);
      });
      to = bind(self, [index, ...res, ...tIn], { branches: tangentBranches });
    }
    let k = 0;
    return [po, po.map((p, i) => (union[i] ? to[k++] : new Zero(p.aval.strong())))];
  },

  linear: true,
  // The costliest branch: which one runs is known only at run time.
  cost: (_ins, _outs, { branches }) =>
    branches.map((b) => eqnsCost(b.jaxpr.eqns)).reduce((best, c) => (c.flops > best.flops ? c : best), { flops: 0, transcendentals: 0 }),

  transpose: (cts, [index, ...ops], { branches }) => {
    if (index instanceof UndefPrimal) throw new InternalError("cond's index cannot be linear");
    const lin = ops.map((o) => o instanceof UndefPrimal);
    const res = ops.filter((o, i) => !lin[i]) as Tensor[];
    const transposed = branches.map((b) => transposeJaxpr(b, lin));
    const outs = bind(self, [index, ...res, ...cts.map(instantiate)], { branches: transposed });
    let k = 0;
    return [null, ...lin.map((l) => (l ? outs[k++] : null))];
  },

  batch: (args, dims, { branches }, size) => {
    const [index, ...ops] = args;
    const [di, ...dops] = dims;
    if (di === null) {
      const opsB = dops.map((d) => d !== null);
      const moved = ops.map((o, i) => (dops[i] === null ? o : moveBatchAxis(o, dops[i] as number, 0)));
      const nOut = outAvals(branches[0]).length;
      let bs = branches.map((b) => batchJaxpr(b, opsB, size, new Array<boolean>(nOut).fill(false)));
      const union = range(0, nOut).map((i) => bs.some((b) => b.outB[i]));
      if (bs.some((b) => !same(b.outB, union))) bs = branches.map((b) => batchJaxpr(b, opsB, size, union));
      const outs = bind(self, [index, ...moved], { branches: bs.map((b) => b.jaxpr) });
      return [outs, union.map((u) => (u ? 0 : null))];
    }
    // A batched index: every branch runs on the whole batch and select picks per example (as JAX does).
    const idx = clampTensor(moveBatchAxis(index, di, 0), branches.length);
    // Every operand batched along axis 0. Branch k then sees each float operand through
    // select(index == k, x, stop_gradient(x)), as JAX's _cond_batching_rule does: the examples a
    // branch does not take get no cotangent from it, so an inf or NaN derivative there (sqrt at 0
    // in the branch not taken) cannot reach x as 0 * inf (JAX's issue 1052).
    const front = ops.map((o, i) => (dops[i] === null ? broadcastInDim(o, [size, ...o.shape], o.shape.map((_, d) => d + 1)) : moveBatchAxis(o, dops[i] as number, 0)));
    const results = branches.map((b, k) => {
      const taken = eq(idx, full([size], k, "int32"));
      const guarded = front.map((o) => (isFloat(o.dtype) ? select(broadcastInDim(taken, o.shape, [0]), o, stopGradient(o)) : o));
      return vmapFlat((xs) => evalClosed(b, xs), guarded, guarded.map(() => 0), () => 0, size);
    });
    const outs = results[0].map((r0, i) => {
      let acc = r0;
      for (let k = 1; k < branches.length; k++) {
        const r = results[k][i];
        acc = select(broadcastInDim(eq(idx, full([size], k, "int32")), r.shape, [0]), r, acc);
      }
      return acc;
    });
    return [outs, outs.map(() => 0)];
  },
  onnx: onnxCond,
}));