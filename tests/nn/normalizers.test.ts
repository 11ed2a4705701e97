// nn's reductions and normalisers: logsumexp (b, returnSign, where), logmeanexp, softmax and
// logSoftmax (where; torch float64 fixtures), standardize, oneHot.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DTypeError, JacobiError, ShapeError, type Tensor, checkGrads, grad, jit, nn, np, vmap } from "../../src/index.js";
import { guardTraceState } from "../guard.js";
import { L, close, flat, flatNums, sameNumbers, throwsWith } from "../helpers.js";

guardTraceState(test);

/** close(), except that infinities (which close's |got - want| cannot compare) must match exactly. */
function closeInf(got: unknown, want: unknown, tol: number, what = ""): void {
  const g = flatNums(L(got)), w = flatNums(L(want));
  assert.is(g.length, w.length, `${what} size`);
  w.forEach((v, i) => {
    const ok = Number.isFinite(v) ? Math.abs(g[i] - v) <= tol * Math.max(1, Math.abs(v)) : Object.is(g[i], v);
    assert.ok(ok, `${what} element ${i}: got ${g[i]}, want ${v}`);
  });
}

type Weighted = { x: number[][]; w: number[][]; y: number[][]; dx: number[][] };
const fx = JSON.parse(readFileSync(new URL("../fixtures/nn.json", import.meta.url), "utf8")) as {
  softmax: Record<string, Weighted>;
  logSoftmax: Record<string, Weighted>;
};

test("softmax and logSoftmax match torch along either axis, values and gradients", () => {
  for (const [name, f] of [["softmax", nn.softmax], ["logSoftmax", nn.logSoftmax]] as const) {
    for (const [key, axis] of [["axis-1", -1], ["axis0", 0]] as const) {
      const c = fx[name][key];
      close(f(np.array(c.x), axis), c.y, 1e-14, `${name} ${key}`);
      close(grad((x: Tensor) => np.sum(np.multiply(f(x, axis), np.array(c.w))))(np.array(c.x)), c.dx, 1e-13, `${name} ${key} grad`);
    }
  }
  // The default axis is the last; several axes at once normalise over all of them.
  close(nn.softmax(np.array([[1, 2], [3, 4]]), [0, 1]), [[1, Math.E], [Math.E ** 2, Math.E ** 3]].map((r) => r.map((v) => v / (1 + Math.E + Math.E ** 2 + Math.E ** 3))), 1e-15);
  close(nn.logSoftmax(np.array([1000, 1000])), [-Math.LN2, -Math.LN2], 1e-16);
  close(nn.softmax(np.array([-1000, 0, 1000])), [0, 0, 1], 0);
});

test("softmax and logSoftmax with where: masked elements get 0 and -inf, the rest normalise among themselves", () => {
  const x = np.array([[1, 5, 2], [0.5, -1, 3]]);
  const w = np.array([[true, false, true], [true, true, true]]);
  const e1 = [Math.exp(1), Math.exp(2)], s1 = e1[0] + e1[1];
  const row2 = flat(nn.softmax(np.array([0.5, -1, 3])));
  close(nn.softmax(x, -1, { where: w }), [[e1[0] / s1, 0, e1[1] / s1], row2], 1e-15);
  const ls = flat(nn.logSoftmax(x, -1, { where: w }));
  closeInf(ls.slice(0, 3), [1 - Math.log(s1), -Infinity, 2 - Math.log(s1)], 1e-15);
  // Gradients flow only into the elements that take part.
  const g = grad((t: Tensor) => np.sum(np.multiply(nn.softmax(t, -1, { where: w }), np.array([[1, 2, 3], [1, 1, 1]]))))(x);
  assert.is(flat(g)[1], 0);
  assert.ok(flat(g).every(Number.isFinite));
  assert.is(checkGrads((t: Tensor) => nn.softmax(t, -1, { where: w }), [x]), undefined);
  // (The -inf of the masked elements is replaced by 0 for the finite differences.)
  const w3 = np.array([true, false, true]);
  assert.is(checkGrads((t: Tensor) => np.where(w3, nn.logSoftmax(t, -1, { where: w3 }), 0), [np.array([[1, 2, 3], [0.3, 0.2, 0.1]])]), undefined);
  // A where that broadcasts; a non-bool where means "nonzero".
  close(nn.softmax(x, -1, { where: np.array([1, 0, 1]) }).slice(1), flat(nn.softmax(np.array([0.5, 3]))).flatMap((v, i) => (i === 0 ? [v, 0] : [v])), 1e-15);
  throwsWith(() => nn.softmax(x, -1, { where: np.array([true, false]) }), ShapeError, ["nn.softmax"]);
  throwsWith(() => nn.softmax(x, -1, { mask: w } as never), JacobiError, ["nn.softmax", '"mask"', "where"]);
});

