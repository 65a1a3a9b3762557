import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { parseDocument } from "yaml";
import { defineErrorCodes, SkiffError } from "../../runtime/errors/index.js";

export const CONFIG_CODES = defineErrorCodes({
  "SKF-CFG-001": {
    title: "Config file not readable",
    hint: "Pass an existing YAML file to --config, or leave the option out to use the defaults.",
  },
  "SKF-CFG-002": {
    title: "Config file is not valid",
    hint: "See docs/configuration.md for the fields a Skiff config file may hold.",
  },
  "SKF-CFG-003": {
    title: "Artifact repository config is not valid",
    hint: "`artifactRepository` holds one of `local: {path}` or Argo's `s3: {bucket, endpoint, insecure, region, keyFormat, accessKeySecret, secretKeySecret, useSDKCreds}`. See docs/configuration.md.",
  },
});

import { checkArtifactRepository, type ArtifactRepositoryConfig } from "../../runtime/artifacts/index.js";
import type { ImageConfig, KubernetesSettings } from "../run/executors.js";
import type { CompileOptions } from "../../runtime/spec/index.js";

export type { ArtifactRepositoryConfig, ImageConfig };

/** A Skiff config file (`--config`, or `.skiff/config.yaml` in the repository). */
export interface SkiffConfig {
  executor: "auto" | "host" | "docker" | "kubernetes";
  /** Where runs, logs and the embedded artifact repository are kept. */
  stateDir: string;
  /**
   * The store of runs, logs, memoized outputs and the archive: a `postgres://` URL or a folder for the
   * embedded store. Unset: `<stateDir>/store`. `$SKIFF_STORE` overrides it.
   */
  store?: string;
  host: { sandbox: "auto" | "bwrap" | "none" };
  images: Record<string, ImageConfig>;
  /**
   * The default artifact repository (Argo's controller `artifactRepository`): `local: {path}` or `s3: {...}`.
   * `{}` is the embedded repository under `stateDir`. A workflow's `artifactRepositoryRef` may pick another.
   */
  artifactRepository: ArtifactRepositoryConfig;
  /** Argo's controller `workflowDefaults`: fills what each workflow leaves unset (the workflow wins). */
  workflowDefaults?: CompileOptions["workflowDefaults"];
  /** Docker executor: registry image name -> local image to run in its place (air-gapped machines, tests). */
  imageMap: Record<string, string>;
  /** Kubernetes executor: cluster, namespace, executor image, image map (docs/kubernetes.md). */
  kubernetes: KubernetesSettings;
  /** Artifact plugin drivers (Argo's `artifactDrivers`), each served by a built-in repository. */
  artifactDrivers: { name: string; repository: "local" }[];
  /** PEM files of extra certificate authorities trusted by HTTP steps (a company proxy, a mirror). */
  extraCAFiles: string[];
  /** The folder the config file was read from (relative paths resolve against it). */
  baseDir: string;
  /** The config file read (absolute), when one was. */
  configFile?: string;
  /** `skiff server`'s settings. */
  server?: ServerConfig;
}

/** One bearer token `skiff server` accepts: its value, given inline, in a file or in an environment variable. */
export interface ServerTokenConfig {
  token?: string;
  /** A file holding the token (relative to the config file); surrounding whitespace is ignored. */
  tokenFile?: string;
  /** An environment variable holding the token. */
  tokenEnv?: string;
  /** `read`: GET routes only; `write`: every route. */
  access: "read" | "write";
}

/** The config's `server` mapping. */
export interface ServerConfig {
  tokens: ServerTokenConfig[];
  /** Argo's `metricsConfig.metricsTTL`: custom metrics not updated for this long are dropped (e.g. `10m`). */
  metricsTTL?: string;
  /**
   * The folder of WorkflowEventBinding manifests `POST /api/v1/events/...` matches (absolute; the registry
   * holds no bindings). Read at every event, so edits apply without a restart.
   */
  eventBindings?: string;
  /** The GitHub webhook (`POST /api/v1/github/webhook`). */
  github?: ServerWebhookConfig;
  /** The GitLab webhook (`POST /api/v1/gitlab/webhook`): the secret is the hook's secret token. */
  gitlab?: ServerWebhookConfig;
}

