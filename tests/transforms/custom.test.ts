// customJvp and customVjp: the user's rules are what every transformation uses (forward, reverse,
// nested, batched, staged), with clear errors for rules that return the wrong things.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  DTypeError,
  JacobiError,
  ShapeError,
  type Tensor,
  TreeError,
  checkGrads,
  checkpoint,
  customJvp,
  customVjp,
  grad,
  hessian,
  jacfwd,
  jacrev,
  jvp,
  linearize,
  makeJaxpr,
  np,
  valueAndGrad,
  vjp,
  vmap,
} from "../../src/index.js";
import { UndefPrimal } from "../../src/core/primitive.js";
import { ShapedArray } from "../../src/core/shaped-array.js";
import { Label } from "../../src/core/label.js";
import { avalsLabel, customLinP } from "../../src/interpreters/custom-rules.js";
import { guardTraceState } from "../guard.js";
import { close, throwsWith } from "../helpers.js";

guardTraceState(test);

const { sin, cos } = Math;

// ---------- customJvp: a numerically stable rule ----------

// JAX's example: log(1 + e^x) differentiated by the chain rule gives inf/inf = NaN at large x;
// the rule 1 - 1/(1 + e^x) stays finite.
const log1pexp = customJvp((x: Tensor) => np.log(np.add(1, np.exp(x))));
log1pexp.defjvp(([x]: Tensor[], [t]: Tensor[]) => [log1pexp(x), np.multiply(np.subtract(1, np.divide(1, np.add(1, np.exp(x)))), t)]);
const naive = (x: Tensor) => np.log(np.add(1, np.exp(x)));

test("customJvp: the stable rule gives finite gradients where the chain rule gives NaN", () => {
  close(grad(naive)(1000), NaN, 0, "naive grad");
  close(grad(log1pexp)(1000), 1, 0, "grad at 1000");
  close(grad(log1pexp)(0), 0.5, 0, "grad at 0");
  close(grad(log1pexp)(-1000), 0, 0, "grad at -1000");
  close(jvp(log1pexp, [1000], [3])[1], 3, 0, "jvp tangent at 1000");
  close(log1pexp(0), Math.log(2), 1e-15, "value");
  const xs = np.array([-1000, 0, 1000]);
  close(vmap(grad(log1pexp))(xs), [0, 0.5, 1], 0, "vmap(grad)");
  close(jacfwd(log1pexp)(xs), [[0, 0, 0], [0, 0.5, 0], [0, 0, 1]], 0, "jacfwd");
  close(jacrev(log1pexp)(xs), [[0, 0, 0], [0, 0.5, 0], [0, 0, 1]], 0, "jacrev");
  // The rule is differentiated for the second derivative: e^x / (1 + e^x)^2 = 1/4 at 0.
  close(grad(grad(log1pexp))(0), 0.25, 1e-15, "grad(grad) at 0");
  close(hessian((x: Tensor) => log1pexp(x).sum())(np.array([0, Math.log(3)])), [[0.25, 0], [0, 3 / 16]], 1e-15, "hessian");
});

test("customJvp: checkGrads agrees when the rule is the true derivative, to order 2 in both modes", () => {
  assert.is(checkGrads(log1pexp, [np.array([-2, 0.5, 3])]), undefined);
  assert.is(checkGrads((x: Tensor) => vmap(log1pexp)(x), [np.array([[-1, 0.25], [2, 1.5]])]), undefined);
  // Two arguments, a pytree output, and the function called inside its own rule.
  const f = customJvp((x: Tensor, y: Tensor) => ({ p: np.multiply(x, y), s: np.sin(x) }));
  f.defjvp(([x, y]: Tensor[], [tx, ty]: Tensor[]) => [f(x, y), { p: np.add(np.multiply(tx, y), np.multiply(x, ty)), s: np.multiply(np.cos(x), tx) }]);
  assert.is(checkGrads(f, [np.array([0.3, -1.2]), np.array([2, 0.7])]), undefined);
  assert.is(checkGrads(f, [np.array([0.3, -1.2]), np.array([2, 0.7])], { order: 3, modes: ["rev"] }), undefined);
});

