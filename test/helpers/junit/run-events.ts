import { compile, Library } from "../../../runtime/spec/index.js";
import type { CompiledWorkflow } from "../../../runtime/spec/compiled.js";
import type { NodePhase, NodeStatus, Workflow } from "../../../runtime/spec/types.js";
import { parsePipelineFile } from "../../../src/pipelines/discover.js";
import type { RunEvent } from "../../../src/reporters/events.js";

/*
 * A finished run as the run pipeline reports it, with fixed times, for the reporters that write files
 * (JUnit, GitLab): a `kind: Pipeline` compiled from text, so templates have real lines in .skiff/ci.yaml.
 */

export const WORKSPACE = "/repo";
export const SECRET = "s3cr3t-token-value";

export const CI_TEXT = `kind: Pipeline
metadata:
  name: ci
tasks:
  lint:
    run: npm run lint
  test:
    needs: [lint]
    run: npm test
  deploy:
    needs: [test]
    run: ./deploy.sh
`;

export function compileCi(name = "ci-abcde"): CompiledWorkflow {
  const loaded = parsePipelineFile(CI_TEXT, `${WORKSPACE}/.skiff/ci.yaml`);
  return compile(loaded.manifests[0]!, Library.from(loaded.manifests), { name });
}

const T0 = Date.parse("2026-01-02T03:04:05Z");
const at = (s: number) => new Date(T0 + s * 1000).toISOString().replace(/\.000Z$/, "Z");

function node(
  wf: string,
  task: string,
  phase: NodePhase,
  from: number,
  to: number,
  message?: string,
): NodeStatus {
  return {
    id: `${wf}-${task}`,
    name: `${wf}.${task}`,
    displayName: task,
    type: "Pod",
    templateName: task,
    templateScope: "local/",
    phase,
    startedAt: at(from),
    finishedAt: at(to),
    ...(message ? { message } : {}),
  };
}

/**
 * The events of one failing run of `ci`: lint passes, test fails after printing a `file:line` error (and
 * the secret), deploy is omitted. A second pipeline, `broken`, is rejected at compile time.
 */
export function failingRun(): RunEvent[] {
  const compiled = compileCi();
  const name = "ci-abcde";
  const nodes: Record<string, NodeStatus> = {
    [name]: {
      id: name,
      name,
      displayName: name,
      type: "DAG",
      templateName: "main",
      phase: "Failed",
      startedAt: at(0),
      finishedAt: at(42),
      children: [`${name}-lint`],
      message: "child 'ci-abcde-test' failed",
    },
    [`${name}-lint`]: { ...node(name, "lint", "Succeeded", 1, 8), children: [`${name}-test`] },
    [`${name}-test`]: {
      ...node(name, "test", "Failed", 9, 40, "Error (exit code 1)"),
      children: [`${name}-deploy`],
    },
    [`${name}-deploy`]: {
      ...node(name, "deploy", "Omitted", 41, 41, "omitted: depends condition not met"),
      startedAt: undefined,
      finishedAt: undefined,
    },
  };
  const workflow: Workflow = {
    ...structuredClone(compiled.workflow),
    status: {
      phase: "Failed",
      startedAt: at(0),
      finishedAt: at(42),
      message: "child 'ci-abcde-test' failed",
      nodes,
    },
  };
  const log = (nodeId: string, text: string): RunEvent => ({
    type: "controller",
    index: 0,
    pipeline: "ci",
    event: {
      type: "log",
      workflowName: name,
      line: { nodeId, container: "main", stream: "stdout", time: at(10), text },
    },
  });
  return [
    { type: "workflow-starting", index: 0, pipeline: "ci", file: ".skiff/ci.yaml", compiled },
    log(`${name}-lint`, "lint ok"),
    log(`${name}-test`, "running 3 tests with token " + SECRET),
    log(`${name}-test`, "\u001b[31msrc/app.ts:12:5: error: expected 2 to equal 3 <a & b>\u001b[0m"),
    log(`${name}-test`, "1 failed, 2 passed"),
    { type: "workflow-completed", index: 0, pipeline: "ci", file: ".skiff/ci.yaml", workflow },
  ];
}
