/**
 * Per-step overhead of the Docker executor against a plain `docker run --rm` of the same image and command,
 * measured in the same run, alternating the two so that engine warm-up and machine load hit both alike.
 * Prints one JSON line: both medians (ms), their ratio (target at most 1.3) and the settings.
 *
 *   npx tsx bench/docker-overhead.ts [--n 20] [--image skiff-test/busybox:latest]
 *
 * Needs a Docker engine and the image (test/integration/docker/ci-docker.sh builds it).
 */
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import { createDockerExecutor } from "../runtime/executors/docker/index.js";
import type { StepRequest } from "../runtime/interfaces/executor.js";

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "20" },
    image: { type: "string", default: "skiff-test/busybox:latest" },
    init: { type: "string", default: "true" },
  },
});
const n = Number(values.n);
const image = values.image;
const command = ["echo", "hello"];

function dockerRun(): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn("docker", ["run", "--rm", image, ...command], { stdio: ["ignore", "pipe", "inherit"] });
    p.stdout.resume();
    p.on("error", reject);
    p.on("exit", (code) =>
      code === 0 ? resolve(performance.now() - t0) : reject(new Error(`docker run exited ${code}`)),
    );
  });
}

const executor = createDockerExecutor({ init: values.init !== "false" });
let counter = 0;

async function executorRun(): Promise<number> {
  const i = ++counter;
  const request: StepRequest = {
    workflowName: "bench-docker",
    namespace: "default",
    workflowUid: "bench",
    nodeId: `bench-${i}`,
    nodeName: `bench[0].step(${i})`,
    podName: `bench-echo-${i}`,
    templateName: "echo",
    template: { name: "echo", container: { image, command } },
    parameters: [],
    inputArtifacts: [],
    artifactKeyPrefix: `bench/bench-echo-${i}`,
    captureResult: true,
    env: {},
    daemon: false,
    evaluate: () => undefined,
  };
  const t0 = performance.now();
  const h = await executor.start(request);
  const drained = (async () => {
    for await (const _line of executor.logs(h));
  })();
  const r = await executor.wait(h);
  await drained;
  const t = performance.now() - t0;
  if (r.phase !== "Succeeded" || r.outputs.result !== "hello") {
    throw new Error(`step ended ${r.phase}: ${r.message ?? ""} (${r.outputs.result ?? ""})`);
  }
  return t;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

try {
  // One of each first, not counted: image layers and the engine's caches warm up.
  await dockerRun();
  await executorRun();
  const plain: number[] = [];
  const skiff: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      plain.push(await dockerRun());
      skiff.push(await executorRun());
    } else {
      skiff.push(await executorRun());
      plain.push(await dockerRun());
    }
  }
  const dockerRunMs = median(plain);
  const executorMs = median(skiff);
  console.log(
    JSON.stringify({
      scenario: "docker-overhead",
      n,
      image,
      command,
      init: values.init !== "false",
      dockerRunMedianMs: Math.round(dockerRunMs * 10) / 10,
      executorMedianMs: Math.round(executorMs * 10) / 10,
      ratio: Math.round((executorMs / dockerRunMs) * 1000) / 1000,
      target: 1.3,
    }),
  );
} finally {
  await executor.cleanup();
}
