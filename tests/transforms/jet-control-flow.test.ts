import { test } from "uvu";
import * as assert from "uvu/assert";
import { guardTraceState } from "../guard.js";
import { close } from "../helpers.js";
import { checkpoint, customJvp, customVjp, grad, jet, jit, jvp, lax, linearize, makeJaxpr, nn, np, vmap, type Tensor } from "../../src/index.js";
import { checkJaxpr } from "../../src/ir/check-jaxpr.js";
import { ClosedJaxpr, type Jaxpr } from "../../src/ir/jaxpr.js";
import { type AnyF, check as checkJet, mk, nestedJvp, sineTerm } from "./jet-check.js";

guardTraceState(test);

/**
 * The shared check with `mk`'s sine terms, directly and through jit both ways (jet of jit stages the
 * control flow even where an eager lax.cond would pick its branch); `consts`: each input alone varying too.
 */
const check = (name: string, f: AnyF, xs: Tensor[], consts = false): void => checkJet(name, f, xs, { consts, term: sineTerm, jit: true });

/** Every equation of a jaxpr and of the jaxprs in its equations' params (a worklist, no recursion). */
function countEqns(j: Jaxpr): number {
  let n = 0;
  const work = [j];
  for (let x = work.pop(); x !== undefined; x = work.pop()) {
    n += x.eqns.length;
    for (const e of x.eqns) for (const v of Object.values(e.params)) for (const c of Array.isArray(v) ? v : [v]) if (c instanceof ClosedJaxpr) work.push(c.jaxpr);
  }
  return n;
}

const v3 = mk([3], 1), w3 = mk([3], 2);

// ---- cond and switch ----

const twoBranches = (x: Tensor, y: Tensor) =>
  lax.cond(
    np.greater(np.sum(x), 1.5),
    (a: Tensor, b: Tensor) => np.multiply(np.sin(a), b),
    (a: Tensor, b: Tensor) => np.add(np.exp(a), np.multiply(b, b)),
    x,
    y,
  );

test("cond: both branches, with both operands varying and with one constant", () => {
  check("cond (true branch)", twoBranches, [np.multiply(v3, 2), w3], true);
  check("cond (false branch)", twoBranches, [np.multiply(v3, 0.2), w3], true);
});

test("cond: a branch whose output is constant gets zero coefficients from it", () => {
  // One branch ignores its operand (and returns a constant): the other gives the output a
  // series, so the first must return zero coefficients.
  const f = (x: Tensor) => lax.cond(np.greater(np.sum(x), 1.5), (a: Tensor) => np.tanh(a), (_a: Tensor) => np.ones([3]), x);
  check("cond (series in one branch, true)", f, [np.multiply(v3, 2)]);
  check("cond (series in one branch, false)", f, [np.multiply(v3, 0.2)]);
  // Two outputs: each has a series in a different branch.
  const g = (x: Tensor) =>
    np.add(...(lax.cond(np.greater(np.sum(x), 1.5), (a: Tensor) => [np.sin(a), np.zeros([3])], (a: Tensor) => [np.ones([3]), np.cos(a)], x) as [Tensor, Tensor]));
  check("cond (outputs with series in different branches)", g, [np.multiply(v3, 2)]);
  check("cond (outputs with series in different branches, false)", g, [np.multiply(v3, 0.2)]);
});

test("switch: every branch, the index clamped", () => {
  const branches = [(a: Tensor, b: Tensor) => np.multiply(a, b), (a: Tensor, b: Tensor) => np.log(np.add(a, b)), (a: Tensor, b: Tensor) => np.divide(np.sin(a), b)];
  for (const shift of [0, 1, 2, 5]) {
    const f = (x: Tensor, y: Tensor) => lax.switch(np.add(np.floor(np.sum(x)), shift - 1).astype("int32"), branches, x, y);
    check(`switch (index ${shift})`, f, [np.multiply(v3, 0.4), w3], true);
  }
});

// ---- while and foriLoop ----

