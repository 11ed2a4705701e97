// The rule helpers and declared facts of primitives: what each helper builds, the invariants
// definePrimitive and the transpose rules enforce, and each cost rule's arithmetic.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { JacobiError, type Tensor, np } from "../../src/index.js";
import { InternalError } from "../../src/core/errors.js";
import { UndefPrimal, Zero, allPrimitives, definePrimitive, eqnsCost } from "../../src/core/primitive.js";
import { ShapedArray } from "../../src/core/shaped-array.js";
import { dotGeneralP } from "../../src/primitives/dot.js";
import { addP, divP, mulP, negP, selectP, sinP } from "../../src/primitives/elementwise.js";
import { gatherP } from "../../src/primitives/gather.js";
import { argmaxP, reduceSumP } from "../../src/primitives/reduce.js";
import { reshapeP } from "../../src/primitives/shape.js";
import { defjvp, linearTranspose } from "../../src/primitives/rule-helpers.js";
import { throwsWith } from "../helpers.js";

const f64 = (...shape: number[]) => new ShapedArray(shape, "float64");
const values = (t: Tensor | Zero | null): number[] | string => (t === null ? "null" : t instanceof Zero ? "zero" : Array.from(t.toTypedArray(), Number));

test("linearTranspose gives a Zero cotangent to every linear input, null to the others, when the cotangent is Zero", () => {
  const rule = linearTranspose(() => {
    throw new Error("the rule itself must not run on a Zero cotangent");
  });
  const outs = rule([new Zero(f64(2))], [np.ones([2]), new UndefPrimal(f64(2))], {});
  assert.is(outs[0], null);
  assert.instance(outs[1], Zero);
  assert.equal((outs[1] as Zero).aval.shape, [2]);
  // The declared rules go through it too.
  const [ct] = reshapeP.transpose!([new Zero(f64(6))], [new UndefPrimal(f64(2, 3))], { newSizes: [6] });
  assert.equal((ct as Zero).aval.shape, [2, 3]);
});

test("defjvp sums the contributions of the arguments with nonzero tangents and skips those without a rule", () => {
  const a = np.array([1, 2]), b = np.array([3, 5]), ta = np.array([10, 20]), tb = np.array([1, 1]);
  const onlyB = defjvp(mulP, null, (t, [x]) => np.multiply(x, t));
  const [[out], [dt]] = onlyB([a, b], [ta, tb], {});
  assert.equal(values(out), [3, 10]);
  assert.equal(values(dt as Tensor), [1, 2]);
  // No contribution at all: a Zero tangent of the output's (strong) type.
  const [, [none]] = onlyB([a, b], [ta, new Zero(f64(2))], {});
  assert.instance(none, Zero);
  // The declared mul rule: a tb + b ta.
  const [, [both]] = mulP.jvp!([a, b], [ta, tb], {});
  assert.equal(values(both), [1 * 1 + 3 * 10, 2 * 1 + 5 * 20]);
});

test("transpose rules reject an input that cannot be linear with an InternalError", () => {
  const x = np.array([1, 2]), u = new UndefPrimal(f64(2)), ct = np.array([1, 1]);
  throwsWith(() => mulP.transpose!([ct], [u, new UndefPrimal(f64(2))], {}), InternalError, ["mul: cannot transpose a product of two linear inputs"]);
  throwsWith(
    () => dotGeneralP.transpose!([np.array(1)], [u, new UndefPrimal(f64(2))], { contract: [[0], [0]], batch: [[], []] }),
    InternalError,
    ["dot_general: cannot transpose"],
  );
  throwsWith(() => divP.transpose!([ct], [x, u], {}), InternalError, ["div: cannot transpose with respect to the divisor"]);
  throwsWith(() => selectP.transpose!([ct], [new UndefPrimal(new ShapedArray([2], "bool")), x, u], {}), InternalError, ["select: the predicate cannot be linear"]);
  // InternalError is a JacobiError, so callers catching the library's errors see it.
  assert.ok(new InternalError("x") instanceof JacobiError);
});

test("definePrimitive checks the declared facts against the rules, before registering anything", () => {
  const count = allPrimitives.length;
  const base = { impl: () => [], abstractEval: () => [] };
  throwsWith(() => definePrimitive("fake_linear", () => ({ ...base, linear: true })), InternalError, ["fake_linear", "must have a transpose rule"]);
  throwsWith(
    () => definePrimitive("fake_constant", () => ({ ...base, differentiable: false, jvp: () => [[], []] })),
    InternalError,
    ["fake_constant", "gets its jvp rule supplied"],
  );
  assert.is(allPrimitives.length, count);
});

test("facts: defaults and the declared values", () => {
  assert.ok(negP.linear && addP.linear && reduceSumP.linear && gatherP.linear);
  assert.not.ok(sinP.linear);
  assert.ok(sinP.differentiable);
  assert.not.ok(argmaxP.differentiable);
  // The default cost is one FLOP per output element.
  assert.equal(addP.cost([f64(2, 3), f64(2, 3)], [f64(2, 3)], {}), { flops: 6, transcendentals: 0 });
});

test("cost rules: transcendental, movement, reduction and contraction arithmetic", () => {
  assert.equal(sinP.cost([f64(4)], [f64(4)], {}), { flops: 4, transcendentals: 4 });
  assert.equal(reshapeP.cost([f64(2, 3)], [f64(6)], { newSizes: [6] }), { flops: 0, transcendentals: 0 });
  assert.equal(reduceSumP.cost([f64(2, 3)], [f64(2)], { axes: [1] }), { flops: 4, transcendentals: 0 });
  // [2,3] x [3,4]: 2 m n k.
  assert.equal(dotGeneralP.cost([f64(2, 3), f64(3, 4)], [f64(2, 4)], { contract: [[1], [0]], batch: [[], []] }), { flops: 2 * 2 * 4 * 3, transcendentals: 0 });
  // A sequence of equations adds up.
  const eqn = (p: typeof sinP, ins: ShapedArray[], outs: ShapedArray[]) => ({ primitive: p, inputs: ins.map((aval) => ({ aval })), outBinders: outs.map((aval) => ({ aval })), params: {} });
  assert.equal(eqnsCost([eqn(sinP, [f64(3)], [f64(3)]), eqn(addP, [f64(3), f64(3)], [f64(3)])]), { flops: 6, transcendentals: 3 });
});

test.run();
