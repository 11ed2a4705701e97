// Kernels without code generation. The backend compiles its loops with `new Function`, which a
// Content-Security-Policy without 'unsafe-eval' forbids (as does Node's
// --disallow-code-generation-from-strings). Where it is forbidden the same expression strings are
// parsed once into closures and run by plain loops: slower, but the same JS operators and Math
// functions are applied to the same numbers in the same order, and every result is stored into
// the same kind of typed array, so the answers are bit-identical.
import type { TypedArray } from "../core/dtype.js";
import { InternalError } from "../core/errors.js";

function probe(): boolean {
  try {
    return new Function("return 1")() === 1;
  } catch {
    return false;
  }
}

const available = probe();

/** Whether kernels may be generated; detected once, when this module loads. */
export const codegen = { enabled: available };

/** Turns generated kernels off, or back on where the environment allows them (for tests). */
export function setCodegen(on: boolean): void {
  codegen.enabled = on && available;
}

/** The values of x0, x1, ... for one element. */
type Env = ArrayLike<number>;
/**
 * An expression compiled to a closure. Comparisons yield JS booleans, exactly as the generated
 * code's do, so the declared `number` is what a typed array stores, not what every node returns.
 */
export type Evaluator = (x: Env) => number;

const BINARY_PRECEDENCE: Record<string, number> = {
  "||": 1, "&&": 2, "|": 3, "^": 4, "&": 5,
  "==": 6, "!=": 6, "===": 6, "!==": 6,
  "<": 7, ">": 7, "<=": 7, ">=": 7,
  "<<": 8, ">>": 8, ">>>": 8,
  "+": 9, "-": 9, "*": 10, "/": 10, "%": 10, "**": 11,
};
const TOKEN = /\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_$][\w$]*)|(>>>|===|!==|\*\*|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^!~<>?:(),.]))/y;

const asBool = (v: number): boolean => v as unknown as boolean;
const num = (v: boolean): number => v as unknown as number;

function binary(op: string, l: Evaluator, r: Evaluator): Evaluator {
  switch (op) {
    case "+": return (x) => l(x) + r(x);
    case "-": return (x) => l(x) - r(x);
    case "*": return (x) => l(x) * r(x);
    case "/": return (x) => l(x) / r(x);
    case "%": return (x) => l(x) % r(x);
    case "**": return (x) => l(x) ** r(x);
    case "&": return (x) => l(x) & r(x);
    case "|": return (x) => l(x) | r(x);
    case "^": return (x) => l(x) ^ r(x);
    case "<<": return (x) => l(x) << r(x);
    case ">>": return (x) => l(x) >> r(x);
    case ">>>": return (x) => l(x) >>> r(x);
    case "<": return (x) => num(l(x) < r(x));
    case ">": return (x) => num(l(x) > r(x));
    case "<=": return (x) => num(l(x) <= r(x));
    case ">=": return (x) => num(l(x) >= r(x));
    // Operands are numbers or booleans, never mixed in one comparison, so == is ===.
    case "==": case "===": return (x) => num(l(x) === r(x));
    case "!=": case "!==": return (x) => num(l(x) !== r(x));
    case "&&": return (x) => l(x) && r(x);
    default: return (x) => l(x) || r(x);
  }
}

function unaryOp(op: string, a: Evaluator): Evaluator {
  switch (op) {
    case "-": return (x) => -a(x);
    case "+": return (x) => +a(x);
    case "~": return (x) => ~a(x);
    default: return (x) => num(!asBool(a(x)));
  }
}

function call(f: (...a: number[]) => number, args: Evaluator[]): Evaluator {
  if (args.length === 1) {
    const [a] = args;
    return (x) => f(a(x));
  }
  if (args.length === 2) {
    const [a, b] = args;
    return (x) => f(a(x), b(x));
  }
  return (x) => f(...args.map((a) => a(x)));
}

