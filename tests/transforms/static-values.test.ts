// JS functions where JAX passes static values through: an unbatched vmap argument (inAxes null)
// and a customVjp residual (as a jax.tree_util.Partial's function).
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import { DTypeError, JacobiError, type Tensor, customVjp, grad, jit, np, vmap } from "../../src/index.js";
import { close, throwsWith } from "../helpers.js";

test("vmap: a JS function with inAxes null reaches f as it is; the other arguments are batched", () => {
  const apply = (fn: (t: Tensor) => Tensor, x: Tensor, k: Tensor) => np.multiply(fn(x), k);
  const xs = np.array([[1, 2], [3, 4]]);
  close(vmap(apply, { inAxes: [null, 0, null] })(np.sin, xs, np.array(2)), np.multiply(np.sin(xs), 2));
  close(vmap(apply, { inAxes: [null, 1, null] })(np.exp, xs, np.array(1)), np.transpose(np.exp(xs)));
  // inAxes null for every argument: the size comes from axisSize.
  const r = vmap((fn: () => Tensor) => fn(), { inAxes: null, axisSize: 3 })(() => np.array(5));
  close(r, [5, 5, 5]);
  // A function where a batched axis is asked for is still refused, naming the argument.
  throwsWith(() => vmap(apply)(np.sin, xs, np.array(2)), DTypeError, ["vmap: argument", "function"]);
});

test("customVjp: a JS function among the residuals is handed to bwd as it is", () => {
  const g = customVjp((x: Tensor) => np.sin(x));
  g.defvjp((x: Tensor) => [np.sin(x), { d: np.cos, x }], (res, ct) => {
    // The residual type maps leaves to Tensors; the function leaf arrives as the function itself.
    const { d, x: at } = res as unknown as { d: (t: Tensor) => Tensor; x: Tensor };
    return [np.multiply(ct, d(at))];
  });
  const x = np.array([1, 2]);
  close(grad((v: Tensor) => np.sum(g(v)))(x), np.cos(x));
  close(jit(grad((v: Tensor) => np.sum(g(v))))(x), np.cos(x));
  close(vmap(grad((v: Tensor) => g(v)))(x), np.cos(x));
  const bad = customVjp((x: Tensor) => x);
  bad.defvjp((x: Tensor) => [x, "residual"], (_r: unknown, ct: Tensor) => [ct]);
  throwsWith(() => grad((v: Tensor) => bad(v))(np.array(1)), JacobiError, ["residuals must be a pytree of Tensors (or JS functions)", "got string at residual leaf 0"]);
});
test.run();
