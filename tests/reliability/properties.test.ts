// Property tests (fast-check): random compositions of primitives on random broadcast-compatible
// shapes, checked against finite differences (checkGrads, float64, first and second order), the
// adjoint identity <u, J v> = <Jᵀ u, v>, and forward-over-forward = reverse-over-reverse Hessians.
//
// Seeded and replayable: every property runs from SEED (override with JACOBI_FC_SEED=<n>). On a
// failure fast-check prints the seed and a `path`; rerun with JACOBI_FC_SEED=<seed> and
// JACOBI_FC_PATH=<path> to replay exactly that (shrunk) case.
import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { type Tensor, checkGrads, hessian, jacfwd, jacrev, jit, jvp, nn, np, tree, vjp } from "../../src/index.js";
import { seeded } from "../../src/core/random.js";
import { guardTraceState } from "../guard.js";

guardTraceState(test);

const SEED = Number(process.env.JACOBI_FC_SEED ?? 20_240_611);
const PATH = process.env.JACOBI_FC_PATH;
const params = (numRuns: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns, ...(PATH ? { path: PATH, endOnFailure: true } : {}) });

// ---------- random programs ----------

// Smooth everywhere on the reals (no kinks, poles or branch cuts), so finite differences apply
// at any point the generator picks.
const UNARY = {
  sin: (a: Tensor) => np.sin(a),
  cos: (a: Tensor) => np.cos(a),
  tanh: (a: Tensor) => np.tanh(a),
  negative: (a: Tensor) => np.negative(a),
  square: (a: Tensor) => np.square(a),
  expTanh: (a: Tensor) => np.exp(np.tanh(a)),
  logOnePlusSquare: (a: Tensor) => np.log(np.add(1, np.square(a))),
  sqrtOnePlusSquare: (a: Tensor) => np.sqrt(np.add(1, np.square(a))),
  arctan: (a: Tensor) => np.arctan(a),
  sigmoid: (a: Tensor) => nn.sigmoid(a),
  softplus: (a: Tensor) => nn.softplus(a),
  powerThreeHalvesOfCosh: (a: Tensor) => np.power(np.cosh(a), 1.5),
};
const BINARY = {
  add: (a: Tensor, b: Tensor) => np.add(a, b),
  subtract: (a: Tensor, b: Tensor) => np.subtract(a, b),
  multiply: (a: Tensor, b: Tensor) => np.multiply(a, b),
  divideByOnePlusSquare: (a: Tensor, b: Tensor) => np.divide(a, np.add(1, np.square(b))),
  weighted: (a: Tensor, b: Tensor) => np.add(np.multiply(a, 0.75), np.multiply(b, -1.25)),
};
type UnaryName = keyof typeof UNARY;
type BinaryName = keyof typeof BINARY;

type Expr =
  | { k: "in"; i: number }
  | { k: "unary"; op: UnaryName; a: Expr }
  | { k: "binary"; op: BinaryName; a: Expr; b: Expr }
  | { k: "reduce"; op: "sum" | "mean"; axis: number; a: Expr };

const N_INPUTS = 3;
const exprArb: fc.Arbitrary<Expr> = fc.letrec<{ expr: Expr; leaf: Expr; unary: Expr; binary: Expr; reduce: Expr }>((tie) => ({
  expr: fc.oneof({ maxDepth: 4, depthIdentifier: "expr" }, tie("leaf"), tie("unary"), tie("binary"), tie("binary"), tie("reduce")),
  leaf: fc.record({ k: fc.constant("in" as const), i: fc.nat(N_INPUTS - 1) }),
  unary: fc.record({ k: fc.constant("unary" as const), op: fc.constantFrom(...(Object.keys(UNARY) as UnaryName[])), a: tie("expr") }),
  binary: fc.record({ k: fc.constant("binary" as const), op: fc.constantFrom(...(Object.keys(BINARY) as BinaryName[])), a: tie("expr"), b: tie("expr") }),
  reduce: fc.record({ k: fc.constant("reduce" as const), op: fc.constantFrom("sum" as const, "mean" as const), axis: fc.nat(3), a: tie("expr") }),
})).expr;

