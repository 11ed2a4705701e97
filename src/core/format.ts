// Printing arrays as JAX does: `Array(<body>, dtype=…)`, where the body is what NumPy's
// `array2string` prints with its default options (precision 8, floatmode "maxprec", no
// suppression, summaries past 1000 elements with 3 edge items, lines of 75 characters).
//
// Pure functions over a shape, a dtype name and a row-major element reader, so that the Tensor
// classes only have to hand over their buffers. Checked character for character against NumPy
// in tests/core/format.test.ts (fixtures from tests/fixtures/gen-format.py).
import { DTypeError } from "./errors.js";

/** Reads element `i` (row-major order) of the array being printed; bools read as 0 or 1. */
export type ValueAt = (i: number) => number;

/** The key Node's `util.inspect` (and so `console.log`) looks for; from the symbol registry, so no `node:util` import. */
export const inspectSymbol: unique symbol = Symbol.for("nodejs.util.inspect.custom");

const PRECISION = 8;
const THRESHOLD = 1000;
const EDGE_ITEMS = 3;
const LINE_WIDTH = 75;
const SEPARATOR = ", ";

type Kind = "float32" | "float64" | "int" | "bool";

function kindOf(dtype: string): Kind {
  if (dtype === "float64" || dtype === "float32" || dtype === "bool") return dtype;
  // Signed and unsigned integers print alike (uint32 included).
  if (/^u?int\d+$/.test(dtype)) return "int";
  throw new DTypeError(`printing: unknown dtype ${JSON.stringify(dtype)}`);
}

/**
 * The array's body as `np.array2string(a, prefix=prefix, suffix=suffix, separator=separator)`
 * prints it (", " as repr does; " " gives `str`): the prefix and suffix are not included, their
 * lengths only indent continuation lines and shorten them.
 */
export function formatBody(shape: readonly number[], dtype: string, at: ValueAt, prefix = "", suffix = "", separator = SEPARATOR): string {
  const kind = kindOf(dtype);
  const strides = rowMajorStrides(shape);
  const size = shape.reduce((a, b) => a * b, 1);
  if (size === 0) return "[]";
  const summarize = size > THRESHOLD;
  // The elements shown are those the formatting (widths, notation) is chosen from, as NumPy does.
  const shown = shownOffsets(shape, strides, summarize).map(at);
  const fmt = elementFormatter(kind, shown, shape.length === 0);
  return layout(shape, strides, (i) => fmt(at(i)), summarize, " " + " ".repeat(prefix.length), LINE_WIDTH - suffix.length, separator);
}

/** `Array([1.5, nan, inf], dtype=float64)`: a concrete array as JAX's `repr` prints it. */
export function formatArray(shape: readonly number[], dtype: string, weakType: boolean, at: ValueAt): string {
  kindOf(dtype); // checked even when there is no element to print
  const prefix = "Array(";
  const dtypeStr = weakType ? `dtype=${dtype}, weak_type=True)` : `dtype=${dtype})`;
  const size = shape.reduce((a, b) => a * b, 1);
  const body = size === 0 ? `[], shape=${pythonTuple(shape)}` : formatBody(shape, dtype, at, prefix, ",");
  // JAX's rule, kept as it is: when the dtype would overflow the last line it is pushed right by
  // the prefix's width rather than onto a new line.
  const lastLine = body.length - body.lastIndexOf("\n") + 1;
  const sep = lastLine + dtypeStr.length + 1 > LINE_WIDTH ? " ".repeat(prefix.length) : " ";
  return `${prefix}${body},${sep}${dtypeStr}`;
}

/** `Traced<float64[3]> under jvp`: a value inside a transformation, by its abstract value. */
export function formatTraced(shape: readonly number[], dtype: string, transform: string): string {
  return `Traced<${dtype}[${shape.join(",")}]> under ${transform}`;
}

function pythonTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

function rowMajorStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

/** Which elements a summary keeps along an axis of length n: the first and last EDGE_ITEMS. */
function keptIndices(n: number, summarize: boolean): number[] {
  const all = (k: number, from: number) => Array.from({ length: k }, (_, i) => from + i);
  return summarize && n > 2 * EDGE_ITEMS ? [...all(EDGE_ITEMS, 0), ...all(EDGE_ITEMS, n - EDGE_ITEMS)] : all(n, 0);
}

function shownOffsets(shape: readonly number[], strides: readonly number[], summarize: boolean): number[] {
  let offsets = [0];
  for (let d = 0; d < shape.length; d++) {
    const kept = keptIndices(shape[d], summarize);
    offsets = offsets.flatMap((o) => kept.map((i) => o + i * strides[d]));
  }
  return offsets;
}

/**
 * NumPy's `_formatArray`: elements of the last axis fill lines up to the width (wrapping with a
 * hanging indent), higher axes put their sub-arrays on new lines, separated by one more blank line
 * per extra dimension; summarized axes show `...` in place of their middle. Recursion is over the
 * rank, never the size.
 */
