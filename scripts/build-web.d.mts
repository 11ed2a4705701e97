import type { BuildResult } from "esbuild";
/** Bundles examples/web/main.ts into examples/web/dist/main.js. */
export function buildWeb(options?: { minify?: boolean }): Promise<BuildResult>;
