// Taylor coefficients known to be zero, shared by every jet rule (closed-form and generic).

/**
 * Coefficients known to be zero (a constant's, or a term given as zeros: a path along a line has
 * only its first term nonzero). The recurrences skip products with them, which makes a derivative
 * along a line cost O(K) products per operation instead of O(K^2). A WeakSet, so marking keeps no
 * tensor alive.
 */
const knownZeros = new WeakSet<object>();
export const markZero = <T extends object>(x: T): T => (knownZeros.add(x), x);
export const isKnownZero = (x: object): boolean => knownZeros.has(x);