function layout(
  shape: readonly number[],
  strides: readonly number[],
  fmt: (offset: number) => string,
  summarize: boolean,
  nextLinePrefix: string,
  lineWidth: number,
  separator: string,
): string {
  const ndim = shape.length;
  const sepTrimmed = separator.trimEnd();
  const recurse = (axis: number, offset: number, hanging: string, width: number): string => {
    if (axis === ndim) return fmt(offset);
    const child = (i: number) => recurse(axis + 1, offset + i * strides[axis], hanging + " ", width - 1);
    const n = shape[axis];
    const summary = summarize && 2 * EDGE_ITEMS < n;
    const lead = summary ? EDGE_ITEMS : 0;
    const trail = summary ? EDGE_ITEMS : n;
    let s = "";
    if (axis === ndim - 1) {
      // Room left before the separator or the closing bracket.
      const elemWidth = width - Math.max(sepTrimmed.length, 1);
      let line = hanging;
      const extend = (word: string) => {
        // Wrapping a line that holds nothing but the indent would not help.
        if (line.length + word.length > elemWidth && line.length > hanging.length) {
          s += line.trimEnd() + "\n";
          line = hanging;
        }
        line += word;
      };
      for (let i = 0; i < lead; i++) {
        extend(child(i));
        line += separator;
      }
      if (summary) {
        extend("...");
        line += separator;
      }
      for (let i = trail; i > 1; i--) {
        extend(child(n - i));
        line += separator;
      }
      extend(child(n - 1));
      s += line;
    } else {
      const lineSep = sepTrimmed + "\n".repeat(ndim - axis - 1);
      for (let i = 0; i < lead; i++) s += hanging + child(i) + lineSep;
      if (summary) s += hanging + "..." + lineSep;
      for (let i = trail; i > 1; i--) s += hanging + child(n - i) + lineSep;
      s += hanging + child(n - 1);
    }
    return "[" + s.slice(hanging.length) + "]";
  };
  return recurse(0, 0, nextLinePrefix, lineWidth);
}

function elementFormatter(kind: Kind, shown: number[], zeroD: boolean): (v: number) => string {
  if (kind === "bool") {
    // " True" lines up with "False", except in a 0-d array.
    const t = zeroD ? "True" : " True";
    return (v) => (v !== 0 ? t : "False");
  }
  if (kind === "int") {
    const width = Math.max(...shown.map((v) => String(v).length));
    return (v) => String(v).padStart(width);
  }
  return floatFormatter(shown, kind === "float32");
}

/** A finite value as ±0.DIGITS × 10^point, DIGITS without trailing zeros ("0" and point 1 for zero). */
interface Decimal {
  neg: boolean;
  digits: string;
  point: number;
}

/**
 * NumPy's FloatingFormat in "maxprec" mode. Every value gets its shortest round-trip digits (for
 * its own dtype: float32 values as float32), cut to 8 digits after the point (positional) or after
 * the first digit (scientific), rounded from the exact binary value with ties to even as NumPy's
 * Dragon4 does. In scientific notation all values then show as many digits as the longest needs,
 * written from their exact values. Scientific notation is used for the whole array when a non-zero magnitude is
 * below 1e-4, or reaches 1e8 (1e6 for float32, NumPy's float32 precision), or the largest is more
 * than 1000 times the smallest. Columns line up on the point; nan and inf are right-aligned.
 */
function floatFormatter(shown: number[], f32: boolean): (v: number) => string {
  const finite = shown.filter(Number.isFinite);
  const mags = finite.filter((v) => v !== 0).map(Math.abs);
  // NumPy compares float32 data in float32 (the constants and the ratio are float32 too).
  const inType = f32 ? Math.fround : (v: number) => v;
  let sci = false;
  if (mags.length > 0) {
    const max = mags.reduce((a, b) => Math.max(a, b));
    const min = mags.reduce((a, b) => Math.min(a, b));
    sci = max >= (f32 ? 1e6 : 1e8) || min < inType(1e-4) || inType(max / min) > 1000;
  }
  const decimal = (v: number): Decimal => toDecimal(v, f32, sci);

  let padLeft = 0;
  let padRight = 0;
  let fracDigits = 0;
  let expDigits = 0;
  for (const v of finite) {
    const d = decimal(v);
    if (sci) {
      padLeft = Math.max(padLeft, d.neg ? 2 : 1);
      fracDigits = Math.max(fracDigits, d.digits.length - 1);
      // At least two exponent digits, as in "1.e-05".
      expDigits = Math.max(expDigits, 2, String(Math.abs(d.point - 1)).length);
    } else {
      const [int, frac] = positionalParts(d);
      padLeft = Math.max(padLeft, int.length);
      padRight = Math.max(padRight, frac.length);
    }
  }
  if (sci && finite.length > 0) padRight = expDigits + 2 + fracDigits;
  if (finite.length < shown.length) {
    // Room for "nan", "inf" or "-inf" in the same column width.
    const negInf = shown.some((v) => v === -Infinity) ? 1 : 0;
    padLeft = Math.max(padLeft, 3 + negInf - (padRight + 1));
  }
  const width = padLeft + padRight + 1;

  return (v) => {
    if (Number.isNaN(v)) return "nan".padStart(width);
    if (!Number.isFinite(v)) return (v < 0 ? "-inf" : "inf").padStart(width);
    if (sci) {
      // NumPy asks Dragon4 for at least `fracDigits` digits here, and it writes them from the
      // exact binary value: 5e-324 prints as 4.94065646e-324 beside a value that needs 8 digits.
      const d = exactDecimal(v, fracDigits + 1);
      const mantissa = `${d.neg ? "-" : ""}${d.digits[0]}`.padStart(padLeft) + "." + d.digits.slice(1).padEnd(fracDigits, "0");
      const e = d.point - 1;
      return `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(expDigits, "0")}`;
    }
    const [int, frac] = positionalParts(decimal(v));
    return int.padStart(padLeft) + "." + frac.padEnd(padRight);
  };
}

