import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isSkiffError } from "../../../runtime/errors/index.js";
import { checkExpressionSyntax } from "../../../runtime/expr/index.js";
import { Library, parseManifests, validate } from "../../../runtime/spec/index.js";

/**
 * Every file in test/fixtures/invalid is a broken spec named for its problem. The lines that must be reported
 * carry a trailing `# expect: SKF-SPEC-NNN` comment (several codes when one line has several problems), so
 * the expected code and line live next to the mistake itself.
 */
const DIR = join(import.meta.dirname, "../../fixtures/invalid");
const files = readdirSync(DIR)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

function expectedProblems(text: string): string[] {
  const out: string[] = [];
  text.split("\n").forEach((line, i) => {
    const m = /# expect: ((?:SKF-[A-Z]+-\d{3}\s*)+)$/.exec(line);
    if (m) for (const code of (m[1] ?? "").trim().split(/\s+/)) out.push(`${code}@${i + 1}`);
  });
  return out.sort();
}

function actualProblems(text: string, file: string): string[] {
  // A fixture whose first line is `# lint: strict` is checked as `skiff lint --strict` would.
  const loaded = parseManifests(text, file, { strict: text.startsWith("# lint: strict") });
  const library = Library.from(loaded.manifests);
  const problems = [
    ...loaded.problems,
    ...loaded.manifests.flatMap((m) => validate(m, library, { checkExpressionSyntax })),
  ];
  for (const p of problems) {
    expect(isSkiffError(p)).toBe(true);
    expect(p.hint ?? "").not.toBe("");
    expect(p.position?.file).toBe(file);
  }
  return problems.map((p) => `${p.code}@${p.position?.line ?? "?"}`).sort();
}

describe("invalid fixtures", () => {
  it("holds at least 40 broken specs", () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
  });

  it.each(files)("%s fails with its code on its line", (name) => {
    const text = readFileSync(join(DIR, name), "utf8");
    const expected = expectedProblems(text);
    expect(expected.length).toBeGreaterThan(0);
    expect(actualProblems(text, name)).toEqual(expected);
  });

  it("reports every problem of a file at once", () => {
    const multi = files.filter((f) => expectedProblems(readFileSync(join(DIR, f), "utf8")).length >= 3);
    expect(multi.length).toBeGreaterThanOrEqual(2);
  });
});
