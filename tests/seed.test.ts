import { test } from "uvu";
import { guardTraceState } from "./guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { grad, jacfwd, jacrev, jvp, np, vjp } from "../src/index.js";

// The seed chapter's example: f(x1, x2) = ln(x1) + x1*x2 - sin(x2) at (2, 5).
const f = (x1: any, x2: any) => np.subtract(np.add(np.log(x1), np.multiply(x1, x2)), np.sin(x2));
const fv = (x: any) => f(x.slice(0), x.slice(1));

test("value", () => {
  assert.is(f(2, 5).item(), 11.652071455223084);
});

test("grad gives both partials", () => {
  assert.is(grad(f)(2, 5).item(), 5.5);
  assert.is(grad(f, { argnums: 1 })(2, 5).item(), 1.7163378145367738);
  const [g1, g2] = grad(f, { argnums: [0, 1] })(2, 5);
  assert.equal([g1.item(), g2.item()], [5.5, 1.7163378145367738]);
});

test("jvp yields one column per pass", () => {
  const [y, t1] = jvp(f, [2, 5], [1, 0]);
  const [, t2] = jvp(f, [2, 5], [0, 1]);
  assert.is(y.item(), 11.652071455223084);
  assert.is(t1.item(), 5.5);
  assert.is(t2.item(), 1.7163378145367738);
});

test("vjp yields the whole row in one pass", () => {
  const [y, back] = vjp(f, [2, 5]);
  assert.is(y.item(), 11.652071455223084);
  assert.equal(back(1).map((c: any) => c.item()), [5.5, 1.7163378145367738]);
});

test("jacfwd and jacrev agree on the 1x2 Jacobian", () => {
  const x = np.array([2, 5]);
  assert.equal(jacfwd(fv)(x).tolist(), [5.5, 1.7163378145367738]);
  assert.equal(jacrev(fv)(x).tolist(), [5.5, 1.7163378145367738]);
});

test.run();
