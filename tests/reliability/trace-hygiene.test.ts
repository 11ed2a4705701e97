// Trace hygiene: exceptions pass through unchanged and leave no trace state; escaped tracers and
// abstract values used as JS numbers fail loudly instead of giving a wrong value.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  ConcretizationError,
  EscapedTracerError,
  ShapeError,
  checkGrads,
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
  valueAndGrad,
  vjp,
  vmap,
} from "../../src/index.js";
import { traceDepth } from "../../src/core/trace.js";
import { guardTraceState } from "../guard.js";
import { caught, throwsExactly } from "../helpers.js";

guardTraceState(test);

class UserError extends Error {}

const cube = (x: any) => np.sum(np.power(x, 3));
const v = np.array([1, 2]);

// Each entry applies a transformation to `f` on a small vector input.
const transforms: Record<string, (f: (x: any) => any) => unknown> = {
  grad: (f) => grad(f)(v),
  valueAndGrad: (f) => valueAndGrad(f)(v),
  jvp: (f) => jvp(f, [v], [v]),
  vjp: (f) => vjp(f, [v]),
  linearize: (f) => linearize(f, [v]),
  jacfwd: (f) => jacfwd(f)(v),
  jacrev: (f) => jacrev(f)(v),
  jacobian: (f) => jacobian(f)(v),
  hessian: (f) => hessian(f)(v),
  vmap: (f) => vmap(f)(np.ones([3, 2])),
  makeJaxpr: (f) => makeJaxpr(f)(v),
  jit: (f) => jit(f)(v),
  checkGrads: (f) => checkGrads(f, [v]),
};

test("an exception thrown by the user function propagates as the same object from every transformation", () => {
  for (const [name, run] of Object.entries(transforms)) {
    const err = new UserError(`from ${name}`);
    const got = caught(() =>
      run((x: any) => {
        np.sin(x); // some work first, so that levels are live when it throws
        throw err;
      }),
    );
    assert.ok(got === err, `${name}: the thrown object changed`);
    assert.is(traceDepth(), 0, `${name}: trace stack left non-empty`);
  }
});

test("non-Error throwables (a string, a number, undefined) also come back unchanged", () => {
  for (const value of ["stop", 42, undefined, { code: 7 }]) {
    const got = caught(() =>
      grad((x: any) => {
        throw value;
      })(1),
    );
    assert.ok(got === value);
    assert.is(traceDepth(), 0);
  }
});

test("after an exception, the next call of the same transformed function returns the right answer", () => {
  let fail = true;
  const f = (x: any) => {
    const y = np.sum(np.power(x, 3));
    if (fail) throw new UserError("first call fails");
    return y;
  };
  const g = grad(f);
  assert.instance(caught(() => g(v)), UserError);
  fail = false;
  assert.equal(g(v).tolist(), [3, 12]);
  const h = hessian(f);
  fail = true;
  assert.instance(caught(() => h(v)), UserError);
  fail = false;
  assert.equal(h(v).tolist(), [[6, 0], [0, 12]]);
});

test("an exception from inside a vjpFn (a cotangent's getter) propagates unchanged; the vjpFn still works", () => {
  const [, back] = vjp(cube, [v]);
  const err = new UserError("getter");
  const ct = {
    get bad() {
      throw err;
    },
  };
  // @ts-expect-error deliberate misuse, checked at run time
  assert.ok(caught(() => back(ct)) === err);
  assert.is(traceDepth(), 0);
  assert.equal(back(1)[0].tolist(), [3, 12]);
});

test("an exception from a customVjp backward rule (run inside the vjpFn) or a customJvp rule comes back unchanged", () => {
  const err = new UserError("rule");
  let failBwd = true;
  const f = customVjp((x: any) => np.sin(x));
  f.defvjp(
    (x: any) => [np.sin(x), np.cos(x)],
    (cosx: any, ct: any) => {
      if (failBwd) throw err;
      return [np.multiply(ct, cosx)];
    },
  );
  const [, back] = vjp(f, [1]);
  assert.ok(caught(() => back(1)) === err);
  assert.is(traceDepth(), 0);
  assert.ok(caught(() => grad(f)(1)) === err);
  assert.is(traceDepth(), 0);
  failBwd = false;
  assert.is(back(1)[0].item(), Math.cos(1));
  const g = customJvp((x: any) => np.sin(x));
  g.defjvp(() => {
    throw err;
  });
  assert.ok(caught(() => jvp(g, [1], [1])) === err);
  assert.is(traceDepth(), 0);
});

