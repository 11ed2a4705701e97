// Printing: NumPy's array2string bodies character for character (fixtures from
// tests/fixtures/gen-format.py), JAX's `Array(…, dtype=…)` wrapper, tracers, util.inspect and JSON.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { inspect } from "node:util";
import { type Tensor, grad, jit, jvp, makeJaxpr, np, vmap } from "../../src/index.js";
import { formatArray, formatBody, formatTraced } from "../../src/core/format.js";
import { DTypeError } from "../../src/core/errors.js";
import { throwsWith } from "../helpers.js";

interface Case {
  name: string;
  dtype: string;
  shape: number[];
  weak: boolean;
  values: (number | string)[];
  body: string;
  plain: string;
  repr: string;
}
const fixtures: { numpy: string; cases: Case[] } = JSON.parse(readFileSync(new URL("../fixtures/format.json", import.meta.url), "utf8"));
const decode = (v: number | string): number => (typeof v === "number" ? v : v === "nan" ? NaN : v === "inf" ? Infinity : -Infinity);
const buffers: Record<string, (n: number[]) => ArrayLike<number>> = {
  float64: (n) => new Float64Array(n),
  float32: (n) => new Float32Array(n),
  int32: (n) => new Int32Array(n),
  uint32: (n) => new Uint32Array(n),
  bool: (n) => new Uint8Array(n),
};
const bufferOf = (c: Case): ArrayLike<number> => buffers[c.dtype](c.values.map(decode));

for (const c of fixtures.cases) {
  test(`as NumPy ${fixtures.numpy} and JAX print: ${c.name} (${c.dtype}${JSON.stringify(c.shape)})`, () => {
    const data = bufferOf(c);
    const at = (i: number) => data[i];
    if (c.shape.reduce((a, b) => a * b, 1) > 0) assert.is(formatBody(c.shape, c.dtype, at, "Array(", ","), c.body);
    assert.is(formatBody(c.shape, c.dtype, at), c.plain);
    assert.is(formatArray(c.shape, c.dtype, c.weak, at), c.repr);
  });
}

test("the fixtures cover what the formatter distinguishes", () => {
  const names = new Set(fixtures.cases.map((c) => c.dtype));
  for (const d of ["float64", "float32", "int32", "uint32", "bool"]) assert.ok(names.has(d), d);
  const reprs = fixtures.cases.map((c) => c.repr).join("\n");
  for (const s of ["nan", "-inf", "-0.", "e-100", "...", "weak_type=True", "shape=(2, 0)", "True", "\n\n"]) assert.ok(reprs.includes(s), s);
});

test("traced values print their abstract value and transformation", () => {
  assert.is(formatTraced([3], "float64", "jvp"), "Traced<float64[3]> under jvp");
  assert.is(formatTraced([], "float32", "vmap"), "Traced<float32[]> under vmap");
  assert.is(formatTraced([2, 0], "int32", "jit"), "Traced<int32[2,0]> under jit");
});

test("an unknown dtype is a DTypeError naming it", () => {
  throwsWith(() => formatArray([1], "complex64", false, () => 0), DTypeError, ["printing", '"complex64"']);
  throwsWith(() => formatArray([0], "float16", false, () => 0), DTypeError, ["printing", '"float16"']);
  // Any width of signed or unsigned integer prints as an integer.
  assert.is(formatArray([2], "uint8", false, (i) => [7, 255][i]), "Array([  7, 255], dtype=uint8)");
});

test("String, toString, template strings and console.log print a tensor as JAX does", () => {
  const x = np.array([1.5, NaN, Infinity]);
  const want = "Array([1.5, nan, inf], dtype=float64)";
  assert.is(String(x), want);
  assert.is(x.toString(), want);
  assert.is(`${x}`, want);
  // console.log formats with util.inspect, which uses the custom inspector.
  assert.is(inspect(x), want);
  assert.is(inspect({ x: np.array([-0, 2]) }), "{ x: Array([-0.,  2.], dtype=float64) }");
});

test("matrices, views, summaries and other dtypes through the Tensor class", () => {
  assert.is(String(np.array([[1, 2], [3, 4]])), "Array([[1., 2.],\n       [3., 4.]], dtype=float64)");
  // A transposed view reads in logical order.
  assert.is(String(np.array([[1, 2, 3], [4, 5, 6]]).T), "Array([[1., 4.],\n       [2., 5.],\n       [3., 6.]], dtype=float64)");
  assert.is(String(np.zeros([2000])), "Array([0., 0., 0., ..., 0., 0., 0.], dtype=float64)");
  assert.is(String(np.array(new Float32Array([0.1, 0.2]))), "Array([0.1, 0.2], dtype=float32)");
  assert.is(String(np.array(new Int32Array([1, -2]))), "Array([ 1, -2], dtype=int32)");
  assert.is(String(np.array(new Uint32Array([4294967295, 1]))), "Array([4294967295,          1], dtype=uint32)");
  assert.is(String(np.array([true, false])), "Array([ True, False], dtype=bool)");
  assert.is(String(np.array(1.5)), "Array(1.5, dtype=float64)");
  assert.is(String(np.zeros([0])), "Array([], shape=(0,), dtype=float64)");
  // A value computed from JS numbers alone is weakly typed, as in JAX.
  assert.is(String(np.sin(2)), "Array(0.90929743, dtype=float64, weak_type=True)");
});

test("JSON.stringify gives the nested list, non-finite numbers as null", () => {
  assert.is(JSON.stringify(np.array([[1, NaN], [Infinity, -0]])), "[[1,null],[null,0]]");
  assert.is(JSON.stringify({ mask: np.array([true, false]), s: np.array(2.5) }), '{"mask":[true,false],"s":2.5}');
});

test("tracers print (String, inspect, JSON) as their abstract value and transformation", () => {
  const seen: string[][] = [];
  const f = (x: Tensor) => {
    seen.push([String(x), inspect(x), JSON.stringify(x)]);
    return np.sum(np.multiply(x, x));
  };
  const x = np.array([1, 2, 3]);
  jvp(f, [x], [np.ones([3])]);
  grad(f)(x);
  vmap(f)(x);
  jit(f)(x);
  makeJaxpr(f)(x);
  const names = ["jvp", "grad", "vmap", "jit", "makeJaxpr"];
  assert.equal(
    seen,
    names.map((t) => {
      const s = `Traced<float64[${t === "vmap" ? "" : "3"}]> under ${t}`;
      return [s, s, JSON.stringify(s)];
    }),
  );
});

test("an escaped tracer still prints (its abstract value needs no live trace)", () => {
  let leaked: Tensor | null = null;
  jit((x: Tensor) => {
    leaked = x;
    return x;
  })(np.ones([2]));
  assert.is(String(leaked), "Traced<float64[2]> under jit");
  assert.is(JSON.stringify([leaked]), '["Traced<float64[2]> under jit"]');
});

test.run();
