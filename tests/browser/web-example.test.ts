// The seed chapter in a real browser: examples/web/ bundled with esbuild, served from 127.0.0.1,
// opened in headless Chromium (Debian's `chromium`, driven by puppeteer-core) under the page's
// Content-Security-Policy without 'unsafe-eval'. Types f = ln(x1) + x1*x2 - sin(x2) at (2, 5) and
// checks the chapter's numbers, both tables and the graph's nodes.
//
// Without a Chromium this file registers no test and prints that it skipped; with
// JACOBI_REQUIRE_BROWSER=1 (set by .ci/run) a missing browser is a failure instead.
// JACOBI_UPDATE_SCREENSHOT=1 rewrites docs/web-example.png.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { type Server, createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { buildWeb } from "../../scripts/build-web.mjs";
import { guardTraceState } from "../guard.js";

guardTraceState(test);

const root = fileURLToPath(new URL("../../", import.meta.url));
const webDir = join(root, "examples/web");
const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
const required = process.env.JACOBI_REQUIRE_BROWSER === "1";

const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css" };

/** A static server for examples/web on an ephemeral port of 127.0.0.1. */
async function serve(): Promise<[Server, string]> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
    const file = join(webDir, path.endsWith("/") ? `${path}index.html` : path);
    readFile(file).then(
      (body) => res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(body),
      () => res.writeHead(404).end("not found"),
    );
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return [server, `http://127.0.0.1:${address.port}/`];
}

/** Replaces an input's text as a reader would: select all, type. */
async function retype(page: Page, selector: string, text: string): Promise<void> {
  await page.click(selector, { count: 3 });
  await page.keyboard.press("End");
  await page.keyboard.down("Shift");
  await page.keyboard.press("Home");
  await page.keyboard.up("Shift");
  await page.keyboard.press("Backspace");
  await page.type(selector, text);
}

async function submitAndWait(page: Page): Promise<void> {
  const before = await page.$eval("body", (b) => Number(b.dataset.runs));
  await page.click("button[type=submit]");
  await page.waitForFunction((n) => Number(document.body.dataset.runs) > n, { timeout: 60_000 }, before);
}

const text = (page: Page, selector: string): Promise<string> => page.$eval(selector, (e) => e.textContent ?? "");
const column = (page: Page, table: string, col: number): Promise<string[]> =>
  page.$$eval(`${table} tbody tr`, (rows, c) => rows.map((r) => r.children[c as number].textContent ?? ""), col);

if (chromium === undefined && !required) {
  console.log("browser test: no Chromium found, skipped");
} else {
  test("the web example shows the seed chapter's numbers, tables and graph in headless Chromium under a CSP", async () => {
    assert.ok(chromium, "JACOBI_REQUIRE_BROWSER=1 but no Chromium at /usr/bin/chromium (apt-get install chromium)");
    const built = await buildWeb();
    assert.equal(built.errors, []);
    const [server, url] = await serve();
    const profile = await mkdtemp(join(tmpdir(), "jacobi-chromium-"));
    let browser: Browser | undefined;
    try {
      browser = await puppeteer.launch({
        executablePath: chromium,
        headless: true,
        protocolTimeout: 120_000,
        args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", `--user-data-dir=${profile}`],
      });
      const page = await browser.newPage();
      await page.setViewport({ width: 1200, height: 860 });
      const pageErrors: string[] = [];
      page.on("pageerror", (e) => pageErrors.push(String(e)));
      await page.evaluateOnNewDocument(() => {
        const w = window as unknown as { violations: string[] };
        w.violations = [];
        document.addEventListener("securitypolicyviolation", (e) => w.violations.push(`${e.violatedDirective} ${e.blockedURI}`));
      });
      await page.goto(url, { waitUntil: "load", timeout: 60_000 });
      await page.waitForFunction(() => Number(document.body.dataset.runs) >= 1, { timeout: 60_000 });

      await retype(page, "#formula", "ln(x1) + x1*x2 - sin(x2)");
      await retype(page, "#x1", "2");
      await retype(page, "#x2", "5");
      await page.select("#wrt", "0");
      await submitAndWait(page);

      assert.is(await page.$eval("#error", (e) => (e as HTMLElement).hidden), true, await text(page, "#error"));
      assert.is(await text(page, "#value"), "11.652");
      assert.is(await text(page, "#gradient"), "5.5, 1.716");
      // Forward table: inputs, v1 … v5 and y; the tangent column ends in dy/dx1 = 5.5.
      assert.equal(await column(page, "#forward", 0), ["v-1", "v0", "v1", "v2", "v3", "v4", "v5", "y"]);
      assert.equal(await column(page, "#forward", 2), ["2", "5", "0.693", "10", "-0.959", "10.693", "11.652", "11.652"]);
      assert.equal(await column(page, "#forward", 3), ["1", "0", "0.5", "5", "0", "5.5", "5.5", "5.5"]);
      // Reverse table: from y back to the inputs; the adjoints of x2 and x1 are the gradient.
      assert.equal(await column(page, "#reverse", 0), ["y", "v5", "v4", "v3", "v2", "v1", "v0", "v-1"]);
      assert.equal(await column(page, "#reverse", 3), ["1", "1", "1", "-1", "1", "1", "1.716", "5.5"]);
      // The graph: Graphviz's SVG with the chapter's nodes.
      const labels = await page.$$eval("#graph svg g.node text", (ts) => ts.map((t) => t.textContent ?? ""));
      for (const node of ["v-1 = x1", "v0 = x2", "v1 = ln v-1", "v2 = v-1 * v0", "v3 = sin v0", "v4 = v1 + v2", "v5 = v4 - v3", "y"]) {
        assert.ok(labels.includes(node), `graph node "${node}" in ${JSON.stringify(labels)}`);
      }
      assert.is(await page.$$eval("#graph svg g.edge", (es) => es.length), 9);

      // The CSP was in force: jacobi's probe of new Function was refused (and it fell back).
      const violations = await page.evaluate(() => (window as unknown as { violations: string[] }).violations);
      assert.ok(violations.length > 0 && violations.every((v) => v.startsWith("script-src") && v.endsWith("eval")), JSON.stringify(violations));
      assert.equal(pageErrors, []);
      const shot = process.env.JACOBI_UPDATE_SCREENSHOT === "1" ? join(root, "docs/web-example.png") : join(profile, "web-example.png");
      await page.screenshot({ path: shot as `${string}.png`, fullPage: true });

      // The gradient's graph, and a formula that does not parse.
      await page.click("#gradient-graph");
      await submitAndWait(page);
      const gradLabels = await page.$$eval("#graph svg g.node text", (ts) => ts.map((t) => t.textContent ?? ""));
      assert.ok(gradLabels.includes("dy/dx1") && gradLabels.includes("dy/dx2"), JSON.stringify(gradLabels));
      await retype(page, "#formula", "ln(x1 + ");
      await submitAndWait(page);
      assert.is(await page.$eval("#error", (e) => (e as HTMLElement).hidden), false);
      assert.match(await text(page, "#error"), "the formula ends too early");
    } finally {
      await browser?.close();
      server.close();
      await rm(profile, { recursive: true, force: true });
    }
  });
}

test.run();