test("an exception from a lax.cond branch, directly and under grad, comes back unchanged", () => {
  const err = new UserError("branch");
  const boom = () => {
    throw err;
  };
  assert.ok(caught(() => lax.cond(true, boom, (x: any) => x, 1)) === err);
  assert.ok(caught(() => grad((x: any) => lax.cond(np.greater(x, 0), boom, (z: any) => z, x))(1)) === err);
  assert.is(traceDepth(), 0);
});

test("a vjpFn called inside another transformation, followed by a user exception, unwinds both", () => {
  const err = new UserError("after the pullback");
  const got = caught(() =>
    grad((x: any) => {
      const [, back] = vjp(np.sin, [x]);
      const [g] = back(1);
      if (g.item() !== 0) throw err;
      return g;
    })(1),
  );
  assert.ok(got === err);
  assert.is(traceDepth(), 0);
  // Used properly, the same nesting differentiates: d/dx cos(x) = -sin(x).
  assert.is(grad((x: any) => vjp(np.sin, [x])[1](1)[0])(1).item(), -Math.sin(1));
});

test("an exception thrown from inside nested transformations (three deep) unwinds every level", () => {
  const err = new UserError("deep");
  const nests: [string, () => unknown][] = [
    ["grad∘grad∘grad", () => grad(grad(grad((x: any) => {
      throw err;
    })))(1)],
    ["vmap∘grad∘jvp", () => vmap(grad((x: any) => jvp((y: any) => {
      throw err;
    }, [x], [1])[1]))(np.ones([3]))],
    ["jacfwd∘jacrev∘vmap", () => jacfwd(jacrev((x: any) => vmap((y: any) => {
      throw err;
    })(x)))(np.ones([2]))],
    ["makeJaxpr∘hessian", () => makeJaxpr(hessian((x: any) => {
      throw err;
    }))(v)],
  ];
  for (const [name, run] of nests) {
    assert.ok(caught(run) === err, name);
    assert.is(traceDepth(), 0, name);
  }
});

test("an inner exception caught by the user function restores exactly the outer levels, and the outer derivative is right", () => {
  const depths: number[] = [];
  const g = grad((x: any) => {
    const before = traceDepth();
    try {
      grad((_x: unknown) => {
        throw new UserError("inner");
      })(x);
    } catch {
      // swallowed on purpose
    }
    depths.push(before, traceDepth());
    return np.multiply(x, x);
  })(3);
  assert.is(g.item(), 6);
  assert.ok(depths[0] > 0);
  assert.is(depths[1], depths[0]);
});

// ---------- escaped tracers ----------

test("a tracer stored in an outer variable and used after its transformation ended: EscapedTracerError naming shape, dtype, transformation", () => {
  let leaked: any = null;
  const cases: [() => unknown, string][] = [
    [() => grad((x: any) => ((leaked = x), x.sum()))(np.ones([2, 3])), "shape [2,3] and dtype float64 from grad"],
    [() => jvp((x: any) => ((leaked = x), x), [np.ones([4])], [np.ones([4])]), "shape [4] and dtype float64 from jvp"],
    [() => vjp((x: any) => ((leaked = x), x), [np.ones([2], "float32")]), "shape [2] and dtype float32 from vjp"],
    [() => vmap((x: any) => ((leaked = x), x))(np.ones([5, 3])), "shape [3] and dtype float64 from vmap"],
    [() => jacfwd((x: any) => ((leaked = x), x))(np.ones([2])), "shape [2] and dtype float64 from jacfwd"],
    [() => jacrev((x: any) => ((leaked = x), x))(np.ones([2])), "shape [2] and dtype float64 from jacrev"],
    [() => makeJaxpr((x: any) => ((leaked = x), x))(np.ones([2, 2])), "shape [2,2] and dtype float64 from makeJaxpr"],
    [() => jit((x: any) => ((leaked = x), x))(np.ones([3])), "shape [3] and dtype float64 from jit"],
  ];
  for (const [run, words] of cases) {
    run();
    assert.is(traceDepth(), 0);
    throwsExactly(() => np.sin(leaked), EscapedTracerError, [words, "was used after that transformation ended"]);
    throwsExactly(() => leaked.add(1), EscapedTracerError, [words]);
    throwsExactly(() => np.add(np.ones(leaked.shape), leaked), EscapedTracerError, [words]);
  }
});

test("an intermediate value that escapes is caught too, with its own shape and dtype", () => {
  let leaked: any = null;
  grad((x: any) => {
    leaked = np.astype(np.sin(x), "float32");
    return x;
  })(1);
  throwsExactly(() => np.exp(leaked), EscapedTracerError, ["shape [] and dtype float32 from grad"]);
});

