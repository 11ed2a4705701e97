// Deferred elementwise results (eager fusion): every composed loop gives bit for bit what the
// steps computed one by one give, whatever the dtype, layout or order in which values are read;
// a value is computed at most twice; views and kernels read deferred values like stored ones.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import type { DType, TypedArray } from "../../src/core/dtype.js";
import { mapN } from "../../src/backend/elementwise.js";
import { LAZY_MIN_SIZE, eagerFusion, isDeferred, lazyDtype, settleArr, withEagerFusion } from "../../src/backend/lazy-elementwise.js";
import { type Arr, broadcastInDimView, contiguous, dtypeOf, readFlat, reshapeView, sliceView, toFlatCopy, transposeView, view } from "../../src/backend/ndarray-view.js";
import { reduce } from "../../src/backend/reduce.js";
import { ShapeError } from "../../src/core/errors.js";
import { lcgValues as values, throwsWith } from "../helpers.js";

const N = LAZY_MIN_SIZE; // the smallest size that is deferred
const R = 128; // N = R * R: a square for the transposed layouts
assert.is(R * R, N);


/** Special values in the first slots: NaN, infinities, signed zeros, huge and tiny numbers. */
function withSpecials(a: Float64Array): Float64Array {
  a.set([NaN, Infinity, -Infinity, 0, -0, 1e308, -1e308, 5e-324, 2 ** 31, -(2 ** 31) - 1, 2 ** 32 + 3, 0.5, -0.5]);
  return a;
}

const vec = (a: TypedArray): Arr => view(a, [a.length]);
const bits = (a: Arr): number[] => Array.from(toFlatCopy(a) as ArrayLike<number>);

function sameBits(got: Arr, want: Arr, what: string): void {
  assert.is(dtypeOf(got), dtypeOf(want), `${what}: dtype`);
  const g = bits(got), w = bits(want);
  assert.is(g.length, w.length, `${what}: length`);
  for (let i = 0; i < w.length; i++) if (!Object.is(g[i], w[i])) assert.unreachable(`${what}: element ${i} is ${g[i]}, want ${w[i]}`);
}

/** Runs `chain` once with eager fusion and once step by step, and compares every result. */
function agree(what: string, chain: () => Arr[]): Arr[] {
  const fused = withEagerFusion(chain);
  const plain = chain();
  assert.ok(plain.every((a) => !isDeferred(a)), `${what}: nothing is deferred outside a fusion scope`);
  fused.forEach((a, i) => sameBits(a, plain[i], `${what} #${i}`));
  return fused;
}

const x = vec(withSpecials(values(N, 1, 0.25, 3)));
const y = vec(withSpecials(values(N, 2)));
const z = vec(values(N, 3));

test("a float64 chain is deferred, computed in one pass on first read, and bit-identical to the steps", () => {
  const out = withEagerFusion(() => {
    const l = mapN("Math.log(x0)", [x], "float64");
    const p = mapN("x0 * x1", [x, y], "float64");
    const s = mapN("Math.sin(x0)", [y], "float64");
    const r = mapN("x0 - x1", [mapN("x0 + x1", [l, p], "float64"), s], "float64");
    assert.ok(isDeferred(l) && isDeferred(p) && isDeferred(s) && isDeferred(r));
    return r;
  });
  assert.is(lazyDtype(out), "float64");
  assert.is(lazyDtype(x), null);
  const want = mapN("x0 - x1", [mapN("x0 + x1", [mapN("Math.log(x0)", [x], "float64"), mapN("x0 * x1", [x, y], "float64")], "float64"), mapN("Math.sin(x0)", [y], "float64")], "float64");
  assert.ok(isDeferred(out));
  sameBits(out, want, "log(x) + x*y - sin(y)");
  assert.not.ok(isDeferred(out));
  // Reading again gives the stored buffer.
  assert.is(out.data, out.data);
});

