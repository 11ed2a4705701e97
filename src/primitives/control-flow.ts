// Structured control flow as primitives whose parameters hold the jaxprs of their branches and
// bodies: `cond` (also lax.switch), `while` and `scan`. Their rules transform those jaxprs (JVP,
// transpose, batch) and bind the primitive again, so control flow composes with every transform.
// The jaxprs in params never close over tracers: lax.ts passes every captured value as an operand.
import { type Arr, assignInto, empty, readFlat, view } from "../backend/ndarray-view.js";
import { scalar } from "../core/convert.js";
import { isFloat } from "../core/dtype.js";
import { DTypeError, JacobiError, ShapeError, fmtShape } from "../core/errors.js";
import { type BatchDim, type Primitive, type Tangent, UndefPrimal, Zero, definePrimitive } from "../core/primitive.js";
import { ShapedArray, sameShape } from "../core/shaped-array.js";
import { ArrayTensor, type Tensor } from "../core/tensor.js";
import { bind, withMain } from "../core/trace.js";
import { JaxprTracer, traceToJaxpr } from "../ir/builder.js";
import { type Atom, ClosedJaxpr, type Eqn, Jaxpr, Var } from "../ir/jaxpr.js";
import { jvpFlat } from "../transforms/jvp.js";
import { backwardPass } from "../transforms/transpose.js";
import { BatchTrace, BatchTracer, vmapFlat } from "../transforms/vmap.js";
import { batchSize, broadcastBatch, moveBatchAxis } from "./batching.js";
import { addTangents, convertElementType, eq, gt, max, min, select } from "./elementwise.js";
import { reduceMax } from "./reduce.js";
import { broadcastInDim } from "./shape.js";
import { full, instantiate, isZero, zerosLike } from "./util.js";

// ---------------------------------------------------------------------------------------------
// Jaxpr utilities
// ---------------------------------------------------------------------------------------------

export const inAvals = (c: ClosedJaxpr): ShapedArray[] => c.jaxpr.inBinders.map((v) => v.aval);
export const outAvals = (c: ClosedJaxpr): ShapedArray[] => c.jaxpr.outs.map((a) => a.aval);
const pick = <T>(xs: readonly T[], idx: readonly number[]): T[] => idx.map((i) => xs[i]);
const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
const count = (xs: readonly boolean[]): number => xs.reduce((s, x) => s + (x ? 1 : 0), 0);
const same = (a: readonly boolean[], b: readonly boolean[]): boolean => a.every((x, i) => x === b[i]);
const arrOf = (t: Tensor): Arr => t.concrete() as Arr;

type Runner = (args: Tensor[]) => Tensor[];
const runners = new WeakMap<ClosedJaxpr, Runner>();

/**
 * Evaluates a closed jaxpr by binding its equations in order. Variables live in array slots fixed
 * once per jaxpr (not in a Map per call), since a loop body is evaluated once per iteration.
 */
export function runJaxpr(c: ClosedJaxpr, args: Tensor[]): Tensor[] {
  let r = runners.get(c);
  if (r === undefined) {
    r = compileRunner(c);
    runners.set(c, r);
  }
  return r(args);
}

function compileRunner(c: ClosedJaxpr): Runner {
  const j = c.jaxpr;
  const slots = new Map<Var, number>();
  const define = (v: Var): number => {
    const s = slots.size;
    slots.set(v, s);
    return s;
  };
  const constSlots = j.constBinders.map(define);
  const inSlots = j.inBinders.map(define);
  const ref = (a: Atom): number | Tensor => {
    if (!(a instanceof Var)) return scalar(a.value, a.aval.dtype, a.aval.weakType);
    const s = slots.get(a);
    if (s === undefined) throw new Error("internal error: a jaxpr variable is used before it is defined");
    return s;
  };
  const eqns = j.eqns.map((e) => {
    const ins = e.inputs.map(ref);
    return { prim: e.primitive, params: e.params, ins, outs: e.outBinders.map(define) };
  });
  const outs = j.outs.map(ref);
  const consts = c.consts;
  const size = slots.size;
  const read = (env: Tensor[], r: number | Tensor): Tensor => (typeof r === "number" ? env[r] : r);
  return (args) => {
    const env = new Array<Tensor>(size);
    for (let i = 0; i < constSlots.length; i++) env[constSlots[i]] = consts[i];
    for (let i = 0; i < inSlots.length; i++) env[inSlots[i]] = args[i];
    for (const e of eqns) {
      const o = bind(e.prim, e.ins.map((r) => read(env, r)), e.params);
      for (let k = 0; k < e.outs.length; k++) env[e.outs[k]] = o[k];
    }
    return outs.map((r) => read(env, r));
  };
}