test("a tracer leaked from an inner transformation is refused inside a still-running outer one", () => {
  let leaked: any = null;
  throwsExactly(
    () =>
      grad((x: any) => {
        grad((y: any) => ((leaked = y), np.square(y)))(x);
        return np.sin(leaked);
      })(1),
    EscapedTracerError,
    ["shape [] and dtype float64 from grad"],
  );
});

test("an escaped abstract tracer cannot be read as a number either (no stale or made-up value)", () => {
  let leaked: any = null;
  makeJaxpr((x: any) => ((leaked = x), x))(1);
  throwsExactly(() => leaked.item(), EscapedTracerError, ["from makeJaxpr"]);
  throwsExactly(() => leaked + 1, EscapedTracerError, ["from makeJaxpr"]);
  throwsExactly(() => leaked.tolist(), EscapedTracerError, ["from makeJaxpr"]);
});

// ---------- abstract values used as JS numbers ----------

const mj = (f: (x: any) => unknown, arg: unknown = 1) => () => makeJaxpr(f as any)(arg);

test("an abstract tracer in a comparison throws ConcretizationError (not a silent true/false)", () => {
  const words = ["converting to a JS number", "abstract tracer of shape [] and dtype float64 inside makeJaxpr", "lax.cond", "np.where"];
  throwsExactly(mj((x) => (x > 0 ? x : x)), ConcretizationError, words);
  throwsExactly(mj((x) => (x <= 1 ? x : x)), ConcretizationError, words);
  throwsExactly(mj((x) => (x == 1 ? x : x)), ConcretizationError, words);
  throwsExactly(mj((x) => (0 < x ? x : x)), ConcretizationError, words);
  throwsExactly(mj((x) => (x > 0 ? x : x), np.ones([3])), ConcretizationError, ["shape [3]"]);
});

test("an abstract tracer in arithmetic with JS numbers throws ConcretizationError (not NaN, not a string)", () => {
  const words = ["converting to a JS number", "inside makeJaxpr"];
  throwsExactly(mj((x) => x + 1), ConcretizationError, words);
  throwsExactly(mj((x) => 2 * x), ConcretizationError, words);
  throwsExactly(mj((x) => x - 1), ConcretizationError, words);
  throwsExactly(mj((x) => x / 2), ConcretizationError, words);
  throwsExactly(mj((x) => x ** 2), ConcretizationError, words);
  throwsExactly(mj((x) => -x), ConcretizationError, words);
  throwsExactly(mj((x) => "value: " + x), ConcretizationError, words);
});

test("an abstract tracer in Math.max / Math.* / Number() throws ConcretizationError", () => {
  const words = ["converting to a JS number", "inside makeJaxpr"];
  throwsExactly(mj((x) => Math.max(x, 0)), ConcretizationError, words);
  throwsExactly(mj((x) => Math.min(x, 0)), ConcretizationError, words);
  throwsExactly(mj((x) => Math.exp(x)), ConcretizationError, words);
  throwsExactly(mj((x) => Number(x)), ConcretizationError, words);
  throwsExactly(mj((x) => x.item()), ConcretizationError, ["item() needs a concrete value"]);
  throwsExactly(mj((x) => x.tolist()), ConcretizationError, ["tolist() needs a concrete value"]);
  throwsExactly(mj((x) => x.toTypedArray()), ConcretizationError, ["toTypedArray() needs a concrete value"]);
});

test("inside jit the same uses throw ConcretizationError naming jit and pointing to lax.cond / np.where", () => {
  const words = ["inside jit", "lax.cond", "np.where"];
  throwsExactly(() => jit((x: any) => (x > 0 ? x : x.neg()))(1), ConcretizationError, ["converting to a JS number", ...words]);
  throwsExactly(() => jit((x: any) => x + 1)(1), ConcretizationError, words);
  throwsExactly(() => jit((x: any) => Math.max(x, 0))(1), ConcretizationError, words);
  throwsExactly(() => jit((x: any) => x.item())(1), ConcretizationError, ["item() needs a concrete value", ...words]);
  // The selection that does work under jit:
  assert.is(jit((x: any) => np.where(np.greater(x, 0), x, np.negative(x)))(-3).item(), 3);
});

test("printing an abstract tracer (template string) describes it instead of throwing", () => {
  let text = "";
  makeJaxpr((x: any) => {
    text = `${x}`;
    return x;
  })(np.ones([2]));
  assert.is(text, "Traced<float64[2]> under makeJaxpr");
});

