// Eager fusion: inside a fusion scope (eager grad and friends), a large elementwise result is not
// computed when it is made but recorded as its expression over its operands, and operations on it
// compose their expression with it. The value is computed on first read of `.data` (any kernel, a
// view, item(), ...) by one generated loop over the original buffers, so that a chain such as
// log(x) + x*y - sin(y) makes one buffer in one pass instead of five. Buffers are never written
// after they are made, so reading the operands later gives the values they had. The loop applies
// the same operations in the same order and rounds every intermediate to its dtype as storing it
// would, so the results are bit-identical to computing each step on its own.
import type { DType, TypedArray } from "../core/dtype.js";
import { type Arr, rowMajorStrides, view } from "./ndarray-view.js";

let depth = 0;

/** Runs `f` with eager fusion on (nested scopes are fine); see the top of this file. */
export function withEagerFusion<T>(f: () => T): T {
  depth++;
  try {
    return f();
  } finally {
    depth--;
  }
}

/** The switch for all of it: off, every step computes at once (benchmarks compare both ways). */
export const eagerFusion = { enabled: true };

/** Whether elementwise results may be deferred now. */
export const eagerFusionOn = (): boolean => depth > 0 && eagerFusion.enabled;

/** Smallest result (in elements) worth deferring: below it, composing costs more than a pass. */
export const LAZY_MIN_SIZE = 1 << 14;
// Bounds on one fused loop: the operations inlined, and the distinct buffers it reads.
const MAX_OPS = 16;
const MAX_LEAVES = 6;

/** Computes a deferred value: the generated loop of elementwise.ts. */
type Evaluate = (expr: string, leaves: Arr[], dtype: DType, shape: readonly number[]) => TypedArray;

/**
 * A deferred elementwise result, usable wherever an ndarray view is (its row-major layout is
 * known without computing it). `args` are its operands: buffers, or deferred values it inlines.
 */
export class LazyArr {
  readonly offset = 0;
  readonly stride: number[];
  private buf: TypedArray | null = null;
  private real: Arr | null = null;
  /** Deferred values that inline this one; a second one would compute it twice, so it is stored first. */
  private inlinedBy = 0;
  /** Set once a stored result has computed this value on the way: computing it again stores it. */
  private computed = false;

  private constructor(
    private readonly expr: string,
    private args: Arr[] | null,
    readonly dtypeName: DType,
    readonly shape: number[],
    /** Operations and (an upper bound of) buffers read by the loop that computes this value. */
    private readonly ops: number,
    private readonly leaves: number,
    private readonly evaluate: Evaluate,
  ) {
    this.stride = rowMajorStrides(shape);
  }

  /**
   * `expr` (in x0, x1, ...) of `args`, deferred: deferred operands are inlined unless another
   * deferred value already inlines them (or `args` names them twice), or the loop would grow past
   * its bounds; those are computed now.
   */
  static of(expr: string, args: Arr[], dtype: DType, shape: readonly number[], evaluate: Evaluate): LazyArr {
    let ops = 1;
    let leaves = 0;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a instanceof LazyArr && a.buf === null && a.inlinedBy === 0 && args.indexOf(a) === i && args.lastIndexOf(a) === i) {
        ops += a.ops;
        leaves += a.leaves;
      } else leaves++;
    }
    const within = ops <= MAX_OPS && leaves <= MAX_LEAVES;
    if (!within) [ops, leaves] = [1, args.length];
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (!(a instanceof LazyArr) || a.buf !== null) continue;
      if (within && a.inlinedBy === 0 && args.indexOf(a) === i && args.lastIndexOf(a) === i) a.inlinedBy = 1;
      else a.force();
    }
    return new LazyArr(expr, args, dtype, [...shape], ops, leaves, evaluate);
  }

  /** Computes and keeps the value; drops the operands. */
  force(): TypedArray {
    if (this.buf === null) {
      const leaves: Arr[] = [];
      const expr = this.inline(leaves);
      this.buf = this.evaluate(expr, leaves, this.dtypeName, this.shape);
      this.args = null;
    }
    return this.buf;
  }

  get isDeferred(): boolean {
    return this.buf === null;
  }

  /** This value's expression with deferred operands inlined, its buffers appended to `leaves`. */
  private inline(leaves: Arr[]): string {
    const args = this.args as Arr[];
    return this.expr.replace(/\bx(\d+)\b/g, (_m, k: string) => {
      const a = args[Number(k)];
      if (a instanceof LazyArr && a.buf === null) {
        if (!a.computed) {
          a.computed = true;
          return roundTo(a.dtypeName, a.inline(leaves));
        }
        a.force();
      }
      let at = leaves.indexOf(a);
      if (at < 0) at = leaves.push(a) - 1;
      return `x${at}`;
    });
  }

  get data(): TypedArray {
    return this.force();
  }

  private view(): Arr {
    return (this.real ??= view(this.force(), this.shape));
  }

  get size(): number {
    return this.view().size;
  }
  get dimension(): number {
    return this.shape.length;
  }
  get dtype(): string {
    return this.view().dtype;
  }
  get order(): number[] {
    return this.view().order;
  }
  index(...i: number[]): number {
    return this.view().index(...i);
  }
  get(...i: number[]): number {
    return this.view().get(...i);
  }
  set(...iv: number[]): number {
    return (this.view().set as (...a: number[]) => number)(...iv);
  }
  lo(...i: number[]): Arr {
    return this.view().lo(...i);
  }
  hi(...i: number[]): Arr {
    return this.view().hi(...i);
  }
  step(...i: number[]): Arr {
    return this.view().step(...i);
  }
  transpose(...axes: number[]): Arr {
    return this.view().transpose(...axes);
  }
  pick(...i: (number | null)[]): Arr {
    return (this.view().pick as (...a: (number | null)[]) => Arr)(...i);
  }
}

/** `text` rounded to `dtype` as storing it in that dtype's buffer would round it. */
function roundTo(dtype: DType, text: string): string {
  switch (dtype) {
    case "float32":
      return `Math.fround(${text})`;
    case "int32":
      return `((${text}) | 0)`;
    case "uint32":
      return `((${text}) >>> 0)`;
    default:
      // float64 stores any number as it is; a bool expression already yields 0 or 1.
      return `(${text})`;
  }
}

/** Computes `a`'s value now if it is deferred (what a call hands back to the user should be). */
export function settleArr(a: Arr): void {
  if (a instanceof LazyArr) a.force();
}

/** True for a value not computed yet (tests, and the cost model of the benchmarks). */
export const isDeferred = (a: Arr): boolean => a instanceof LazyArr && a.isDeferred;

/** The dtype of `a` without computing it (`dtypeOf` reads the buffer's class). */
export const lazyDtype = (a: Arr): DType | null => (a instanceof LazyArr ? a.dtypeName : null);