/** The same equations with other input binders (a permutation, or extra unused inputs) and outputs. */
function rebind(c: ClosedJaxpr, ins: Var[], outs: Atom[] = c.jaxpr.outs): ClosedJaxpr {
  return new ClosedJaxpr(new Jaxpr(c.jaxpr.constBinders, ins, c.jaxpr.eqns, outs), c.consts);
}

/** Drops the equations no output needs (a backward loop). */
function dce(j: Jaxpr): Jaxpr {
  const live = new Set<Var>();
  for (const a of j.outs) if (a instanceof Var) live.add(a);
  const kept: Eqn[] = [];
  for (let i = j.eqns.length - 1; i >= 0; i--) {
    const e = j.eqns[i];
    if (!e.outBinders.some((v) => live.has(v))) continue;
    kept.push(e);
    for (const a of e.inputs) if (a instanceof Var) live.add(a);
  }
  kept.reverse();
  return new Jaxpr(j.constBinders, j.inBinders, kept, j.outs);
}

/**
 * Whether a JVP rule must keep its primal computation apart from its tangent computation: when a
 * tangent is being staged (by linearize, or into a JVP jaxpr that will be split later), a
 * primitive taking primals and tangents together would stage the primal work too, leaving its
 * outputs abstract. Otherwise one loop carrying both is cheaper.
 */
const mustSplit = (tangents: readonly Tangent[]): boolean => tangents.some((t) => t instanceof JaxprTracer);

/**
 * The JVP of a closed jaxpr as a jaxpr: inputs are its primal inputs then the tangents of the
 * inputs flagged in `nonzeros`; outputs are its primal outputs then the tangents of the outputs
 * that are nonzero or flagged in `inst` (`outNz` says which). Integer values never carry tangents.
 */
export function jvpJaxpr(c: ClosedJaxpr, nonzeros: boolean[], inst: boolean[]): { jaxpr: ClosedJaxpr; outNz: boolean[] } {
  const avals = inAvals(c);
  const n = avals.length;
  const tanAvals = avals.filter((_, i) => nonzeros[i]).map((a) => a.strong());
  const outs = outAvals(c);
  let outNz: boolean[] = [];
  const jaxpr = traceToJaxpr("jvp", [...avals, ...tanAvals], (args) => {
    let k = n;
    const tangents = avals.map((a, i) => (nonzeros[i] ? args[k++] : new Zero(a.strong())));
    const [po, to] = jvpFlat((xs) => runJaxpr(c, xs), args.slice(0, n), tangents, "jvp");
    outNz = to.map((t, i) => isFloat(outs[i].dtype) && (!isZero(t) || inst[i]));
    return [...po, ...to.filter((_, i) => outNz[i]).map(instantiate)];
  });
  return { jaxpr, outNz };
}

/**
 * Splits a JVP jaxpr (primal inputs then tangent inputs -> primal outputs then tangent outputs)
 * into its primal part, which also returns the residuals the tangent part reads, and its tangent
 * part, which is linear in the tangents. This is what lets `linearize` run the primal computation
 * now and stage only the tangent computation (reverse mode then transposes the staged part).
 */
