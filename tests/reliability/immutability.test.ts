// Immutability: no transformation writes to its inputs (compared byte for byte), buffers the user
// passed are copied at the boundary (so mutating them later changes no result or stored
// residual), and what the library hands out is a copy too.
import { test } from "uvu";
import * as assert from "uvu/assert";
import ndarray from "ndarray";
import {
  type Tensor,
  checkGrads,
  grad,
  hessian,
  jacfwd,
  jacobian,
  jacrev,
  jvp,
  linearize,
  makeJaxpr,
  np,
  valueAndGrad,
  vjp,
  vmap,
} from "../../src/index.js";
import { guardTraceState } from "../guard.js";
import { bytesOf } from "./util.js";

guardTraceState(test);

/** Every buffer reachable from the inputs: typed arrays, ndarray data, a Tensor's own buffer. */
function buffers(x: unknown): ArrayBufferView[] {
  if (ArrayBuffer.isView(x)) return [x];
  if (x !== null && typeof x === "object" && "arr" in x) return [(x as { arr: { data: ArrayBufferView } }).arr.data];
  if (x !== null && typeof x === "object" && "data" in x && "stride" in x) {
    const d = (x as { data: unknown }).data;
    return ArrayBuffer.isView(d) ? [d] : [];
  }
  if (Array.isArray(x)) return x.flatMap(buffers);
  if (x !== null && typeof x === "object") return Object.values(x).flatMap(buffers);
  return [];
}
const snapshot = (x: unknown): number[][] => buffers(x).map(bytesOf);

/** Fresh inputs of every accepted kind for f(x) = sum(x^3) + sum(sin(x)), all of 4 elements. */
function inputs(): Record<string, unknown> {
  const base = [0.5, -1.25, 2, 3.5];
  const strided = ndarray(new Float64Array([9, 0.5, 9, -1.25, 9, 2, 9, 3.5]), [4], [2], 1); // offset and stride
  const transposed = ndarray(new Float64Array([0.5, 2, -1.25, 3.5]), [2, 2]).transpose(1, 0);
  return {
    "Float64Array": new Float64Array(base),
    "Float32Array": new Float32Array(base),
    "ndarray": ndarray(new Float64Array(base), [2, 2]),
    "strided ndarray view": strided,
    "transposed ndarray": transposed,
    "Tensor": np.array(base),
    "pytree of buffers": { a: new Float64Array(base.slice(0, 2)), b: [new Float64Array(base.slice(2))] },
  };
}
const leaves = (x: any): any[] => (x !== null && typeof x === "object" && "a" in x ? [x.a, x.b[0]] : [x]);
const f = (x: any) => leaves(x).reduce((s: any, l: any) => np.add(s, np.add(np.sum(np.power(l, 3)), np.sum(np.sin(l)))), 0);
const fv = (x: any) => np.sin(np.multiply(x, x)); // vector output

const runs: Record<string, (x: any) => unknown> = {
  grad: (x) => grad(f)(x),
  valueAndGrad: (x) => valueAndGrad(f)(x),
  jvp: (x) => jvp(f, [x], [x]),
  vjp: (x) => vjp(f, [x])[1](1),
  linearize: (x) => linearize(f, [x])[1](x),
  hessian: (x) => hessian(f)(x),
  makeJaxpr: (x) => makeJaxpr(f)(x),
  checkGrads: (x) => checkGrads(f, [x], { order: 1 }),
};
const vectorRuns: Record<string, (x: any) => unknown> = {
  jacfwd: (x) => jacfwd(fv)(x),
  jacrev: (x) => jacrev(fv)(x),
  jacobian: (x) => jacobian(fv)(x),
  vmap: (x) => vmap(fv)(x),
  "vjp of a vector output": (x) => vjp(fv, [x])[1](x),
};

test("no transformation mutates its inputs, whatever their kind (bytes compared before and after)", () => {
  for (const [tname, run] of Object.entries(runs)) {
    for (const [kind, x] of Object.entries(inputs())) {
      const before = snapshot(x);
      assert.ok(before.length > 0);
      run(x);
      assert.equal(snapshot(x), before, `${tname} changed a ${kind} input`);
    }
  }
  for (const [tname, run] of Object.entries(vectorRuns)) {
    for (const [kind, x] of Object.entries(inputs())) {
      if (kind === "pytree of buffers" || kind === "transposed ndarray") continue; // fv takes one vector
      const before = snapshot(x);
      run(x);
      assert.equal(snapshot(x), before, `${tname} changed a ${kind} input`);
    }
  }
});

