// Bitwise and shift primitives: values on int32, uint32 and bool against plain JS arithmetic on
// the bit patterns, XLA's out-of-range shift amounts, jit and vmap agreeing with eager calls, zero
// tangents, and the dtype errors.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { DTypeError, jit, jvp, lax, makeJaxpr, np, vmap } from "../../src/index.js";
import * as B from "../../src/primitives/bitwise.js";
import { throwsWith } from "../helpers.js";
import { Zero } from "../../src/core/primitive.js";

const u32 = (xs: number[]) => np.array(new Uint32Array(xs));
const i32 = (xs: number[]) => np.array(new Int32Array(xs));
const A = [0xffffffff, 0x80000001, 0x12345678, 0, 7, 0xdeadbeef];
const S = [0, 1, 31, 32, 33, 4];

test("and, or, xor, not on uint32 and int32 bit patterns", () => {
  const Bv = [0x0f0f0f0f, 0xffffffff, 0x87654321, 5, 3, 0xcafebabe];
  const a = u32(A), b = u32(Bv);
  assert.equal(np.bitwiseAnd(a, b).tolist(), A.map((x, i) => (x & Bv[i]) >>> 0));
  assert.equal(np.bitwiseOr(a, b).tolist(), A.map((x, i) => (x | Bv[i]) >>> 0));
  assert.equal(np.bitwiseXor(a, b).tolist(), A.map((x, i) => (x ^ Bv[i]) >>> 0));
  assert.equal(np.bitwiseNot(a).tolist(), A.map((x) => ~x >>> 0));
  assert.equal(np.invert(a).dtype, "uint32");
  const ai = i32(A.map((x) => x | 0)), bi = i32(Bv.map((x) => x | 0));
  assert.equal(np.bitwiseAnd(ai, bi).tolist(), A.map((x, i) => x & Bv[i]));
  assert.equal(np.bitwiseXor(ai, bi).tolist(), A.map((x, i) => x ^ Bv[i]));
  assert.equal(np.bitwiseNot(ai).tolist(), A.map((x) => ~x));
  // Weak JS ints keep the operand's dtype.
  assert.equal(np.bitwiseAnd(a, 0xff).tolist(), A.map((x) => x & 0xff));
  assert.is(np.bitwiseAnd(a, 0xff).dtype, "uint32");
  assert.equal(np.bitwiseOr(a, 0x80000000).tolist(), A.map((x) => (x | 0x80000000) >>> 0));
});

test("bool operands: logical and/or/xor/not", () => {
  const p = np.array([true, true, false, false]), q = np.array([true, false, true, false]);
  assert.equal(np.bitwiseAnd(p, q).tolist(), [true, false, false, false]);
  assert.equal(np.bitwiseOr(p, q).tolist(), [true, true, true, false]);
  assert.equal(np.bitwiseXor(p, q).tolist(), [false, true, true, false]);
  assert.equal(np.bitwiseNot(p).tolist(), [false, false, true, true]);
  assert.is(np.bitwiseNot(p).dtype, "bool");
});

test("shifts: amounts of 32 or more shift every bit out, as XLA", () => {
  const a = u32(A), s = u32(S);
  const ref = (x: number, k: number, op: (x: number, k: number) => number, out: number) => (k >= 32 ? out : op(x, k));
  assert.equal(np.leftShift(a, s).tolist(), A.map((x, i) => ref(x, S[i], (v, k) => (v << k) >>> 0, 0)));
  assert.equal(np.rightShift(a, s).tolist(), A.map((x, i) => ref(x, S[i], (v, k) => v >>> k, 0)));
  // int32: right_shift is arithmetic, filling with the sign bit; negative amounts are out of range.
  const ai = i32(A.map((x) => x | 0)), si = i32([0, 1, 31, 32, -1, 4]);
  assert.equal(np.rightShift(ai, si).tolist(), A.map((x, i) => [0, 1, 31].includes(i) || i === 5 ? (x | 0) >> [0, 1, 31, 0, 0, 4][i] : (x | 0) < 0 ? -1 : 0));
  assert.equal(np.leftShift(ai, si).tolist(), A.map((x, i) => ([3, 4].includes(i) ? 0 : (x | 0) << [0, 1, 31, 0, 0, 4][i])));
  assert.equal(B.shiftRightLogical(ai, si).tolist(), A.map((x, i) => ([3, 4].includes(i) ? 0 : (x >>> [0, 1, 31, 0, 0, 4][i]) | 0)));
  // Arithmetic shift of a uint32 works on its bit pattern.
  assert.equal(B.shiftRightArithmetic(u32([0x80000000, 0x40000000]), u32([4, 40])).tolist(), [0xf8000000, 0]);
});

test("jit, vmap and jvp: same values, zero tangents", () => {
  const f = (x: any, y: any) => np.bitwiseXor(np.leftShift(x, 3), np.rightShift(np.bitwiseOr(x, y), 5));
  const a = u32(A), b = u32([1, 2, 3, 4, 5, 6]);
  assert.equal(jit(f)(a, b).tolist(), f(a, b).tolist());
  assert.equal(vmap(f)(np.reshape(a, [2, 3]), np.reshape(b, [2, 3])).tolist(), np.reshape(f(a, b), [2, 3]).tolist());
  const [out, t] = jvp((x: any) => np.bitwiseAnd(x, 0xff), [a], [np.zeros([6], "uint32")]);
  assert.equal(out.tolist(), A.map((x) => x & 0xff));
  assert.equal(t.tolist(), [0, 0, 0, 0, 0, 0]);
  // The rule itself (jvp skips it when every tangent is symbolically zero, as for integers).
  const [[o], [z]] = B.andP.jvp!([a, b], [new Zero(a.aval), new Zero(b.aval)], {});
  assert.equal(o.tolist(), np.bitwiseAnd(a, b).tolist());
  assert.instance(z, Zero);
  const j = makeJaxpr(f)(a, b).toString();
  for (const n of ["shift_left", "shift_right_logical", "or", "xor"]) assert.ok(j.includes(n), j);
});

test("notation in the teaching tables", () => {
  const n = (p: { notation?: (o: string[], params: never, ins: never) => string | null }, ops: string[]) => p.notation!(ops, {} as never, [] as never);
  assert.equal([n(B.andP, ["a", "b"]), n(B.orP, ["a", "b"]), n(B.xorP, ["a", "b"]), n(B.notP, ["a"])], ["a & b", "a | b", "a ^ b", "~ a"]);
  assert.equal([n(B.shiftLeftP, ["a", "b"]), n(B.shiftRightLogicalP, ["a", "b"]), n(B.shiftRightArithmeticP, ["a", "b"])], ["a << b", "a >>> b", "a >> b"]);
});

test("lax's shifts", () => {
  assert.equal(lax.shiftLeft(u32([1, 3]), u32([31, 1])).tolist(), [0x80000000, 6]);
  assert.equal(lax.shiftRightLogical(i32([-8, 8]), i32([1, 1])).tolist(), [0x7ffffffc, 4]);
  assert.equal(lax.shiftRightArithmetic(i32([-8, 8]), i32([1, 1])).tolist(), [-4, 4]);
});

test("float operands are a DTypeError naming the dtypes", () => {
  throwsWith(() => np.bitwiseAnd(np.array([1.5]), np.array([2.5])), DTypeError, ["and", "integer or bool", "float64"]);
  throwsWith(() => np.leftShift(np.array([true]), np.array([true])), DTypeError, ["shift_left", "integer operands", "bool"]);
  throwsWith(() => np.bitwiseNot(np.array([1.5])), DTypeError, ["not", "float64"]);
});

test.run();
