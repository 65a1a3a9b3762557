import { randomUUID } from "node:crypto";
import { parse } from "yaml";
import type { ArtifactDriver, ArtifactRepository } from "../interfaces/artifacts.js";
import type { Artifact, ConfigMap, SecretKeySelector, Workflow } from "../spec/types.js";
import { SkiffError } from "../errors/index.js";
import { ART_CODES } from "./codes.js";
import {
  createLocalRepository,
  keyOnlyKey,
  LOCATION_FIELDS,
  type LocalRepositoryOptions,
} from "./repository.js";

/** The ConfigMap Argo reads artifact repositories from when a workflow's ref names none. */
export const ARTIFACT_REPOSITORIES_CONFIGMAP = "artifact-repositories";
/** The annotation naming the ConfigMap key used when a ref gives no key (Argo's `default-v1` convention). */
export const DEFAULT_REPOSITORY_ANNOTATION = "workflows.argoproj.io/default-artifact-repository";
/** Argo's key format for output artifacts that name no location; the file name is appended. */
export const DEFAULT_KEY_FORMAT = "{{workflow.name}}/{{pod.name}}";

/** Argo's controller `artifactRepository.s3` (`S3ArtifactRepository`). */
export interface S3RepositoryConfig {
  bucket: string;
  endpoint?: string;
  insecure?: boolean;
  region?: string;
  /** Where output artifacts go inside the bucket; default `{{workflow.name}}/{{pod.name}}`. */
  keyFormat?: string;
  /** Argo's deprecated form: `<keyPrefix>/{{workflow.name}}/{{pod.name}}`. */
  keyPrefix?: string;
  accessKeySecret?: SecretKeySelector;
  secretKeySecret?: SecretKeySelector;
  sessionTokenSecret?: SecretKeySelector;
  caSecret?: SecretKeySelector;
  /** Use the AWS SDK's own credential chain instead of Secrets or `AWS_*` variables. */
  useSDKCreds?: boolean;
  createBucketIfNotPresent?: { objectLocking?: boolean };
  encryptionOptions?: { kmsKeyId?: string; kmsEncryptionContext?: string; enableEncryption?: boolean };
}

/**
 * A default artifact repository, in Argo's `ArtifactRepository` format (controller config or one key of an
 * `artifact-repositories` ConfigMap) plus Skiff's `local: {path}`. Exactly one of `local` and `s3` is set.
 */
export interface ArtifactRepositoryConfig {
  /** Accepted for Argo compatibility; Skiff keeps step logs in its store either way. */
  archiveLogs?: boolean;
  local?: { path: string };
  s3?: S3RepositoryConfig;
}

