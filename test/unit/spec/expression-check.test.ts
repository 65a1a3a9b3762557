import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkExpressionSyntax } from "../../../runtime/expr/index.js";
import {
  compile,
  Library,
  parseManifests,
  validate,
  type ExpressionSyntaxCheck,
} from "../../../runtime/spec/index.js";

/**
 * Spec does not import the expression languages: validation checks expression syntax through the
 * `checkExpressionSyntax` option (docs/decisions/0007-spec-expression-check.md).
 */
const FIXTURE = join(import.meta.dirname, "../../fixtures/invalid/invalid-when-expression.yaml");

function load() {
  const loaded = parseManifests(readFileSync(FIXTURE, "utf8"), "w.yaml");
  return { manifest: loaded.manifests[0]!, library: Library.from(loaded.manifests) };
}

describe("the checkExpressionSyntax option", () => {
  it("reports a bad `when` with runtime/expr's check, in validate and compile", () => {
    const { manifest, library } = load();
    const problems = validate(manifest, library, { checkExpressionSyntax });
    expect(problems.map((p) => p.code)).toEqual(["SKF-SPEC-067"]);
    expect(problems[0]?.position?.line).toBe(12);
    expect(() => compile(manifest, library, { checkExpressionSyntax })).toThrow(
      /invalid expression 'a =! b'/,
    );
  });

  it("leaves expression syntax unchecked without it", () => {
    const { manifest, library } = load();
    expect(validate(manifest, library)).toEqual([]);
    expect(() => compile(manifest, library)).not.toThrow();
  });

  it("passes each expression with its language to the check given", () => {
    const { manifest, library } = load();
    const seen: string[] = [];
    const record: ExpressionSyntaxCheck = (text, kind) => {
      seen.push(`${kind}:${text}`);
      return [];
    };
    expect(validate(manifest, library, { checkExpressionSyntax: record })).toEqual([]);
    expect(seen).toEqual(["govaluate:a =! b"]);
  });
});
