import { test } from "uvu";
import * as assert from "uvu/assert";
import { guardTraceState } from "./guard.js";
import { JacobiError, type Tensor, config, debug, grad, jacrev, jit, jvp, lax, makeJaxpr, np, vmap } from "../src/index.js";
import { throwsWith } from "./helpers.js";

guardTraceState(test);

/** What `fn` printed through console.log (debug.print) or console.warn (logCompiles). */
function captured(stream: "log" | "warn", fn: () => unknown): string[] {
  const lines: string[] = [];
  const orig = console[stream];
  console[stream] = (...a: unknown[]) => void lines.push(a.map(String).join(" "));
  try {
    fn();
  } finally {
    console[stream] = orig;
  }
  return lines;
}

test("debug.print prints concrete values eagerly, NumPy-formatted", () => {
  assert.equal(captured("log", () => debug.print("x = {}, y = {}", np.array([1, 2.5]), 3)), ["x = [1.  2.5], y = 3."]);
  assert.equal(captured("log", () => debug.print("{1} then {0}", np.array(1), np.array([true, false]))), ["[ True False] then 1."]);
});

test("debug.print under jit prints when the compiled program runs, with the call's values", () => {
  const f = jit((x: Tensor) => {
    debug.print("inside: {}", x.mul(2));
    return x.add(1);
  });
  assert.equal(captured("log", () => f(np.array([1, 2]))), ["inside: [2. 4.]"]);
  assert.equal(captured("log", () => f(np.array([5, 6]))), ["inside: [10. 12.]"], "the cached program runs the callback again");
  // The staged program keeps the effect although nothing reads it.
  assert.match(makeJaxpr((x: Tensor) => (debug.print("{}", x), x.add(1)))(np.array(1)).toString(), /debug_callback/);
});

test("debug.print under vmap prints once per example; under grad and jvp the primal values", () => {
  const f = (x: Tensor) => {
    debug.print("x = {}", x);
    return x.mul(x).sum();
  };
  assert.equal(captured("log", () => vmap(f)(np.array([[1, 2], [3, 4]]))), ["x = [1. 2.]", "x = [3. 4.]"]);
  assert.equal(captured("log", () => vmap(f, { inAxes: 1 })(np.array([[1, 2], [3, 4]]))), ["x = [1. 3.]", "x = [2. 4.]"]);
  let g: Tensor | null = null;
  assert.equal(captured("log", () => (g = grad(f)(np.array([1.5, -2])))), ["x = [ 1.5 -2. ]"]);
  assert.equal((g as unknown as Tensor).tolist(), [3, -4]);
  assert.equal(captured("log", () => jvp(f, [np.array(2)], [np.array(1)])), ["x = 2."]);
  assert.equal(captured("log", () => jacrev(f)(np.array([1, 2]))), ["x = [1. 2.]"]);
  // jit of vmap: per example, when the program runs.
  assert.equal(captured("log", () => jit(vmap(f))(np.array([[0, 1], [2, 3]]))), ["x = [0. 1.]", "x = [2. 3.]"]);
  // Inside a scan body: every step, in order.
  const steps = captured("log", () =>
    lax.scan((c: Tensor, x: Tensor) => {
      debug.print("step {}", x);
      return [c.add(x), c];
    }, np.array(0), np.array([1, 2, 3])),
  );
  assert.equal(steps, ["step 1.", "step 2.", "step 3."]);
});

test("debug.callback gets the arguments' structure with concrete Tensors, and other leaves as they are", () => {
  const seen: unknown[] = [];
  const f = jit((p: { w: Tensor; b: Tensor }) => {
    debug.callback((q: { w: Tensor; b: Tensor }, tag: string) => seen.push([q.w.tolist(), q.b.tolist(), tag]), p, "tag");
    return p.w.add(p.b);
  });
  f({ w: np.array([1, 2]), b: np.array(3) });
  assert.equal(seen, [[[1, 2], 3, "tag"]]);
});

test("debug errors: a bad format or callback is a JacobiError at the call", () => {
  throwsWith(() => debug.print("{} {}", 1), JacobiError, ["asks for argument 1", "1 were given"]);
  throwsWith(() => debug.print("{}", 1, 2), JacobiError, ["2 arguments for 1 placeholders"]);
  throwsWith(() => debug.print(3 as unknown as string), JacobiError, ["format must be a string"]);
  throwsWith(() => debug.callback(3 as unknown as () => void), JacobiError, ["expected a function"]);
});

test('config.update("logCompiles", true) logs each trace and compile of a jit with its signature', () => {
  const square = jit(function square(x: Tensor) {
    return x.mul(x);
  });
  config.update("logCompiles", true);
  let lines: string[];
  try {
    lines = captured("warn", () => {
      square(np.array([1, 2]));
      square(np.array([3, 4])); // cached: nothing logged
      square(np.array(1, "float32"));
    });
  } finally {
    config.update("logCompiles", false);
  }
  assert.is(lines.length, 4, lines.join("\n"));
  assert.match(lines[0], /^jacobi: jit traced square\(f64\[2\]\): 1 equations in [\d.]+ ms$/);
  assert.match(lines[1], /^jacobi: jit compiled square\(f64\[2\]\)/);
  assert.match(lines[2], /traced square\(f32\[\]\)/);
  assert.equal(captured("warn", () => square(np.array([7, 8, 9]))), [], "off again");
  assert.is(config.read("logCompiles"), false);
  throwsWith(() => config.update("nope" as "logCompiles", true), JacobiError, ['unknown option "nope"', "logCompiles"]);
  throwsWith(() => config.update("logCompiles", "yes" as unknown as boolean), JacobiError, ["must be a boolean"]);
});

test.run();
