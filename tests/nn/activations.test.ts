// nn's elementwise activations: values and derivatives against torch float64 (tests/fixtures/
// gen-nn.py), checkGrads in both modes, JAX's derivatives at the kinks, vmap against a loop.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { JacobiError, ShapeError, type Tensor, checkGrads, grad, jit, nn, np, vmap } from "../../src/index.js";
import { guardTraceState } from "../guard.js";
import { close, flat, sameNumbers, throwsWith } from "../helpers.js";

guardTraceState(test);

type Elem = { x: number[]; y: number[]; dy: number[] };
type Weighted = { x: number[][]; w: number[][]; y: number[][]; dx: number[][] };
const fx = JSON.parse(readFileSync(new URL("../fixtures/nn.json", import.meta.url), "utf8")) as {
  elementwise: Record<string, Elem>;
  glu: Record<string, Weighted>;
};

const fns: Record<string, (x: Tensor) => Tensor> = {
  relu6: nn.relu6,
  logSigmoid: nn.logSigmoid,
  softSign: nn.softSign,
  silu: nn.silu,
  geluTanh: (x) => nn.gelu(x),
  geluErf: (x) => nn.gelu(x, { approximate: false }),
  elu: (x) => nn.elu(x),
  "elu0.5": (x) => nn.elu(x, 0.5),
  celu: (x) => nn.celu(x),
  celu2: (x) => nn.celu(x, 2),
  selu: nn.selu,
  leakyRelu: (x) => nn.leakyRelu(x),
  "leakyRelu0.2": (x) => nn.leakyRelu(x, 0.2),
  hardTanh: nn.hardTanh,
  hardSigmoid: nn.hardSigmoid,
  mish: nn.mish,
  softplus: nn.softplus,
  sigmoid: nn.sigmoid,
  squareplus: (x) => nn.squareplus(x),
  log1mexp: nn.log1mexp,
};

test("every activation's values and derivatives match torch float64", () => {
  for (const [name, f] of Object.entries(fns)) {
    const c = fx.elementwise[name];
    assert.ok(c, `fixture ${name}`);
    close(f(np.array(c.x)), c.y, 1e-14, `${name} values`);
    close(grad((x: Tensor) => np.sum(f(x)))(np.array(c.x)), c.dy, 1e-13, `${name} derivative`);
    close(vmap(grad(f))(np.array(c.x)), c.dy, 1e-13, `${name} vmap(grad)`);
  }
  // swish is silu.
  assert.is(nn.swish, nn.silu);
});

test("checkGrads in forward and reverse mode, orders 1 and 2, away from the kinks", () => {
  const x = np.array([-2.3, -0.7, 0.4, 1.9, 4.6]);
  const smooth = ["logSigmoid", "silu", "geluTanh", "geluErf", "elu", "celu2", "selu", "mish", "softplus", "sigmoid", "squareplus", "softSign", "leakyRelu", "relu6", "hardTanh", "hardSigmoid"];
  for (const name of smooth) assert.is(checkGrads(fns[name], [x], { modes: ["fwd", "rev"] }), undefined, name);
  assert.is(checkGrads(nn.log1mexp, [np.array([0.2, 0.6, 0.8, 3])]), undefined, "log1mexp");
  assert.is(checkGrads(nn.sparsePlus, [x]), undefined, "sparsePlus");
  assert.is(checkGrads((t: Tensor) => nn.glu(t, 0), [np.array([[0.3, -1.2], [0.5, 2.2]])]), undefined, "glu");
});

test("derivatives at the kinks are JAX's", () => {
  const d = (f: (x: Tensor) => Tensor, xs: number[]): number[] => flat(vmap(grad(f))(np.array(xs)));
  assert.equal(flat(nn.relu(np.array([-2, 0, 3]))), [0, 0, 3]);
  assert.equal(d(nn.relu, [-2, 0, 3]), [0, 0, 1]);
  // relu6: JAX's custom rule, 0 at both kinks.
  assert.equal(d(nn.relu6, [0, 6, 3, -1, 7]), [0, 0, 1, 0, 0]);
  assert.equal(d(nn.hardSigmoid, [-3, 3, 0]), [0, 0, 1 / 6]);
  // hard_tanh's where(x > 1, 1, where(x < -1, -1, x)): slope 1 on the closed interval.
  assert.equal(d(nn.hardTanh, [-1, 1, 2, -2]), [1, 1, 0, 0]);
  // leaky_relu takes x >= 0 as the linear side; elu x > 0.
  assert.equal(d((x) => nn.leakyRelu(x), [0, -1]), [1, 0.01]);
  assert.equal(d((x) => nn.elu(x, 2), [0]), [2]);
  assert.equal(d(nn.sparsePlus, [-1, 1, 0, -2, 2]), [0, 1, 0.5, 0, 1]);
  // log1mexp's derivative is 1 / expm1(x) on both sides of log 2, infinite at 0.
  close(d(nn.log1mexp, [0.5, 0.7, 40]), [1 / Math.expm1(0.5), 1 / Math.expm1(0.7), 1 / Math.expm1(40)], 1e-15);
  assert.equal(d(nn.log1mexp, [0]), [Infinity]);
});

