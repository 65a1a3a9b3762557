import * as core from "@actions/core";
import { existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SkiffError, toSkiffError, formatPosition } from "../../runtime/errors/index.js";
import { SystemClock, type Clock } from "../../runtime/interfaces/clock.js";
import type { ControllerEvent } from "../../runtime/interfaces/events.js";
import type { CompiledWorkflow } from "../../runtime/spec/compiled.js";
import { Library } from "../../runtime/spec/library.js";
import type { LoadedManifest } from "../../runtime/spec/load.js";
import { NO_POSITIONS } from "../../runtime/spec/positions.js";
import type { Secret, Workflow } from "../../runtime/spec/types.js";
import { defaultStateDir, loadConfig, type SkiffConfig } from "../config/index.js";
import { discoverPipelines, displayPath } from "../pipelines/discover.js";
import { compilePipeline, selectPipelines } from "../pipelines/select.js";
import { workflowCommand } from "../reporters/github-checks/annotations.js";
import { stepName } from "../reporters/github-checks/markdown.js";
import type { CheckAnnotation, GitHubClient } from "../reporters/github-checks/client.js";
import { GH_CODES } from "../reporters/github-checks/codes.js";
import { createOctokitClient } from "../reporters/github-checks/octokit.js";
import { createGitHubChecksReporter, type ReportingLimits } from "../reporters/github-checks/reporter.js";
import { appendJobSummary, renderJobSummary, type SummaryEntry } from "../reporters/job-summary/index.js";
import { runCompiledWorkflow, type RunHooks } from "../run/engine.js";
import { readGitHubEvent } from "./github-event.js";
import { readInputs } from "./inputs.js";
import { OPEN_CHECKS_STATE, type OpenChecksFile } from "./state.js";

/** Name of the Secret that holds the `secrets` input, for `secretKeyRef`. */
export const ACTION_SECRET_NAME = "github-secrets";

/** Seams for tests; the Action itself passes none. */
export interface ActionDependencies {
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  client?: GitHubClient;
  runWorkflow?: (compiled: CompiledWorkflow, config: SkiffConfig, hooks: RunHooks) => Promise<Workflow>;
}

/** What one run of the action did (also its outputs). */
export interface ActionResult {
  phase: "Succeeded" | "Failed" | "Skipped";
  workflows: { pipeline: string; name?: string; phase: string; message?: string; file?: string }[];
  outputs: Record<string, Record<string, string>>;
}

