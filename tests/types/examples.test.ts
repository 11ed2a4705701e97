// Runs the typed examples of tests/types/examples.ts: the typecheck proves their types, this
// proves their values (so a type that only looks right cannot hide a wrong result).
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
import { close } from "../helpers.js";
import { examples } from "./examples.js";

guardTraceState(test);

for (const ex of examples) {
  test(ex.name, () => {
    const [got, want] = ex.run();
    close(got, want, 1e-12, ex.name);
  });
}

test.run();