/** Parses the subset of JS the primitives' expressions use: numbers, x0 x1 ..., Math.*, operators, ?:. */
class Parser {
  private readonly tokens: string[] = [];
  private at = 0;

  constructor(private readonly src: string) {
    TOKEN.lastIndex = 0;
    while (TOKEN.lastIndex < src.length) {
      const start = TOKEN.lastIndex;
      const m = TOKEN.exec(src);
      if (m === null) {
        if (src.slice(start).trim() === "") break;
        throw this.error(`unexpected "${src.slice(start).trim()[0]}"`);
      }
      this.tokens.push(m[1] ?? m[2] ?? m[3]);
    }
  }

  parse(): Evaluator {
    const e = this.ternary();
    if (this.at < this.tokens.length) throw this.error(`unexpected "${this.tokens[this.at]}"`);
    return e;
  }

  private error(what: string): InternalError {
    return new InternalError(`cannot interpret the kernel expression "${this.src}": ${what}`);
  }

  private peek(): string | undefined {
    return this.tokens[this.at];
  }

  private expect(t: string): void {
    if (this.tokens[this.at] !== t) throw this.error(`expected "${t}"`);
    this.at++;
  }

  private ternary(): Evaluator {
    const c = this.binary(1);
    if (this.peek() !== "?") return c;
    this.at++;
    const a = this.ternary();
    this.expect(":");
    const b = this.ternary();
    return (x) => (asBool(c(x)) ? a(x) : b(x));
  }

  private binary(min: number): Evaluator {
    let left = this.unary();
    for (;;) {
      const op = this.peek();
      const prec = op === undefined ? undefined : BINARY_PRECEDENCE[op];
      if (op === undefined || prec === undefined || prec < min) return left;
      this.at++;
      // ** is right-associative; every other binary operator is left-associative.
      left = binary(op, left, this.binary(op === "**" ? prec : prec + 1));
    }
  }

  private unary(): Evaluator {
    const t = this.peek();
    if (t === "-" || t === "+" || t === "!" || t === "~") {
      this.at++;
      return unaryOp(t, this.unary());
    }
    return this.primary();
  }

  private primary(): Evaluator {
    const t = this.tokens[this.at++];
    if (t === undefined) throw this.error("unexpected end");
    if (t === "(") {
      const e = this.ternary();
      this.expect(")");
      return e;
    }
    if (/^[\d.]/.test(t)) {
      const v = Number(t);
      return () => v;
    }
    const slot = /^x(\d+)$/.exec(t);
    if (slot !== null) {
      const i = Number(slot[1]);
      return (x) => x[i];
    }
    if (t === "Infinity" || t === "NaN") {
      const v = Number(t);
      return () => v;
    }
    if (t === "Math") {
      this.expect(".");
      const name = this.tokens[this.at++] ?? "";
      const member: unknown = Object.prototype.hasOwnProperty.call(Math, name) ? (Math as unknown as Record<string, unknown>)[name] : undefined;
      if (typeof member === "number") return () => member;
      if (typeof member !== "function") throw this.error(`unknown Math.${name}`);
      this.expect("(");
      const args: Evaluator[] = [];
      while (this.peek() !== ")") {
        args.push(this.ternary());
        if (this.peek() === ",") this.at++;
        else if (this.peek() !== ")") throw this.error(`expected "," or ")"`);
      }
      this.at++;
      return call(member as (...a: number[]) => number, args);
    }
    throw this.error(`unknown name "${t}"`);
  }
}

const compiled = new Map<string, Evaluator>();

/** `expr` (in x0, x1, ...) as a closure over the operands' values; cached per expression. */
export function compileExpr(expr: string): Evaluator {
  let e = compiled.get(expr);
  if (e === undefined) {
    e = new Parser(expr).parse();
    compiled.set(expr, e);
  }
  return e;
}

/**
 * The generated elementwise driver and row loop in one plain loop: the same walk over rows of
 * `shape`'s last dimension, operand i read from `datas[i]` at `offsets[i]` with `strides[i]`.
 */