test("under vmap a batched value is abstract per example: JS branching throws, naming vmap", () => {
  throwsExactly(() => vmap((x: any) => (x > 0 ? x : x.neg()))(np.array([1, -2])), ConcretizationError, ["inside vmap"]);
  throwsExactly(() => vmap((x: any) => Math.max(x, 0))(np.array([1, -2])), ConcretizationError, ["inside vmap"]);
  // np.where is the batched way to select.
  assert.equal(vmap((x: any) => np.where(np.greater(x, 0), x, np.negative(x)))(np.array([1, -2])).tolist(), [1, 2]);
});

test("with concrete tracers (grad, jvp) JS branching on x.item() works and follows the branch taken; JS operators throw", () => {
  const f = (x: any) => (x.item() > 0 ? np.multiply(x, x) : np.negative(x));
  assert.is(grad(f)(2).item(), 4);
  assert.is(grad(f)(-3).item(), -1);
  assert.is(jvp(f, [2], [1])[1].item(), 4);
  assert.is(grad((x: any) => np.multiply(x, Math.max(x.item(), 1)))(3).item(), 3);
  // A JS operator on the tracer would drop the derivative silently (issue 15): it throws.
  throwsExactly(() => grad((x: any) => (x > 0 ? np.multiply(x, x) : x))(2), ConcretizationError, ["inside grad", "x.item()"]);
  throwsExactly(() => grad((x: any) => np.multiply(x, Math.max(x, 1)))(3), ConcretizationError, ["inside grad", "x.item()"]);
  // A non-scalar item() is ambiguous, as in NumPy.
  throwsExactly(() => grad((x: any) => (x.item() > 0 ? x.sum() : x.sum()))(np.ones([3])), ShapeError, ["shape [3]"]);
});

test("np.array of traced elements keeps their derivatives (not a silent zero) and stays abstract under makeJaxpr", () => {
  assert.is(grad((x: any) => np.array([x, np.multiply(x, 2)]).sum())(1).item(), 3);
  assert.is(grad((x: any) => np.array([[x, 1], [2, np.square(x)]]).sum())(3).item(), 7);
  const j = makeJaxpr((x: any) => np.array([x, 1]))(1);
  assert.ok(j.toString().includes("concatenate"));
  assert.equal(vmap((x: any) => np.array([x, np.negative(x)]))(np.array([1, 2])).tolist(), [[1, -1], [2, -2]]);
});

test("a leaked inner tracer returned (not operated on) by an outer transformation's function is refused, not differentiated as a constant", () => {
  // Returned directly, the leaked value never reaches bind; before the fix jvp and grad gave a
  // silent tangent 0 (the right one is cos 1) and makeJaxpr kept the dead tracer as a constant.
  const leakSin = (x: any) => {
    let leaked: any = null;
    jvp((y: any) => ((leaked = np.sin(y)), y), [x], [1.0]);
    return leaked;
  };
  const words = ["shape [] and dtype float64 from jvp"];
  throwsExactly(() => jvp(leakSin, [1.0], [1.0]), EscapedTracerError, words);
  throwsExactly(() => grad(leakSin)(1.0), EscapedTracerError, words);
  throwsExactly(() => makeJaxpr(leakSin)(1.0), EscapedTracerError, words);
  throwsExactly(() => vmap(leakSin, { outAxes: null })(np.array([1.0, 2.0])), EscapedTracerError, ["from jvp"]);
  assert.is(traceDepth(), 0);
});

test("a branch on a derivative tracer under jit / vmap / makeJaxpr names the transformation that made it abstract, not grad or jvp", () => {
  const branchy = (y: any) => (y > 0 ? y : np.negative(y));
  throwsExactly(() => jit(grad(branchy))(1.0), ConcretizationError, ["inside jit", "lax.cond"]);
  throwsExactly(() => vmap(grad(branchy))(np.array([1.0, 2.0])), ConcretizationError, ["inside vmap"]);
  throwsExactly(() => makeJaxpr((x: any) => jvp(branchy, [x], [1.0])[1])(1.0), ConcretizationError, ["inside makeJaxpr"]);
  throwsExactly(() => jit((x: any) => jvp(grad(branchy), [x], [1.0])[1])(1.0), ConcretizationError, ["inside jit"]);
  // An unbatched vmap value is abstract only because jit made it so.
  const unbatched = (x: any) => vmap((a: any, b: any) => np.add(a, branchy(b)), { inAxes: [0, null] })(np.array([1.0, 2.0]), x);
  throwsExactly(() => jit(unbatched)(1.0), ConcretizationError, ["inside jit"]);
  // Without jit the unbatched value is concrete, but a JS operator on it would still drop the batch: it throws.
  throwsExactly(() => unbatched(-3.0), ConcretizationError, ["inside vmap", "x.item()"]);
});

test.run();
