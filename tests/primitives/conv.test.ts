// conv_general_dilated against torch's conv1d/2d/3d in float64 (tests/fixtures/gen-conv.py): values
// and both gradients with strides, padding, dilation and groups; layouts given by dimension
// numbers; lhs dilation and batch groups against a direct loop; checkGrads in both modes; the
// adjoint identity of each transpose; batch rules against loops; jit; the errors.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DTypeError, JacobiError, OptionsError, ShapeError, type Tensor, checkGrads, costAnalysis, grad, jit, lax, makeJaxpr, np, vjp, jvp, vmap } from "../../src/index.js";
import { guardTraceState } from "../guard.js";
import { close, throwsWith } from "../helpers.js";
import { seeded } from "../../src/core/random.js";

guardTraceState(test);

type ConvCase = {
  x: unknown; xShape: number[]; w: unknown; wShape: number[]; stride: number[]; padding: [number, number][]; dilation: number[]; groups: number;
  y: unknown; yShape: number[]; r: unknown; dx: unknown; dw: unknown;
};
const fx = JSON.parse(readFileSync(new URL("../fixtures/conv.json", import.meta.url), "utf8")) as { conv: Record<string, ConvCase> };

const rand = seeded(99);
const tl = (t: Tensor): unknown => t.tolist();
const rnd = (shape: number[]): Tensor => np.reshape(np.array(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1)), shape);

test("values and gradients match torch: conv1d, conv2d, conv3d with stride, padding, dilation, groups", () => {
  for (const [name, c] of Object.entries(fx.conv)) {
    const x = np.array(c.x), w = np.array(c.w), r = np.array(c.r);
    const f = (a: Tensor, b: Tensor) => lax.convGeneralDilated(a, b, c.stride, c.padding, { rhsDilation: c.dilation, featureGroupCount: c.groups });
    const y = f(x, w);
    assert.equal(y.shape, c.yShape, name);
    close(y, c.y, 1e-13, `${name} values`);
    const [dx, dw] = grad((a: Tensor, b: Tensor) => np.sum(np.multiply(f(a, b), r)), { argnums: [0, 1] })(x, w) as Tensor[];
    close(dx, c.dx, 1e-12, `${name} dx`);
    close(dw, c.dw, 1e-12, `${name} dw`);
  }
});

test("dimension numbers: NHWC/HWIO layouts give the NCHW result transposed; lists equal strings", () => {
  const c = fx.conv["conv2d stride pad dilation groups"];
  const x = np.array(c.x), w = np.array(c.w);
  const xh = np.transpose(x, [0, 2, 3, 1]), wh = np.transpose(w, [2, 3, 1, 0]);
  const opts = { rhsDilation: c.dilation, featureGroupCount: c.groups };
  const y = lax.convGeneralDilated(xh, wh, c.stride, c.padding, { ...opts, dimensionNumbers: ["NHWC", "HWIO", "NHWC"] });
  close(np.transpose(y, [0, 3, 1, 2]), c.y, 1e-13);
  const y2 = lax.convGeneralDilated(xh, wh, c.stride, c.padding, { ...opts, dimensionNumbers: { lhsSpec: [0, 3, 1, 2], rhsSpec: [3, 2, 0, 1], outSpec: [0, 3, 1, 2] } });
  close(y2, tl(y), 0);
  // Mixed: NCHW in, NHWC out.
  const y3 = lax.convGeneralDilated(x, w, c.stride, c.padding, { ...opts, dimensionNumbers: ["NCHW", "OIHW", "NHWC"] });
  close(y3, tl(y), 0);
  // Spatial order follows the kernel: "WH" in the kernel swaps which axis is height.
  const ywh = lax.convGeneralDilated(np.transpose(x, [0, 1, 3, 2]), np.transpose(w, [0, 1, 3, 2]), [c.stride[1], c.stride[0]], [c.padding[1], c.padding[0]], {
    rhsDilation: [c.dilation[1], c.dilation[0]], featureGroupCount: c.groups,
  });
  close(np.transpose(ywh, [0, 1, 3, 2]), c.y, 1e-13);
});

