// Typed transformations, positive cases: each example asserts the exact type TypeScript infers
// (`Equal`, so a result that widens to `any` or loses its structure fails the typecheck) and returns
// what it computed with the value expected, so that examples.test.ts also runs every one of them.
import {
  type ClosedJaxpr,
  type LeafOf,
  type Pytree,
  type Tensor,
  type TensorLike,
  type TensorTree,
  type TreeDef,
  checkpoint,
  customJvp,
  customVjp,
  grad,
  hessian,
  jacfwd,
  jacobian,
  jacrev,
  jit,
  jvp,
  lax,
  linearize,
  makeJaxpr,
  np,
  stopGradient,
  tree,
  valueAndGrad,
  vjp,
  vmap,
} from "../../src/index.js";
import { type Equal, assertType } from "./equal.js";

/** One example: what it computed and what it should be (compared with tests/helpers' `close`). */
export interface Example {
  name: string;
  run: () => [got: unknown, want: unknown];
}

// The seed chapter: f(x1, x2) = ln x1 + x1 x2 - sin x2 at (2, 5).
const f = (x1: Tensor, x2: Tensor): Tensor => np.subtract(np.add(np.log(x1), np.multiply(x1, x2)), np.sin(x2));
const D1 = 5.5, D2 = 1.7163378145367738, Y = 11.652071455223084;
const sumSq = (v: Tensor) => np.sum(np.multiply(v, v));
interface Params {
  w: Tensor;
  b: number;
}
const loss = (p: Params, x: Tensor) => np.sum(np.square(np.add(np.multiply(p.w, x), p.b)));

// ---- pytree types ----
assertType<Equal<TensorTree<[number, { w: Tensor; n: boolean[] }]>, [Tensor, { w: Tensor; n: Tensor[] }]>>();
assertType<Equal<TensorTree<{ a: readonly [number, null]; b?: Float64Array }>, { a: [Tensor, null]; b?: Tensor }>>();
assertType<Equal<TensorTree<unknown>, Pytree<Tensor>>>();
assertType<Equal<LeafOf<{ a: number; b: [Tensor, { c: boolean }] }>, number | Tensor | boolean>>();
// A recursive pytree type keeps its name (its leaves are Tensors already).
type State = Tensor | null | readonly State[] | { readonly [k: string]: State };
assertType<Equal<TensorTree<State>, State>>();