/** One problem found in a repository definition; `path` leads to the offending field. */
export interface RepositoryIssue {
  message: string;
  path: (string | number)[];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const S3_STRING_FIELDS = ["bucket", "endpoint", "region", "keyFormat", "keyPrefix"] as const;
const S3_BOOLEAN_FIELDS = ["insecure", "useSDKCreds"] as const;
const S3_SECRET_FIELDS = ["accessKeySecret", "secretKeySecret", "sessionTokenSecret", "caSecret"] as const;
const S3_OTHER_FIELDS = ["createBucketIfNotPresent", "encryptionOptions"] as const;
const S3_FIELDS = new Set<string>([
  ...S3_STRING_FIELDS,
  ...S3_BOOLEAN_FIELDS,
  ...S3_SECRET_FIELDS,
  ...S3_OTHER_FIELDS,
]);
/** Argo's other repository kinds: named so the message says "not yet" rather than "unknown". */
const OTHER_KINDS = ["gcs", "azure", "oss", "artifactory", "hdfs"];

/**
 * Checks a repository definition in Argo's format. Returns the typed value when there is no issue; every
 * issue is reported with the path of its field, so callers can point at a line.
 */
export function checkArtifactRepository(raw: unknown): {
  value?: ArtifactRepositoryConfig;
  issues: RepositoryIssue[];
} {
  const issues: RepositoryIssue[] = [];
  const add = (message: string, ...path: (string | number)[]) => issues.push({ message, path });
  if (!isRecord(raw)) {
    add("an artifact repository must be a mapping with `s3: {bucket, ...}` or `local: {path}`");
    return { issues };
  }
  const kinds = Object.keys(raw).filter((k) => k !== "archiveLogs");
  for (const k of kinds) {
    if (k === "s3" || k === "local") continue;
    if (OTHER_KINDS.includes(k))
      add(`\`${k}\` is not supported as a default artifact repository yet (use s3 or local)`, k);
    else add(`unknown field "${k}" in the artifact repository`, k);
  }
  if (raw.archiveLogs !== undefined && typeof raw.archiveLogs !== "boolean")
    add("archiveLogs must be true or false", "archiveLogs");
  if (raw.s3 !== undefined && raw.local !== undefined)
    add("an artifact repository holds one of `s3` and `local`, not both", "s3");
  if (raw.s3 === undefined && raw.local === undefined && issues.length === 0)
    add("an artifact repository needs `s3: {bucket, ...}` or `local: {path}`");
  if (raw.local !== undefined) {
    if (!isRecord(raw.local) || typeof raw.local.path !== "string" || raw.local.path === "")
      add("local must be `{path: FOLDER}`", "local");
    else
      for (const k of Object.keys(raw.local))
        if (k !== "path") add(`unknown field "${k}" in local`, "local", k);
  }
  if (raw.s3 !== undefined) checkS3(raw.s3, add);
  if (issues.length > 0) return { issues };
  return { value: raw as ArtifactRepositoryConfig, issues };
}

function checkS3(s3: unknown, add: (message: string, ...path: (string | number)[]) => void): void {
  if (!isRecord(s3)) {
    add("s3 must be a mapping with at least `bucket`", "s3");
    return;
  }
  for (const k of Object.keys(s3)) {
    if (k === "key") add("s3.key belongs to artifacts; the repository uses `keyFormat`", "s3", k);
    else if (k === "roleARN") add("s3.roleARN is not supported by Skiff's S3 driver", "s3", k);
    else if (!S3_FIELDS.has(k)) add(`unknown field "${k}" in s3`, "s3", k);
  }
  if (typeof s3.bucket !== "string" || s3.bucket === "") add("s3.bucket is required", "s3", "bucket");
  for (const f of S3_STRING_FIELDS)
    if (f !== "bucket" && s3[f] !== undefined && typeof s3[f] !== "string")
      add(`s3.${f} must be a string`, "s3", f);
  for (const f of S3_BOOLEAN_FIELDS)
    if (s3[f] !== undefined && typeof s3[f] !== "boolean") add(`s3.${f} must be true or false`, "s3", f);
  for (const f of S3_SECRET_FIELDS) {
    const sel = s3[f];
    if (sel === undefined) continue;
    if (!isRecord(sel) || typeof sel.name !== "string" || typeof sel.key !== "string")
      add(`s3.${f} must be \`{name: SECRET, key: KEY}\``, "s3", f);
  }
  if ((s3.accessKeySecret === undefined) !== (s3.secretKeySecret === undefined))
    add(
      "s3.accessKeySecret and s3.secretKeySecret go together",
      "s3",
      s3.accessKeySecret === undefined ? "secretKeySecret" : "accessKeySecret",
    );
  for (const f of S3_OTHER_FIELDS)
    if (s3[f] !== undefined && !isRecord(s3[f])) add(`s3.${f} must be a mapping`, "s3", f);
  if (typeof s3.keyFormat === "string") {
    const bad = unknownKeyFormatVariables(s3.keyFormat);
    if (bad.length > 0)
      add(
        `s3.keyFormat uses ${bad.map((v) => `{{${v}}}`).join(", ")}, which an artifact key cannot hold`,
        "s3",
        "keyFormat",
      );
  }
}

const KEY_VARIABLE =
  /^(pod\.name|workflow\.(name|namespace|uid|creationTimestamp(\.([A-Za-z]|RFC3339))?|(labels|annotations|parameters)\.[^\s{}]+))$/;

/** The `{{...}}` variables of a key format that are not among those Argo resolves for artifact keys. */
export function unknownKeyFormatVariables(format: string): string[] {
  return [...format.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)]
    .map((m) => m[1] ?? "")
    .filter((v) => !KEY_VARIABLE.test(v));
}

/** What a key format is resolved against: the workflow (name, uid, labels...) and the step's pod. */
export interface KeyFormatContext {
  workflow: Pick<Workflow, "metadata" | "spec">;
  podName: string;
}

/**
 * Resolves an Argo `keyFormat` (`{{workflow.name}}/{{pod.name}}`, `{{workflow.creationTimestamp.Y}}`...) the
 * way Argo's controller substitutes the archive location of a pod. Throws SKF-ART-011 for a variable it
 * cannot resolve rather than writing a literal `{{...}}` into a key.
 */
export function renderKeyFormat(format: string, ctx: KeyFormatContext): string {
  const meta = ctx.workflow.metadata;
  return format.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_, name: string) => {
    const value = keyVariable(name, ctx);
    if (value === undefined)
      throw new SkiffError(
        ART_CODES["SKF-ART-011"],
        `keyFormat "${format}": {{${name}}} has no value for workflow ${meta.name ?? ""}`,
      );
    return value;
  });
}

