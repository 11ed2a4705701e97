// Forward mode: the trace that carries a tangent with every value, and the JVP of a jaxpr.
import { isAllZero } from "../backend/index.js";
import { isFloat } from "../core/dtype.js";
import { JacobiError } from "../core/errors.js";
import { Label } from "../core/label.js";
import { type Params, type Primitive, type Tangent, Zero } from "../core/primitive.js";
import type { ShapedArray } from "../core/shaped-array.js";
import { type Tensor, Tracer } from "../core/tensor.js";
import { type CustomCallParams, type MainTrace, type Trace, bind, checkOutputsLive, withMain } from "../core/trace.js";
import type { ClosedJaxpr } from "../ir/jaxpr.js";
import { addTangents } from "./add-any.js";
import { type CustomJvpParams, type CustomLinParams, type CustomVjpParams, type FlatBwd, type FlatFwd, type LinBwd, avalsLabel, customLinP } from "./custom-rules.js";
import { evalJaxpr } from "./eval.js";
import { traceToJaxpr } from "./staging.js";
import { instantiate, isZero, zeroTangents, zerosLike } from "./zeros.js";

/** A primal value with its tangent (forward mode); its concrete value is the primal's. */
export class JvpTracer extends Tracer {
  constructor(
    readonly main: MainTrace,
    readonly primal: Tensor,
    readonly tangent: Tangent,
  ) {
    super();
  }
  get aval(): ShapedArray {
    return this.primal.aval;
  }
  concrete() {
    return this.primal.concrete();
  }
  protected override wrapped(): Tensor {
    return this.primal;
  }
}

export class JvpTrace implements Trace {
  readonly staging = false;
  constructor(readonly main: MainTrace) {}

  lift(x: Tensor): JvpTracer {
    if (x instanceof JvpTracer && x.main === this.main) return x;
    return new JvpTracer(this.main, x, new Zero(x.aval.strong()));
  }

  /** The primals and tangents of `args`, values from below getting zero tangents; `allZero` when no tangent is nonzero. */
  private unpack(args: Tensor[]): { primals: Tensor[]; tangents: Tangent[]; allZero: boolean } {
    // Loops rather than map/every: this runs once per operation under every derivative.
    const n = args.length;
    const primals = new Array<Tensor>(n);
    const tangents = new Array<Tangent>(n);
    let allZero = true;
    for (let i = 0; i < n; i++) {
      // What lift does, without wrapping a constant in a tracer only to unwrap it.
      const a = args[i];
      if (a instanceof JvpTracer && a.main === this.main) {
        primals[i] = a.primal;
        tangents[i] = a.tangent;
        if (!isZero(a.tangent)) allZero = false;
      } else {
        primals[i] = a;
        tangents[i] = new Zero(a.aval.strong());
      }
    }
    return { primals, tangents, allZero };
  }

  private wrap(po: Tensor[], to: Tangent[]): Tensor[] {
    const outs = new Array<Tensor>(po.length);
    for (let i = 0; i < po.length; i++) outs[i] = new JvpTracer(this.main, po[i], to[i]);
    return outs;
  }

  processPrimitive(prim: Primitive<any>, args: Tensor[], params: Params): Tensor[] {
    const { primals, tangents, allZero } = this.unpack(args);
    if (allZero) {
      const po = bind(prim, primals, params);
      return this.wrap(po, zeroTangents(po));
    }
    if (!prim.jvp) throw new JacobiError(`differentiation of ${prim.name} in forward mode is not supported (it has no jvp rule)`);
    const [po, to] = prim.jvp(primals, tangents, params);
    return this.wrap(po, to);
  }

  /**
   * A customJvp call does not run the function: the rule gives the outputs and their tangents.
   * Without tangents the call is bound again below, so its rule stays for a later differentiation.
   */
  processCustomJvpCall(prim: Primitive<any>, args: Tensor[], params: CustomCallParams): Tensor[] {
    const p = params as CustomJvpParams;
    return this.customCall(prim, args, p, (xs, dxs) => {
      const where = `customJvp (${p.name})`;
      const [po, to] = p.jvp.value(xs, dxs.map(instantiate));
      return [this.ownLevelOut(where, p, po), floatTangents(po, this.ownLevelOut(where, p, to))];
    });
  }

