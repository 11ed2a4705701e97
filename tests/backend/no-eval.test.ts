// Kernels without code generation (a Content-Security-Policy without 'unsafe-eval'): the
// expression interpreter agrees with the generated code bit for bit, every public operation gives
// the same bits with code generation switched off, and the views and copies that replace
// ndarray's and ndarray-ops' generated code behave as theirs do.
import { test } from "uvu";
import * as assert from "uvu/assert";
import ndarray from "ndarray";
import { codegen, compileExpr, setCodegen } from "../../src/backend/no-eval.js";
import { PlainNdarray } from "../../src/backend/plain-ndarray.js";
import { stridedAssign } from "../../src/backend/strided-assign.js";
import { view } from "../../src/backend/ndarray-view.js";
import { FusedKernel } from "../../src/backend/fusion.js";
import { loadKernels } from "../../src/backend/wasm/gemm.js";
import { allPrimitives } from "../../src/core/primitive.js";
import type { DType } from "../../src/core/dtype.js";
import { execFileSync } from "node:child_process";
import { InternalError, np } from "../../src/index.js";
import { CASES, bits, snapshot, snapshots } from "./no-eval-cases.js";
import { guardTraceState } from "../guard.js";
import { throwsWith } from "../helpers.js";

guardTraceState(test);

/** Runs `f` with generated kernels switched off, restoring them afterwards. */
function withoutCodegen<T>(f: () => T): T {
  setCodegen(false);
  try {
    return f();
  } finally {
    setCodegen(true);
  }
}

const VALUES = [0, -0, 1, -1, 2.5, -2.5, 0.5, -0.5, 1.5, 3, 7, 1e-300, -1e300, 2 ** 31, 4294967295, -2147483648, NaN, Infinity, -Infinity];


function agrees(expr: string): void {
  const generated = new Function("x0", "x1", "x2", `return ${expr};`) as (a: number, b: number, c: number) => unknown;
  const interpreted = compileExpr(expr);
  for (const a of VALUES) for (const b of [0, -1, 2.5, 3, NaN, -Infinity, 31, 32]) {
    const c = a === b ? 1 : -7;
    assert.is(bits(interpreted([a, b, c])), bits(generated(a, b, c)), `${expr} at (${a}, ${b}, ${c})`);
  }
}

test("the interpreter agrees with generated code on every operator, precedence and Math function", () => {
  for (const expr of [
    "x0 + x1 * x2", "(x0 + x1) * x2", "x0 - x1 - x2", "x0 / x1 / x2", "x0 % x1", "x0 ** x1 ** 0.5", "(-x0) ** 2 === 0 ? 1 : 0",
    "2 ** -x1", "-x0", "+x0", "!x0", "~x0", "!!x0 + 1", "x0 & x1", "x0 | x1", "x0 ^ x1 | x2 & 6", "x0 << x1", "x0 >> x1", "x0 >>> x1",
    "x0 < x1", "x0 > x1", "x0 <= x1", "x0 >= x1", "x0 == x1", "x0 != x1", "x0 === x1", "x0 !== x0", "x0 && x1", "x0 || x1",
    "x0 > 0 ? 1 : x0 < 0 ? -1 : x0", "(x0 > x1 || x0 !== x0) ? x0 : x1", "x0 !== 0 ? x1 : x2", "Math.imul(x0, x1) >>> 0",
    "Math.abs(x0 % 1) === 0.5 ? 2 * Math.round(x0 / 2) : Math.round(x0)", "Math.atan2(x0, x1)", "Math.max(x0, x1, x2)", "Math.hypot(x0, x1, x2, 1)",
    "1 / Math.sqrt(x0)", "Math.fround(x0 * Math.PI)", "x0 * Math.E + .5e1 - 1.5e-3", "Infinity - x0", "NaN", "Math.trunc(x0 / x1)", "((x0) | 0)", "1",
  ]) agrees(expr);
});

