import { describe, expect, it } from "vitest";
import { compile, Library, loadPaths } from "../../../runtime/spec/index.js";
import { OWN_CHECKS, OWN_WORKFLOWS, ownWorkflows } from "../../conformance/own-workflows.js";

describe("Skiff's own conformance workflows", () => {
  const rows = ownWorkflows();

  it("each names its phase and has node checks, and every check has its file", () => {
    expect(rows.length).toBeGreaterThanOrEqual(5);
    for (const row of rows) expect(OWN_CHECKS[row.file], row.file).toBeDefined();
    expect(Object.keys(OWN_CHECKS).sort()).toEqual(rows.map((r) => r.file));
  });

  it("each passes lint and compiles", async () => {
    const loaded = await loadPaths([OWN_WORKFLOWS]);
    expect(loaded.problems).toEqual([]);
    const library = Library.from(loaded.manifests);
    const workflows = loaded.manifests.filter((m) => m.object.kind === "Workflow");
    expect(workflows).toHaveLength(rows.length);
    for (const m of workflows) expect(() => compile(m, library, {}), m.file).not.toThrow();
  });
});
