/**
 * A controller stand-in for the re-attach tests: starts the steps given as JSON in argv[2] with the Docker
 * executor, prints `ready` once each step's main container has started, then waits to be killed (SIGKILL,
 * so nothing of it cleans up).
 */
import Docker from "dockerode";
import { createDockerExecutor, LABELS } from "../../../runtime/executors/docker/index.js";
import type { StepRequest } from "../../../runtime/interfaces/executor.js";

const requests = JSON.parse(process.argv[2] ?? "[]") as StepRequest[];
const workDir = process.argv[3] ?? "/tmp";
const docker = new Docker();
const executor = createDockerExecutor({ imageMap: { busybox: "skiff-test/busybox:latest" }, workDir });

async function mainStarted(request: StepRequest): Promise<boolean> {
  const filters = JSON.stringify({
    label: [
      `${LABELS.workflowUid}=${request.workflowUid}`,
      `${LABELS.node}=${request.nodeId}`,
      `${LABELS.container}=main`,
    ],
  });
  const list = await docker.listContainers({ all: true, filters });
  return list.some((c) => c.State === "running" || c.State === "exited");
}

for (const r of requests) {
  await executor.start({
    ...r,
    evaluate: () => {
      throw new Error("no evaluator");
    },
  });
}
for (;;) {
  const started = await Promise.all(requests.map(mainStarted));
  if (started.every(Boolean)) break;
  await new Promise((r) => setTimeout(r, 50));
}
process.stdout.write("ready\n");
setInterval(() => undefined, 60_000);
