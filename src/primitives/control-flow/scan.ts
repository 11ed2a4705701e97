// scan: inputs [...consts, ...init, ...xs]; body (consts, carry, x) -> (carry, y); outputs
// [...carry, ...ys] with the ys stacked along a new leading axis of `length`.
import { assignInto, empty } from "../../backend/index.js";
import { isFloat } from "../../core/dtype.js";
import { InternalError, ShapeError, fmtShape } from "../../core/errors.js";
import { type BatchDim, type Primitive, UndefPrimal, Zero, definePrimitive, eqnsCost } from "../../core/primitive.js";
import { ShapedArray } from "../../core/shaped-array.js";
import { ArrayTensor, type Tensor } from "../../core/tensor.js";
import { bind } from "../../core/trace.js";
import { checked } from "../../ir/check-jaxpr.js";
import { type ClosedJaxpr, Var } from "../../ir/jaxpr.js";
import { addTangents } from "../../interpreters/add-any.js";
import { evalClosed } from "../../interpreters/eval.js";
import { jvpFlat, jvpJaxpr, tangentsStaged } from "../../interpreters/jvp.js";
import { splitJvp } from "../../interpreters/partial-eval.js";
import { transposeJaxpr } from "../../interpreters/transpose.js";
import { instantiate, isZero, zerosLike } from "../../interpreters/zeros.js";
import { broadcastBatch, moveBatchAxis } from "../batching.js";
import { add } from "../elementwise.js";
import { onnxScan } from "../onnx-rules.js";
import { concatenate, reshape, slice, squeeze } from "../shape.js";
import { revolve } from "./revolve.js";
import { arrOf, batchJaxpr, checkAvals, count, inAvals, indexView, outAvals, pick, range, rebind, same } from "./util.js";

/**
 * `snapshots` (lax.scan's `checkpoint: { snapshots }`): reverse mode keeps at most that many carries
 * and recomputes the others on the binomial schedule, instead of stacking every step's residuals.
 */
export type ScanParams = { jaxpr: ClosedJaxpr; length: number; reverse: boolean; numConsts: number; numCarry: number; snapshots?: number };