test("while: a data-dependent trip count, body consts and the predicate's consts", () => {
  // The trip count depends on x (and y): it is locally constant, so only the body's jet matters.
  const f = (x: Tensor, y: Tensor) => {
    const [, v] = lax.whileLoop(
      ([, v]: [Tensor, Tensor]) => np.less(np.sum(v), np.multiply(np.sum(y), 4)),
      ([i, v]: [Tensor, Tensor]) => [np.add(i, 1), np.add(np.multiply(v, 1.2), np.multiply(np.sin(v), y))],
      [np.array(0, "int32"), x],
    ) as [Tensor, Tensor];
    return v;
  };
  check("while", f, [v3, w3], true);
  // Different starts take different numbers of iterations.
  check("while (another trip count)", f, [np.multiply(v3, 3), w3], true);
});

test("while: a carry that starts constant gets a series from the body (a fixpoint)", () => {
  const f = (x: Tensor) => {
    const [, acc] = lax.whileLoop(
      ([v]: [Tensor, Tensor]) => np.less(np.sum(v), 6),
      ([v, a]: [Tensor, Tensor]) => [np.add(v, np.sqrt(v)), np.add(np.multiply(a, 0.5), np.cos(v))],
      [x, np.zeros([3])],
    ) as [Tensor, Tensor];
    return acc;
  };
  check("while fixpoint", f, [v3]);
});

test("while: only the predicate depends on the input, so the outputs have no series", () => {
  const f = (x: Tensor) => lax.whileLoop((v: Tensor) => np.less(np.sum(v), np.sum(x)), (v: Tensor) => np.add(v, 1), np.zeros([3])) as Tensor;
  check("while (series in the predicate only)", f, [np.multiply(v3, 4)]);
});

test("foriLoop: static bounds (a scan) and bounds known only at run time (a while)", () => {
  const body = (_i: Tensor, v: Tensor): Tensor => np.add(np.multiply(np.sin(v), 0.9), np.multiply(v, v));
  check("foriLoop static", (x: Tensor) => lax.foriLoop(0, 3, body, x) as Tensor, [np.multiply(v3, 0.5)]);
  // Under jit the upper bound is traced, so the loop is a while with a trip count from x.
  const dyn = (x: Tensor) => lax.foriLoop(0, np.floor(np.multiply(np.sum(x), 2)).astype("int32"), body, x) as Tensor;
  check("foriLoop dynamic", dyn, [np.multiply(v3, 0.5)]);
  const txt = makeJaxpr((x: Tensor) => jet(jit(dyn), [x], [[np.ones([3]), np.ones([3])]]))(v3).toString();
  assert.ok(txt.includes("while"), "a while loop, not unrolled");
});

// ---- scan ----

const scanBody = (w: Tensor) => (c: Tensor, x: Tensor) => [np.add(np.multiply(np.sin(c), w), x), np.multiply(c, x)] as [Tensor, Tensor];

test("scan: carry, consts, xs and ys; forward and reverse", () => {
  const xs = mk([4, 3], 5, -0.5, 1);
  for (const reverse of [false, true]) {
    const f = (c0: Tensor, x: Tensor, w: Tensor) => {
      const [c, ys] = lax.scan(scanBody(w), c0, x, { reverse }) as [Tensor, Tensor];
      return [c, ys];
    };
    check(`scan (reverse ${reverse})`, f, [v3, xs, w3], true);
  }
});

test("scan: a carry that starts constant, a y without series, an integer carry", () => {
  const f = (x: Tensor) => {
    const [[, acc], [ys, zs]] = lax.scan(
      ([i, a]: [Tensor, Tensor], xi: Tensor) => [
        [np.add(i, 1), np.add(np.multiply(a, 0.5), np.exp(xi))],
        [np.multiply(a, xi), np.multiply(i.astype("float64"), 2)],
      ],
      [np.array(0, "int32"), np.zeros([3])],
      x,
    ) as unknown as [[Tensor, Tensor], [Tensor, Tensor]];
    return [acc, ys, zs];
  };
  check("scan fixpoint", f, [mk([4, 3], 6, -0.5, 1)]);
});

