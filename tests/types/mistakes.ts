// Typed transformations, negative cases: every line after a `@ts-expect-error` is a mistake that
// must not compile. tsc fails on an unused `@ts-expect-error`, so a signature that loosens (to
// `any`, to `unknown[]` arguments) makes the typecheck fail here. Never run, only typechecked.
import { type Tensor, checkpoint, customJvp, customVjp, grad, hessian, jacrev, jit, jvp, lax, linearize, makeJaxpr, np, tree, valueAndGrad, vjp, vmap } from "../../src/index.js";

const f = (x1: Tensor, x2: Tensor): Tensor => np.subtract(np.add(np.log(x1), np.multiply(x1, x2)), np.sin(x2));
const x = np.array([1, 2, 3]);
const withAux = (v: Tensor) => [np.sum(v), { n: v.size }] as const;
const loss = (p: { w: Tensor; b: Tensor }) => np.sum(np.add(p.w, p.b));

export function mistakes(): unknown[] {
  const out: unknown[] = [];
  // ---- grad and valueAndGrad ----
  // @ts-expect-error too few arguments for f
  out.push(grad(f)(1));
  // @ts-expect-error too many arguments for f
  out.push(grad(f)(1, 2, 3));
  // @ts-expect-error a string where f takes a Tensor
  out.push(grad(f)("2", 5));
  // @ts-expect-error a gradient is a Tensor, not a number
  out.push(grad(f)(2, 5).toFixed(2));
  // @ts-expect-error a gradient is a Tensor, not a number
  const asNumber: number = grad(f)(2, 5);
  out.push(asNumber);
  // @ts-expect-error the gradient of a pytree argument has its keys, and no others
  out.push(grad(loss)({ w: x, b: x }).c);
  // @ts-expect-error with hasAux the result is a pair [grad, aux]
  const [g1, aux1, extra] = grad(withAux, { hasAux: true })(x);
  out.push(g1, aux1, extra);
  // @ts-expect-error without hasAux a function returning a pair is not a scalar function
  out.push(grad(withAux)(x));
  // @ts-expect-error with hasAux the function must return a pair [output, aux]
  out.push(grad((v: Tensor) => np.sum(v), { hasAux: true })(x));
  // @ts-expect-error grad needs a Tensor (or number) output, not a string
  out.push(grad((v: Tensor) => `${v.size}`)(x));
  // @ts-expect-error valueAndGrad with hasAux gives [[value, aux], grad]: the value is not a Tensor
  out.push(valueAndGrad(withAux, { hasAux: true })(x)[0].item());
  // @ts-expect-error jvp with hasAux gives three results [out, tangent, aux]: there is no fourth
  out.push(jvp(withAux, [x], [x], { hasAux: true })[3]);
  // @ts-expect-error vjp with hasAux: the aux (third) result is f's aux, which has no key "m"
  out.push(vjp(withAux, [x], { hasAux: true })[2].m);
  // @ts-expect-error jacrev with hasAux gives [jacobian, aux]: the result is not a Tensor
  out.push(jacrev(withAux, { hasAux: true })(x).item());
  // @ts-expect-error linearize with hasAux: the jvp function takes tangents like x, not strings
  out.push(linearize(withAux, [x], { hasAux: true })[1]("t"));
  // @ts-expect-error argnums [0, 1] gives a pair: there is no third gradient
  out.push(grad(f, { argnums: [0, 1] })(2, 5)[2]);
  // @ts-expect-error argnums 2 is out of range for f's two parameters: there is no such gradient
  out.push(grad(f, { argnums: 2 })(2, 5).item());
  // @ts-expect-error an unknown option is an error (argnum for argnums)
  out.push(grad(f, { argnum: 1 }));

  // ---- jvp, vjp, linearize ----
  // @ts-expect-error one primal for a function of two
  out.push(jvp(f, [2], [1]));
  // @ts-expect-error a string tangent
  out.push(jvp(f, [2, 5], ["1", 0]));
  const [, back] = vjp(f, [2, 5]);
  // @ts-expect-error the cotangent of a Tensor output is a Tensor, not a pytree
  out.push(back({ y: 1 }));
  // @ts-expect-error vjp's function returns one cotangent per primal: two here
  const [c1, c2, c3] = back(1);
  out.push(c1, c2, c3);
  const [, push] = linearize(f, [2, 5]);
  // @ts-expect-error linearize's function takes one tangent per primal
  out.push(push(1));

  // ---- Jacobians, vmap, jit, checkpoint, makeJaxpr ----
  // @ts-expect-error a Jacobian of a pytree input has the input's keys
  out.push(jacrev(loss)({ w: x, b: x }).c);
  // @ts-expect-error hessian with argnums [0, 1] is 2 x 2 blocks
  out.push(hessian(f, { argnums: [0, 1] })(2, 5)[0][2]);
  // @ts-expect-error vmap keeps f's arity
  out.push(vmap(f)(x));
  // @ts-expect-error an unknown vmap option (inAxis for inAxes)
  out.push(vmap(f, { inAxis: 0 }));
  // @ts-expect-error jit keeps f's parameter types: a string is no Tensor
  out.push(jit(f)(x, "5"));
  // @ts-expect-error a static argument keeps its own type: a Tensor where f takes a number
  out.push(jit((v: Tensor, n: number) => np.multiply(v, n), { staticArgnums: 1 })(x, x));
  // @ts-expect-error checkpoint keeps f's arity
  out.push(checkpoint(f)(2));
  // @ts-expect-error makeJaxpr's function takes f's arguments
  out.push(makeJaxpr(f)("2", 5));
  const sq = customJvp((v: Tensor) => np.multiply(v, v));
  // @ts-expect-error a customJvp function keeps f's arity
  out.push(sq(1, 2));
  // @ts-expect-error a JVP rule returns [out, tangentOut], both Tensors here
  sq.defjvp(([v], [t]) => [sq(v), "t"]);
  const cv = customVjp((a: Tensor, b: Tensor) => np.multiply(a, b));
  // @ts-expect-error fwd must return [out, residuals]
  cv.defvjp((a: Tensor) => a, (_res: unknown, ct: Tensor) => [ct, ct]);
  // @ts-expect-error bwd returns one cotangent per argument: two here
  cv.defvjp((a, b) => [np.multiply(a, b), [a, b]], (_res, ct) => [ct]);

  // ---- lax ----
  // @ts-expect-error scan's body returns the wrong carry type: a pair where init is a scalar
  out.push(lax.scan((c, v) => [[c, c], v], 0, x));
  // @ts-expect-error scan's body returns a carry of another structure
  out.push(lax.scan((c, v) => [{ b: c.a.add(v) }, v], { a: 0 }, x));
  // @ts-expect-error scan's body must return a pair [carry, y]
  out.push(lax.scan((c: Tensor) => c, 0, x));
  const [carry, ys] = lax.scan((c, v) => [c.add(v), null], 0, x);
  // @ts-expect-error scan without ys gives null ys
  out.push(carry, ys.sum());
  // @ts-expect-error whileLoop's body must return init's structure
  out.push(lax.whileLoop((c) => c.lt(3), (c) => [c], 0));
  // @ts-expect-error whileLoop's condFn must return a TensorLike predicate
  out.push(lax.whileLoop((c) => "yes", (c) => c.add(1), 0));
  // @ts-expect-error foriLoop's body receives the carry as a Tensor: no pytree key on it
  out.push(lax.foriLoop(0, 3, (i, acc) => acc.total.add(i), 0));
  // @ts-expect-error a cond branch takes no more parameters than there are operands
  out.push(lax.cond(true, (a: Tensor, b: Tensor) => a.add(b), (a: Tensor) => a, x));
  // @ts-expect-error a switch index is TensorLike, not a string
  out.push(lax.switch("1", [() => x], x));

  // ---- tree ----
  // @ts-expect-error tree.map keeps the structure: the result has no key c
  out.push(tree.map((t) => t.neg(), { a: x, b: x }).c);
  // @ts-expect-error tree.map's leaves are Tensors here: no string methods
  out.push(tree.map((t) => t.toUpperCase(), [x, x]));
  // @ts-expect-error tree.leaves of a Tensor pytree are Tensors, not numbers
  const nums: number[] = tree.leaves({ a: x });
  out.push(nums);
  return out;
}
