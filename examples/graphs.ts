// Computation graphs as the seed chapter draws them: `npx tsx examples/graphs.ts [output-dir]`.
//
// Writes the forward graph of f(x1, x2) = ln(x1) + x1*x2 - sin(x2) and the graph of its gradient
// (forward sweep plus reverse sweep, as reverse mode stages it) as Graphviz DOT files, and renders
// them to SVG with the `dot` program when it is installed.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { computationGraph, np, type Tensor } from "../src/index.js";

const f = (x1: Tensor | number, x2: Tensor | number) => np.subtract(np.add(np.log(x1), np.multiply(x1, x2)), np.sin(x2));
const outDir = resolve(process.argv[2] ?? ".tmp/graphs");
mkdirSync(outDir, { recursive: true });

const graphs = {
  "seed-forward": computationGraph(f, [2, 5]),
  "seed-gradient": computationGraph(f, [2, 5], { gradient: true }),
};

const hasDot = spawnSync("dot", ["-V"], { stdio: "ignore" }).status === 0;
for (const [name, dot] of Object.entries(graphs)) {
  const dotPath = join(outDir, `${name}.dot`);
  writeFileSync(dotPath, `${dot}\n`);
  const nodes = dot.split("\n").filter((l) => /\[shape=/.test(l)).length;
  const edges = dot.split("\n").filter((l) => l.includes("->")).length;
  console.log(`wrote ${dotPath} (${nodes} nodes, ${edges} edges)`);
  if (hasDot) {
    const svgPath = join(outDir, `${name}.svg`);
    const r = spawnSync("dot", ["-Tsvg", dotPath, "-o", svgPath], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`dot failed on ${dotPath}: ${r.stderr}`);
    console.log(`rendered ${svgPath}`);
  }
}
console.log("\nThe forward graph:\n");
console.log(graphs["seed-forward"]);
if (!hasDot) {
  console.log("\nGraphviz's `dot` program is not installed, so no SVG was rendered.");
  console.log("Install it (Debian/Ubuntu: `sudo apt-get install graphviz`, macOS: `brew install graphviz`) and run this again,");
  console.log(`or render by hand: dot -Tsvg ${join(outDir, "seed-forward.dot")} -o seed-forward.svg`);
}
