import * as core from "@actions/core";
import { readFileSync, rmSync } from "node:fs";
import { createOctokitClient } from "../reporters/github-checks/octokit.js";
import { OPEN_CHECKS_STATE, type OpenChecksFile } from "./state.js";

/**
 * The post step: when the job was cancelled (or the main step died) while check runs were still in progress,
 * completes them as cancelled so they do not stay yellow on the pull request forever.
 */
export async function finaliseOpenChecks(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const file = core.getState(OPEN_CHECKS_STATE);
  if (!file) return 0;
  let state: OpenChecksFile;
  try {
    state = JSON.parse(readFileSync(file, "utf8")) as OpenChecksFile;
  } catch {
    return 0;
  }
  const open = state.open ?? [];
  if (open.length === 0) return 0;
  const client = createOctokitClient({
    token: core.getInput("github-token"),
    baseUrl: env.GITHUB_API_URL || "https://api.github.com",
    repository: env.GITHUB_REPOSITORY ?? "",
    userAgent: "skiff-action",
  });
  let closed = 0;
  for (const check of open) {
    try {
      await client.updateCheckRun(check.id, {
        status: "completed",
        completed_at: new Date().toISOString(),
        ...(state.finished
          ? {
              conclusion: "neutral",
              output: {
                title: "Result not reported",
                summary: "GitHub did not take this check's last update. The job summary has the result.",
              },
            }
          : {
              conclusion: "cancelled",
              output: {
                title: "Cancelled",
                summary:
                  "The job stopped before this finished (cancelled, timed out or the runner was lost).",
              },
            }),
      });
      closed++;
    } catch (e) {
      core.warning(`cannot complete check run ${check.name}: ${(e as Error).message}`);
    }
  }
  core.info(
    `Completed ${closed} check run${closed === 1 ? "" : "s"} left open as ${state.finished ? "neutral" : "cancelled"}`,
  );
  rmSync(file, { force: true });
  return closed;
}
