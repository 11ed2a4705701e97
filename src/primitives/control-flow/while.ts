// while: inputs [...condConsts, ...bodyConsts, ...init]; runs body while cond holds.
import { readFlat } from "../../backend/index.js";
import { isFloat } from "../../core/dtype.js";
import { DTypeError, JacobiError } from "../../core/errors.js";
import { type Primitive, Zero, definePrimitive, eqnsCost } from "../../core/primitive.js";
import { ArrayTensor, type Tensor } from "../../core/tensor.js";
import { bind } from "../../core/trace.js";
import { type ClosedJaxpr, Var } from "../../ir/jaxpr.js";
import { evalClosed } from "../../interpreters/eval.js";
import { jvpJaxpr, tangentsStaged } from "../../interpreters/jvp.js";
import { traceToJaxpr } from "../../interpreters/staging.js";
import { full, instantiate, isZero } from "../../interpreters/zeros.js";
import { broadcastBatch, moveBatchAxis } from "../batching.js";
import { convertElementType, gt, select } from "../elementwise.js";
import { reduceMax } from "../reduce.js";
import { broadcastInDim } from "../shape.js";
import { onnxWhile } from "../onnx-rules.js";
import { arrOf, batchJaxpr, checkAvals, count, inAvals, outAvals, rebind, same } from "./util.js";

export type WhileParams = { condJaxpr: ClosedJaxpr; bodyJaxpr: ClosedJaxpr; condNconsts: number; bodyNconsts: number };

export const WHILE_REVERSE_MESSAGE =
  "reverse-mode differentiation of lax.whileLoop is not supported: its number of iterations is only known when it runs, " +
  "so the values of its iterations are not stored (as in JAX). Use lax.foriLoop with static (concrete) bounds or lax.scan, " +
  "which are reverse-differentiable, or forward mode (jvp, jacfwd)";

