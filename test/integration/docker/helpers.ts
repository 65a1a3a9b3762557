import { execFileSync } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import Docker from "dockerode";
import {
  createDockerExecutor,
  LABELS,
  type DockerExecutorOptions,
} from "../../../runtime/executors/docker/index.js";
import type { StepRequest } from "../../../runtime/interfaces/executor.js";
import type { Template } from "../../../runtime/spec/types.js";
import { executorSuite, leafRequest, runStep } from "../executors/helpers.js";

export const BUSYBOX = "skiff-test/busybox:latest";
export const ENTRYPOINT_IMAGE = "skiff-test/entrypoint:latest";

/** Whether a Docker engine answers and the test images exist (built by ci-docker.sh beside this file). */
function probe(): string | undefined {
  try {
    execFileSync(
      "docker",
      [
        "image",
        "inspect",
        BUSYBOX,
        ENTRYPOINT_IMAGE,
        "skiff-test/argosay:latest",
        "skiff-test/python:latest",
        "skiff-test/tools:latest",
      ],
      {
        stdio: "ignore",
        timeout: 10_000,
      },
    );
    return undefined;
  } catch {
    try {
      execFileSync("docker", ["info"], { stdio: "ignore", timeout: 10_000 });
      return "the test images are missing: run test/integration/docker/ci-docker.sh";
    } catch {
      return "no Docker engine answers: run test/integration/docker/ci-docker.sh (as root) to set one up";
    }
  }
}

export const SKIP_REASON = probe();
export const DOCKER_AVAILABLE = SKIP_REASON === undefined;
if (SKIP_REASON) console.warn(`Docker executor tests skipped: ${SKIP_REASON}`);

/** Images the tests ask for by their registry names, mapped onto the locally built ones. */
export const TEST_IMAGE_MAP = {
  busybox: BUSYBOX,
  alpine: BUSYBOX,
  "argoproj/argosay:v2": BUSYBOX,
};

/** A hand-made request for one leaf template of the test workflow. */
export function stepRequest(template: Template, extra: Partial<StepRequest> = {}): StepRequest {
  return leafRequest(template, { workflowName: "wf-docker", workflowUid: `uid-${process.pid}`, ...extra });
}

export const docker = new Docker();

/** Containers and volumes of one executor still on the engine. */
export async function leftovers(instanceLabel: string): Promise<{ containers: string[]; volumes: string[] }> {
  const filters = JSON.stringify({ label: [instanceLabel] });
  const containers = await docker.listContainers({ all: true, filters });
  const volumes = await docker.listVolumes({ filters });
  return {
    containers: containers.map((c) => `${c.Names.join(",")} (${c.State})`),
    volumes: (volumes.Volumes ?? []).map((v) => v.Name),
  };
}

/**
 * The containers of the test workflow (by the `skiff.dev/workflow` label) that one executor made; test files
 * run in parallel, so each looks only at its own executor's.
 */
export async function workflowContainers(executor: { instanceId: string }): Promise<string[]> {
  const filters = JSON.stringify({
    label: [`${LABELS.workflow}=wf-docker`, `${LABELS.executor}=${executor.instanceId}`],
  });
  const list = await docker.listContainers({ all: true, filters });
  return list.map((c) => `${c.Names.join(",")} (${c.State})`);
}

/** A temp folder, an executor and a local artifact repository, all removed by `dispose`. */
export async function setup(options: DockerExecutorOptions = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), "skiff-docker-test-"));
  const executor = createDockerExecutor({
    imageMap: TEST_IMAGE_MAP,
    workDir: path.join(dir, "work"),
    killGracePeriodMs: 2000,
    readinessPollMs: 100,
    ...options,
  });
  return executorSuite(dir, executor, stepRequest);
}

export { runStep };