/** Evaluates `e` on the inputs; reductions keep their axis (size 1) so every value stays broadcastable. */
function evaluate(e: Expr, xs: Tensor[]): Tensor {
  switch (e.k) {
    case "in":
      return xs[e.i];
    case "unary":
      return UNARY[e.op](evaluate(e.a, xs));
    case "binary":
      return BINARY[e.op](evaluate(e.a, xs), evaluate(e.b, xs));
    case "reduce": {
      const a = evaluate(e.a, xs);
      if (a.ndim === 0) return a;
      return np[e.op](a, e.axis % a.ndim, { keepdims: true });
    }
  }
}

/**
 * A base shape (rank 0-3, sizes 1-3) and, per input, a shape broadcast-compatible with it: some
 * leading axes dropped and some sizes replaced by 1.
 */
const shapesArb: fc.Arbitrary<number[][]> = fc
  .tuple(
    fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }),
    fc.array(fc.tuple(fc.nat(3), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 })), { minLength: N_INPUTS, maxLength: N_INPUTS }),
  )
  .map(([base, specs]) => specs.map(([drop, ones]) => base.slice(Math.min(drop, base.length)).map((d, k) => (ones[k] ? 1 : d))));

/** Values in [lo, hi) from a seed the property draws, so every case is replayable. */
function uniforms(seed: number, n: number, lo: number, hi: number): Float64Array {
  const rand = seeded(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rand();
  return out;
}
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const tensorOf = (data: Float64Array, shape: number[]): Tensor => np.reshape(np.array(data), shape);
const randomInputs = (shapes: number[][], seed: number): Tensor[] => shapes.map((s, i) => tensorOf(uniforms(seed + 101 * i, size(s), -1, 1), s));
const describe = (e: Expr): string => JSON.stringify(e);

// ---------- properties ----------

test("random compositions on broadcast-compatible shapes pass checkGrads in float64 (order 2, forward and reverse)", () => {
  fc.assert(
    fc.property(exprArb, shapesArb, fc.nat(), (expr, shapes, seed) => {
      const f = (...xs: Tensor[]) => evaluate(expr, xs);
      checkGrads(f, randomInputs(shapes, seed), { order: 2, modes: ["fwd", "rev"] });
    }),
    params(40),
  );
});

test("the adjoint identity <u, J v> = <Jᵀ u, v> holds to rounding for random programs, points and directions", () => {
  fc.assert(
    fc.property(exprArb, shapesArb, fc.nat(), (expr, shapes, seed) => {
      const f = (...xs: Tensor[]) => evaluate(expr, xs);
      const xs = randomInputs(shapes, seed);
      const vs = shapes.map((s, i) => tensorOf(uniforms(seed + 7 + 31 * i, size(s), -1, 1), s));
      const [y, t] = jvp(f, xs, vs);
      const u = tensorOf(uniforms(seed + 3, y.size, -1, 1), y.shape);
      const [, back] = vjp(f, xs);
      const cts: Tensor[] = back(u);
      const lhs = np.sum(np.multiply(u, t)).item();
      let rhs = 0;
      cts.forEach((c, i) => (rhs += np.sum(np.multiply(c, vs[i])).item()));
      // Both sides are exact linear maps of the same derivative: they differ only by rounding.
      const scale = np.sum(np.abs(np.multiply(u, t))).item() + cts.reduce((s, c, i) => s + np.sum(np.abs(np.multiply(c, vs[i]))).item(), 0);
      if (!(Math.abs(lhs - rhs) <= 1e-12 * Math.max(1, scale))) {
        throw new Error(`<u, Jv> = ${lhs} but <Jᵀu, v> = ${rhs} for ${describe(expr)} on shapes ${JSON.stringify(shapes)}`);
      }
      return true;
    }),
    params(80),
  );
});

test("forward-over-forward, reverse-over-reverse and hessian agree on second derivatives", () => {
  fc.assert(
    fc.property(exprArb, shapesArb, fc.nat(), (expr, shapes, seed) => {
      const xs = randomInputs(shapes, seed);
      // A scalar function of the first input, the others fixed.
      const f = (x: Tensor) => np.sum(evaluate(expr, [x, xs[1], xs[2]]));
      const ff = flatNums(jacfwd(jacfwd(f))(xs[0]).tolist());
      const rr = flatNums(jacrev(jacrev(f))(xs[0]).tolist());
      const fr = flatNums(hessian(f)(xs[0]).tolist());
      ff.forEach((a, k) => {
        const tol = 1e-10 * Math.max(1, Math.abs(a));
        if (!(Math.abs(a - rr[k]) <= tol && Math.abs(a - fr[k]) <= tol)) {
          throw new Error(`entry ${k}: fwd-over-fwd ${a}, rev-over-rev ${rr[k]}, hessian ${fr[k]} for ${describe(expr)} on ${JSON.stringify(shapes[0])}`);
        }
      });
      return true;
    }),
    params(40),
  );
});

function flatNums(x: unknown): number[] {
  return Array.isArray(x) ? x.flatMap(flatNums) : [x as number];
}

test("the generators cover what they claim: broadcasting shapes, every op, depth > 1", () => {
  const samples = fc.sample(fc.tuple(exprArb, shapesArb), { seed: SEED, numRuns: 300 });
  const ops = new Set<string>();
  let deep = 0, broadcasting = 0;
  const walk = (e: Expr, d: number): number => {
    if (e.k !== "in") ops.add(e.op);
    if (e.k === "in") return d;
    if (e.k === "binary") return Math.max(walk(e.a, d + 1), walk(e.b, d + 1));
    return walk(e.a, d + 1);
  };
  for (const [e, shapes] of samples) {
    if (walk(e, 0) >= 2) deep++;
    if (new Set(shapes.map((s) => JSON.stringify(s))).size > 1) broadcasting++;
  }
  for (const op of [...Object.keys(UNARY), ...Object.keys(BINARY), "sum", "mean"]) assert.ok(ops.has(op), `never generated ${op}`);
  assert.ok(deep > 100, `only ${deep} of 300 programs have depth >= 2`);
  assert.ok(broadcasting > 150, `only ${broadcasting} of 300 cases mix shapes`);
});

// ---------- integer and bool programs: exact wrapping, jit = eager in values and dtypes ----------

type IExpr =
  | { k: "in"; i: number }
  | { k: "js"; v: number }
  | { k: "un"; op: "square" | "negative" | "abs" | "cube"; a: IExpr }
  | { k: "bin"; op: "add" | "multiply" | "subtract" | "maximum"; a: IExpr; b: IExpr };
const int32Arb = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const iexprArb: fc.Arbitrary<IExpr> = fc.letrec<{ e: IExpr; leaf: IExpr; js: IExpr; un: IExpr; bin: IExpr }>((tie) => ({
  e: fc.oneof({ maxDepth: 4, depthIdentifier: "ie" }, tie("leaf"), tie("js"), tie("un"), tie("bin"), tie("bin")),
  leaf: fc.record({ k: fc.constant("in" as const), i: fc.nat(1) }),
  js: fc.record({ k: fc.constant("js" as const), v: fc.oneof(fc.integer({ min: -70000, max: 70000 }), int32Arb) }),
  un: fc.record({ k: fc.constant("un" as const), op: fc.constantFrom("square" as const, "negative" as const, "abs" as const, "cube" as const), a: tie("e") }),
  bin: fc.record({ k: fc.constant("bin" as const), op: fc.constantFrom("add" as const, "multiply" as const, "subtract" as const, "maximum" as const), a: tie("e"), b: tie("e") }),
})).e;
// A JS integer is a weak int next to an int32 operand (as in JAX); np.square(3) of JS numbers alone
// is a weak float64 here (JAX: weak int32), so JS integers appear only as direct operands of int32 values.
const intTyped = (e: IExpr): boolean =>
  e.k === "in" ? true
  : e.k === "js" ? false
  : e.k === "un" ? intTyped(e.a)
  : (intTyped(e.a) && (intTyped(e.b) || e.b.k === "js")) || (e.a.k === "js" && intTyped(e.b));

/** Evaluates with np; JS integers stay JS numbers (weak), as a user writes them. */
function ievaluate(e: IExpr, xs: Tensor[], js: (v: number) => Tensor | number): Tensor | number {
  switch (e.k) {
    case "in": return xs[e.i];
    case "js": return js(e.v);
    case "un": {
      const a = ievaluate(e.a, xs, js);
      return e.op === "cube" ? np.power(a, 3) : np[e.op](a);
    }
    case "bin": return np[e.op](ievaluate(e.a, xs, js), ievaluate(e.b, xs, js));
  }
}
/** NumPy's int32 semantics, elementwise in JS: every result wraps modulo 2^32. */
function ireference(e: IExpr, xs: number[]): number {
  const r = (x: IExpr): number => ireference(x, xs);
  switch (e.k) {
    case "in": return xs[e.i];
    case "js": return e.v | 0;
    case "un": {
      const a = r(e.a);
      return e.op === "square" ? Math.imul(a, a) : e.op === "cube" ? Math.imul(Math.imul(a, a), a) : e.op === "negative" ? -a | 0 : Math.abs(a) | 0;
    }
    case "bin": {
      const a = r(e.a), b = r(e.b);
      return e.op === "add" ? (a + b) | 0 : e.op === "subtract" ? (a - b) | 0 : e.op === "multiply" ? Math.imul(a, b) : Math.max(a, b);
    }
  }
}

test("random int32 programs wrap exactly as NumPy's int32, eagerly and under jit, with JS integers passed in or closed over", () => {
  fc.assert(
    fc.property(iexprArb.filter(intTyped), fc.array(fc.tuple(int32Arb, int32Arb), { minLength: 1, maxLength: 4 }), (expr, pairs) => {
      const xs = [np.array(pairs.map((p) => p[0]), "int32"), np.array(pairs.map((p) => p[1]), "int32")];
      const want = pairs.map((p) => ireference(expr, p));
      const eager = ievaluate(expr, xs, (v) => v) as Tensor;
      // The JS integers as jit arguments (traced) rather than constants.
      const consts: number[] = [];
      const collect = (e: IExpr): void => {
        if (e.k === "js") consts.push(e.v);
        else if (e.k === "un") collect(e.a);
        else if (e.k === "bin") (collect(e.a), collect(e.b));
      };
      collect(expr);
      const jitted = jit((a: Tensor, b: Tensor, cs: Tensor[]) => {
        let k = 0;
        return ievaluate(expr, [a, b], () => cs[k++]) as Tensor;
      })(xs[0], xs[1], consts);
      for (const [name, got] of [["eager", eager], ["jit", jitted]] as const) {
        if (got.dtype !== "int32" || JSON.stringify(got.tolist()) !== JSON.stringify(want)) {
          throw new Error(`${name}: ${got.dtype} ${JSON.stringify(got.tolist())}, NumPy int32 ${JSON.stringify(want)} for ${JSON.stringify(expr)}`);
        }
      }
      return true;
    }),
    params(150),
  );
});

test("random programs mixing bool, int32, float and JS numbers have the same dtype and values under jit as eagerly", () => {
  const leafArb = fc.constantFrom<[string, () => Tensor | number]>(
    ["bool", () => np.array([true, false, true])],
    ["int32", () => np.array([3, -2, 7], "int32")],
    ["float32", () => np.array([0.5, -1.5, 2], "float32")],
    ["float64", () => np.array([0.25, 4, -3])],
    ["jsInt", () => 3],
    ["jsFloat", () => 1.5],
  );
  const opArb = fc.constantFrom("add", "multiply", "maximum", "matmulLike", "where") as fc.Arbitrary<string>;
  const apply = (op: string, a: Tensor | number, b: Tensor | number): Tensor => {
    if (op === "matmulLike") return np.multiply(np.sum(np.multiply(a, b)), 1);
    if (op === "where") return np.where(np.greater(a, b), a, b);
    return (np as any)[op](a, b);
  };
  fc.assert(
    fc.property(leafArb, leafArb, leafArb, opArb, opArb, ([na, a], [nb, b], [nc, c], op1, op2) => {
      const f = (x: Tensor | number, y: Tensor | number, z: Tensor | number) => apply(op2, apply(op1, x, y), z);
      const eager = f(a(), b(), c());
      const jitted = jit(f)(a(), b(), c());
      if (eager.dtype !== jitted.dtype || eager.weakType !== jitted.weakType || JSON.stringify(eager.tolist()) !== JSON.stringify(jitted.tolist())) {
        throw new Error(`${op2}(${op1}(${na}, ${nb}), ${nc}): eager ${eager.dtype}${eager.weakType ? " weak" : ""} ${JSON.stringify(eager.tolist())}, jit ${jitted.dtype}${jitted.weakType ? " weak" : ""} ${JSON.stringify(jitted.tolist())}`);
      }
      return true;
    }),
    params(150),
  );
});

// ---------- random pytrees with odd keys: the jit cache never reuses another structure's trace ----------

const oddKey = fc.constantFrom("a", "b", "a, b", ": None, ", "None", "*", "[", "]", "{", "}", "\"", "", "x: *", "__proto__", "constructor");
type PT = number | null | undefined | PT[] | { [k: string]: PT };
const ptArb: fc.Arbitrary<PT> = fc.letrec<{ t: PT; leaf: PT; arr: PT; obj: PT }>((tie) => ({
  t: fc.oneof({ maxDepth: 3, depthIdentifier: "pt" }, tie("leaf"), tie("arr"), tie("obj")),
  leaf: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constant(null), fc.constant(undefined)),
  arr: fc.array(tie("t"), { maxLength: 3 }),
  obj: fc.array(fc.tuple(oddKey, tie("t")), { maxLength: 3 }).map((kvs) => {
    const o: { [k: string]: PT } = {};
    for (const [k, v] of kvs) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
    return o;
  }),
})).t;

