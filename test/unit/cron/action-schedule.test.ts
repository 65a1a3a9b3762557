import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseManifests } from "../../../runtime/spec/load.js";
import { readGitHubEvent } from "../../../src/action/github-event.js";
import type { GitContext } from "../../../src/pipelines/git-context.js";
import { selectPipelines } from "../../../src/pipelines/select.js";
import type { GitHubClient } from "../../../src/reporters/github-checks/client.js";

const PIPELINES = `apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata: {name: nightly}
spec:
  schedules: ["0 2 * * *"]
  workflowSpec: {entrypoint: main, templates: [{name: main, container: {image: alpine}}]}
---
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata: {name: hourly-and-weekly}
spec:
  schedule: "0 * * * *"
  schedules: ["0  3 * * 1"]
  workflowSpec: {entrypoint: main, templates: [{name: main, container: {image: alpine}}]}
---
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: on-schedule
  annotations: {skiff.dev/on-event: schedule}
spec: {entrypoint: main, templates: [{name: main, container: {image: alpine}}]}
`;

function context(event: string, schedule?: string): GitContext {
  return {
    event,
    repository: "o/r",
    sha: "a".repeat(40),
    ref: "refs/heads/main",
    branch: "main",
    targetBranch: "main",
    actor: "me",
    ...(schedule !== undefined ? { schedule } : {}),
  };
}

const selected = (ctx: GitContext) =>
  selectPipelines(parseManifests(PIPELINES, ".skiff/cron.yaml").manifests, ctx).selected.map((c) => c.name);

describe("the action's schedule event", () => {
  it("runs only the CronWorkflows whose schedule is the event's cron string", () => {
    expect(selected(context("schedule", "0 2 * * *"))).toEqual(["nightly", "on-schedule"]);
    expect(selected(context("schedule", "0 * * * *"))).toEqual(["hourly-and-weekly", "on-schedule"]);
    // Fields compare one by one, whatever the spacing.
    expect(selected(context("schedule", "0 3 * * 1"))).toEqual(["hourly-and-weekly", "on-schedule"]);
    expect(selected(context("schedule", "*/5 * * * *"))).toEqual(["on-schedule"]);
  });

  it("says why a CronWorkflow was skipped", () => {
    const skipped = selectPipelines(
      parseManifests(PIPELINES, ".skiff/cron.yaml").manifests,
      context("schedule", "*/5 * * * *"),
    ).skipped.find((c) => c.name === "nightly");
    expect(skipped?.decision.reason).toBe(
      'the schedule event is for "*/5 * * * *", not one of this CronWorkflow\'s schedules ("0 2 * * *")',
    );
  });

  it("runs every CronWorkflow on a schedule event that names no cron string, and on workflow_dispatch", () => {
    expect(selected(context("schedule"))).toEqual(["nightly", "hourly-and-weekly", "on-schedule"]);
    expect(selected(context("workflow_dispatch"))).toEqual(["nightly", "hourly-and-weekly"]);
  });

  it("reads github.event.schedule from the event payload", async () => {
    const dir = await mkdtemp(join(tmpdir(), "skiff-schedule-"));
    try {
      const path = join(dir, "event.json");
      await writeFile(path, JSON.stringify({ schedule: "0 2 * * *" }));
      const event = await readGitHubEvent(
        {
          GITHUB_EVENT_NAME: "schedule",
          GITHUB_REPOSITORY: "o/r",
          GITHUB_SHA: "b".repeat(40),
          GITHUB_REF: "refs/heads/main",
          GITHUB_EVENT_PATH: path,
        },
        {} as GitHubClient,
      );
      expect(event.context.schedule).toBe("0 2 * * *");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
