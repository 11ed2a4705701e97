import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { ConcretizationError, DTypeError, JacobiError, TraceTable, grad, jvp, np, traceTable, type Tensor } from "../../src/index.js";
import { traceDepth } from "../../src/core/trace.js";

// The seed chapter's example: f(x1, x2) = ln(x1) + x1*x2 - sin(x2) at (2, 5).
const f = (x1: any, x2: any) => np.subtract(np.add(np.log(x1), np.multiply(x1, x2)), np.sin(x2));
const col = (t: TraceTable, k: "variable" | "expression" | "primitive" | "value" | "tangent" | "adjoint") => t.rows.map((r) => r[k]);
const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test("forward mode wrt x1: the chapter's rows, at full precision", () => {
  const t = traceTable(f, [2, 5], { mode: "forward", wrt: 0 });
  assert.instance(t, TraceTable);
  assert.is(t.mode, "forward");
  assert.equal(col(t, "variable"), ["v-1", "v0", "v1", "v2", "v3", "v4", "v5", "y"]);
  assert.equal(col(t, "expression"), ["x1", "x2", "ln v-1", "v-1 * v0", "sin v0", "v1 + v2", "v4 - v3", "v5"]);
  assert.equal(col(t, "value"), [2, 5, Math.log(2), 10, Math.sin(5), Math.log(2) + 10, 11.652071455223084, 11.652071455223084]);
  assert.equal(col(t, "tangent"), [1, 0, 0.5, 5, 0, 5.5, 5.5, 5.5]);
  assert.equal(col(t, "primitive"), [null, null, "log", "mul", "sin", "add", "sub", null]);
  assert.equal(t.rows.map((r) => r.kind), ["input", "input", "intermediate", "intermediate", "intermediate", "intermediate", "intermediate", "output"]);
  assert.equal(t.rows[2].shape, []);
  assert.is(t.rows[2].dtype, "float64");
});

test("forward mode defaults to wrt = 0; wrt = 1 seeds x2", () => {
  assert.equal(col(traceTable(f, [2, 5]), "tangent"), [1, 0, 0.5, 5, 0, 5.5, 5.5, 5.5]);
  const t = traceTable(f, [2, 5], { mode: "forward", wrt: 1 });
  assert.equal(col(t, "tangent"), [0, 1, 0, 2, Math.cos(5), 2, 2 - Math.cos(5), 2 - Math.cos(5)]);
  assert.is(t.rows[6].tangent, 1.7163378145367738);
  assert.match(t.toString(), "tangent dv/dx2");
  // Negative wrt counts from the end, as argnums does.
  assert.equal(col(traceTable(f, [2, 5], { wrt: -1 }), "tangent"), col(t, "tangent"));
});

test("reverse mode: adjoints from y = v5 back to the inputs", () => {
  const t = traceTable(f, [2, 5], { mode: "reverse" });
  assert.is(t.mode, "reverse");
  assert.equal(col(t, "variable"), ["y", "v5", "v4", "v3", "v2", "v1", "v0", "v-1"]);
  assert.equal(col(t, "expression"), ["v5", "v4 - v3", "v1 + v2", "sin v0", "v-1 * v0", "ln v-1", "x2", "x1"]);
  assert.equal(col(t, "adjoint"), [1, 1, 1, -1, 1, 1, 1.7163378145367738, 5.5]);
  assert.equal(col(t, "value"), [11.652071455223084, 11.652071455223084, Math.log(2) + 10, Math.sin(5), 10, Math.log(2), 5, 2]);
  assert.is(t.rows[0].tangent, undefined);
  assert.is(t.rows[0].kind, "output");
});