/** conv_general_dilated written out as loops over canonical NC.../OI... 1-d arrays (the reference for lhs dilation and batch groups). */
function naive1d(x: number[][][], w: number[][][], stride: number, [lo, hi]: [number, number], ld: number, rd: number, G: number, B: number): number[][][] {
  const N = x.length, C = x[0].length, W = x[0][0].length, O = w.length, I = w[0].length, K = w[0][0].length;
  const dil = W === 0 ? 0 : 1 + ld * (W - 1), win = 1 + rd * (K - 1);
  const outW = Math.floor((dil + lo + hi - win) / stride) + 1;
  const nOut = N / B, T = G * B, perGroup = O / T;
  const y: number[][][] = [];
  for (let n = 0; n < nOut; n++) {
    y.push([]);
    for (let o = 0; o < O; o++) {
      const t = Math.floor(o / perGroup);
      y[n].push([]);
      for (let p = 0; p < outW; p++) {
        let s = 0;
        for (let ci = 0; ci < I; ci++) {
          for (let k = 0; k < K; k++) {
            const pos = p * stride + k * rd - lo;
            if (pos < 0 || pos % ld !== 0 || pos / ld >= W) continue;
            const c = G > 1 ? t * I + ci : ci, nb = B > 1 ? t * nOut + n : n;
            s += x[nb][c][pos / ld] * w[o][ci][k];
          }
        }
        y[n][o].push(s);
      }
    }
  }
  void C;
  return y;
}

test("lhs dilation, negative padding and batch groups against a direct loop", () => {
  const cases: { xs: number[]; ws: number[]; stride: number; pad: [number, number]; ld: number; rd: number; G: number; B: number }[] = [
    { xs: [2, 3, 5], ws: [4, 3, 2], stride: 1, pad: [1, 2], ld: 2, rd: 1, G: 1, B: 1 },
    { xs: [2, 2, 7], ws: [2, 2, 3], stride: 2, pad: [-1, 1], ld: 1, rd: 2, G: 1, B: 1 },
    { xs: [4, 2, 6], ws: [6, 2, 2], stride: 1, pad: [0, 1], ld: 1, rd: 1, G: 1, B: 2 },
    { xs: [2, 4, 6], ws: [4, 2, 3], stride: 2, pad: [2, 0], ld: 3, rd: 1, G: 2, B: 1 },
  ];
  for (const c of cases) {
    const x = rnd(c.xs), w = rnd(c.ws);
    const y = lax.convGeneralDilated(x, w, [c.stride], [c.pad], { lhsDilation: [c.ld], rhsDilation: [c.rd], featureGroupCount: c.G, batchGroupCount: c.B });
    close(y, naive1d(x.tolist() as number[][][], w.tolist() as number[][][], c.stride, c.pad, c.ld, c.rd, c.G, c.B), 1e-13, JSON.stringify(c));
  }
});

test("checkGrads in both modes, to second order: strides, lhs dilation, groups, batch groups, 2-d", () => {
  const configs: [number[], number[], Parameters<typeof lax.convGeneralDilated>[4], number[], [number, number][]][] = [
    [[1, 2, 5], [3, 2, 2], {}, [2], [[1, 0]]],
    [[2, 2, 4], [2, 1, 2], { lhsDilation: [2], featureGroupCount: 2 }, [1], [[1, 1]]],
    [[2, 2, 4], [4, 2, 2], { batchGroupCount: 2, rhsDilation: [2] }, [1], [[0, 1]]],
    [[1, 2, 4, 3], [2, 2, 2, 2], { dimensionNumbers: ["NCHW", "OIHW", "NHWC"] }, [2, 1], [[1, 0], [0, 1]]],
  ];
  for (const [xs, ws, opts, strides, pad] of configs) {
    const f = (a: Tensor, b: Tensor) => lax.convGeneralDilated(a, b, strides, pad, opts);
    assert.is(checkGrads(f, [rnd(xs), rnd(ws)], { order: 2 }), undefined);
  }
});