export function interpretedMap(ev: Evaluator, datas: TypedArray[], offsets: number[], strides: number[][], out: TypedArray, shape: number[]): void {
  const n = datas.length, nd = shape.length, last = nd - 1, L = shape[last];
  const env = new Array<number>(n).fill(0);
  const p = offsets.slice();
  const s = strides.map((st) => st[last]);
  const idx = new Int32Array(nd);
  const outer = out.length / L;
  for (let o = 0, po = 0; o < outer; o++) {
    for (let j = 0; j < L; j++) {
      for (let i = 0; i < n; i++) env[i] = datas[i][p[i] + j * s[i]];
      out[po++] = ev(env);
    }
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      for (let i = 0; i < n; i++) p[i] += strides[i][d];
      if (idx[d] < shape[d]) break;
      for (let i = 0; i < n; i++) p[i] -= strides[i][d] * shape[d];
      idx[d] = 0;
    }
  }
}

const FOLD_STEP: Record<"sum" | "prod" | "iprod" | "uprod" | "max" | "min", (acc: number, x: number) => number> = {
  sum: (acc, x) => acc + x,
  prod: (acc, x) => acc * x,
  iprod: (acc, x) => Math.imul(acc, x),
  uprod: (acc, x) => Math.imul(acc, x) >>> 0,
  max: (acc, x) => (x > acc || x !== x ? x : acc),
  min: (acc, x) => (x < acc || x !== x ? x : acc),
};

/** reduce.ts's generated fold as a plain loop (same walk, same order of accumulation). */
export function interpretedFold(kind: keyof typeof FOLD_STEP): (data: TypedArray, off: number, n: number[], si: number[], so: number[], out: TypedArray) => void {
  const step = FOLD_STEP[kind];
  return (data, off, n, si, so, out) => {
    const nd = n.length, last = nd - 1;
    const L = n[last], s = si[last], t = so[last];
    let outer = 1;
    for (let d = 0; d < last; d++) outer *= n[d];
    const idx = new Int32Array(nd);
    let pi = off, po = 0;
    for (let o = 0; o < outer; o++) {
      if (t === 0) {
        let acc = out[po];
        for (let j = 0, p = pi; j < L; j++, p += s) acc = step(acc, data[p]);
        out[po] = acc;
      } else {
        for (let j = 0, p = pi, q = po; j < L; j++, p += s, q += t) out[q] = step(out[q], data[p]);
      }
      for (let d = last - 1; d >= 0; d--) {
        idx[d]++; pi += si[d]; po += so[d];
        if (idx[d] < n[d]) break;
        pi -= si[d] * n[d]; po -= so[d] * n[d]; idx[d] = 0;
      }
    }
  };
}

/** reduce.ts's generated argmax/argmin as a plain loop: the first NaN wins, else the first extreme. */
export function interpretedArg(kind: "argmax" | "argmin"): (data: TypedArray, off: number, outShape: number[], outStr: number[], len: number, step: number, out: TypedArray) => void {
  const better = kind === "argmax" ? (x: number, acc: number) => x > acc : (x: number, acc: number) => x < acc;
  return (data, off, outShape, outStr, len, step, out) => {
    const no = outShape.length, n = out.length;
    const oidx = new Int32Array(no);
    let base = off;
    for (let o = 0; o < n; o++) {
      let acc = 0, best = 0;
      for (let j = 0, p = base; j < len; j++, p += step) {
        const x = data[p];
        if (x !== x) { best = j; break; }
        if (j === 0 || better(x, acc)) { acc = x; best = j; }
      }
      out[o] = best;
      for (let d = no - 1; d >= 0; d--) {
        oidx[d]++; base += outStr[d];
        if (oidx[d] < outShape[d]) break;
        base -= outStr[d] * outShape[d]; oidx[d] = 0;
      }
    }
  };
}
