// API misuse: every wrong call ends in the documented error class with a message that names the
// transformation and what was wrong, and nothing is left behind (the guard checks the trace stack).
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  DTypeError,
  JacobiError,
  ShapeError,
  TreeError,
  checkGrads,
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
  linearize,
  makeJaxpr,
  np,
  valueAndGrad,
  vjp,
  vmap,
} from "../../src/index.js";
import { guardTraceState } from "../guard.js";
import { flat, throwsExactly } from "./util.js";

guardTraceState(test);

const sq = (x: any) => np.sum(np.square(x));
const f2 = (x: any, y: any) => np.sum(np.multiply(x, y));

// ---------- not a function ----------

const curried: Record<string, (f: any) => unknown> = {
  grad: (f) => grad(f),
  valueAndGrad: (f) => valueAndGrad(f),
  jacfwd: (f) => jacfwd(f),
  jacrev: (f) => jacrev(f),
  jacobian: (f) => jacobian(f),
  hessian: (f) => hessian(f),
  vmap: (f) => vmap(f),
  makeJaxpr: (f) => makeJaxpr(f),
  jvp: (f) => jvp(f, [1], [1]),
  vjp: (f) => vjp(f, [1]),
  linearize: (f) => linearize(f, [1]),
  checkGrads: (f) => checkGrads(f, [1]),
  jit: (f) => jit(f),
  customJvp: (f) => customJvp(f),
  customVjp: (f) => customVjp(f),
  checkpoint: (f) => checkpoint(f),
};
const notFunctions: [unknown, string][] = [
  [3, "got number"],
  ["np.sin", "got string"],
  [null, "got null"],
  [undefined, "got undefined"],
  [{ f: np.sin }, "got Object"],
  [[np.sin], "got a JS array"],
];

test("a non-function given to any transformation is a JacobiError naming it and what it got, before any call", () => {
  for (const [name, make] of Object.entries(curried)) {
    for (const [bad, words] of notFunctions) throwsExactly(() => make(bad), JacobiError, [`${name}: expected a function to transform`, words]);
  }
});

// ---------- argnums ----------

const withArgnums: Record<string, (argnums: any) => (...a: any[]) => unknown> = {
  grad: (argnums) => grad(f2, { argnums }),
  valueAndGrad: (argnums) => valueAndGrad(f2, { argnums }),
  jacfwd: (argnums) => jacfwd(f2, { argnums }),
  jacrev: (argnums) => jacrev(f2, { argnums }),
  jacobian: (argnums) => jacobian(f2, { argnums }),
  hessian: (argnums) => hessian(f2, { argnums }),
};

test("argnums out of range (either end) names the transformation, the index and how many arguments were passed", () => {
  for (const [name, make] of Object.entries(withArgnums)) {
    throwsExactly(() => make(2)(1, 2), JacobiError, [`${name}: argnums 2 is out of range`, "2 positional arguments"]);
    throwsExactly(() => make(-3)(1, 2), JacobiError, [`${name}: argnums -3 is out of range`, "2 positional arguments"]);
    throwsExactly(() => make([0, 5])(1, 2), JacobiError, [`${name}: argnums 5 is out of range`]);
  }
  throwsExactly(() => grad(sq, { argnums: 1 })(1), JacobiError, ["grad: argnums 1 is out of range for a call with 1 positional argument"]);
});

test("duplicated argnums (also via a negative alias) and an empty list are rejected", () => {
  for (const [name, make] of Object.entries(withArgnums)) {
    throwsExactly(() => make([0, 0])(1, 2), JacobiError, [`${name}: argnums [0,0] has duplicates`]);
    throwsExactly(() => make([1, -1])(1, 2), JacobiError, [`${name}: argnums [1,-1] has duplicates`]);
    throwsExactly(() => make([])(1, 2), JacobiError, [`${name}: argnums must not be empty`]);
  }
});

test("non-integer argnums are rejected and shown as given (1.5, NaN, a string)", () => {
  for (const [name, make] of Object.entries(withArgnums)) {
    throwsExactly(() => make(1.5)(1, 2), JacobiError, [`${name}: argnums must be integers, got 1.5`]);
    throwsExactly(() => make(NaN)(1, 2), JacobiError, [`${name}: argnums must be integers, got NaN`]);
    throwsExactly(() => make("0")(1, 2), JacobiError, [`${name}: argnums must be integers, got "0"`]);
    throwsExactly(() => make([0, 0.5])(1, 2), JacobiError, [`${name}: argnums must be integers, got 0.5`]);
  }
});

test("valid argnums still work after all those errors: negative indices count from the end", () => {
  const [gx, gy] = grad(f2, { argnums: [-2, -1] })(np.array([1, 2]), np.array([3, 4]));
  assert.equal([gx.tolist(), gy.tolist()], [[3, 4], [1, 2]]);
});

