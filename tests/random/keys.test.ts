// Keys as JAX's (threefry, partitionable): seeds, split, foldIn and bits against values JAX
// prints, and the float transforms against JAX's documented outputs. JAX's older default scheme
// (jax_threefry_partitionable=False) is rebuilt here from the threefry primitive, because most
// published JAX outputs predate the switch; feeding its bits through our float transforms must
// reproduce those numbers exactly.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { DTypeError, JacobiError, ShapeError, jit, lax, np, vmap } from "../../src/index.js";
import { random } from "../../src/random/index.js";
import { normalFromUnit, unitFromBits32 } from "../../src/random/samplers.js";
import { threefry2x32 } from "../../src/primitives/random-bits.js";
import type { Tensor } from "../../src/core/tensor.js";
import { throwsWith } from "../helpers.js";

const u32 = (xs: number[]) => np.array(new Uint32Array(xs));
const f32 = Math.fround;

test("key(seed): the seed as a 64-bit integer, high word first", () => {
  assert.equal(random.key(0).tolist(), [0, 0]);
  assert.equal(random.key(42).tolist(), [0, 42]);
  assert.equal(random.key(2 ** 32 - 1).tolist(), [0, 4294967295]);
  assert.equal(random.key(2 ** 32 + 5).tolist(), [1, 5]);
  assert.equal(random.key(-1).tolist(), [4294967295, 4294967295]);
  assert.is(random.key(7).dtype, "uint32");
  assert.equal(random.keyData(random.key(7)).tolist(), [0, 7]);
  throwsWith(() => random.key(1.5), JacobiError, ["random.key", "safe integer"]);
  throwsWith(() => random.key(2 ** 60), JacobiError, ["random.key"]);
  throwsWith(() => random.key("1" as never), JacobiError, ["random.key", "string"]);
  // Tensor seeds are 32-bit integers, and may be traced.
  assert.equal(random.key(np.array(7, "int32")).tolist(), [0, 7]);
  assert.equal(random.key(np.array(-1, "int32")).tolist(), [0, 4294967295]);
  assert.equal(vmap((s: Tensor) => random.key(s))(np.array([1, 2], "int32")).tolist(), [[0, 1], [0, 2]]);
  assert.equal(jit((s: Tensor) => random.uniform(random.key(s)))(np.array(3, "uint32")).item(), random.uniform(random.key(3)).item());
  throwsWith(() => random.key(np.array(1.5)), DTypeError, ["random.key", "integer scalar"]);
});

test("split: JAX's values for key(0)", () => {
  assert.equal(random.split(random.key(0), 3).tolist(), [[1797259609, 2579123966], [928981903, 3453687069], [4146024105, 2718843009]]);
  assert.equal(random.split(random.key(0)).shape, [2, 2]);
  assert.equal(random.split(random.key(0)).tolist(), random.split(random.key(0), 3).tolist().slice(0, 2));
  assert.equal(random.split(random.key(0), 0).shape, [0, 2]);
  throwsWith(() => random.split(random.key(0), -1), JacobiError, ["random.split", "num"]);
});

test("foldIn: the key encrypting the counter (0, data)", () => {
  const k = random.key(0);
  // With partitionable keys, foldIn(k, i) is split(k, n)[i].
  const s = random.split(k, 4).tolist();
  for (const i of [0, 1, 3]) assert.equal(random.foldIn(k, i).tolist(), s[i]);
  assert.equal(random.foldIn(k, np.astype(2, "int32")).tolist(), s[2]);
  // data is taken modulo 2^32.
  assert.equal(random.foldIn(k, -1).tolist(), random.foldIn(k, 4294967295).tolist());
  throwsWith(() => random.foldIn(k, 0.5), JacobiError, ["random.foldIn"]);
  throwsWith(() => random.foldIn(k, np.array([1, 2], "int32")), DTypeError, ["random.foldIn", "scalar"]);
});

test("bits: the xor of the two block words of each element's counter", () => {
  const b = random.bits(random.key(0), [3]);
  const s = random.split(random.key(0), 3).tolist() as number[][];
  assert.equal(b.tolist(), s.map(([a, c]) => (a ^ c) >>> 0));
  assert.is(b.dtype, "uint32");
  assert.equal(random.bits(random.key(0), [2, 2]).tolist(), [[0, 1], [2, 3]].map((r) => r.map((i) => random.bits(random.key(0), [4]).tolist()[i])));
  assert.equal(random.bits(random.key(0)).shape, []);
});

test("uniform float32: JAX's documented outputs", () => {
  // docs.jax.dev, "jax.random module": random.uniform(key(0)) and uniform(split(key(0))[1]),
  // printed with 6 significant digits there. The exact values are m * 2^-23 of the bits.
  const a = random.uniform(random.key(0), [], { dtype: "float32" }).item();
  assert.is(a.toPrecision(6), "0.947667");
  assert.is(a, (((0x6b200159 ^ 0x99ba4efe) >>> 9) * 2 ** -23));
  const sub = random.split(random.key(0)).tolist()[1] as number[];
  assert.is(random.uniform(u32(sub), [], { dtype: "float32" }).item().toPrecision(6), "0.00729382");
});

/** JAX's bits before jax_threefry_partitionable: threefry of iota(n) split in halves. */
function legacyBits(key: number[], n: number): Tensor {
  const m = n + (n % 2), h = m / 2;
  const count = Array.from({ length: m }, (_, i) => (i < n ? i : 0));
  const k0 = u32(Array(h).fill(key[0])), k1 = u32(Array(h).fill(key[1]));
  const [y0, y1] = threefry2x32(k0, k1, u32(count.slice(0, h)), u32(count.slice(h)));
  return u32([...(y0.tolist() as number[]), ...(y1.tolist() as number[])].slice(0, n));
}
function legacySplit(key: number[], num: number): number[][] {
  const b = legacyBits(key, 2 * num).tolist() as number[];
  return Array.from({ length: num }, (_, i) => [b[2 * i], b[2 * i + 1]]);
}
const legacyNormal32 = (key: number[], n: number) => normalFromUnit(unitFromBits32(legacyBits(key, n))).tolist() as number[];

