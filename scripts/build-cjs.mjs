// Builds the CommonJS entry (dist/cjs/index.cjs) that `require("jacobi")` loads: one esbuild
// bundle of src/ (the dependencies stay external and are required as usual), next to the ESM
// build that tsc writes to dist/. package.json's "exports" maps "require" here and "import" there.
import { build } from "esbuild";
import { copyFile, mkdir, readdir, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";

await build({
  entryPoints: ["src/index.ts"],
  outfile: "dist/cjs/index.cjs",
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  packages: "external",
  logLevel: "warning",
});
// This marker makes TypeScript read the .d.ts files copied below as CommonJS declarations, so a
// CommonJS consumer (module node16/nodenext) gets types that match what require() returns.
await writeFile("dist/cjs/package.json", JSON.stringify({ type: "commonjs" }, null, 2) + "\n");
for (const e of await readdir("dist", { recursive: true, withFileTypes: true })) {
  const from = join(e.parentPath, e.name);
  if (!e.isFile() || !e.name.endsWith(".d.ts") || from.startsWith(join("dist", "cjs"))) continue;
  const to = join("dist/cjs", relative("dist", from));
  await mkdir(dirname(to), { recursive: true });
  await copyFile(from, to);
}
