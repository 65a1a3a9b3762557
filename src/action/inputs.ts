import * as core from "@actions/core";
import { parse as parseYaml } from "yaml";
import { SkiffError } from "../../runtime/errors/index.js";
import { GH_CODES } from "../reporters/github-checks/codes.js";
import { DEFAULT_GROUP_THRESHOLD } from "../reporters/github-checks/groups.js";
import type { ChecksMode } from "../reporters/github-checks/reporter.js";

/** The action's inputs (see action.yml), checked. */
export interface ActionInputs {
  pipelines: string;
  executor: "auto" | "host" | "docker" | "kubernetes";
  parameters: Record<string, string>;
  githubToken: string;
  checks: ChecksMode;
  failOnFailure: boolean;
  config: string;
  /** Secret values by name: masked everywhere and given to workflows as the Secret `github-secrets`. */
  secrets: Record<string, string>;
  /** Loops with more items than this report as one check run; 0: never grouped. */
  groupThreshold: number;
  /** `skiff server`'s URL: check runs link to each workflow's page in its web UI; undefined: no links. */
  serverUrl?: string;
}

const EXECUTORS = ["auto", "host", "docker", "kubernetes"] as const;
const CHECKS = ["steps", "workflow", "none"] as const;

/**
 * Reads `name=value` lines or a YAML mapping. Lines let a workflow write `parameters: |` with one parameter
 * a line; a mapping lets it paste YAML.
 */
export function parsePairs(text: string, input: string): Record<string, string> {
  const trimmed = text.trim();
  if (trimmed === "") return {};
  const out: Record<string, string> = {};
  const lines = trimmed.split(/\r?\n/).filter((l) => l.trim() !== "" && !l.trim().startsWith("#"));
  if (lines.every((l) => /^\s*[\w.-]+\s*=/.test(l))) {
    for (const l of lines) {
      const i = l.indexOf("=");
      out[l.slice(0, i).trim()] = l.slice(i + 1);
    }
    return out;
  }
  let value: unknown;
  try {
    value = parseYaml(trimmed);
  } catch (e) {
    throw new SkiffError(
      GH_CODES["SKF-GH-004"],
      `${input} is neither name=value lines nor YAML: ${(e as Error).message}`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new SkiffError(GH_CODES["SKF-GH-004"], `${input} must be name=value lines or a YAML mapping`);
  for (const [k, v] of Object.entries(value)) out[k] = typeof v === "string" ? v : JSON.stringify(v);
  return out;
}

function oneOf<T extends string>(input: string, value: string, allowed: readonly T[], fallback: T): T {
  if (value === "") return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new SkiffError(
    GH_CODES["SKF-GH-004"],
    `${input} must be one of ${allowed.join(", ")}, not ${JSON.stringify(value)}`,
  );
}

/** A count input: a whole number, at least 0; empty for the default. */
export function parseCount(input: string, value: string, fallback: number): number {
  const text = value.trim();
  if (text === "") return fallback;
  if (!/^\d+$/.test(text))
    throw new SkiffError(
      GH_CODES["SKF-GH-004"],
      `${input} must be a whole number (0 or more), not ${JSON.stringify(value)}`,
    );
  return Number(text);
}

/** The `server-url` input: an http(s) URL, or empty for none. */
export function parseServerUrl(value: string): string | undefined {
  const text = value.trim();
  if (text === "") return undefined;
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:"))
    throw new SkiffError(
      GH_CODES["SKF-GH-004"],
      `server-url must be an http(s) URL such as https://skiff.example.com, not ${JSON.stringify(value)}`,
    );
  return text.replace(/\/+$/, "");
}

/** Reads and checks every input. Throws SKF-GH-004 naming the first bad one. */
export function readInputs(): ActionInputs {
  const failOnFailure = core.getInput("fail-on-failure").trim().toLowerCase();
  if (failOnFailure !== "" && !["true", "false"].includes(failOnFailure))
    throw new SkiffError(
      GH_CODES["SKF-GH-004"],
      `fail-on-failure must be true or false, not ${JSON.stringify(failOnFailure)}`,
    );
  const serverUrl = parseServerUrl(core.getInput("server-url"));
  return {
    pipelines: core.getInput("pipelines") || ".skiff",
    executor: oneOf("executor", core.getInput("executor"), EXECUTORS, "auto"),
    parameters: parsePairs(core.getInput("parameters"), "parameters"),
    githubToken: core.getInput("github-token"),
    checks: oneOf("checks", core.getInput("checks"), CHECKS, "steps"),
    failOnFailure: failOnFailure !== "false",
    config: core.getInput("config"),
    secrets: parsePairs(core.getInput("secrets"), "secrets"),
    groupThreshold: parseCount("group-threshold", core.getInput("group-threshold"), DEFAULT_GROUP_THRESHOLD),
    ...(serverUrl ? { serverUrl } : {}),
  };
}

/** Credentials the runner gives every JavaScript action that Skiff never uses. */
const UNUSED_RUNNER_TOKENS = ["ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"];

/**
 * Removes the secrets the action has read from its own environment: the `github-token` and `secrets` inputs,
 * every variable holding one of their values (`GITHUB_TOKEN` when the workflow sets it) and the runner's
 * tokens Skiff does not use. Processes started afterwards cannot inherit them. (Linux still shows the
 * environment the process started with in `/proc/<pid>/environ`: see docs/github-action.md.)
 */
export function forgetSecretInputs(
  secrets: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const values = new Set(secrets.filter((s) => s !== ""));
  const removed: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    const input = name === "INPUT_GITHUB-TOKEN" || name === "INPUT_SECRETS";
    if (input || UNUSED_RUNNER_TOKENS.includes(name) || (value !== undefined && values.has(value))) {
      delete env[name];
      removed.push(name);
    }
  }
  return removed;
}
