// One seeded generator for the library's own random directions (checkGrads) and for the tests, so
// that a failing case replays exactly from its seed.

/** mulberry32: uniform values in [0, 1) from a 32-bit seed. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
