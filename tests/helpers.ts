// Helpers shared by the test files: converting results to plain lists, comparing them, and
// checking thrown errors.
import * as assert from "uvu/assert";
import type { Tensor } from "../src/index.js";

export type Nested = number | Nested[];

/** Tensors (anywhere in a pytree) to nested JS lists, so whole results compare with assert.equal. */
export function L(x: unknown): unknown {
  if (x !== null && typeof x === "object" && "tolist" in x && typeof (x as Tensor).tolist === "function") return (x as Tensor).tolist();
  if (Array.isArray(x)) return x.map(L);
  if (x !== null && typeof x === "object") return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, L(v)]));
  return x;
}

/** The leaves of nested lists, in order. */
export const flatNums = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flatNums) : [x as number]);

/**
 * Same pytree structure and shapes (tensors compared as nested lists), every number within `tol`
 * relative to max(1, |want|); NaN only matches NaN.
 */
export function close(got: unknown, want: unknown, tol = 1e-12, what = ""): void {
  const g = L(got), w = L(want);
  const gs = JSON.stringify(g), ws = JSON.stringify(w);
  const skeleton = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(skeleton) : v !== null && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, skeleton(x)])) : 0;
  assert.equal(skeleton(g), skeleton(w), `${what} structure: got ${gs}, want ${ws}`);
  // Dict leaves in sorted key order, as pytrees flatten them.
  const leavesOf = (v: unknown): number[] =>
    Array.isArray(v) ? v.flatMap(leavesOf) : v !== null && typeof v === "object" ? Object.keys(v).sort().flatMap((k) => leavesOf((v as any)[k])) : [v as number];
  const a = leavesOf(g), b = leavesOf(w);
  assert.is(a.length, b.length, `${what} size`);
  a.forEach((v, i) => {
    const ok = Number.isNaN(b[i]) ? Number.isNaN(v) : Math.abs(v - b[i]) <= tol * Math.max(1, Math.abs(b[i]));
    if (!ok) assert.unreachable(`${what} element ${i}: got ${v}, want ${b[i]} (got ${gs}, want ${ws})`);
  });
}

/** Runs `fn` and checks it throws an instance of `cls` (or a subclass) whose message contains every one of `words`. */
export function throwsWith(fn: () => unknown, cls: new (...a: any[]) => Error, words: string[]): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, cls, `expected ${cls.name}, got ${(e as Error).constructor.name}: ${(e as Error).message}`);
    for (const w of words) assert.ok((e as Error).message.includes(w), `message ${JSON.stringify((e as Error).message)} lacks ${JSON.stringify(w)}`);
    return;
  }
  assert.unreachable(`expected ${cls.name} to be thrown`);
}

/** Runs `fn` and returns exactly what it threw (failing if it did not throw). */
export function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return assert.unreachable("expected a throw");
}

/**
 * Asserts that `fn` throws an instance of exactly `cls` (not a subclass, not a parent) whose
 * message contains every one of `words`; returns the error for further checks.
 */
export function throwsExactly(fn: () => unknown, cls: new (...a: any[]) => Error, words: string[]): Error {
  let thrown: unknown = undefined;
  let threw = false;
  try {
    fn();
  } catch (e) {
    threw = true;
    thrown = e;
  }
  if (!threw) assert.unreachable(`expected ${cls.name} to be thrown`);
  const e = thrown as Error;
  assert.ok(e instanceof Error && e.constructor === cls, `expected exactly ${cls.name}, got ${e?.constructor?.name}: ${e?.message}`);
  for (const w of words) assert.ok(e.message.includes(w), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(w)}`);
  return e;
}

/** The value of a Tensor as a flat JS array of numbers (NaN and ±Infinity kept, unlike JSON). */
export const flat = (t: Tensor): number[] => Array.from(t.toTypedArray() as ArrayLike<number>);

/** A byte-exact snapshot of a typed array (or any array buffer view), to compare before/after. */
export const bytesOf = (a: ArrayBufferView): number[] => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

/** Object.is on every element: tells -0 from 0 and NaN from anything else. */
export function sameNumbers(got: readonly number[], want: readonly number[], what = ""): void {
  assert.is(got.length, want.length, `${what} length`);
  got.forEach((g, i) => assert.ok(Object.is(g, want[i]), `${what}[${i}]: got ${g}, want ${want[i]}`));
}

/** Deterministic pseudo-random numbers in [lo, hi) (a 32-bit LCG, as benchmarks/timing.ts's randomArray). */
export function lcgValues(n: number, seed: number, lo = -4, hi = 4): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 4294967296;
  }
  return out;
}

/** Same dtype, shape, weak type and the same bits in every element (NaN and -0 included). */
export function identical(got: Tensor, want: Tensor, what = ""): void {
  assert.is(got.dtype, want.dtype, `${what} dtype`);
  assert.equal(got.shape, want.shape, `${what} shape`);
  assert.is(got.aval.weakType, want.aval.weakType, `${what} weak type`);
  sameNumbers(flat(got), flat(want), what);
}