test("scan with checkpoint: { snapshots } keeps its snapshots, and reverse mode through the jet agrees", () => {
  const f = (c0: Tensor, x: Tensor, w: Tensor) => {
    const [c, ys] = lax.scan(scanBody(w), c0, x, { checkpoint: { snapshots: 2 } }) as [Tensor, Tensor];
    return [c, ys];
  };
  const xs = mk([5, 3], 7, -0.5, 1);
  check("checkpointed scan", f, [v3, xs, w3], true);
  const scans = makeJaxpr((c: Tensor) => jet((v: Tensor) => f(v, xs, w3), [c], [[np.ones([3]), np.ones([3])]]))(v3).jaxpr.eqns.filter((e) => e.primitive.name === "scan");
  assert.is(scans.length, 1);
  assert.is(scans[0].params.snapshots, 2);
  // The second derivative along a direction, differentiated in reverse mode: through the jet's
  // checkpointed scan, against nested jvp.
  const dir = np.ones([3]);
  const second = (u: Tensor, viaJet: boolean) => {
    const g = (v: Tensor) => np.sum((f(v, xs, w3) as Tensor[])[0]);
    if (viaJet) return np.sum((jet(g, [u], [[dir, np.zerosLike(dir)]])[1] as Tensor[])[1]);
    return jvp((t: Tensor) => jvp(g, [np.add(u, np.multiply(dir, t))], [dir])[1] as Tensor, [np.array(0.0)], [np.array(1.0)])[1] as Tensor;
  };
  close(grad((u: Tensor) => second(u, true))(v3), grad((u: Tensor) => second(u, false))(v3), 1e-11);
});

test("scan_revolve: the tangent map of a checkpointed scan (linearize's jvpFn) under jet", () => {
  const cs = (x: Tensor) => {
    const [c, ys] = lax.scan((c: Tensor, xi: Tensor) => [np.add(np.multiply(np.sin(c), xi), np.multiply(c, 0.5)), np.multiply(c, xi)], x, np.stack([x, np.cos(x), x]), {
      checkpoint: { snapshots: 1 },
    }) as [Tensor, Tensor];
    return np.add(c, np.sum(ys, 0));
  };
  // The residuals depend on x, so the map is not linear in it along the path.
  const f = (x: Tensor) => linearize(cs, [x])[1](np.sin(x)) as Tensor;
  const lin = linearize(cs, [v3]);
  check("scan_revolve", f, [v3]);
  // With the residuals fixed the map is linear: a scan_revolve of concrete residuals and of t * t.
  assert.ok(makeJaxpr((t: Tensor) => lin[1](t) as Tensor)(w3).jaxpr.eqns.some((e) => e.primitive.name === "scan_revolve"), "the tangent map is a scan_revolve");
  const g = (t: Tensor) => lin[1](np.multiply(t, t)) as Tensor;
  check("scan_revolve (fixed residuals)", g, [w3]);
});

// ---- nesting and composition ----

test("nested control flow: cond, while, checkpoint and scan inside a scan body", () => {
  const f = (c0: Tensor, x: Tensor) => {
    const body = (c: Tensor, xi: Tensor): [Tensor, Tensor] => {
      const d = lax.cond(np.greater(np.sum(xi), 0), (a: Tensor) => np.sin(a), (a: Tensor) => np.multiply(a, a), c) as Tensor;
      const e = lax.whileLoop(([i]: [Tensor, Tensor]) => np.less(i, 2), ([i, v]: [Tensor, Tensor]) => [np.add(i, 1), np.tanh(np.add(v, xi))], [np.array(0, "int32"), d]) as [Tensor, Tensor];
      const g = checkpoint((v: Tensor) => np.exp(np.multiply(v, 0.3)))(e[1]);
      const [inner] = lax.scan((a: Tensor, z: Tensor) => [np.add(np.multiply(a, z), g), null], g, np.stack([xi, c])) as [Tensor, unknown];
      return [np.multiply(inner, 0.5), np.add(d, g)];
    };
    return lax.scan(body, c0, x) as [Tensor, Tensor];
  };
  check("nested", f, [mk([3], 8), mk([3, 3], 9, -0.6, 1.2)], true);
});

test("jet of grad: the linearization's primal scan and cond, with their stacked residuals, under jet", () => {
  const f = (x: Tensor) => {
    const [c, ys] = lax.scan((c: Tensor, xi: Tensor) => [np.add(np.sin(np.multiply(c, xi)), xi), np.multiply(c, c)], x, np.stack([x, np.cos(x), x])) as [Tensor, Tensor];
    return np.sum(np.add(lax.cond(np.greater(np.sum(c), 0), (a: Tensor) => np.tanh(a), (a: Tensor) => np.exp(a), c) as Tensor, np.sum(ys, 0)));
  };
  check("grad of scan and cond", grad(f), [np.array([0.3, 0.7])]);
});