test("values that need care: large inputs, NaN, hand-computed points", () => {
  sameNumbers(flat(nn.relu6(np.array([NaN, -1, 0, 3, 6, 9]))), [NaN, 0, 0, 3, 6, 6]);
  // elu/selu never evaluate expm1 of a large positive input.
  assert.equal(flat(nn.elu(np.array([1000, -1000]))), [1000, -1]);
  assert.equal(flat(grad((x: Tensor) => np.sum(nn.elu(x)))(np.array([1000, -1000]))), [1, 0]);
  assert.equal(flat(nn.logSigmoid(np.array([-1000, 1000]))), [-1000, 0]);
  assert.equal(flat(nn.mish(np.array([1000, -1000]))), [1000, -0]);
  close(nn.squareplus(np.array([0, 1.5])), [1, 2], 0);
  close(nn.squareplus(np.array([0]), 16), [2], 0);
  close(nn.sparsePlus(np.array([-2, -1, 0, 0.5, 1, 3])), [0, 0, 0.25, 0.5625, 1, 3], 0);
  close(nn.softSign(np.array([-3, 0, 1])), [-0.75, 0, 0.5], 0);
  close(nn.hardSigmoid(np.array([-4, 0, 1.5, 4])), [0, 0.5, 0.75, 1], 1e-16);
  close(nn.selu(1), 1.0507009873554805, 1e-16);
  close(nn.selu(-1), 1.0507009873554805 * 1.6732632423543772 * Math.expm1(-1), 1e-15);
  // log1mexp is accurate near 0 and for large x, where the naive log(1 - e^-x) is not.
  close(nn.log1mexp(1e-20), Math.log(1e-20), 1e-15);
  close(nn.log1mexp(40), -Math.exp(-40), 1e-15);
  assert.is(nn.log1mexp(0).item(), -Infinity);
  // gelu keeps float32.
  assert.is(nn.gelu(np.array([1], "float32")).dtype, "float32");
  close(nn.gelu(1), 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * 1.044715)), 1e-16);
});

test("glu matches torch along the last and the first axis; an odd axis is a ShapeError", () => {
  for (const [key, axis] of [["axis-1", -1], ["axis0", 0]] as const) {
    const c = fx.glu[key];
    close(nn.glu(np.array(c.x), axis), c.y, 1e-14, `glu ${key}`);
    close(grad((x: Tensor) => np.sum(np.multiply(nn.glu(x, axis), np.array(c.w))))(np.array(c.x)), c.dx, 1e-13, `glu ${key} grad`);
  }
  throwsWith(() => nn.glu(np.ones([2, 3])), ShapeError, ["nn.glu", "even", "[2,3]"]);
  throwsWith(() => nn.glu(np.ones([2, 4]), 2), ShapeError, ["nn.glu", "axis 2"]);
});

test("vmap and jit of activations agree with a loop over rows", () => {
  const xs = np.array([[-1.5, 0.2, 2.5, 7], [3, -4, 0.5, 1]]);
  for (const f of [(x: Tensor) => nn.gelu(x), (x: Tensor) => nn.glu(x), nn.selu, nn.mish]) {
    const looped = [0, 1].map((i) => f(xs.slice(i)).tolist());
    close(vmap(f)(xs), looped, 1e-15);
    close(jit(f)(xs), f(xs), 0);
  }
});

test("gelu: the exact form through erfc, float32 kept; unknown options are errors", () => {
  // gelu(x) = x Phi(x): Phi(1) = 0.8413447460685429, Phi(-2) = 0.022750131948179195.
  close(nn.gelu(np.array([1, -2]), { approximate: false }), [0.8413447460685429, -2 * 0.022750131948179195], 1e-15);
  assert.is(nn.gelu(np.array([1], "float32"), { approximate: false }).dtype, "float32");
  close(vmap((x: Tensor) => nn.gelu(x, { approximate: false }))(np.array([[0.5], [-3]])), [[0.5 * 0.6914624612740131], [-3 * 0.0013498980316300946]], 1e-14);
  throwsWith(() => nn.gelu(1, { aproximate: true } as never), JacobiError, ["nn.gelu", '"aproximate"']);
  throwsWith(() => nn.gelu(1, { approximate: "yes" } as never), JacobiError, ["approximate", "true or false"]);
});

test.run();
