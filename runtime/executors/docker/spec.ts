import { SkiffError } from "../../errors/index.js";
import type { Container, K8sObject } from "../../spec/types.js";
import { findImageConfig, imageRepository, type ImagesConfig } from "../shared/index.js";
import { DOCKER_CODES } from "./codes.js";

/** Registry image name -> local image name, e.g. `{ "busybox": "skiff-test/busybox:latest" }`. */
export type ImageMap = Record<string, string>;

/**
 * The image Docker runs for a template's image: the exact name in the map first, then the name without its
 * tag or digest, then without `docker.io/library/` (as `findImageConfig` looks up `images:`).
 */
export function resolveImage(map: ImageMap, image: string): string {
  if (Object.hasOwn(map, image)) return map[image]!;
  const repo = imageRepository(image);
  if (Object.hasOwn(map, repo)) return map[repo]!;
  const short = repo.replace(/^(docker\.io\/)?(library\/)?/, "");
  if (Object.hasOwn(map, short)) return map[short]!;
  return image;
}

export type PullPolicy = "Always" | "IfNotPresent" | "Never";

/**
 * The container's `imagePullPolicy`. Kubernetes defaults to `Always` for `:latest` and untagged images; Skiff
 * defaults to `IfNotPresent` everywhere, since local runs often have no registry at all (README says so).
 */
export function pullPolicyOf(c: Container): PullPolicy {
  const p = c.imagePullPolicy;
  return p === "Always" || p === "Never" ? p : "IfNotPresent";
}

/**
 * Entrypoint and Cmd by Kubernetes' rules: `command` replaces the image's ENTRYPOINT (and drops its CMD),
 * `args` replace its CMD. Without `command`, an `images:` entry (Argo's controller setting) gives the
 * entrypoint/cmd, as Argo's emissary reads them; otherwise the image's own apply. `extra` (a script's file)
 * goes last.
 */
export function entrypointAndCmd(
  c: Container,
  images: ImagesConfig,
  extra: string[] = [],
): { Entrypoint?: string[]; Cmd?: string[] } {
  if (c.command && c.command.length > 0) {
    return { Entrypoint: [...c.command], Cmd: [...(c.args ?? []), ...extra] };
  }
  const config = findImageConfig(images, c.image);
  if (config && ((config.entrypoint?.length ?? 0) > 0 || (config.cmd?.length ?? 0) > 0)) {
    return { Entrypoint: [...(config.entrypoint ?? [])], Cmd: [...(c.args ?? config.cmd ?? []), ...extra] };
  }
  if (c.args !== undefined || extra.length > 0) return { Cmd: [...(c.args ?? []), ...extra] };
  return {};
}

const BINARY_SUFFIX: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL_SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** A Kubernetes quantity (`500m`, `1.5`, `128Mi`, `1e3`) as a number. Throws SKF-DOCKER-004. */
export function parseQuantity(q: unknown, field: string): number {
  const s = String(q ?? "").trim();
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/.exec(s);
  const factor = m ? (BINARY_SUFFIX[m[2]!] ?? DECIMAL_SUFFIX[m[2]!]) : undefined;
  if (!m || factor === undefined || (/[eE]/.test(m[1]!) && m[2] !== "")) {
    throw new SkiffError(DOCKER_CODES["SKF-DOCKER-004"], `${field}: '${s}' is not a Kubernetes quantity`);
  }
  return Number(m[1]) * factor;
}

/** `resources.limits` as Docker's HostConfig: cpu as NanoCpus, memory in bytes (no swap beyond it). */
export function resourceLimits(
  c: Container,
  name: string,
): { NanoCpus?: number; Memory?: number; MemorySwap?: number } {
  const limits = (c.resources as K8sObject | undefined)?.limits as K8sObject | undefined;
  const out: { NanoCpus?: number; Memory?: number; MemorySwap?: number } = {};
  if (limits?.cpu !== undefined) {
    out.NanoCpus = Math.round(parseQuantity(limits.cpu, `${name}: resources.limits.cpu`) * 1e9);
  }
  if (limits?.memory !== undefined) {
    out.Memory = Math.round(parseQuantity(limits.memory, `${name}: resources.limits.memory`));
    // Kubernetes nodes run without swap: the limit is the whole memory, as Docker's default would double it.
    out.MemorySwap = out.Memory;
  }
  return out;
}

/** What Docker's create call takes from a securityContext (container's over the template's). */
export interface SecuritySettings {
  User?: string;
  Privileged?: boolean;
  ReadonlyRootfs?: boolean;
  CapAdd?: string[];
  CapDrop?: string[];
  SecurityOpt?: string[];
}

/** `runAsUser`/`runAsGroup`, `privileged`, `readOnlyRootFilesystem`, capabilities, `allowPrivilegeEscalation`. */
export function securitySettings(
  container: K8sObject | undefined,
  pod: K8sObject | undefined,
): SecuritySettings {
  const pick = (k: string): unknown => container?.[k] ?? pod?.[k];
  const out: SecuritySettings = {};
  const user = pick("runAsUser");
  const group = pick("runAsGroup");
  if (user !== undefined)
    out.User = group !== undefined ? `${Number(user)}:${Number(group)}` : String(Number(user));
  else if (group !== undefined) out.User = `0:${Number(group)}`;
  if (container?.privileged === true) out.Privileged = true;
  if (container?.readOnlyRootFilesystem === true) out.ReadonlyRootfs = true;
  const caps = container?.capabilities as { add?: string[]; drop?: string[] } | undefined;
  if (caps?.add?.length) out.CapAdd = caps.add.map(String);
  if (caps?.drop?.length) out.CapDrop = caps.drop.map(String);
  if (container?.allowPrivilegeEscalation === false) out.SecurityOpt = ["no-new-privileges"];
  return out;
}

/** Docker names allow `[a-zA-Z0-9][a-zA-Z0-9_.-]*`. */
export function dockerName(s: string): string {
  const cleaned = s.replace(/[^a-zA-Z0-9_.-]/g, "-").replace(/^[^a-zA-Z0-9]+/, "");
  return cleaned.slice(0, 100) || "skiff";
}
