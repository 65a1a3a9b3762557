import { rm } from "node:fs/promises";
import path from "node:path";
import { createLocalRepository } from "../../../runtime/artifacts/index.js";
import type { Executor, LogLine, StepRequest, StepResult } from "../../../runtime/interfaces/executor.js";
import type { Template } from "../../../runtime/spec/types.js";

let counter = 0;

/** A hand-made request for one leaf template, with a node and pod name of its own. */
export function leafRequest(template: Template, extra: Partial<StepRequest> = {}): StepRequest {
  const n = ++counter;
  return {
    workflowName: "wf",
    namespace: "default",
    workflowUid: "uid-1",
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

/** Starts a step, reads all its log lines, and waits for its result. */
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

/**
 * An executor under test with a local artifact repository in `dir`; `run` runs one template as a step of
 * `request`'s making, `dispose` cleans the executor up and removes `dir`.
 */
export function executorSuite<E extends Executor>(
  dir: string,
  executor: E,
  request: (template: Template, extra?: Partial<StepRequest>) => StepRequest,
) {
  const repository = createLocalRepository(path.join(dir, "repo"));
  return {
    dir,
    executor,
    repository,
    async run(
      template: Template,
      extra: Partial<StepRequest> = {},
    ): Promise<{ result: StepResult; logs: LogLine[] }> {
      return runStep(executor, request(template, { artifactRepository: repository, ...extra }));
    },
    async dispose() {
      await executor.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
