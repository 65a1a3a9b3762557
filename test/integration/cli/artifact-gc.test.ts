import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Artifact } from "../../../runtime/spec/types.js";
import { cli, cliSuite, ROOT, stored } from "../durable/helpers.js";

/* Argo's artifactGC through the CLI bundle: OnWorkflowCompletion at the end of `run`, OnWorkflowDeletion on `delete`. */

const FIXTURE = join(ROOT, "test/integration/cli/fixtures/artifact-gc.yaml");
const suite = cliSuite();

describe("artifact garbage collection", () => {
  it("deletes OnWorkflowCompletion artifacts when the run ends and the others when the workflow is deleted", async () => {
    const t = suite.trial();
    const repo = join(t.state, "artifacts", "gc-test");
    const run = await cli(suite.path, t, ["run", FIXTURE, "--executor", "host"]);
    expect(run.code, run.stderr).toBe(0);

    const wf = await stored(suite.path, t, "artifact-gc");
    const outputs = Object.values(wf?.status?.nodes ?? {}).flatMap(
      (n) => n.outputs?.artifacts ?? [],
    ) as Artifact[];
    expect(outputs.map((a) => [a.name, a.deleted ?? false])).toEqual([
      ["on-completion", true],
      ["on-deletion", false],
    ]);
    expect(wf?.status).toMatchObject({
      artifactGCStatus: { strategiesProcessed: { OnWorkflowCompletion: true } },
    });
    expect(existsSync(join(repo, "on-completion.txt"))).toBe(false);
    expect(existsSync(join(repo, "on-deletion.txt"))).toBe(true);

    const deleted = await cli(suite.path, t, ["delete", "artifact-gc"]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toContain("workflow artifact-gc: 1 artifact(s) deleted");
    expect(existsSync(join(repo, "on-deletion.txt"))).toBe(false);
    expect(await stored(suite.path, t, "artifact-gc")).toBeUndefined();
  });
});