/** A number that depends on the whole structure (keys, positions, null vs undefined) and the leaves. */
function fingerprint(t: unknown, path = ""): number {
  if (t === null) return 7 * hashString(`${path}/null`);
  if (t === undefined) return 11 * hashString(`${path}/undefined`);
  if (Array.isArray(t)) return t.reduce((s: number, c, i) => s + fingerprint(c, `${path}[${i}]`), 3);
  if (typeof t === "object" && !(t as object instanceof Object && "aval" in (t as object))) {
    return Object.keys(t as object).reduce((s, k) => s + fingerprint((t as Record<string, unknown>)[k], `${path}.${JSON.stringify(k)}`), 5);
  }
  return 0;
}
function hashString(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return (h >>> 0) % 1000;
}

test("one jit over random pytrees with odd keys (and null vs undefined) gives what the function gives eagerly", () => {
  // Shared across all cases, so that two structures that collided in the cache would meet.
  const f = (t: unknown) => {
    const leaves = tree.leaves(t) as Tensor[];
    const total = leaves.reduce<Tensor | number>((s, l, i) => np.add(s, np.multiply(l, i + 1)), 0);
    return np.add(total, fingerprint(t));
  };
  const jf = jit(f);
  fc.assert(
    fc.property(ptArb, (t) => {
      const want = (f(t) as Tensor).item();
      const got = (jf(t as never) as Tensor).item();
      if (got !== want) throw new Error(`jit ${got}, eager ${want} for ${String(tree.structure(t))}`);
      return true;
    }),
    params(300),
  );
});

test.run();