// ---------- hasAux ----------

test("hasAux: a function that does not return a pair is a TreeError saying what it returned", () => {
  for (const [name, t] of [["grad", grad], ["valueAndGrad", valueAndGrad]] as const) {
    throwsExactly(() => t((x: any) => x.mul(x), { hasAux: true })(2), TreeError, [`${name} with hasAux`, "pair [output, aux]", "got object"]);
    throwsExactly(() => t((x: any) => [x.mul(x)], { hasAux: true })(2), TreeError, [`${name} with hasAux`, "an array of length 1"]);
    throwsExactly(() => t((x: any) => [x, x, x], { hasAux: true })(2), TreeError, ["an array of length 3"]);
    // @ts-expect-error deliberate misuse, checked at run time
    throwsExactly(() => t((x: any) => ({ out: x, aux: 1 }), { hasAux: true })(2), TreeError, ["pair [output, aux]", "got object"]);
    // @ts-expect-error deliberate misuse, checked at run time
    throwsExactly(() => t((x: any) => undefined, { hasAux: true })(2), TreeError, ["pair [output, aux]", "got undefined"]);
  }
});

test("hasAux: an aux that is not a pytree of Tensors names the aux", () => {
  throwsExactly(() => grad((x: any) => [x.mul(x), "note"], { hasAux: true })(2), JacobiError, ["grad (aux): the function returned string"]);
  const [g, aux] = grad((x: any) => [x.mul(x), { twice: x.mul(2), n: 7 }], { hasAux: true })(3);
  assert.equal([g.item(), aux.twice.item(), aux.n.item()], [6, 6, 7]);
});

// ---------- what the function returns ----------

const runs: Record<string, (f: any) => unknown> = {
  grad: (f) => grad(f)(2),
  valueAndGrad: (f) => valueAndGrad(f)(2),
  jvp: (f) => jvp(f, [2], [1]),
  vjp: (f) => vjp(f, [2]),
  linearize: (f) => linearize(f, [2]),
  jacfwd: (f) => jacfwd(f)(2),
  jacrev: (f) => jacrev(f)(2),
  jacobian: (f) => jacobian(f)(2),
  vmap: (f) => vmap(f)(np.ones([3])),
  makeJaxpr: (f) => makeJaxpr(f)(2),
  jit: (f) => jit(f)(2),
};

test("a function returning undefined: JacobiError naming the transformation", () => {
  for (const [name, run] of Object.entries(runs)) {
    throwsExactly(() => run(() => undefined), JacobiError, [`${name}: the function returned undefined`, "a Tensor or a pytree of Tensors"]);
  }
});

test("a function returning a string (or a string inside its output pytree): JacobiError", () => {
  for (const [name, run] of Object.entries(runs)) {
    throwsExactly(() => run(() => "done"), JacobiError, [`${name}: the function returned string`, "it must return Tensors"]);
  }
  throwsExactly(() => jacrev((x: any) => ({ y: x, label: "y" }))(2), JacobiError, ["jacrev: the function returned string at output leaf 0"]);
});

test("a function returning a Promise (an async function): JacobiError pointing at async", () => {
  for (const [name, run] of Object.entries(runs)) {
    throwsExactly(() => run(async (x: any) => x), JacobiError, [`${name}: the function returned a Promise`, "async functions cannot be transformed"]);
  }
});

test("returning null or a JS number is a pytree / constant, not an error of its own", () => {
  // null is an empty pytree: grad then has no scalar to differentiate.
  // @ts-expect-error deliberate misuse, checked at run time
  throwsExactly(() => grad(() => null)(2), ShapeError, ["grad: the function must return a single scalar Tensor", "None"]);
  // A JS number is a constant output: zero derivative, as JAX.
  // @ts-expect-error deliberate misuse, checked at run time
  assert.is(grad(() => 3)(2).item(), 0);
  // @ts-expect-error deliberate misuse, checked at run time
  const [y, t] = jvp(() => 3, [2], [1]);
  assert.equal([y.item(), t.item()], [3, 0]);
});

// ---------- cotangents given to a vjp function ----------

test("vjpFn: a cotangent of the wrong structure is a TreeError showing both structures", () => {
  const [, back] = vjp((x: any) => ({ a: x.mul(2), b: x.sum() }), [np.ones([2])]);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsExactly(() => back({ a: np.ones([2]) }), TreeError, ["vjp function: the cotangent has structure {a: *}, expected {a: *, b: *}"]);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsExactly(() => back([np.ones([2]), 1]), TreeError, ["structure [*, *], expected {a: *, b: *}"]);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsExactly(() => back(null), TreeError, ["structure None, expected {a: *, b: *}"]);
  const [, back1] = vjp(np.sin, [np.ones([2])]);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsExactly(() => back1([np.ones([2])]), TreeError, ["the cotangent has structure [*], expected *"]);
  // The right structure works, and a JS number is accepted for a scalar output.
  assert.equal(back({ a: np.array([1, 10]), b: 1 })[0].tolist(), [3, 21]);
});