export const scanP: Primitive<ScanParams> = definePrimitive("scan", (self) => ({
  impl: (args, { jaxpr, length, reverse, numConsts: nConsts, numCarry: nCarry }, avalsOut) => {
    const bs = jaxpr.jaxpr.inBinders;
    const consts = args.slice(0, nConsts).map((a, i) => new ArrayTensor(a, bs[i].aval));
    let carry: Tensor[] = args.slice(nConsts, nConsts + nCarry).map((a, i) => new ArrayTensor(a, bs[nConsts + i].aval));
    const xs = args.slice(nConsts + nCarry);
    const xAvals = bs.slice(nConsts + nCarry).map((v) => v.aval);
    const ys = avalsOut.slice(nCarry).map((a) => empty(a.shape, a.dtype));
    // An iterative loop: a long scan never deepens the JS stack.
    for (let i = 0; i < length; i++) {
      const t = reverse ? length - 1 - i : i;
      const outs = evalClosed(jaxpr, [...consts, ...carry, ...xs.map((x, j) => new ArrayTensor(indexView(x, t), xAvals[j]))]);
      carry = outs.slice(0, nCarry);
      for (let j = 0; j < ys.length; j++) assignInto(indexView(ys[j], t), arrOf(outs[nCarry + j]));
    }
    return [...carry.map(arrOf), ...ys];
  },

  abstractEval: (avals, { jaxpr, length, numConsts: nConsts, numCarry: nCarry }) => {
    if (!Number.isInteger(length) || length < 0) throw new ShapeError(`scan: length must be a non-negative integer, got ${length}`);
    const bs = inAvals(jaxpr);
    const xs = avals.slice(nConsts + nCarry);
    xs.forEach((x, i) => {
      if (x.ndim === 0 || x.shape[0] !== length) throw new ShapeError(`scan: xs ${i} has shape ${fmtShape(x.shape)}, but its leading axis must be the scan length ${length}`);
    });
    const perStep = [...avals.slice(0, nConsts + nCarry), ...xs.map((x) => new ShapedArray(x.shape.slice(1), x.dtype, x.weakType))];
    checkAvals("scan", "input of jaxpr", perStep, bs);
    const outs = outAvals(jaxpr);
    const carry = bs.slice(nConsts, nConsts + nCarry);
    checkAvals("scan", "carry output of jaxpr", outs.slice(0, nCarry), carry);
    return [...carry, ...outs.slice(nCarry).map((y) => new ShapedArray([length, ...y.shape], y.dtype, y.weakType))];
  },

  jvp: (primals, tangents, params) => {
    const { jaxpr, numConsts: nConsts, numCarry: nCarry } = params;
    const numIns = primals.length, numXs = numIns - nConsts - nCarry;
    const numOuts = outAvals(jaxpr).length, numYs = numOuts - nCarry;
    const nz = tangents.map((t, i) => !isZero(t) && isFloat(primals[i].dtype));
    const constNz = nz.slice(0, nConsts), xsNz = nz.slice(nConsts + nCarry);
    let carryNz = nz.slice(nConsts, nConsts + nCarry);
    const noYs = new Array<boolean>(numYs).fill(false);
    let jv = jvpJaxpr(jaxpr, [...constNz, ...carryNz, ...xsNz], [...carryNz, ...noYs]);
    while (!same(jv.outNz.slice(0, nCarry), carryNz)) {
      carryNz = carryNz.map((v, i) => v || jv.outNz[i]);
      jv = jvpJaxpr(jaxpr, [...constNz, ...carryNz, ...xsNz], [...carryNz, ...noYs]);
    }
    const yNz = jv.outNz.slice(nCarry);
    if (!carryNz.some(Boolean) && !yNz.some(Boolean)) {
      const outs = bind(self, primals, params);
      return [outs, outs.map((o) => new Zero(o.aval.strong()))];
    }
    const tC = tangents.slice(0, nConsts).filter((_, i) => constNz[i]) as Tensor[];
    const tCarry = tangents.slice(nConsts, nConsts + nCarry).filter((_, i) => carryNz[i]).map(instantiate);
    const tX = tangents.slice(nConsts + nCarry).filter((_, i) => xsNz[i]) as Tensor[];
    const numConstTangents = tC.length, numCarryTangents = tCarry.length, numXsTangents = tX.length, numYTangents = count(yNz);
    const consts = primals.slice(0, nConsts), init = primals.slice(nConsts, nConsts + nCarry), xs = primals.slice(nConsts + nCarry);
    let po: Tensor[], to: Tensor[];
    const layout: JvpLayout = { numConsts: nConsts, numCarry: nCarry, numXs, numYs, numConstTangents, numCarryTangents, numXsTangents, numYTangents };
    if (!tangentsStaged([...tC, ...tX, ...tCarry])) {
      [po, to] = jointScan(jv.jaxpr, params, layout, [...consts, ...init, ...xs, ...tC, ...tCarry, ...tX]);
    } else if (params.snapshots !== undefined) {
      // Checkpointed: the primal scan stores nothing; the tangent map is one linear equation whose
      // transpose recomputes carries from at most `snapshots` stored ones (binomial schedule).
      po = bind(self, primals, params);
      const { jaxpr: _body, ...rest } = params;
      to = bind(scanRevolveP, [...consts, ...init, ...xs, ...tC, ...tCarry, ...tX], { ...rest, jvp: jv.jaxpr, layout, snapshots: params.snapshots });
    } else {
      // Linearize: a primal scan that also stacks the residuals of every step, then a linear
      // tangent scan over those residuals (which reverse mode transposes into a backward scan).
      const s = splitJvp(jv.jaxpr, numIns, numOuts);
      const constBs = s.primalIns.slice(0, nConsts);
      const xsBs = s.primalIns.slice(nConsts + nCarry);
      const variant = new Set<Var>(s.primalIns.slice(nConsts));
      for (const e of s.knownEqns) if (e.inputs.some((a) => a instanceof Var && variant.has(a))) for (const v of e.outBinders) variant.add(v);
      const xsIndex = new Map(xsBs.map((v, i) => [v, i]));
      const fwd: Var[] = [], inv: Var[] = [], stacked: Var[] = [];
      for (const r of s.residuals) (xsIndex.has(r) ? fwd : variant.has(r) ? stacked : inv).push(r);
      // Residuals that do not change between steps (weights, functions of them) are computed once.
      const invVals = inv.length === 0 ? [] : evalClosed(checked(s.known(inv, constBs)), consts);
      const known = checked(s.known([...s.primalOuts, ...stacked]));
      const r = bind(self, primals, { ...params, jaxpr: known });
      po = r.slice(0, numOuts);
      const stackedVals = r.slice(numOuts);
      const tIns = s.tanIns;
      const tanBody = s.tangentPart([...inv, ...tIns.slice(0, numConstTangents), ...tIns.slice(numConstTangents, numConstTangents + numCarryTangents), ...stacked, ...fwd, ...tIns.slice(numConstTangents + numCarryTangents)]);
      to = bind(self, [...invVals, ...tC, ...tCarry, ...stackedVals, ...fwd.map((v) => xs[xsIndex.get(v) as number]), ...tX], {
        ...params,
        jaxpr: tanBody,
        numConsts: inv.length + numConstTangents,
        numCarry: numCarryTangents,
      });
    }
    const nzOut = [...carryNz, ...yNz];
    let k = 0;
    return [po, po.map((p, i) => (nzOut[i] ? to[k++] : new Zero(p.aval.strong())))];
  },

  cost: (_ins, _outs, { jaxpr, length }) => {
    const c = eqnsCost(jaxpr.jaxpr.eqns);
    return { flops: length * c.flops, transcendentals: length * c.transcendentals };
  },

  linear: true,
  transpose: (cts, args, { jaxpr, length, reverse, numConsts: nConsts, numCarry: nCarry }) => {
    // Consts and xs split into residuals (known) and linear inputs; every carry is linear.
    const isLin = (i: number): boolean => args[i] instanceof UndefPrimal;
    const constIdx = range(0, nConsts), carryIdx = range(nConsts, nConsts + nCarry), xsIdx = range(nConsts + nCarry, args.length);
    const resC = constIdx.filter((i) => !isLin(i)), linC = constIdx.filter(isLin);
    const resX = xsIdx.filter((i) => !isLin(i)), linX = xsIdx.filter(isLin);
    const bs = jaxpr.jaxpr.inBinders;
    const order = [...resC, ...resX, ...linC, ...carryIdx, ...linX];
    const lin = order.map((_, k) => k >= resC.length + resX.length);
    const perm = rebind(jaxpr, pick(bs, order));
    const linCAvals = pick(bs, linC).map((v) => v.aval.strong());
    const numConstResiduals = resC.length, numLinearConsts = linC.length;
    // The transposed body: consts are the const residuals, the carry is the accumulated const
    // cotangents and the carry cotangent, xs are the xs residuals and the ys cotangents.
    const t = transposeJaxpr(perm, lin, linCAvals, (acc, ct) => [
      ...acc.map((a, i) => instantiate(addTangents(a, ct[i]))),
      ...ct.slice(numLinearConsts).map(instantiate),
    ]);
    // transposeJaxpr orders inputs (resC, resX, acc, ctCarry, ctY); the scan needs (resC, acc, ctCarry, resX, ctY).
    const ti = t.jaxpr.inBinders;
    const numXsResiduals = resX.length;
    const body = rebind(t, [...ti.slice(0, numConstResiduals), ...ti.slice(numConstResiduals + numXsResiduals, numConstResiduals + numXsResiduals + numLinearConsts + nCarry), ...ti.slice(numConstResiduals, numConstResiduals + numXsResiduals), ...ti.slice(numConstResiduals + numXsResiduals + numLinearConsts + nCarry)]);
    const ctsI = cts.map(instantiate);
    const outs = bind(
      self,
      [...(pick(args, resC) as Tensor[]), ...linCAvals.map((a) => zerosLike({ aval: a })), ...ctsI.slice(0, nCarry), ...(pick(args, resX) as Tensor[]), ...ctsI.slice(nCarry)],
      { jaxpr: body, length, reverse: !reverse, numConsts: numConstResiduals, numCarry: numLinearConsts + nCarry },
    );
    const res: (Tensor | null)[] = args.map(() => null);
    linC.forEach((i, k) => (res[i] = outs[k]));
    carryIdx.forEach((i, k) => (res[i] = isLin(i) ? outs[numLinearConsts + k] : null));
    linX.forEach((i, k) => (res[i] = outs[numLinearConsts + nCarry + k]));
    return res;
  },

  batch: (args, dims, params, size) => {
    const { jaxpr, numConsts: nConsts, numCarry: nCarry } = params;
    const isB = dims.map((d) => d !== null);
    const constB = isB.slice(0, nConsts), xsB = isB.slice(nConsts + nCarry);
    let carryB = isB.slice(nConsts, nConsts + nCarry);
    const numYs = outAvals(jaxpr).length - nCarry;
    const force = () => [...carryB, ...new Array<boolean>(numYs).fill(false)];
    let bj = batchJaxpr(jaxpr, [...constB, ...carryB, ...xsB], size, force());
    while (!same(bj.outB.slice(0, nCarry), carryB)) {
      carryB = carryB.map((b, i) => b || bj.outB[i]);
      bj = batchJaxpr(jaxpr, [...constB, ...carryB, ...xsB], size, force());
    }
    const moved = args.map((a, i) => {
      const d = dims[i];
      if (i < nConsts) return d === null ? a : moveBatchAxis(a, d, 0);
      if (i < nConsts + nCarry) return !carryB[i - nConsts] ? a : d === null ? broadcastBatch(a, size) : moveBatchAxis(a, d, 0);
      // xs keep the scan axis first, so one step's slice has its batch axis at 0.
      return d === null ? a : moveBatchAxis(a, d, 1);
    });
    const outs = bind(self, moved, { ...params, jaxpr: bj.jaxpr });
    const outDims: BatchDim[] = [...carryB.map((b) => (b ? 0 : null)), ...bj.outB.slice(nCarry).map((b) => (b ? 1 : null))];
    return [outs, outDims];
  },
  onnx: onnxScan,
}));