// ---------- customJvp: a rule that is not the true derivative, so results prove it is used ----------

// The value is sin(x), the rule claims the derivative 2 cos(x).
const twice = customJvp((x: Tensor) => np.sin(x));
twice.defjvp(([x]: Tensor[], [t]: Tensor[]) => [twice(x), np.multiply(np.multiply(2, np.cos(x)), t)]);

test("customJvp: every transformation uses the rule (2 cos x, not cos x)", () => {
  const [y, t] = jvp(twice, [1], [0.5]);
  close(y, sin(1), 1e-15, "jvp primal");
  close(t, cos(1), 1e-15, "jvp tangent = 2 cos(1) * 0.5");
  close(grad(twice)(1), 2 * cos(1), 1e-15, "grad");
  const [v, back] = vjp(twice, [np.array([1, 2])]);
  close(v, [sin(1), sin(2)], 1e-15, "vjp primal");
  close(back(np.array([1, 3]))[0], [2 * cos(1), 6 * cos(2)], 1e-15, "vjp");
  const x = np.array([1, 2]);
  close(jacfwd(twice)(x), [[2 * cos(1), 0], [0, 2 * cos(2)]], 1e-15, "jacfwd");
  close(jacrev(twice)(x), [[2 * cos(1), 0], [0, 2 * cos(2)]], 1e-15, "jacrev");
  close(vmap(grad(twice))(x), [2 * cos(1), 2 * cos(2)], 1e-15, "vmap(grad)");
  close(grad((z: Tensor) => vmap(twice)(z).sum())(x), [2 * cos(1), 2 * cos(2)], 1e-15, "grad(vmap)");
  close(jvp(vmap(twice), [x], [np.ones([2])])[1], [2 * cos(1), 2 * cos(2)], 1e-15, "jvp(vmap)");
  const [, lin] = linearize(twice, [1]);
  close(lin(1), 2 * cos(1), 1e-15, "linearize");
});

test("customJvp: nesting differentiates the rule (grad of grad, hessian, third order)", () => {
  close(grad(grad(twice))(1), -2 * sin(1), 1e-15, "grad(grad)");
  close(grad(grad(grad(twice)))(1), -2 * cos(1), 1e-15, "third derivative");
  close(hessian((x: Tensor) => twice(x).sum())(np.array([1, 2])), [[-2 * sin(1), 0], [0, -2 * sin(2)]], 1e-15, "hessian");
  close(jacfwd(jacrev(twice))(0.5), -2 * sin(0.5), 1e-15, "jacfwd(jacrev)");
  close(jacrev(jacfwd(twice))(0.5), -2 * sin(0.5), 1e-15, "jacrev(jacfwd)");
  // Perturbations stay apart: x * d/dy twice(x y) at y = 1 is 2 x^2 cos(x), whose derivative is 4x cos(x) - 2x^2 sin(x).
  const h = (x: Tensor) => np.multiply(x, grad((y: Tensor) => twice(np.multiply(x, y)))(1));
  close(grad(h)(0.5), 4 * 0.5 * cos(0.5) - 2 * 0.25 * sin(0.5), 1e-14, "nested, no confusion");
});

