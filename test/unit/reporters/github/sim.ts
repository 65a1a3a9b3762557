import type { ControllerEventListener } from "../../../../runtime/interfaces/events.js";
import type { CompiledWorkflow } from "../../../../runtime/spec/compiled.js";
import { compile, Library } from "../../../../runtime/spec/index.js";
import type { NodeStatus, Workflow, WorkflowPhase } from "../../../../runtime/spec/types.js";
import type { SkiffError } from "../../../../runtime/errors/index.js";
import type { Clock } from "../../../../runtime/interfaces/clock.js";
import { FakeClock } from "../../../../runtime/testing/fake-clock.js";
import { parsePipelineFile } from "../../../../src/pipelines/discover.js";
import {
  createGitHubChecksReporter,
  type GitHubChecksReporterOptions,
} from "../../../../src/reporters/github-checks/reporter.js";
import { MemoryGitHub } from "../../../../src/testing/memory-github.js";

export const WORKSPACE = "/repo";
export const PIPELINE_FILE = "/repo/.skiff/ci.yaml";
export const HEAD_SHA = "0123456789abcdef0123456789abcdef01234567";

/**
 * A check-run reporter (`checks: steps`) over the in-memory GitHub, on an auto-advancing fake clock, with
 * the time of every call and every fallback recorded.
 */
export function reporterOnMemory(
  options: Partial<GitHubChecksReporterOptions> = {},
  clock = new FakeClock({ start: Date.UTC(2026, 0, 1, 12), autoAdvance: true }),
) {
  const github = new MemoryGitHub();
  const times: number[] = [];
  github.onCall = () => times.push(clock.now());
  const warnings: SkiffError[] = [];
  const reporter = createGitHubChecksReporter({
    client: github,
    clock,
    headSha: HEAD_SHA,
    checks: "steps",
    workspace: WORKSPACE,
    onFallback: (e) => warnings.push(e),
    ...options,
  });
  return { clock, github, reporter, times, warnings };
}

/** A small pipeline compiled from text, so templates have real positions in `.skiff/ci.yaml`. */
export function compilePipeline(text: string, name = "ci-abcde"): CompiledWorkflow {
  const loaded = parsePipelineFile(text, PIPELINE_FILE);
  if (loaded.problems.length > 0) throw loaded.problems[0];
  return compile(loaded.manifests[0]!, Library.from(loaded.manifests), {
    name,
    parameters: { "git-sha": "0123abc", token: "s3cr3t-value" },
  });
}

export const CI_TEXT = `kind: Pipeline
metadata:
  name: ci
params:
  token: ""
tasks:
  lint:
    run: npm run lint
  build:
    run: npm run build
  test:
    needs: [build]
    run: npm test
  deploy:
    needs: [lint, test]
    run: ./deploy.sh
`;

/** Plays a workflow's life as controller events, with times from the fake clock. */
export class WorkflowSim {
  readonly wf: Workflow;
  private readonly name: string;

  constructor(
    compiled: CompiledWorkflow,
    private readonly listener: ControllerEventListener,
    private readonly clock: Pick<Clock, "now">,
  ) {
    this.wf = structuredClone(compiled.workflow);
    this.name = this.wf.metadata.name!;
    this.wf.status = { phase: "Running", startedAt: this.iso(), nodes: {} };
    this.wf.status.nodes![this.name] = {
      id: this.name,
      name: this.name,
      displayName: this.name,
      type: "DAG",
      templateName: compiled.entrypoint,
      phase: "Running",
      startedAt: this.iso(),
      children: [],
    };
  }

  private iso(): string {
    return new Date(this.clock.now()).toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  start(): this {
    this.listener({ type: "workflow-started", workflow: structuredClone(this.wf) });
    return this;
  }

  /** Creates or changes a node and emits `node-updated`. */
  node(task: string, patch: Partial<NodeStatus> & { parent?: string }): NodeStatus {
    const id = patch.id ?? `${this.name}-${task}`;
    const nodes = this.wf.status!.nodes!;
    const previous = nodes[id];
    const { parent, ...rest } = patch;
    const node: NodeStatus = {
      id,
      name: `${this.name}.${task}`,
      displayName: task,
      type: "Pod",
      templateName: task,
      phase: "Pending",
      ...(previous ?? {}),
      ...rest,
    };
    if (!previous) {
      const p = nodes[parent ?? this.name]!;
      p.children = [...(p.children ?? []), id];
    }
    if (node.phase === "Running" && !node.startedAt) node.startedAt = this.iso();
    if (["Succeeded", "Failed", "Error", "Skipped", "Omitted"].includes(node.phase) && !node.finishedAt)
      node.finishedAt = this.iso();
    nodes[id] = node;
    this.listener({
      type: "node-updated",
      workflow: structuredClone(this.wf),
      node: structuredClone(node),
      previousPhase: previous?.phase,
    });
    return node;
  }

  log(task: string, text: string, id = `${this.name}-${task}`): void {
    this.listener({
      type: "log",
      workflowName: this.name,
      line: { nodeId: id, container: "main", stream: "stdout", time: this.iso(), text },
    });
  }

  finish(phase: WorkflowPhase, message?: string): Workflow {
    const root = this.wf.status!.nodes![this.name]!;
    root.phase = phase === "Succeeded" ? "Succeeded" : "Failed";
    root.finishedAt = this.iso();
    this.wf.status!.phase = phase;
    this.wf.status!.finishedAt = this.iso();
    if (message) this.wf.status!.message = message;
    this.listener({ type: "workflow-finished", workflow: structuredClone(this.wf) });
    return structuredClone(this.wf);
  }
}
