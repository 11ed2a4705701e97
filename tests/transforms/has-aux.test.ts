// hasAux on every transformation that differentiates (API.md's result shapes), options checked
// (an unknown key is an error naming it), and the mixed second derivative of x^y at y = 0.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { OptionsError, JacobiError, TreeError, type Tensor, grad, hessian, jacfwd, jacobian, jacrev, jvp, linearize, np, valueAndGrad, vjp } from "../../src/index.js";
import { close, throwsWith } from "../helpers.js";

const x = np.array([1, 2, 3]);
const f = (v: Tensor) => [np.sin(v), { norm: np.sum(np.square(v)), n: np.array(3, "int32") }] as const;

test("jvp, vjp and linearize with hasAux return aux last, undifferentiated", () => {
  const [y, t, aux] = jvp(f, [x], [np.ones([3])], { hasAux: true });
  close(y, np.sin(x));
  close(t, np.cos(x));
  close(aux.norm, 14);
  assert.is(aux.n.dtype, "int32");
  const [y2, back, aux2] = vjp(f, [x], { hasAux: true });
  close(y2, np.sin(x));
  close(aux2.norm, 14);
  const [g] = back(np.ones([3]));
  close(g, np.cos(x));
  const [y3, lin, aux3] = linearize(f, [x], { hasAux: true });
  close(y3, np.sin(x));
  close(aux3.norm, 14);
  close(lin(np.array([1, 0, 2])), np.multiply(np.cos(x), np.array([1, 0, 2])));
  // Without hasAux the pair is the output.
  const [pair] = jvp(f, [x], [np.ones([3])]);
  close(pair[0], np.sin(x));
  throwsWith(() => vjp((v: Tensor) => np.sin(v), [x], { hasAux: true }), TreeError, ["pair [output, aux]"]);
});

test("jacfwd, jacrev, jacobian and hessian with hasAux give [result, aux]", () => {
  const want = np.multiply(np.eye(3), np.cos(x));
  for (const jf of [jacfwd, jacrev]) {
    const [j, aux] = jf(f, { hasAux: true })(x);
    close(j, want);
    close(aux.norm, 14);
  }
  for (const mode of ["fwd", "rev", "auto"] as const) {
    const [j, aux] = jacobian(f, { hasAux: true, mode })(x) as unknown as [Tensor, { norm: Tensor }];
    close(j, want);
    close(aux.norm, 14);
  }
  const s = (v: Tensor) => [np.sum(np.power(v, 3)), np.max(v)] as const;
  const [h, aux] = hessian(s, { hasAux: true })(x);
  close(h, np.multiply(np.eye(3), np.multiply(x, 6)));
  close(aux, 3);
  const [h2] = hessian(s, { hasAux: true, argnums: [0] })(x);
  close(h2[0][0], np.multiply(np.eye(3), np.multiply(x, 6)));
  throwsWith(() => jacobian(f, { hasAux: true, sparsity: "auto" }), JacobiError, ["hasAux is not supported"]);
  throwsWith(() => hessian(f, { hasAux: true, format: "csr" }), JacobiError, ["hasAux is not supported"]);
});

test("an unknown or ill-typed option of a differentiating transformation is an OptionsError naming it", () => {
  const sq = (v: Tensor) => np.sum(np.square(v));
  throwsWith(() => grad(sq, { argnum: 0 } as never), OptionsError, ['unknown option "argnum"', "argnums, hasAux"]);
  throwsWith(() => valueAndGrad(sq, { hasAux: 1 } as never), OptionsError, ["hasAux must be true or false"]);
  throwsWith(() => jvp(sq, [x], [x], { has_aux: true } as never), OptionsError, ['unknown option "has_aux"']);
  throwsWith(() => vjp(sq, [x], { aux: true } as never), OptionsError, ['unknown option "aux"']);
  throwsWith(() => linearize(sq, [x], { hasAux: "yes" } as never), OptionsError, ["hasAux must be true or false"]);
  throwsWith(() => jacfwd(sq, { argnum: 0 } as never), OptionsError, ['unknown option "argnum"']);
  throwsWith(() => jacrev(sq, { mode: "rev" } as never), OptionsError, ['unknown option "mode"']);
  throwsWith(() => jacobian(sq, { mode: "forward" } as never), OptionsError, ["mode must be one of"]);
  throwsWith(() => hessian(sq, { mode: "fwd" } as never), OptionsError, ['unknown option "mode"']);
});

test("d2(x^y)/dxdy at (4, 0) is 1/4 (JAX's y == 0 special case is for integer exponents only); x^0 at 0 stays flat", () => {
  const p = (a: Tensor, b: Tensor) => np.power(a, b);
  close(grad(grad(p, { argnums: 0 }), { argnums: 1 })(np.array(4), np.array(0)), 0.25);
  close(grad(grad(p, { argnums: 1 }), { argnums: 0 })(np.array(4), np.array(0)), 0.25);
  close(grad(p)(np.array(0), np.array(0)), 0);
  close(grad(p)(np.array(4), np.array(0)), 0);
  close(grad(p)(np.array(4), np.array(0.5)), 0.25);
});
test.run();
