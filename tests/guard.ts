// A trace-state guard for uvu suites: after every test the trace stack must be empty (every
// transformation's level popped, and so invalidated). Use it at the top of a test file:
//
//   import { test } from "uvu";
//   import { guardTraceState } from "./guard.js";   // "../guard.js" from a subfolder
//   guardTraceState(test);
//
// uvu resets a suite's hooks at `test.run()`, so each file registers the guard for itself.
//
// The after-each hook never throws: uvu runs it inside the `catch` of a failing test too, and an
// exception there escapes into a `finally { return }` that swallows it along with the test's own
// failure and the rest of the suite. Instead a dirty stack is remembered, the next test fails in
// its before-each hook naming the test that left it, and the process exits with code 1 even when
// the dirty test was the last one.
import type { Test } from "uvu";
import { traceDepth } from "../src/core/trace.js";
import { debugChecks } from "../src/ir/check-jaxpr.js";

// Every jaxpr that control flow, checkpoint and the custom rules rebuild by hand is typechecked
// as it is made, in every suite.
debugChecks.jaxprs = true;

const dirty: string[] = [];
let exitHooked = false;

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on("exit", () => {
    if (dirty.length === 0) return;
    console.error(`trace-state guard: the trace stack was left non-empty after: ${dirty.join("; ")}`);
    process.exitCode = 1;
  });
}

/** Registers before/after-each hooks on `suite` that fail a test run which leaves trace state behind. */
export function guardTraceState(suite: Test): void {
  hookExit();
  suite.before.each((ctx) => {
    const depth = traceDepth();
    if (depth !== 0) {
      const by = dirty.length ? dirty[dirty.length - 1] : "an earlier test or import";
      throw new Error(`trace-state guard: the trace stack has depth ${depth} before "${ctx.__test__}"; it was left by ${by}`);
    }
  });
  suite.after.each((ctx) => {
    const depth = traceDepth();
    if (depth !== 0) dirty.push(`"${ctx.__test__}" in suite "${ctx.__suite__ || "(default)"}" (depth ${depth})`);
  });
}
