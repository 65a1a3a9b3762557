import { Command, Option } from "commander";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { SkiffError, toSkiffError } from "../../../runtime/errors/index.js";
import { SystemClock } from "../../../runtime/interfaces/clock.js";
import { loadConfig, type SkiffConfig } from "../../config/index.js";
import { readCiContext, type CiContext, type CiProvider } from "../../pipelines/providers/index.js";
import { createConsoleReporter } from "../../reporters/console/live.js";
import { createConsoleRunReporter } from "../../reporters/console/run.js";
import type { RunReporter } from "../../reporters/events.js";
import { GL_CODES } from "../../reporters/gitlab/codes.js";
import { createGitbeakerClient } from "../../reporters/gitlab/gitbeaker.js";
import { createGitLabReporter } from "../../reporters/gitlab/reporter.js";
import { createJUnitReporter } from "../../reporters/junit/reporter.js";
import { runSelection } from "../../run/pipeline.js";
import { selectForEvent } from "../../run/select.js";
import { EXIT } from "../exit.js";
import { printError } from "../output.js";
import { readParameters } from "./run.js";

export interface CiOptions {
  provider: CiProvider | "auto";
  pipelines: string;
  executor?: string;
  config?: string;
  sandbox?: string;
  stateDir?: string;
  parameter: string[];
  parameterFile?: string;
  event?: string;
  junit?: string;
  gitlabReport?: boolean;
  codeQuality: string;
  tokenVariable: string;
  serverUrl?: string;
  logs?: boolean;
}

/** The default variable holding the GitLab token (a project access token with the `api` scope). */
export const DEFAULT_TOKEN_VARIABLE = "SKIFF_GITLAB_TOKEN";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `skiff ci`: what the GitLab component and the Jenkins library run. */
export function ciCommand(setExitCode: (code: number) => void): Command {
  return new Command("ci")
    .description(
      "Select the pipelines a GitLab CI or Jenkins event triggers (skiff.dev/on-* annotations), run them and report",
    )
    .addOption(
      new Option("--provider <name>", "CI system whose variables are read")
        .choices(["auto", "gitlab", "jenkins"])
        .default("auto"),
    )
    .option("--pipelines <dir>", "pipelines folder, relative to the checkout", ".skiff")
    .addOption(
      new Option("--executor <name>", "where steps run").choices(["auto", "host", "docker", "kubernetes"]),
    )
    .option("--config <file>", "Skiff config file (default: config.yaml in the pipelines folder, if any)")
    .addOption(new Option("--sandbox <mode>", "host executor sandbox").choices(["auto", "bwrap", "none"]))
    .option("--state-dir <dir>", "where runs, logs and local artifacts are kept")
    .option(
      "-p, --parameter <name=value>",
      "set a workflow parameter of every pipeline (repeatable)",
      collect,
      [],
    )
    .option("--parameter-file <file>", "YAML or JSON file of parameter values")
    .option(
      "--event <name>",
      "the event instead of the provider's (push, pull_request, schedule, workflow_dispatch...)",
    )
    .option("--junit <file>", "write a JUnit XML report")
    .option(
      "--gitlab-report",
      "set GitLab commit statuses, note the merge request, write the Code Quality report",
    )
    .option(
      "--code-quality <file>",
      "where --gitlab-report writes the Code Quality report",
      "gl-code-quality-report.json",
    )
    .option(
      "--token-variable <name>",
      "environment variable holding the GitLab token",
      DEFAULT_TOKEN_VARIABLE,
    )
    .option("--server-url <url>", "Skiff or Argo server URL that statuses link to")
    .option("--logs", "stream step logs, each line prefixed with its step")
    .addHelpText(
      "after",
      `
Examples:
  skiff ci --junit skiff-junit.xml --gitlab-report        # in a GitLab CI job
  skiff ci --provider jenkins --junit skiff-junit.xml     # in a Jenkins build

Exit codes: 0 every selected pipeline Succeeded (or none was selected), 1 one Failed or could not start,
2 rejected before running (no CI variables, bad arguments).`,
    )
    .action(async (opts: CiOptions) => {
      setExitCode(await ciAction(opts));
    });
}

