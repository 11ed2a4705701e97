// README.md's code is tested: every ```ts block is typechecked under `strict` (with "jacobi"
// resolved to src/index.ts), and every ts block followed by an output block (a bare ``` block) is
// run and must print exactly that output. The blocks are written to tests/.readme-blocks/
// (ignored by git) so that errors point at a file named after the README line.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { guardTraceState } from "./guard.js";

guardTraceState(test);

const root = fileURLToPath(new URL("../", import.meta.url));
const dir = join(root, "tests/.readme-blocks");
const readme = readFileSync(join(root, "README.md"), "utf8");

interface Block {
  lang: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  /** The bare block right after this one (only blank lines between), if any. */
  output?: string;
}

function blocks(text: string): Block[] {
  const lines = text.split("\n");
  const found: (Block & { end: number })[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (open === null) continue;
    let j = i + 1;
    while (j < lines.length && lines[j] !== "```") j++;
    found.push({ lang: open[1], line: i + 1, code: lines.slice(i + 1, j).join("\n"), end: j });
    i = j;
  }
  found.forEach((b, k) => {
    const next = found[k + 1];
    if (b.lang === "ts" && next !== undefined && next.lang === "" && lines.slice(b.end + 1, next.line - 1).every((l) => l.trim() === "")) b.output = next.code;
  });
  return found;
}

const all = blocks(readme);
const ts = all.filter((b) => b.lang === "ts");
const fileOf = (b: Block): string => `readme-line-${b.line}.ts`;

test("the README has ts blocks, and some of them show their output", () => {
  assert.ok(ts.length >= 6, `${ts.length} ts blocks`);
  assert.ok(ts.filter((b) => b.output !== undefined).length >= 2);
  for (const b of all) assert.ok(["ts", "sh", ""].includes(b.lang), `README line ${b.line}: a \`\`\`${b.lang} block is neither tested nor output`);
});

test("every ts block typechecks under strict, importing from \"jacobi\"", () => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const b of ts) writeFileSync(join(dir, fileOf(b)), `// README.md line ${b.line}\n${b.code}\nexport {};\n`);
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true,
        skipLibCheck: true, types: ["node"], paths: { jacobi: ["../../src/index.ts"] },
      },
      include: ["*.ts"],
    }, null, 2),
  );
  let out = "";
  try {
    execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(dir, "tsconfig.json")], { encoding: "utf8", cwd: root });
  } catch (e) {
    out = String((e as { stdout?: string }).stdout ?? e);
  }
  // Only the blocks' own errors count: src/ is typechecked by `npm run typecheck`.
  const mine = out.split("\n").filter((l) => l.includes("readme-line-"));
  assert.equal(mine, [], `README blocks do not typecheck:\n${mine.join("\n")}`);
  assert.ok(readdirSync(dir).length === ts.length + 1);
});

test("every ts block followed by an output block prints exactly that output", () => {
  for (const b of ts.filter((x) => x.output !== undefined)) {
    const file = join(dir, fileOf(b));
    const got = execFileSync(process.execPath, ["--import", "tsx", file], {
      encoding: "utf8",
      cwd: root,
      // No colours: a test runner's FORCE_COLOR would make console.log colour numbers.
      env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1", TSX_TSCONFIG_PATH: join(dir, "tsconfig.json") },
    });
    assert.fixture(got.trimEnd(), (b.output as string).trimEnd(), `README line ${b.line}`);
  }
});

test("sections of the README that the examples point to exist", () => {
  const headings = new Set(readme.split("\n").filter((l) => /^#+ /.test(l)).map((l) => l.replace(/^#+ /, "").trim()));
  const examples = join(root, "examples");
  for (const f of readdirSync(examples).filter((n) => n.endsWith(".ts"))) {
    for (const m of readFileSync(join(examples, f), "utf8").matchAll(/README, "([^"]+)"/g)) assert.ok(headings.has(m[1]), `examples/${f} points to README section "${m[1]}"`);
  }
});

test("the README and the guide link to files in the repository, and the README to the docs", () => {
  const linksOf = (text: string): string[] => [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((l) => !/^https?:/.test(l) && !l.startsWith("#"));
  const readmeLinks = linksOf(readme);
  assert.ok(readmeLinks.includes("docs/guide.md") && readmeLinks.includes("docs/api/README.md"), JSON.stringify(readmeLinks));
  for (const [doc, base] of [["README.md", root], ["docs/guide.md", join(root, "docs")]] as const) {
    for (const l of linksOf(readFileSync(join(root, doc), "utf8"))) {
      const target = resolve(base, l.split("#")[0]);
      assert.ok(target.startsWith(root), `${doc} links outside the repository: ${l}`);
      assert.ok(existsSync(target), `${doc} links to a missing file: ${l}`);
    }
  }
});

test.run();
