import type { ArtifactRepository } from "../interfaces/artifacts.js";
import type { Artifact, NodeStatus, Template, Workflow } from "../spec/types.js";

/** Argo's `artifactGC.strategy` values. An empty or absent strategy means no garbage collection. */
export type ArtifactGCStrategy = "OnWorkflowCompletion" | "OnWorkflowDeletion" | "Never";

/** What one garbage collection pass did. */
export interface ArtifactGCOutcome {
  /** Artifacts deleted from their storage (now marked `deleted: true` in the node outputs). */
  deleted: number;
  /** Artifacts that could not be deleted, each with the node and the storage's error. */
  failures: { nodeId: string; artifact: string; message: string }[];
}

/** The workflow condition Argo sets when artifacts could not be deleted. */
export const ARTIFACT_GC_ERROR = "ArtifactGCError";

const strategyOf = (gc: unknown): ArtifactGCStrategy | undefined => {
  const s = (gc as { strategy?: unknown } | undefined)?.strategy;
  return s === "OnWorkflowCompletion" || s === "OnWorkflowDeletion" || s === "Never" ? s : undefined;
};

/**
 * The strategy that applies to an output artifact, as in Argo: the artifact's own `artifactGC.strategy`,
 * else the workflow's `spec.artifactGC.strategy`, else none. The artifact's copy in the node outputs may
 * lack its `artifactGC`; the template that produced it is asked then.
 */
export function artifactGCStrategy(
  wf: Workflow,
  artifact: Artifact,
  template?: Template,
): ArtifactGCStrategy | undefined {
  const own =
    strategyOf(artifact.artifactGC) ??
    strategyOf(template?.outputs?.artifacts?.find((a) => a.name === artifact.name)?.artifactGC);
  return own ?? strategyOf(wf.spec.artifactGC);
}

/** Whether any artifact of the workflow may be collected with `strategy` (cheap: reads the spec only). */
export function usesArtifactGC(wf: Workflow, strategy: ArtifactGCStrategy): boolean {
  if (strategyOf(wf.spec.artifactGC) === strategy) return true;
  const templates = [...(wf.spec.templates ?? []), ...Object.values(wf.status?.storedTemplates ?? {})];
  return templates.some((t) => t.outputs?.artifacts?.some((a) => strategyOf(a.artifactGC) === strategy));
}

function templateOf(wf: Workflow, node: NodeStatus): Template | undefined {
  const stored = wf.status?.storedTemplates ?? {};
  const ref = node.templateRef;
  if (ref) {
    const key = `${ref.clusterScope ? "cluster" : "namespaced"}/${ref.name}/${ref.template}`;
    return stored[key];
  }
  return wf.spec.templates?.find((t) => t.name === node.templateName);
}

/**
 * Deletes the output artifacts of the workflow's pods whose strategy is `strategy` (Argo's artifact garbage
 * collection), marks each deleted one `deleted: true` in its node's outputs, and records the pass in
 * `status.artifactGCStatus.strategiesProcessed`. Failures do not stop the pass: they are returned and set as
 * an `ArtifactGCError` condition, as Argo does. `wf` is changed in place.
 */
export async function collectArtifactGarbage(
  wf: Workflow,
  strategy: Exclude<ArtifactGCStrategy, "Never">,
  repository: ArtifactRepository,
): Promise<ArtifactGCOutcome> {
  const outcome: ArtifactGCOutcome = { deleted: 0, failures: [] };
  const status = (wf.status ??= {});
  for (const node of Object.values(status.nodes ?? {})) {
    if (node.type !== "Pod") continue;
    const template = templateOf(wf, node);
    for (const artifact of node.outputs?.artifacts ?? []) {
      if (artifact.deleted || artifact.raw) continue;
      if (artifactGCStrategy(wf, artifact, template) !== strategy) continue;
      try {
        await repository.driverFor(artifact).delete(artifact);
        artifact.deleted = true;
        outcome.deleted++;
      } catch (e) {
        outcome.failures.push({
          nodeId: node.id,
          artifact: artifact.name,
          message: e instanceof Error ? e.message : String(e),
        });
      }
    }
  }
  const gcStatus = ((status as { artifactGCStatus?: Record<string, unknown> }).artifactGCStatus ??= {});
  gcStatus.strategiesProcessed = {
    ...(gcStatus.strategiesProcessed as Record<string, boolean> | undefined),
    [strategy]: true,
  };
  if (outcome.failures.length > 0) {
    const message = outcome.failures
      .map((f) => `artifact ${f.artifact} of node ${f.nodeId}: ${f.message}`)
      .join("; ");
    const conditions = (status.conditions ?? []).filter((c) => c.type !== ARTIFACT_GC_ERROR);
    conditions.push({ type: ARTIFACT_GC_ERROR, status: "True", message });
    status.conditions = conditions;
  }
  return outcome;
}
