// Builds the CommonJS entry (dist/cjs/index.cjs) that `require("jacobi")` loads: one esbuild
// bundle of src/ (the dependencies stay external and are required as usual), next to the ESM
// build that tsc writes to dist/. package.json's "exports" maps "require" here and "import" there.
import { build } from "esbuild";
import { writeFile } from "node:fs/promises";

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
// Without this marker Node would read .cjs anyway; it documents the folder for readers of the tarball.
await writeFile("dist/cjs/package.json", JSON.stringify({ type: "commonjs" }, null, 2) + "\n");