test("toString is the chapter's table, aligned", () => {
  const fwd = traceTable(f, [2, 5], { mode: "forward" }).toString();
  assert.is(
    fwd,
    [
      "Forward mode: primal trace and tangents d/dx1 at x1 = 2, x2 = 5",
      "variable | expression |  value | tangent dv/dx1",
      "---------+------------+--------+---------------",
      "v-1      | x1         |      2 |              1",
      "v0       | x2         |      5 |              0",
      "v1       | ln v-1     |  0.693 |            0.5",
      "v2       | v-1 * v0   |     10 |              5",
      "v3       | sin v0     | -0.959 |              0",
      "v4       | v1 + v2    | 10.693 |            5.5",
      "v5       | v4 - v3    | 11.652 |            5.5",
      "y        | v5         | 11.652 |            5.5",
    ].join("\n"),
  );
  const rev = traceTable(f, [2, 5], { mode: "reverse" }).toString().split("\n");
  assert.is(rev[0], "Reverse mode: primal trace and adjoints dy/dv at x1 = 2, x2 = 5");
  assert.is(rev[1], "variable | expression |  value | adjoint dy/dv");
  assert.is(rev[3], "y        | v5         | 11.652 |             1");
  assert.is(rev[6], "v3       | sin v0     | -0.959 |            -1");
  assert.is(rev[9], "v0       | x2         |      5 |         1.716");
  assert.is(rev[10], "v-1      | x1         |      2 |           5.5");
  assert.is(rev.length, 11);
});

test("toMarkdown: a Markdown table with expressions as code", () => {
  const md = traceTable(f, [2, 5], { mode: "reverse" }).toMarkdown().split("\n");
  assert.is(md[0], "**Reverse mode: primal trace and adjoints dy/dv at x1 = 2, x2 = 5**");
  assert.is(md[2], "| variable | expression | value | adjoint dy/dv |");
  assert.is(md[3], "|:--|:--|--:|--:|");
  assert.is(md[4], "| y | `v5` | 11.652 | 1 |");
  assert.is(md[5], "| v5 | `v4 - v3` | 11.652 | 1 |");
  assert.is(md[10], "| v0 | `x2` | 5 | 1.716 |");
  assert.is(md[11], "| v-1 | `x1` | 2 | 5.5 |");
  const fmd = traceTable(f, [2, 5]).toMarkdown();
  assert.ok(fmd.includes("| variable | expression | value | tangent dv/dx1 |"));
  assert.ok(fmd.includes("| v1 | `ln v-1` | 0.693 | 0.5 |"));
});

test("vector input: shapes, summarised values, Jacobian tangents", () => {
  const g = (x: Tensor) => np.sum(np.multiply(np.sin(x), x));
  const x = [1, 2, 3];
  const t = traceTable(g, [np.array(x)]);
  assert.equal(col(t, "variable"), ["v0", "v1", "v2", "v3", "y"]);
  assert.equal(col(t, "expression"), ["x1", "sin v0", "v1 * v0", "sum v2", "v3"]);
  assert.equal(t.rows[1].shape, [3]);
  assert.equal(t.rows[1].value, x.map(Math.sin));
  // d sin(x) / dx is diagonal: the tangent column of a vector x_wrt is a Jacobian, shape v ++ x.
  assert.equal(t.rows[1].tangent, x.map((xi, i) => x.map((_, j) => (i === j ? Math.cos(xi) : 0))));
  const gx = (t.rows[4].tangent as number[]);
  x.forEach((xi, i) => close(gx[i], Math.sin(xi) + xi * Math.cos(xi)));
  const text = t.toString().split("\n");
  assert.is(text[0], "Forward mode: primal trace and tangents d/dx1 at x1 = f64[3] [1, 2, 3]");
  assert.ok(text[4].startsWith("v1       | sin v0     | f64[3] [0.841, 0.909, 0.141] | f64[3,3] [0.54, 0, 0, …, -0.99]"), text[4]);
  assert.ok(text[7].startsWith("y        | v3         | 3.083 "), text[7]);
});

