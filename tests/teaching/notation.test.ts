import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { makeJaxpr, np, traceTable, type Tensor } from "../../src/index.js";
import { Eqn, Var } from "../../src/ir/jaxpr.js";
import { atomRef, expressionOf, traceNames } from "../../src/ir/notation.js";

// The defining expressions of the chapter's notation, one primitive family at a time.
test("expressions: infix, prefix, calls, powers, selects, reductions, products", () => {
  const g = (x: Tensor, M: Tensor) => [
    np.negative(x),
    np.square(x),
    np.where(np.greater(x, 0), x, 0),
    np.maximum(x, 1),
    np.sum(M, 0),
    np.max(M),
    np.power(x, x),
    np.dot(x, x),
    np.matmul(np.reshape(M, [1, 2, 3]), np.reshape(M, [1, 3, 2])),
    np.arctan2(x, x),
    np.reciprocal(x),
    np.equal(x, x),
  ];
  const t = traceTable(g, [np.array([1, 2, 3]), np.array([[1, 2, 3], [4, 5, 6]])]);
  const exprs = t.rows.filter((r) => r.kind === "intermediate").map((r) => `${r.primitive}: ${r.expression}`);
  for (const want of [
    "neg: -v-1",
    "integer_pow: v-1^2",
    "max: max(v-1, c2)",
    "reduce_sum: sum[axes=(0,)] v0",
    "reduce_max: max v0",
    "pow: v-1 ^ v-1",
    "dot_general: v-1 @ v-1",
    "reshape: reshape[new_sizes=(1, 2, 3)] v0",
    "atan2: arctan2(v-1, v-1)",
    "integer_pow: v-1^-1",
    "eq: v-1 == v-1",
  ]) {
    assert.ok(exprs.includes(want), `${want} not in ${exprs.join("; ")}`);
  }
  assert.ok(exprs.some((e) => /^gt: v-1 > c\d$/.test(e)));
  assert.ok(exprs.some((e) => /^select: v\d+ \? v-1 : c\d$/.test(e)));
  // A batched product is not a plain matrix product: it keeps JAX's spelling.
  assert.ok(exprs.some((e) => /^dot_general: dot_general\[batch=\(\(0,\), \(0,\)\) contract=\(\(2,\), \(1,\)\)\] v\d+ v\d+$/.test(e)));
});

test("literals: short ones exact, long ones rounded, integers as integers", () => {
  const g = (x: Tensor, k: Tensor) => [np.multiply(x, 0.123456789), np.multiply(x, 1e-8), np.multiply(k, 2)];
  const t = traceTable(g, [1.5, np.array(3, "int32")]);
  assert.equal(
    t.rows.filter((r) => r.kind === "intermediate").map((r) => r.expression),
    ["v-1 * 0.123", "v-1 * 1e-8", "v0 * 2"],
  );
});

test("other primitives keep JAX's spelling: name[params] operands", () => {
  const closed = makeJaxpr((x: Tensor) => np.sin(x))(1);
  const e0 = closed.jaxpr.eqns[0];
  const split = new Eqn({ name: "split" } as never, e0.inputs, { sizes: [1, 1] }, [new Var(e0.outBinders[0].aval)]);
  assert.is(expressionOf(split, atomRef(traceNames(closed.jaxpr).name)), "split[sizes=(1, 1)] v0");
});

test.run();
