import { test } from "uvu";
import * as assert from "uvu/assert";
import { guardTraceState } from "../guard.js";
import { close, throwsWith } from "../helpers.js";
import { JacobiError, checkpoint, customVjp, grad, jet, jit, jvp, lax, np, vmap, type Tensor } from "../../src/index.js";
import { type Arr, isAllZero } from "../../src/backend/index.js";
import { type Primitive, allPrimitives } from "../../src/core/primitive.js";
import { bind1 } from "../../src/core/trace.js";
import { type JetRuleOf, jetFlat } from "../../src/interpreters/jet.js";
import * as el from "../../src/primitives/elementwise.js";
import { dotGeneral, dotGeneralP } from "../../src/primitives/dot.js";
import { jetFromJvp } from "../../src/primitives/jet-from-jvp.js";
import { jetRuleOf } from "../../src/primitives/jet-rules.js";
import { markZero } from "../../src/primitives/jet-zeros.js";
import { checkpointP } from "../../src/transforms/checkpoint.js";
import { controlFlowJetRules } from "../../src/transforms/jet-control-flow.js";
import * as sp from "../../src/primitives/special.js";
import { type F, K, check as checkJet, lineOf, mk, nestedJvp, sineTerm, termsOf as sharedTerms } from "./jet-check.js";

guardTraceState(test);

/** The shared check with `mk`'s sine terms, to 1e-12; `consts`: each input alone varying too. */
const check = (name: string, f: F, xs: Tensor[], consts = false): void => checkJet(name, f, xs, { consts, tol: 1e-12, term: sineTerm });
/** Nonzero terms of every input, `mk`'s sines. */
const termsOf = (xs: Tensor[]): Tensor[][] => sharedTerms(xs, sineTerm);

/**
 * jet in derivative terms (as the public `jet`) with the rule lookup `ruleOf`: what a primitive's
 * generic rule is compared with its closed-form one through.
 */
function jetWith(ruleOf: JetRuleOf, f: F, xs: Tensor[], vs: (Tensor[] | null)[]): Tensor[] {
  const order = (vs.find((v) => v !== null) as Tensor[]).length;
  const facts = Array.from({ length: order }, (_, k) => Array.from({ length: k + 1 }, (_, j) => j + 1).reduce((a, b) => a * b, 1));
  const coefs = vs.map((v) =>
    v === null
      ? null
      : v.map((t, k) => {
          // Eager values: concrete. A term given as zeros is marked, as the public jet marks it.
          const c = np.divide(t, facts[k]);
          return isAllZero(c.concrete() as Arr) ? markZero(c) : c;
        }),
  );
  const [, [so]] = jetFlat((a) => [f(...a)], xs, coefs, ruleOf);
  return (so as Tensor[]).map((c, k) => np.multiply(c, facts[k]));
}

/** The lookup with `prims` given their generic (JVP-derived) rule instead of their own. */
const genericFor =
  (...prims: Primitive<any>[]): JetRuleOf =>
  (p) =>
    prims.includes(p) ? jetFromJvp(p) : jetRuleOf(p);

/** The generic rules of `prims` against their closed forms and nested jvp, every term nonzero and along a line. */
function checkGeneric(name: string, prims: Primitive<any>[], f: F, xs: Tensor[]): void {
  const vs = termsOf(xs);
  for (const [what, path] of [["", vs], [" along a line", lineOf(vs)]] as const) {
    for (const order of [1, 2, K]) {
      const p = path.map((v) => v.slice(0, order));
      const generic = jetWith(genericFor(...prims), f, xs, p);
      close(generic, jetWith(jetRuleOf, f, xs, p), 1e-12, `${name}${what}, order ${order}: generic against closed form`);
      close(generic, nestedJvp(f, xs, p, order), 1e-12, `${name}${what}, order ${order}: generic against nested jvp`);
    }
  }
}

const v3 = mk([3], 1), w3 = mk([3], 2), m23 = mk([2, 3], 3), m32 = mk([3, 2], 4);