function positionalParts(d: Decimal): [string, string] {
  const int = d.point <= 0 ? "0" : d.digits.slice(0, d.point).padEnd(d.point, "0");
  const frac = d.point >= 0 ? d.digits.slice(d.point) : "0".repeat(-d.point) + d.digits;
  return [(d.neg ? "-" : "") + int, frac];
}

const isNegative = (v: number): boolean => v < 0 || Object.is(v, -0);

/** The digits NumPy's first pass prints: the shortest ones, cut by the precision. */
function toDecimal(v: number, f32: boolean, sci: boolean): Decimal {
  const x = Math.abs(v);
  if (x === 0) return { neg: isNegative(v), digits: "0", point: 1 };
  const short = shortestDigits(x, f32);
  // How many leading digits the precision allows: 8 after the point, or 9 significant.
  const keep = sci ? PRECISION + 1 : short.point + PRECISION;
  if (short.digits.length <= keep) return { neg: isNegative(v), ...short };
  return exactDecimal(v, keep);
}

/** The exact value of `v` rounded to `keep` significant digits. */
function exactDecimal(v: number, keep: number): Decimal {
  const x = Math.abs(v);
  if (x === 0) return { neg: isNegative(v), digits: "0", point: 1 };
  return { neg: isNegative(v), ...roundDigits(exactDigits(x), keep) };
}

/** The shortest digits that read back as `x` (as a float32 when `f32`). */
function shortestDigits(x: number, f32: boolean): { digits: string; point: number } {
  let s = x.toExponential();
  if (f32) {
    // The closest p-digit decimal reads back as x for the least such p.
    for (let p = 0; p <= 8; p++) {
      s = x.toExponential(p);
      if (Math.fround(Number(s)) === x) break;
    }
  }
  const [mant, exp] = s.split("e");
  return { digits: mant.replace(".", "").replace(/0+$/, ""), point: Number(exp) + 1 };
}

const view64 = new DataView(new ArrayBuffer(8));

/** Every decimal digit of the positive finite double `x` (its binary value is a finite decimal). */
function exactDigits(x: number): { digits: string; point: number } {
  view64.setFloat64(0, x);
  const hi = view64.getUint32(0);
  const lo = view64.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased !== 0) m |= 1n << 52n;
  const k = (biased === 0 ? 1 : biased) - 1075;
  // x = m · 2^k; for k < 0 that is m · 5^-k / 10^-k.
  const n = (k >= 0 ? m << BigInt(k) : m * 5n ** BigInt(-k)).toString();
  return { digits: n.replace(/0+$/, ""), point: n.length + Math.min(k, 0) };
}

/** The first `keep` (≥ 1) digits, rounded half to even on the digits dropped. */
function roundDigits(d: { digits: string; point: number }, keep: number): { digits: string; point: number } {
  if (d.digits.length <= keep) return d;
  const head = d.digits.slice(0, keep);
  const next = d.digits.charCodeAt(keep) - 48;
  // Trailing zeros were stripped, so any digit after `next` makes it more than half.
  const moreAfter = d.digits.length > keep + 1;
  const up = next > 5 || (next === 5 && (moreAfter || (head.charCodeAt(keep - 1) - 48) % 2 === 1));
  if (!up) return { digits: head.replace(/0+$/, ""), point: d.point };
  let i = keep - 1;
  while (i >= 0 && head[i] === "9") i--;
  if (i < 0) return { digits: "1", point: d.point + 1 };
  return { digits: head.slice(0, i) + String.fromCharCode(head.charCodeAt(i) + 1), point: d.point };
}
