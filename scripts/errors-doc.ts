// Renders docs/errors.md from the error-code catalogue. `npm run docs:errors` rewrites the file; a unit
// test fails when the committed file is out of date.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { listErrorCodes } from "../runtime/errors/index.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

/** Imports every module that defines error codes, so the catalogue is complete. */
export async function loadAllCodes(): Promise<void> {
  const files = [...sourceFiles(join(ROOT, "runtime")), ...sourceFiles(join(ROOT, "src"))].filter((f) =>
    readFileSync(f, "utf8").includes("defineErrorCodes("),
  );
  for (const f of files.sort()) await import(pathToFileURL(f).href);
}

export function renderErrorsDoc(): string {
  const lines = [
    "# Error codes",
    "",
    "Every error Skiff reports carries one of these codes, a message, a hint, and (where it applies) the",
    "file, line and column it came from. This page is generated from the code (`npm run docs:errors`).",
    "",
    "| code | what | hint |",
    "|---|---|---|",
  ];
  for (const c of listErrorCodes()) {
    if (c.code.startsWith("SKF-TEST-")) continue;
    const esc = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
    lines.push(`| \`${c.code}\` | ${esc(c.title)} | ${esc(c.hint)} |`);
  }
  return lines.join("\n") + "\n";
}

export const ERRORS_DOC = join(ROOT, "docs", "errors.md");

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await loadAllCodes();
  writeFileSync(ERRORS_DOC, renderErrorsDoc());
  console.log("docs/errors.md written");
}