/** How a scan body's JVP jaxpr lays out its values: primal inputs, then the nonzero tangents. */
export interface JvpLayout {
  numConsts: number;
  numCarry: number;
  numXs: number;
  numYs: number;
  numConstTangents: number;
  numCarryTangents: number;
  numXsTangents: number;
  numYTangents: number;
}

/**
 * One scan carrying primals and tangents together, from a body JVP jaxpr `jv` (inputs: consts,
 * carry, xs, then their nonzero tangents; outputs: carry, ys, then their nonzero tangents) and
 * `args` in the same order. Returns the primal outputs and the tangent outputs.
 */
export function jointScan(jv: ClosedJaxpr, params: ScanParams, l: JvpLayout, args: Tensor[]): [Tensor[], Tensor[]] {
  const numIns = l.numConsts + l.numCarry + l.numXs, numOuts = l.numCarry + l.numYs;
  const ins = jv.jaxpr.inBinders, outs = jv.jaxpr.outs;
  const at = (start: number, n: number) => range(start, start + n);
  const tIn = numIns, tcIn = tIn + l.numConstTangents, txIn = tcIn + l.numCarryTangents;
  const inOrder = [...at(0, l.numConsts), ...at(tIn, l.numConstTangents), ...at(l.numConsts, l.numCarry), ...at(tcIn, l.numCarryTangents), ...at(l.numConsts + l.numCarry, l.numXs), ...at(txIn, l.numXsTangents)];
  const outOrder = [...at(0, l.numCarry), ...at(numOuts, l.numCarryTangents), ...at(l.numCarry, l.numYs), ...at(numOuts + l.numCarryTangents, l.numYTangents)];
  const body = rebind(jv, pick(ins, inOrder), pick(outs, outOrder));
  const { snapshots: _snapshots, ...plain } = params;
  const r = bind(scanP, pick(args, inOrder), { ...plain, jaxpr: body, numConsts: l.numConsts + l.numConstTangents, numCarry: l.numCarry + l.numCarryTangents });
  const nc = l.numCarry, nct = l.numCarryTangents;
  return [
    [...r.slice(0, nc), ...r.slice(nc + nct, nc + nct + l.numYs)],
    [...r.slice(nc, nc + nct), ...r.slice(nc + nct + l.numYs)],
  ];
}

