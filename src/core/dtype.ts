import { DTypeError, ShapeError, fmtShape } from "./errors.js";

export type DType = "float64" | "float32" | "int32" | "uint32" | "bool";
export type TypedArray = Float64Array | Float32Array | Int32Array | Uint32Array | Uint8Array;

export const DTYPES: readonly DType[] = ["float64", "float32", "int32", "uint32", "bool"];
const SHORT: Record<DType, string> = { float64: "f64", float32: "f32", int32: "i32", uint32: "u32", bool: "bool" };
export const shortName = (d: DType): string => SHORT[d];

export function isDType(d: unknown): d is DType {
  return typeof d === "string" && (DTYPES as readonly string[]).includes(d);
}
export function checkDType(d: unknown, where: string): DType {
  if (!isDType(d)) throw new DTypeError(`${where}: unknown dtype ${JSON.stringify(d)}; expected one of ${DTYPES.join(", ")}`);
  return d;
}
export const isFloat = (d: DType): boolean => d === "float64" || d === "float32";
/** int32 or uint32 (bool is not an integer kind here, as in JAX's dtype checks). */
export const isInteger = (d: DType): boolean => d === "int32" || d === "uint32";
export const itemBytes = (d: DType): number => (d === "float64" ? 8 : d === "bool" ? 1 : 4);

/** The largest buffer jacobi allocates: Node's largest Buffer, 4 GiB (V8 caps typed arrays near there too). */
export const MAX_BUFFER_BYTES = 2 ** 32;

/** Throws a ShapeError naming the shape and the bytes when one buffer could not hold it. */
export function checkAllocation(n: number, d: DType, where: string, shape?: readonly number[]): void {
  const bytes = n * itemBytes(d);
  if (bytes > MAX_BUFFER_BYTES) {
    throw new ShapeError(
      `${where}: ${shape ? `shape ${fmtShape(shape)} of ` : `${n} elements of `}${d} needs ${bytes} bytes, more than a typed array can hold (${MAX_BUFFER_BYTES} bytes)`,
    );
  }
}

/**
 * A zeroed buffer of `n` elements. Checked before allocating, so an impossible size is a
 * ShapeError naming it rather than a RangeError (or an out-of-memory crash) from the engine.
 */
export function allocate(d: DType, n: number, shape?: readonly number[]): TypedArray {
  checkAllocation(n, d, "allocate", shape);
  switch (d) {
    case "float64": return new Float64Array(n);
    case "float32": return new Float32Array(n);
    case "int32": return new Int32Array(n);
    case "uint32": return new Uint32Array(n);
    case "bool": return new Uint8Array(n);
  }
}

export function dtypeOfTypedArray(a: ArrayLike<number>): DType | null {
  if (a instanceof Float64Array) return "float64";
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Uint32Array) return "uint32";
  if (a instanceof Uint8Array) return "bool";
  // A typed array from another realm (a vm context, an iframe) fails instanceof: go by its tag.
  if (!ArrayBuffer.isView(a)) return null;
  return FOREIGN_TAGS[Object.prototype.toString.call(a)] ?? null;
}
const FOREIGN_TAGS: Record<string, DType> = {
  "[object Float64Array]": "float64",
  "[object Float32Array]": "float32",
  "[object Int32Array]": "int32",
  "[object Uint32Array]": "uint32",
  "[object Uint8Array]": "bool",
};

const RANK: Record<DType, number> = { bool: 0, int32: 1, uint32: 1, float32: 2, float64: 3 };

/**
 * NumPy/JAX-style promotion with weak types: a weakly typed operand (a JS number) takes the
 * other operand's dtype within its kind, and only lifts an integer/bool operand to a float.
 */
export function promoteTypes(a: DType, aWeak: boolean, b: DType, bWeak: boolean): [DType, boolean] {
  if (aWeak && !bWeak) return [weakJoin(a, b), false];
  if (bWeak && !aWeak) return [weakJoin(b, a), false];
  // JAX's lattice joins uint32 and int32 at int64, which it canonicalizes to int32 without x64;
  // there is no int64 here, so int32 is JAX's (default-mode) answer.
  if (RANK[a] === 1 && RANK[b] === 1 && a !== b) return ["int32", aWeak && bWeak];
  const d = RANK[a] >= RANK[b] ? a : b;
  return [d, aWeak && bWeak];
}
function weakJoin(weak: DType, strong: DType): DType {
  if (isFloat(weak) && !isFloat(strong)) return "float64";
  if (isInteger(weak) && strong === "bool") return weak;
  return strong;
}
