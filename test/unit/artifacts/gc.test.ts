import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  ARTIFACT_GC_ERROR,
  artifactGCStrategy,
  collectArtifactGarbage,
  usesArtifactGC,
} from "../../../runtime/artifacts/gc.js";
import { createLocalRepository } from "../../../runtime/artifacts/repository.js";
import type { ArtifactRepository } from "../../../runtime/interfaces/artifacts.js";
import type { Artifact, Workflow } from "../../../runtime/spec/types.js";

const root = mkdtempSync(join(tmpdir(), "skiff-gc-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function stored(key: string): string {
  const p = join(root, key);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, "hello world\n");
  return p;
}

/** artifact-gc-workflow.yaml of Argo's examples, after its pod ran: two outputs in the repository. */
function finishedWorkflow(): Workflow {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: { name: "artifact-gc-abc" },
    spec: {
      entrypoint: "main",
      artifactGC: { strategy: "OnWorkflowDeletion" },
      templates: [
        {
          name: "main",
          container: { image: "argoproj/argosay:v2" },
          outputs: {
            artifacts: [
              {
                name: "on-completion",
                path: "/tmp/on-completion.txt",
                artifactGC: { strategy: "OnWorkflowCompletion" },
              },
              { name: "on-deletion", path: "/tmp/on-deletion.txt" },
            ],
          },
        },
      ],
    },
    status: {
      phase: "Succeeded",
      nodes: {
        "artifact-gc-abc": {
          id: "artifact-gc-abc",
          name: "artifact-gc-abc",
          displayName: "artifact-gc-abc",
          type: "Pod",
          templateName: "main",
          phase: "Succeeded",
          outputs: {
            artifacts: [
              {
                name: "on-completion",
                path: "/tmp/on-completion.txt",
                local: { key: "gc/on-completion.txt" },
              },
              { name: "on-deletion", path: "/tmp/on-deletion.txt", local: { key: "gc/on-deletion.txt" } },
            ],
          },
        },
      },
    },
  } as Workflow;
}

const outputs = (wf: Workflow): Artifact[] => wf.status!.nodes!["artifact-gc-abc"]!.outputs!.artifacts!;

describe("artifact garbage collection", () => {
  it("takes the artifact's strategy over the workflow's, from the template when the output lost it", () => {
    const wf = finishedWorkflow();
    const template = wf.spec.templates![0];
    const [completion, deletion] = outputs(wf);
    expect(artifactGCStrategy(wf, completion!, template)).toBe("OnWorkflowCompletion");
    expect(artifactGCStrategy(wf, deletion!, template)).toBe("OnWorkflowDeletion");
    expect(usesArtifactGC(wf, "OnWorkflowCompletion")).toBe(true);
    delete wf.spec.artifactGC;
    expect(artifactGCStrategy(wf, deletion!, template)).toBeUndefined();
    expect(usesArtifactGC(wf, "OnWorkflowDeletion")).toBe(false);
  });

  it("deletes each strategy's artifacts in its own pass and records them as Argo does", async () => {
    const wf = finishedWorkflow();
    const completion = stored("gc/on-completion.txt");
    const deletion = stored("gc/on-deletion.txt");
    const repo = createLocalRepository(root);

    const first = await collectArtifactGarbage(wf, "OnWorkflowCompletion", repo);
    expect(first).toEqual({ deleted: 1, failures: [] });
    expect(existsSync(completion)).toBe(false);
    expect(existsSync(deletion)).toBe(true);
    expect(outputs(wf).map((a) => a.deleted)).toEqual([true, undefined]);
    expect(wf.status).toMatchObject({
      artifactGCStatus: { strategiesProcessed: { OnWorkflowCompletion: true } },
    });

    const second = await collectArtifactGarbage(wf, "OnWorkflowDeletion", repo);
    expect(second.deleted).toBe(1);
    expect(existsSync(deletion)).toBe(false);
    expect(wf.status).toMatchObject({
      artifactGCStatus: { strategiesProcessed: { OnWorkflowCompletion: true, OnWorkflowDeletion: true } },
    });
    expect(wf.status?.conditions ?? []).toEqual([]);
    // A deleted artifact is not deleted twice.
    expect((await collectArtifactGarbage(wf, "OnWorkflowCompletion", repo)).deleted).toBe(0);
  });

  it("goes on past an artifact it cannot delete and sets an ArtifactGCError condition", async () => {
    const wf = finishedWorkflow();
    wf.spec.artifactGC = { strategy: "OnWorkflowCompletion" };
    const kept = stored("gc/on-deletion.txt");
    const local = createLocalRepository(root);
    const failing: ArtifactRepository = {
      locate: (a, k) => local.locate(a, k),
      driverFor: (a) => {
        const d = local.driverFor(a);
        if (a.name !== "on-completion") return d;
        return { ...d, name: d.name, delete: () => Promise.reject(new Error("access denied")) };
      },
    };
    const outcome = await collectArtifactGarbage(wf, "OnWorkflowCompletion", failing);
    expect(outcome.deleted).toBe(1);
    expect(outcome.failures).toEqual([
      { nodeId: "artifact-gc-abc", artifact: "on-completion", message: "access denied" },
    ]);
    expect(existsSync(kept)).toBe(false);
    expect(wf.status?.conditions).toEqual([
      {
        type: ARTIFACT_GC_ERROR,
        status: "True",
        message: "artifact on-completion of node artifact-gc-abc: access denied",
      },
    ]);
    expect(outputs(wf)[0]!.deleted).toBeUndefined();
  });
});