test("float32 normal transform: JAX's published values from its earlier key scheme", () => {
  // A JAX notebook (2024): split(key(0)) and normal draws of shape (1,).
  const [k, sub] = legacySplit([0, 0], 2);
  assert.equal([k, sub], [[4146024105, 967050713], [2718843009, 1272950319]]);
  assert.equal(legacyNormal32([0, 0], 1), [f32(-0.20584226)]);
  assert.equal(legacyNormal32(sub, 1), [f32(-1.2515389)]);
  assert.equal(legacyNormal32(k, 1), [f32(0.14389051)]);
  // "Deep Learning with Python", 3rd ed.: normal(key(123), (3,)) and after split(key, 1)[0].
  assert.equal(legacyNormal32([0, 123], 3), [-0.1470326, 0.5524756, 1.648498].map(f32));
  assert.equal(legacyNormal32(legacySplit([0, 123], 1)[0], 3), [0.5362355, -1.1920372, 2.450225].map(f32));
});

test("float64 uniform: the top 52 bits of (y0 << 32 | y1) over 2^52, exactly", () => {
  const k = random.key(3);
  const s = random.split(k, 4).tolist() as number[][];
  const want = s.map(([y0, y1]) => (y0 >>> 12) * 2 ** -20 + ((((y0 & 0xfff) << 20) | (y1 >>> 12)) >>> 0) * 2 ** -52);
  assert.equal(random.uniform(k, [4]).tolist(), want);
  assert.is(random.uniform(k, [4]).dtype, "float64");
  const scaled = random.uniform(k, [4], { minval: -2, maxval: 3 }).tolist() as number[];
  assert.equal(scaled, want.map((u) => Math.max(-2, u * 5 - 2)));
});

test("keys compose: jit, vmap over split keys, scan carries, pytrees", () => {
  const sample = (k: Tensor) => random.normal(k, [3]);
  const k = random.key(11);
  const direct = sample(k).tolist();
  assert.equal(jit(sample)(k).tolist(), direct);
  const keys = random.split(k, 4);
  const batched = vmap(sample)(keys).tolist() as number[][];
  (keys.tolist() as number[][]).forEach((row, i) => assert.equal(batched[i], sample(u32(row)).tolist()));
  // A key carried through scan: split, draw, pass the new key on.
  const [last, draws] = lax.scan((carry: Tensor, _x: Tensor) => {
    const ks = random.split(carry);
    return [np.slice(ks, 0), random.uniform(np.slice(ks, 1))];
  }, k, np.zeros([3]));
  let kk = k.tolist() as number[];
  const want: number[] = [];
  for (let i = 0; i < 3; i++) {
    const ks = random.split(u32(kk)).tolist() as number[][];
    want.push(random.uniform(u32(ks[1])).item());
    kk = ks[0];
  }
  assert.equal(draws.tolist(), want);
  assert.equal(last.tolist(), kk);
  const tree = jit((t: { a: Tensor; b: Tensor[] }) => random.uniform(t.b[0], [2]))({ a: np.zeros([1]), b: [k] });
  assert.equal(tree.tolist(), random.uniform(k, [2]).tolist());
});

test("the same key always gives the same numbers; different keys do not", () => {
  const k = random.key(5);
  assert.equal(random.normal(k, [5]).tolist(), random.normal(k, [5]).tolist());
  assert.not.equal(random.normal(random.key(6), [5]).tolist(), random.normal(k, [5]).tolist());
});

test("split and foldIn streams are uncorrelated", () => {
  const n = 20000;
  const corr = (a: number[], b: number[]) => {
    const ma = a.reduce((x, y) => x + y) / n, mb = b.reduce((x, y) => x + y) / n;
    let sab = 0, saa = 0, sbb = 0;
    for (let i = 0; i < n; i++) {
      sab += (a[i] - ma) * (b[i] - mb);
      saa += (a[i] - ma) ** 2;
      sbb += (b[i] - mb) ** 2;
    }
    return sab / Math.sqrt(saa * sbb);
  };
  const ks = random.split(random.key(40), 3).tolist() as number[][];
  const draws = ks.map((k) => random.normal(u32(k), [n]).tolist() as number[]);
  const folded = [1, 2].map((i) => random.uniform(random.foldIn(random.key(40), i + 100), [n]).tolist() as number[]);
  // Under independence the sample correlation has standard error 1 / sqrt(n).
  for (const [a, b] of [[draws[0], draws[1]], [draws[1], draws[2]], [draws[0], draws[2]], folded]) {
    assert.ok(Math.abs(corr(a, b)) < 5 / Math.sqrt(n), `correlation ${corr(a, b)}`);
  }
  // Neighbouring elements of one stream too.
  assert.ok(Math.abs(corr(draws[0].slice(0, n - 1).concat([0]), draws[0].slice(1).concat([0]))) < 5 / Math.sqrt(n));
});

test("bad keys and shapes are typed errors", () => {
  throwsWith(() => random.split(np.array([0, 0])), DTypeError, ["random.split", "uint32", "float64"]);
  throwsWith(() => random.bits(u32([1, 2, 3])), ShapeError, ["random.bits", "shape [2]"]);
  throwsWith(() => random.uniform(random.split(random.key(0), 2)), ShapeError, ["vmap"]);
  throwsWith(() => random.bits(random.key(0), [-1]), ShapeError, ["random.bits", "shape"]);
});

test.run();
