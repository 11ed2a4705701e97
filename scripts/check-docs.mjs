// Fails when docs/api (the committed API reference) differs from what TypeDoc generates from the
// current sources: regenerates it into a temporary folder with the same typedoc.json and
// compares every file. `npm run docs` rewrites docs/api; `npm test` runs this check last.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const committed = join(root, "docs/api");

/** Every file under `dir`, as paths relative to it, sorted. */
function files(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)));
    }
  };
  try {
    walk(dir);
  } catch {
    return [];
  }
  return out.sort();
}

const fresh = mkdtempSync(join(tmpdir(), "jacobi-docs-"));
try {
  execFileSync(process.execPath, [join(root, "node_modules/typedoc/bin/typedoc"), "--out", fresh, "--logLevel", "Error"], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  const want = files(fresh), have = files(committed);
  const problems = [
    ...want.filter((f) => !have.includes(f)).map((f) => `missing: docs/api/${f}`),
    ...have.filter((f) => !want.includes(f)).map((f) => `no longer generated: docs/api/${f}`),
    ...want.filter((f) => have.includes(f) && readFileSync(join(fresh, f), "utf8") !== readFileSync(join(committed, f), "utf8")).map((f) => `differs: docs/api/${f}`),
  ];
  if (problems.length > 0) {
    console.error(`docs/api is out of date with src/ (run \`npm run docs\` and commit docs/api):\n  ${problems.join("\n  ")}`);
    process.exitCode = 1;
  } else console.log(`docs/api is up to date (${want.length} files)`);
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