  /**
   * A customVjp call runs `fwd` now; the output tangents come from a `custom_lin` equation, linear
   * in the input tangents, whose transpose calls `bwd`. Reverse mode transposes it; anything that
   * evaluates it forward is forward mode, which throws.
   */
  processCustomVjpCall(prim: Primitive<any>, args: Tensor[], params: CustomCallParams): Tensor[] {
    const p = params as CustomVjpParams;
    const fwd: FlatFwd = (xs) => {
      const [outs, res] = p.fwd.value(xs);
      return [this.ownLevelOut(`customVjp (${p.name})`, p, outs), this.ownLevelOut(`customVjp (${p.name})`, p, res)];
    };
    return this.customCall(prim, args, p, (xs, dxs) => vjpAsJvp(p.name, fwd, p.bwd.value, xs, dxs));
  }

  private customCall(
    prim: Primitive<any>,
    args: Tensor[],
    p: CustomJvpParams | CustomVjpParams,
    rule: (xs: Tensor[], dxs: Tangent[]) => [Tensor[], Tangent[]],
  ): Tensor[] {
    const { primals, tangents } = this.unpack(args);
    const n = p.numConsts;
    const dxs = tangents.slice(n);
    let po: Tensor[], to: Tangent[];
    if (dxs.every(isZero)) {
      po = bind(prim, primals, p);
      to = zeroTangents(po);
    } else {
      [po, to] = rule(primals.slice(n), dxs);
    }
    // Values the function closed over are differentiated through the function itself.
    const dcs = tangents.slice(0, n);
    if (!dcs.every(isZero)) {
      const xs = primals.slice(n);
      const [, extra] = jvpFlat((cs) => p.fun.value([...cs, ...xs]), primals.slice(0, n), dcs, "custom rule (closed-over values)");
      to = to.map((t, i) => addTangents(t, extra[i]));
    }
    return this.wrap(po, to);
  }

  /**
   * A rule's results that are tracers of this very level depend on a value this level
   * differentiates that is not an argument: the rule closes over it. A staged call (closed-over
   * values hoisted into `numConsts` leading inputs) differentiates those values through the
   * function itself, so here the rule's own dependence is dropped (its primal is kept); an unstaged
   * call cannot, and mixing levels would be perturbation confusion, so it throws.
   */
  private ownLevelOut(where: string, p: { numConsts: number }, xs: Tensor[]): Tensor[] {
    return xs.map((x) => {
      if (!(x instanceof JvpTracer && x.main === this.main)) return x;
      if (p.numConsts > 0) return x.primal;
      throw new JacobiError(
        `${where}: the rule's result depends on a value that ${this.main.transform} differentiates but that is not an argument ` +
          `(the function or its rule closes over it); pass that value as an argument instead`,
      );
    });
  }
}

/** A JVP rule's tangents, with those of non-float outputs replaced by symbolic zeros (they have no derivative). */
const floatTangents = (po: Tensor[], to: Tangent[]): Tangent[] => to.map((t, i) => (isFloat(po[i].dtype) ? t : new Zero(po[i].aval.strong())));

/** A concrete tangent that is zero everywhere: a rule upstream returned it, and it asks for no derivative. */
function concreteZero(t: Tensor): boolean {
  const a = t.concrete();
  return a !== null && isAllZero(a);
}

/**
 * The JVP of a customVjp function: `fwd` runs now, and the output tangents come from a
 * `custom_lin` equation, linear in the input tangents, whose transpose calls `bwd`.
 */
