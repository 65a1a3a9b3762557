import * as core from "@actions/core";
import { formatPosition, type SkiffError } from "../../runtime/errors/index.js";
import type { ControllerEvent } from "../../runtime/interfaces/events.js";
import { displayPath } from "../pipelines/discover.js";
import type { RunReporter } from "../reporters/events.js";
import { stepName } from "../reporters/github-checks/markdown.js";

/**
 * The job log as a run reporter: one group per workflow with its step logs and transitions, an error
 * annotation per problem of a pipeline that cannot run, a line per pipeline not run.
 */
export function createJobLogReporter(workspace: string): RunReporter {
  let stepNames = new Map<string, string>();
  return {
    onEvent(e) {
      switch (e.type) {
        case "rejected": {
          const problems =
            "problems" in e.error && Array.isArray(e.error.problems)
              ? (e.error.problems as SkiffError[])
              : [e.error];
          for (const p of problems) errorAnnotation(p, workspace);
          // A run that could not start still closes its group.
          if (e.stage === "run") core.endGroup();
          return;
        }
        case "skipped":
          core.info(`Not running ${e.pipeline}: ${e.reason}`);
          return;
        case "workflow-starting":
          stepNames = new Map();
          core.startGroup(`${e.pipeline} (${e.file})`);
          return;
        case "controller":
          logEvent(e.event, stepNames);
          return;
        case "workflow-completed": {
          core.endGroup();
          const status = e.workflow.status;
          core.info(
            `${e.pipeline}: ${status?.phase ?? "Error"}${status?.message ? ` (${status.message})` : ""}`,
          );
          return;
        }
      }
    },
  };
}

/**
 * Step logs and transitions in the job log. Each line is prefixed with its step, which also keeps step output
 * from issuing workflow commands (they must start a line).
 */
function logEvent(e: ControllerEvent, names: Map<string, string>): void {
  if (e.type === "log") {
    core.info(`[${names.get(e.line.nodeId) ?? e.line.nodeId}] ${e.line.text}`);
  } else if (e.type === "node-updated") {
    const name = stepName(e.node, e.workflow.metadata.name ?? "");
    names.set(e.node.id, name);
    if (e.node.phase === e.previousPhase || e.node.type === "StepGroup" || e.node.type === "TaskGroup")
      return;
    if (e.node.phase === "Running" || e.node.phase === "Pending") return;
    core.info(`${name}: ${e.node.phase}${e.node.message ? ` (${e.node.message})` : ""}`);
  }
}

function errorAnnotation(p: SkiffError, workspace: string): void {
  const file = p.position?.file;
  const rel = file ? displayPath(file, workspace) : undefined;
  core.error(`${p.code} ${p.message}${p.hint ? `\n${p.hint}` : ""}`, {
    title: p.code,
    ...(rel ? { file: rel } : {}),
    ...(p.position?.line !== undefined ? { startLine: p.position.line } : {}),
    ...(p.position?.column !== undefined ? { startColumn: p.position.column } : {}),
  });
  if (!rel) core.info(formatPosition(p.position) ?? "");
}
