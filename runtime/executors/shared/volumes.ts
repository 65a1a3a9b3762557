import path from "node:path";
import { SkiffError } from "../../errors/index.js";
import type { StepRequest } from "../../interfaces/executor.js";
import type { K8sObject } from "../../spec/types.js";
import { EXEC_CODES } from "./codes.js";

/** A file a `configMap` or `secret` volume holds. */
export interface VolumeFile {
  /** Relative to the volume's root. */
  path: string;
  content: Buffer;
  mode: number;
}

/** Where the contents of a mounted volume live on the host. */
export type VolumeSource =
  /** A fresh folder of the step (`emptyDir`, and volumes the request does not describe). */
  | { kind: "step"; name: string }
  /** A claim: `workflow` ones live as long as the workflow, `existing` ones across workflows. */
  | { kind: "claim"; claimName: string; scope: "workflow" | "existing" }
  /** A host path as it is (`hostPath`). */
  | { kind: "host"; path: string }
  /** Files written for the step (`configMap`, `secret`). */
  | { kind: "files"; name: string; files: VolumeFile[] };

/** One `volumeMounts` entry resolved against the step's volumes. */
export interface VolumeMountPlan {
  name: string;
  mountPath: string;
  source: VolumeSource;
  /** `subPath` of the mount: only that part of the volume is mounted. */
  subPath?: string;
  readOnly: boolean;
}

/** Kubernetes' default mode of projected files (`defaultMode: 0644`). */
const DEFAULT_FILE_MODE = 0o644;

/**
 * Resolves the `volumeMounts` of a step's containers against `request.volumes` (the last volume of a name
 * wins, so the template's own volumes override the workflow's). Throws SKF-EXEC-009/010 for volumes that
 * cannot be provided, so the step fails before anything runs.
 */
export function planVolumeMounts(request: StepRequest, mounts: K8sObject[]): VolumeMountPlan[] {
  const byName = new Map<string, K8sObject>();
  for (const v of request.volumes ?? []) if (typeof v.name === "string") byName.set(v.name, v);
  const sources = new Map<string, VolumeSource>();
  const plans: VolumeMountPlan[] = [];
  for (const m of mounts) {
    const name = String(m.name ?? "");
    const mountPath = String(m.mountPath ?? "");
    if (!name || !mountPath.startsWith("/")) continue;
    const resolved = path.resolve(mountPath);
    if (plans.some((p) => p.mountPath === resolved)) continue;
    let source = sources.get(name);
    if (!source) {
      source = sourceOf(request, name, byName.get(name));
      sources.set(name, source);
    }
    const volume = byName.get(name);
    const claimReadOnly = (volume?.persistentVolumeClaim as K8sObject | undefined)?.readOnly === true;
    const plan: VolumeMountPlan = {
      name,
      mountPath: resolved,
      source,
      readOnly: m.readOnly === true || claimReadOnly || source.kind === "files",
    };
    if (typeof m.subPath === "string" && m.subPath !== "") plan.subPath = relativeInside(m.subPath, name);
    plans.push(plan);
  }
  return plans;
}

function sourceOf(request: StepRequest, name: string, volume: K8sObject | undefined): VolumeSource {
  // A mount naming no volume (the controller does not describe volumes yet) behaves as an emptyDir.
  if (!volume || volume.emptyDir !== undefined) return { kind: "step", name };
  const pvc = volume.persistentVolumeClaim as K8sObject | undefined;
  if (pvc) {
    const claimName = String(pvc.claimName ?? "");
    if (!claimName) throw unsupported(name, "a persistentVolumeClaim without claimName");
    // Argo names the claim of a volumeClaimTemplate `<workflow>-<name>`; any other claim existed before.
    const scope = claimName === `${request.workflowName}-${name}` ? "workflow" : "existing";
    return { kind: "claim", claimName, scope };
  }
  const hostPath = volume.hostPath as K8sObject | undefined;
  if (hostPath) {
    const p = String(hostPath.path ?? "");
    if (!p.startsWith("/")) throw unsupported(name, `a hostPath volume with relative path '${p}'`);
    return { kind: "host", path: path.resolve(p) };
  }
  const cm = volume.configMap as K8sObject | undefined;
  if (cm) return { kind: "files", name, files: configMapFiles(request, name, cm) };
  const secret = volume.secret as K8sObject | undefined;
  if (secret) return { kind: "files", name, files: secretFiles(request, name, secret) };
  const type = Object.keys(volume).find((k) => k !== "name") ?? "an empty volume";
  throw unsupported(name, `'${type}'`);
}

