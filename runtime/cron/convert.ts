import type { CronWorkflow, Workflow } from "../spec/types.js";

/** Argo's labels and annotations of CronWorkflows and the workflows they create. */
export const CRON_LABELS = {
  /** On each workflow a CronWorkflow created: the CronWorkflow's name. */
  cronWorkflow: "workflows.argoproj.io/cron-workflow",
  /** On a CronWorkflow that `stopStrategy` stopped: `true`; the scheduler leaves it alone. */
  completed: "cronworkflows.argoproj.io/completed",
} as const;

export const CRON_ANNOTATIONS = {
  /** On each workflow a CronWorkflow created: the time it was scheduled for (RFC 3339). */
  scheduledTime: "workflows.argoproj.io/scheduled-time",
  /** On the CronWorkflow: the schedules `lastScheduledTime` refers to (missed runs count only under them). */
  lastUsedSchedule: "cronworkflows.argoproj.io/last-used-schedule",
} as const;

/** RFC 3339 in whole seconds, as Kubernetes writes times. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Argo's name of the run scheduled at `scheduledTime`: `<cron>-<unix seconds>`. */
export function cronWorkflowRunName(cronName: string, scheduledTime: number): string {
  return `${cronName}-${Math.floor(scheduledTime / 1000)}`;
}

/**
 * The Workflow a CronWorkflow creates for one scheduled time, as Argo's
 * `ConvertCronWorkflowToWorkflowWithProperties`: `workflowSpec`, the `workflowMetadata` labels and
 * annotations, the cron-workflow label, the scheduled-time annotation and a controller ownerReference.
 */
export function workflowFromCron(cron: CronWorkflow, scheduledTime: number): Workflow {
  const name = cron.metadata.name ?? "";
  const wfMeta = cron.spec.workflowMetadata ?? {};
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: {
      name: cronWorkflowRunName(name, scheduledTime),
      namespace: cron.metadata.namespace ?? "default",
      labels: { ...(wfMeta.labels ?? {}), [CRON_LABELS.cronWorkflow]: name },
      annotations: {
        ...(wfMeta.annotations ?? {}),
        [CRON_ANNOTATIONS.scheduledTime]: rfc3339(scheduledTime),
      },
      ownerReferences: [
        {
          apiVersion: "argoproj.io/v1alpha1",
          kind: "CronWorkflow",
          name,
          uid: cron.metadata.uid ?? "",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: structuredClone(cron.spec.workflowSpec),
  };
}
