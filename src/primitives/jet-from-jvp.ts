// The Taylor-mode rule every primitive has for free: the one its JVP rule implies.
import { isFloat } from "../core/dtype.js";
import { type Primitive, type Tangent, Zero } from "../core/primitive.js";
import type { Tensor } from "../core/tensor.js";
import { bind } from "../core/trace.js";
import { type JetRule, jetFlat } from "../interpreters/jet.js";
import { jvpFlat } from "../interpreters/jvp.js";
import { instantiate } from "../interpreters/zeros.js";
import { markZero, scale } from "./jet-series.js";
import { fullLike } from "./util.js";

/**
 * The jet rule implied by `prim`'s JVP rule, for primitives without a closed-form recurrence.
 *
 * Why it is right (Griewank & Walther, *Evaluating Derivatives*, ch. 13, Taylor arithmetic on the
 * ODE y' = f'(x) x'): with the input path x(t) = Σ_k x_k t^k (coefficients x_k, k = 0..K), the
 * output y(t) = f(x(t)) satisfies dy/dt = g(t) with g(t) = jvp_f(x(t), x'(t)), the JVP at the
 * point x(t) along x'(t) = Σ_j (j+1) x_{j+1} t^j. Matching the coefficients of t^{k-1} in
 * y' = g gives k y_k = g_{k-1}, so y_1..y_K need g only to order K-1: a jet of order K-1 of the
 * JVP rule, with primals x_0 and x_1 (= x'(0)) and series x_1..x_{K-1} and (j+1) x_{j+1}. Order
 * 1 is one JVP. Inputs with no series (constants) and non-float inputs (indices, predicates) get
 * Zero tangents, so a rule that is not differentiable in an argument (it throws, or gives Zero)
 * behaves under jet exactly as under jvp.
 *
 * What it costs: the JVP rule runs once per order, each time under a jet one order lower, where
 * the primitives it binds run their own rules. When the JVP binds `prim` itself (most do, for the
 * primal output), that inner rule is this one again, one order lower: a chain of K nested jets,
 * each running the JVP's tangent arithmetic at its order with closed-form (O(k^2)) rules, so the
 * total is polynomial in K (about K^3 products for a JVP made of products and closed-form
 * primitives) — slower than a closed-form recurrence's K^2, and fine for the low orders jet
 * serves. It is exponential (2^K) when the JVP binds two primitives that both use this rule and
 * whose JVPs bind both again: sin and cos would, were neither closed-form (measured at K = 10 on
 * 1000 points: 11 ms closed-form, 52 ms with sin generic, 405 ms with both), which is why the
 * elementary functions have recurrences of their own; none of the primitives given this rule
 * forms such a pair.
 *
 * The nested jet runs with `ruleOf`, the lookup of the jet that called this rule, so primitives
 * with rules of the transform level (checkpoint, control flow) keep theirs inside.
 */
export function jetFromJvp(prim: Primitive<any>): JetRule {
  return (primals, series, params, ruleOf) => {
    const n = primals.length;
    const varying = primals.flatMap((x, i) => (series[i] !== null && isFloat(x.dtype) ? [i] : []));
    const order = (series[varying[0]] as Tensor[]).length;
    // Which outputs the JVP gives a Zero tangent: their series is null (all zero).
    let zeroOut: boolean[] = [];
    // The JVP rule as a function of the primals and the varying inputs' tangents: its primal
    // outputs then its tangent outputs.
    const g = (args: Tensor[]): Tensor[] => {
      const xs = args.slice(0, n);
      const ts: Tangent[] = xs.map((x) => new Zero(x.aval.strong()));
      varying.forEach((i, j) => (ts[i] = args[n + j]));
      const [po, to] = jvpFlat((ys) => bind(prim, ys, params), xs, ts, `jet (the JVP of ${prim.name})`);
      zeroOut = to.map((t) => t instanceof Zero);
      return [...po, ...to.map(instantiate)];
    };
    const v0 = varying.map((i) => (series[i] as Tensor[])[0]);
    let outs: Tensor[], gs: (Tensor[] | null)[];
    if (order === 1) {
      outs = g([...primals, ...v0]);
      gs = outs.map(() => []);
    } else {
      // x(t) to order K-1 for the primals; x'(t) to order K-1 for the tangents.
      const xSeries = series.map((s, i) => (varying.includes(i) ? (s as Tensor[]).slice(0, order - 1) : null));
      const vSeries = varying.map((i) => (series[i] as Tensor[]).slice(1).map((c, j) => scale(c, j + 2)));
      [outs, gs] = jetFlat(g, [...primals, ...v0], [...xSeries, ...vSeries], ruleOf);
    }
    const m = outs.length / 2;
    const ys = zeroOut.map((zero, j) => {
      if (zero) return null;
      const g0 = outs[m + j];
      // g's series is null when the tangent came out constant along the path (zero terms).
      const higher = gs[m + j] ?? Array.from({ length: order - 1 }, () => markZero(fullLike(g0, 0)));
      return [g0, ...higher.map((c, k) => scale(c, 1 / (k + 2)))];
    });
    return [outs.slice(0, m), ys];
  };
}
