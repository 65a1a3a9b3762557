import { Command } from "commander";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { checkExpressionSyntax } from "../../../runtime/expr/index.js";
import { lintPaths } from "../../../runtime/spec/index.js";
import { lintCommand } from "../../../src/cli/commands/lint.js";

const FIXTURES = join(import.meta.dirname, "../../fixtures");

async function runLint(args: string[]): Promise<{ code: number; out: string }> {
  let code = -1;
  let out = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const program = new Command("skiff").exitOverride().addCommand(lintCommand((c) => (code = c)));
  await program.parseAsync(["lint", ...args], { from: "user" });
  return { code, out };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("skiff lint", () => {
  it("exits 0 and says so when everything is valid", async () => {
    const { code, out } = await runLint([join(FIXTURES, "valid")]);
    expect(code).toBe(0);
    expect(out).toMatch(/^\d+ objects in 4 files: no problems found\n$/);
  });

  it("exits 2 with a table of location, code, message and hint", async () => {
    const file = join(FIXTURES, "invalid", "several-problems.yaml");
    const { code, out } = await runLint([file]);
    expect(code).toBe(2);
    const lines = out.split("\n");
    expect(lines[0]).toMatch(/^LOCATION\s+CODE\s+MESSAGE$/);
    expect(out).toContain(`${file}:12:13  SKF-SPEC-031  template name 'missing' undefined`);
    expect(out).toContain("hint: The referenced template does not exist");
    // Rows are in file order.
    const rowLines = lines.filter((l) => l.startsWith(file)).map((l) => Number(l.split(":")[1]));
    expect(rowLines).toEqual([...rowLines].sort((a, b) => a - b));
    expect(lines.at(-2)).toBe("5 problems in 1 object (1 file)");
  });

  it("prints machine-readable JSON with -o json", async () => {
    const file = join(FIXTURES, "invalid", "dag-cycle.yaml");
    const { code, out } = await runLint(["-o", "json", file]);
    expect(code).toBe(2);
    const parsed = JSON.parse(out) as { files: number; objects: number; problems: Record<string, unknown>[] };
    expect(parsed.files).toBe(1);
    expect(parsed.objects).toBe(1);
    expect(parsed.problems).toEqual([
      {
        code: "SKF-SPEC-050",
        message: "templates.main.tasks dependency cycle detected: a->b->a",
        hint: expect.any(String),
        file,
        line: 11,
        column: 13,
        path: "spec.templates[0].dag.tasks[0]",
      },
    ]);
  });

  it("notes duplicate keys by default and rejects them with --strict", async () => {
    const file = join(FIXTURES, "invalid", "duplicate-key.yaml");
    expect((await runLint(["--strict", file])).code).toBe(2);
    vi.restoreAllMocks();
    const lenient = await runLint([file]);
    expect(lenient.code).toBe(0);
    expect(lenient.out).toContain("note:");
  });

  it("reports a WorkflowTemplate defined twice, since references would be ambiguous", async () => {
    const dir = await mkdtemp(join(tmpdir(), "skiff-lint-"));
    const wft =
      "apiVersion: argoproj.io/v1alpha1\nkind: WorkflowTemplate\nmetadata:\n  name: lib\nspec:\n  templates:\n    - name: t\n      suspend: {}\n";
    await writeFile(join(dir, "a.yaml"), wft);
    await writeFile(join(dir, "b.yaml"), wft);
    const result = await lintPaths([dir], { checkExpressionSyntax });
    expect(result.problems.map((p) => [p.code, p.position?.file, p.position?.line, p.message])).toEqual([
      [
        "SKF-SPEC-023",
        join(dir, "b.yaml"),
        4,
        `WorkflowTemplate lib is defined twice (first at ${join(dir, "a.yaml")}:4:3)`,
      ],
    ]);
  });
});
