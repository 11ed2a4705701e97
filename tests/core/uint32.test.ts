// The uint32 dtype: allocation, promotion as JAX's lattice (without x64), wrap-around arithmetic
// modulo 2^32 in eager and jit-fused kernels, conversions both ways, printing.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { jit, makeJaxpr, np } from "../../src/index.js";
import { type DType, allocate, dtypeOfTypedArray, isInteger, promoteTypes, shortName } from "../../src/core/dtype.js";
import { dtypeOf, view } from "../../src/backend/ndarray-view.js";
import { formatNumber } from "../../src/ir/pprint.js";
import { fmt3 } from "../../src/ir/notation.js";
import * as P from "../../src/primitives/elementwise.js";

const u32 = (xs: number[]) => np.array(new Uint32Array(xs));
const i32 = (xs: number[]) => np.array(new Int32Array(xs));

test("allocation, typed-array detection and names", () => {
  const b = allocate("uint32", 3);
  assert.ok(b instanceof Uint32Array);
  assert.is(dtypeOfTypedArray(b), "uint32");
  // Uint8Array still means bool.
  assert.is(dtypeOfTypedArray(new Uint8Array(1)), "bool");
  assert.is(dtypeOf(view(b, [3])), "uint32");
  assert.is(shortName("uint32"), "u32");
  assert.ok(isInteger("uint32") && isInteger("int32") && !isInteger("bool") && !isInteger("float32"));
});

test("promotion: JAX's lattice without x64, weak ints keep uint32", () => {
  const table: [DType, boolean, DType, boolean, DType, boolean][] = [
    ["uint32", false, "int32", false, "int32", false],
    ["int32", false, "uint32", false, "int32", false],
    ["uint32", false, "bool", false, "uint32", false],
    ["uint32", false, "float32", false, "float32", false],
    ["uint32", false, "float64", false, "float64", false],
    ["uint32", false, "uint32", false, "uint32", false],
    ["int32", true, "uint32", false, "uint32", false],
    ["uint32", true, "bool", false, "uint32", false],
    ["float64", true, "uint32", false, "float64", false],
    ["uint32", true, "int32", true, "int32", true],
  ];
  for (const [a, aw, b, bw, d, w] of table) assert.equal(promoteTypes(a, aw, b, bw), [d, w], `${a}${aw ? "(weak)" : ""} with ${b}${bw ? "(weak)" : ""}`);
  assert.is(np.add(u32([1]), 1).dtype, "uint32");
  assert.is(np.add(u32([1]), 0xffffffff).dtype, "uint32");
  assert.is(np.add(u32([1]), i32([1])).dtype, "int32");
  assert.is(np.add(u32([1]), 1.5).dtype, "float64");
  assert.is(np.add(u32([1]), np.array([true])).dtype, "uint32");
});

test("wrap-around arithmetic modulo 2^32, eager and under jit", () => {
  const a = u32([0xffffffff, 3, 0x80000000, 0x9e3779b9]);
  const b = u32([1, 0xfffffffe, 0x80000000, 0x7f4a7c15]);
  const f = (x: any, y: any) => [np.add(x, y), np.subtract(x, y), np.multiply(x, y), P.div(x, y), np.negative(x)];
  // Exact values by BigInt arithmetic modulo 2^32.
  const m = (v: bigint) => Number(((v % 2n ** 32n) + 2n ** 32n) % 2n ** 32n);
  const A = [0xffffffff, 3, 0x80000000, 0x9e3779b9].map(BigInt), B = [1, 0xfffffffe, 0x80000000, 0x7f4a7c15].map(BigInt);
  const exp = [A.map((x, i) => m(x + B[i])), A.map((x, i) => m(x - B[i])), A.map((x, i) => m(x * B[i])), A.map((x, i) => Number(x / B[i])), A.map((x) => m(-x))];
  for (const g of [f, jit(f)]) {
    const got = g(a, b).map((t: any) => t.tolist());
    assert.equal(got, exp);
    for (const t of g(a, b)) assert.is(t.dtype, "uint32");
  }
  // Scalars take the 0-d path.
  assert.is(np.multiply(np.astype(0xffffffff, "uint32"), np.astype(0xffffffff, "uint32")).item(), 1);
});

test("unsigned division and comparisons", () => {
  const a = u32([0xffffffff, 7, 0x80000000]);
  assert.equal(P.div(a, u32([2, 2, 3])).tolist(), [2147483647, 3, 715827882]);
  // Division by zero stores 0 (JAX's integer division leaves it unspecified).
  assert.equal(P.div(a, u32([0, 0, 0])).tolist(), [0, 0, 0]);
  assert.equal(np.less(a, u32([0, 8, 0x7fffffff])).tolist(), [false, true, false]);
  assert.equal(np.maximum(a, u32([0, 8, 1])).tolist(), [0xffffffff, 8, 0x80000000]);
});

test("conversions to and from uint32 reinterpret modulo 2^32, as NumPy's astype", () => {
  assert.equal(np.astype(i32([-1, 2, -2147483648]), "uint32").tolist(), [0xffffffff, 2, 0x80000000]);
  assert.equal(np.astype(u32([0xffffffff, 2, 0x80000000]), "int32").tolist(), [-1, 2, -2147483648]);
  assert.equal(np.astype(u32([0xffffffff, 0]), "float64").tolist(), [4294967295, 0]);
  assert.equal(np.astype(np.array([3.7, 4294967295]), "uint32").tolist(), [3, 4294967295]);
  assert.equal(np.astype(u32([0, 5]), "bool").tolist(), [false, true]);
  assert.equal(np.astype(np.array([true, false]), "uint32").tolist(), [1, 0]);
  // jit agrees with eager.
  assert.equal(jit((x: any) => np.astype(np.add(np.astype(x, "uint32"), 1), "int32"))(i32([-1, 5])).tolist(), [0, 6]);
});

test("printing: tolist, toString and jaxprs", () => {
  const a = u32([4294967295, 1]);
  assert.equal(a.tolist(), [4294967295, 1]);
  assert.is(String(a), "Array([4294967295,          1], dtype=uint32)");
  const j = makeJaxpr((x: any) => np.add(x, 4294967295))(a).toString();
  assert.ok(j.includes("u32[2]"), j);
  assert.is(formatNumber(4294967295, "uint32"), "4294967295");
  assert.is(fmt3(4294967295, "uint32"), "4294967295");
});

test.run();