/** GitHub shows at most this many error (and warning) annotations of one step. */
const WORKFLOW_COMMAND_LIMIT = 10;

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
  const { context: ctx, notes: eventNotes } = await readGitHubEvent(env, client);
  for (const n of eventNotes) core.info(n);
  core.info(`Event ${ctx.event} on ${ctx.ref || ctx.sha} (${ctx.sha.slice(0, 12)})`);
  const jobUrl =
    env.GITHUB_RUN_ID && repository
      ? `${env.GITHUB_SERVER_URL || "https://github.com"}/${repository}/actions/runs/${env.GITHUB_RUN_ID}`
      : undefined;

  const summaryNotes: string[] = [];
  const openChecksFile = join(
    env.RUNNER_TEMP || tmpdir(),
    `skiff-open-checks-${env.GITHUB_RUN_ID ?? "local"}-${env.GITHUB_JOB ?? "job"}-${process.pid}.json`,
  );
  core.saveState(OPEN_CHECKS_STATE, openChecksFile);
  const reporter = createGitHubChecksReporter({
    client,
    clock,
    headSha: ctx.sha,
    checks: inputs.checks,
    workspace,
    secrets,
    ...(jobUrl ? { jobUrl } : {}),
    limits: limitsFromEnv(env),
    onFallback: (e) => {
      core.warning(`${e.code} ${e.message}\n${e.hint ?? ""}`);
      summaryNotes.push(
        `Check runs could not be written (${e.message}). Results are in this summary and the job's annotations.`,
      );
    },
    onOpenChecksChanged: (open) => writeOpenChecks(openChecksFile, { open: [...open], finished: false }),
  });

  const pipelinesPath = resolve(workspace, inputs.pipelines);
  const found = await discoverPipelines(pipelinesPath);
  const entries: SummaryEntry[] = [];
  let rejected = 0;
  const reject = (pipeline: string, e: SkiffError) => {
    rejected++;
    const problems = "problems" in e && Array.isArray(e.problems) ? (e.problems as SkiffError[]) : [e];
    for (const p of problems) errorAnnotation(p, workspace);
    entries.push({ pipeline, error: problems[0] ?? e });
    result.workflows.push({ pipeline, phase: "Error", message: `${e.code} ${e.message}` });
  };
  for (const p of found.problems)
    reject(p.position?.file ? displayPath(p.position.file, workspace) : inputs.pipelines, p);

  const selection = selectPipelines(found.manifests, ctx);
  for (const p of selection.problems)
    reject(p.position?.file ? displayPath(p.position.file, workspace) : "?", p);
  for (const c of selection.skipped) {
    core.info(`Not running ${c.name}: ${c.decision.reason}`);
    entries.push({ pipeline: c.name, notRun: c.decision.reason });
    if (selection.skipCi && c.decision.reason.includes(selection.skipCi))
      reporter.reportNotRun(
        c.name,
        `Skipped: the head commit says ${selection.skipCi}`,
        `The head commit's message contains \`${selection.skipCi}\`, so ${c.name} did not run.`,
        "neutral",
      );
  }
  if (found.problems.length === 0 && found.manifests.length === 0)
    reject(
      inputs.pipelines,
      new SkiffError("SKF-PIPE-001", `no pipeline found in ${inputs.pipelines}`, {
        hint: "Put Argo Workflows or kind: Pipeline files in .skiff/ (or set the pipelines input).",
      }),
    );

  const library = Library.from([...found.manifests, ...secretManifest(inputs.secrets)]);
  const config = await actionConfig(inputs.config, pipelinesPath, workspace, inputs.executor, env);
  const runWorkflow = deps.runWorkflow ?? runCompiledWorkflow;
  let failed = 0;
  let ran = 0;
  for (const candidate of selection.selected) {
    let compiled: CompiledWorkflow;
    try {
      compiled = compilePipeline(candidate, library, ctx, { parameters: inputs.parameters });
    } catch (e) {
      const err = toSkiffError(e);
      reject(candidate.name, err);
      reporter.reportNotRun(
        candidate.name,
        `Rejected: ${err.code} ${err.message}`.slice(0, 255),
        rejection(err, workspace),
        "failure",
      );
      continue;
    }
    const listener = reporter.listener(compiled, candidate.name);
    const stepNames = new Map<string, string>();
    const file = displayPath(candidate.manifest.file, workspace);
    core.startGroup(`${candidate.name} (${file})`);
    let wf: Workflow;
    try {
      wf = await runWorkflow(compiled, config, {
        onEvent: (e) => {
          listener(e);
          logEvent(e, stepNames);
        },
        workspace,
        signals: true,
      });
    } catch (e) {
      reject(candidate.name, toSkiffError(e));
      continue;
    } finally {
      core.endGroup();
    }
    ran++;
    const phase = wf.status?.phase ?? "Error";
    if (phase !== "Succeeded") failed++;
    core.info(`${candidate.name}: ${phase}${wf.status?.message ? ` (${wf.status.message})` : ""}`);
    entries.push({ pipeline: candidate.name, workflow: wf });
    result.workflows.push({
      pipeline: candidate.name,
      name: wf.metadata.name,
      phase,
      ...(wf.status?.message ? { message: wf.status.message } : {}),
      file,
    });
    const outputs = wf.status?.outputs?.parameters ?? [];
    if (outputs.length > 0)
      result.outputs[candidate.name] = Object.fromEntries(
        outputs.map((p) => [p.name, String(p.value ?? "")]),
      );
  }

  await reporter.flush(Number(env.SKIFF_GITHUB_FLUSH_TIMEOUT_MS) || 5 * 60_000);
  // Checks still open now lost their last update to a GitHub failure; the post step closes them as such.
  if (reporter.openChecks().length > 0)
    writeOpenChecks(openChecksFile, { open: reporter.openChecks(), finished: true });
  if (reporter.fellBack) printAnnotations(reporter.unsentAnnotations());
  const markdown = renderJobSummary(entries, {
    secrets,
    now: clock.now(),
    ...(jobUrl ? { jobUrl } : {}),
    notes: summaryNotes,
  });
  await appendJobSummary(env.GITHUB_STEP_SUMMARY, markdown);

  result.phase = failed + rejected > 0 ? "Failed" : ran > 0 ? "Succeeded" : "Skipped";
  if (result.phase === "Skipped")
    core.info(
      selection.skipCi
        ? `Skipped: the head commit says ${selection.skipCi}`
        : "No pipeline matches this event",
    );
  if (result.phase === "Failed") {
    const message = `${GH_CODES["SKF-GH-005"]} ${failed + rejected} of ${ran + rejected} pipelines failed: ${result.workflows
      .filter((w) => w.phase !== "Succeeded")
      .map((w) => `${w.pipeline} (${w.phase})`)
      .join(", ")}`;
    if (inputs.failOnFailure) core.setFailed(message);
    else core.warning(message);
  }
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

