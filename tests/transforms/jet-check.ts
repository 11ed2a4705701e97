// The reference check of a jet rule, shared by every jet test file: the public jet against nested
// jvp to order K, with every input term nonzero, along a line, and with each input alone varying;
// optionally through jit both ways (the control-flow rules, which jit stages).
import * as assert from "uvu/assert";
import { close } from "../helpers.js";
import { jet, jit, jvp, makeJaxpr, np, type Tensor } from "../../src/index.js";
import { checkJaxpr } from "../../src/ir/check-jaxpr.js";

export const K = 5;
export type F = (...xs: Tensor[]) => Tensor;
/** A function of tensors with any output: a tensor, a list of them, a pytree (control flow returns pairs). */
export type AnyF = (...xs: Tensor[]) => unknown;

const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));

/** The public jet of a function of tensors returning one tensor: [primal, derivatives along the path]. */
export const jetOf = (f: F, xs: Tensor[], vs: Tensor[][]): [Tensor, Tensor[]] => jet(f, xs, vs) as [Tensor, Tensor[]];

/** Deterministic values of a shape. */
export const mk = (shape: number[], seed: number, lo = 0.3, width = 0.9): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  const flat = Array.from({ length: n }, (_, i) => lo + width * (0.5 + 0.5 * Math.sin(seed * 7.1 + i * 1.7)));
  return np.reshape(np.array(flat), shape);
};

/** Deterministic pseudo-random values in [lo, lo + width) (mulberry32): full-rank matrices, unlike `mk`'s sines. */
export const rnd = (shape: number[], seed: number, lo = -0.5, width = 1): Tensor => {
  let a = seed * 0x9e3779b9;
  const next = (): number => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const n = shape.reduce((x, y) => x * y, 1);
  return np.reshape(np.array(Array.from({ length: n }, () => lo + width * next())), shape);
};

/** Series terms in [-0.5, 0.5] from `mk`'s sines (the elementwise and control-flow suites' terms). */
export const sineTerm = (shape: number[], seed: number): Tensor => mk(shape, seed, -0.5, 1);

/** K terms for every input of `xs`, all nonzero (so the rules' higher input terms are exercised). */
export const termsOf = (xs: Tensor[], term: (shape: number[], seed: number) => Tensor = rnd): Tensor[][] =>
  xs.map((x, i) => Array.from({ length: K }, (_, k) => term(x.shape as number[], 10 * i + k + 1)));

/** The same path along a line: only the first term nonzero. */
export const lineOf = (vs: Tensor[][]): Tensor[][] => vs.map((v) => [v[0], ...v.slice(1).map((t) => np.zerosLike(t))]);

/** The first `order` derivatives in t of f(x(t)) at t = 0 along x_i(t) = x_i + Σ_k v_ik t^k / k!, by nesting jvp. */
export function nestedJvp<T>(f: (...xs: Tensor[]) => T, xs: Tensor[], vs: Tensor[][], order: number): T[] {
  const path = (t: Tensor): Tensor[] =>
    xs.map((x, i) => {
      let acc = x;
      vs[i].forEach((v, k) => (acc = np.add(acc, np.multiply(v, np.divide(np.power(t, k + 1), fact(k + 1))))));
      return acc;
    });
  let g = (t: Tensor): T => f(...path(t));
  const out: T[] = [];
  for (let k = 1; k <= order; k++) {
    const prev = g;
    g = (t: Tensor) => jvp(prev as (t: Tensor) => Tensor, [t], [np.array(1.0)])[1] as T;
    out.push(g(np.array(0.0)));
  }
  return out;
}

export type CheckOptions = {
  /** Also run each input alone varying, the others constants of the trace. */
  consts?: boolean;
  /** Make every series term of the inputs symmetric in its last two axes (a path of symmetric matrices). */
  symmetric?: boolean;
  /** Relative tolerance of the series (1e-11 unless given). */
  tol?: number;
  /** The values of the series terms (`rnd`'s unless given). */
  term?: (shape: number[], seed: number) => Tensor;
  /**
   * Also jet(jit(f)) and jit(jet(f)), where jit stages control flow an eager run would resolve, and
   * the staged jet typechecks with every jaxpr nested in it; the line and the inputs alone then run
   * jet(jit(f)).
   */
  jit?: boolean;
};

/**
 * jet against nested jvp: every input term nonzero (with `jit`, through jit both ways), then along a
 * line, then (`consts`) each input alone varying.
 */
export function check(name: string, f: AnyF, xs: Tensor[], { consts = false, symmetric = false, tol = 1e-11, term = rnd, jit: viaJit = false }: CheckOptions = {}): void {
  const sym = (t: Tensor): Tensor => (symmetric ? np.add(t, np.swapaxes(t, -1, -2)) : t);
  const vs = termsOf(xs, term).map((v) => v.map(sym));
  const want = nestedJvp(f, xs, vs, K);
  const [p, s] = jet(f as F, xs, vs) as [unknown, unknown[]];
  assert.is(s.length, K, `${name}: one output term per input term`);
  close(p, f(...xs), 1e-12, `${name} primal`);
  close(s, want, tol, `${name} series`);
  const staged = (g: AnyF): AnyF => (viaJit ? jit(g as F) : g);
  if (viaJit) {
    const fj = staged(f) as F;
    close(jet(fj, xs, vs), [f(...xs), want], tol, `${name}: jet(jit(f))`);
    close(jit((...ys: Tensor[]) => jet(f as F, ys, vs))(...xs), [f(...xs), want], tol, `${name}: jit(jet(f))`);
    checkJaxpr(makeJaxpr((...ys: Tensor[]) => jet(fj, ys, vs))(...xs).jaxpr);
  }
  const line = lineOf(vs);
  close(jet(staged(f) as F, xs, line)[1], nestedJvp(f, xs, line, K), tol, `${name} series along a line`);
  if (consts) {
    xs.forEach((_, i) => {
      const g = (x: Tensor) => f(...xs.map((y, j) => (j === i ? x : y)));
      close(jet(staged(g) as F, [xs[i]], [vs[i]])[1], nestedJvp(g, [xs[i]], [vs[i]], K), tol, `${name} (input ${i} alone varying) series`);
    });
  }
}
