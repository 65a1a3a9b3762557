import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import { SkiffError } from "../../errors/index.js";
import { SystemClock, type Clock } from "../../interfaces/clock.js";
import type { ImagesConfig } from "../shared/index.js";
import { clientsOf, loadKubeConfig } from "./api.js";
import { KUBE_CODES } from "./codes.js";
import { KubernetesExecutor } from "./kubernetes.js";
import { LABELS, type ImageMap } from "./spec.js";

export interface KubernetesExecutorOptions {
  /** A kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then the in-cluster service account). */
  kubeconfig?: string;
  /** The kubeconfig context to use (default: its current context). */
  context?: string;
  /** A loaded KubeConfig (tests); wins over `kubeconfig` and `context`. */
  config?: KubeConfig;
  /** Namespace every step runs in (default: the workflow's `metadata.namespace`, else `default`). */
  namespace?: string;
  /**
   * Image of the `init` and `wait` containers Skiff adds to each pod; it must hold a static `busybox` on its
   * PATH, which the official image does (default `busybox:1.36`).
   */
  executorImage?: string;
  /** Image names -> names the pods use instead (a registry mirror; local images of a test cluster). */
  imageMap?: ImageMap;
  /** Argo's controller `images:` setting: the entrypoint of images used without `command`. */
  images?: ImagesConfig;
  clock?: Clock;
  /** Grace period of a pod deleted by kill or deadline (default 10 s). */
  killGracePeriodMs?: number;
  /** Longest wait between two readiness checks of a daemon (default 500 ms). */
  readinessPollMs?: number;
  /** How long a pod may stay unschedulable or unable to pull its images (default 5 min). */
  pendingTimeoutMs?: number;
  /** Pod creations per second (default 50) and at once (default 100), as client-go's QPS and Burst. */
  qps?: number;
  burst?: number;
  /** Where inputs are staged and outputs unpacked on this machine (default: the OS temp folder). */
  workDir?: string;
}

/**
 * Creates the Kubernetes executor: each leaf step runs as a Pod on the cluster a kubeconfig names. Creating
 * it reads the kubeconfig (SKF-KUBE-001 when there is none) but does not contact the API server; the first
 * step does.
 */
export function createKubernetesExecutor(options: KubernetesExecutorOptions = {}): KubernetesExecutor {
  const config = options.config ?? loadKubeConfig(options);
  const positive = (name: string, v: number | undefined, dflt: number): number => {
    if (v === undefined) return dflt;
    if (!Number.isFinite(v) || v <= 0) {
      throw new SkiffError(
        KUBE_CODES["SKF-KUBE-006"],
        `kubernetes.${name} must be a positive number (got ${v})`,
      );
    }
    return v;
  };
  return new KubernetesExecutor({
    clients: clientsOf(config),
    namespace: options.namespace,
    executorImage: options.executorImage ?? "busybox:1.36",
    imageMap: options.imageMap ?? {},
    images: options.images ?? {},
    clock: options.clock ?? new SystemClock(),
    killGracePeriodMs: options.killGracePeriodMs ?? 10_000,
    readinessPollMs: options.readinessPollMs ?? 500,
    pendingTimeoutMs: positive("pendingTimeoutSeconds", options.pendingTimeoutMs, 300_000),
    qps: positive("qps", options.qps, 50),
    burst: positive("burst", options.burst, 100),
    workDir: options.workDir ?? tmpdir(),
    instanceId: randomBytes(6).toString("hex"),
  });
}

export { KubernetesExecutor, LABELS };
export { KUBE_CODES } from "./codes.js";
export type { ImageMap } from "./spec.js";