/** Runs `skiff ci` and returns its exit code. */
export async function ciAction(opts: CiOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let ci: CiContext;
  let parameters: Record<string, string>;
  try {
    ci = await readCiContext(opts.provider, env, {
      cwd: process.cwd(),
      ...(opts.event ? { event: opts.event } : {}),
    });
    parameters = await readParameters(opts.parameter ?? [], opts.parameterFile);
  } catch (e) {
    printError(toSkiffError(e));
    return EXIT.rejected;
  }
  const out = process.stdout;
  const workspace = resolve(ci.workspace);
  for (const n of ci.notes) out.write(`note: ${n}\n`);
  const ctx = ci.context;
  out.write(
    `${ci.provider}: event ${ctx.event} on ${ctx.ref || ctx.branch || "?"} (${ctx.sha.slice(0, 12)})` +
      `${ctx.pullRequest !== undefined ? `, ${ci.provider === "gitlab" ? "merge request !" : "change #"}${ctx.pullRequest}` : ""}\n`,
  );

  // Read once and removed: no step inherits the token.
  const token = env[opts.tokenVariable] ?? "";
  delete env[opts.tokenVariable];
  const secrets = token ? [token] : [];
  const clock = new SystemClock();
  const reporters: RunReporter[] = [
    createConsoleRunReporter(() =>
      createConsoleReporter({
        out,
        logOut: out,
        live: false,
        logs: opts.logs === true,
        wide: false,
        color: false,
      }),
    ),
  ];
  if (opts.junit)
    reporters.push(
      createJUnitReporter({
        file: resolve(opts.junit),
        workspace,
        secrets,
        onError: (e) => process.stderr.write(`cannot write the JUnit report ${opts.junit}: ${e.message}\n`),
      }),
    );
  if (opts.gitlabReport) {
    const apiUrl = ci.apiUrl ?? env.CI_API_V4_URL;
    const missing = [
      ...(ci.projectId ? [] : ["CI_PROJECT_ID"]),
      ...(apiUrl ? [] : ["CI_API_V4_URL"]),
      ...(token ? [] : [opts.tokenVariable]),
    ];
    if (missing.length > 0) {
      const e = new SkiffError(
        GL_CODES["SKF-GL-003"],
        `${missing.join(", ")} not set: no commit statuses nor merge-request note`,
      );
      process.stderr.write(`warning: ${e.code} ${e.message}\n  hint: ${e.hint}\n`);
    }
    reporters.push(
      createGitLabReporter({
        ...(missing.length === 0
          ? { client: createGitbeakerClient({ apiUrl: apiUrl!, token, projectId: ci.projectId! }) }
          : {}),
        clock,
        sha: ctx.sha,
        ...(ctx.branch ? { ref: ctx.branch } : {}),
        ...(ci.pipelineId !== undefined ? { pipelineId: ci.pipelineId } : {}),
        ...(ctx.pullRequest !== undefined ? { mergeRequestIid: ctx.pullRequest } : {}),
        workspace,
        secrets,
        ...(opts.serverUrl ? { serverUrl: opts.serverUrl } : {}),
        ...(ci.jobUrl ? { jobUrl: ci.jobUrl } : {}),
        codeQualityFile: resolve(opts.codeQuality),
        ...(env.CI_JOB_NAME ? { noteKey: env.CI_JOB_NAME } : {}),
        log: (line) => process.stderr.write(`warning: ${line}\n`),
      }),
    );
  }

  const selection = await selectForEvent({
    context: ctx,
    workspace,
    pipelines: opts.pipelines,
    ...(Object.keys(parameters).length > 0 ? { parameters } : {}),
  });
  for (const s of selection.skipped) out.write(`skipped ${s.pipeline}: ${s.reason}\n`);

  // Backoff before a retry of a reporting request waits on timers that do not hold the process open.
  const keepAlive = setInterval(() => {}, 60_000);
  try {
    const result = await runSelection(selection, {
      config: () => ciConfig(opts, workspace, env),
      reporters,
      onError: "continue",
      hooks: { workspace, signals: true },
    });
    for (const w of result.workflows) if (w.error) printError(w.error);
    out.write(
      result.phase === "Skipped"
        ? result.skipCi
          ? `Skipped: the head commit says ${result.skipCi}\n`
          : "No pipeline matches this event\n"
        : `${result.ran - result.failed} of ${result.ran + result.rejected} pipelines succeeded\n`,
    );
    return result.phase === "Failed" ? EXIT.failed : EXIT.ok;
  } catch (e) {
    printError(toSkiffError(e));
    return EXIT.rejected;
  } finally {
    clearInterval(keepAlive);
  }
}

/** The config file given, else `config.yaml` in the pipelines folder; the command line's options win. */
async function ciConfig(opts: CiOptions, workspace: string, env: NodeJS.ProcessEnv): Promise<SkiffConfig> {
  const inFolder = join(resolve(workspace, opts.pipelines), "config.yaml");
  const file = opts.config ? resolve(workspace, opts.config) : existsSync(inFolder) ? inFolder : undefined;
  const config = await loadConfig(file, env);
  if (opts.executor && opts.executor !== "auto") config.executor = opts.executor as SkiffConfig["executor"];
  if (opts.sandbox) config.host.sandbox = opts.sandbox as SkiffConfig["host"]["sandbox"];
  if (opts.stateDir) config.stateDir = opts.stateDir;
  return config;
}