test("vector input, reverse: adjoints have the variables' shapes", () => {
  const g = (x: Tensor) => np.sum(np.multiply(np.sin(x), x));
  const x = [0.5, -1, 2];
  const t = traceTable(g, [np.array(x)], { mode: "reverse" });
  const byVar = new Map(t.rows.map((r) => [r.variable, r]));
  assert.equal(byVar.get("v3")?.adjoint, 1);
  assert.equal(byVar.get("v2")?.adjoint, [1, 1, 1]);
  assert.equal(byVar.get("v1")?.adjoint, x); // d y / d sin(x) = x
  const g0 = byVar.get("v0")?.adjoint as number[];
  const want = (grad(g)(np.array(x)) as Tensor).tolist() as number[];
  g0.forEach((v, i) => close(v, want[i]));
  assert.match(t.toString(), "v1       | sin v0     | f64[3] [0.479, -0.841, 0.909] | f64[3] [0.5, -1, 2]");
});

test("non-scalar output in reverse mode: adjoints are Jacobians y ++ v", () => {
  const h = (x: Tensor) => np.multiply(x, x);
  const t = traceTable(h, [np.array([1, 2])], { mode: "reverse" });
  assert.equal(col(t, "variable"), ["y", "v1", "v0"]);
  assert.equal(t.rows[0].adjoint, [[1, 0], [0, 1]]);
  assert.equal(t.rows[2].adjoint, [[2, 0], [0, 4]]);
  assert.match(t.toString(), "f64[2,2] [[2, 0], [0, 4]]");
});

test("several outputs: `output` picks y in reverse mode, forward shows them all", () => {
  const two = (x: Tensor) => [np.sin(x), np.multiply(x, 3)];
  const r = traceTable(two, [1], { mode: "reverse", output: 1 });
  const byVar = new Map(r.rows.map((row) => [row.variable, row]));
  assert.equal([byVar.get("y1")?.adjoint, byVar.get("y2")?.adjoint, byVar.get("v0")?.adjoint], [0, 1, 3]);
  assert.equal(byVar.get("y2")?.expression, "v2");
  assert.equal(byVar.get("v2")?.expression, "v0 * 3");
  const fw = traceTable(two, [1]);
  assert.equal(col(fw, "variable"), ["v0", "v1", "v2", "y1", "y2"]);
  assert.equal(col(fw, "tangent"), [1, Math.cos(1), 3, Math.cos(1), 3]);
});

test("many steps: a 500-step loop matches jvp and grad, and walks without recursion", () => {
  const steps = 500;
  const loop = (x: Tensor) => {
    let y = x;
    for (let i = 0; i < steps; i++) y = np.multiply(np.sin(y), 1.5);
    return y;
  };
  const fwd = traceTable(loop, [0.3]);
  assert.is(fwd.rows.length, 1 + 2 * steps + 1);
  assert.is(fwd.rows[2 * steps].variable, `v${2 * steps}`);
  assert.is(fwd.rows[2 * steps].expression, `v${2 * steps - 1} * 1.5`);
  const [y, ty] = jvp(loop, [0.3], [1]);
  close(fwd.rows[2 * steps + 1].value as number, y.item());
  close(fwd.rows[2 * steps + 1].tangent as number, ty.item());
  const rev = traceTable(loop, [0.3], { mode: "reverse" });
  assert.is(rev.rows[2 * steps + 1].variable, "v0");
  close(rev.rows[2 * steps + 1].adjoint as number, (grad(loop)(0.3) as Tensor).item());
});

test("levels order (the chapter's) versus program order", () => {
  const t = traceTable(f, [2, 5], { order: "program" });
  assert.equal(col(t, "expression"), ["x1", "x2", "ln v-1", "v-1 * v0", "v1 + v2", "sin v0", "v3 - v4", "v5"]);
  assert.equal(col(t, "tangent"), [1, 0, 0.5, 5, 5.5, 0, 5.5, 5.5]);
});