test("softmax of an empty axis is empty; logsumexp of nothing is -inf", () => {
  assert.equal(nn.softmax(np.zeros([0])).shape, [0]);
  assert.equal(nn.logSoftmax(np.zeros([2, 0])).shape, [2, 0]);
  assert.equal(nn.softmax(np.zeros([0, 3]), 0).shape, [0, 3]);
  assert.is(nn.logsumexp(np.zeros([0])).item(), -Infinity);
  assert.equal(flat(nn.logsumexp(np.zeros([2, 0]), 1)), [-Infinity, -Infinity]);
  assert.equal(nn.logsumexp(np.zeros([2, 0]), 0).shape, [0]);
  assert.equal(grad((x: Tensor) => np.sum(nn.softmax(x)))(np.zeros([0])).shape, [0]);
});

test("logsumexp: stable, b scales (zeros exclude), returnSign, keepdims, several axes, where", () => {
  const v = nn.logsumexp(np.array([1000, 1000]));
  assert.is(v.item(), 1000.6931471805599);
  assert.equal(flat(grad((x: Tensor) => nn.logsumexp(x))(np.array([1000, 1000]))), [0.5, 0.5]);
  close(nn.logsumexp(np.array([1, 2, 3]), null, { b: np.array([1, -1, 1]) }), Math.log(Math.E - Math.E ** 2 + Math.E ** 3), 1e-15);
  close(nn.logsumexp(np.array([1, 2]), 0, { b: 2 }), Math.log(2 * (Math.E + Math.E ** 2)), 1e-15);
  // A negative sum is NaN, or [log|s|, -1] with returnSign.
  assert.ok(Number.isNaN(nn.logsumexp(np.array([0, 0]), 0, { b: np.array([1, -2]) }).item()));
  const [val, sign] = nn.logsumexp(np.array([0, 0]), 0, { b: np.array([1, -2]), returnSign: true });
  close(val, 0, 1e-16);
  assert.is(sign.item(), -1);
  const [v2, s2] = nn.logsumexp(np.array([[1, 2], [3, 4]]), 1, { returnSign: true, keepdims: true });
  assert.equal(v2.shape, [2, 1]);
  assert.equal(flat(s2), [1, 1]);
  // b = 0 removes a term even where x is +inf.
  close(nn.logsumexp(np.array([Infinity, 1]), 0, { b: np.array([0, 1]) }), 1, 0);
  const x = np.array([[1, 2, 3], [4, 5, 6]]);
  close(nn.logsumexp(x, [0, 1]), Math.log([1, 2, 3, 4, 5, 6].reduce((s, k) => s + Math.exp(k), 0)), 1e-15);
  assert.equal(nn.logsumexp(x, [0, 1], { keepdims: true }).shape, [1, 1]);
  close(nn.logsumexp(x, 1, { where: np.array([true, false, true]) }), [Math.log(Math.E + Math.E ** 3), Math.log(Math.E ** 4 + Math.E ** 6)], 1e-15);
  // Derivatives with respect to x and b.
  assert.is(checkGrads((a: Tensor, b: Tensor) => nn.logsumexp(a, -1, { b }), [x, np.array([0.5, 2, 1])]), undefined);
  assert.is(checkGrads((a: Tensor) => nn.logsumexp(a, 0, { where: np.array([[true], [false]]) }), [x]), undefined);
  throwsWith(() => nn.logsumexp(x, 0, { keepDims: true } as never), JacobiError, ["nn.logsumexp", '"keepDims"', "keepdims"]);
  throwsWith(() => nn.logsumexp(x, 0, { b: np.ones([3, 2]) }), ShapeError, ["nn.logsumexp"]);
});

test("logmeanexp: logsumexp minus the log of the count (of the elements in where)", () => {
  const x = np.array([[0.1, 0.2, 0.3], [1, 2, 3]]);
  const lme = (r: number[]) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0) / r.length);
  close(nn.logmeanexp(x), lme([0.1, 0.2, 0.3, 1, 2, 3]), 1e-15);
  close(nn.logmeanexp(x, 1), [lme([0.1, 0.2, 0.3]), lme([1, 2, 3])], 1e-15);
  assert.equal(nn.logmeanexp(x, 1, { keepdims: true }).shape, [2, 1]);
  close(nn.logmeanexp(x, 1, { where: np.array([[true, true, false], [true, false, false]]) }), [lme([0.1, 0.2]), 1], 1e-15);
  close(nn.logmeanexp(x, 0, { where: np.array([[true, true, true], [false, true, true]]), keepdims: true }), [[0.1, lme([0.2, 2]), lme([0.3, 3])]], 1e-15);
  close(nn.logmeanexp(np.array([1000, 1000])), 1000, 0);
  assert.is(checkGrads((t: Tensor) => nn.logmeanexp(t, 1), [x]), undefined);
  throwsWith(() => nn.logmeanexp(x, 0, { b: 1 } as never), JacobiError, ["nn.logmeanexp", '"b"']);
});

