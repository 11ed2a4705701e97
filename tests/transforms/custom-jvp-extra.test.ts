// customJvp's nondiffArgnums (the rule gets those arguments first, as JAX's) and defjvps (one
// rule per argument, summed), in both modes and to second order; its options are checked.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import { JacobiError, OptionsError, type Tensor, checkGrads, customJvp, grad, jvp, np, vmap } from "../../src/index.js";
import { close, throwsWith } from "../helpers.js";

const opts = { order: 2, modes: ["fwd", "rev"] as ("fwd" | "rev")[] };

test("nondiffArgnums: a JS function and a number reach the rule as they were passed", () => {
  const apply = customJvp((fn: (v: Tensor) => Tensor, x: Tensor, k: number) => np.multiply(fn(x), k), { nondiffArgnums: [0, 2] });
  apply.defjvp((fn: (v: Tensor) => Tensor, k: number, [x]: Tensor[], [t]: Tensor[]) => {
    // d/dx k fn(x), with fn' taken from a grad of fn.
    const d = grad((v: Tensor) => np.sum(fn(v)))(x);
    return [np.multiply(fn(x), k), np.multiply(np.multiply(d, t), k)];
  });
  const x = np.array([0.5, 1.5]);
  close(apply(np.sin, x, 3), np.multiply(np.sin(x), 3));
  close(grad((v: Tensor) => np.sum(apply(np.sin, v, 3)))(x), np.multiply(np.cos(x), 3));
  const [, t] = jvp((v: Tensor) => apply(np.exp, v, 2), [x], [np.ones([2])]);
  close(t, np.multiply(np.exp(x), 2));
  checkGrads((v: Tensor) => np.sum(apply(np.sin, v, 3)), [x], opts);
  close(vmap((v: Tensor) => apply(np.sin, v, 2))(np.reshape(x, [2, 1])), np.reshape(np.multiply(np.sin(x), 2), [2, 1]));
  // A negative index counts from the end; out of range is an error naming it.
  const neg = customJvp((x: Tensor, k: number) => np.multiply(x, k), { nondiffArgnums: -1 });
  neg.defjvp((k: number, [x]: Tensor[], [t]: Tensor[]) => [np.multiply(x, k), np.multiply(t, k)]);
  close(grad((v: Tensor) => neg(v, 4))(np.array(1)), 4);
  const bad = customJvp((x: Tensor) => x, { nondiffArgnums: 3 }).defjvp((_k: unknown, p: Tensor[], t: Tensor[]) => [p[0], t[0]]);
  throwsWith(() => bad(np.array(1)), JacobiError, ["nondiffArgnums entry 3 is out of range"]);
  throwsWith(() => customJvp((x: Tensor) => x, { nondiff: [0] } as never), OptionsError, ['unknown option "nondiff"']);
  throwsWith(() => customJvp((x: Tensor) => x, { nondiffArgnums: [0.5] }), OptionsError, ["nondiffArgnums[0] must be an integer"]);
});

test("defjvps: one rule per argument, null for none, summed; JAX's (tangent, out, ...primals)", () => {
  const f = customJvp((x: Tensor, y: Tensor) => np.multiply(np.sin(x), y));
  f.defjvps(
    (t, _out, x, y) => np.multiply(np.multiply(np.cos(x), y), t),
    (t, _out, x) => np.multiply(np.sin(x), t),
  );
  const [a, b] = [np.array([0.3, 1.2]), np.array([2, -1])];
  const [ga, gb] = grad((x: Tensor, y: Tensor) => np.sum(f(x, y)), { argnums: [0, 1] })(a, b);
  close(ga, np.multiply(np.cos(a), b));
  close(gb, np.sin(a));
  checkGrads((x: Tensor, y: Tensor) => np.sum(f(x, y)), [a, b], opts);
  const g = customJvp((x: Tensor, y: Tensor) => np.add(np.exp(x), y));
  g.defjvps((t, out) => np.multiply(np.subtract(out, np.array([0, 0])), t), null);
  // The null rule: y contributes nothing (deliberately wrong, to show it is used).
  close(grad((y: Tensor) => np.sum(g(np.array([0, 0]), y)))(b), [0, 0]);
  close(grad((x: Tensor) => np.sum(g(x, np.array([0, 0]))))(np.array([0, 1])), [1, Math.E]);
  const h = customJvp((x: Tensor) => np.sin(x)).defjvps(null);
  close(grad((x: Tensor) => np.sum(h(x)))(a), [0, 0]);
  const wrong = customJvp((x: Tensor) => x).defjvps(null, null);
  throwsWith(() => grad((x: Tensor) => wrong(x))(np.array(1)), JacobiError, ["2 rules for 1 differentiable arguments"]);
  throwsWith(() => customJvp((x: Tensor) => x).defjvps(3 as never), JacobiError, ["rule 0 must be a function"]);
});
test.run();
