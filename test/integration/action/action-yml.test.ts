import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { format } from "prettier";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { renderActionTables, replaceActionTables } from "../../../src/action/docs.js";
import { parseCount, parsePairs } from "../../../src/action/inputs.js";
import { ROOT } from "./harness.js";

describe("action.yml", () => {
  const text = readFileSync(join(ROOT, "action.yml"), "utf8");
  const action = parseYaml(text) as {
    runs: Record<string, string>;
    inputs: Record<string, { default?: string }>;
    outputs: Record<string, unknown>;
  };

  it("runs the committed bundles on node24, with a post step", () => {
    expect(action.runs).toMatchObject({
      using: "node24",
      main: "dist/action.js",
      post: "dist/action-post.js",
    });
  });

  it("has the inputs and outputs the docs promise", () => {
    expect(Object.keys(action.inputs)).toEqual([
      "pipelines",
      "executor",
      "parameters",
      "secrets",
      "github-token",
      "checks",
      "group-threshold",
      "fail-on-failure",
      "server-url",
      "config",
    ]);
    expect(action.inputs["github-token"]!.default).toBe("${{ github.token }}");
    expect(Object.keys(action.outputs)).toEqual(["phase", "workflows", "outputs"]);
  });

  it.each(["docs/github-action.md", "README.md"])(
    "is documented in %s with tables generated from it (UPDATE_GOLDEN=1 rewrites them)",
    async (name) => {
      const file = join(ROOT, name);
      const doc = readFileSync(file, "utf8");
      // The docs are kept formatted by prettier, which aligns table columns.
      const fresh = await format(replaceActionTables(doc, text), { parser: "markdown", filepath: file });
      if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, fresh);
      expect(readFileSync(file, "utf8")).toBe(fresh);
      expect(renderActionTables(text)).toContain("| `checks` |");
    },
  );
});

describe("parameters and secrets inputs", () => {
  it("reads name=value lines and YAML mappings", () => {
    expect(parsePairs("a=1\nb = x=y\n\n# note\n", "parameters")).toEqual({ a: "1", b: " x=y" });
    expect(parsePairs("a: 1\nb: {c: d}", "parameters")).toEqual({ a: "1", b: '{"c":"d"}' });
    expect(parsePairs("", "parameters")).toEqual({});
    expect(() => parsePairs("- a\n- b", "parameters")).toThrow(/name=value lines or a YAML mapping/);
  });
});

describe("group-threshold input", () => {
  it("takes a whole number and names the input when it is not one", () => {
    expect(parseCount("group-threshold", "", 20)).toBe(20);
    expect(parseCount("group-threshold", " 50 ", 20)).toBe(50);
    expect(parseCount("group-threshold", "0", 20)).toBe(0);
    for (const bad of ["-1", "ten", "2.5"])
      expect(() => parseCount("group-threshold", bad, 20)).toThrow(
        expect.objectContaining({
          code: "SKF-GH-004",
          message: `group-threshold must be a whole number (0 or more), not "${bad}"`,
          hint: expect.stringContaining("docs/github-action.md"),
        }),
      );
  });
});
