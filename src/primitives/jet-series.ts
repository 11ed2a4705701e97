// Arithmetic on truncated Taylor series shared by every jet rule table (jet-rules.ts,
// jet-rules-structural.ts, jet-rules-linalg.ts) and the JVP-derived rule (jet-from-jvp.ts). It sits
// in its own module, below every rule table, because jet-rules.ts imports the other tables: they
// cannot import from it.
import type { Tensor } from "../core/tensor.js";
import { add, mul } from "./elementwise.js";
import { isKnownZero, markZero } from "./jet-zeros.js";
import { fullLike, zerosLike } from "./util.js";

/** Taylor coefficients of one value: index 0 is the primal, k >= 1 the coefficient x_k / k!. */
export type Coefs = Tensor[];

// Coefficients known to be zero are skipped in products (jet-zeros.ts: one mark shared by every rule).
export { markZero };
export const isZ = isKnownZero;

/** The primal followed by its coefficients; a constant's coefficients are (marked) zeros. */
export function full(x: Tensor, s: Tensor[] | null, order: number): Coefs {
  if (s !== null) return [x, ...s];
  const z = markZero(zerosLike(x));
  return [x, ...Array.from({ length: order }, () => z)];
}

/** The number of coefficients K of the inputs (at least one input is not constant). */
export const orderOf = (series: readonly (readonly Tensor[] | null)[]): number => (series.find((s) => s !== null) as readonly Tensor[]).length;

/** A linear map applied to a coefficient: a known zero stays known. */
export const linearly = (c: Tensor, f: (c: Tensor) => Tensor): Tensor => (isZ(c) ? markZero(f(c)) : f(c));

/** c x; a known zero (or c = 1) stays the same tensor, so it stays known. */
export const scale = (x: Tensor, c: number): Tensor => (c === 1 || isZ(x) ? x : mul(x, fullLike(x, c)));

/**
 * Σ_{j=lo..hi} w(j) f(a_j, b_{k-j}) for a bilinear f (mul when absent) and a weight w (1 when
 * absent), skipping the terms with a known zero; null when every term is skipped (callers that
 * subtract it skip the subtraction; callers that keep it as a coefficient mark a zero).
 */
export function cauchy(a: Coefs, b: Coefs, k: number, lo: number, hi: number, f: (x: Tensor, y: Tensor) => Tensor = mul, w?: (j: number) => number): Tensor | null {
  let acc: Tensor | null = null;
  for (let j = lo; j <= hi; j++) {
    if (isZ(a[j]) || isZ(b[k - j])) continue;
    const t = f(a[j], b[k - j]);
    const term = w === undefined ? t : scale(t, w(j));
    acc = acc === null ? term : add(acc, term);
  }
  return acc;
}

/**
 * The series of a * b for a bilinear product (elementwise when absent): coefficients 0..order, a
 * coefficient whose every product has a known zero factor a marked zero (so a path along a line
 * costs O(K) products, not O(K^2)).
 */
export function productSeries(a: Coefs, b: Coefs, order: number, f: (x: Tensor, y: Tensor) => Tensor = mul): Coefs {
  const out = [f(a[0], b[0])];
  for (let k = 1; k <= order; k++) out.push(cauchy(a, b, k, 0, k, f) ?? markZero(zerosLike(out[0])));
  return out;
}
