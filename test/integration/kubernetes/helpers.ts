import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { createLocalRepository } from "../../../runtime/artifacts/repository.js";
import { startWorkflow } from "../../../runtime/controller/index.js";
import {
  createKubernetesExecutor,
  type KubernetesExecutor,
  type KubernetesExecutorOptions,
} from "../../../runtime/executors/kubernetes/index.js";
import { SystemClock } from "../../../runtime/interfaces/clock.js";
import { compile, Library, parseManifests } from "../../../runtime/spec/index.js";
import type { Workflow } from "../../../runtime/spec/types.js";
import { KubeApiDouble } from "../../doubles/kube-api/server.js";
import { BUSYBOX, DOCKER_AVAILABLE } from "../docker/helpers.js";

export { DOCKER_AVAILABLE };

/** Images the double's kubelet runs in place of registry ones (built by test/integration/docker/ci-docker.sh). */
export const DOUBLE_IMAGE_MAP = {
  busybox: BUSYBOX,
  "busybox:1.36": BUSYBOX,
  alpine: "skiff-test/tools:latest",
  "argoproj/argosay": "skiff-test/argosay:latest",
  "argoproj/argosay:v2": "skiff-test/argosay:latest",
  "docker/whalesay": "skiff-test/argosay:latest",
  "curlimages/curl": "skiff-test/tools:latest",
  nginx: "skiff-test/tools:latest",
  influxdb: "skiff-test/tools:latest",
  node: "skiff-test/tools:latest",
  python: "skiff-test/python:latest",
};

/** A started double, a KubeConfig for it and a folder for the test. */
export async function startDouble(): Promise<{ double: KubeApiDouble; config: KubeConfig; dir: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), "skiff-kube-test-"));
  const double = new KubeApiDouble({ imageMap: DOUBLE_IMAGE_MAP, workDir: dir });
  await double.start();
  const config = new KubeConfig();
  config.loadFromFile(double.writeKubeconfig());
  return { double, config, dir };
}

export function kubeExecutor(
  config: KubeConfig,
  dir: string,
  options: KubernetesExecutorOptions = {},
): KubernetesExecutor {
  return createKubernetesExecutor({
    config,
    workDir: path.join(dir, "work"),
    killGracePeriodMs: 2000,
    readinessPollMs: 100,
    ...options,
  });
}

/** Runs a workflow (YAML text) through the controller on the executor; cleans the executor up after. */
export async function runWorkflow(
  yaml: string,
  executor: KubernetesExecutor,
  dir: string,
): Promise<Workflow> {
  const { manifests } = parseManifests(yaml, "test.yaml");
  const compiled = compile(manifests[0]!, Library.from(manifests));
  try {
    const running = startWorkflow(compiled, {
      executor,
      clock: new SystemClock(),
      artifactRepository: createLocalRepository(path.join(dir, "artifacts")),
      workspace: dir,
    });
    return await running.done;
  } finally {
    await executor.cleanup();
  }
}
