// The formulas a reader types, e.g. `ln(x1) + x1*x2 - sin(x2)`, parsed into a function of two
// Tensors built from jacobi's np operations. A parser rather than `new Function`: the page runs
// under a Content-Security-Policy without 'unsafe-eval', and a parser gives readable errors.
import { np, type Tensor } from "../../src/index.js";

export type Formula = (x1: Tensor, x2: Tensor) => Tensor;
type Node = (x1: Tensor, x2: Tensor) => Tensor | number;

const FUNCTIONS: Record<string, (x: Tensor | number) => Tensor> = {
  ln: np.log, log: np.log, exp: np.exp, sqrt: np.sqrt, abs: np.abs,
  sin: np.sin, cos: np.cos, tan: np.tan, sinh: np.sinh, cosh: np.cosh, tanh: np.tanh,
  asin: np.arcsin, acos: np.arccos, atan: np.arctan,
};
const CONSTANTS: Record<string, number> = { pi: Math.PI, e: Math.E };

/** A formula that cannot be parsed; `at` is the character position the problem was found at. */
export class FormulaError extends Error {
  constructor(message: string, readonly at: number) {
    super(message);
    this.name = "FormulaError";
  }
}

const TOKEN = /\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+)|([A-Za-z_]\w*)|(\*\*|[-+*/^()]))/y;

export function parseFormula(text: string): Formula {
  const tokens: { text: string; at: number }[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const start = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (m === null) {
      if (text.slice(start).trim() === "") break;
      const at = start + (text.slice(start).length - text.slice(start).trimStart().length);
      throw new FormulaError(`unexpected "${text[at]}" at position ${at + 1}`, at);
    }
    tokens.push({ text: m[1] ?? m[2] ?? m[3], at: TOKEN.lastIndex - (m[1] ?? m[2] ?? m[3]).length });
  }
  let i = 0;
  const peek = (): string | undefined => tokens[i]?.text;
  const where = (): number => tokens[i]?.at ?? text.length;
  const expect = (t: string): void => {
    if (peek() !== t) throw new FormulaError(`expected "${t}" at position ${where() + 1}`, where());
    i++;
  };
  const binary = (op: string, a: Node, b: Node): Node => {
    const f = { "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "^": np.power, "**": np.power }[op] as (a: Tensor | number, b: Tensor | number) => Tensor;
    return (x1, x2) => f(a(x1, x2), b(x1, x2));
  };

  // sum := product (("+" | "-") product)*; product := unary (("*" | "/") unary)*;
  // unary := ("-" | "+") unary | power; power := atom (("^" | "**") unary)?
  // so that -x1^2 is -(x1^2) and x1^-2 is x1^(-2), as in mathematics.
  function sum(): Node {
    let left = product();
    while (peek() === "+" || peek() === "-") left = binary(tokens[i++].text, left, product());
    return left;
  }
  function product(): Node {
    let left = unary();
    while (peek() === "*" || peek() === "/") left = binary(tokens[i++].text, left, unary());
    return left;
  }
  function unary(): Node {
    if (peek() === "-") {
      i++;
      const a = unary();
      return (x1, x2) => np.negative(a(x1, x2));
    }
    if (peek() === "+") {
      i++;
      return unary();
    }
    return power();
  }
  function power(): Node {
    const base = atom();
    if (peek() !== "^" && peek() !== "**") return base;
    return binary(tokens[i++].text, base, unary());
  }
  function atom(): Node {
    const at = where();
    const t = tokens[i++]?.text;
    if (t === undefined) throw new FormulaError("the formula ends too early", at);
    if (t === "(") {
      const e = sum();
      expect(")");
      return e;
    }
    if (/^[\d.]/.test(t)) {
      const v = Number(t);
      return () => v;
    }
    if (t === "x1") return (x1) => x1;
    if (t === "x2") return (_x1, x2) => x2;
    if (t in CONSTANTS) {
      const v = CONSTANTS[t];
      return () => v;
    }
    const fn = FUNCTIONS[t];
    if (fn === undefined) throw new FormulaError(`unknown name "${t}" at position ${at + 1}: use x1, x2, pi, e or ${Object.keys(FUNCTIONS).join(", ")}`, at);
    expect("(");
    const arg = sum();
    expect(")");
    return (x1, x2) => fn(arg(x1, x2));
  }

  const body = sum();
  if (i < tokens.length) throw new FormulaError(`unexpected "${tokens[i].text}" at position ${tokens[i].at + 1}`, tokens[i].at);
  return (x1, x2) => {
    const y = body(x1, x2);
    // A constant formula still gives a Tensor (with a zero derivative).
    return typeof y === "number" ? np.add(np.multiply(x1, 0), y) : y;
  };
}