test("customJvp: staged calls (vmap, makeJaxpr, checkpoint) keep the rule", () => {
  const text = makeJaxpr(twice)(1).toString();
  assert.match(text, /custom_jvp_call\[/);
  assert.match(text, /sin/);
  close(grad((x: Tensor) => checkpoint(twice)(x))(1), 2 * cos(1), 1e-15, "grad(checkpoint)");
  close(grad(grad((x: Tensor) => checkpoint(twice)(x)))(1), -2 * sin(1), 1e-15, "grad(grad(checkpoint))");
  close(jvp(checkpoint(twice), [1], [1])[1], 2 * cos(1), 1e-15, "jvp(checkpoint)");
  // jvp of a vmapped call goes through the staged primitive's batch rule and then its jvp rule.
  close(hessian((x: Tensor) => vmap(twice)(x).sum())(np.array([1, 2])), [[-2 * sin(1), 0], [0, -2 * sin(2)]], 1e-15, "hessian(vmap)");
  // Arguments with different batch axes, one not batched at all.
  const f = customJvp((x: Tensor, y: Tensor) => np.multiply(x, y));
  f.defjvp(([x, y]: Tensor[], [tx, ty]: Tensor[]) => [f(x, y), np.add(np.multiply(tx, y), np.multiply(np.multiply(3, x), ty))]);
  const xs = np.array([[1, 2], [3, 4]]);
  const gy = grad((y: Tensor) => vmap(f, { inAxes: [1, null] })(xs, y).sum())(np.array([0.5, 2]));
  // Examples are the columns [1, 3] and [2, 4]; the rule's d/dy is 3x, summed over the batch.
  close(gy, [9, 21], 1e-15, "grad wrt the unbatched argument");
});

test("customJvp: outside any transformation f is called; under jvp only the rule runs", () => {
  let fCalls = 0;
  let ruleCalls = 0;
  const f = customJvp((x: Tensor) => {
    fCalls++;
    return x.item() > 0 ? np.square(x) : np.negative(x); // JS branching: fine, f is called eagerly
  });
  f.defjvp(([x]: Tensor[], [t]: Tensor[]) => {
    ruleCalls++;
    // The rule may branch on values too: under grad it runs on concrete primals.
    return x.item() > 0 ? [np.square(x), np.multiply(np.multiply(2, x), t)] : [np.negative(x), np.negative(t)];
  });
  close(f(3), 9, 0, "value at 3");
  close(f(-3), 3, 0, "value at -3");
  assert.is(fCalls, 2);
  close(grad(f)(3), 6, 0, "grad at 3");
  close(grad(f)(-3), -1, 0, "grad at -3");
  assert.is(fCalls, 2, "grad did not call f");
  assert.is(ruleCalls, 2);
});

test("customJvp: closed-over values", () => {
  // A concrete array closed over stays a constant of the staged jaxpr (the rule claims 10x).
  const c = np.array([1, 2, 3]);
  const scale = customJvp((x: Tensor) => np.multiply(x, c));
  scale.defjvp(([x]: Tensor[], [t]: Tensor[]) => [scale(x), np.multiply(np.multiply(t, c), 10)]);
  close(grad((x: Tensor) => vmap(scale)(x).sum())(np.ones([2, 3])), [[10, 20, 30], [10, 20, 30]], 0, "vmap, concrete closure");
  // A value that an outer grad differentiates, closed over: the derivative with respect to it goes
  // through f (the rule covers the arguments only), here d/da sum(x a) = sum(x) = 6.
  const xs = np.array([1, 2, 3]);
  const viaClosure = (staged: boolean) => (a: Tensor) => {
    const h = customJvp((x: Tensor) => np.multiply(x, a));
    h.defjvp(([x]: Tensor[], [t]: Tensor[]) => [h(x), np.multiply(t, a)]);
    return (staged ? vmap(h)(xs) : h(xs)).sum();
  };
  close(grad(viaClosure(true))(2), 6, 0, "staged (vmap): the closed-over tracer became an input");
  close(grad(viaClosure(false))(2), 6, 0, "called on a constant: f runs");
  close(grad(grad(viaClosure(true)))(2), 0, 0, "second derivative");
  // ... but a rule whose result depends on a value the same grad differentiates, and that is not an
  // argument, would mix two perturbations: refused.
  const leaky = (a: Tensor) => {
    const h = customJvp((x: Tensor) => np.multiply(x, a));
    h.defjvp(([x]: Tensor[], [t]: Tensor[]) => [h(x), np.multiply(t, a)]);
    return h(a);
  };
  throwsWith(() => grad(leaky)(2), JacobiError, ["customJvp (anonymous)", "closes over", "pass that value as an argument"]);
});

// ---------- customVjp ----------

// JAX's clip_gradient: the identity whose backward pass clips the cotangent to [lo, hi].
const clipGradient = customVjp((lo: number, hi: number, x: Tensor) => x);
clipGradient.defvjp(
  (lo: number, hi: number, x: Tensor) => [x, [lo, hi]],
  ([lo, hi]: Tensor[], g: Tensor) => [null, null, np.clip(g, lo, hi)],
);

test("customVjp: a clipped gradient in grad, vjp, jacrev, vmap(grad), grad(vmap), hessian", () => {
  const f = (x: Tensor) => clipGradient(-0.75, 0.75, np.multiply(2, np.sin(x)));
  // The cotangent 1 is clipped to 0.75, then d(2 sin x) = 2 cos x.
  close(f(np.array([1, 2])), [2 * sin(1), 2 * sin(2)], 1e-15, "value");
  close(grad((x: Tensor) => f(x).sum())(np.array([1, 2])), [1.5 * cos(1), 1.5 * cos(2)], 1e-15, "grad");
  close(grad((x: Tensor) => np.multiply(f(x), 0.5).sum())(np.array([1, 2])), [cos(1), cos(2)], 1e-15, "grad, cotangent 0.5 kept");
  close(grad((x: Tensor) => np.multiply(f(x), -4).sum())(np.array([1, 2])), [-1.5 * cos(1), -1.5 * cos(2)], 1e-15, "grad, cotangent -4 clipped");
  const [y, back] = vjp(f, [np.array([1, 2])]);
  close(y, [2 * sin(1), 2 * sin(2)], 1e-15, "vjp primal");
  close(back(np.array([0.25, 10]))[0], [0.5 * cos(1), 1.5 * cos(2)], 1e-15, "vjp");
  close(jacrev(f)(np.array([1, 2])), [[1.5 * cos(1), 0], [0, 1.5 * cos(2)]], 1e-15, "jacrev");
  close(vmap(grad(f))(np.array([1, 2])), [1.5 * cos(1), 1.5 * cos(2)], 1e-15, "vmap(grad)");
  close(grad((x: Tensor) => vmap(f)(x).sum())(np.array([1, 2])), [1.5 * cos(1), 1.5 * cos(2)], 1e-15, "grad(vmap)");
  close(grad((x: Tensor) => checkpoint(f)(x).sum())(np.array([1, 2])), [1.5 * cos(1), 1.5 * cos(2)], 1e-15, "grad(checkpoint)");
  const [v, g] = valueAndGrad((x: Tensor) => f(x).sum())(1);
  close(v, 2 * sin(1), 1e-15, "valueAndGrad value");
  close(g, 1.5 * cos(1), 1e-15, "valueAndGrad grad");
  // Forward over reverse differentiates bwd: h(x) = sum(clip(sin x) * x) has gradient
  // clip(x) cos x + sin x, so the Hessian diagonal is clip'(x) cos x - clip(x) sin x + cos x.
  const h = (x: Tensor) => np.multiply(clipGradient(-0.75, 0.75, np.sin(x)), x).sum();
  close(grad(h)(np.array([0.5, 2])), [0.5 * cos(0.5) + sin(0.5), 0.75 * cos(2) + sin(2)], 1e-15, "grad of the product");
  close(hessian(h)(np.array([0.5, 2])), [[2 * cos(0.5) - 0.5 * sin(0.5), 0], [0, cos(2) - 0.75 * sin(2)]], 1e-14, "hessian");
  close(grad(grad((x: Tensor) => h(x)))(0.5), 2 * cos(0.5) - 0.5 * sin(0.5), 1e-14, "grad(grad)");
});

test("customVjp: under grad only fwd and bwd run, with the residuals fwd saved", () => {
  let fCalls = 0, fwdCalls = 0, bwdCalls = 0;
  const f = customVjp((x: Tensor) => (fCalls++, np.exp(x)));
  f.defvjp(
    (x: Tensor) => (fwdCalls++, [np.exp(x), { e: np.exp(x) }]),
    ({ e }: { e: Tensor }, ct: Tensor) => (bwdCalls++, [np.multiply(ct, e)]),
  );
  close(f(0), 1, 0, "outside transformations f is called");
  assert.is(fCalls, 1);
  close(grad(f)(1), Math.exp(1), 1e-15, "grad");
  assert.equal([fCalls, fwdCalls, bwdCalls], [1, 1, 1]);
  close(jacrev(f)(np.array([0, 1, 2])), [[1, 0, 0], [0, Math.exp(1), 0], [0, 0, Math.exp(2)]], 1e-15, "jacrev");
  assert.equal([fCalls, fwdCalls, bwdCalls], [1, 2, 2], "jacrev: one fwd, one batched bwd");
  const text = makeJaxpr(f)(1).toString();
  assert.match(text, /custom_vjp_call\[/);
  assert.match(text, /fwd=anonymous_fwd/);
});

test("customVjp: checkGrads in reverse mode when fwd and bwd are the true derivative (pytrees, order 2 and 3)", () => {
  // f({w, b}, x) = tanh(w x + b), with residuals the inputs and the output.
  const f = customVjp((p: { w: Tensor; b: Tensor }, x: Tensor) => np.tanh(np.add(np.multiply(p.w, x), p.b)));
  f.defvjp(
    (p: { w: Tensor; b: Tensor }, x: Tensor) => {
      const y = np.tanh(np.add(np.multiply(p.w, x), p.b));
      return [y, [p.w, x, y]];
    },
    ([w, x, y]: Tensor[], ct: Tensor) => {
      const d = np.multiply(ct, np.subtract(1, np.square(y)));
      return [{ w: np.multiply(d, x), b: d }, np.multiply(d, w)];
    },
  );
  const args = [{ w: np.array([0.5, -1.5]), b: np.array([0.1, 0.3]) }, np.array([1.2, 0.4])];
  assert.is(checkGrads(f, args, { modes: ["rev"] }), undefined);
  assert.is(checkGrads(f, args, { modes: ["rev"], order: 3 }), undefined);
  // Batched: the staged custom_vjp_call and its batch rule, with x unbatched (its cotangent summed).
  const batched = (p: { w: Tensor; b: Tensor }, x: Tensor) => vmap(f, { inAxes: [0, null] })(p, x);
  assert.is(checkGrads(batched, [{ w: np.array([[0.5, -1.5], [0.2, 0.9]]), b: np.array([[0.1, 0.3], [-0.4, 0]]) }, np.array([1.2, 0.4])], { modes: ["rev"] }), undefined);
  // An int32 argument gets no cotangent; bwd returns null for it.
  const g = customVjp((x: Tensor, k: Tensor) => np.multiply(x, np.astype(k, "float64")));
  g.defvjp((x: Tensor, k: Tensor) => [np.multiply(x, np.astype(k, "float64")), k], (k: Tensor, ct: Tensor) => [np.multiply(ct, np.astype(k, "float64")), null]);
  close(grad((x: Tensor) => g(x, np.array([2, 3], "int32")).sum())(np.array([1, 1])), [2, 3], 0, "int argument");
});

test("customVjp: a closed-over value of an outer grad is differentiated through f", () => {
  // bwd covers the argument x only; d/da of sum(a x) goes through f's own operations.
  const xs = np.array([1, 2, 3]);
  const outer = (a: Tensor) => {
    const f = customVjp((x: Tensor) => np.multiply(a, x));
    f.defvjp((x: Tensor) => [np.multiply(a, x), null], (_r: null, ct: Tensor) => [np.multiply(ct, 100)]);
    return vmap(f)(xs).sum();
  };
  close(grad(outer)(2), 6, 0, "d/da");
  const both = (a: Tensor) => {
    const f = customVjp((x: Tensor) => np.multiply(a, x));
    f.defvjp((x: Tensor) => [np.multiply(a, x), null], (_r: null, ct: Tensor) => [np.multiply(ct, 100)]);
    return vmap(f)(np.multiply(xs, a)).sum();
  };
  // d/da sum(a * u) with u = a x: through f, sum(u) = a sum(x) = 12; through bwd, 100 per unit
  // cotangent times du/da = x, 600.
  close(grad(both)(2), 612, 0, "closure and argument");
});

test("customVjp: forward mode throws a JacobiError, as in JAX", () => {
  const words = ["customVjp (anonymous)", "forward mode", "jvp, jacfwd", "customJvp"];
  throwsWith(() => jvp((x: Tensor) => clipGradient(-1, 1, x), [1], [1]), JacobiError, words);
  throwsWith(() => jacfwd((x: Tensor) => clipGradient(-1, 1, x))(np.array([1, 2])), JacobiError, words);
  throwsWith(() => jvp(vmap((x: Tensor) => clipGradient(-1, 1, x)), [np.array([1, 2])], [np.ones([2])]), JacobiError, words);
  // Tangents that are zero are no differentiation at all.
  close(jvp((x: Tensor, y: Tensor) => np.add(clipGradient(-1, 1, y), x), [1, 2], [1, 0])[1], 1, 0, "zero tangent into the customVjp function");
});

// ---------- errors ----------
test("errors: custom_lin is linear in its tangents only", () => {
  const params = { name: "scale", numRes: 1, bwd: new Label((r: Tensor[], cts: Tensor[]) => [np.multiply(r[0], cts[0])], "scale_bwd"), outAvals: avalsLabel([new ShapedArray([], "float64")]) };
  const transpose = customLinP.transpose as NonNullable<typeof customLinP.transpose>;
  throwsWith(() => transpose([np.array(1)], [new UndefPrimal(new ShapedArray([], "float64")), np.array(2)], params), JacobiError, ["custom_lin (scale)", "residual"]);
  close(transpose([np.array(3)], [np.array(2), new UndefPrimal(new ShapedArray([], "float64"))], params)[1] as Tensor, 6, 0, "transpose");
});


test("errors: rules not defined, or not functions", () => {
  const f = customJvp((x: Tensor) => x);
  throwsWith(() => f(1), JacobiError, ["customJvp (anonymous)", "no JVP rule", ".defjvp(rule)"]);
  throwsWith(() => grad(f)(1), JacobiError, [".defjvp(rule)"]);
  throwsWith(() => f.defjvp(3 as never), JacobiError, ["defjvp", "expected a rule"]);
  const g = customVjp(function named(x: Tensor) {
    return x;
  });
  throwsWith(() => grad(g)(1), JacobiError, ["customVjp (named)", "no VJP rule", ".defvjp(fwd, bwd)"]);
  throwsWith(() => g.defvjp((x: Tensor) => [x, null], null as never), JacobiError, ["defvjp", "expected two functions"]);
  throwsWith(() => customJvp(5 as never), JacobiError, ["customJvp", "expected a function"]);
  throwsWith(() => customVjp("f" as never), JacobiError, ["customVjp", "expected a function"]);
});

test("errors: JVP rules returning the wrong structures, shapes or dtypes", () => {
  const withRule = (rule: (p: Tensor[], t: Tensor[]) => any) => customJvp((x: Tensor) => np.sin(x)).defjvp(rule);
  const x = np.array([1, 2]);
  throwsWith(() => grad(withRule(([p]) => [np.sin(p)]))(1), TreeError, ["must return a pair [primalOut, tangentOut]", "an array of length 1"]);
  throwsWith(() => grad(withRule(([p]) => np.sin(p) as never))(1), TreeError, ["must return a pair", "Tensor"]);
  throwsWith(() => jvp(withRule(([p], [t]) => [np.sin(p), [t]]), [x], [x]), TreeError, ["primal output of structure *", "tangent output of structure [*]"]);
  throwsWith(() => jvp(withRule(([p], [t]) => [np.sin(p), t.sum()]), [x], [x]), ShapeError, ["tangent output has shape []", "primal output has shape [2]"]);
  throwsWith(() => jvp(withRule(([p], [t]) => [np.sin(p), np.astype(t, "int32")]), [x], [x]), DTypeError, ["dtype int32", "float64"]);
  throwsWith(() => jvp(withRule(([p], [t]) => [np.sin(p), "t"]), [x], [x]), JacobiError, ["tangent output", "string"]);
  // A staged call knows f's output, and the rule's primal output must agree with it.
  throwsWith(() => jvp(vmap(withRule(([p], [t]) => [[np.sin(p)], [t]])), [x], [x]), TreeError, ["primal output has structure [*]", "the function's output has structure *"]);
  throwsWith(() => jvp(vmap(withRule(([p], [t]) => [np.stack([p, p]), np.stack([t, t])])), [x], [x]), ShapeError, [
    "the JVP rule's primal output is f64[2]",
    "the function's output is f64[]",
  ]);
  // A JS number as a tangent takes the primal's dtype.
  close(jvp(withRule(([p]) => [np.sin(p), 4]), [1], [1])[1], 4, 0, "weak tangent");
  assert.is(jvp(withRule(([p]) => [np.sin(p), 4]), [np.array(1, "float32")], [np.array(1, "float32")])[1].dtype, "float32");
});

test("errors: VJP rules returning the wrong structures or shapes", () => {
  const withRules = (fwd: (x: Tensor, y: Tensor) => any, bwd: (r: any, ct: Tensor) => any) => customVjp((x: Tensor, y: Tensor) => np.multiply(x, y)).defvjp(fwd, bwd);
  const fwdOk = (x: Tensor, y: Tensor) => [np.multiply(x, y), [x, y]];
  const x = np.array([1, 2]), y = np.array([3, 4]);
  const run = (f: (x: Tensor, y: Tensor) => Tensor) => vjp(f, [x, y])[1](np.ones([2]));
  throwsWith(() => run(withRules((a) => a, () => [])), TreeError, ["fwd must return a pair [output, residuals]"]);
  throwsWith(() => run(withRules(fwdOk, ([a]: Tensor[], ct) => [ct])), TreeError, ["bwd must return an array with one cotangent per argument (2)", "an array of length 1"]);
  throwsWith(() => run(withRules(fwdOk, (_r, ct) => [ct, [ct]])), TreeError, ["cotangent for argument 1 has structure [*]", "the argument has structure *"]);
  throwsWith(() => run(withRules(fwdOk, (_r, ct) => [ct, ct.sum()])), ShapeError, ["cotangent for argument 1 has shape []", "argument has shape [2]"]);
  throwsWith(() => run(withRules(fwdOk, (_r, ct) => [ct, np.astype(ct, "bool")])), DTypeError, ["cotangent for argument 1 has dtype bool"]);
  throwsWith(() => run(withRules(fwdOk, (_r, ct) => [ct, "ct"])), JacobiError, ["cotangent for argument 1", "string"]);
  throwsWith(() => run(withRules((a, b) => [np.multiply(a, b), ["r"]], (_r, ct) => [ct, ct])), JacobiError, ["residuals must be a pytree of Tensors", "string"]);
  // Staged (under vmap), f's output is known, and fwd's must agree with it.
  const bad = withRules((a, b) => [[np.multiply(a, b)], []], (_r, ct) => [ct, ct]);
  throwsWith(() => vjp(vmap(bad), [x, y])[1](np.ones([2])), TreeError, ["fwd's output has structure [*]", "the function's output has structure *"]);
  // null is a zero cotangent.
  close(run(withRules(fwdOk, ([a]: Tensor[], ct) => [np.multiply(ct, 2), null])), [[2, 2], [0, 0]], 0, "null cotangent");
});

test.run();