/**
 * What a reversal through a checkpointed scan did, for tests and benchmarks; `sample`, when set,
 * is called after every step (a memory probe).
 */
export const revolveStats: { advances: number; reversals: number; maxSnapshots: number; sample?: () => void } = { advances: 0, reversals: 0, maxSnapshots: 0 };

export type ScanRevolveParams = Omit<ScanParams, "jaxpr" | "snapshots"> & { jvp: ClosedJaxpr; layout: JvpLayout; snapshots: number };

/** Row `t` of a stacked value (its leading axis dropped). */
function row(x: Tensor, t: number): Tensor {
  const start = x.shape.map((_, i) => (i === 0 ? t : 0));
  const limit = x.shape.map((n, i) => (i === 0 ? t + 1 : n));
  return squeeze(slice(x, start, limit), [0]);
}

/**
 * The tangent map of a checkpointed scan: inputs `[...consts, ...init, ...xs]` (residuals: the
 * primal inputs, nothing per step) then the nonzero tangents `[...tConsts, ...tInit, ...tXs]`;
 * outputs the nonzero tangents of the final carry and of the ys. Linear in the tangents. Its
 * transpose is Griewank's revolve: it replays the primal steps from the inputs, keeping at most
 * `snapshots` carries, and pulls the cotangents back one step at a time.
 */
