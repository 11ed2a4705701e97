// The layer map of src/ (README, Development): imports point down only, and no two modules import
// each other, directly or around a cycle. Read from the sources, so a new file is checked as soon
// as it exists.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { guardTraceState } from "../guard.js";

guardTraceState(test);

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

/** Lowest first. A module may import modules of its own layer or of layers below it. */
const LAYERS: [string, RegExp][] = [
  ["foundation", /^core\/(dtype|errors)\.ts$/],
  ["backend", /^backend\//],
  ["core", /^core\//],
  ["ir", /^ir\//],
  ["interpreters", /^interpreters\//],
  ["primitives", /^primitives\//],
  ["transforms", /^(transforms|export)\//],
  ["numpy", /^numpy\//],
  ["user-level modules", /^(lax\.ts|lax\/|debug\.ts|nn\/|random\/|optim\/|scipy\/|linalg\/|teaching\/)/],
  ["public surface", /^index\.ts$/],
];

function rankOf(file: string): number {
  const i = LAYERS.findIndex(([, re]) => re.test(file));
  if (i < 0) throw new Error(`${file} belongs to no layer: add its folder to LAYERS in tests/architecture/layers.test.ts`);
  return i;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith(".ts") && !p.endsWith(".d.ts") ? [p] : [];
  });
}

/**
 * Relative imports and re-exports of a module: all of them (`types`, for the layer rule: a type is a
 * dependency of an API too), and those that remain at run time (`values`: `import type` is erased).
 */
function importsOf(file: string): { types: string[]; values: string[] } {
  const text = readFileSync(file, "utf8");
  const types: string[] = [];
  const values: string[] = [];
  const re = /^\s*(import|export)\s(type\s)?(?:[^"';]*?\sfrom\s)?["'](\.[^"']+)["']/gm;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const target = relative(SRC, resolve(dirname(file), m[3])).replace(/\.js$/, ".ts");
    types.push(target);
    if (m[2] === undefined) values.push(target);
  }
  return { types, values };
}

const files = sources(SRC).map((f) => relative(SRC, f));
const imports = new Map(files.map((f) => [f, importsOf(join(SRC, f))]));
const graph = new Map(files.map((f) => [f, imports.get(f)?.types ?? []]));
const runtime = new Map(files.map((f) => [f, imports.get(f)?.values ?? []]));

test("the layer map covers every source file", () => {
  assert.ok(files.length > 50, `only ${files.length} source files found`);
  for (const f of files) rankOf(f);
});

test("imports point down the layers only", () => {
  const upward: string[] = [];
  for (const [from, tos] of graph) {
    for (const to of tos) {
      assert.ok(graph.has(to), `${from} imports ${to}, which does not exist`);
      if (rankOf(to) > rankOf(from)) upward.push(`${from} (${LAYERS[rankOf(from)][0]}) imports ${to} (${LAYERS[rankOf(to)][0]})`);
    }
  }
  assert.equal(upward, [], `upward imports:\n${upward.join("\n")}`);
});

/**
 * The lax-level primitive families are defined in terms of each other (sin's JVP uses cos, a
 * reduction's transpose broadcasts, broadcast_in_dim's transpose reduces, batch rules transpose):
 * JAX keeps them in one module, lax.py. Cycles entirely inside this group are allowed; their rules
 * reach each other only when they run, never while the modules load.
 */
const ONE_MODULE = new Set(["primitives/elementwise.ts", "primitives/reduce.ts", "primitives/shape.ts", "primitives/batching.ts", "primitives/rule-helpers.ts"]);

test("the backend layer has one door: code above it imports backend/index.ts only", () => {
  const side: string[] = [];
  for (const [from, tos] of graph) {
    if (from.startsWith("backend/")) continue;
    for (const to of tos) if (to.startsWith("backend/") && to !== "backend/index.ts") side.push(`${from} imports ${to}`);
  }
  assert.equal(side, [], `imports past backend/index.ts:\n${side.join("\n")}`);
});

test("no import cycles between modules at run time", () => {
  // Iterative depth-first search with colours: grey on the stack, black finished.
  const colour = new Map<string, "grey" | "black">();
  const cycles: string[] = [];
  for (const root of files) {
    if (colour.has(root)) continue;
    const stack: [string, number][] = [[root, 0]];
    colour.set(root, "grey");
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const [node, i] = top;
      const next = (runtime.get(node) ?? [])[i];
      if (next === undefined) {
        colour.set(node, "black");
        stack.pop();
        continue;
      }
      top[1]++;
      if (colour.get(next) === "grey") {
        const path = stack.map(([n]) => n);
        const cycle = path.slice(path.indexOf(next));
        if (!cycle.every((n) => ONE_MODULE.has(n))) cycles.push([...cycle, next].join(" -> "));
      } else if (!colour.has(next)) {
        colour.set(next, "grey");
        stack.push([next, 0]);
      }
    }
  }
  assert.equal(cycles, [], `import cycles:\n${cycles.join("\n")}`);
});

test("the checker sees imports, re-exports and side-effect imports", () => {
  const deps = graph.get("index.ts") ?? [];
  assert.ok(deps.includes("transforms/jit.ts"), "index.ts re-exports jit");
  assert.ok((graph.get("transforms/vmap-api.ts") ?? []).includes("primitives/install-axis-ops.ts"), "a side-effect import");
  assert.ok((runtime.get("interpreters/jvp.ts") ?? []).includes("core/primitive.ts"), "an import that names types and values");
  assert.ok((graph.get("core/trace.ts") ?? []).includes("core/primitive.ts"), "a type-only import, for the layer rule");
  assert.ok(!(runtime.get("core/trace.ts") ?? []).includes("core/primitive.ts"), "a type-only import, erased at run time");
});

test.run();