test("the generic rule (from the JVP) against the closed-form rules and nested jvp", () => {
  checkGeneric("sin", [el.sinP], (x) => el.sin(x), [v3]);
  checkGeneric("exp", [el.expP], (x) => el.exp(x), [v3]);
  checkGeneric("sin and cos both generic", [el.sinP, el.cosP], (x) => el.sin(x), [v3]);
  checkGeneric("tanh (its JVP binds tanh)", [el.tanhP], (x) => el.tanh(x), [v3]);
  checkGeneric("div", [el.divP], (x, y) => el.div(x, y), [v3, w3]);
  checkGeneric("dot_general", [dotGeneralP], (a, b) => dotGeneral(a, b, { contract: [[1], [0]], batch: [[], []] }), [m23, m32]);
  checkGeneric("mul and exp", [el.mulP, el.expP], (x, y) => el.exp(el.mul(x, y)), [v3, w3]);
});

test("the generic rule with a constant input", () => {
  const vs = termsOf([v3]);
  const f = (x: Tensor, y: Tensor) => el.div(x, y);
  const generic = jetWith(genericFor(el.divP), f, [v3, w3], [vs[0], null]);
  close(generic, jetWith(jetRuleOf, f, [v3, w3], [vs[0], null]), 1e-12, "constant divisor");
  const g = (y: Tensor, x: Tensor) => el.div(x, y);
  close(jetWith(genericFor(el.divP), g, [w3, v3], [vs[0], null]), nestedJvp((y) => g(y, v3), [w3], [vs[0]], K), 1e-12, "constant numerator");
});

// Each closed-form rule with every input term nonzero, along a line, and with constant inputs.
const cases: [string, F, Tensor[], boolean?][] = [
  ["asin", (x) => el.asin(x), [mk([3], 11, -0.8, 1.6)]],
  ["acos", (x) => el.acos(x), [mk([3], 12, -0.8, 1.6)]],
  ["atan", (x) => el.atan(x), [mk([3], 13, -2, 4)]],
  ["atan2", (y, x) => el.atan2(y, x), [mk([4], 14, -1, 2), np.array([0.7, -0.4, 0, -1.3])], true],
  ["atan2 (constant y)", (x, y) => el.atan2(y, x), [np.array([0.7, -0.4, 0, -1.3]), mk([4], 14, -1, 2)], true],
  ["cbrt", (x) => el.cbrt(x), [np.array([0.4, -1.7, 2.5])]],
  ["rem", (a, b) => el.rem(a, b), [np.array([5.3, -5.3, 2.2, -0.4]), np.array([1.7, 1.7, -0.9, 0.3])], true],
  ["rem (constant dividend)", (b, a) => el.rem(a, b), [np.array([1.7, 1.7, -0.9, 0.3]), np.array([5.3, -5.3, 2.2, -0.4])], true],
  ["erf", (x) => sp.erf(x), [mk([3], 15, -1.5, 3)]],
  ["erfc", (x) => sp.erfc(x), [mk([3], 16, -1.5, 3)]],
  ["erf_inv", (x) => sp.erfInv(x), [mk([3], 17, -0.9, 1.8)]],
  ["lgamma", (x) => sp.lgamma(x), [mk([3], 18, 0.3, 4)]],
  ["lgamma (negative arguments)", (x) => sp.lgamma(x), [np.array([-0.4, -1.6, -2.3])]],
  ["digamma", (x) => sp.digamma(x), [v3]],
  ["digamma (negative arguments)", (x) => sp.digamma(x), [mk([3], 6, -0.8, 0.5)]],
];
for (const [name, f, xs, consts] of cases) test(`closed-form rule of ${name} against nested jvp to order ${K}`, () => check(name, f, xs, consts));

test("closed-form rules in composites and on zero series", () => {
  check("erf(atan(x) * x)", (x) => sp.erf(el.mul(el.atan(x), x)), [v3]);
  check("lgamma(x^2 + 1)", (x) => sp.lgamma(el.add(el.mul(x, x), np.onesLike(x))), [v3]);
  // Order 1: one multiplication by the derivative factor, no jet of it.
  close(jet((x: Tensor) => sp.lgamma(x), [v3], [[np.onesLike(v3)]])[1], [sp.digamma(v3)]);
  close(jet((x: Tensor) => sp.digamma(x), [v3], [[np.onesLike(v3)]])[1], [sp.trigamma(v3)]);
  // An all-zero series: zero derivatives through every recurrence.
  const f = (x: Tensor) => np.add(np.add(el.asin(np.multiply(x, 0.5)), el.atan2(x, np.onesLike(x))), np.add(sp.erfInv(np.multiply(x, 0.5)), sp.lgamma(x)));
  close(jet(f, [v3], [[0, 0, 0].map(() => np.zerosLike(v3))])[1], [0, 0, 0].map(() => [0, 0, 0]));
});

