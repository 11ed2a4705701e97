// Helpers shared by the reliability tests.
import * as assert from "uvu/assert";
import type { Tensor } from "../../src/index.js";

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
