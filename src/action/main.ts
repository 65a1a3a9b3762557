import * as core from "@actions/core";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { toSkiffError } from "../../runtime/errors/index.js";
import { SystemClock, type Clock } from "../../runtime/interfaces/clock.js";
import type { GitHubClient } from "../reporters/github-checks/client.js";
import { GH_CODES } from "../reporters/github-checks/codes.js";
import { createOctokitClient } from "../reporters/github-checks/octokit.js";
import { createGitHubChecksReporter } from "../reporters/github-checks/reporter.js";
import { createJobSummaryReporter } from "../reporters/job-summary/reporter.js";
import { executorKind } from "../run/executors.js";
import { runSelection, type RunWorkflow } from "../run/pipeline.js";
import { selectForEvent } from "../run/select.js";
import { actionConfig, limitsFromEnv, secretManifest, writeOpenChecks } from "./config.js";
import { readGitHubEvent } from "./github-event.js";
import { forgetSecretInputs, readInputs } from "./inputs.js";
import { createJobLogReporter } from "./log.js";
import { scrubProcEnviron } from "./proc-environ.js";
import { prepareRunnerSandbox } from "./sandbox.js";
import { OPEN_CHECKS_STATE } from "./state.js";

export { ACTION_SECRET_NAME } from "./config.js";

/** Seams for tests; the Action itself passes none. */
export interface ActionDependencies {
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  client?: GitHubClient;
  runWorkflow?: RunWorkflow;
  /** Prepares the host executor's sandbox on a Linux runner (tests replace it). */
  prepareSandbox?: typeof prepareRunnerSandbox;
}

/** What one run of the action did (also its outputs). */
export interface ActionResult {
  phase: "Succeeded" | "Failed" | "Skipped";
  workflows: { pipeline: string; name?: string; phase: string; message?: string; file?: string }[];
  outputs: Record<string, Record<string, string>>;
}

/**
 * The Action: selects the pipelines the event triggers, runs them with the Git context as parameters and
 * the checkout as workspace, reports every step as a check run, writes the job summary and the outputs.
 * Reporting problems never fail the run; failed pipelines fail the job unless `fail-on-failure: false`.
 */
export async function run(deps: ActionDependencies = {}): Promise<ActionResult> {
  const env = deps.env ?? process.env;
  const result: ActionResult = { phase: "Skipped", workflows: [], outputs: {} };
  // The clock's timers do not hold the process open; backoff before a retry must.
  const keepAlive = setInterval(() => {}, 60_000);
  try {
    await runAction(env, deps, result);
  } catch (e) {
    const err = toSkiffError(e);
    core.setFailed(`${err.code} ${err.message}${err.hint ? `\n${err.hint}` : ""}`);
    result.phase = "Failed";
  } finally {
    clearInterval(keepAlive);
  }
  core.setOutput("phase", result.phase);
  core.setOutput("workflows", JSON.stringify(result.workflows));
  core.setOutput("outputs", JSON.stringify(result.outputs));
  return result;
}

