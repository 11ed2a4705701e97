import { test } from "uvu";
import * as assert from "uvu/assert";
import * as E from "fp-ts/lib/Either.js";
import { guardTraceState } from "../guard.js";
import { type Tensor, lax, makeJaxpr, np } from "../../src/index.js";
import { InternalError } from "../../src/core/errors.js";
import { ShapedArray } from "../../src/core/shaped-array.js";
import { checkJaxpr, checked, debugChecks, typecheckJaxpr } from "../../src/ir/check-jaxpr.js";
import { ClosedJaxpr, Eqn, Jaxpr, Literal, Var } from "../../src/ir/jaxpr.js";
import { throwsWith } from "../helpers.js";

guardTraceState(test);

const f64 = (...shape: number[]) => new ShapedArray(shape, "float64");
const sinOf = makeJaxpr((x: Tensor) => np.sin(x))(np.ones([2])).jaxpr;
const sinP = sinOf.eqns[0].primitive;

test("staged jaxprs typecheck, with their nested jaxprs", () => {
  const j = makeJaxpr((x: Tensor) => lax.cond(x.sum().gt(0), (v: Tensor) => np.sin(v), (v: Tensor) => np.cos(v), x))(np.ones([3])).jaxpr;
  assert.ok(E.isRight(typecheckJaxpr(j)));
  assert.is(checkJaxpr(j), j);
});

test("every problem is reported at once: redefinition, use before definition, wrong avals, literal shape", () => {
  const x = new Var(f64(2));
  const y = new Var(f64(3)); // sin of an f64[2] is f64[2]
  const undefinedVar = new Var(f64(2));
  const bad = new Jaxpr([], [x, x], [new Eqn(sinP, [undefinedVar], {}, [y])], [y, new Literal(1, f64(2))]);
  const r = typecheckJaxpr(bad);
  assert.ok(E.isLeft(r));
  const problems = E.isLeft(r) ? r.left : [];
  assert.is(problems.length, 4, problems.join("\n"));
  assert.ok(problems.some((p) => p.includes("input binder 1 defines a variable a second time")));
  assert.ok(problems.some((p) => p.includes("equation 0 (sin), input 0, reads a variable that is not defined before it")));
  assert.ok(problems.some((p) => p.includes("output 0 is declared f64[3], but its primitive gives f64[2]")));
  assert.ok(problems.some((p) => p.includes("output 1 is a literal of shape [2]")));
  throwsWith(() => checkJaxpr(bad), InternalError, ["does not typecheck", "defines a variable a second time", "not defined before it"]);
});

test("a primitive rejecting its inputs and a wrong output count are problems; nested jaxprs are named", () => {
  const a = new Var(f64(2));
  const out = new Var(f64(2));
  const extra = new Var(f64(2));
  const inner = new Jaxpr([], [a], [new Eqn(sinP, [a], {}, [out, extra])], [out]);
  const outer = makeJaxpr((x: Tensor) => lax.cond(x.sum().gt(0), (v: Tensor) => np.sin(v), (v: Tensor) => v, x))(np.ones([2])).jaxpr;
  const e = outer.eqns.find((q) => q.primitive.name === "cond") as Eqn;
  const branches = [new ClosedJaxpr(inner, []), ...(e.params.branches as ClosedJaxpr[]).slice(1)];
  const broken = new Jaxpr(outer.constBinders, outer.inBinders, outer.eqns.map((q) => (q === e ? new Eqn(e.primitive, e.inputs, { branches }, e.outBinders) : q)), outer.outs);
  const r = typecheckJaxpr(broken);
  const problems = E.isLeft(r) ? r.left : [];
  assert.ok(problems.some((p) => p.includes("param branches[0]: equation 0 (sin) has 2 outputs, but its primitive gives 1")), problems.join("\n"));
  // The rebuilt cond no longer fits its operands: the inner jaxpr's problem shows at the outer level too.
  const wrongInput = new Jaxpr(outer.constBinders, outer.inBinders, outer.eqns.map((q) => (q === e ? new Eqn(e.primitive, [e.inputs[0], new Literal(1, new ShapedArray([], "int32"))], e.params, e.outBinders) : q)), outer.outs);
  const r2 = typecheckJaxpr(wrongInput);
  assert.ok(E.isLeft(r2) && r2.left.some((p) => p.includes("equation") && p.includes("(cond) rejects its inputs")), JSON.stringify(r2));
});

test("checked() typechecks hand-built jaxprs while debug checks are on (the suites turn them on)", () => {
  assert.is(debugChecks.jaxprs, true);
  const x = new Var(f64(2));
  const y = new Var(f64(3));
  const bad = new ClosedJaxpr(new Jaxpr([], [x], [new Eqn(sinP, [x], {}, [y])], [y]), []);
  throwsWith(() => checked(bad), InternalError, ["declared f64[3]"]);
  debugChecks.jaxprs = false;
  try {
    assert.is(checked(bad), bad);
  } finally {
    debugChecks.jaxprs = true;
  }
});

test.run();
