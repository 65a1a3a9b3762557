// Renders docs/errors.md from the error-code catalogue. `npm run docs:errors` rewrites the file; a unit
// test fails when the committed file is out of date.
import { listErrorCodes } from "../runtime/errors/index.js";

/** Loads every module that defines error codes (the CLI reaches all of them). */
export async function loadAllCodes(): Promise<void> {
  await import("../src/cli/main.js");
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

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  const { writeFileSync } = await import("node:fs");
  await loadAllCodes();
  writeFileSync(new URL("../docs/errors.md", import.meta.url), renderErrorsDoc());
  console.log("docs/errors.md written");
}
