// Generated elementwise loops. Each operation's expression is compiled once into its own loop so
// that V8 sees a monomorphic body (a shared loop calling a closure per element is several times
// slower). Dimensions that are contiguous in every operand are merged first, so row-major and
// scalar-broadcast operands run as a single flat loop.
import { type DType, type TypedArray, allocate } from "../core/dtype.js";
import { type Arr, sizeOf, view } from "./ndarray-view.js";

type Kernel = (datas: TypedArray[], offsets: number[], strides: number[][], out: TypedArray, shape: number[]) => void;
const cache = new Map<string, Kernel>();

function compile(nIn: number, expr: string): Kernel {
  const key = `${nIn}|${expr}`;
  let k = cache.get(key);
  if (k) return k;
  const ins = Array.from({ length: nIn }, (_, i) => i);
  const src = `
    ${ins.map((i) => `const d${i} = datas[${i}], st${i} = strides[${i}];`).join("\n")}
    const nd = shape.length;
    if (nd === 0) { ${ins.map((i) => `const x${i} = d${i}[offsets[${i}]];`).join(" ")} out[0] = ${expr}; return; }
    const last = nd - 1, L = shape[last];
    if (L === 0) return;
    ${ins.map((i) => `const s${i} = st${i}[last]; let p${i} = offsets[${i}];`).join("\n")}
    const outer = out.length / L;
    const idx = new Int32Array(nd);
    let po = 0;
    for (let o = 0; o < outer; o++) {
      ${ins.map((i) => `let i${i} = p${i};`).join(" ")}
      for (let j = 0; j < L; j++) {
        ${ins.map((i) => `const x${i} = d${i}[i${i}]; i${i} += s${i};`).join(" ")}
        out[po++] = ${expr};
      }
      for (let d = last - 1; d >= 0; d--) {
        idx[d]++;
        ${ins.map((i) => `p${i} += st${i}[d];`).join(" ")}
        if (idx[d] < shape[d]) break;
        ${ins.map((i) => `p${i} -= st${i}[d] * shape[d];`).join(" ")}
        idx[d] = 0;
      }
    }`;
  k = new Function("datas", "offsets", "strides", "out", "shape", src) as Kernel;
  cache.set(key, k);
  return k;
}

/** Merges adjacent dimensions that are laid out contiguously in every operand. */
function collapse(shape: readonly number[], strides: number[][]): [number[], number[][]] {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const k = outShape.length - 1;
    if (k >= 0 && strides.every((s, i) => outStrides[i][k] === s[d] * shape[d])) {
      outShape[k] *= shape[d];
      strides.forEach((s, i) => (outStrides[i][k] = s[d]));
    } else {
      outShape.push(shape[d]);
      strides.forEach((s, i) => outStrides[i].push(s[d]));
    }
  }
  return [outShape, outStrides];
}

/**
 * Applies `expr` (in terms of x0, x1, ...) elementwise to same-shaped operands of any strides,
 * writing a fresh row-major array of `dtype`.
 */
export function mapN(expr: string, args: Arr[], dtype: DType): Arr {
  const shape = args[0].shape;
  const out = allocate(dtype, sizeOf(shape));
  if (out.length > 0) {
    const [cs, cst] = collapse(shape, args.map((a) => a.stride));
    const rank0 = shape.length > 0 && cs.length === 0;
    compile(args.length, expr)(
      args.map((a) => a.data),
      args.map((a) => a.offset),
      rank0 ? cst.map(() => [0]) : cst,
      out,
      rank0 ? [1] : cs,
    );
  }
  return view(out, shape);
}
