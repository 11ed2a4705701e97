// threefry2x32: Random123's known-answer vectors for 20 rounds, elementwise over arrays of any
// strides, its batch rule, jit, zero tangents and the operand checks.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { DTypeError, ShapeError, type Tensor, jit, jvp, np, vmap } from "../../src/index.js";
import { threefry2x32, threefry2x32P } from "../../src/primitives/random-bits.js";
import { Zero } from "../../src/core/primitive.js";
import { throwsWith } from "../helpers.js";

const u32 = (xs: number[]) => np.array(new Uint32Array(xs));

// Random123's kat_vectors for threefry2x32_20: (counter, key) -> output.
const KAT: [number[], number[], number[]][] = [
  [[0, 0], [0, 0], [0x6b200159, 0x99ba4efe]],
  [[0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x1cb996fc, 0xbb002be7]],
  [[0x243f6a88, 0x85a308d3], [0x13198a2e, 0x03707344], [0xc4923a9c, 0x483df7a0]],
];

test("Random123 known-answer vectors, one at a time and as one array", () => {
  for (const [ctr, key, want] of KAT) {
    const [y0, y1] = threefry2x32(u32([key[0]]), u32([key[1]]), u32([ctr[0]]), u32([ctr[1]]));
    assert.equal([y0.tolist(), y1.tolist()], [[want[0]], [want[1]]]);
  }
  const col = (k: 0 | 1 | 2, j: number) => u32(KAT.map((r) => r[k][j]));
  const [y0, y1] = threefry2x32(col(1, 0), col(1, 1), col(0, 0), col(0, 1));
  assert.equal(y0.tolist(), KAT.map((r) => r[2][0]));
  assert.equal(y1.tolist(), KAT.map((r) => r[2][1]));
  // 0-d operands, and keys broadcast through stride 0.
  const [s0, s1] = threefry2x32(np.astype(0x13198a2e, "uint32"), np.astype(0x03707344, "uint32"), np.astype(0x243f6a88, "uint32"), np.astype(0x85a308d3, "uint32"));
  assert.equal([s0.item(), s1.item()], [0xc4923a9c, 0x483df7a0]);
  const kb = np.broadcastTo(np.astype(0, "uint32"), [2, 2]);
  const [b0] = threefry2x32(kb, kb, np.transpose(u32([0, 0xffffffff, 0, 0xffffffff]).reshape([2, 2])), np.zeros([2, 2], "uint32"));
  assert.is(b0.tolist()[0][0], 0x6b200159);
});

test("batch rule, jit and zero tangents", () => {
  const f = (k0: any, k1: any, x0: any, x1: any) => threefry2x32(k0, k1, x0, x1);
  const args: [Tensor, Tensor, Tensor, Tensor] = [u32([0, 0xffffffff, 0x13198a2e]), u32([0, 0xffffffff, 0x03707344]), u32([0, 0xffffffff, 0x243f6a88]), u32([0, 0xffffffff, 0x85a308d3])];
  const want = KAT.map((r) => r[2]);
  const [v0, v1] = vmap(f)(...args);
  assert.equal([v0.tolist(), v1.tolist()], [want.map((w) => w[0]), want.map((w) => w[1])]);
  // One key shared (unbatched), counters batched.
  const [w0] = vmap(f, { inAxes: [null, null, 0, 0] })(np.astype(0, "uint32"), np.astype(0, "uint32"), u32([0, 0]), u32([0, 0]));
  assert.equal(w0.tolist(), [0x6b200159, 0x6b200159]);
  const [j0, j1] = jit(f)(...args);
  assert.equal([j0.tolist(), j1.tolist()], [want.map((w) => w[0]), want.map((w) => w[1])]);
  const [outs, ts] = jvp((x: any) => f(x, x, x, x), [args[0]], [np.zeros([3], "uint32")]);
  assert.equal(outs[0].tolist()[0], 0x6b200159);
  assert.equal(ts.map((t: any) => t.tolist()), [[0, 0, 0], [0, 0, 0]]);
  // The rule itself (jvp skips it when every tangent is symbolically zero).
  const [ys, zs] = threefry2x32P.jvp!(args, args.map((a) => new Zero(a.aval)), {});
  assert.equal(ys[0].tolist(), want.map((w) => w[0]));
  assert.ok(zs.every((z) => z instanceof Zero));
});

test("operands must be four uint32 arrays of one shape", () => {
  throwsWith(() => threefry2x32(np.array([1.0]), u32([1]), u32([1]), u32([1])), DTypeError, ["threefry2x32", "uint32", "float64"]);
  throwsWith(() => threefry2x32(u32([1, 2]), u32([1]), u32([1]), u32([1])), ShapeError, ["threefry2x32"]);
});

test.run();