test("custom rules inside a scan body: Taylor mode runs their functions, as outside one", () => {
  const sp = customJvp((x: Tensor) => np.log1p(np.exp(x)));
  sp.defjvp(([x]: Tensor[], [t]: Tensor[]) => [sp(x), np.multiply(t, nn.sigmoid(x))]);
  const e = customVjp((x: Tensor) => np.exp(x));
  e.defvjp((x: Tensor) => [np.exp(x), np.exp(x)], (r: Tensor, ct: Tensor) => [np.multiply(r, ct)]);
  const loop = (soft: (x: Tensor) => Tensor, ex: (x: Tensor) => Tensor) => (x: Tensor) =>
    (lax.scan((c: Tensor, xi: Tensor) => [np.add(soft(c), ex(xi)), null], x, np.stack([x, x])) as [Tensor, unknown])[0];
  const terms = [[np.ones([2]), np.ones([2]), np.zeros([2])]];
  const x = np.array([0.3, -0.2]);
  const want = jet(loop((v) => np.log1p(np.exp(v)), np.exp), [x], terms);
  close(jet(loop(sp, e), [x], terms), want);
  close(jet(jit(loop(sp, e)), [x], terms), want);
});

test("vmap of jet through a scan and a cond, against jet per example", () => {
  const f = (x: Tensor) => {
    const [c] = lax.scan((c: Tensor, xi: Tensor) => [lax.cond(np.greater(xi, 0), (a: Tensor) => np.sin(a), (a: Tensor) => np.cos(a), np.multiply(c, xi)) as Tensor, null], x, np.array([0.5, -0.3, 1.1])) as [
      Tensor,
      unknown,
    ];
    return c;
  };
  const xs = np.array([0.2, 0.7, -0.4]);
  const byVmap = vmap((x: Tensor) => jet(f, [x], [[np.array(1.0), np.array(0.5), np.array(0.0)]])[1])(xs) as Tensor[];
  for (let b = 0; b < 3; b++) {
    const x = np.array(xs.tolist()[b]);
    close(byVmap.map((s) => (s.tolist() as number[])[b]), jet(f, [x], [[np.array(1.0), np.array(0.5), np.array(0.0)]])[1], 1e-12);
  }
});

test("a batched cond index (vmap of jet, jet of vmap), reverse mode through the jet, float32", () => {
  const h = (x: Tensor) => lax.cond(np.greater(x, 0), (a: Tensor) => np.sin(a), (a: Tensor) => np.multiply(a, a), x) as Tensor;
  const one = np.array(1.0), zero = np.array(0.0);
  const want = [
    [Math.cos(0.5), -1],
    [-Math.sin(0.5), 2],
    [-Math.cos(0.5), 0],
  ];
  close(vmap((x: Tensor) => jet(jit(h), [x], [[one, zero, zero]])[1])(np.array([0.5, -0.5])), want);
  close(jet(vmap(jit(h)), [np.array([0.5, -0.5])], [[np.ones([2]), np.zeros([2]), np.zeros([2])]])[1], want);
  close(grad((x: Tensor) => jet(jit(h), [x], [[one, zero]])[1][1])(np.array(0.5)), -Math.cos(0.5));
  // Coefficients keep the primal's dtype through every loop and branch.
  const f = (x: Tensor) => {
    const [c, ys] = lax.scan((c: Tensor, xi: Tensor) => [np.add(np.sin(c), xi), np.multiply(c, c)], x, np.stack([x, x])) as [Tensor, Tensor];
    const w = lax.whileLoop((v: Tensor) => np.less(np.sum(v), 5), (v: Tensor) => np.add(np.multiply(v, 1.5), np.cos(v)), c) as Tensor;
    return lax.cond(np.greater(np.sum(w), 0), (a: Tensor) => np.tanh(a), (a: Tensor) => np.exp(a), np.add(w, np.sum(ys, 0))) as Tensor;
  };
  const [p32, s32] = jet(jit(f), [np.array([0.3, 0.5], "float32")], [[np.ones([2], "float32"), np.ones([2], "float32")]]);
  const [p64, s64] = jet(jit(f), [np.array([0.3, 0.5])], [[np.ones([2]), np.ones([2])]]);
  assert.equal([p32, ...s32].map((t) => t.dtype), ["float32", "float32", "float32"]);
  close([p32, s32], [p64, s64], 1e-5);
});