test("special functions through the JVP-derived rule", () => {
  const a3 = mk([3], 5, 1.2, 2);
  // Differentiable in x only (to every order): the shape parameters are constants here.
  const b3 = mk([3], 8, 0.7, 2);
  check("igamma in x", (x) => sp.igamma(a3, x), [v3]);
  check("igammac in x", (x) => sp.igammac(a3, x), [v3]);
  check("igamma_grad_a in x", (x) => sp.igammaGradA(a3, x), [v3]);
  check("regularized_incomplete_beta in x", (x) => sp.betainc(a3, b3, x), [mk([3], 7, 0.2, 0.6)]);
  // In the shape parameter a, igamma is differentiable once (igamma_grad_a is not, as in JAX):
  // jet gives the first derivative and, asked for more, the JVP's own error.
  const x = np.array([0.4, 1.5, 2.5]);
  const ga = (a: Tensor) => sp.igamma(a, x);
  const ta = termsOf([a3])[0];
  close(jet(ga, [a3], [ta.slice(0, 1)])[1], nestedJvp(ga, [a3], [ta.slice(0, 1)], 1), 1e-12, "igamma in a, order 1");
  close(jet((a: Tensor) => sp.igammac(a, x), [a3], [ta.slice(0, 1)])[1], [np.negative(nestedJvp(ga, [a3], [ta.slice(0, 1)], 1)[0])], 1e-12, "igammac in a, order 1");
  throwsWith(() => jet(ga, [a3], [ta.slice(0, 2)]), JacobiError, ["igamma_grad_a", "derivative with respect to a"]);
  throwsWith(() => jet((b: Tensor) => sp.betainc(a3, b, np.array([0.5, 0.5, 0.5])), [a3], [ta.slice(0, 1)]), JacobiError, ["betainc", "derivative with respect to b"]);
  throwsWith(() => jet((y: Tensor) => sp.randomGammaGrad(a3, y), [v3], [ta.slice(0, 1)]), JacobiError, ["random_gamma_grad", "second derivatives"]);
});

// Primitive objects made here, not declared (definePrimitive would register them in
// allPrimitives, which other suites sweep): bind only reaches their jvp rule.
const unregistered = (name: string, jvpRule: Primitive["jvp"]): Primitive => ({ name, differentiable: true, jvp: jvpRule }) as unknown as Primitive;

test("the generic rule: Zero output tangents, and a tangent constant along the path", () => {
  const c = [np.array([0.5, 1]), np.array([0.25, -1]), np.array([2, 3])];
  const x = np.array([1.5, -2.5]);
  // floor's (supplied) JVP gives a Zero tangent: a null series.
  const [po, so] = jetFromJvp(el.floorP)([x], [c], {}, jetRuleOf);
  close(po, [[1, -3]]);
  assert.equal(so, [null]);
  // A JVP whose tangent does not vary along the path (stop_gradient of the input tangent): y_1 is
  // that tangent, the higher terms zero.
  const held = unregistered("tangent_held", ([v], [t]) => [[el.sin(v)], [el.stopGradient(t as Tensor)]]);
  const [, [s1]] = jetFromJvp(held)([x], [c], {}, jetRuleOf);
  close(s1, [[0.5, 1], [0, 0], [0, 0]]);
});

test("a primitive with no rule is named", () => {
  const bare = unregistered("bare", undefined);
  throwsWith(() => jet((x: Tensor) => bind1(bare, [x]), [0.5], [[1, 0]]), JacobiError, ["jet", "bare", "no Taylor-mode"]);
});

