// Deep programs, staged: makeJaxpr of a million-operation chain records every equation and prints
// it (loops, not recursion, in tracing, dead-code elimination and printing).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { makeJaxpr, np } from "../../src/index.js";
import { varName } from "../../src/ir/pprint.js";
import { guardTraceState } from "../guard.js";

guardTraceState(test);

const N = 1_000_000;
const chain = (n: number) => (x: any) => {
  let y = x;
  for (let i = 0; i < n; i++) y = np.sin(y);
  return y;
};

test("makeJaxpr of a 1,000,000-step chain has every equation, and prints", () => {
  const jx = makeJaxpr(chain(N))(0.5);
  assert.is(jx.jaxpr.eqns.length, N);
  assert.ok(jx.jaxpr.eqns.every((e) => e.primitive.name === "sin"));
  const text = jx.toString();
  let newlines = 0;
  for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) newlines++;
  assert.is(newlines, N + 1);
  // JAX's variable names: a..z, then ba, bb, ... (base 26 with a as the digit 0).
  assert.equal([varName(25), varName(26), varName(27), varName(N - 1), varName(N)], ["z", "ba", "bb", "cexhn", "cexho"]);
  assert.ok(text.startsWith("{ lambda a:f64[] .\n  let b:f64[] = sin a\n      c:f64[] = sin b\n"));
  assert.ok(text.endsWith(`\n      ${varName(N)}:f64[] = sin ${varName(N - 1)}\n  in ( ${varName(N)} ) }`));
});

test.run();