test("every dtype rounds its intermediates as storing them would: float32, int32 (wrapping), uint32, bool", () => {
  const cases: [string, DType, string, DType][] = [
    ["x0 * 3.1", "float32", "x0 / 7 + x1", "float32"],
    ["x0 * 1e9", "int32", "x0 * 3 + x1", "float64"],
    ["x0 * 3e9", "uint32", "x0 + x1", "float64"],
    ["x0 * 3e9", "uint32", "Math.imul(x0, 3)", "int32"],
    ["x0 > x1", "bool", "x0 + x1", "float64"],
    ["x0", "bool", "x0 * 5", "int32"],
  ];
  for (const [e1, d1, e2, d2] of cases) {
    agree(`${e1} as ${d1}, then ${e2} as ${d2}`, () => {
      const a = mapN(e1, e1.includes("x1") ? [y, z] : [y], d1);
      return [mapN(e2, e2.includes("x1") ? [a, z] : [a], d2)];
    });
  }
  // A float32 chain read through float32 buffers.
  const f = vec(Float32Array.from(values(N, 4)));
  agree("float32 chain", () => [mapN("Math.fround(x0 * x1)", [mapN("Math.fround(Math.exp(x0))", [f], "float32"), f], "float32")]);
});

test("operands of any layout: transposed, broadcast (stride 0), sliced, and a deferred value among them", () => {
  const sq = view(y.data, [R, R]);
  const t = transposeView(sq, [1, 0]);
  const row = broadcastInDimView(view(z.data, [R]), [R, R], [1]);
  const one = broadcastInDimView(view(new Float64Array([-1]), []), [R, R], []);
  agree("mixed layouts", () => {
    const a = mapN("Math.cos(x0)", [t], "float64");
    const b = mapN("x0 * x1", [one, a], "float64");
    return [mapN("x0 + x1 * x2", [b, row, sq], "float64")];
  });
  const big = view(values(4 * N, 5), [2 * R, 2 * R]);
  const sl = sliceView(big, [1, 0], [2 * R, 2 * R], [2, 2]);
  agree("sliced operand", () => [mapN("x0 * x1", [mapN("Math.abs(x0)", [sl], "float64"), t], "float64")]);
});

test("a value read by two deferred operations (or twice by one) is stored, so it is computed once", () => {
  withEagerFusion(() => {
    const e = mapN("Math.exp(x0)", [z], "float64");
    const a = mapN("x0 * 2", [e], "float64");
    assert.ok(isDeferred(e), "one consumer inlines it");
    const b = mapN("x0 + 1", [e], "float64");
    assert.not.ok(isDeferred(e), "a second consumer stores it first");
    assert.ok(isDeferred(a) && isDeferred(b));
    const sq = mapN("Math.sqrt(x0)", [z], "float64");
    const p = mapN("x0 * x1", [sq, sq], "float64");
    assert.not.ok(isDeferred(sq), "named twice by one operation: stored");
    const want = mapN("Math.exp(x0)", [z], "float64");
    sameBits(e, want, "exp");
    sameBits(a, mapN("x0 * 2", [want], "float64"), "2 exp");
    sameBits(b, mapN("x0 + 1", [want], "float64"), "exp + 1");
    sameBits(p, mapN("x0 * x1", [mapN("Math.sqrt(x0)", [z], "float64"), mapN("Math.sqrt(x0)", [z], "float64")], "float64"), "sqrt squared");
  });
});

test("values read from the outside in: an inlined value computed a second time is stored, not recomputed again", () => {
  const chain = () => {
    const a = mapN("Math.sin(x0)", [y], "float64");
    const b = mapN("x0 * 3", [a], "float64");
    const c = mapN("x0 - 1", [b], "float64");
    return [a, b, c];
  };
  const plain = chain();
  const [a, b, c] = withEagerFusion(chain);
  sameBits(c, plain[2], "c first");
  assert.ok(isDeferred(a) && isDeferred(b), "c's loop computed a and b without storing them");
  sameBits(b, plain[1], "then b");
  assert.not.ok(isDeferred(a), "b needed a a second time: a was stored");
  sameBits(a, plain[0], "then a");
});

test("a loop is bounded: long chains and many buffers split into stored steps, still bit-identical", () => {
  agree("a chain of 40 operations", () => {
    let v = x;
    for (let i = 0; i < 40; i++) v = mapN(i % 2 ? "Math.sin(x0) + x1" : "x0 * 0.75 - x1", [v, i % 3 ? y : z], "float64");
    return [v];
  });
  const ops = [x, y, z, mapN("x0 + 1", [x], "float64"), view(values(N, 9), [N]), view(values(N, 10), [N]), view(values(N, 11), [N])];
  agree("eight buffers", () => {
    let v = mapN("x0 * x1", [y, z], "float64");
    for (const o of ops) v = mapN("x0 + x1 * x2", [v, o, x], "float64");
    return [v];
  });
});

