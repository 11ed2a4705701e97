// JAX's testCondGradVmapNan: a batched cond becomes a select over both branches, and each branch
// sees its operands through select(taken, x, stop_gradient(x)), so the branch an example does not
// take (sqrt at 0) sends it no 0 * inf cotangent.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import { type Tensor, checkGrads, grad, jit, lax, np, vmap } from "../../src/index.js";
import { close } from "../helpers.js";

const eps = 1e-6;
const safe = (v: Tensor) => lax.cond(np.less(v, eps), (_u: Tensor) => np.array(eps), (u: Tensor) => np.sqrt(u), v);

test("the gradient through a batched cond at the singular point of the branch not taken is not NaN", () => {
  const h = (x: Tensor) => np.sum(vmap(safe)(x));
  close(grad(h)(np.array([0, 0, 4])), [0, 0, 0.25]);
  close(grad(h)(np.zeros([10])), new Array(10).fill(0));
  close(jit(grad(h))(np.array([0, 1])), [0, 0.5]);
  // An unbatched operand next to a batched index is broadcast, and guarded the same way.
  const g = (x: Tensor, s: Tensor) => np.sum(vmap((v: Tensor, s0: Tensor) => lax.cond(np.less(v, 1), (w: Tensor) => np.multiply(w, 2), (w: Tensor) => np.sqrt(w), s0), { inAxes: [0, null] })(x, s));
  close(grad(g, { argnums: 1 })(np.array([0, 2, 3]), np.array(4)), 2 + 0.25 + 0.25);
  checkGrads((x: Tensor) => np.sum(vmap(safe)(x)), [np.array([0.5, 2, 3])], { order: 2, modes: ["fwd", "rev"] });
});
test.run();
