// The web example's formula parser (examples/web/expression.ts), in Node: precedence, functions,
// constants, and errors that say where the formula went wrong.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FormulaError, parseFormula } from "../../examples/web/expression.js";
import { grad, np } from "../../src/index.js";
import { guardTraceState } from "../guard.js";
import { throwsWith } from "../helpers.js";

guardTraceState(test);

const at = (formula: string, x1: number, x2: number): number => parseFormula(formula)(np.array(x1), np.array(x2)).item();

test("formulas evaluate with the usual precedence", () => {
  assert.is(at("ln(x1) + x1*x2 - sin(x2)", 2, 5), Math.log(2) + 10 - Math.sin(5));
  assert.is(at("1 + 2 * x1 ^ 2 ^ x2", 3, 1), 1 + 2 * 9);
  assert.is(at("-x1 ** 2 + +x2 / 4", 3, 2), -9 + 0.5);
  assert.is(at("x1^-2 * -x2", 2, 8), -2);
  assert.is(at("(x1 - x2) * (x1 + x2)", 5, 3), 16);
  assert.is(at("exp(0) + sqrt(x1) + abs(-x2) + cos(0) + tan(0) + tanh(0) + sinh(0) + cosh(0) + asin(0) + acos(1) + atan(0) + log(e)", 4, 2), 1 + 2 + 2 + 1 + 1 + 1);
  assert.is(at("2 * pi + .5 + 1e1", 0, 0), 2 * Math.PI + 0.5 + 10);
  const [g1, g2] = grad(parseFormula("7"), { argnums: [0, 1] })(np.array(1), np.array(2));
  assert.equal([g1.item(), g2.item()], [0, 0]);
});

test("a formula that does not parse says what and where", () => {
  throwsWith(() => parseFormula("ln(x1 + "), FormulaError, ["ends too early"]);
  throwsWith(() => parseFormula("x1 $ 2"), FormulaError, ['unexpected "$" at position 4']);
  throwsWith(() => parseFormula("foo(x1)"), FormulaError, ['unknown name "foo" at position 1', "x1, x2, pi, e or ln"]);
  throwsWith(() => parseFormula("(x1 + x2"), FormulaError, ['expected ")" at position 9']);
  throwsWith(() => parseFormula("x1 x2"), FormulaError, ['unexpected "x2" at position 4']);
  const e = (() => { try { parseFormula("sin x1"); } catch (err) { return err as FormulaError; } })();
  assert.is(e?.at, 4);
  assert.is(e?.name, "FormulaError");
  assert.is(parseFormula("x1  ")(np.array(3), np.array(0)).item(), 3);
});

test.run();