test("every expression a primitive declares, for every dtype, interprets as it compiles", () => {
  let checked = 0;
  for (const p of allPrimitives) {
    if (p.elementwiseExpr === undefined) continue;
    for (const dtype of ["float64", "float32", "int32", "uint32", "bool"] as DType[]) {
      for (const params of [{}, { y: 3 }, { y: -2 }, { y: 0 }, { y: 20 }, { newDtype: "bool" }, { newDtype: "float64" }]) {
        let expr: string;
        try {
          expr = p.elementwiseExpr(params as never, dtype, [dtype, dtype, dtype]);
        } catch {
          continue;
        }
        agrees(expr);
        checked++;
      }
    }
  }
  assert.ok(checked >= 100, `${checked} expressions checked`);
});

test("expressions outside the subset are internal errors naming the expression", () => {
  throwsWith(() => compileExpr("foo(x0)"), InternalError, ["foo(x0)", 'unknown name "foo"']);
  throwsWith(() => compileExpr("Math.nope(x0)"), InternalError, ["Math.nope"]);
  throwsWith(() => compileExpr("Math."), InternalError, ["unknown Math."]);
  throwsWith(() => compileExpr("x0 # 1"), InternalError, ['unexpected "#"']);
  throwsWith(() => compileExpr("(x0 + 1"), InternalError, ['expected ")"']);
  throwsWith(() => compileExpr("x0 1"), InternalError, ['unexpected "1"']);
  throwsWith(() => compileExpr("x0 +"), InternalError, ["unexpected end"]);
  throwsWith(() => compileExpr("Math.max(x0 x1)"), InternalError, ['expected "," or ")"']);
  throwsWith(() => compileExpr("x0 ? 1 2"), InternalError, ['expected ":"']);
  assert.is(compileExpr("x0 + 1  ")([1]), 2);
});

test("every case gives the same bits with code generation switched off", () => {
  assert.ok(codegen.enabled, "code generation is available under Node");
  for (const [what, run] of CASES) {
    const generated = snapshot(run());
    const interpreted = withoutCodegen(() => snapshot(run()));
    assert.ok(codegen.enabled, "switched back on");
    assert.is(interpreted, generated, what);
  }
});

test("with code generation forbidden (as under a CSP), the package imports and every case gives the same bits", () => {
  const out = execFileSync(process.execPath, ["--disallow-code-generation-from-strings", "--import", "tsx", "tests/backend/no-eval-cases.ts"], { encoding: "utf8" });
  const child = JSON.parse(out) as { codegen: boolean; snapshots: Record<string, string> };
  assert.is(child.codegen, false, "new Function detected as forbidden");
  assert.equal(child.snapshots, snapshots());
});

test("a fused chain without reductions runs eagerly without code generation, to the same bits", () => {
  const kernel = new FusedKernel({
    inDtypes: ["float64", "float32"],
    ops: [{ expr: "Math.sin(x0) * x1", args: [0, 1], dtype: "float32" }, { expr: "x0 + x1", args: [2, 0], dtype: "float64" }],
    outs: [0, 1],
  });
  const a = view(Float64Array.from([0.5, -1, 2, NaN, 1e10, -0]), [2, 3]);
  const b = view(Float32Array.from([3]), [2, 3], [0, 0]);
  const run = () => (kernel.run([a, b], [2, 3]) ?? []).map((r) => `${r.data.constructor.name}:${Array.from(r.data as ArrayLike<number>, bits).join(",")}`);
  const generated = run();
  assert.equal(withoutCodegen(run), generated);
  assert.is(generated.length, 2);
});

test("a WebAssembly compilation the engine refuses (a CSP without 'wasm-unsafe-eval') leaves matmuls to the JS kernel", () => {
  const { Module } = WebAssembly;
  const refuse = function (): never {
    throw new WebAssembly.CompileError("WebAssembly.Module(): Refused to compile or instantiate WebAssembly module because 'wasm-unsafe-eval' is not an allowed source of script");
  };
  (WebAssembly as { Module: unknown }).Module = refuse;
  try {
    assert.is(loadKernels(), null);
  } finally {
    (WebAssembly as { Module: unknown }).Module = Module;
  }
  assert.ok(loadKernels() instanceof WebAssembly.Module);
});