function splitJvp(c: ClosedJaxpr, nIn: number, nOut: number) {
  const j = c.jaxpr;
  const primalIns = j.inBinders.slice(0, nIn);
  const tanIns = j.inBinders.slice(nIn);
  const unknown = new Set<Var>(tanIns);
  const knownEqns: Eqn[] = [];
  const tanEqns: Eqn[] = [];
  for (const e of j.eqns) {
    if (e.inputs.some((a) => a instanceof Var && unknown.has(a))) {
      tanEqns.push(e);
      for (const v of e.outBinders) unknown.add(v);
    } else {
      knownEqns.push(e);
    }
  }
  const consts = new Set<Var>(j.constBinders);
  const residuals: Var[] = [];
  const seen = new Set<Var>();
  const need = (a: Atom): void => {
    if (a instanceof Var && !unknown.has(a) && !consts.has(a) && !seen.has(a)) {
      seen.add(a);
      residuals.push(a);
    }
  };
  for (const e of tanEqns) e.inputs.forEach(need);
  const primalOuts = j.outs.slice(0, nOut);
  const tanOuts = j.outs.slice(nOut);
  tanOuts.forEach(need);
  if (primalOuts.some((a) => a instanceof Var && unknown.has(a))) throw new Error("internal error: a primal output depends on a tangent");
  const known = (outs: Atom[], ins: Var[] = primalIns): ClosedJaxpr => new ClosedJaxpr(dce(new Jaxpr(j.constBinders, ins, knownEqns, outs)), c.consts);
  const tangentPart = (ins: Var[]): ClosedJaxpr => new ClosedJaxpr(dce(new Jaxpr(j.constBinders, ins, tanEqns, tanOuts)), c.consts);
  return { primalIns, tanIns, primalOuts, residuals, knownEqns, known, tangentPart };
}

/**
 * A closed jaxpr batched along axis 0 of the inputs flagged in `inB`: outputs are batched at axis
 * 0 when they depend on the batch or are flagged in `force` (`outB` says which).
 */
export function batchJaxpr(c: ClosedJaxpr, inB: boolean[], size: number, force: boolean[]): { jaxpr: ClosedJaxpr; outB: boolean[] } {
  const avals = inAvals(c).map((a, i) => (inB[i] ? new ShapedArray([size, ...a.shape], a.dtype, a.weakType) : a));
  let outB: boolean[] = [];
  const jaxpr = traceToJaxpr("vmap", avals, (args) =>
    withMain(
      "vmap",
      (main) => new BatchTrace(main, size),
      (main) => {
        const outs = runJaxpr(c, args.map((a, i) => new BatchTracer(main, a, inB[i] ? 0 : null)));
        outB = [];
        return outs.map((o, i) => {
          const [val, d] = o instanceof BatchTracer && o.main === main ? [o.val, o.bdim] : [o, null];
          if (d === null) {
            outB.push(force[i]);
            return force[i] ? broadcastBatch(val, size) : val;
          }
          outB.push(true);
          return moveBatchAxis(val, d, 0);
        });
      },
    ),
  );
  return { jaxpr, outB };
}

/** Transposes a jaxpr linear in the inputs flagged in `lin`: (other inputs, output cts) -> cts of those inputs. */
function transposeJaxpr(c: ClosedJaxpr, lin: boolean[], pre: ShapedArray[] = [], post: (pre: Tensor[], cts: Tangent[]) => Tensor[] = (_p, cts) => cts.map(instantiate)): ClosedJaxpr {
  const j = c.jaxpr;
  const res = j.inBinders.filter((_, i) => !lin[i]);
  const linear = j.inBinders.filter((_, i) => lin[i]);
  const re = new Jaxpr([...j.constBinders, ...res], linear, j.eqns, j.outs);
  const ctAvals = j.outs.map((a) => a.aval.strong());
  const avals = [...res.map((v) => v.aval), ...pre, ...ctAvals];
  return traceToJaxpr("transpose", avals, (args) => {
    const resVals = args.slice(0, res.length);
    const preVals = args.slice(res.length, res.length + pre.length);
    const cts = args.slice(res.length + pre.length);
    return post(preVals, backwardPass(re, [...c.consts, ...resVals], cts));
  });
}

function checkAvals(prim: string, what: string, got: readonly ShapedArray[], want: readonly ShapedArray[]): void {
  if (got.length !== want.length) throw new ShapeError(`${prim}: ${what}: expected ${want.length} values, got ${got.length}`);
  got.forEach((g, i) => {
    if (!sameShape(g.shape, want[i].shape)) throw new ShapeError(`${prim}: ${what} ${i} has shape ${fmtShape(g.shape)}, expected ${fmtShape(want[i].shape)}`);
    if (g.dtype !== want[i].dtype) throw new DTypeError(`${prim}: ${what} ${i} has dtype ${g.dtype}, expected ${want[i].dtype}`);
  });
}

