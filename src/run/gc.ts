import { join } from "node:path";
import {
  collectArtifactGarbage,
  createWorkflowArtifactRepository,
  usesArtifactGC,
} from "../../runtime/artifacts/index.js";
import { defineErrorCodes, SkiffError } from "../../runtime/errors/index.js";
import type { Store } from "../../runtime/interfaces/store.js";
import type { Workflow } from "../../runtime/spec/types.js";
import type { SkiffConfig } from "../config/index.js";

export const GC_RUN_CODES = defineErrorCodes({
  "SKF-RUN-013": {
    title: "Artifacts could not be deleted",
    hint: "The workflow's artifactGC strategy OnWorkflowDeletion deletes its artifacts first, and some could not be deleted (the workflow's ArtifactGCError condition says which). Fix access to the storage and delete again, or pass --force (Argo's forceFinalizerRemoval) to delete the workflow anyway.",
  },
});

/**
 * Runs Argo's OnWorkflowDeletion artifact garbage collection before a workflow is deleted. The repository is
 * built from the config as the run built it; credentials of remote storage come from the environment (the
 * Secret manifests given to the run are not stored). When some artifacts cannot be deleted the workflow is
 * kept, with an `ArtifactGCError` condition, and `SKF-RUN-013` is thrown, unless `force` or the workflow's
 * `spec.artifactGC.forceFinalizerRemoval` says to delete it anyway.
 */
export async function collectBeforeDelete(
  store: Store,
  wf: Workflow,
  config: SkiffConfig,
  force: boolean,
): Promise<number> {
  if (!usesArtifactGC(wf, "OnWorkflowDeletion")) return 0;
  const repository = createWorkflowArtifactRepository({
    configured: config.artifactRepository,
    localRoot: join(config.stateDir, "artifacts"),
    workflow: wf,
    localPlugins: config.artifactDrivers.map((d) => d.name),
  });
  const outcome = await collectArtifactGarbage(wf, "OnWorkflowDeletion", repository);
  const forced =
    force || (wf.spec.artifactGC as { forceFinalizerRemoval?: boolean } | undefined)?.forceFinalizerRemoval;
  if (outcome.failures.length > 0 && !forced) {
    await store.put(wf);
    const first = outcome.failures[0]!;
    throw new SkiffError(
      "SKF-RUN-013",
      `workflow ${wf.metadata.name} is kept: ${outcome.failures.length} artifact(s) could not be deleted (first: ${first.artifact} of node ${first.nodeId}: ${first.message})`,
    );
  }
  return outcome.deleted;
}