function keyVariable(name: string, ctx: KeyFormatContext): string | undefined {
  const meta = ctx.workflow.metadata;
  if (name === "pod.name") return ctx.podName;
  if (name === "workflow.name") return meta.name;
  if (name === "workflow.namespace") return meta.namespace ?? "default";
  if (name === "workflow.uid") return meta.uid;
  if (name.startsWith("workflow.creationTimestamp")) {
    const ms = meta.creationTimestamp ? Date.parse(meta.creationTimestamp) : NaN;
    if (Number.isNaN(ms)) return undefined;
    const part = name.slice("workflow.creationTimestamp".length + 1);
    if (part === "" || part === "RFC3339") return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
    return strftimePart(ms, part);
  }
  const [, group, rest] = /^workflow\.(labels|annotations|parameters)\.(.+)$/.exec(name) ?? [];
  if (group === "labels") return meta.labels?.[rest!];
  if (group === "annotations") return meta.annotations?.[rest!];
  if (group === "parameters") {
    const p = ctx.workflow.spec.arguments?.parameters?.find((x) => x.name === rest);
    return p?.value ?? p?.default;
  }
  return undefined;
}

/** The strftime conversions Argo's `workflow.creationTimestamp.<c>` offers that make sense in a key (UTC). */
function strftimePart(ms: number, c: string): string | undefined {
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  const Y = d.getUTCFullYear();
  const yday =
    Math.floor((Date.UTC(Y, d.getUTCMonth(), d.getUTCDate()) - Date.UTC(Y, 0, 1)) / 86_400_000) + 1;
  const parts: Record<string, string> = {
    Y: String(Y),
    C: pad(Math.floor(Y / 100)),
    y: pad(Y % 100),
    m: pad(d.getUTCMonth() + 1),
    d: pad(d.getUTCDate()),
    j: pad(yday, 3),
    H: pad(d.getUTCHours()),
    M: pad(d.getUTCMinutes()),
    S: pad(d.getUTCSeconds()),
    s: String(Math.floor(ms / 1000)),
    w: String(d.getUTCDay()),
    u: String(d.getUTCDay() === 0 ? 7 : d.getUTCDay()),
  };
  parts.F = `${parts.Y}-${parts.m}-${parts.d}`;
  parts.T = `${parts.H}:${parts.M}:${parts.S}`;
  return parts[c];
}

/** Where the repository a workflow uses was found, for messages and docs. */
export type RepositorySource = { kind: "config" } | { kind: "configMap"; configMap: string; key: string };

/**
 * Picks a workflow's default artifact repository as Argo's controller does: the ConfigMap its
 * `artifactRepositoryRef` names (default name `artifact-repositories`; key from the ref, else the ConfigMap's
 * `workflows.argoproj.io/default-artifact-repository` annotation); without a ref, an `artifact-repositories`
 * ConfigMap given with the workflow, else the configured repository. The ConfigMaps are the ones loaded beside
 * the workflow. Skiff's config stands in for the installation's own `artifact-repositories` ConfigMap: a ref
 * that leaves `configMap` unset falls back to it when no such ConfigMap was given (Argo would fail).
 * Throws SKF-ART-009 (ConfigMap or key not found) and SKF-ART-010 (value not a valid repository).
 */
export function resolveArtifactRepository(
  workflow: Pick<Workflow, "spec">,
  configMaps: ReadonlyMap<string, ConfigMap> | undefined,
  configured: ArtifactRepositoryConfig,
): { repository: ArtifactRepositoryConfig; source: RepositorySource } {
  const ref = workflow.spec.artifactRepositoryRef;
  const name = ref?.configMap || ARTIFACT_REPOSITORIES_CONFIGMAP;
  const cm = configMaps?.get(name);
  if (!cm) {
    if (ref?.configMap)
      throw new SkiffError(
        ART_CODES["SKF-ART-009"],
        `artifactRepositoryRef names the ConfigMap "${name}", which was not given with the workflow`,
        { path: "spec.artifactRepositoryRef.configMap" },
      );
    return { repository: configured, source: { kind: "config" } };
  }
  const key = ref?.key || cm.metadata.annotations?.[DEFAULT_REPOSITORY_ANNOTATION];
  if (!key)
    throw new SkiffError(
      ART_CODES["SKF-ART-009"],
      `ConfigMap "${name}" has no "${DEFAULT_REPOSITORY_ANNOTATION}" annotation and the workflow's artifactRepositoryRef names no key`,
      { path: "spec.artifactRepositoryRef.key" },
    );
  const text = cm.data?.[key];
  if (text === undefined)
    throw new SkiffError(ART_CODES["SKF-ART-009"], `ConfigMap "${name}" has no key "${key}"`, {
      path: "spec.artifactRepositoryRef.key",
    });
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new SkiffError(
      ART_CODES["SKF-ART-010"],
      `ConfigMap "${name}" key "${key}" is not valid YAML: ${(e as Error).message}`,
    );
  }
  const { value, issues } = checkArtifactRepository(raw);
  if (!value) {
    const list = issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message));
    throw new SkiffError(
      ART_CODES["SKF-ART-010"],
      `ConfigMap "${name}" key "${key}" is not a valid artifact repository: ${list.join("; ")}`,
    );
  }
  if (value.local && !value.local.path.startsWith("/"))
    throw new SkiffError(
      ART_CODES["SKF-ART-010"],
      `ConfigMap "${name}" key "${key}": local.path must be absolute in a ConfigMap`,
    );
  return { repository: value, source: { kind: "configMap", configMap: name, key } };
}