/** The summary of a pipeline's check when it could not start: every problem with its place. */
function rejection(e: SkiffError, workspace: string): string {
  const problems = "problems" in e && Array.isArray(e.problems) ? (e.problems as SkiffError[]) : [e];
  const rows = problems.map((p) => {
    const where = p.position?.file
      ? `${displayPath(p.position.file, workspace)}${p.position.line !== undefined ? `:${p.position.line}` : ""}`
      : "";
    return `| \`${p.code}\` | ${where} | ${p.message.replace(/\|/g, "\\|")} |`;
  });
  return ["The pipeline could not start.", "", "| code | where | problem |", "|---|---|---|", ...rows].join(
    "\n",
  );
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

/** Annotations as workflow commands, failures first, within GitHub's ten of each kind. */
function printAnnotations(annotations: readonly CheckAnnotation[]): void {
  const counts = { failure: 0, warning: 0, notice: 0 };
  let dropped = 0;
  for (const a of annotations) {
    if (counts[a.annotation_level]++ >= WORKFLOW_COMMAND_LIMIT) {
      dropped++;
      continue;
    }
    process.stdout.write(workflowCommand(a) + "\n");
  }
  if (dropped > 0) core.info(`${dropped} more annotations are in the step logs above.`);
}

function writeOpenChecks(file: string, state: OpenChecksFile): void {
  try {
    writeFileSync(file, JSON.stringify(state));
  } catch {
    // The post step then finds nothing to close; the run itself is unaffected.
  }
}

function secretManifest(secrets: Record<string, string>): LoadedManifest[] {
  if (Object.keys(secrets).length === 0) return [];
  const secret: Secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: ACTION_SECRET_NAME },
    stringData: secrets,
  };
  return [{ object: secret, file: "<secrets input>", docIndex: 0, positions: NO_POSITIONS }];
}

async function actionConfig(
  input: string,
  pipelinesPath: string,
  workspace: string,
  executor: SkiffConfig["executor"],
  env: NodeJS.ProcessEnv,
): Promise<SkiffConfig> {
  const inFolder = join(pipelinesPath, "config.yaml");
  const file = input ? resolve(workspace, input) : existsSync(inFolder) ? inFolder : undefined;
  const config = await loadConfig(file, env);
  if (executor !== "auto") config.executor = executor;
  // Runner temp is cleaned after each job; the home folder of a self-hosted runner is not.
  if (env.RUNNER_TEMP && config.stateDir === defaultStateDir(env))
    config.stateDir = join(env.RUNNER_TEMP, "skiff");
  return config;
}

/** GitHub Enterprise Server administrators set their own limits; these variables follow them. */
function limitsFromEnv(env: NodeJS.ProcessEnv): Partial<ReportingLimits> {
  const out: Partial<ReportingLimits> = {};
  const perMinute = Number(env.SKIFF_GITHUB_WRITES_PER_MINUTE);
  const perHour = Number(env.SKIFF_GITHUB_WRITES_PER_HOUR);
  if (perMinute > 0) out.writesPerMinute = perMinute;
  if (perHour > 0) out.writesPerHour = perHour;
  return out;
}
