import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import Docker from "dockerode";
import { SystemClock, type Clock } from "../../interfaces/clock.js";
import type { Executor } from "../../interfaces/executor.js";
import type { ImagesConfig } from "../shared/index.js";
import { DockerExecutor, LABELS } from "./docker.js";
import type { ImageMap } from "./spec.js";

export interface DockerExecutorOptions {
  /**
   * Registry image names -> images to run instead, for air-gapped machines and tests, e.g.
   * `{ "busybox": "skiff-test/busybox:latest" }`. A name matches exactly, then without its tag or digest,
   * then without `docker.io/library/`.
   */
  imageMap?: ImageMap;
  /**
   * Argo's controller `images:` setting: an image's `entrypoint`/`cmd`, used for containers without `command`
   * in place of the image's own (as Argo's emissary does). Images not listed use their own ENTRYPOINT/CMD.
   */
  images?: ImagesConfig;
  /** A dockerode client (default: from DOCKER_HOST, or the local socket). */
  docker?: Docker;
  /** Docker socket path when no client is given (default: dockerode's, i.e. DOCKER_HOST or /var/run/docker.sock). */
  socketPath?: string;
  clock?: Clock;
  /** Time between SIGTERM and SIGKILL when a step is killed or passes its deadline (default 10 s). */
  killGracePeriodMs?: number;
  /** Longest wait between two readiness probes of a daemon (default 200 ms). */
  readinessPollMs?: number;
  /** Network steps join (default `bridge`); daemons are reached at their IP on it. */
  network?: string;
  /**
   * Image of the container that holds the network namespace of a step with init containers, sidecars or a
   * containerSet (a Kubernetes pause image, say). Default: main's image idling in `sh`.
   */
  pauseImage?: string;
  /** Run Docker's init as PID 1 of each container, forwarding signals as Argo's emissary does (default true). */
  init?: boolean;
  /**
   * Start containers that set no `workingDir` in the workspace (as the host executor does) rather than in the
   * image's WORKDIR (as Argo does). Default false.
   */
  workspaceAsWorkingDir?: boolean;
  /** Where inputs are staged and outputs unpacked on the host (default: the OS temp folder). */
  workDir?: string;
}

/**
 * Creates the Docker executor: each leaf step runs as containers on a Docker engine, grouped like a pod.
 * Creating it does not contact the engine; the first step does (SKF-DOCKER-001 when it does not answer).
 */
export function createDockerExecutor(options: DockerExecutorOptions = {}): DockerExecutor {
  const docker =
    options.docker ?? new Docker(options.socketPath ? { socketPath: options.socketPath } : undefined);
  return new DockerExecutor({
    docker,
    imageMap: options.imageMap ?? {},
    images: options.images ?? {},
    clock: options.clock ?? new SystemClock(),
    killGracePeriodMs: options.killGracePeriodMs ?? 10_000,
    readinessPollMs: options.readinessPollMs ?? 200,
    network: options.network ?? "bridge",
    pauseImage: options.pauseImage,
    init: options.init ?? true,
    workspaceAsWorkingDir: options.workspaceAsWorkingDir ?? false,
    workDir: options.workDir ?? tmpdir(),
    instanceId: randomBytes(6).toString("hex"),
  });
}

/**
 * Whether a Docker engine answers (for `--executor auto`): resolves false instead of throwing, within
 * `timeoutMs`.
 */
export async function dockerAvailable(
  options: { docker?: Docker; timeoutMs?: number } = {},
): Promise<boolean> {
  const docker = options.docker ?? new Docker();
  const timeout = new Promise<boolean>((resolve) =>
    setTimeout(() => resolve(false), options.timeoutMs ?? 2000).unref(),
  );
  return Promise.race([
    docker.ping().then(
      () => true,
      () => false,
    ),
    timeout,
  ]);
}

export { DockerExecutor, LABELS };
export type { Executor };
export type { ImageMap } from "./spec.js";
export { DOCKER_CODES } from "./codes.js";