export interface WorkflowRepositoryOptions extends LocalRepositoryOptions {
  /** The default repository of the Skiff config (`artifactRepository`); `{}` means the embedded one. */
  configured: ArtifactRepositoryConfig;
  /** Where the embedded local repository keeps files when no `local.path` is configured. */
  localRoot: string;
  /**
   * The workflow the repository serves. Its `metadata.uid` and `creationTimestamp` are filled in when unset
   * (as the controller would) so that key formats using them resolve to what the workflow's status shows.
   */
  workflow: Workflow;
  /** ConfigMaps loaded beside the workflow (`artifact-repositories`). */
  configMaps?: ReadonlyMap<string, ConfigMap>;
}

/**
 * The artifact repository one workflow runs with: resolved from its `artifactRepositoryRef`, an
 * `artifact-repositories` ConfigMap or the config (see {@link resolveArtifactRepository}). Artifacts that name
 * their own storage, `raw` artifacts and plugins work whatever the default is.
 */
export function createWorkflowArtifactRepository(options: WorkflowRepositoryOptions): ArtifactRepository {
  const { repository } = resolveArtifactRepository(options.workflow, options.configMaps, options.configured);
  const base = createLocalRepository(repository.local?.path ?? options.localRoot, options);
  if (!repository.s3) return base;
  const meta = options.workflow.metadata;
  if (repository.s3.keyFormat?.includes("workflow.uid")) meta.uid ??= randomUUID();
  meta.creationTimestamp ??= new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  // Every variable but pod.name is known now: an unset label fails the run here, not a step later.
  if (repository.s3.keyFormat)
    renderKeyFormat(repository.s3.keyFormat, { workflow: options.workflow, podName: "pod" });
  return createS3Repository(repository.s3, options.workflow, base);
}

/**
 * A default repository in an S3 bucket. Output artifacts without a location go to `<keyFormat>/<file>`;
 * key-only artifacts (`s3: {key: K}`, or a key under gcs/oss/azure) are `K` in this bucket. Everything else is
 * served by `base`.
 */
export function createS3Repository(
  s3: S3RepositoryConfig,
  workflow: Pick<Workflow, "metadata" | "spec">,
  base: ArtifactRepository,
): ArtifactRepository {
  const { keyFormat, keyPrefix, ...location } = s3;
  const format =
    keyFormat || (keyPrefix ? `${keyPrefix.replace(/\/+$/, "")}/${DEFAULT_KEY_FORMAT}` : DEFAULT_KEY_FORMAT);
  const relocate = (artifact: Artifact, key: string): Artifact => {
    const out: Artifact = { ...artifact };
    for (const f of LOCATION_FIELDS) delete out[f];
    out.s3 = { ...location, key };
    return out;
  };
  return {
    locate(artifact: Artifact, key: string): Artifact {
      if (keyOnlyKey(artifact) === key) return relocate(artifact, key);
      return relocate(artifact, defaultKey(key, format, workflow));
    },
    driverFor(artifact: Artifact): ArtifactDriver {
      const key = keyOnlyKey(artifact);
      if (key === undefined) return base.driverFor(artifact);
      const driver = base.driverFor(relocate(artifact, key));
      return {
        name: driver.name,
        save: (a, p) => driver.save(relocate(a, key), p),
        load: (a, p) => driver.load(relocate(a, key), p),
        exists: (a) => driver.exists(relocate(a, key)),
        delete: (a) => driver.delete(relocate(a, key)),
      };
    },
  };
}

/**
 * Executors ask for `<workflow>/<pod>/<file>` (Argo's default format, which is what the controller's key
 * prefix holds); the configured format replaces the `<workflow>/<pod>` part. A key of another shape is kept.
 */
function defaultKey(key: string, format: string, workflow: Pick<Workflow, "metadata" | "spec">): string {
  if (format === DEFAULT_KEY_FORMAT) return key;
  const [, podName, file] = /^[^/]+\/([^/]+)\/(.+)$/.exec(key) ?? [];
  if (podName === undefined || file === undefined) return key;
  const prefix = renderKeyFormat(format, { workflow, podName }).replace(/\/+$/, "");
  return prefix ? `${prefix}/${file}` : file;
}