test("vjpFn: a cotangent of the wrong shape is a ShapeError with both shapes", () => {
  const [, back] = vjp((x: any) => x.mul(2), [np.ones([2, 3])]);
  throwsExactly(() => back(np.ones([3, 2])), ShapeError, ["vjp function: cotangent 0 has shape [3,2], expected [2,3]"]);
  throwsExactly(() => back(np.ones([6])), ShapeError, ["has shape [6], expected [2,3]"]);
  throwsExactly(() => back(1), ShapeError, ["has shape [], expected [2,3]"]);
});

test("vjpFn: a cotangent of the wrong dtype is a DTypeError (int32, float32, bool for a float64 output)", () => {
  const [, back] = vjp((x: any) => x.mul(2), [np.ones([2])]);
  throwsExactly(() => back(np.array([1, 1], "int32")), DTypeError, ["vjp function: cotangent 0 has dtype int32, expected float64"]);
  throwsExactly(() => back(np.array([1, 1], "float32")), DTypeError, ["cotangent 0 has dtype float32, expected float64"]);
  throwsExactly(() => back(np.array([true, false])), DTypeError, ["cotangent 0 has dtype bool, expected float64"]);
  throwsExactly(() => back("ones"), DTypeError, ["vjp function: cotangent", "got string"]);
});

test("a failed vjpFn call leaves the vjpFn usable", () => {
  const [, back] = vjp((x: any) => x.mul(x), [np.array([1, 2, 3])]);
  throwsExactly(() => back(np.ones([4])), ShapeError, ["expected [3]"]);
  assert.equal(back(np.ones([3]))[0].tolist(), [2, 4, 6]);
});

// ---------- tangents given to jvp / linearize ----------

test("jvp: tangents of the wrong structure are a TreeError; primals and tangents must be arrays", () => {
  // @ts-expect-error deliberate misuse, checked at run time
  throwsExactly(() => jvp(f2, [1, 2], [1]), TreeError, ["jvp: the tangents has structure [*], expected [*, *]"]);
  throwsExactly(() => jvp((p: any) => p.a, [{ a: 1 }], [{ b: 1 }]), TreeError, ["structure [{b: *}], expected [{a: *}]"]);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsExactly(() => jvp(np.sin, [1], [[1, 2]]), TreeError, ["structure [[*, *]], expected [*]"]);
  throwsExactly(() => jvp(np.sin, 1 as any, [1]), JacobiError, ["jvp: primals must be an array with one entry per argument", "got number"]);
  throwsExactly(() => jvp(np.sin, [1], np.ones([1]) as any), JacobiError, ["jvp: tangents must be an array", "got object"]);
});

test("jvp: tangents of the wrong shape or dtype name the tangent and both sides", () => {
  throwsExactly(() => jvp(np.sin, [np.ones([2])], [np.ones([3])]), ShapeError, ["jvp: tangent 0 has shape [3], expected [2]"]);
  throwsExactly(() => jvp(f2, [1, np.ones([2])], [1, 1]), ShapeError, ["jvp: tangent 1 has shape [], expected [2]"]);
  throwsExactly(() => jvp(np.sin, [np.ones([2])], [np.ones([2], "float32")]), DTypeError, ["jvp: tangent 0 has dtype float32, expected float64"]);
  throwsExactly(() => jvp(np.sin, [np.ones([2])], [np.ones([2], "int32")]), DTypeError, ["tangent 0 has dtype int32"]);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsExactly(() => jvp(np.sin, [1], ["1"]), DTypeError, ["jvp: tangent", "got string"]);
});

test("linearize's jvp function checks its tangents the same way", () => {
  const [, push] = linearize(f2, [np.ones([2]), np.ones([2])]);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsExactly(() => push(np.ones([2])), TreeError, ["linearize's jvp function: the tangents has structure [*], expected [*, *]"]);
  throwsExactly(() => push(np.ones([2]), np.ones([3])), ShapeError, ["linearize's jvp function: tangent 1 has shape [3], expected [2]"]);
  assert.is(push(np.array([1, 0]), np.array([0, 1])).item(), 2);
});

// ---------- bad leaves as inputs ----------

