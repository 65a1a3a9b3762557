import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createDockerExecutor, dockerAvailable } from "../../runtime/executors/docker/index.js";
import { bwrapStatus, createHostExecutor } from "../../runtime/executors/host/index.js";
import type { ImageConfig } from "../../runtime/executors/shared/images.js";
import { defineErrorCodes, SkiffError } from "../../runtime/errors/index.js";
import type { Executor } from "../../runtime/interfaces/executor.js";

export type { ImageConfig };

/** Whether the host executor's bubblewrap sandbox is installed and can start (probed afresh). */
export const hostSandboxStatus = bwrapStatus;

/** The executor `createExecutor` picks for these settings (`auto` resolved). */
export async function executorKind(settings: Pick<ExecutorSettings, "executor">): Promise<string> {
  return settings.executor === "auto" ? ((await dockerAvailable()) ? "docker" : "host") : settings.executor;
}

export const EXECUTOR_CODES = defineErrorCodes({
  "SKF-RUN-002": {
    title: "Executor not available",
    hint: "Use --executor host (the default when no Docker engine answers), or install and start the engine asked for; the Kubernetes executor needs Node.js 22.19 or later.",
  },
});

/**
 * The part of a Skiff config that picks and sets up an executor. `src/` reaches the executors only through
 * {@link createExecutor}, so adding one (Kubernetes) changes this file and no entry point.
 */
export interface ExecutorSettings {
  executor: "auto" | "host" | "docker" | "kubernetes";
  /** Steps' working folders go under it (`steps/` for the host executor, `docker/` for Docker). */
  stateDir: string;
  host: { sandbox: "auto" | "bwrap" | "none" };
  images: Record<string, ImageConfig>;
  /** Docker executor: registry image name -> local image to run in its place. */
  imageMap: Record<string, string>;
  /** PEM files of extra certificate authorities trusted by HTTP steps. */
  extraCAFiles: string[];
  /** Kubernetes executor: the cluster, namespace and images (the `kubernetes:` config section). */
  kubernetes?: KubernetesSettings;
}

/** The `kubernetes:` section of a Skiff config (see docs/kubernetes.md). */
export interface KubernetesSettings {
  /** A kubeconfig file (default: KUBECONFIG, ~/.kube/config, then the in-cluster service account). */
  kubeconfig?: string;
  /** The kubeconfig context (default: its current one). */
  context?: string;
  /** Namespace steps run in (default: the workflow's, else `default`); `--namespace` sets it. */
  namespace?: string;
  /** Image of the pods' `init`/`wait` containers, holding a static busybox (default `busybox:1.36`). */
  executorImage?: string;
  /** Image names -> names pods use instead (a registry mirror, local images of a test cluster). */
  imageMap?: Record<string, string>;
  /** How long a pod may stay unschedulable or unable to pull its images (default 300). */
  pendingTimeoutSeconds?: number;
  /** Pod creations per second (default 50) and at once (default 100). */
  qps?: number;
  burst?: number;
}

/**
 * Creates the executor the settings ask for. `auto` uses Docker when an engine answers and the host executor
 * otherwise (the zero set-up default). Throws `SKF-RUN-002` when the executor asked for is not available.
 */
export async function createExecutor(
  settings: ExecutorSettings,
  /** Host executor: whether a killed run's workflow may still be resumed (its step records are kept). */
  resumable?: (workflow: { namespace: string; name: string; uid: string }) => Promise<boolean>,
): Promise<Executor> {
  const kind = await executorKind(settings);
  switch (kind) {
    case "host":
      return createHostExecutor({
        sandbox: settings.host.sandbox,
        images: settings.images,
        workDir: join(settings.stateDir, "steps"),
        ...(resumable ? { resumable } : {}),
        ...(settings.extraCAFiles.length > 0
          ? { extraCACerts: settings.extraCAFiles.map((f) => readFileSync(f, "utf8")).join("\n") }
          : {}),
      });
    case "docker":
      if (settings.executor === "docker" && !(await dockerAvailable())) {
        throw new SkiffError(
          "SKF-RUN-002",
          "no Docker engine answers (is dockerd running, and may this user use it?)",
        );
      }
      return createDockerExecutor({
        images: settings.images,
        imageMap: settings.imageMap,
        workDir: join(settings.stateDir, "docker"),
      });
    case "kubernetes": {
      const k = settings.kubernetes ?? {};
      // Loaded only when asked for: its client (@kubernetes/client-node and its undici) needs Node 22.19 or
      // later, and the CLI and the action must start on Node 20 too.
      const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
      if (major < 22 || (major === 22 && minor < 19))
        throw new SkiffError(
          "SKF-RUN-002",
          `the kubernetes executor needs Node.js 22.19 or later (this is ${process.versions.node})`,
        );
      const { createKubernetesExecutor } = await import("../../runtime/executors/kubernetes/index.js");
      return createKubernetesExecutor({
        ...(k.kubeconfig ? { kubeconfig: k.kubeconfig } : {}),
        ...(k.context ? { context: k.context } : {}),
        ...(k.namespace ? { namespace: k.namespace } : {}),
        ...(k.executorImage ? { executorImage: k.executorImage } : {}),
        ...(k.pendingTimeoutSeconds !== undefined
          ? { pendingTimeoutMs: k.pendingTimeoutSeconds * 1000 }
          : {}),
        ...(k.qps !== undefined ? { qps: k.qps } : {}),
        ...(k.burst !== undefined ? { burst: k.burst } : {}),
        imageMap: k.imageMap ?? {},
        images: settings.images,
        workDir: join(settings.stateDir, "kubernetes"),
      });
    }
    default:
      throw new SkiffError("SKF-RUN-002", `the ${kind} executor is not available in this version of Skiff`);
  }
}
