// Bundles the browser example (examples/web/main.ts, jacobi and @viz-js/viz) into
// examples/web/dist/main.js with esbuild: `npm run build:web`, then serve examples/web/ with any
// static server (`npx http-server examples/web`, `python3 -m http.server -d examples/web`).
// tests/browser/ builds it the same way before opening the page.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const web = `${root}examples/web/`;

// jacobi's matmul threads (src/backend/wasm/gemm.ts) import Node's os and worker_threads and read
// process.env: the bundle gets one-thread stand-ins and runs matmuls on the JavaScript kernel.
const nodeBuiltins = {
  name: "node-builtins",
  setup(b) {
    b.onResolve({ filter: /^node:(os|worker_threads)$/ }, () => ({ path: `${web}shims/node-builtins.ts` }));
  },
};

/** Writes the bundle; returns esbuild's result (its warnings and errors). */
export function buildWeb({ minify = true } = {}) {
  return build({
    entryPoints: [`${web}main.ts`],
    outfile: `${web}dist/main.js`,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify,
    sourcemap: false,
    logLevel: "warning",
    plugins: [nodeBuiltins],
    inject: [`${web}shims/shared-array-buffer.ts`],
    define: { "process.env.JACOBI_WASM": '"0"', "process.env.JACOBI_GEMM_THREADS": '"1"' },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildWeb();