test("the new rules compose with jit, vmap and grad, and keep float32", () => {
  const fs: [string, (x: Tensor) => Tensor][] = [
    ["erf_inv", (x) => sp.erfInv(np.multiply(x, 0.5))],
    ["atan2", (x) => el.atan2(x, np.onesLike(x))],
    ["lgamma", (x) => sp.lgamma(x)],
    ["igamma (JVP-derived)", (x) => sp.igamma(np.multiply(np.onesLike(x), 2.5), x)],
  ];
  for (const [name, f] of fs) {
    const terms = [np.onesLike(v3), np.zerosLike(v3), np.zerosLike(v3)];
    const want = jet(f, [v3], [terms])[1];
    close(jit((x: Tensor) => jet(f, [x], [terms])[1])(v3), want, 1e-12, `${name}: jit of jet`);
    close(jet(jit(f), [v3], [terms])[1], want, 1e-12, `${name}: jet of jit`);
    close(vmap((x: Tensor) => jet(f, [x], [[np.array(1.0), np.array(0.0), np.array(0.0)]])[1])(v3), [0, 1, 2].map((k) => want[k]), 1e-12, `${name}: vmap of jet`);
    // The gradient of the second derivative is the third.
    close(grad((x: Tensor) => np.sum(jet(f, [x], [terms.slice(0, 2)])[1][1]))(v3), want[2], 1e-10, `${name}: grad of jet`);
    const [p32, s32] = jet(f, [v3.astype("float32")], [terms.map((t) => t.astype("float32"))]);
    assert.equal([p32, ...s32].map((t) => t.dtype), ["float32", "float32", "float32", "float32"], `${name}: float32 stays float32`);
    close(s32, want, 1e-4, `${name}: float32 values`);
  }
});

test("custom_lin: a customVjp function's tangent map under jet is forward mode, as under nested jvp", () => {
  const g = customVjp((x: Tensor) => np.sin(x));
  g.defvjp((x: Tensor) => [np.sin(x), np.cos(x)], (r: Tensor, ct: Tensor) => [np.multiply(r, ct)]);
  const tangentOf = (x: Tensor) => jvp(g, [x], [np.onesLike(x)])[1] as Tensor;
  throwsWith(() => jet(tangentOf, [v3], [[np.onesLike(v3), np.onesLike(v3)]]), JacobiError, ["customVjp", "forward mode"]);
  throwsWith(() => jvp(tangentOf, [v3], [np.onesLike(v3)]), JacobiError, ["customVjp", "forward mode"]);
  // Reverse mode through it is fine: its transpose calls bwd, whose residual carries the series.
  close(jet((x: Tensor) => grad(g)(x), [0.4], [[1, 0]])[1], [-Math.sin(0.4), -Math.cos(0.4)]);
});

test("every differentiable primitive has a jet rule: its own, the table's, or the transform's", () => {
  // Rules of the transform level: checkpoint's and control flow's run jets of their bodies.
  const transformLevel = [checkpointP, ...controlFlowJetRules.keys()];
  assert.equal(transformLevel.map((p) => p.name).sort(), ["checkpoint", "cond", "scan", "scan_revolve", "while"]);
  // Custom calls never reach a rule: the trace runs the function itself (processCustomJvpCall/VjpCall).
  const traceLevel = allPrimitives.filter((p) => p.customCall !== undefined);
  assert.equal(traceLevel.map((p) => p.name).sort(), ["custom_jvp_call", "custom_vjp_call"]);
  const missing = allPrimitives.filter((p) => p.differentiable && !transformLevel.includes(p) && !traceLevel.includes(p) && jetRuleOf(p) === undefined);
  assert.equal(missing.map((p) => p.name), []);
  // The transform-level rules at work, in one function (each is tested to order 5 in its own suite).
  check(
    "checkpoint, cond, while and scan",
    (x) => {
      const c = checkpoint((v: Tensor) => np.sin(np.multiply(v, v)))(x);
      const b = lax.cond(np.greater(np.sum(x), 0), (v: Tensor) => np.exp(v), (v: Tensor) => np.cos(v), c) as Tensor;
      const w = lax.foriLoop(0, 3, (_i: Tensor, v: Tensor) => np.tanh(np.multiply(v, b)), x) as Tensor;
      const [s] = lax.scan((carry: Tensor, xi: Tensor) => [np.add(np.multiply(carry, xi), np.sin(carry)), carry], np.sum(w), x) as [Tensor, Tensor];
      return np.add(w, s);
    },
    [v3],
  );
});

test.run();
