import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { checkExpressionSyntax, findTags } from "../../../runtime/expr/index.js";

const examplesDir = join(import.meta.dirname, "../../../../shared/conformance/argo-examples");
const present = existsSync(examplesDir);

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

interface Found {
  file: string;
  kind: "expr" | "govaluate" | "depends";
  text: string;
}

function collect(): Found[] {
  const found: Found[] = [];
  for (const path of yamlFiles(examplesDir)) {
    const file = relative(examplesDir, path);
    for (const doc of parseAllDocuments(readFileSync(path, "utf8"))) {
      const walk = (v: unknown, key?: string): void => {
        if (typeof v === "string") {
          if (key === "when") found.push({ file, kind: "govaluate", text: v });
          else if (key === "depends") found.push({ file, kind: "depends", text: v });
          else
            for (const tag of findTags(v))
              if (tag.expression) found.push({ file, kind: "expr", text: tag.inner.slice(1) });
        } else if (Array.isArray(v)) v.forEach((x) => walk(x));
        else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, k);
      };
      walk(doc.toJS());
    }
  }
  return found;
}

describe.skipIf(!present)("conformance examples: every expression parses", () => {
  const found = present ? collect() : [];

  it("finds the expressions of the corpus", () => {
    expect(found.filter((f) => f.kind === "expr").length).toBeGreaterThan(10);
    expect(found.filter((f) => f.kind === "govaluate").length).toBeGreaterThan(20);
    expect(found.filter((f) => f.kind === "depends").length).toBeGreaterThan(20);
  });

  it.each(found.map((f) => [`${f.file} ${f.kind}: ${f.text.trim().slice(0, 80)}`, f] as const))(
    "%s",
    (_name, f) => {
      expect(checkExpressionSyntax(f.text, f.kind)).toEqual([]);
    },
  );
});

if (!present) {
  describe("conformance examples", () => {
    it.skip(`skipped: ${examplesDir} is absent (the shared Argo examples are not checked out next to the repo)`, () => {});
  });
}