test("terms known to be zero: an input with an all-zero series adds no coefficients, and along a line the body skips products", () => {
  const pow5 = (x: Tensor) => (lax.scan((c: Tensor) => [np.multiply(c, x), null], np.array(1.0), null, { length: 5 }) as [Tensor, unknown])[0];
  const one = np.array(1.0), zero = np.array(0.0);
  close(jet(pow5, [np.array(2.0)], [[one, zero, zero, zero]]), [32, [80, 160, 240, 240]]);
  // exp's recurrence skips the products of known zeros: the last three terms of xs along a line.
  const g = (x: Tensor) => (lax.scan((c: Tensor, xi: Tensor) => [np.add(np.multiply(c, 0.5), np.exp(xi)), null], np.array(1.0), x) as [Tensor, unknown])[0];
  const x5 = mk([5], 11);
  const ones = np.ones([5]), zeros = np.zeros([5]);
  const bodyOf = (terms: Tensor[]) => {
    const e = makeJaxpr((x: Tensor) => jet(g, [x], [terms]))(x5).jaxpr.eqns.find((q) => q.primitive.name === "scan");
    return (e?.params.jaxpr as ClosedJaxpr).jaxpr;
  };
  const general = bodyOf([ones, ones, ones, ones]), line = bodyOf([ones, zeros, zeros, zeros]);
  assert.ok(line.eqns.length < general.eqns.length, `${line.eqns.length} equations along a line, ${general.eqns.length} along a general path`);
  close(jet(g, [x5], [[ones, zeros, zeros, zeros]])[1], nestedJvp(g, [x5], [[ones, zeros, zeros, zeros]], 4));
  // A scan const and an xs whose terms are all zeros: not carried into the loop at all.
  const f = (x: Tensor, w: Tensor, xs: Tensor) => (lax.scan(scanBody(w), x, xs) as [Tensor, Tensor])[0];
  const xs = mk([4, 3], 5, -0.5, 1);
  const terms = [[np.ones([3]), np.ones([3])], [np.zeros([3]), np.zeros([3])], [np.zeros([4, 3]), np.zeros([4, 3])]];
  const scan = makeJaxpr((x: Tensor, w: Tensor, z: Tensor) => jet(f, [x, w, z], terms))(v3, w3, xs).jaxpr.eqns.find((q) => q.primitive.name === "scan");
  assert.is(scan?.params.numConsts, 1);
  assert.is(scan?.inputs.length, 1 + 3 + 1);
  close(jet(f, [v3, w3, xs], terms), [f(v3, w3, xs), nestedJvp(f, [v3, w3, xs], terms, 2)]);
  // A carry whose terms are all zeros gets its coefficients back from the body (they start as zeros).
  close(jet(f, [v3, w3, xs], [terms[1], terms[0], terms[2]])[1], nestedJvp(f, [v3, w3, xs], [terms[1], terms[0], terms[2]], 2));
});

test("the jet of a 1000-step scan is a scan, not an unrolled loop", () => {
  const f = (x: Tensor) => lax.scan((c: Tensor, xi: Tensor) => [np.add(np.multiply(np.sin(c), 0.99), xi), np.cos(c)], x, np.multiply(np.ones([1000]), 0.001)) as [Tensor, Tensor];
  const one = np.array(1.0), zero = np.array(0.0);
  const staged = makeJaxpr((x: Tensor) => jet(f, [x], [[one, zero, zero, zero]]))(np.array(0.3));
  checkJaxpr(staged.jaxpr);
  const scans = staged.jaxpr.eqns.filter((e) => e.primitive.name === "scan");
  assert.is(scans.length, 1);
  assert.is(scans[0].params.length, 1000);
  assert.ok(countEqns(staged.jaxpr) < 150, `${countEqns(staged.jaxpr)} equations in all`);
  // And it runs: the derivatives of the final carry agree with nested jvp.
  close(jet(f, [np.array(0.3)], [[one, zero, zero, zero]])[1], nestedJvp(f, [np.array(0.3)], [[one, zero, zero, zero]], 4), 1e-10);
});

test.run();