test("without code generation views are PlainNdarrays with ndarray's interface", () => {
  const t = withoutCodegen(() => np.arange(6).reshape([2, 3]).toNdarray());
  assert.ok(t instanceof PlainNdarray);
  assert.ok(!(np.arange(2).toNdarray() instanceof PlainNdarray), "ndarray's own views otherwise");
  const data = Float64Array.from({ length: 24 }, (_, i) => i * 1.5);
  const mine = new PlainNdarray(data, [2, 3, 4], [12, 4, 1], 0);
  const theirs = ndarray(data, [2, 3, 4], [12, 4, 1], 0);
  const same = (a: { shape: number[]; stride: number[]; offset: number }, b: { shape: number[]; stride: number[]; offset: number }, what: string) =>
    assert.equal([a.shape, a.stride, a.offset], [b.shape, b.stride, b.offset], what);
  assert.is(mine.dtype, theirs.dtype);
  assert.is(mine.size, theirs.size);
  assert.is(mine.dimension, theirs.dimension);
  assert.equal(mine.transpose(2, 0, 1).order, theirs.transpose(2, 0, 1).order);
  assert.is(mine.get(1, 2, 3), theirs.get(1, 2, 3));
  assert.is(mine.index(1, 0, 2), theirs.index(1, 0, 2));
  same(mine.lo(1, -1, 2), theirs.lo(1, -1, 2), "lo");
  same(mine.hi(1, -1, 2), theirs.hi(1, -1, 2), "hi");
  same(mine.step(1, -2, 3), theirs.step(1, -2, 3), "step");
  same(mine.step(-1, 2), theirs.step(-1, 2), "step backwards");
  same(mine.transpose(1), theirs.transpose(1), "transpose");
  same(mine.T, theirs.transpose(2, 1, 0), "T");
  same(mine.pick(1, null, 2), theirs.pick(1, null as unknown as number, 2), "pick");
  same(mine.pick(-1, 1), theirs.pick(-1, 1), "pick negative");
  assert.is(mine.set(0, 1, 1, 99), 99);
  assert.is(theirs.get(0, 1, 1), 99);
  const names = [new Float32Array(1), new Int32Array(1), new Uint32Array(1), new Uint8Array(1)].map((d) => new PlainNdarray(d, [1], [1], 0).dtype);
  assert.equal(names, ["float32", "int32", "uint32", "uint8"]);
  assert.is(new PlainNdarray(new Uint8ClampedArray(1) as unknown as Uint8Array, [1], [1], 0).dtype, "generic");
});

test("stridedAssign copies any layout into any layout", () => {
  const src = view(Float64Array.from({ length: 60 }, (_, i) => i - 30), [3, 4, 5]);
  for (const perm of [[0, 1, 2], [2, 0, 1], [1, 2, 0], [2, 1, 0]]) {
    const t = { data: src.data, shape: perm.map((p) => src.shape[p]), stride: perm.map((p) => src.stride[p]), offset: 0 };
    const out = view(new Float64Array(60), t.shape);
    stridedAssign(out, t);
    const want = ndarray(new Float64Array(60), t.shape);
    for (let i = 0; i < t.shape[0]; i++) for (let j = 0; j < t.shape[1]; j++) for (let k = 0; k < t.shape[2]; k++) want.set(i, j, k, t.data[t.stride[0] * i + t.stride[1] * j + t.stride[2] * k]);
    assert.equal(Array.from(out.data), Array.from(want.data), `perm ${perm}`);
  }
  // Into a strided region of a larger buffer, from a broadcast; a size-0 copy writes nothing.
  const big = new Float64Array(12).fill(-1);
  stridedAssign({ data: big, shape: [2, 3], stride: [6, 2], offset: 1 }, { data: Float64Array.of(7, 8, 9), shape: [2, 3], stride: [0, 1], offset: 0 });
  assert.equal(Array.from(big), [-1, 7, -1, 8, -1, 9, -1, 7, -1, 8, -1, 9]);
  stridedAssign({ data: big, shape: [0, 3], stride: [3, 1], offset: 0 }, { data: big, shape: [0, 3], stride: [3, 1], offset: 0 });
  stridedAssign({ data: big, shape: [1, 1], stride: [1, 1], offset: 0 }, { data: Float64Array.of(5), shape: [1, 1], stride: [0, 0], offset: 0 });
  assert.is(big[0], 5);
});

test.run();
