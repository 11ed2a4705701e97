// Printing: NumPy's array2string bodies character for character (fixtures from
// tests/fixtures/gen-format.py), JAX's `Array(…, dtype=…)` wrapper, tracers, util.inspect and JSON.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
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
  // Any width of signed or unsigned integer prints as an integer.
  assert.is(formatArray([2], "uint8", false, (i) => [7, 255][i]), "Array([  7, 255], dtype=uint8)");
});

test.run();
