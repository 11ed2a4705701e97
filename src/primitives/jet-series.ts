// Arithmetic on truncated Taylor series shared by the jet rules of the structural and linear-algebra
// primitives (jet-rules-structural.ts, jet-rules-linalg.ts). It sits in its own module, below every
// rule table, because jet-rules.ts imports those two tables: they cannot import from it.
import type { Tensor } from "../core/tensor.js";
import { add, mul } from "./elementwise.js";
import { isKnownZero, markZero } from "./jet-zeros.js";
import { zerosLike } from "./util.js";

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
export const orderOf = (series: (Tensor[] | null)[]): number => (series.find((s) => s !== null) as Tensor[]).length;

/** A linear map applied to a coefficient: a known zero stays known. */
export const linearly = (c: Tensor, f: (c: Tensor) => Tensor): Tensor => (isZ(c) ? markZero(f(c)) : f(c));

/** Σ_{j=lo..hi} f(a_j, b_{k-j}) for a bilinear f (mul when absent), skipping known zeros; null when every term is skipped. */
export function cauchy(a: Coefs, b: Coefs, k: number, lo: number, hi: number, f: (x: Tensor, y: Tensor) => Tensor = mul): Tensor | null {
  let acc: Tensor | null = null;
  for (let j = lo; j <= hi; j++) {
    if (isZ(a[j]) || isZ(b[k - j])) continue;
    const term = f(a[j], b[k - j]);
    acc = acc === null ? term : add(acc, term);
  }
  return acc;
}

/** The series of a * b for a bilinear product (elementwise when absent): coefficients 0..order. */
export function productSeries(a: Coefs, b: Coefs, order: number, f: (x: Tensor, y: Tensor) => Tensor = mul): Coefs {
  const out = [f(a[0], b[0])];
  for (let k = 1; k <= order; k++) out.push(cauchy(a, b, k, 0, k, f) ?? markZero(zerosLike(out[0])));
  return out;
}
