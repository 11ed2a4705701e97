// Fused elementwise kernels: a chain of elementwise expressions (the strings the primitives give
// mapN) compiled into one loop that reads each input once per element, keeps intermediates in
// locals and writes only the results needed outside the chain.
import { type DType, allocate } from "../core/dtype.js";
import { type Arr, contiguous, isRowMajor, isSingleElement, sizeOf, view } from "./ndarray-view.js";

/** One operation of a chain: `expr` in x0, x1, ... whose operands index inputs, then earlier ops. */
export interface FusedOp {
  expr: string;
  /** Value indices: `i < nIn` is input i, `nIn + k` is the result of op k. */
  args: number[];
  dtype: DType;
}

export interface FusedChain {
  inDtypes: DType[];
  ops: FusedOp[];
  /** Ops whose results leave the loop (in this order). */
  outs: number[];
}

type Loop = (ins: Arr[], outs: unknown[], n: number) => void;

/**
 * The value a typed array of `dtype` would hold after storing `e`: mapN stores every result, so
 * the fused loop must round the same way at every step to give bit-identical answers.
 */
function stored(dtype: DType, e: string): string {
  switch (dtype) {
    case "float64": return `(${e})`;
    case "float32": return `Math.fround(${e})`;
    case "int32": return `((${e}) | 0)`;
    case "uint32": return `((${e}) >>> 0)`;
    case "bool": return `((${e}) ? 1 : 0)`;
  }
}


export class FusedKernel {
  /** Generated loops by input layout ("c" row-major, "s" broadcast scalar), e.g. "csc". */
  private readonly loops = new Map<string, Loop>();

  constructor(readonly chain: FusedChain) {}

  /** Source of the loop for one layout of the inputs; exported for inspection in tests. */
  source(kinds: string): string {
    const { inDtypes, ops, outs } = this.chain;
    const nIn = inDtypes.length;
    const name = (v: number): string => (v < nIn ? `a${v}` : `t${v - nIn}`);
    const head: string[] = [];
    const load: string[] = [];
    for (let i = 0; i < nIn; i++) {
      if (kinds[i] === "s") head.push(`const a${i} = ins[${i}].data[ins[${i}].offset];`);
      else {
        head.push(`const d${i} = ins[${i}].data, o${i} = ins[${i}].offset;`);
        load.push(`const a${i} = d${i}[o${i} + i];`);
      }
    }
    outs.forEach((k, j) => head.push(`const r${j} = outs[${j}];`));
    const body = ops.map((op, k) => {
      const e = op.expr.replace(/\bx(\d+)\b/g, (_m, a: string) => name(op.args[Number(a)]));
      return `const t${k} = ${stored(op.dtype, e)};`;
    });
    const write = outs.map((k, j) => `r${j}[i] = t${k};`);
    return `// fused ${ops.length} ops; inputs ${inDtypes.join(",")}; layout ${kinds}
${head.join("\n")}
for (let i = 0; i < n; i++) {
  ${[...load, ...body, ...write].join("\n  ")}
}`;
  }

  /** Runs the chain over inputs of one shape (`shape`), returning fresh row-major outputs. */
  run(ins: Arr[], shape: readonly number[]): Arr[] {
    const n = sizeOf(shape);
    const outDtypes = this.chain.outs.map((k) => this.chain.ops[k].dtype);
    const bufs = outDtypes.map((d) => allocate(d, n, shape));
    if (n > 0) {
      let kinds = "";
      const arrs = new Array<Arr>(ins.length);
      for (let i = 0; i < ins.length; i++) {
        const a = ins[i];
        // A stride-0 view of one element (a broadcast scalar or constant) is read once, outside the loop.
        if (isSingleElement(a)) {
          kinds += "s";
          arrs[i] = a;
        } else {
          kinds += "c";
          // Transposed or partly broadcast views are copied once to row-major: the loop reads
          // every input with the flat index.
          arrs[i] = isRowMajor(a) ? a : contiguous(a);
        }
      }
      let loop = this.loops.get(kinds);
      if (loop === undefined) {
        loop = new Function("ins", "outs", "n", this.source(kinds)) as Loop;
        this.loops.set(kinds, loop);
      }
      loop(arrs, bufs, n);
    }
    return bufs.map((b) => view(b, shape));
  }
}