test("adjoint identity <ct, conv(x, w)> = <transpose_x(ct), x> = <transpose_w(ct), w>", () => {
  const configs: [number[], number[], Parameters<typeof lax.convGeneralDilated>[4], number[], [number, number][]][] = [
    [[2, 4, 7, 6], [6, 2, 3, 2], { featureGroupCount: 2, rhsDilation: [1, 2] }, [2, 1], [[1, 0], [0, 2]]],
    [[4, 2, 6], [6, 2, 2], { batchGroupCount: 2, lhsDilation: [2] }, [3], [[-1, 2]]],
  ];
  for (const [xs, ws, opts, strides, pad] of configs) {
    const x = rnd(xs), w = rnd(ws);
    const [y, back] = vjp((a: Tensor, b: Tensor) => lax.convGeneralDilated(a, b, strides, pad, opts), [x, w]);
    const ct = rnd(y.shape);
    const [cx, cw] = back(ct) as Tensor[];
    const lhs = np.sum(np.multiply(ct, y)).item();
    close(np.sum(np.multiply(cx, x)).item(), lhs, 1e-12);
    close(np.sum(np.multiply(cw, w)).item(), lhs, 1e-12);
    // And the tangent map: jvp in x alone is conv(tx, w).
    const tx = rnd(xs);
    const [, t] = jvp((a: Tensor) => lax.convGeneralDilated(a, w, strides, pad, opts), [x], [tx]);
    close(t, tl(lax.convGeneralDilated(tx, w, strides, pad, opts)), 1e-13);
  }
});

test("batch rules against loops: lhs, rhs or both batched, with feature and batch groups", () => {
  const configs: [number[], number[], Parameters<typeof lax.convGeneralDilated>[4]][] = [
    [[2, 2, 5], [3, 2, 2], {}],
    [[2, 4, 5], [4, 2, 2], { featureGroupCount: 2 }],
    [[4, 2, 5], [4, 2, 2], { batchGroupCount: 2 }],
    [[1, 2, 4, 3], [2, 2, 3, 2], { dimensionNumbers: ["NHWC", "HWIO", "NCHW"] }],
  ];
  for (const [xs, ws, opts] of configs) {
    const n = xs.length - 2;
    const f = (a: Tensor, b: Tensor) => lax.convGeneralDilated(a, b, Array(n).fill(1), Array(n).fill([1, 0]), opts);
    const xb = rnd([3, ...xs]), wb = rnd([3, ...ws]), x = rnd(xs), w = rnd(ws);
    const pick = (t: Tensor, i: number) => np.take(t, i, 0);
    const loop = (g: (i: number) => Tensor) => np.stack([0, 1, 2].map(g));
    close(vmap(f, { inAxes: [0, null] })(xb, w), tl(loop((i) => f(pick(xb, i), w))), 1e-13, `lhs ${JSON.stringify(opts)}`);
    close(vmap(f, { inAxes: [null, 0] })(x, wb), tl(loop((i) => f(x, pick(wb, i)))), 1e-13, `rhs ${JSON.stringify(opts)}`);
    close(vmap(f)(xb, wb), tl(loop((i) => f(pick(xb, i), pick(wb, i)))), 1e-13, `both ${JSON.stringify(opts)}`);
    // A batch axis that is not in front.
    const xl = np.transpose(xb, [...Array.from({ length: xs.length }, (_, i) => i + 1), 0]);
    close(vmap(f, { inAxes: [xs.length, null] })(xl, w), tl(loop((i) => f(pick(xb, i), w))), 1e-13, `lhs last ${JSON.stringify(opts)}`);
  }
});

test("no spatial dimensions: a product of [N, C] and [O, C]; zero-size outputs", () => {
  const x = rnd([3, 4]), w = rnd([2, 4]);
  close(lax.conv(x, w, [], []), np.matmul(x, np.transpose(w)).tolist(), 1e-14);
  assert.equal(lax.conv(rnd([2, 1, 2]), rnd([1, 1, 3]), [1], "VALID").shape, [2, 1, 0]);
  assert.equal(lax.conv(rnd([2, 1, 3, 2]), rnd([1, 1, 2, 3]), [1, 1], "VALID").shape, [2, 1, 2, 0]);
  // An im2col matrix past the reused buffer's limit (2^22 entries) gets its own, twice in a row.
  const long = np.ones([1, 1, (1 << 22) + 5], "float32");
  for (let i = 0; i < 2; i++) assert.is(np.sum(lax.conv(long, np.full([1, 1, 1], 2, "float32"), [1], "VALID")).item(), 2 * ((1 << 22) + 5));
});