/** `server.github`, `server.gitlab`: the secret (exactly one of the three) and the checkout events run from. */
export interface ServerWebhookConfig {
  webhookSecret?: string;
  /** A file holding the secret (absolute); surrounding whitespace is ignored. */
  webhookSecretFile?: string;
  /** An environment variable holding the secret. */
  webhookSecretEnv?: string;
  /** The checkout of the repository whose pipelines the events select (absolute). */
  checkout: string;
  /** The pipelines folder inside the checkout (default `.skiff`). */
  pipelines: string;
}

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SKIFF_STATE_DIR) return resolve(env.SKIFF_STATE_DIR);
  return join(env.XDG_STATE_HOME ?? join(homedir(), ".local", "state"), "skiff");
}

/** `SKIFF_EXECUTOR` (auto, host, docker, kubernetes) sets the default executor; anything else is ignored. */
function executorFromEnv(env: NodeJS.ProcessEnv): SkiffConfig["executor"] {
  const v = env.SKIFF_EXECUTOR;
  return v === "host" || v === "docker" || v === "kubernetes" ? v : "auto";
}

export function defaultConfig(env: NodeJS.ProcessEnv = process.env): SkiffConfig {
  return {
    executor: executorFromEnv(env),
    stateDir: defaultStateDir(env),
    host: { sandbox: "auto" },
    images: {},
    artifactRepository: {},
    extraCAFiles: [],
    artifactDrivers: [],
    imageMap: {},
    kubernetes: {},
    baseDir: process.cwd(),
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Reads and checks a config file; every problem is reported with its line. */
export async function loadConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SkiffConfig> {
  const config = defaultConfig(env);
  if (!file) return config;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new SkiffError("SKF-CFG-001", `cannot read config file ${file}: ${(e as Error).message}`, {
      position: { file },
    });
  }
  const doc = parseDocument(text);
  const fail = (
    message: string,
    path: (string | number)[],
    code: keyof typeof CONFIG_CODES = "SKF-CFG-002",
  ): never => {
    // The deepest node that exists: a missing field is reported on its parent's line.
    let node: { range?: [number, number] } | undefined;
    for (let n = path.length; n >= 0 && !node?.range; n--)
      node = doc.getIn(path.slice(0, n), true) as { range?: [number, number] } | undefined;
    let line: number | undefined;
    if (node?.range) line = text.slice(0, node.range[0]).split("\n").length;
    throw new SkiffError(code, message, { position: { file, line }, path: path.join(".") });
  };
  if (doc.errors.length > 0) fail(`config file is not valid YAML: ${doc.errors[0]!.message}`, []);
  const raw: unknown = doc.toJS() ?? {};
  if (!isRecord(raw)) return fail("config file must be a YAML mapping", []);
  config.baseDir = dirname(resolve(file));
  config.configFile = resolve(file);
  for (const [k, v] of Object.entries(raw)) {
    switch (k) {
      case "executor":
        if (v !== "auto" && v !== "host" && v !== "docker" && v !== "kubernetes")
          fail(`executor must be one of auto, host, docker, kubernetes (got ${JSON.stringify(v)})`, [k]);
        config.executor = v as SkiffConfig["executor"];
        break;
      case "stateDir":
        if (typeof v !== "string") fail("stateDir must be a path", [k]);
        config.stateDir = resolve(config.baseDir, v as string);
        break;
      case "store":
        if (typeof v !== "string" || v === "")
          fail("store must be a postgres:// URL or the folder of the embedded store", [k]);
        config.store = /^postgres(ql)?:\/\//.test(v as string)
          ? (v as string)
          : resolve(config.baseDir, v as string);
        break;
      case "host":
        if (!isRecord(v)) return fail("host must be a mapping", [k]);
        if (v.sandbox !== undefined) {
          if (v.sandbox !== "auto" && v.sandbox !== "bwrap" && v.sandbox !== "none")
            fail("host.sandbox must be one of auto, bwrap, none", [k, "sandbox"]);
          config.host.sandbox = v.sandbox as SkiffConfig["host"]["sandbox"];
        }
        break;
      case "images":
        if (!isRecord(v)) return fail("images must map image names to {entrypoint, cmd}", [k]);
        for (const [image, spec] of Object.entries(v)) {
          if (!isRecord(spec)) fail(`images.${image} must be a mapping`, [k, image]);
          const s = spec as Record<string, unknown>;
          for (const f of ["entrypoint", "cmd"] as const) {
            if (
              s[f] !== undefined &&
              (!Array.isArray(s[f]) || !(s[f] as unknown[]).every((x) => typeof x === "string"))
            )
              fail(`images.${image}.${f} must be a list of strings`, [k, image, f]);
          }
          const host = s.host;
          if (host !== undefined) {
            if (!isRecord(host)) fail(`images.${image}.host must be a mapping`, [k, image, "host"]);
            const h = host as Record<string, unknown>;
            if (h.path !== undefined) {
              if (!Array.isArray(h.path) || !h.path.every((x) => typeof x === "string"))
                fail(`images.${image}.host.path must be a list of folders`, [k, image, "host", "path"]);
              h.path = (h.path as string[]).map((d) => resolve(config.baseDir, d));
            }
            if (
              h.workingDir !== undefined &&
              (typeof h.workingDir !== "string" || !h.workingDir.startsWith("/"))
            )
              fail(`images.${image}.host.workingDir must be an absolute path`, [
                k,
                image,
                "host",
                "workingDir",
              ]);
            for (const f of ["commands", "env"] as const) {
              if (
                h[f] !== undefined &&
                (!isRecord(h[f]) || !Object.values(h[f]).every((x) => typeof x === "string"))
              )
                fail(`images.${image}.host.${f} must map names to strings`, [k, image, "host", f]);
            }
          }
          config.images[image] = s as ImageConfig;
        }
        break;
      case "artifactRepository": {
        const { value, issues } = checkArtifactRepository(v);
        const first = issues[0];
        if (!value || first)
          return fail(`artifactRepository: ${first?.message}`, [k, ...(first?.path ?? [])], "SKF-CFG-003");
        if (value.local) value.local = { path: resolve(config.baseDir, value.local.path) };
        config.artifactRepository = value;
        break;
      }
      case "workflowDefaults":
        if (
          !isRecord(v) ||
          (v.spec !== undefined && !isRecord(v.spec)) ||
          (v.metadata !== undefined && !isRecord(v.metadata))
        )
          return fail("workflowDefaults must be a Workflow-like mapping with `metadata` and/or `spec`", [k]);
        config.workflowDefaults = v as SkiffConfig["workflowDefaults"];
        break;
      case "imageMap":
        if (!isRecord(v) || !Object.values(v).every((x) => typeof x === "string"))
          return fail("imageMap must map image names to local image names", [k]);
        config.imageMap = v as Record<string, string>;
        break;
      case "artifactDrivers":
        if (
          !Array.isArray(v) ||
          !v.every((d) => isRecord(d) && typeof d.name === "string" && d.repository === "local")
        )
          return fail("artifactDrivers must list `{name: PLUGIN, repository: local}` entries", [k]);
        config.artifactDrivers = v as SkiffConfig["artifactDrivers"];
        break;
      case "kubernetes":
        config.kubernetes = kubernetesSection(v, config.baseDir, (msg, sub) => fail(msg, [k, ...sub]));
        break;
      case "extraCAFiles":
        if (!Array.isArray(v) || !v.every((x) => typeof x === "string"))
          return fail("extraCAFiles must be a list of PEM file paths", [k]);
        config.extraCAFiles = (v as string[]).map((f) => resolve(config.baseDir, f));
        break;
      case "server": {
        if (!isRecord(v)) return fail("server must be a mapping with `tokens`", [k]);
        const tokens = v.tokens ?? [];
        for (const f of Object.keys(v))
          if (!["tokens", "metricsTTL", "eventBindings", "github", "gitlab"].includes(f))
            fail(`unknown server field "${f}"`, [k, f]);
        if (!Array.isArray(tokens)) return fail("server.tokens must be a list", [k, "tokens"]);
        if (
          v.metricsTTL !== undefined &&
          (typeof v.metricsTTL !== "string" || !/^(\d+(ms|s|m|h|d))+$/.test(v.metricsTTL))
        )
          fail("server.metricsTTL must be a duration such as 30s, 10m or 1h", [k, "metricsTTL"]);
        config.server = { tokens: [], ...(v.metricsTTL ? { metricsTTL: v.metricsTTL as string } : {}) };
        if (v.eventBindings !== undefined) {
          if (typeof v.eventBindings !== "string" || v.eventBindings === "")
            fail("server.eventBindings must be a folder of WorkflowEventBinding files", [k, "eventBindings"]);
          config.server.eventBindings = resolve(config.baseDir, v.eventBindings as string);
        }
        for (const door of ["github", "gitlab"] as const)
          if (v[door] !== undefined) config.server[door] = serverWebhook(door, v[door], config.baseDir, fail);
        tokens.forEach((t: unknown, i) => {
          const at = [k, "tokens", i];
          if (!isRecord(t)) return fail(`server.tokens[${i}] must be a mapping`, at);
          const given = (["token", "tokenFile", "tokenEnv"] as const).filter((f) => t[f] !== undefined);
          if (given.length !== 1 || typeof t[given[0]!] !== "string" || t[given[0]!] === "")
            fail(
              `server.tokens[${i}] needs exactly one of token, tokenFile, tokenEnv (a non-empty string)`,
              at,
            );
          if (t.access !== "read" && t.access !== "write")
            fail(`server.tokens[${i}].access must be read or write`, [...at, "access"]);
          const f = given[0]!;
          const value = t[f] as string;
          config.server!.tokens.push({
            [f]: f === "tokenFile" ? resolve(config.baseDir, value) : value,
            access: t.access as "read" | "write",
          });
        });
        break;
      }
      default:
        fail(`unknown config field "${k}"`, [k]);
    }
  }
  return config;
}

/** Checks `server.github` or `server.gitlab`; `fail` reports a field with its line. */
function serverWebhook(
  door: "github" | "gitlab",
  v: unknown,
  baseDir: string,
  fail: (message: string, path: (string | number)[]) => never,
): ServerWebhookConfig {
  const at = ["server", door];
  if (!isRecord(v)) return fail(`server.${door} must be a mapping (webhookSecret, checkout, ...)`, at);
  const fields = ["webhookSecret", "webhookSecretFile", "webhookSecretEnv", "checkout", "pipelines"];
  for (const f of Object.keys(v))
    if (!fields.includes(f)) fail(`unknown server.${door} field "${f}"`, [...at, f]);
  for (const f of fields)
    if (v[f] !== undefined && (typeof v[f] !== "string" || v[f] === ""))
      fail(`server.${door}.${f} must be a non-empty string`, [...at, f]);
  const given = (["webhookSecret", "webhookSecretFile", "webhookSecretEnv"] as const).filter(
    (f) => v[f] !== undefined,
  );
  if (given.length !== 1)
    fail(`server.${door} needs exactly one of webhookSecret, webhookSecretFile, webhookSecretEnv`, at);
  if (v.checkout === undefined)
    fail(`server.${door}.checkout must name the checkout the webhook's events run from`, at);
  const f = given[0]!;
  return {
    [f]: f === "webhookSecretFile" ? resolve(baseDir, v[f] as string) : (v[f] as string),
    checkout: resolve(baseDir, v.checkout as string),
    pipelines: typeof v.pipelines === "string" ? v.pipelines : ".skiff",
  };
}

/** Checks the `kubernetes:` section; `fail` reports a field with its line. */
function kubernetesSection(
  v: unknown,
  baseDir: string,
  fail: (message: string, path: string[]) => never,
): KubernetesSettings {
  if (!isRecord(v)) return fail("kubernetes must be a mapping (kubeconfig, context, namespace, ...)", []);
  const out: KubernetesSettings = {};
  for (const [k, x] of Object.entries(v)) {
    switch (k) {
      case "kubeconfig":
      case "context":
      case "namespace":
      case "executorImage":
        if (typeof x !== "string" || x === "") fail(`kubernetes.${k} must be a non-empty string`, [k]);
        out[k] = k === "kubeconfig" ? resolve(baseDir, x as string) : (x as string);
        break;
      case "imageMap":
        if (!isRecord(x) || !Object.values(x).every((y) => typeof y === "string"))
          fail("kubernetes.imageMap must map image names to the names pods use", [k]);
        out.imageMap = x as Record<string, string>;
        break;
      case "pendingTimeoutSeconds":
      case "qps":
      case "burst":
        if (typeof x !== "number" || !(x > 0)) fail(`kubernetes.${k} must be a positive number`, [k]);
        out[k] = x as number;
        break;
      default:
        fail(
          `unknown field "${k}" in kubernetes (kubeconfig, context, namespace, executorImage, imageMap, pendingTimeoutSeconds, qps, burst)`,
          [k],
        );
    }
  }
  return out;
}
