import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { LoadedManifest } from "../../runtime/spec/load.js";
import { NO_POSITIONS } from "../../runtime/spec/positions.js";
import type { Secret } from "../../runtime/spec/types.js";
import { defaultStateDir, loadConfig, type SkiffConfig } from "../config/index.js";
import type { ReportingLimits } from "../reporters/github-checks/reporter.js";
import type { OpenChecksFile } from "./state.js";

/** Name of the Secret that holds the `secrets` input, for `secretKeyRef`. */
export const ACTION_SECRET_NAME = "github-secrets";

/** The `secrets` input as a Secret beside the pipelines, so workflows reach it by `secretKeyRef`. */
export function secretManifest(secrets: Record<string, string>): LoadedManifest[] {
  if (Object.keys(secrets).length === 0) return [];
  const secret: Secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: ACTION_SECRET_NAME },
    stringData: secrets,
  };
  return [{ object: secret, file: "<secrets input>", docIndex: 0, positions: NO_POSITIONS }];
}

/**
 * The config the action runs with: the `config` input, else `config.yaml` in the pipelines folder; the
 * `executor` input wins; state goes to the runner's temp folder.
 */
export async function actionConfig(
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
export function limitsFromEnv(env: NodeJS.ProcessEnv): Partial<ReportingLimits> {
  const out: Partial<ReportingLimits> = {};
  const perMinute = Number(env.SKIFF_GITHUB_WRITES_PER_MINUTE);
  const perHour = Number(env.SKIFF_GITHUB_WRITES_PER_HOUR);
  if (perMinute > 0) out.writesPerMinute = perMinute;
  if (perHour > 0) out.writesPerHour = perHour;
  return out;
}

/** Writes the open-checks file the post step reads. */
export function writeOpenChecks(file: string, state: OpenChecksFile): void {
  try {
    // It holds the checks' results (masked) for the post step: readable by the job's user only.
    writeFileSync(file, JSON.stringify(state), { mode: 0o600 });
  } catch {
    // The post step then finds nothing to close; the run itself is unaffected.
  }
}