test("views, kernels and the ndarray interface read deferred values as stored ones", () => {
  const make = () => mapN("x0 * x1 + 1", [y, z], "float64");
  const want = make();
  const fresh = () => withEagerFusion(make);
  const sq = (a: Arr) => reshapeView(a, [R, R]);
  sameBits(sq(fresh()), sq(want), "reshape");
  sameBits(transposeView(sq(fresh()), [1, 0]), transposeView(sq(want), [1, 0]), "transpose");
  sameBits(sliceView(fresh(), [3], [N - 5], [7]), sliceView(want, [3], [N - 5], [7]), "slice");
  sameBits(contiguous(fresh()), want, "contiguous");
  assert.is(readFlat(fresh(), 77), readFlat(want, 77));
  assert.equal(Array.from(reduce("sum", fresh(), [0], "float64").data), Array.from(reduce("sum", want, [0], "float64").data));
  const d = fresh();
  assert.is(d.size, N);
  assert.is(d.dimension, 1);
  assert.is(d.dtype, "float64");
  assert.is(d.get(5), want.get(5));
  assert.is(d.index(5), 5);
  assert.equal(d.order, [0]);
  assert.is(d.lo(4).get(0), want.get(4));
  assert.is(d.hi(4).size, 4);
  assert.is(d.step(2).get(1), want.get(2));
  assert.is(d.transpose(0).get(9), want.get(9));
  assert.is(d.pick(9).get(), want.get(9));
  const m = withEagerFusion(() => sq(make()));
  const m2 = withEagerFusion(() => mapN("x0", [m], "float64"));
  assert.is(m2.get(2, 3), sq(want).get(2, 3));
  // Writing through the interface writes the computed buffer (kernels fill outputs this way).
  const w = fresh();
  assert.is(w.set(6, 42), 42);
  assert.is(w.data[6], 42);
});

test("x * 1 hands back a deferred operand without computing it; settleArr computes it", () => {
  const one = broadcastInDimView(view(new Float64Array([1]), []), [N], []);
  withEagerFusion(() => {
    const a = mapN("Math.tanh(x0)", [y], "float64");
    assert.is(mapN("x0 * x1", [a, one], "float64"), a);
    assert.is(mapN("x0 * x1", [one, a], "float64"), a);
    assert.ok(isDeferred(a));
    assert.is.not(mapN("x0 * x1", [a, one], "float32"), a, "another dtype is a new value");
    settleArr(a);
    settleArr(x);
    assert.not.ok(isDeferred(a));
    sameBits(a, mapN("Math.tanh(x0)", [y], "float64"), "tanh");
  });
});

test("nothing is deferred below the size threshold, for 0-d operands, with the switch off, or outside a scope", () => {
  withEagerFusion(() => {
    assert.not.ok(isDeferred(mapN("x0 + 1", [view(values(N - 1, 3), [N - 1])], "float64")));
    assert.not.ok(isDeferred(mapN("x0 + 1", [view(new Float64Array([2]), [])], "float64")));
    eagerFusion.enabled = false;
    try {
      assert.not.ok(isDeferred(mapN("x0 + 1", [x], "float64")));
    } finally {
      eagerFusion.enabled = true;
    }
    assert.ok(isDeferred(mapN("x0 + 1", [x], "float64")));
  });
  assert.not.ok(isDeferred(mapN("x0 + 1", [x], "float64")));
});

test("nested scopes, and a scope left by an exception, leave fusion off afterwards", () => {
  withEagerFusion(() => withEagerFusion(() => assert.ok(isDeferred(mapN("x0 + 1", [x], "float64")))));
  throwsWith(() => withEagerFusion(() => {
    throw new ShapeError("inside");
  }), ShapeError, ["inside"]);
  assert.not.ok(isDeferred(mapN("x0 + 1", [x], "float64")));
});

test("an impossible size fails where the operation is, not where it is read", () => {
  // Views that claim 2^30 elements over a tiny buffer: nothing reads them, the size check comes first.
  const huge = broadcastInDimView(view(new Float64Array([1]), []), [2 ** 30], []);
  const varying = view(new Float64Array(1), [2 ** 30], [1]);
  throwsWith(() => withEagerFusion(() => mapN("x0 + x1", [huge, varying], "float64")), ShapeError, ["bytes"]);
});

test.run();
