import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { createLocalRepository } from "../../../runtime/artifacts/repository.js";
import {
  createDockerExecutor,
  LABELS,
  type DockerExecutorOptions,
} from "../../../runtime/executors/docker/index.js";
import type { Executor, LogLine, StepRequest, StepResult } from "../../../runtime/interfaces/executor.js";
import type { Template } from "../../../runtime/spec/types.js";

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

let counter = 0;

/** A hand-made request for one leaf template. */
export function stepRequest(template: Template, extra: Partial<StepRequest> = {}): StepRequest {
  const n = ++counter;
  return {
    workflowName: "wf-docker",
    namespace: "default",
    workflowUid: `uid-${process.pid}`,
    nodeId: `wf-${n}`,
    nodeName: `wf[0].step${n}`,
    podName: `wf-${template.name ?? "t"}-${n}`,
    templateName: template.name ?? "t",
    template,
    parameters: [],
    inputArtifacts: [],
    artifactKeyPrefix: `wf/wf-${template.name ?? "t"}-${n}`,
    captureResult: false,
    env: {},
    daemon: false,
    evaluate: () => {
      throw new Error("no evaluator in this test");
    },
    ...extra,
  };
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
  const repository = createLocalRepository(path.join(dir, "repo"));
  return {
    dir,
    executor,
    repository,
    async run(
      template: Template,
      extra: Partial<StepRequest> = {},
    ): Promise<{ result: StepResult; logs: LogLine[] }> {
      return runStep(executor, stepRequest(template, { artifactRepository: repository, ...extra }));
    },
    async dispose() {
      await executor.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function runStep(
  executor: Executor,
  req: StepRequest,
): Promise<{ result: StepResult; logs: LogLine[] }> {
  const h = await executor.start(req);
  const logs: LogLine[] = [];
  const reading = (async () => {
    for await (const l of executor.logs(h)) logs.push(l);
  })();
  const result = await executor.wait(h);
  await reading;
  return { result, logs };
}