export const examples: Example[] = [
  {
    name: "grad has f's parameters, TensorLike allowed where f takes a Tensor, and returns a Tensor",
    run: () => {
      const g = grad(f);
      assertType<Equal<typeof g, (x1: TensorLike, x2: TensorLike) => Tensor>>();
      const d1 = g(2, 5);
      assertType<Equal<typeof d1, Tensor>>();
      return [d1, D1];
    },
  },
  {
    name: "grad's argnums picks the argument, negative from the end, an array gives a tuple",
    run: () => {
      const d2 = grad(f, { argnums: 1 })(2, 5);
      const last = grad(f, { argnums: -1 })(2, np.array(5));
      const both = grad(f, { argnums: [0, 1] })(2, 5);
      assertType<Equal<typeof d2, Tensor>>();
      assertType<Equal<typeof last, Tensor>>();
      assertType<Equal<typeof both, [Tensor, Tensor]>>();
      return [[d2, last, both], [D2, D2, [D1, D2]]];
    },
  },
  {
    name: "grad of a pytree argument has its structure with Tensor leaves (numbers become Tensors)",
    run: () => {
      const gp = grad(loss)({ w: np.array([1, 2]), b: 1 }, np.array([3, 4]));
      assertType<Equal<typeof gp, { w: Tensor; b: Tensor }>>();
      // d/dw sum((w x + b)^2) = 2 (w x + b) x, d/db = 2 sum(w x + b)
      return [gp, { w: [2 * 4 * 3, 2 * 9 * 4], b: 2 * (4 + 9) }];
    },
  },
  {
    name: "hasAux: grad gives [grad, aux], valueAndGrad [[value, aux], grad]; aux keeps its structure",
    run: () => {
      const withAux = (x: Tensor) => [sumSq(x), { norm: np.sqrt(sumSq(x)), n: 2 }] as const;
      const [g, aux] = grad(withAux, { hasAux: true })(np.array([3, 4]));
      assertType<Equal<typeof g, Tensor>>();
      assertType<Equal<typeof aux, { norm: Tensor; n: Tensor }>>();
      const [[v, aux2], g2] = valueAndGrad(withAux, { hasAux: true })(np.array([3, 4]));
      assertType<Equal<typeof v, Tensor>>();
      assertType<Equal<typeof aux2, { norm: Tensor; n: Tensor }>>();
      const [v3, g3] = valueAndGrad(f)(2, 5);
      assertType<Equal<[typeof v3, typeof g3], [Tensor, Tensor]>>();
      return [[g, aux, v, aux2, g2, v3, g3], [[6, 8], { norm: 5, n: 2 }, 25, { norm: 5, n: 2 }, [6, 8], Y, D1]];
    },
  },
  {
    name: "hasAux on jvp, vjp, linearize, jacrev, jacfwd and hessian: aux comes last, typed from f's pair",
    run: () => {
      const pairF = (v: Tensor) => [np.multiply(v, v), { s: np.sum(v) }] as const;
      const x0 = np.array([1, 2]);
      const [y, t, a] = jvp(pairF, [x0], [np.array([1, 0])], { hasAux: true });
      assertType<Equal<[typeof y, typeof t, typeof a], [Tensor, Tensor, { readonly s: Tensor }]>>();
      const [y2, back, a2] = vjp(pairF, [x0], { hasAux: true });
      const [ct] = back(np.array([1, 1]));
      assertType<Equal<[typeof y2, typeof ct, typeof a2], [Tensor, Tensor, { readonly s: Tensor }]>>();
      const [y3, lin, a3] = linearize(pairF, [x0], { hasAux: true });
      const t3 = lin(np.array([0, 1]));
      assertType<Equal<[typeof y3, typeof t3, typeof a3], [Tensor, Tensor, { readonly s: Tensor }]>>();
      const [j, a4] = jacrev(pairF, { hasAux: true })(x0);
      const [j2] = jacfwd(pairF, { hasAux: true })(x0);
      assertType<Equal<[typeof j, typeof j2, typeof a4], [Tensor, Tensor, { readonly s: Tensor }]>>();
      const [h, a5] = hessian((v: Tensor) => [np.sum(np.power(v, 3)), v] as const, { hasAux: true })(x0);
      assertType<Equal<[typeof h, typeof a5], [Tensor, Tensor]>>();
      return [[y, t, a, ct, a2, t3, a3, j, j2, h, a5], [[1, 4], [2, 0], { s: 3 }, [2, 4], { s: 3 }, [0, 4], { s: 3 }, [[2, 0], [0, 4]], [[2, 0], [0, 4]], [[6, 0], [0, 12]], [1, 2]]];
    },
  },
  {
    name: "jvp, vjp and linearize: results typed from f's output, one cotangent per primal",
    run: () => {
      const [y, t] = jvp(f, [2, 5], [1, 0]);
      assertType<Equal<[typeof y, typeof t], [Tensor, Tensor]>>();
      const [y2, back] = vjp(f, [2, 5]);
      const cts = back(1);
      assertType<Equal<typeof back, (ct: TensorLike) => [x1: Tensor, x2: Tensor]>>();
      const [y3, push] = linearize(f, [2, 5]);
      assertType<Equal<typeof push, (x1: TensorLike, x2: TensorLike) => Tensor>>();
      const tree2 = (x: Tensor) => ({ s: np.sin(x), c: [np.cos(x)] });
      const [pt, tt] = jvp(tree2, [0], [1]);
      assertType<Equal<typeof tt, { s: Tensor; c: Tensor[] }>>();
      return [[y, t, y2, cts, y3, push(0, 1), pt, tt], [Y, D1, Y, [D1, D2], Y, D2, { s: 0, c: [1] }, { s: 1, c: [-0] }]];
    },
  },
  {
    name: "Jacobians and Hessians: the output's structure around the input's",
    run: () => {
      const fv = (x: Tensor) => f(np.take(x, 0), np.take(x, 1));
      const x = np.array([2, 5]);
      const jf = jacfwd(fv)(x);
      const jr = jacrev(fv)(x);
      const ja = jacobian(fv, { mode: "rev" })(x);
      assertType<Equal<[typeof jf, typeof jr, typeof ja], [Tensor, Tensor, Tensor]>>();
      const pair = jacfwd((v: Tensor) => [np.sin(v), { c: np.cos(v) }])(np.array(0));
      assertType<Equal<typeof pair, [Tensor, { c: Tensor }]>>();
      const byArg = jacrev(f, { argnums: [0, 1] })(2, 5);
      assertType<Equal<typeof byArg, [Tensor, Tensor]>>();
      const h = hessian(fv)(x);
      const hs = hessian(f, { argnums: [0, 1] })(2, 5);
      assertType<Equal<typeof h, Tensor>>();
      assertType<Equal<typeof hs, [[Tensor, Tensor], [Tensor, Tensor]]>>();
      const hp = hessian(loss)({ w: np.array(1), b: 0 }, np.array(3));
      assertType<Equal<typeof hp, { w: { w: Tensor; b: Tensor }; b: { w: Tensor; b: Tensor } }>>();
      return [
        [jf, jr, ja, pair, byArg, h, hs, hp],
        [[D1, D2], [D1, D2], [D1, D2], [1, { c: -0 }], [D1, D2], [[-0.25, 1], [1, Math.sin(5)]], [[-0.25, 1], [1, Math.sin(5)]], { w: { w: 18, b: 6 }, b: { w: 6, b: 2 } }],
      ];
    },
  },
  {
    name: "vmap, jit and checkpoint keep f's signature (with Tensor results) and compose",
    run: () => {
      const stats = (x: Tensor, w: Tensor) => ({ mean: np.mean(np.multiply(x, w)), max: np.max(x) });
      const vs = vmap(stats, { inAxes: [0, null] });
      assertType<Equal<typeof vs, (x: TensorLike, w: TensorLike) => { mean: Tensor; max: Tensor }>>();
      const out = vs(np.array([[1, 2], [3, 5]]), np.array([1, 1]));
      const jf = jit(f);
      assertType<Equal<typeof jf, (x1: TensorLike, x2: TensorLike) => Tensor>>();
      const scaled = jit((x: Tensor, n: number) => np.multiply(x, n), { staticArgnums: 1 });
      assertType<Equal<typeof scaled, (x: TensorLike, n: number) => Tensor>>();
      const cf = checkpoint(f);
      assertType<Equal<typeof cf, (x1: TensorLike, x2: TensorLike) => Tensor>>();
      const perRow = vmap(grad(sumSq))(np.array([[1, 2], [3, 4]]));
      assertType<Equal<typeof perRow, Tensor>>();
      const untyped: (x: Tensor) => unknown = (v) => np.square(v);
      const loose = vmap(untyped)(np.array([1, 2]));
      assertType<Equal<typeof loose, Pytree<Tensor>>>();
      const nested = jit(grad(cf))(2, 5);
      assertType<Equal<typeof nested, Tensor>>();
      return [[out, jf(2, 5), scaled(np.array([1, 2]), 3), perRow, loose, nested], [{ mean: [1.5, 4], max: [2, 5] }, Y, [3, 6], [[2, 4], [6, 8]], [1, 4], D1]];
    },
  },
  {
    name: "makeJaxpr returns a ClosedJaxpr; stopGradient a Tensor",
    run: () => {
      const j = makeJaxpr(f)(2, 5);
      assertType<Equal<typeof j, ClosedJaxpr>>();
      const s = grad((x: Tensor) => np.multiply(stopGradient(x), x))(3);
      assertType<Equal<typeof s, Tensor>>();
      return [[j.jaxpr.eqns.length, s], [5, 3]];
    },
  },
  {
    name: "customJvp and customVjp: rules typed from f (untyped rule parameters get f's types)",
    run: () => {
      const softplus = customJvp((x: Tensor) => np.log(np.add(1, np.exp(x))));
      softplus.defjvp(([x], [t]) => [softplus(x), np.multiply(t, np.divide(1, np.add(1, np.exp(np.negative(x)))))]);
      assertType<Equal<ReturnType<typeof softplus>, Tensor>>();
      const clip = customVjp((x: Tensor, lim: Tensor) => np.multiply(x, 1));
      clip.defvjp(
        (x, lim) => [x, lim],
        (lim, ct) => {
          assertType<Equal<typeof lim, Tensor>>();
          return [np.clip(ct, np.negative(lim), lim), null];
        },
      );
      const gs = grad(softplus)(0);
      const gc = grad((x: Tensor) => np.multiply(clip(x, 0.5), 3))(1);
      return [[gs, gc], [0.5, 0.5]];
    },
  },
  {
    name: "lax.cond and lax.switch: branches receive the operands as Tensors; results typed",
    run: () => {
      const x = np.array(2);
      const c = lax.cond(x.gt(0), (a) => np.multiply(a, a), (a) => np.negative(a), x);
      assertType<Equal<typeof c, Tensor>>();
      const s = lax.switch(1, [(a: Tensor, k: Tensor) => ({ v: a.add(k) }), (a, k) => ({ v: a.sub(k) })], x, 5);
      assertType<Equal<typeof s, { v: Tensor }>>();
      return [[c, s], [4, { v: -3 }]];
    },
  },
  {
    name: "lax loops infer the carry from init; scan its carry and ys; lax.map its results",
    run: () => {
      const [i, v] = lax.whileLoop(([k]) => k.lt(3), ([k, u]) => [k.add(1), u.mul(2)], [0, np.array(1)]);
      assertType<Equal<[typeof i, typeof v], [Tensor, Tensor]>>();
      const sum = lax.foriLoop(0, 5, (k, acc) => acc.add(k), 0);
      assertType<Equal<typeof sum, Tensor>>();
      const [total, running] = lax.scan((carry, x) => [carry.add(x), carry.add(x)], 0, np.array([1, 2, 3]));
      assertType<Equal<[typeof total, typeof running], [Tensor, Tensor]>>();
      const [acc, none] = lax.scan((cr, x) => [{ s: cr.s.add(x.a), n: cr.n.add(1) }, null], { s: 0, n: 0 }, { a: np.array([1, 2]) });
      assertType<Equal<typeof acc, { s: Tensor; n: Tensor }>>();
      assertType<Equal<typeof none, null>>();
      const mapped = lax.map((r) => ({ s: np.sum(r.a) }), { a: np.array([[1, 2], [3, 4]]) });
      assertType<Equal<typeof mapped, { s: Tensor }>>();
      return [[i, v, sum, total, running, acc, none, mapped], [3, 8, 10, 6, [1, 3, 6], { s: 3, n: 2 }, null, { s: [3, 7] }]];
    },
  },
  {
    name: "tree.map, leaves, flatten and unflatten keep the pytree's type",
    run: () => {
      const params = { w: np.array([1, 2]), b: [np.array(3)] };
      const grads = { w: np.array([10, 10]), b: [np.array(10)] };
      const stepped = tree.map((p, g) => p.sub(g.mul(0.1)), params, grads);
      assertType<Equal<typeof stepped, { w: Tensor; b: Tensor[] }>>();
      const sizes = tree.map((p) => p.size, params);
      assertType<Equal<typeof sizes, { w: number; b: number[] }>>();
      const leaves = tree.leaves(params);
      assertType<Equal<typeof leaves, Tensor[]>>();
      const [ls, def] = tree.flatten({ a: 1, b: [true, null] as [boolean, null] });
      assertType<Equal<typeof ls, (number | boolean)[]>>();
      assertType<Equal<typeof def, TreeDef<{ a: number; b: [boolean, null] }>>>();
      const back = tree.unflatten(def, [np.array(7), 8]);
      assertType<Equal<typeof back, { a: number | Tensor; b: [number | Tensor, null] }>>();
      return [[stepped, sizes, leaves.length, back], [{ w: [0, 1], b: [2] }, { w: 2, b: [1] }, 2, { a: 7, b: [8, null] }]];
    },
  },
];
