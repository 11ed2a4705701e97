// Eager grad fuses elementwise steps (src/backend/lazy-elementwise.ts): whatever the user keeps
// (the value, gradients, aux intermediates, views of them, values captured by closures) holds
// bit for bit what it holds with fusion off and under jit, the inputs are never written, and what
// the call returns is computed before it returns.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { checkpoint, customVjp, grad, jit, jvp, lax, linearize, np, valueAndGrad, vjp, vmap } from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { LAZY_MIN_SIZE, eagerFusion, isDeferred } from "../../src/backend/lazy-elementwise.js";
import { lcgValues as values } from "../helpers.js";

const N = 2 * LAZY_MIN_SIZE;


const xs = values(N, 1, 0.5, 2), ys = values(N, 2, -3, 3);
const x = np.array(xs), y = np.array(ys);

/** The Tensor leaves of a nested result, in order. */
function leaves(v: unknown): Tensor[] {
  if (Array.isArray(v)) return v.flatMap(leaves);
  if (v !== null && typeof v === "object" && !("aval" in v)) return Object.values(v).flatMap(leaves);
  return [v as Tensor];
}

const deferred = (t: Tensor): boolean => isDeferred(t.concrete() as never);

function sameBits(got: Tensor, want: Tensor, what: string): void {
  assert.equal(got.shape, want.shape, `${what}: shape`);
  assert.is(got.dtype, want.dtype, `${what}: dtype`);
  const g = got.toTypedArray(), w = want.toTypedArray();
  for (let i = 0; i < w.length; i++) if (!Object.is(g[i], w[i])) assert.unreachable(`${what}: element ${i} is ${g[i]}, want ${w[i]}`);
}

/** `run()` with eager fusion on and off: every leaf agrees bit for bit. Returns the fused result. */
function agree(what: string, run: () => unknown): Tensor[] {
  const fused = leaves(run());
  eagerFusion.enabled = false;
  let plain: Tensor[];
  try {
    plain = leaves(run());
  } finally {
    eagerFusion.enabled = true;
  }
  assert.is(fused.length, plain.length);
  fused.forEach((t, i) => sameBits(t, plain[i], `${what}, leaf ${i}`));
  return fused;
}

const w1 = (a: Tensor, b: Tensor): Tensor => np.sum(np.subtract(np.add(np.log(a), np.multiply(a, b)), np.sin(b)));

test("Σ(ln x + x·y − sin y): value and gradients bit-identical with fusion off and under jit; nothing returned is deferred; inputs untouched", () => {
  const vg = valueAndGrad(w1, { argnums: [0, 1] });
  const out = agree("valueAndGrad", () => vg(x, y));
  assert.ok(out.every((t) => !deferred(t)), "the call computes what it returns");
  const jitted = leaves(jit(vg)(x, y));
  out.forEach((t, i) => sameBits(t, jitted[i], `jit leaf ${i}`));
  // And the closed forms, evaluated step by step outside any transformation.
  sameBits(out[1], np.add(y, np.divide(1, x)), "d/dx = y + 1/x");
  sameBits(out[2], np.add(np.multiply(-1, np.cos(y)), x), "d/dy = x - cos y");
  assert.equal(Array.from(x.toTypedArray()), Array.from(xs));
  assert.equal(Array.from(y.toTypedArray()), Array.from(ys));
});

test("aux intermediates and views of them (reshape, transpose, slice) hold their own values", () => {
  const R = Math.sqrt(N / 2);
  const f = (a: Tensor, b: Tensor) => {
    const l = np.log(a);
    const p = np.multiply(a, b);
    const q = np.sin(np.add(l, p));
    const s = np.subtract(q, np.exp(np.multiply(b, 0.25)));
    const m = np.reshape(np.multiply(s, 3), [2, R, R]);
    const aux = { l, p, q, m, t: np.transpose(np.reshape(q, [2, R, R]), [0, 2, 1]), sl: np.multiply(p, 2).slice([1, N - 1, 3]) };
    return [np.sum(np.multiply(s, s)), aux] as const;
  };
  const out = agree("hasAux", () => valueAndGrad(f, { hasAux: true, argnums: [0, 1] })(x, y));
  assert.ok(out.every((t) => !deferred(t)));
  // The aux values (keys in sorted order: l, m, p, q, sl, t) are the primal ones, computed outside grad.
  const l = np.log(x), p = np.multiply(x, y), q = np.sin(np.add(l, p));
  sameBits(out[1], l, "aux l");
  sameBits(out[3], p, "aux p");
  sameBits(out[4], q, "aux q");
  sameBits(out[5], np.multiply(p, 2).slice([1, N - 1, 3]), "aux sl");
  sameBits(out[6], np.transpose(np.reshape(q, [2, R, R]), [0, 2, 1]), "aux t");
});