/** One row of a stacked array (a view, no copy). */
function indexView(a: Arr, t: number): Arr {
  return view(a.data, a.shape.slice(1), a.stride.slice(1), a.offset + t * a.stride[0]);
}

export const clampIndex = (k: number, n: number): number => Math.min(Math.max(k, 0), n - 1);
function clampTensor(idx: Tensor, n: number): Tensor {
  return max(min(idx, full(idx.shape, n - 1, "int32")), full(idx.shape, 0, "int32"));
}

// ---------------------------------------------------------------------------------------------
// cond: inputs [index, ...operands]; runs branches[index] (the index is clamped, as in JAX).
// ---------------------------------------------------------------------------------------------

export type CondParams = { branches: ClosedJaxpr[] };

export const condP: Primitive<CondParams> = definePrimitive("cond", (self) => ({
  impl: ([index, ...ops], { branches }) => {
    const b = branches[clampIndex(readFlat(index, 0), branches.length)];
    const bs = b.jaxpr.inBinders;
    return runJaxpr(b, ops.map((o, i) => new ArrayTensor(o, bs[i].aval))).map(arrOf);
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
    if (!mustSplit(tIn)) {
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
        return new ClosedJaxpr(new Jaxpr([...known.jaxpr.constBinders, ...zeros], known.jaxpr.inBinders, known.jaxpr.eqns, outs), [...known.consts, ...zeroVals]);
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

  transpose: (cts, [index, ...ops], { branches }) => {
    if (index instanceof UndefPrimal) throw new Error("internal error: cond's index cannot be linear");
    const lin = ops.map((o) => o instanceof UndefPrimal);
    const res = ops.filter((o, i) => !lin[i]) as Tensor[];
    const transposed = branches.map((b) => transposeJaxpr(b, lin));
    const outs = bind(self, [index, ...res, ...cts.map(instantiate)], { branches: transposed });
    let k = 0;
    return [null, ...lin.map((l) => (l ? outs[k++] : null))];
  },

  batch: (args, dims, { branches }) => {
    const size = batchSize(args, dims);
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
    const results = branches.map((b) => vmapFlat((xs) => runJaxpr(b, xs), ops, dops, () => 0, size));
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
}));

// ---------------------------------------------------------------------------------------------
// while: inputs [...condConsts, ...bodyConsts, ...init]; runs body while cond holds.
// ---------------------------------------------------------------------------------------------

export type WhileParams = { condJaxpr: ClosedJaxpr; bodyJaxpr: ClosedJaxpr; condNconsts: number; bodyNconsts: number };

export const WHILE_REVERSE_MESSAGE =
  "reverse-mode differentiation of lax.whileLoop is not supported: its number of iterations is only known when it runs, " +
  "so the values of its iterations are not stored (as in JAX). Use lax.foriLoop with static (concrete) bounds or lax.scan, " +
  "which are reverse-differentiable, or forward mode (jvp, jacfwd)";

export const whileP: Primitive<WhileParams> = definePrimitive("while", (self) => ({
  impl: (args, { condJaxpr, bodyJaxpr, condNconsts: nc, bodyNconsts: nb }) => {
    const cb = condJaxpr.jaxpr.inBinders, bb = bodyJaxpr.jaxpr.inBinders;
    const cc = args.slice(0, nc).map((a, i) => new ArrayTensor(a, cb[i].aval));
    const bc = args.slice(nc, nc + nb).map((a, i) => new ArrayTensor(a, bb[i].aval));
    let carry: Tensor[] = args.slice(nc + nb).map((a, i) => new ArrayTensor(a, bb[nb + i].aval));
    while (readFlat(arrOf(runJaxpr(condJaxpr, [...cc, ...carry])[0]), 0) !== 0) carry = runJaxpr(bodyJaxpr, [...bc, ...carry]);
    return carry.map(arrOf);
  },

  abstractEval: (avals, { condJaxpr, bodyJaxpr, condNconsts: nc, bodyNconsts: nb }) => {
    const carry = avals.slice(nc + nb);
    checkAvals("while", "input of cond_jaxpr", [...avals.slice(0, nc), ...carry], inAvals(condJaxpr));
    checkAvals("while", "input of body_jaxpr", avals.slice(nc), inAvals(bodyJaxpr));
    checkAvals("while", "output of body_jaxpr", outAvals(bodyJaxpr), carry);
    const p = outAvals(condJaxpr);
    if (p.length !== 1 || p[0].ndim !== 0 || p[0].dtype !== "bool") throw new DTypeError(`while: cond_jaxpr must return one bool scalar, got ${p.map((a) => a.str()).join(", ")}`);
    return inAvals(bodyJaxpr).slice(nb);
  },

  jvp: (primals, tangents, params) => {
    const { condJaxpr, bodyJaxpr, condNconsts: nc, bodyNconsts: nb } = params;
    const bc = primals.slice(nc, nc + nb), init = primals.slice(nc + nb);
    const tbc = tangents.slice(nc, nc + nb), tinit = tangents.slice(nc + nb);
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
    const n = init.length, ntb = count(bcNz);
    const ins = jv.jaxpr.jaxpr.inBinders;
    const body = rebind(jv.jaxpr, [...ins.slice(0, nb), ...ins.slice(nb + n, nb + n + ntb), ...ins.slice(nb, nb + n), ...ins.slice(nb + n + ntb)]);
    const tanAvals = init.filter((_, i) => carryNz[i]).map((x) => x.aval.strong());
    const cond = rebind(condJaxpr, [...condJaxpr.jaxpr.inBinders, ...tanAvals.map((a) => new Var(a))]);
    const tIn = [...(tbc.filter((_, i) => bcNz[i]) as Tensor[]), ...tinit.filter((_, i) => carryNz[i]).map(instantiate)];
    const args = [...primals.slice(0, nc + nb), ...tIn.slice(0, ntb), ...init, ...tIn.slice(ntb)];
    const joint = { condJaxpr: cond, bodyJaxpr: body, condNconsts: nc, bodyNconsts: nb + ntb };
    let po: Tensor[], to: Tensor[];
    if (!mustSplit(tIn)) {
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

  transpose: () => {
    throw new JacobiError(WHILE_REVERSE_MESSAGE);
  },

  batch: (args, dims, params) => {
    const { condJaxpr, bodyJaxpr, condNconsts: nc, bodyNconsts: nb } = params;
    const size = batchSize(args, dims);
    const isB = dims.map((d) => d !== null);
    const ccB = isB.slice(0, nc), bcB = isB.slice(nc, nc + nb);
    let carryB = isB.slice(nc + nb);
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
      if (i >= nc + nb && carryB[i - nc - nb] && d === null) return broadcastBatch(a, size);
      return d === null ? a : moveBatchAxis(a, d, 0);
    });
    if (!bCond.outB[0]) {
      const outs = bind(self, moved, { condJaxpr: bCond.jaxpr, bodyJaxpr: bBody.jaxpr, condNconsts: nc, bodyNconsts: nb });
      return [outs, carryB.map((b) => (b ? 0 : null))];
    }
    // A batched predicate: loop while any example's predicate holds; the others keep their carry.
    const ccAvals = inAvals(bCond.jaxpr).slice(0, nc);
    const bodyAvals = inAvals(bBody.jaxpr);
    const anyCond = traceToJaxpr("vmap", [...ccAvals, ...bodyAvals.slice(nb)], (a) => {
      const p = runJaxpr(bCond.jaxpr, a)[0];
      return [gt(reduceMax(convertElementType(p, "int32"), [0]), full([], 0, "int32"))];
    });
    const maskedBody = traceToJaxpr("vmap", [...ccAvals, ...bodyAvals], (a) => {
      const cc = a.slice(0, nc), bc = a.slice(nc, nc + nb), carry = a.slice(nc + nb);
      const p = runJaxpr(bCond.jaxpr, [...cc, ...carry])[0];
      return runJaxpr(bBody.jaxpr, [...bc, ...carry]).map((x, i) => select(broadcastInDim(p, carry[i].shape, [0]), x, carry[i]));
    });
    const cc = moved.slice(0, nc);
    const outs = bind(self, [...cc, ...cc, ...moved.slice(nc)], { condJaxpr: anyCond, bodyJaxpr: maskedBody, condNconsts: nc, bodyNconsts: nc + nb });
    return [outs, outs.map(() => 0)];
  },
}));

// ---------------------------------------------------------------------------------------------
// scan: inputs [...consts, ...init, ...xs]; body (consts, carry, x) -> (carry, y); outputs
// [...carry, ...ys] with the ys stacked along a new leading axis of `length`.
// ---------------------------------------------------------------------------------------------

export type ScanParams = { jaxpr: ClosedJaxpr; length: number; reverse: boolean; numConsts: number; numCarry: number };

export const scanP: Primitive<ScanParams> = definePrimitive("scan", (self) => ({
  impl: (args, { jaxpr, length, reverse, numConsts: nc, numCarry: ncar }, avalsOut) => {
    const bs = jaxpr.jaxpr.inBinders;
    const consts = args.slice(0, nc).map((a, i) => new ArrayTensor(a, bs[i].aval));
    let carry: Tensor[] = args.slice(nc, nc + ncar).map((a, i) => new ArrayTensor(a, bs[nc + i].aval));
    const xs = args.slice(nc + ncar);
    const xAvals = bs.slice(nc + ncar).map((v) => v.aval);
    const ys = avalsOut.slice(ncar).map((a) => empty(a.shape, a.dtype));
    // An iterative loop: a long scan never deepens the JS stack.
    for (let i = 0; i < length; i++) {
      const t = reverse ? length - 1 - i : i;
      const outs = runJaxpr(jaxpr, [...consts, ...carry, ...xs.map((x, j) => new ArrayTensor(indexView(x, t), xAvals[j]))]);
      carry = outs.slice(0, ncar);
      for (let j = 0; j < ys.length; j++) assignInto(indexView(ys[j], t), arrOf(outs[ncar + j]));
    }
    return [...carry.map(arrOf), ...ys];
  },

  abstractEval: (avals, { jaxpr, length, numConsts: nc, numCarry: ncar }) => {
    if (!Number.isInteger(length) || length < 0) throw new ShapeError(`scan: length must be a non-negative integer, got ${length}`);
    const bs = inAvals(jaxpr);
    const xs = avals.slice(nc + ncar);
    xs.forEach((x, i) => {
      if (x.ndim === 0 || x.shape[0] !== length) throw new ShapeError(`scan: xs ${i} has shape ${fmtShape(x.shape)}, but its leading axis must be the scan length ${length}`);
    });
    const perStep = [...avals.slice(0, nc + ncar), ...xs.map((x) => new ShapedArray(x.shape.slice(1), x.dtype, x.weakType))];
    checkAvals("scan", "input of jaxpr", perStep, bs);
    const outs = outAvals(jaxpr);
    const carry = bs.slice(nc, nc + ncar);
    checkAvals("scan", "carry output of jaxpr", outs.slice(0, ncar), carry);
    return [...carry, ...outs.slice(ncar).map((y) => new ShapedArray([length, ...y.shape], y.dtype, y.weakType))];
  },

  jvp: (primals, tangents, params) => {
    const { jaxpr, numConsts: nc, numCarry: ncar } = params;
    const nIn = primals.length, nx = nIn - nc - ncar;
    const nOut = outAvals(jaxpr).length, ny = nOut - ncar;
    const nz = tangents.map((t, i) => !isZero(t) && isFloat(primals[i].dtype));
    const constNz = nz.slice(0, nc), xsNz = nz.slice(nc + ncar);
    let carryNz = nz.slice(nc, nc + ncar);
    const noYs = new Array<boolean>(ny).fill(false);
    let jv = jvpJaxpr(jaxpr, [...constNz, ...carryNz, ...xsNz], [...carryNz, ...noYs]);
    while (!same(jv.outNz.slice(0, ncar), carryNz)) {
      carryNz = carryNz.map((v, i) => v || jv.outNz[i]);
      jv = jvpJaxpr(jaxpr, [...constNz, ...carryNz, ...xsNz], [...carryNz, ...noYs]);
    }
    const yNz = jv.outNz.slice(ncar);
    if (!carryNz.some(Boolean) && !yNz.some(Boolean)) {
      const outs = bind(self, primals, params);
      return [outs, outs.map((o) => new Zero(o.aval.strong()))];
    }
    const tC = tangents.slice(0, nc).filter((_, i) => constNz[i]) as Tensor[];
    const tCarry = tangents.slice(nc, nc + ncar).filter((_, i) => carryNz[i]).map(instantiate);
    const tX = tangents.slice(nc + ncar).filter((_, i) => xsNz[i]) as Tensor[];
    const ntc = tC.length, ntcar = tCarry.length, ntx = tX.length, nty = count(yNz);
    const consts = primals.slice(0, nc), init = primals.slice(nc, nc + ncar), xs = primals.slice(nc + ncar);
    let po: Tensor[], to: Tensor[];
    if (!mustSplit([...tC, ...tX, ...tCarry])) {
      // One scan carrying primals and tangents together.
      const ins = jv.jaxpr.jaxpr.inBinders, outs = jv.jaxpr.jaxpr.outs;
      const at = (start: number, n: number) => range(start, start + n);
      const inOrder = [...at(0, nc), ...at(nIn, ntc), ...at(nc, ncar), ...at(nIn + ntc, ntcar), ...at(nc + ncar, nx), ...at(nIn + ntc + ntcar, ntx)];
      const outOrder = [...at(0, ncar), ...at(nOut, ntcar), ...at(ncar, ny), ...at(nOut + ntcar, nty)];
      const body = rebind(jv.jaxpr, pick(ins, inOrder), pick(outs, outOrder));
      const r = bind(self, [...consts, ...tC, ...init, ...tCarry, ...xs, ...tX], { ...params, jaxpr: body, numConsts: nc + ntc, numCarry: ncar + ntcar });
      po = [...r.slice(0, ncar), ...r.slice(ncar + ntcar, ncar + ntcar + ny)];
      to = [...r.slice(ncar, ncar + ntcar), ...r.slice(ncar + ntcar + ny)];
    } else {
      // Linearize: a primal scan that also stacks the residuals of every step, then a linear
      // tangent scan over those residuals (which reverse mode transposes into a backward scan).
      const s = splitJvp(jv.jaxpr, nIn, nOut);
      const constBs = s.primalIns.slice(0, nc);
      const xsBs = s.primalIns.slice(nc + ncar);
      const variant = new Set<Var>(s.primalIns.slice(nc));
      for (const e of s.knownEqns) if (e.inputs.some((a) => a instanceof Var && variant.has(a))) for (const v of e.outBinders) variant.add(v);
      const xsIndex = new Map(xsBs.map((v, i) => [v, i]));
      const fwd: Var[] = [], inv: Var[] = [], stacked: Var[] = [];
      for (const r of s.residuals) (xsIndex.has(r) ? fwd : variant.has(r) ? stacked : inv).push(r);
      // Residuals that do not change between steps (weights, functions of them) are computed once.
      const invVals = inv.length === 0 ? [] : runJaxpr(s.known(inv, constBs), consts);
      const known = s.known([...s.primalOuts, ...stacked]);
      const r = bind(self, primals, { ...params, jaxpr: known });
      po = r.slice(0, nOut);
      const stackedVals = r.slice(nOut);
      const tIns = s.tanIns;
      const tanBody = s.tangentPart([...inv, ...tIns.slice(0, ntc), ...tIns.slice(ntc, ntc + ntcar), ...stacked, ...fwd, ...tIns.slice(ntc + ntcar)]);
      to = bind(self, [...invVals, ...tC, ...tCarry, ...stackedVals, ...fwd.map((v) => xs[xsIndex.get(v) as number]), ...tX], {
        ...params,
        jaxpr: tanBody,
        numConsts: inv.length + ntc,
        numCarry: ntcar,
      });
    }
    const nzOut = [...carryNz, ...yNz];
    let k = 0;
    return [po, po.map((p, i) => (nzOut[i] ? to[k++] : new Zero(p.aval.strong())))];
  },

  transpose: (cts, args, { jaxpr, length, reverse, numConsts: nc, numCarry: ncar }) => {
    // Consts and xs split into residuals (known) and linear inputs; every carry is linear.
    const isLin = (i: number): boolean => args[i] instanceof UndefPrimal;
    const constIdx = range(0, nc), carryIdx = range(nc, nc + ncar), xsIdx = range(nc + ncar, args.length);
    const resC = constIdx.filter((i) => !isLin(i)), linC = constIdx.filter(isLin);
    const resX = xsIdx.filter((i) => !isLin(i)), linX = xsIdx.filter(isLin);
    const bs = jaxpr.jaxpr.inBinders;
    const order = [...resC, ...resX, ...linC, ...carryIdx, ...linX];
    const lin = order.map((_, k) => k >= resC.length + resX.length);
    const perm = rebind(jaxpr, pick(bs, order));
    const linCAvals = pick(bs, linC).map((v) => v.aval.strong());
    const nResC = resC.length, nLinC = linC.length;
    // The transposed body: consts are the const residuals, the carry is the accumulated const
    // cotangents and the carry cotangent, xs are the xs residuals and the ys cotangents.
    const t = transposeJaxpr(perm, lin, linCAvals, (acc, ct) => [
      ...acc.map((a, i) => instantiate(addTangents(a, ct[i]))),
      ...ct.slice(nLinC).map(instantiate),
    ]);
    // transposeJaxpr orders inputs (resC, resX, acc, ctCarry, ctY); the scan needs (resC, acc, ctCarry, resX, ctY).
    const ti = t.jaxpr.inBinders;
    const nResX = resX.length;
    const body = rebind(t, [...ti.slice(0, nResC), ...ti.slice(nResC + nResX, nResC + nResX + nLinC + ncar), ...ti.slice(nResC, nResC + nResX), ...ti.slice(nResC + nResX + nLinC + ncar)]);
    const ctsI = cts.map(instantiate);
    const outs = bind(
      self,
      [...(pick(args, resC) as Tensor[]), ...linCAvals.map((a) => zerosLike({ aval: a })), ...ctsI.slice(0, ncar), ...(pick(args, resX) as Tensor[]), ...ctsI.slice(ncar)],
      { jaxpr: body, length, reverse: !reverse, numConsts: nResC, numCarry: nLinC + ncar },
    );
    const res: (Tensor | null)[] = args.map(() => null);
    linC.forEach((i, k) => (res[i] = outs[k]));
    carryIdx.forEach((i, k) => (res[i] = isLin(i) ? outs[nLinC + k] : null));
    linX.forEach((i, k) => (res[i] = outs[nLinC + ncar + k]));
    return res;
  },

  batch: (args, dims, params) => {
    const { jaxpr, numConsts: nc, numCarry: ncar } = params;
    const size = batchSize(args, dims);
    const isB = dims.map((d) => d !== null);
    const constB = isB.slice(0, nc), xsB = isB.slice(nc + ncar);
    let carryB = isB.slice(nc, nc + ncar);
    const ny = outAvals(jaxpr).length - ncar;
    const force = () => [...carryB, ...new Array<boolean>(ny).fill(false)];
    let bj = batchJaxpr(jaxpr, [...constB, ...carryB, ...xsB], size, force());
    while (!same(bj.outB.slice(0, ncar), carryB)) {
      carryB = carryB.map((b, i) => b || bj.outB[i]);
      bj = batchJaxpr(jaxpr, [...constB, ...carryB, ...xsB], size, force());
    }
    const moved = args.map((a, i) => {
      const d = dims[i];
      if (i < nc) return d === null ? a : moveBatchAxis(a, d, 0);
      if (i < nc + ncar) return !carryB[i - nc] ? a : d === null ? broadcastBatch(a, size) : moveBatchAxis(a, d, 0);
      // xs keep the scan axis first, so one step's slice has its batch axis at 0.
      return d === null ? a : moveBatchAxis(a, d, 1);
    });
    const outs = bind(self, moved, { ...params, jaxpr: bj.jaxpr });
    const outDims: BatchDim[] = [...carryB.map((b) => (b ? 0 : null)), ...bj.outB.slice(ncar).map((b) => (b ? 1 : null))];
    return [outs, outDims];
  },
}));
