import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkExpressionSyntax } from "../../../runtime/expr/index.js";
import { compile, Library, lintPaths, loadPaths } from "../../../runtime/spec/index.js";

/** test/fixtures/valid holds specs that use the tricky parts of Argo correctly: none may be reported. */
const DIR = join(import.meta.dirname, "../../fixtures/valid");

describe("valid fixtures", () => {
  it("lint clean", async () => {
    const result = await lintPaths([DIR], { checkExpressionSyntax });
    expect(result.problems.map((p) => `${p.location} ${p.code} ${p.message}`)).toEqual([]);
    expect(result.objects).toBeGreaterThanOrEqual(7);
  });

  it("compile, with template positions from the file that defines them", async () => {
    const loaded = await loadPaths([DIR]);
    const library = Library.from(loaded.manifests);
    const runnable = loaded.manifests.filter(
      (m) => m.object.kind === "Workflow" || m.object.kind === "CronWorkflow",
    );
    expect(runnable.length).toBe(4);
    for (const m of runnable) {
      const c = compile(m, library, { generateNameSuffix: () => "v4lid", checkExpressionSyntax });
      expect(c.positionOf(["spec", "templates", 0])?.line).toBeGreaterThan(0);
    }
    const fromLibrary = runnable.find((m) => m.file.endsWith("template-library.yaml"));
    const c = compile(fromLibrary!, library, { generateNameSuffix: () => "v4lid", checkExpressionSyntax });
    expect(c.workflow.spec.arguments?.parameters?.[0]).toMatchObject({ name: "target", value: "prod" });
    expect(c.getTemplate("local", c.rootScope)?.container?.image).toBe("alpine:3.20");
    const main = c.getTemplate("main", c.rootScope);
    const deploy = c.resolveTemplate(main!.steps![0]![0]!, c.rootScope);
    expect(deploy.scope.id).toBe("cluster/shared-steps");
    const print = c.resolveTemplate(deploy.template.steps![0]![0]!, deploy.scope);
    expect(c.templatePosition("print", print.scope)).toMatchObject({
      file: expect.stringContaining("template-library.yaml"),
      line: 63,
      column: 7,
    });
  });
});