test("tangents and cotangents passed in are not mutated either", () => {
  const x = new Float64Array([1, 2, 3]);
  const t = new Float64Array([0.5, -1, 2]);
  const ct = ndarray(new Float64Array([1, 10, 100]), [3]);
  const snap = () => [bytesOf(x), bytesOf(t), bytesOf(ct.data)];
  const before = snap();
  jvp(fv, [x], [t]);
  vjp(fv, [x])[1](ct);
  linearize(fv, [x])[1](t);
  assert.equal(snap(), before);
});

test("numpy operations and fluent methods do not mutate their operands", () => {
  const buf = new Float64Array([4, -1, 9, 0.25]);
  const nd = ndarray(new Float64Array([1, 2, 3, 4]), [2, 2]);
  const t = np.array([[1, 2], [3, 4]]);
  const before = [bytesOf(buf), bytesOf(nd.data), snapshot(t)];
  np.add(buf, buf);
  np.sqrt(buf);
  np.matmul(nd, nd);
  np.concatenate([t, nd]);
  np.where(np.greater(t, 2), t, nd);
  t.reshape([4]).slice([1, 3]);
  t.T.sum(0);
  np.take(buf, np.array([3, 0], "int32"));
  assert.equal([bytesOf(buf), bytesOf(nd.data), snapshot(t)], before);
});

test("mutating an input buffer after vjp does not change what the vjpFn returns", () => {
  const g = (x: any) => np.sum(np.multiply(np.sin(x), x)); // residuals: x, sin x, cos x
  const want = [0.5, 2, -3].map((a) => Math.sin(a) + a * Math.cos(a));
  const kinds: [string, () => [unknown, () => void]][] = [
    ["Float64Array", () => {
      const b = new Float64Array([0.5, 2, -3]);
      return [b, () => b.fill(100)];
    }],
    ["ndarray", () => {
      const n = ndarray(new Float64Array([0.5, 2, -3]), [3]);
      return [n, () => n.data.fill(100)];
    }],
    ["ndarray over a plain JS array", () => {
      const data = [0.5, 2, -3];
      return [ndarray(data, [3]), () => data.fill(100)];
    }],
  ];
  for (const [kind, make] of kinds) {
    const [x, mutate] = make();
    const [y, back] = vjp(g, [x]);
    const yBefore = y.item();
    mutate();
    const [ct] = back(1);
    ct.tolist().forEach((c: number, i: number) => assert.ok(Math.abs(c - want[i]) < 1e-15, `${kind}[${i}]: ${c} vs ${want[i]}`));
    assert.is(y.item(), yBefore, kind);
    // And a second call after more mutation still agrees.
    mutate();
    assert.equal(back(1)[0].tolist(), ct.tolist());
  }
});

test("mutating buffers after linearize / jvp / np.array leaves their results alone", () => {
  const b = new Float64Array([1, 2]);
  const [, push] = linearize((x: any) => np.multiply(x, x), [b]);
  const t0 = np.array(b);
  b[0] = -50;
  assert.equal(push(np.ones([2])).tolist(), [2, 4]);
  assert.equal(t0.tolist(), [1, 2]);
  const tan = new Float64Array([1, 1]);
  const [, tout] = jvp((x: any) => np.multiply(x, x), [np.array([3, 4])], [tan]);
  tan[1] = 9;
  assert.equal(tout.tolist(), [6, 8]);
});

test("what the library hands out is a copy: writing to it never changes a Tensor", () => {
  const y: Tensor = np.array([1, 2, 3]);
  const ta = y.toTypedArray();
  ta[0] = 99;
  const nd = y.toNdarray();
  nd.set(1, 99);
  const list = y.tolist();
  list[2] = 99;
  assert.equal(y.tolist(), [1, 2, 3]);
  // Also for views (a transpose is a stride trick over the same buffer internally).
  const m = np.array([[1, 2], [3, 4]]);
  const mt = m.T;
  mt.toTypedArray().fill(0);
  assert.equal([m.tolist(), mt.tolist()], [[[1, 2], [3, 4]], [[1, 3], [2, 4]]]);
});

test.run();
