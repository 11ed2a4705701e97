// A strided view with scijs ndarray's interface, written as an ordinary class. ndarray compiles a
// class per buffer type and rank with `new Function`, which a Content-Security-Policy without
// 'unsafe-eval' forbids; views are made of this class there instead (see no-eval.ts).
import type { TypedArray } from "../core/dtype.js";

const DTYPE_NAMES: [new (n: number) => TypedArray, string][] = [
  [Float64Array, "float64"],
  [Float32Array, "float32"],
  [Int32Array, "int32"],
  [Uint32Array, "uint32"],
  [Uint8Array, "uint8"],
];

export class PlainNdarray {
  constructor(
    readonly data: TypedArray,
    readonly shape: number[],
    readonly stride: number[],
    readonly offset: number,
  ) {}

  get dtype(): string {
    for (const [C, name] of DTYPE_NAMES) if (this.data instanceof C) return name;
    return "generic";
  }

  get size(): number {
    let n = 1;
    for (const d of this.shape) n *= d;
    return n;
  }

  get dimension(): number {
    return this.shape.length;
  }

  /** Axes from the smallest stride to the largest, as ndarray's `order`. */
  get order(): number[] {
    return this.shape.map((_, d) => d).sort((a, b) => Math.abs(this.stride[a]) - Math.abs(this.stride[b]));
  }

  get T(): PlainNdarray {
    return this.transpose(...this.shape.map((_, d) => this.shape.length - 1 - d));
  }

  index(...i: number[]): number {
    let p = this.offset;
    for (let d = 0; d < this.shape.length; d++) p += this.stride[d] * i[d];
    return p;
  }

  get(...i: number[]): number {
    return this.data[this.index(...i)];
  }

  set(...iv: number[]): number {
    const v = iv[this.shape.length];
    this.data[this.index(...iv)] = v;
    return v;
  }

  /** The view from index `i[d]` on along each axis given as a non-negative number. */
  lo(...i: number[]): PlainNdarray {
    let off = this.offset;
    const shape = this.shape.map((n, d) => {
      const k = i[d];
      if (typeof k !== "number" || k < 0) return n;
      off += this.stride[d] * k;
      return n - k;
    });
    return new PlainNdarray(this.data, shape, [...this.stride], off);
  }

  /** The first `i[d]` entries along each axis given as a non-negative number. */
  hi(...i: number[]): PlainNdarray {
    const shape = this.shape.map((n, d) => (typeof i[d] === "number" && i[d] >= 0 ? i[d] : n));
    return new PlainNdarray(this.data, shape, [...this.stride], this.offset);
  }

  /** Every `i[d]`-th entry along each axis given as a number (a negative step walks backwards). */
  step(...i: number[]): PlainNdarray {
    let off = this.offset;
    const shape = [...this.shape];
    const stride = [...this.stride];
    for (let d = 0; d < shape.length; d++) {
      const k = i[d];
      if (typeof k !== "number") continue;
      if (k < 0) {
        off += stride[d] * (shape[d] - 1);
        shape[d] = Math.ceil(-shape[d] / k);
      } else shape[d] = Math.ceil(shape[d] / k);
      stride[d] *= k;
    }
    return new PlainNdarray(this.data, shape, stride, off);
  }

  transpose(...axes: number[]): PlainNdarray {
    const perm = this.shape.map((_, d) => (axes[d] === undefined ? d : axes[d]));
    return new PlainNdarray(this.data, perm.map((p) => this.shape[p]), perm.map((p) => this.stride[p]), this.offset);
  }

  /** Fixes the axes given a non-negative index; the others remain. */
  pick(...i: (number | null)[]): PlainNdarray {
    let off = this.offset;
    const shape: number[] = [];
    const stride: number[] = [];
    for (let d = 0; d < this.shape.length; d++) {
      const k = i[d];
      if (typeof k === "number" && k >= 0) off += this.stride[d] * k;
      else {
        shape.push(this.shape[d]);
        stride.push(this.stride[d]);
      }
    }
    return new PlainNdarray(this.data, shape, stride, off);
  }
}