test("standardize: (x - mean) / sqrt(E[x^2] - mean^2 + 1e-5), or with the given mean, variance, where", () => {
  const rows = [[1, 2, 3, 6], [-1, 0.5, 4, 2]];
  const want = (r: number[], eps = 1e-5) => {
    const m = r.reduce((s, v) => s + v, 0) / r.length;
    const v = r.reduce((s, x) => s + x * x, 0) / r.length - m * m;
    return r.map((x) => (x - m) / Math.sqrt(v + eps));
  };
  close(nn.standardize(np.array(rows)), rows.map((r) => want(r)), 1e-14);
  close(nn.standardize(np.array(rows), 1, { epsilon: 0.5 }), rows.map((r) => want(r, 0.5)), 1e-14);
  close(nn.standardize(np.array(rows), -1, { mean: 1, variance: 4, epsilon: 0 }), rows.map((r) => r.map((x) => (x - 1) / 2)), 1e-15);
  const w = np.array([true, true, false, true]);
  const sub = rows.map((r) => want([r[0], r[1], r[3]]));
  const got = nn.standardize(np.array(rows), -1, { where: w }).tolist() as number[][];
  close(got.map((r) => [r[0], r[1], r[3]]), sub, 1e-14);
  close(nn.standardize(np.array(rows), 0).tolist(), [0, 1].map((i) => [0, 1, 2, 3].map((j) => want([rows[0][j], rows[1][j]])[i])), 1e-14);
  assert.is(checkGrads((t: Tensor) => nn.standardize(t), [np.array(rows)]), undefined);
  throwsWith(() => nn.standardize(np.array(rows), -1, { eps: 1 } as never), JacobiError, ["nn.standardize", '"eps"']);
});

test("oneHot: indices to rows of a float64 identity; out-of-range gives zeros; dtype and axis; traced indices", () => {
  assert.equal(nn.oneHot(np.array([0, 2, -1, 3], "int32"), 3).tolist(), [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]]);
  assert.is(nn.oneHot(np.array([1], "int32"), 2).dtype, "float64");
  const i32 = nn.oneHot(np.array([1, 0], "int32"), 2, { dtype: "int32", axis: 0 });
  assert.is(i32.dtype, "int32");
  assert.equal(i32.tolist(), [[0, 1], [1, 0]]);
  assert.equal(nn.oneHot(np.array([[1], [0]], "int32"), 2, { axis: 1 }).tolist(), [[[0], [1]], [[1], [0]]]);
  assert.equal(nn.oneHot(np.array([1, 0]), 2).tolist(), [[0, 1], [1, 0]]);
  assert.equal(nn.oneHot(2, 3).tolist(), [0, 0, 1]);
  assert.equal(nn.oneHot(np.array([1, 2], "float32"), 3, { dtype: "bool" }).tolist(), [[false, true, false], [false, false, true]]);
  assert.equal(jit((i: Tensor) => nn.oneHot(i, 3))(np.array([2, 0], "int32")).tolist(), [[0, 0, 1], [1, 0, 0]]);
  assert.equal(vmap((i: Tensor) => nn.oneHot(i, 3))(np.array([1, 2], "int32")).tolist(), [[0, 1, 0], [0, 0, 1]]);
  throwsWith(() => nn.oneHot(np.array([1]), 2.5), ShapeError, ["nn.oneHot", "numClasses", "2.5"]);
  throwsWith(() => nn.oneHot(np.array([1]), 2, { axis: 2 }), ShapeError, ["nn.oneHot", "axis 2"]);
  throwsWith(() => nn.oneHot(np.array([true]), 2), DTypeError, ["nn.oneHot", "bool"]);
  throwsWith(() => nn.oneHot(np.array([1]), 2, { classes: 2 } as never), JacobiError, ['"classes"']);
});

test("vmap of softmax, logsumexp and standardize equals a loop over rows; jit equals eager", () => {
  const xs = np.array([[0.3, -2, 1.7], [5, 4, -3], [0, 0, 0]]);
  for (const f of [(x: Tensor) => nn.softmax(x), (x: Tensor) => nn.logsumexp(x), (x: Tensor) => nn.standardize(x), (x: Tensor) => nn.logSoftmax(x, 0, { where: np.array([true, false, true]) })]) {
    const looped = [0, 1, 2].map((i) => f(xs.slice(i)).tolist());
    closeInf(vmap(f)(xs), looped, 1e-15);
    sameNumbers(flat(jit(f)(xs)), flat(f(xs)));
  }
});

test.run();