async function runAction(
  env: NodeJS.ProcessEnv,
  deps: ActionDependencies,
  result: ActionResult,
): Promise<void> {
  const inputs = readInputs();
  const secrets = [inputs.githubToken, ...Object.values(inputs.secrets)].filter((s) => s !== "");
  for (const s of secrets) core.setSecret(s);
  // Read once: nothing started from here on (steps, hooks, tools) inherits them, nor reads them in
  // /proc/<pid>/environ where Linux lets the block be rewritten.
  scrubProcEnviron(forgetSecretInputs(secrets));
  const clock = deps.clock ?? new SystemClock();
  const workspace = resolve(env.GITHUB_WORKSPACE ?? process.cwd());
  const repository = env.GITHUB_REPOSITORY ?? "";
  const client =
    deps.client ??
    createOctokitClient({
      token: inputs.githubToken,
      baseUrl: env.GITHUB_API_URL || "https://api.github.com",
      repository,
      userAgent: "skiff-action",
    });
  const { context, notes } = await readGitHubEvent(env, client);
  for (const n of notes) core.info(n);
  core.info(`Event ${context.event} on ${context.ref || context.sha} (${context.sha.slice(0, 12)})`);
  const jobUrl =
    env.GITHUB_RUN_ID && repository
      ? `${env.GITHUB_SERVER_URL || "https://github.com"}/${repository}/actions/runs/${env.GITHUB_RUN_ID}`
      : undefined;

  const openChecksFile = join(
    env.RUNNER_TEMP || tmpdir(),
    `skiff-open-checks-${env.GITHUB_RUN_ID ?? "local"}-${env.GITHUB_JOB ?? "job"}-${process.pid}.json`,
  );
  core.saveState(OPEN_CHECKS_STATE, openChecksFile);
  const summary = createJobSummaryReporter({
    file: env.GITHUB_STEP_SUMMARY,
    clock,
    secrets,
    ...(jobUrl ? { jobUrl } : {}),
    ...(inputs.serverUrl ? { serverUrl: inputs.serverUrl } : {}),
    reportingNotes: () => checks.reportingNotes(),
  });
  const checks = createGitHubChecksReporter({
    client,
    clock,
    headSha: context.sha,
    checks: inputs.checks,
    workspace,
    secrets,
    ...(jobUrl ? { jobUrl } : {}),
    ...(inputs.serverUrl ? { serverUrl: inputs.serverUrl } : {}),
    limits: { ...limitsFromEnv(env), groupThreshold: inputs.groupThreshold },
    finishTimeoutMs: Number(env.SKIFF_GITHUB_FLUSH_TIMEOUT_MS) || 5 * 60_000,
    onFallback: (e) => {
      core.warning(`${e.code} ${e.message}\n${e.hint ?? ""}`);
      summary.note(
        `Check runs could not be written (${e.message}). Results are in this summary and the job's annotations.`,
      );
    },
    onOpenChecksChanged: (open, finished) => writeOpenChecks(openChecksFile, { open: [...open], finished }),
    writeCommand: (line) => process.stdout.write(line + "\n"),
  });

  const selection = await selectForEvent({
    context,
    workspace,
    pipelines: inputs.pipelines,
    parameters: inputs.parameters,
    library: secretManifest(inputs.secrets),
  });
  const ran = await runSelection(selection, {
    config: async () => {
      const config = await actionConfig(
        inputs.config,
        resolve(workspace, inputs.pipelines),
        workspace,
        inputs.executor,
        env,
      );
      // Steps on the host run in the bubblewrap sandbox by default on Linux runners; see ./sandbox.ts.
      if ((await executorKind(config)) === "host")
        for (const n of (deps.prepareSandbox ?? prepareRunnerSandbox)(env, config.host.sandbox).notes)
          core.info(n);
      return config;
    },
    // The summary is written before the check runs' last updates are waited for, so that it carries every
    // result even when the job's time runs out meanwhile; a fallback after it is appended to it.
    reporters: [createJobLogReporter(workspace), summary, checks],
    onError: "continue",
    hooks: { workspace, signals: true },
    ...(deps.runWorkflow ? { runWorkflow: deps.runWorkflow } : {}),
  });

  for (const w of ran.workflows) {
    result.workflows.push(
      w.workflow
        ? {
            pipeline: w.pipeline,
            name: w.name,
            phase: w.phase,
            ...(w.message ? { message: w.message } : {}),
            file: w.file,
          }
        : { pipeline: w.pipeline, phase: w.phase, message: w.message },
    );
    if (Object.keys(w.outputs).length > 0) result.outputs[w.pipeline] = w.outputs;
  }
  result.phase = ran.phase;
  if (result.phase === "Skipped")
    core.info(ran.skipCi ? `Skipped: the head commit says ${ran.skipCi}` : "No pipeline matches this event");
  if (result.phase === "Failed") {
    const message = `${GH_CODES["SKF-GH-005"]} ${ran.failed + ran.rejected} of ${ran.ran + ran.rejected} pipelines failed: ${result.workflows
      .filter((w) => w.phase !== "Succeeded")
      .map((w) => `${w.pipeline} (${w.phase})`)
      .join(", ")}`;
    if (inputs.failOnFailure) core.setFailed(message);
    else core.warning(message);
  }
}