function vjpAsJvp(name: string, fwd: FlatFwd, bwd: FlatBwd, ps: Tensor[], ts: Tangent[]): [Tensor[], Tangent[]] {
  const linAt: number[] = [];
  ts.forEach((t, i) => {
    if (!isZero(t) && isFloat(ps[i].dtype) && !concreteZero(t)) linAt.push(i);
  });
  const [outs, res] = fwd(ps);
  const floatOut = outs.flatMap((o, j) => (isFloat(o.dtype) ? [j] : []));
  const to = zeroTangents(outs);
  if (linAt.length === 0 || floatOut.length === 0) return [outs, to];
  const outAvals = outs.map((o) => o.aval.strong());
  const linBwd: LinBwd = (r, cts) => {
    const full = outAvals.map((a) => zerosLike({ aval: a }));
    floatOut.forEach((j, k) => (full[j] = cts[k]));
    const all = bwd(r, full);
    return linAt.map((i) => all[i]);
  };
  const params: CustomLinParams = { name, numRes: res.length, bwd: new Label(linBwd, `${name}_bwd`), outAvals: avalsLabel(floatOut.map((j) => outAvals[j])) };
  const tOut = bind(customLinP, [...res, ...linAt.map((i) => ts[i] as Tensor)], params);
  floatOut.forEach((j, k) => (to[j] = tOut[k]));
  return [outs, to];
}

/**
 * Pushes a JVP level, runs `f` on tracers pairing `primals` with `tangents`, and returns the
 * output primals and tangents (Zero where an output does not depend on the inputs).
 */
export function jvpFlat(f: (xs: Tensor[]) => Tensor[], primals: Tensor[], tangents: Tangent[], transform = "jvp"): [Tensor[], Tangent[]] {
  return withMain(
    transform,
    (main) => new JvpTrace(main),
    (trace, main) => {
      const ins = primals.map((p, i) => new JvpTracer(main, p, tangents[i]));
      const outs = f(ins);
      // An output that never went through bind has not been checked: lift would wrap a dead
      // inner tracer as a constant with a silently zero tangent.
      checkOutputsLive(outs);
      const lifted = outs.map((o) => trace.lift(o));
      return [lifted.map((o) => o.primal), lifted.map((o) => o.tangent)];
    },
  );
}

/**
 * The JVP of a closed jaxpr as a jaxpr: inputs are its primal inputs then the tangents of the
 * inputs flagged in `nonzeros`; outputs are its primal outputs then the tangents of the outputs
 * that are nonzero or flagged in `inst` (`outNz` says which). Integer values never carry tangents.
 */
export function jvpJaxpr(c: ClosedJaxpr, nonzeros: readonly boolean[], inst: readonly boolean[]): { jaxpr: ClosedJaxpr; outNz: boolean[] } {
  const avals = c.jaxpr.inBinders.map((v) => v.aval);
  const n = avals.length;
  const tanAvals = avals.filter((_, i) => nonzeros[i]).map((a) => a.strong());
  const outs = c.jaxpr.outs.map((a) => a.aval);
  let outNz: boolean[] = [];
  const jaxpr = traceToJaxpr("jvp", [...avals, ...tanAvals], (args) => {
    let k = n;
    const tangents = avals.map((a, i) => (nonzeros[i] ? args[k++] : new Zero(a.strong())));
    const [po, to] = jvpFlat((xs) => evalJaxpr(c.jaxpr, c.consts, xs), args.slice(0, n), tangents, "jvp");
    outNz = to.map((t, i) => isFloat(outs[i].dtype) && (!isZero(t) || inst[i]));
    return [...po, ...to.filter((_, i) => outNz[i]).map(instantiate)];
  });
  return { jaxpr, outNz };
}

/**
 * Whether a JVP rule must keep its primal computation apart from its tangent computation: when a
 * tangent is being staged (by linearize, or into a JVP jaxpr that will be split later), a
 * primitive taking primals and tangents together would stage the primal work too, leaving its
 * outputs abstract. Otherwise one loop carrying both is cheaper.
 */
export const tangentsStaged = (tangents: readonly Tangent[]): boolean => tangents.some((t) => t instanceof Tracer && t.main.trace.staging);
