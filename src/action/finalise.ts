import * as core from "@actions/core";
import { readFileSync, rmSync } from "node:fs";
import { SkiffError } from "../../runtime/errors/index.js";
import { SystemClock, type Clock } from "../../runtime/interfaces/clock.js";
import {
  GitHubRequestError,
  type CheckRunFields,
  type GitHubClient,
} from "../reporters/github-checks/client.js";
import { GH_CODES } from "../reporters/github-checks/codes.js";
import { cell, maskSecrets } from "../reporters/github-checks/markdown.js";
import { createOctokitClient } from "../reporters/github-checks/octokit.js";
import type { OpenCheck } from "../reporters/github-checks/reporter.js";
import { appendJobSummary } from "../reporters/job-summary/summary.js";
import { OPEN_CHECKS_STATE, type OpenChecksFile } from "./state.js";

/** Seams for tests; the post step itself passes none. */
export interface FinaliseDependencies {
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  client?: GitHubClient;
}

/** First backoff after a 5xx or network error; doubled on each further attempt, at most {@link MAX_BACKOFF_MS}. */
const BASE_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 60_000;

/**
 * The post step: completes the check runs the main step left `in_progress`. When the job was cancelled (or
 * the main step died) they are completed as cancelled; when the main step finished but GitHub did not take
 * their last update, with the result they were meant to get. 5xx, network errors and rate limits are retried
 * until the time the main step also waits (`SKIFF_GITHUB_FLUSH_TIMEOUT_MS`, 5 minutes) runs out; what GitHub
 * still did not take is reported in the job summary.
 */
export async function finaliseOpenChecks(deps: FinaliseDependencies = {}): Promise<number> {
  const env = deps.env ?? process.env;
  const file = env[`STATE_${OPEN_CHECKS_STATE}`] ?? "";
  if (!file) return 0;
  let state: OpenChecksFile;
  try {
    state = JSON.parse(readFileSync(file, "utf8")) as OpenChecksFile;
  } catch {
    return 0;
  }
  const open = state.open ?? [];
  if (open.length === 0) return 0;
  const clock = deps.clock ?? new SystemClock();
  const token = env["INPUT_GITHUB-TOKEN"] ?? "";
  const client =
    deps.client ??
    createOctokitClient({
      token,
      baseUrl: env.GITHUB_API_URL || "https://api.github.com",
      repository: env.GITHUB_REPOSITORY ?? "",
      userAgent: "skiff-action",
    });
  const deadline = clock.now() + (Number(env.SKIFF_GITHUB_FLUSH_TIMEOUT_MS) || 5 * 60_000);
  // The clock's timers do not hold the process open; backoff before a retry must.
  const keepAlive = setInterval(() => {}, 60_000);
  let closed = 0;
  const missed: { check: OpenCheck; error: string }[] = [];
  try {
    for (const check of open) {
      try {
        await withRetries(() => client.updateCheckRun(check.id, completion(check, state.finished, clock)), {
          clock,
          deadline,
        });
        closed++;
      } catch (e) {
        core.warning(`cannot complete check run ${check.name}: ${(e as Error).message}`);
        missed.push({ check, error: (e as Error).message });
      }
    }
  } finally {
    clearInterval(keepAlive);
  }
  core.info(
    `Completed ${closed} check run${closed === 1 ? "" : "s"} left open as ${state.finished ? "the run's results" : "cancelled"}`,
  );
  if (missed.length > 0) {
    const err = new SkiffError(
      GH_CODES["SKF-GH-002"],
      `GitHub did not take the final state of ${missed.length} check run${missed.length === 1 ? "" : "s"}`,
    );
    core.warning(`${err.code} ${err.message}\n${err.hint ?? ""}`);
    // GitHub's answers are quoted: the token must not show in them.
    await appendJobSummary(
      env.GITHUB_STEP_SUMMARY,
      maskSecrets(missedSummary(missed, state.finished), [token]),
    );
  }
  rmSync(file, { force: true });
  return closed;
}

/** The final state of a check left open: its true result when the run reached its end, else cancelled. */
function completion(check: OpenCheck, finished: boolean, clock: Clock): CheckRunFields {
  if (check.result)
    return {
      status: "completed",
      conclusion: check.result.conclusion,
      completed_at: check.result.completed_at,
      output: { title: check.result.title, summary: check.result.summary },
    };
  const now = new Date(clock.now()).toISOString();
  if (finished)
    // The run ended without this check's result: say so, without claiming a conclusion it did not have.
    return {
      status: "completed",
      conclusion: "neutral",
      completed_at: now,
      output: {
        title: "Result not reported",
        summary: "GitHub did not take this check's last update. The job summary has the result.",
      },
    };
  return {
    status: "completed",
    conclusion: "cancelled",
    completed_at: now,
    output: {
      title: "Cancelled",
      summary: "The job stopped before this finished (cancelled, timed out or the runner was lost).",
    },
  };
}

/** The job summary's account of the check runs that stayed open, with the result each should show. */
function missedSummary(missed: { check: OpenCheck; error: string }[], finished: boolean): string {
  const rows = missed.map(
    ({ check, error }) =>
      `| ${cell(check.name)} | ${check.result?.conclusion ?? (finished ? "not known" : "cancelled")} | ${cell(check.result?.title ?? "")} | ${cell(error)} |`,
  );
  return [
    `> [!WARNING]`,
    `> ${GH_CODES["SKF-GH-002"]}: GitHub did not take the final state of these check runs; they may still show as in progress. Their results:`,
    "",
    "| Check run | Conclusion | Result | GitHub's answer |",
    "|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

/**
 * Calls GitHub until it answers, waiting out rate limits (`Retry-After` or the reset) and backing off on 5xx
 * and network errors, as long as the deadline allows. Throws GitHub's last refusal otherwise.
 */
async function withRetries<T>(fn: () => Promise<T>, o: { clock: Clock; deadline: number }): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const err =
        e instanceof GitHubRequestError ? e : new GitHubRequestError(0, String((e as Error)?.message ?? e));
      const transient = err.rateLimited || err.status === 0 || err.status >= 500;
      if (!transient) throw err;
      const backoff = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (attempt - 1));
      const wait = err.retryAfterMs ?? (err.rateLimited ? Math.max(60_000, backoff) : backoff);
      if (o.clock.now() + wait > o.deadline) throw err;
      await o.clock.sleep(wait);
    }
  }
}