test("strings as inputs: DTypeError naming the transformation or operation and the argument", () => {
  // @ts-expect-error deliberate misuse, checked at run time
  throwsExactly(() => grad(np.sin)("1.5"), DTypeError, ["grad: argument 0: expected a number, boolean, Tensor, ndarray or typed array, got string"]);
  throwsExactly(() => grad(f2, { argnums: 1 })(1, "x"), DTypeError, ["grad: argument 1", "got string"]);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsExactly(() => jvp(np.sin, ["1"], [1]), DTypeError, ["jvp: primal", "got string"]);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsExactly(() => vjp(np.sin, ["1"]), DTypeError, ["vjp: primal", "got string"]);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsExactly(() => vmap(np.sin)("abc"), DTypeError, ["vmap: argument", "got string"]);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsExactly(() => makeJaxpr(np.sin)("abc"), DTypeError, ["makeJaxpr: argument", "got string"]);
  throwsExactly(() => np.add(1, "2" as any), DTypeError, ["add: argument 1", "got string"]);
  throwsExactly(() => np.array([1, "2"] as any), DTypeError, ["array: element 1 is string"]);
  throwsExactly(() => np.array([1], "float16" as any), DTypeError, ['array: unknown dtype "float16"']);
});

test("null as an input is an empty pytree: an operation on it names the operation and null", () => {
  // @ts-expect-error deliberate misuse, checked at run time
  throwsExactly(() => grad(np.sin)(null), DTypeError, ["sin: argument 0", "got null"]);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsExactly(() => jvp(np.exp, [null], [null]), DTypeError, ["exp: argument 0", "got null"]);
  throwsExactly(() => np.array(null), DTypeError, ["array", "got null"]);
  throwsExactly(() => np.array([1, null]), DTypeError, ["array: element 1 is null"]);
  throwsExactly(() => np.multiply(np.ones([2]), null as any), DTypeError, ["multiply: argument 1", "got null"]);
  // A null leaf of a pytree argument is simply absent, as None in JAX.
  const g = grad((p: any) => np.square(p.w))({ w: 3, b: null });
  assert.equal([g.w.item(), g.b], [6, null]);
});

test("BigInt inputs are a DTypeError, never silently converted", () => {
  // @ts-expect-error deliberate misuse, checked at run time
  throwsExactly(() => grad(np.sin)(3n), DTypeError, ["grad: argument 0", "got bigint"]);
  throwsExactly(() => grad((p: any) => np.sin(p.x))({ x: 3n }), DTypeError, ["grad: argument 0", "got bigint"]);
  throwsExactly(() => np.add(1, 2n as any), DTypeError, ["add: argument 1", "got bigint"]);
  throwsExactly(() => np.array([1n, 2n] as any), DTypeError, ["array: element 0 is bigint"]);
  // @ts-expect-error deliberate misuse, checked at run time
  throwsExactly(() => jvp(np.sin, [1], [1n]), DTypeError, ["jvp: tangent", "got bigint"]);
});

test("nested ragged arrays: np.array rejects them with the path and lengths; as a pytree they are fine", () => {
  throwsExactly(() => np.array([[1, 2], [3]]), ShapeError, ["array: ragged nested array", "element [1] has length 1, expected length 2", "[2,2]"]);
  throwsExactly(() => np.array([[1, 2], 3]), ShapeError, ["ragged", "element [1] has no length"]);
  throwsExactly(() => np.array([1, [2]]), ShapeError, ["ragged", "element [1] is an array", "scalars"]);
  throwsExactly(() => np.array([[[1], [2]], [[3], [4, 5]]]), ShapeError, ["element [1][1] has length 2, expected length 1"]);
  // A JS array is a pytree node, so a ragged one is a valid argument to a transformation.
  const f = (t: any) => np.add(np.multiply(t[0][0], t[0][1]), np.square(t[1][0]));
  const g = grad(f)([[1, 2], [3]]);
  assert.equal([[g[0][0].item(), g[0][1].item()], [g[1][0].item()]], [[2, 1], [6]]);
});

test("a plain JS array where a Tensor is expected points to np.array", () => {
  throwsExactly(() => np.sin([1, 2] as any), DTypeError, ["sin: argument 0", "a JS array (a pytree node; write np.array([...]) for a vector)"]);
});

test("integer and bool inputs to grad are a DTypeError (not a silent zero)", () => {
  throwsExactly(() => grad(sq)(np.array([1, 2], "int32")), DTypeError, ["grad requires floating-point inputs", "argument 0 has dtype int32"]);
  throwsExactly(() => grad(sq)(true), DTypeError, ["argument 0 has dtype bool"]);
  throwsExactly(() => jacrev(sq)(np.array([1], "int32")), DTypeError, ["jacrev requires floating-point inputs"]);
});

test("after every misuse above, the same functions give the right answers", () => {
  assert.equal(flat(grad(sq)(np.array([1, -2, 3]))), [2, -4, 6]);
  const [y, t] = jvp(f2, [np.array([1, 2]), np.array([3, 4])], [np.array([1, 0]), np.array([0, 0])]);
  assert.equal([y.item(), t.item()], [11, 3]);
  assert.equal(vmap(grad(sq))(np.array([[1, 2], [3, 4]])).tolist(), [[2, 4], [6, 8]]);
});

test.run();