function configMapFiles(request: StepRequest, volume: string, source: K8sObject): VolumeFile[] {
  const cmName = String(source.name ?? "");
  const optional = source.optional === true;
  if (!request.configMaps) {
    throw new SkiffError(
      EXEC_CODES["SKF-EXEC-009"],
      `volume '${volume}' needs ConfigMap '${cmName}', but the step was given no ConfigMaps`,
    );
  }
  const cm = request.configMaps.get(cmName);
  if (!cm) {
    if (optional) return [];
    throw new SkiffError(
      EXEC_CODES["SKF-EXEC-009"],
      `volume '${volume}' needs ConfigMap '${cmName}', which was not loaded`,
    );
  }
  const entries = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm.data ?? {})) entries.set(k, Buffer.from(v, "utf8"));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) entries.set(k, Buffer.from(v, "base64"));
  return projectFiles(entries, source, `ConfigMap '${cmName}'`, volume, optional);
}

function secretFiles(request: StepRequest, volume: string, source: K8sObject): VolumeFile[] {
  const secretName = String(source.secretName ?? "");
  const optional = source.optional === true;
  if (!request.secrets) {
    throw new SkiffError(
      EXEC_CODES["SKF-EXEC-009"],
      `volume '${volume}' needs Secret '${secretName}', but the step was given no Secrets`,
    );
  }
  const secret = request.secrets.get(secretName);
  if (!secret) {
    if (optional) return [];
    throw new SkiffError(
      EXEC_CODES["SKF-EXEC-009"],
      `volume '${volume}' needs Secret '${secretName}', which was not loaded`,
    );
  }
  const entries = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(secret.data ?? {})) entries.set(k, Buffer.from(v, "base64"));
  // The API server merges stringData over data when it stores a Secret.
  for (const [k, v] of Object.entries(secret.stringData ?? {})) entries.set(k, Buffer.from(v, "utf8"));
  return projectFiles(entries, source, `Secret '${secretName}'`, volume, optional);
}

/** Kubernetes' projection: every key as a file, or only `items` (key -> path, mode) when given. */
function projectFiles(
  entries: Map<string, Buffer>,
  source: K8sObject,
  what: string,
  volume: string,
  optional: boolean,
): VolumeFile[] {
  const defaultMode = typeof source.defaultMode === "number" ? source.defaultMode : DEFAULT_FILE_MODE;
  const items = source.items as { key?: string; path?: string; mode?: number }[] | undefined;
  if (!items) {
    return [...entries].map(([k, content]) => ({
      path: relativeInside(k, volume),
      content,
      mode: defaultMode,
    }));
  }
  const files: VolumeFile[] = [];
  for (const item of items) {
    const key = String(item.key ?? "");
    const content = entries.get(key);
    if (content === undefined) {
      if (optional) continue;
      throw new SkiffError(EXEC_CODES["SKF-EXEC-009"], `volume '${volume}': ${what} has no key '${key}'`);
    }
    files.push({
      path: relativeInside(String(item.path ?? key), volume),
      content,
      mode: typeof item.mode === "number" ? item.mode : defaultMode,
    });
  }
  return files;
}

/** A relative path that stays inside the volume; throws SKF-EXEC-010 otherwise. */
function relativeInside(p: string, volume: string): string {
  const norm = path.posix.normalize(p);
  if (path.posix.isAbsolute(norm) || norm === ".." || norm.startsWith("../")) {
    throw new SkiffError(
      EXEC_CODES["SKF-EXEC-010"],
      `volume '${volume}' names path '${p}', which leaves the volume`,
    );
  }
  return norm;
}

function unsupported(volume: string, what: string): SkiffError {
  return new SkiffError(
    EXEC_CODES["SKF-EXEC-010"],
    `volume '${volume}' is ${what}, which the host executor cannot provide`,
  );
}