test("closed-over arrays are constant rows; their adjoint is the gradient with respect to them", () => {
  const W = np.array([[1, 2], [3, 4]]);
  const g = (x: Tensor) => np.sum(np.tanh(np.matmul(W, x)));
  const x = np.array([0.1, -0.2]);
  const r = traceTable(g, [x], { mode: "reverse" });
  const c0 = r.rows.find((row) => row.variable === "c0");
  assert.is(c0?.kind, "const");
  assert.equal(c0?.value, [[1, 2], [3, 4]]);
  const want = (grad((w: Tensor) => np.sum(np.tanh(np.matmul(w, x))))(W) as Tensor).tolist() as number[][];
  (c0?.adjoint as number[][]).flat().forEach((v, i) => close(v, want.flat()[i]));
  assert.ok(r.rows.some((row) => row.expression === "c0 @ v1"), "matmul is written with @");
  // Constants do not depend on x: their forward tangent is zero.
  const fw = traceTable(g, [x]);
  assert.equal(fw.rows.find((row) => row.variable === "c0")?.tangent, [[[0, 0], [0, 0]], [[0, 0], [0, 0]]]);
});

test("integer inputs have no tangent or adjoint", () => {
  const g = (x: Tensor, k: Tensor) => np.multiply(x, np.astype(k, "float64"));
  const t = traceTable(g, [1.5, np.array(3, "int32")]);
  assert.equal(col(t, "expression"), ["x1", "x2", "float64(v0)", "v-1 * v1", "v2"]);
  assert.equal(col(t, "tangent"), [1, null, 0, 3, 3]);
  assert.match(t.toString(), "v0       | x2          |     3 |              —");
  const r = traceTable(g, [1.5, np.array(3, "int32")], { mode: "reverse" });
  assert.equal(col(r, "adjoint"), [1, 1, 1.5, null, 3]);
});

test("a function of no arguments: reverse mode needs no wrt, the title no point", () => {
  const t = traceTable(() => np.multiply(np.array(2), 3), [], { mode: "reverse" });
  assert.is(t.toString().split("\n")[0], "Reverse mode: primal trace and adjoints dy/dv");
  assert.equal(col(t, "value").at(0), 6);
  assert.equal(col(t, "adjoint").at(0), 1);
});

test("errors: bad wrt, integer wrt, bad mode, args not an array; user errors pass through", () => {
  assert.throws(() => traceTable(f, [2, 5], { wrt: 2 }), (e: unknown) => e instanceof JacobiError && /wrt 2 is out of range for a function with 2 inputs/.test((e as Error).message));
  assert.throws(() => traceTable((k: Tensor) => np.multiply(k, 2), [np.array(3, "int32")]), (e: unknown) => e instanceof DTypeError && /x1 has dtype int32/.test((e as Error).message));
  assert.throws(() => traceTable(f, [2, 5], { mode: "sideways" as never }), (e: unknown) => e instanceof JacobiError && /mode must be "forward" or "reverse"/.test((e as Error).message));
  assert.throws(() => traceTable(f, 2 as never), (e: unknown) => e instanceof JacobiError && /args must be an array/.test((e as Error).message));
  assert.throws(() => traceTable(f, [2, 5], { mode: "reverse", output: 1 }), /output 1 is out of range for a function with 1 output$/);
  assert.throws(() => traceTable((x: Tensor) => np.greater(x, 0), [1], { mode: "reverse" }), (e: unknown) => e instanceof DTypeError && /floating-point output, but output 0 has dtype bool/.test((e as Error).message));
  // Value-dependent JS branches cannot be staged: the error says what to use instead.
  assert.throws(() => traceTable((x: Tensor) => (x.item() > 0 ? np.sin(x) : x), [1]), (e: unknown) => e instanceof ConcretizationError && /np\.where/.test((e as Error).message));
  const boom = new Error("boom");
  assert.throws(
    () => traceTable(() => {
      throw boom;
    }, [1]),
    (e: unknown) => e === boom,
  );
  assert.is(traceDepth(), 0);
});

test.run();