test("values captured by a closure during grad read back as computed without fusion", () => {
  const kept: Tensor[] = [];
  const f = (a: Tensor) => {
    const e = np.exp(np.multiply(a, 0.5));
    const t = np.tanh(np.subtract(e, 1));
    kept.push(e, t, np.reshape(t, [2, N / 2]));
    return np.sum(np.multiply(t, e));
  };
  const g = grad(f);
  const fused = g(x);
  const fusedKept = kept.splice(0).map((t) => t.toTypedArray());
  eagerFusion.enabled = false;
  let plain: Tensor;
  let plainKept: Float64Array[];
  try {
    plain = g(x);
    plainKept = kept.splice(0).map((t) => t.toTypedArray() as Float64Array);
  } finally {
    eagerFusion.enabled = true;
  }
  sameBits(fused, plain, "gradient");
  fusedKept.forEach((a, i) => assert.equal(Array.from(a), Array.from(plainKept[i]), `captured value ${i}`));
});

test("residuals read forwards and backwards, second derivatives, float32, and vmap of grad", () => {
  // tanh(x) feeds the forward product and its own derivative's residual.
  agree("tanh residual", () => grad((a: Tensor, b: Tensor) => np.sum(np.add(np.multiply(np.tanh(a), b), np.multiply(np.exp(a), np.exp(a)))), { argnums: [0, 1] })(x, y));
  // A Hessian-vector product: grad of (grad f) · v.
  const gf = grad((a: Tensor) => np.sum(np.multiply(np.sin(a), np.log(a))));
  agree("grad of grad", () => grad((a: Tensor) => np.sum(np.multiply(gf(a), y)))(x));
  const x32 = np.array(xs, "float32"), y32 = np.array(ys, "float32");
  const out = agree("float32", () => valueAndGrad(w1, { argnums: [0, 1] })(x32, y32));
  assert.is(out[1].dtype, "float32");
  const xb = np.reshape(x, [2, N / 2]), yb = np.reshape(y, [2, N / 2]);
  agree("vmap of grad", () => vmap(grad(w1, { argnums: [0, 1] }))(xb, yb));
});

test("jvp, vjp and linearize: outputs computed on return, bit-identical with fusion off; a vjp or jvp function called again agrees", () => {
  const f = (a: Tensor, b: Tensor) => {
    const s = np.sin(np.multiply(a, b));
    return [np.subtract(np.exp(np.multiply(s, 0.5)), a), np.cos(np.add(s, b))];
  };
  const tx = np.array(values(N, 7, -1, 1)), ty = np.array(values(N, 8, -1, 1));
  const ct = [np.array(values(N, 9, -1, 1)), np.array(values(N, 10, -1, 1))];
  const j = agree("jvp", () => jvp(f, [x, y], [tx, ty]));
  assert.ok(j.every((t) => !deferred(t)));
  agree("jvp with aux", () => jvp((a: Tensor) => [np.sum(np.tanh(a)), np.log(a)], [x], [tx], { hasAux: true }));
  const v = agree("vjp", () => {
    const [out, back] = vjp(f, [x, y]);
    return [out, back(ct), back(ct)];
  });
  assert.ok(v.every((t) => !deferred(t)));
  v.slice(2, 4).forEach((t, i) => sameBits(v[4 + i], t, `vjp function again, cotangent ${i}`));
  const l = agree("linearize", () => {
    const [out, push] = linearize(f, [x, y]);
    return [out, push(tx, ty), push(tx, ty)];
  });
  assert.ok(l.every((t) => !deferred(t)));
  l.slice(2, 4).forEach((t, i) => {
    sameBits(l[4 + i], t, `jvp function again, output ${i}`);
    sameBits(t, j[2 + i], `linearize agrees with jvp, output ${i}`);
  });
});

test("loops, checkpoint and a customVjp whose backward rule keeps the cotangent it is given", () => {
  const body = (i: Tensor, v: Tensor) => np.add(np.multiply(np.sin(v), 0.9), np.multiply(np.log(x), np.cos(np.multiply(i, 0.1))));
  agree("foriLoop", () => valueAndGrad((a: Tensor) => np.sum(lax.foriLoop(0, 5, body, np.multiply(a, y))))(x));
  const step = checkpoint((a: Tensor) => np.tanh(np.add(np.multiply(a, y), np.exp(np.multiply(a, -0.5)))));
  agree("checkpoint", () => grad((a: Tensor) => np.sum(step(step(a))))(x));
  const seen: Tensor[] = [];
  const scaled = customVjp((a: Tensor) => np.multiply(a, 3));
  scaled.defvjp(
    (a: Tensor) => [np.multiply(a, 3), null],
    (_r: unknown, g: Tensor) => {
      seen.push(g);
      return [np.multiply(g, 3)];
    },
  );
  const f = (a: Tensor) => np.sum(np.sin(scaled(np.exp(np.multiply(a, 0.5)))));
  const fused = grad(f)(x);
  const kept = seen.splice(0)[0].toTypedArray();
  eagerFusion.enabled = false;
  try {
    sameBits(fused, grad(f)(x), "customVjp gradient");
    assert.equal(Array.from(kept), Array.from(seen.splice(0)[0].toTypedArray()), "the cotangent the rule kept");
  } finally {
    eagerFusion.enabled = true;
  }
});

test.run();