test("lax.conv, SAME and VALID padding, jit, cost and float32", () => {
  const x = rnd([2, 3, 7, 5]), w = rnd([4, 3, 3, 2]);
  const same = lax.conv(x, w, [2, 2], "SAME");
  assert.equal(same.shape, [2, 4, 4, 3]);
  // SAME for stride 2 on 7 with a window of 3: total padding 2 -> [1, 1]; on 5 with 2: 1 -> [0, 1].
  close(same, tl(lax.conv(x, w, [2, 2], [[1, 1], [0, 1]])), 0);
  assert.equal(lax.conv(x, w, [1, 1], "VALID").shape, [2, 4, 5, 4]);
  const f = jit((a: Tensor, b: Tensor) => lax.conv(a, b, [1, 1], "SAME"));
  close(f(x, w), tl(lax.conv(x, w, [1, 1], "SAME")), 1e-13);
  const cost = costAnalysis((a: Tensor, b: Tensor) => lax.conv(a, b, [1, 1], "VALID"), [x, w]);
  assert.is(cost.fwd.sweep.flops, 2 * (2 * 4 * 5 * 4) * (3 * 3 * 2));
  const y32 = lax.conv(np.astype(x, "float32"), np.astype(w, "float32"), [1, 1], "VALID");
  assert.is(y32.dtype, "float32");
  close(y32, tl(lax.conv(x, w, [1, 1], "VALID")), 1e-5);
  assert.ok(makeJaxpr((a: Tensor, b: Tensor) => lax.conv(a, b, [1, 1], "VALID"))(x, w).toString().includes("conv_general_dilated"));
});

test("errors name what is wrong", () => {
  const x = rnd([1, 2, 5]), w = rnd([3, 2, 2]);
  throwsWith(() => lax.conv(x, rnd([3, 2]), [1], "VALID"), ShapeError, ["same rank"]);
  throwsWith(() => lax.conv(x, w, [0], "VALID"), JacobiError, ["windowStrides", "positive integers"]);
  throwsWith(() => lax.conv(x, w, [1], "FULL" as never), JacobiError, ["padding", "SAME"]);
  throwsWith(() => lax.conv(x, w, [1], [[1]] as never), JacobiError, ["padding"]);
  throwsWith(() => lax.conv(x, rnd([3, 3, 2]), [1], "VALID"), ShapeError, ["feature size"]);
  throwsWith(() => lax.convGeneralDilated(x, rnd([3, 1, 2]), [1], "VALID", { featureGroupCount: 2 }), ShapeError, ["multiple of featureGroupCount"]);
  throwsWith(() => lax.convGeneralDilated(x, w, [1], "VALID", { batchGroupCount: 2 }), ShapeError, ["batchGroupCount 2"]);
  throwsWith(() => lax.convGeneralDilated(rnd([2, 2, 5]), rnd([2, 1, 2]), [1], "VALID", { batchGroupCount: 2, featureGroupCount: 2 }), ShapeError, ["at most one"]);
  throwsWith(() => lax.convGeneralDilated(x, w, [1], [[-4, -3]]), ShapeError, ["negative padding"]);
  throwsWith(() => lax.convGeneralDilated(x, w, [1], "VALID", { rhsDilation: [1, 1] }), JacobiError, ["rhsDilation"]);
  throwsWith(() => lax.convGeneralDilated(x, w, [1], "VALID", { dimensionNumbers: ["NCH", "OIH"] as never }), JacobiError, ["dimensionNumbers"]);
  throwsWith(() => lax.convGeneralDilated(x, w, [1], "VALID", { dimensionNumbers: ["NCHH", "OIH", "NCH"] }), ShapeError, ["one letter per operand axis"]);
  throwsWith(() => lax.convGeneralDilated(x, w, [1], "VALID", { dimensionNumbers: ["NNH", "OIH", "NCH"] }), JacobiError, ["exactly once"]);
  throwsWith(() => lax.convGeneralDilated(x, w, [1], "VALID", { dimensionNumbers: ["NCH", "OIW", "NCH"] }), JacobiError, ["same spatial letters"]);
  throwsWith(() => lax.convGeneralDilated(x, w, [1], "VALID", { dimensionNumbers: { lhsSpec: [0, 1, 1], rhsSpec: [0, 1, 2], outSpec: [0, 1, 2] } }), JacobiError, ["lhsSpec", "permutation"]);
  throwsWith(() => lax.convGeneralDilated(x, w, [1], "VALID", { dimensionNumbers: { lhsSpec: [0, 1, 2], rhsSpec: [0, 1, 2], outSpec: [0, 1, 2], foo: 1 } as never }), OptionsError, ["foo"]);
  throwsWith(() => lax.convGeneralDilated(x, w, [1], "VALID", { stride: 1 } as never), OptionsError, ["stride"]);
  throwsWith(() => lax.conv(np.array([[[true]]]), np.array([[[true]]]), [1], "VALID"), DTypeError, ["bool"]);
});

test.run();
