// Fused elementwise kernels: a chain of elementwise expressions (the strings the primitives give
// mapN) compiled into one loop that reads each input once per element, keeps intermediates in
// locals and writes only the results needed outside the chain. Reductions (sum, max, min, prod)
// of chain values fold into the same loop, so a chain ending in a reduction writes no buffer.
import { type DType, allocate } from "../core/dtype.js";
import { type Arr, contiguous, isRowMajor, isSingleElement, sizeOf, view } from "./ndarray-view.js";
import { FOLD, type FoldKind, INIT, foldKindFor } from "./reduce.js";
import { runChainEagerly } from "./fusion-eager.js";
import { codegen } from "./no-eval.js";

/** One operation of a chain: `expr` in x0, x1, ... whose operands index inputs, then earlier ops. */
export interface FusedOp {
  expr: string;
  /** Value indices: `i < nIn` is input i, `nIn + k` is the result of op k. */
  args: number[];
  dtype: DType;
}

/** A reduction of one chain value over some axes of the chain's shape. */
export interface FusedReduction {
  kind: FoldKind;
  /** Value index reduced (an input or an op's result). */
  arg: number;
  /** Reduced axes of the chain's shape (distinct). */
  axes: readonly number[];
  /** Dtype of the result (partial results are float64, as in reduce.ts). */
  dtype: DType;
}

export interface FusedChain {
  inDtypes: DType[];
  ops: FusedOp[];
  /** Ops whose results leave the loop (in this order). */
  outs: number[];
  /** Reductions computed in the loop; their results follow the ops' in run()'s answer. */
  reductions?: FusedReduction[];
}

type Loop = (ins: Arr[], outs: unknown[], n: number, dims: number[], so: number[][], accs: Float64Array[]) => void;

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

/**
 * How eager evaluation would lay out a value: one element seen through stride 0 ("s"), a fresh
 * row-major buffer ("r"), or anything else ("u": a partial broadcast, a transposed view).
 */
type Layout = "s" | "r" | "u";

/**
 * The iteration space of a chain with reductions, as reduce.ts walks a row-major input: dims of
 * size 1 dropped, neighbours merged when every reduction treats them alike, outermost first;
 * `so[r][d]` is reduction r's output stride along dim d (0 where it reduces).
 */
function iterationSpace(shape: readonly number[], reductions: readonly FusedReduction[]): [number[], number[][]] {
  const strides = reductions.map(({ axes }) => {
    const so = new Array<number>(shape.length).fill(0);
    for (let d = shape.length - 1, s = 1; d >= 0; d--) {
      if (axes.includes(d)) continue;
      so[d] = s;
      s *= shape[d];
    }
    return so;
  });
  const dims: number[] = [];
  const so: number[][] = reductions.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const k = dims.length - 1;
    if (k >= 0 && strides.every((s, r) => so[r][k] === s[d] * shape[d])) {
      dims[k] *= shape[d];
      strides.forEach((s, r) => (so[r][k] = s[d]));
    } else {
      dims.push(shape[d]);
      strides.forEach((s, r) => so[r].push(s[d]));
    }
  }
  if (dims.length === 0) {
    dims.push(1);
    so.forEach((s) => s.push(0));
  }
  return [dims, so];
}

/** For each reduction, whether the loop's innermost dim is one it reduces ("R") or keeps ("K"). */
function innerPattern(shape: readonly number[], reductions: readonly FusedReduction[], so = iterationSpace(shape, reductions)[1]): string {
  let inner = "";
  for (const s of so) inner += s[s.length - 1] === 0 ? "R" : "K";
  return inner;
}

export class FusedKernel {
  /** Generated loops by input layout ("c" row-major, "s" broadcast scalar) and reduction shape. */
  private readonly loops = new Map<string, Loop>();

  constructor(readonly chain: FusedChain) {}

  private get reductions(): readonly FusedReduction[] {
    return this.chain.reductions ?? [];
  }

  /** Source of the loop `run` makes for row-major inputs of `shape`, for inspection. */
  sourceFor(shape: readonly number[]): string {
    return this.source("c".repeat(this.chain.inDtypes.length), innerPattern(shape, this.reductions));
  }