export const whileP: Primitive<WhileParams> = definePrimitive("while", (self) => ({
  impl: (args, { condJaxpr, bodyJaxpr, condNconsts: numCondConsts, bodyNconsts: numBodyConsts }) => {
    const cb = condJaxpr.jaxpr.inBinders, bb = bodyJaxpr.jaxpr.inBinders;
    const cc = args.slice(0, numCondConsts).map((a, i) => new ArrayTensor(a, cb[i].aval));
    const bc = args.slice(numCondConsts, numCondConsts + numBodyConsts).map((a, i) => new ArrayTensor(a, bb[i].aval));
    let carry: Tensor[] = args.slice(numCondConsts + numBodyConsts).map((a, i) => new ArrayTensor(a, bb[numBodyConsts + i].aval));
    while (readFlat(arrOf(evalClosed(condJaxpr, [...cc, ...carry])[0]), 0) !== 0) carry = evalClosed(bodyJaxpr, [...bc, ...carry]);
    return carry.map(arrOf);
  },

  abstractEval: (avals, { condJaxpr, bodyJaxpr, condNconsts: numCondConsts, bodyNconsts: numBodyConsts }) => {
    const carry = avals.slice(numCondConsts + numBodyConsts);
    checkAvals("while", "input of cond_jaxpr", [...avals.slice(0, numCondConsts), ...carry], inAvals(condJaxpr));
    checkAvals("while", "input of body_jaxpr", avals.slice(numCondConsts), inAvals(bodyJaxpr));
    checkAvals("while", "output of body_jaxpr", outAvals(bodyJaxpr), carry);
    const p = outAvals(condJaxpr);
    if (p.length !== 1 || p[0].ndim !== 0 || p[0].dtype !== "bool") throw new DTypeError(`while: cond_jaxpr must return one bool scalar, got ${p.map((a) => a.str()).join(", ")}`);
    return inAvals(bodyJaxpr).slice(numBodyConsts);
  },

  jvp: (primals, tangents, params) => {
    const { condJaxpr, bodyJaxpr, condNconsts: numCondConsts, bodyNconsts: numBodyConsts } = params;
    const bc = primals.slice(numCondConsts, numCondConsts + numBodyConsts), init = primals.slice(numCondConsts + numBodyConsts);
    const tbc = tangents.slice(numCondConsts, numCondConsts + numBodyConsts), tinit = tangents.slice(numCondConsts + numBodyConsts);
    const bcNz = tbc.map((t, i) => !isZero(t) && isFloat(bc[i].dtype));
    let carryNz = tinit.map((t, i) => !isZero(t) && isFloat(init[i].dtype));
    let jv = jvpJaxpr(bodyJaxpr, [...bcNz, ...carryNz], carryNz);
    // A carry's tangent is nonzero if it starts nonzero or an iteration makes it so: a fixpoint.
    while (!same(jv.outNz, carryNz)) {
      carryNz = carryNz.map((v, i) => v || jv.outNz[i]);
      jv = jvpJaxpr(bodyJaxpr, [...bcNz, ...carryNz], carryNz);
    }
    if (!carryNz.some(Boolean)) {
      const outs = bind(self, primals, params);
      return [outs, outs.map((o) => new Zero(o.aval.strong()))];
    }
    const n = init.length, numBodyConstTangents = count(bcNz);
    const ins = jv.jaxpr.jaxpr.inBinders;
    const body = rebind(jv.jaxpr, [...ins.slice(0, numBodyConsts), ...ins.slice(numBodyConsts + n, numBodyConsts + n + numBodyConstTangents), ...ins.slice(numBodyConsts, numBodyConsts + n), ...ins.slice(numBodyConsts + n + numBodyConstTangents)]);
    const tanAvals = init.filter((_, i) => carryNz[i]).map((x) => x.aval.strong());
    const cond = rebind(condJaxpr, [...condJaxpr.jaxpr.inBinders, ...tanAvals.map((a) => new Var(a))]);
    const tIn = [...(tbc.filter((_, i) => bcNz[i]) as Tensor[]), ...tinit.filter((_, i) => carryNz[i]).map(instantiate)];
    const args = [...primals.slice(0, numCondConsts + numBodyConsts), ...tIn.slice(0, numBodyConstTangents), ...init, ...tIn.slice(numBodyConstTangents)];
    const joint = { condJaxpr: cond, bodyJaxpr: body, condNconsts: numCondConsts, bodyNconsts: numBodyConsts + numBodyConstTangents };
    let po: Tensor[], to: Tensor[];
    if (!tangentsStaged(tIn)) {
      const outs = bind(self, args, joint);
      po = outs.slice(0, n);
      to = outs.slice(n);
    } else {
      // The tangents are staged above the primals (linearize): the primal outputs must come from
      // the primals alone, so the primal loop runs on its own and the joint loop gives the tangents.
      po = bind(self, primals, params);
      to = bind(self, args, joint).slice(n);
    }
    let k = 0;
    return [po, po.map((p, i) => (carryNz[i] ? to[k++] : new Zero(p.aval.strong())))];
  },

  // One iteration of the condition and the body: the trip count is known only at run time.
  cost: (_ins, _outs, { condJaxpr, bodyJaxpr }) => {
    const c = eqnsCost(condJaxpr.jaxpr.eqns), b = eqnsCost(bodyJaxpr.jaxpr.eqns);
    return { flops: c.flops + b.flops, transcendentals: c.transcendentals + b.transcendentals };
  },

  linear: true,
  transpose: () => {
    throw new JacobiError(WHILE_REVERSE_MESSAGE);
  },

  batch: (args, dims, params, size) => {
    const { condJaxpr, bodyJaxpr, condNconsts: numCondConsts, bodyNconsts: numBodyConsts } = params;
    const isB = dims.map((d) => d !== null);
    const ccB = isB.slice(0, numCondConsts), bcB = isB.slice(numCondConsts, numCondConsts + numBodyConsts);
    let carryB = isB.slice(numCondConsts + numBodyConsts);
    let bCond = batchJaxpr(condJaxpr, [...ccB, ...carryB], size, [false]);
    let bBody = batchJaxpr(bodyJaxpr, [...bcB, ...carryB], size, carryB);
    // With a batched predicate every carry is batched: finished examples must keep their values.
    for (;;) {
      const predB = bCond.outB[0];
      const next = carryB.map((b, i) => b || predB || bBody.outB[i]);
      if (same(next, carryB) && same(bBody.outB, carryB)) break;
      carryB = next;
      bCond = batchJaxpr(condJaxpr, [...ccB, ...carryB], size, [false]);
      bBody = batchJaxpr(bodyJaxpr, [...bcB, ...carryB], size, carryB);
    }
    const moved = args.map((a, i) => {
      const d = dims[i];
      if (i >= numCondConsts + numBodyConsts && carryB[i - numCondConsts - numBodyConsts] && d === null) return broadcastBatch(a, size);
      return d === null ? a : moveBatchAxis(a, d, 0);
    });
    if (!bCond.outB[0]) {
      const outs = bind(self, moved, { condJaxpr: bCond.jaxpr, bodyJaxpr: bBody.jaxpr, condNconsts: numCondConsts, bodyNconsts: numBodyConsts });
      return [outs, carryB.map((b) => (b ? 0 : null))];
    }
    // A batched predicate: loop while any example's predicate holds; the others keep their carry.
    const ccAvals = inAvals(bCond.jaxpr).slice(0, numCondConsts);
    const bodyAvals = inAvals(bBody.jaxpr);
    const anyCond = traceToJaxpr("vmap", [...ccAvals, ...bodyAvals.slice(numBodyConsts)], (a) => {
      const p = evalClosed(bCond.jaxpr, a)[0];
      return [gt(reduceMax(convertElementType(p, "int32"), [0]), full([], 0, "int32"))];
    });
    const maskedBody = traceToJaxpr("vmap", [...ccAvals, ...bodyAvals], (a) => {
      const cc = a.slice(0, numCondConsts), bc = a.slice(numCondConsts, numCondConsts + numBodyConsts), carry = a.slice(numCondConsts + numBodyConsts);
      const p = evalClosed(bCond.jaxpr, [...cc, ...carry])[0];
      return evalClosed(bBody.jaxpr, [...bc, ...carry]).map((x, i) => select(broadcastInDim(p, carry[i].shape, [0]), x, carry[i]));
    });
    const cc = moved.slice(0, numCondConsts);
    const outs = bind(self, [...cc, ...cc, ...moved.slice(numCondConsts)], { condJaxpr: anyCond, bodyJaxpr: maskedBody, condNconsts: numCondConsts, bodyNconsts: numCondConsts + numBodyConsts });
    return [outs, outs.map(() => 0)];
  },
  onnx: onnxWhile,
}));