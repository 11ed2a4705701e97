import { type Arr, toFlatCopy, view } from "../backend/index.js";
import { type DType, allocate, dtypeOfTypedArray } from "./dtype.js";
import { DTypeError } from "./errors.js";
import { ShapedArray } from "./shaped-array.js";
import { ArrayTensor, Tensor, isNdarray } from "./tensor.js";

export function describe(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "a JS array (a pytree node; write np.array([...]) for a vector)";
  if (typeof x === "object") return (x as object).constructor?.name ?? "object";
  return typeof x;
}

/**
 * How a JS integer promotes: 1 for one in int32 range, 2 for one in [2^31, 2^32) (a weak uint32
 * next to uint32), 0 otherwise. `jit` stages a JS number as a weak float64 leaf and marks its
 * tracer with the kind, so that promotion under jit is the eager one (`int32 * 65536` stays int32).
 */
export function jsIntegerKind(x: unknown): 0 | 1 | 2 {
  if (typeof x !== "number") return typeof x === "object" && x !== null ? (jsIntegerTracers.get(x as Tensor) ?? 0) : 0;
  if (!Number.isInteger(x)) return 0;
  if (Math.abs(x) < 2 ** 31) return 1;
  return x >= 0 && x < 2 ** 32 ? 2 : 0;
}
const jsIntegerTracers = new WeakMap<Tensor, 1 | 2>();
/** Marks a traced stand-in for a JS integer of the given kind (see jsIntegerKind). */
export function markJsInteger(t: Tensor, kind: 0 | 1 | 2): void {
  if (kind !== 0) jsIntegerTracers.set(t, kind);
}

export function fromArr(arr: Arr, dtype: DType, weak = false): ArrayTensor {
  return new ArrayTensor(arr, new ShapedArray(arr.shape, dtype, weak));
}

export function scalar(v: number, dtype: DType = "float64", weak = false): ArrayTensor {
  const d = allocate(dtype, 1);
  d[0] = v;
  return fromArr(view(d, []), dtype, weak);
}

/**
 * Converts a leaf to a Tensor. Buffers the user passed are copied, so that mutating them later
 * never changes a result (or a stored residual).
 */
export function asTensor(x: unknown, where = "argument"): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === "number") return scalar(x, "float64", true);
  if (typeof x === "boolean") return scalar(x ? 1 : 0, "bool");
  const td = dtypeOfTypedArray(x as never);
  if (td === "bool") {
    // Bytes (a Node Buffer, say) are not booleans: taken as bool they kept raw values 2, 3, ...
    throw new DTypeError(`${where}: a Uint8Array (or Buffer) is ambiguous as a leaf; convert it with np.array(Array.from(bytes), "int32"), or pass JS booleans for a bool array`);
  }
  if (td !== null) {
    // A copy into this realm's typed array (the kernels tell buffers apart with instanceof).
    const a = x as Float64Array;
    const copy = allocate(td, a.length);
    copy.set(a);
    return fromArr(view(copy, [a.length]), td);
  }
  if (isNdarray(x)) {
    const nd = x as Arr;
    const dt = dtypeOfTypedArray(nd.data as never);
    if (dt === null) {
      const out = allocate("float64", nd.size);
      let i = 0;
      const walk = (d: number, off: number): void => {
        if (d === nd.shape.length) {
          const data = nd.data as unknown as { get?: (k: number) => number } & ArrayLike<number>;
          out[i++] = Number(data.get ? data.get(off) : data[off]);
          return;
        }
        for (let k = 0; k < nd.shape[d]; k++) walk(d + 1, off + k * nd.stride[d]);
      };
      walk(0, nd.offset);
      return fromArr(view(out, nd.shape), "float64");
    }
    return fromArr(view(toFlatCopy(nd), nd.shape), dt);
  }
  throw new DTypeError(`${where}: expected a number, boolean, Tensor, ndarray or typed array, got ${describe(x)}`);
}
