import type { SkiffError } from "../../../runtime/errors/index.js";
import type { CompiledWorkflow, TemplateScope } from "../../../runtime/spec/compiled.js";
import type { NodeStatus, Workflow } from "../../../runtime/spec/types.js";
import type { RunEvent } from "../events.js";
import { parseLogAnnotation, repoPath } from "../github-checks/annotations.js";
import type { CheckAnnotation } from "../github-checks/client.js";
import { leafSteps, maskSecrets, stepName } from "../github-checks/markdown.js";

/** A place in the checkout a step's result points at: a line its log named, else its template's line. */
export interface StepLocation {
  /** Relative to the checkout, `/`-separated. */
  file: string;
  line: number;
  /** The location comes from a `file:line: message` line of the step's log. */
  fromLog: boolean;
}

/** One step of a finished workflow, with what its reporters show. */
export interface StepRecord {
  node: NodeStatus;
  /** The step's name relative to its workflow (`build`, `test(0:node:20)`). */
  name: string;
  /** The last log lines, masked. */
  logTail: string[];
  /** Log lines not kept before the tail. */
  omitted: number;
  /** `file:line: message` lines of the step's log, masked, in order. */
  annotations: CheckAnnotation[];
  location?: StepLocation;
}

/** A pipeline of the run: it ran to its end, or it could not start. */
export type PipelineRecord =
  | { pipeline: string; file?: string; workflow: Workflow; steps: StepRecord[] }
  | { pipeline: string; error: SkiffError };

export interface RunCollectorOptions {
  /** The checkout: paths are made relative to it. */
  workspace: string;
  /** Values masked in logs and messages. */
  secrets?: readonly string[];
  /** Log lines kept per step (default 100). */
  logTailLines?: number;
  /** `file:line` lines kept per step (default 200). */
  maxAnnotations?: number;
}

interface Running {
  compiled: CompiledWorkflow;
  logs: Map<string, { lines: string[]; total: number }>;
  annotations: Map<string, CheckAnnotation[]>;
}

/**
 * Keeps what the file-writing reporters (JUnit, GitLab's Code Quality report and merge-request note) need
 * once a run ends: each workflow's final status, the tail of each step's log and the `file:line` lines the
 * annotation parser found in it. Listening never throws.
 */
export class RunCollector {
  readonly records: PipelineRecord[] = [];
  private readonly running = new Map<number, Running>();
  private readonly secrets: readonly string[];
  private readonly tailLines: number;
  private readonly maxAnnotations: number;

  constructor(private readonly options: RunCollectorOptions) {
    this.secrets = options.secrets ?? [];
    this.tailLines = options.logTailLines ?? 100;
    this.maxAnnotations = options.maxAnnotations ?? 200;
  }

  onEvent(event: RunEvent): void {
    switch (event.type) {
      case "rejected":
        this.records.push({ pipeline: event.pipeline, error: event.error });
        return;
      case "workflow-starting":
        this.running.set(event.index, { compiled: event.compiled, logs: new Map(), annotations: new Map() });
        return;
      case "controller": {
        const e = event.event;
        if (e.type !== "log") return;
        const state = this.running.get(event.index);
        if (!state) return;
        const id = e.line.nodeId;
        let buf = state.logs.get(id);
        if (!buf) state.logs.set(id, (buf = { lines: [], total: 0 }));
        buf.lines.push(maskSecrets(e.line.text, this.secrets));
        buf.total++;
        if (buf.lines.length > this.tailLines) buf.lines.shift();
        const a = parseLogAnnotation(e.line.text, {
          workspace: this.options.workspace,
          defaultLevel: "failure",
        });
        if (a) {
          const list = state.annotations.get(id) ?? [];
          if (list.length < this.maxAnnotations) {
            a.message = maskSecrets(a.message, this.secrets);
            list.push(a);
            state.annotations.set(id, list);
          }
        }
        return;
      }
      case "workflow-completed": {
        const state = this.running.get(event.index);
        this.running.delete(event.index);
        const steps = state ? this.steps(state, event.workflow) : [];
        this.records.push({
          pipeline: event.pipeline,
          ...(event.file ? { file: event.file } : {}),
          workflow: event.workflow,
          steps,
        });
        return;
      }
      default:
        return;
    }
  }

  private steps(state: Running, wf: Workflow): StepRecord[] {
    const wfName = wf.metadata.name ?? "";
    return leafSteps(wf).map((node) => {
      // A Retry node shows its last attempt's log.
      const ids = node.type === "Retry" ? [...(node.children ?? [])].reverse() : [node.id];
      const logId = ids.find((id) => state.logs.has(id));
      const buf = logId ? state.logs.get(logId) : undefined;
      const annotations = ids.flatMap((id) => state.annotations.get(id) ?? []);
      const failed = node.phase === "Failed" || node.phase === "Error";
      const fromLog = failed ? annotations.find((a) => a.annotation_level === "failure") : undefined;
      const template = this.templateLocation(state.compiled, node);
      const location: StepLocation | undefined = fromLog
        ? { file: fromLog.path, line: fromLog.start_line, fromLog: true }
        : template;
      return {
        node,
        name: stepName(node, wfName),
        logTail: buf?.lines ?? [],
        omitted: buf ? buf.total - buf.lines.length : 0,
        annotations,
        ...(location ? { location } : {}),
      };
    });
  }

  private templateLocation(compiled: CompiledWorkflow, node: NodeStatus): StepLocation | undefined {
    const template = node.templateName ?? node.templateRef?.template;
    if (!template) return undefined;
    const position = compiled.templatePosition(template, scopeOf(compiled, node));
    if (!position?.file || position.line === undefined) return undefined;
    const file = repoPath(position.file, this.options.workspace);
    return file === undefined ? undefined : { file, line: position.line, fromLog: false };
  }
}

function scopeOf(compiled: CompiledWorkflow, node: NodeStatus): TemplateScope {
  const id = node.templateScope ?? "";
  if (id === "" || id.startsWith("local/")) return compiled.rootScope;
  const [kind, name] = id.split("/") as [string, string];
  return { id, kind: kind === "cluster" ? "ClusterWorkflowTemplate" : "WorkflowTemplate", name };
}
