// Transformations are functions from functions to functions, so fp-ts's pipe/flow compose them.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { flow, pipe } from "fp-ts/lib/function.js";
import { guardTraceState } from "../guard.js";
import { type Tensor, grad, jacfwd, jit, np, vmap } from "../../src/index.js";
import { close } from "../helpers.js";

guardTraceState(test);

type F = (x: Tensor) => Tensor;
const d = (f: F): F => grad(f) as F;

test("pipe: the third derivative of sin is -cos, jitted and batched", () => {
  const d3 = pipe((x: Tensor) => np.sin(x), d, d, d);
  close(d3(np.array(0.5)), -Math.cos(0.5), 1e-15, "d3 sin");
  const batched = pipe(d3, (f) => vmap(f) as F, (f) => jit(f) as F);
  close(batched(np.array([0, 1, 2])), [0, 1, 2].map((x) => -Math.cos(x)), 1e-15, "jit(vmap(d3))");
});

test("flow: a reusable 'derivative of order n' and a Hessian as jacfwd after grad", () => {
  const secondDerivative = flow(d, d);
  close(secondDerivative((x: Tensor) => x.mul(x).mul(x))(np.array(2)), 12, 0, "d2 x^3 at 2");
  const hessian = flow((f: F) => grad(f) as F, (g: F) => jacfwd(g) as F);
  close(hessian((x: Tensor) => np.sum(np.power(x, 3)))(np.array([1, 2])), [[6, 0], [0, 12]], 0, "hessian of sum x^3");
  assert.is(typeof secondDerivative, "function");
});

test.run();
