// scan: inputs [...consts, ...init, ...xs]; body (consts, carry, x) -> (carry, y); outputs
// [...carry, ...ys] with the ys stacked along a new leading axis of `length`.
import { assignInto, empty } from "../../backend/ndarray-view.js";
import { isFloat } from "../../core/dtype.js";
import { ShapeError, fmtShape } from "../../core/errors.js";
import { type BatchDim, type Primitive, UndefPrimal, Zero, definePrimitive, eqnsCost } from "../../core/primitive.js";
import { ShapedArray } from "../../core/shaped-array.js";
import { ArrayTensor, type Tensor } from "../../core/tensor.js";
import { bind } from "../../core/trace.js";
import { checked } from "../../ir/check-jaxpr.js";
import { type ClosedJaxpr, Var } from "../../ir/jaxpr.js";
import { addTangents } from "../../interpreters/add-any.js";
import { evalClosed } from "../../interpreters/eval.js";
import { jvpJaxpr, tangentsStaged } from "../../interpreters/jvp.js";
import { splitJvp } from "../../interpreters/partial-eval.js";
import { transposeJaxpr } from "../../interpreters/transpose.js";
import { instantiate, isZero, zerosLike } from "../../interpreters/zeros.js";
import { broadcastBatch, moveBatchAxis } from "../batching.js";
import { arrOf, batchJaxpr, checkAvals, count, inAvals, indexView, outAvals, pick, range, rebind, same } from "./util.js";

export type ScanParams = { jaxpr: ClosedJaxpr; length: number; reverse: boolean; numConsts: number; numCarry: number };

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
    if (!tangentsStaged([...tC, ...tX, ...tCarry])) {
      // One scan carrying primals and tangents together.
      const ins = jv.jaxpr.jaxpr.inBinders, outs = jv.jaxpr.jaxpr.outs;
      const at = (start: number, n: number) => range(start, start + n);
      const inOrder = [...at(0, nConsts), ...at(numIns, numConstTangents), ...at(nConsts, nCarry), ...at(numIns + numConstTangents, numCarryTangents), ...at(nConsts + nCarry, numXs), ...at(numIns + numConstTangents + numCarryTangents, numXsTangents)];
      const outOrder = [...at(0, nCarry), ...at(numOuts, numCarryTangents), ...at(nCarry, numYs), ...at(numOuts + numCarryTangents, numYTangents)];
      const body = rebind(jv.jaxpr, pick(ins, inOrder), pick(outs, outOrder));
      const r = bind(self, [...consts, ...tC, ...init, ...tCarry, ...xs, ...tX], { ...params, jaxpr: body, numConsts: nConsts + numConstTangents, numCarry: nCarry + numCarryTangents });
      po = [...r.slice(0, nCarry), ...r.slice(nCarry + numCarryTangents, nCarry + numCarryTangents + numYs)];
      to = [...r.slice(nCarry, nCarry + numCarryTangents), ...r.slice(nCarry + numCarryTangents + numYs)];
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
}));