  /**
   * Source of the loop for one layout of the inputs (e.g. "csc"); with reductions, `inner` says
   * for each whether it reduces the innermost dim ("R") or keeps it ("K").
   */
  source(kinds: string, inner: string): string {
    const { inDtypes, ops, outs } = this.chain;
    const reductions = this.reductions;
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
    const header = `// fused ${ops.length} ops${reductions.length > 0 ? ` and ${reductions.length} reductions` : ""}; inputs ${inDtypes.join(",")}; layout ${kinds}${inner}\n`;
    if (reductions.length === 0) {
      return `${header}${head.join("\n")}
for (let i = 0; i < n; i++) {
  ${[...load, ...body, ...write].join("\n  ")}
}`;
    }
    // Each output element folds its inputs in memory order, starting from the accumulator's
    // initial value, exactly as reduce.ts's fold does: the same sequence of roundings.
    const fold = (r: number, acc: string): string => FOLD[foldKindFor(reductions[r].kind, reductions[r].dtype)].replace(/\bacc\b/g, acc).replace(/\bx\b/g, name(reductions[r].arg));
    const before: string[] = [], after: string[] = [], step: string[] = [], advance: string[] = [], rewind: string[] = [];
    reductions.forEach((_, r) => {
      head.push(`const g${r} = accs[${r}], so${r} = so[${r}]; let q${r} = 0;`);
      if (inner[r] === "R") {
        before.push(`let c${r} = g${r}[q${r}];`);
        step.push(fold(r, `c${r}`));
        after.push(`g${r}[q${r}] = c${r};`);
      } else step.push(`{ let acc = g${r}[q${r} + e]; ${fold(r, "acc")} g${r}[q${r} + e] = acc; }`);
      advance.push(`q${r} += so${r}[d];`);
      rewind.push(`q${r} -= so${r}[d] * dims[d];`);
    });
    return `${header}${head.join("\n")}
const last = dims.length - 1, L = dims[last];
let outer = 1;
for (let d = 0; d < last; d++) outer *= dims[d];
const idx = new Int32Array(dims.length);
let i = 0;
for (let o = 0; o < outer; o++) {
  ${before.join(" ")}
  for (let e = 0; e < L; e++, i++) {
    ${[...load, ...body, ...write, ...step].join("\n    ")}
  }
  ${after.join(" ")}
  for (let d = last - 1; d >= 0; d--) {
    idx[d]++; ${advance.join(" ")}
    if (idx[d] < dims[d]) break;
    idx[d] = 0; ${rewind.join(" ")}
  }
}`;
  }

  /**
   * True when eager evaluation would hand every reduction a row-major buffer or a single element
   * seen through stride 0, so that reduce.ts folds in flat index order as the loop does. mapN
   * writes fresh row-major results unless every operand is constant along some dim, and x*1 or
   * x/1 return x itself: a partial broadcast or transposed input can reach a reduction that way.
   */
  private eagerOrderMatches(ins: Arr[]): boolean {
    const layouts: Layout[] = ins.map((a) => (isSingleElement(a) ? "s" : isRowMajor(a) ? "r" : "u"));
    for (const op of this.chain.ops) {
      let all: Layout = "s";
      for (const a of op.args) {
        const l = layouts[a];
        if (l === "r") {
          all = "r";
          break;
        }
        if (l === "u") all = "u";
      }
      layouts.push(all);
    }
    return this.reductions.every((r) => layouts[r.arg] !== "u");
  }

  /**
   * Runs the chain over inputs of one shape (`shape`), returning fresh row-major outputs, then
   * the reductions' results; null when the reductions cannot match eager's order of summation
   * for these input layouts (the caller then evaluates the equations one by one).
   */
  run(ins: Arr[], shape: readonly number[]): Arr[] | null {
    // Without code generation (a Content-Security-Policy without 'unsafe-eval'): eager's kernels.
    if (!codegen.enabled) return runChainEagerly(this.chain, ins);
    const reductions = this.reductions;
    if (reductions.length > 0 && !this.eagerOrderMatches(ins)) return null;
    const n = sizeOf(shape);
    const outDtypes = this.chain.outs.map((k) => this.chain.ops[k].dtype);
    const bufs = outDtypes.map((d) => allocate(d, n, shape));
    // Accumulators as reduce.ts keeps them: float64, starting at the fold's initial value; a
    // float64 result accumulates in its own buffer.
    const redShapes = reductions.map(({ axes }) => shape.filter((_, d) => !axes.includes(d)));
    const results = reductions.map(({ dtype }, r) => allocate(dtype, sizeOf(redShapes[r])));
    const accs = reductions.map(({ kind }, r) => {
      const res = results[r];
      const acc = res instanceof Float64Array ? res : new Float64Array(res.length);
      if (INIT[kind] !== 0) acc.fill(INIT[kind]);
      return acc;
    });
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
      const [dims, so] = reductions.length > 0 ? iterationSpace(shape, reductions) : [[], []];
      const inner = innerPattern(shape, reductions, so);
      const key = `${kinds}|${inner}`;
      let loop = this.loops.get(key);
      if (loop === undefined) {
        loop = new Function("ins", "outs", "n", "dims", "so", "accs", this.source(kinds, inner)) as Loop;
        this.loops.set(key, loop);
      }
      loop(arrs, bufs, n, dims, so, accs);
    }
    results.forEach((res, r) => {
      const acc = accs[r];
      if (acc !== res) for (let i = 0; i < res.length; i++) res[i] = acc[i];
    });
    return [...bufs.map((b) => view(b, shape)), ...results.map((res, r) => view(res, redShapes[r]))];
  }
}