export const scanRevolveP: Primitive<ScanRevolveParams> = definePrimitive<ScanRevolveParams>("scan_revolve", (self) => ({
  impl: (args, p) => {
    const avals = p.jvp.jaxpr.inBinders.map((v) => v.aval);
    const l = p.layout;
    const nRes = l.numConsts + l.numCarry + l.numXs;
    const tensors = args.map((a, i) => {
      const perStep = avals[i];
      const stacked = (i >= l.numConsts + l.numCarry && i < nRes) || i >= nRes + l.numConstTangents + l.numCarryTangents;
      return new ArrayTensor(a, stacked ? new ShapedArray([p.length, ...perStep.shape], perStep.dtype) : perStep);
    });
    return jointScan(p.jvp, { jaxpr: p.jvp, length: p.length, reverse: p.reverse, numConsts: l.numConsts, numCarry: l.numCarry }, l, tensors)[1].map(arrOf);
  },
  abstractEval: (_avals, { jvp, layout: l, length }) => {
    const outs = outAvals(jvp).slice(l.numCarry + l.numYs);
    return outs.map((a, i) => (i < l.numCarryTangents ? a : new ShapedArray([length, ...a.shape], a.dtype, a.weakType)));
  },
  // Forward mode through the map: the joint scan it stands for.
  jvp: (primals, tangents, p) => {
    const l = p.layout;
    const forward = (xs: Tensor[]): Tensor[] => jointScan(p.jvp, { jaxpr: p.jvp, length: p.length, reverse: p.reverse, numConsts: l.numConsts, numCarry: l.numCarry }, l, xs)[1];
    return jvpFlat(forward, primals, tangents, "scan (checkpointed)");
  },
  linear: true,
  transpose: (cts, args, p) => {
    const l = p.layout;
    const nRes = l.numConsts + l.numCarry + l.numXs;
    if (args.slice(0, nRes).some((a) => a instanceof UndefPrimal)) throw new InternalError("scan_revolve: a residual input is linear");
    const res = args.slice(0, nRes) as Tensor[];
    const consts = res.slice(0, l.numConsts), init = res.slice(l.numConsts, l.numConsts + l.numCarry), xs = res.slice(l.numConsts + l.numCarry);
    const numOuts = l.numCarry + l.numYs;
    const split = splitJvp(p.jvp, nRes, numOuts);
    const advanceJaxpr = checked(split.known(split.primalOuts.slice(0, l.numCarry)));
    const residualJaxpr = checked(split.known(split.residuals));
    const tangentPart = split.tangentPart([...split.residuals, ...split.tanIns]);
    const transposed = transposeJaxpr(tangentPart, [...split.residuals.map(() => false), ...split.tanIns.map(() => true)]);
    const index = (k: number): number => (p.reverse ? p.length - 1 - k : k);
    const xsAt = (k: number): Tensor[] => xs.map((x) => row(x, index(k)));
    const ctYs = cts.slice(l.numCarryTangents).map(instantiate);
    let ctCarry = cts.slice(0, l.numCarryTangents).map(instantiate);
    let ctConsts: Tensor[] | null = null;
    const ctXsRows = new Array<Tensor[]>(p.length);
    const states = new Map<number, Tensor[]>([[0, init]]);
    revolve(p.length, p.snapshots, (a) => {
      if (a.kind === "advance") {
        let carry = states.get(a.from) as Tensor[];
        for (let k = a.from; k < a.to; k++) {
          carry = evalClosed(advanceJaxpr, [...consts, ...carry, ...xsAt(k)]);
          revolveStats.sample?.();
        }
        revolveStats.advances += a.to - a.from;
        if (a.snapshot) {
          states.set(a.to, carry);
          revolveStats.maxSnapshots = Math.max(revolveStats.maxSnapshots, states.size - 1);
        } else {
          states.set(-1, carry);
        }
      } else if (a.kind === "free") {
        states.delete(a.at);
      } else {
        // Reverse step k from its carry: a snapshot, or the state just advanced to (key -1).
        const k = a.step;
        const carry = states.get(k) ?? (states.get(-1) as Tensor[]);
        states.delete(-1);
        const residuals = evalClosed(residualJaxpr, [...consts, ...carry, ...xsAt(k)]);
        const out = evalClosed(transposed, [...residuals, ...ctCarry, ...ctYs.map((y) => row(y, index(k)))]);
        const stepConsts = out.slice(0, l.numConstTangents);
        ctConsts = ctConsts === null ? stepConsts : ctConsts.map((c, i) => add(c, stepConsts[i]));
        ctCarry = out.slice(l.numConstTangents, l.numConstTangents + l.numCarryTangents);
        ctXsRows[index(k)] = out.slice(l.numConstTangents + l.numCarryTangents);
        revolveStats.reversals++;
        revolveStats.sample?.();
      }
    });
    const tAvals = p.jvp.jaxpr.inBinders.slice(nRes).map((v) => v.aval.strong());
    const ctC = ctConsts ?? tAvals.slice(0, l.numConstTangents).map((a) => zerosLike({ aval: a }));
    const ctX = range(0, l.numXsTangents).map((j) => {
      const aval = tAvals[l.numConstTangents + l.numCarryTangents + j];
      if (p.length === 0) return zerosLike({ aval: new ShapedArray([0, ...aval.shape], aval.dtype) });
      return concatenate(ctXsRows.map((r) => reshape(r[j], [1, ...aval.shape])), 0);
    });
    const all = [...ctC, ...ctCarry, ...ctX];
    return args.map((a, i) => (i < nRes || !(a instanceof UndefPrimal) ? null : all[i - nRes]));
  },
  // Batched: every input gets the batch at the front (the xs and their tangents behind the scan
  // axis), the body JVP is batched once, and every output is batched.
  batch: (args, dims, p, size) => {
    const l = p.layout;
    const nRes = l.numConsts + l.numCarry + l.numXs;
    const stacked = (i: number): boolean => (i >= l.numConsts + l.numCarry && i < nRes) || i >= nRes + l.numConstTangents + l.numCarryTangents;
    const moved = args.map((a, i) => {
      const d = dims[i];
      const front = d === null ? broadcastBatch(a, size) : moveBatchAxis(a, d, 0);
      return stacked(i) ? moveBatchAxis(front, 0, 1) : front;
    });
    const bodyIns = p.jvp.jaxpr.inBinders.map(() => true);
    const jvp = batchJaxpr(p.jvp, bodyIns, size, p.jvp.jaxpr.outs.map(() => true)).jaxpr;
    const outs = bind(self, moved, { ...p, jvp });
    return [outs, outs.map((_, i) => (i < l.numCarryTangents ? 0 : 1))];
  },
  cost: (_ins, _outs, { jvp, length }) => {
    const c = eqnsCost(jvp.jaxpr.eqns);
    return { flops: length * c.flops, transcendentals: length * c.transcendentals };
  },
}));
