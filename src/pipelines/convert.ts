import { Ajv, type ErrorObject } from "ajv";
import { SkiffAggregateError, SkiffError, type SourcePosition } from "../../runtime/errors/index.js";
import type { PositionIndex } from "../../runtime/spec/positions.js";
import type {
  Artifact,
  DAGTask,
  Parameter,
  RetryStrategy,
  Template,
  Workflow,
} from "../../runtime/spec/types.js";
import { findCycle } from "../../runtime/spec/index.js";
import { parseDuration } from "../../runtime/spec/units.js";
import schema from "../../schemas/pipeline.schema.json" with { type: "json" };
import { PIPE_CODES } from "./codes.js";
import { GIT_PARAMETERS } from "./git-context.js";
import { TRIGGER_ANNOTATIONS } from "./triggers.js";

type Scalar = string | number | boolean;
type Duration = string | number;

/** A task of the compact format (see docs/pipeline-format.md). */
export interface PipelineTask {
  run: string;
  image?: string;
  shell?: string;
  workingDir?: string;
  env?: Record<string, Scalar>;
  needs?: string | string[];
  matrix?: Record<string, Scalar[]>;
  if?: string;
  retry?:
    | number
    | {
        limit: number;
        policy?: string;
        backoff?: { duration?: Duration; factor?: number; maxDuration?: Duration };
      };
  timeout?: Duration;
  continueOnError?: boolean;
  artifacts?: Record<string, string>;
  inputs?: Record<string, { from: string; path?: string }>;
}

export type PipelineOn =
  | string
  | string[]
  | {
      events?: string[];
      branches?: string | string[];
      paths?: string | string[];
      "paths-ignore"?: string | string[];
      comment?: string;
    };

/** `kind: Pipeline`: a DAG of shell tasks that converts to an Argo Workflow. */
export interface Pipeline {
  apiVersion?: string;
  kind: "Pipeline";
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  on?: PipelineOn;
  params?: Record<string, Scalar>;
  image?: string;
  env?: Record<string, Scalar>;
  timeout?: Duration;
  tasks: Record<string, PipelineTask>;
}

/** A converted pipeline and where each field of the Workflow came from in the pipeline file. */
export interface ConvertedPipeline {
  workflow: Workflow;
  /** Positions by Workflow path, answered with the position of the pipeline field it came from. */
  positions: PositionIndex;
}

/** The image of tasks that name none: small and with a POSIX shell. */
export const DEFAULT_IMAGE = "alpine:3";
/** Label on every converted Workflow. */
export const PIPELINE_LABEL = "skiff.dev/pipeline";

const ajv = new Ajv({ allErrors: true, strict: false });
const validateSchema = ajv.compile<Pipeline>(schema);

/** Whether a parsed YAML document is a compact pipeline. */
export function isPipelineDocument(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "Pipeline";
}

/**
 * Converts a compact pipeline into an Argo DAG Workflow: one DAG template (`main`) whose tasks each use a
 * script template named like the task. Throws SkiffAggregateError (SKF-PIPE-002...) with every problem found,
 * each at its line when `positions` knows it.
 */
export function convertPipeline(value: unknown, positions: PositionIndex, file?: string): ConvertedPipeline {
  const at = (path: readonly (string | number)[]): SourcePosition => {
    for (let n = path.length; n >= 0; n--) {
      const p = positions.get(path.slice(0, n));
      if (p) return p;
    }
    return { file };
  };
  if (!validateSchema(value)) {
    const problems = schemaProblems(validateSchema.errors ?? []).map(
      (e) =>
        new SkiffError(PIPE_CODES["SKF-PIPE-002"], e.message, {
          position: at(e.path),
          path: e.path.join("."),
        }),
    );
    problems.sort((a, b) => (a.position?.line ?? 0) - (b.position?.line ?? 0));
    throw new SkiffAggregateError(PIPE_CODES["SKF-PIPE-002"], problems, `pipeline is not valid`);
  }
  const pipeline = value;
  const problems: SkiffError[] = [];
  const origins = new Map<string, (string | number)[]>();
  const origin = (wfPath: (string | number)[], pipelinePath: (string | number)[]) =>
    origins.set(JSON.stringify(wfPath), pipelinePath);

  const names = Object.keys(pipeline.tasks);
  const needsOf = (t: PipelineTask): string[] =>
    t.needs === undefined ? [] : typeof t.needs === "string" ? [t.needs] : t.needs;
  for (const name of names) {
    const task = pipeline.tasks[name]!;
    needsOf(task).forEach((need, i) => {
      if (!Object.hasOwn(pipeline.tasks, need))
        problems.push(
          new SkiffError(PIPE_CODES["SKF-PIPE-003"], `task ${name} needs ${need}, which is not a task`, {
            position: at(["tasks", name, "needs", ...(typeof task.needs === "string" ? [] : [i])]),
          }),
        );
      else if (need === name)
        problems.push(
          new SkiffError(PIPE_CODES["SKF-PIPE-004"], `task ${name} needs itself`, {
            position: at(["tasks", name, "needs"]),
          }),
        );
    });
  }
  const needs = new Map(
    names.map((n) => [n, needsOf(pipeline.tasks[n]!).filter((d) => d !== n && names.includes(d))]),
  );
  const cycle = findCycle(names, needs);
  if (cycle)
    problems.push(
      new SkiffError(PIPE_CODES["SKF-PIPE-004"], `tasks need each other in a cycle: ${cycle.join(" -> ")}`, {
        position: at(["tasks", cycle[0]!, "needs"]),
      }),
    );

  const seconds = (d: Duration, path: (string | number)[]): number | undefined => {
    try {
      return Math.ceil(parseDuration(d) / 1000);
    } catch {
      problems.push(
        new SkiffError(PIPE_CODES["SKF-PIPE-007"], `${String(d)} is not a duration`, { position: at(path) }),
      );
      return undefined;
    }
  };

  const dagName = uniqueName("main", names);
  const tasks: DAGTask[] = [];
  const templates: Template[] = [{ name: dagName, dag: { tasks } }];
  origin(["spec", "templates", 0], ["tasks"]);
  names.forEach((name, i) => {
    const task = pipeline.tasks[name]!;
    const tpath = ["tasks", name];
    const matrixKeys = Object.keys(task.matrix ?? {});
    const toInputs = (s: string) =>
      s.replace(/\{\{\s*matrix\.([a-zA-Z][-a-zA-Z0-9_]*)\s*\}\}/g, "{{inputs.parameters.$1}}");
    const toItems = (s: string) =>
      s.replace(/\{\{\s*matrix\.([a-zA-Z][-a-zA-Z0-9_]*)\s*\}\}/g, "{{item.$1}}");

    const env = { ...(pipeline.env ?? {}), ...(task.env ?? {}) };
    const shell = (task.shell ?? "sh").trim().split(/\s+/);
    const command =
      shell.length === 1 && (shell[0] === "sh" || shell[0] === "bash") ? [...shell, "-e"] : shell;
    const template: Template = {
      name,
      script: {
        image: toInputs(task.image ?? pipeline.image ?? DEFAULT_IMAGE),
        command,
        source: toInputs(task.run),
        ...(task.workingDir ? { workingDir: task.workingDir } : {}),
        ...(Object.keys(env).length > 0
          ? { env: Object.entries(env).map(([k, v]) => ({ name: k, value: toInputs(String(v)) })) }
          : {}),
      },
    };
    const inputParameters: Parameter[] = matrixKeys.map((k) => ({ name: k }));
    const inputArtifacts: Artifact[] = [];
    const argArtifacts: Artifact[] = [];
    for (const [aname, input] of Object.entries(task.inputs ?? {})) {
      const [from, fromArtifact] = input.from.split(".") as [string, string];
      const producer = pipeline.tasks[from];
      const ipath = ["tasks", name, "inputs", aname, "from"];
      if (!producer || !Object.hasOwn(producer.artifacts ?? {}, fromArtifact)) {
        problems.push(
          new SkiffError(
            PIPE_CODES["SKF-PIPE-006"],
            `input ${aname} of task ${name} comes from ${input.from}, which no task produces`,
            { position: at(ipath) },
          ),
        );
        continue;
      }
      if (!needsOf(task).includes(from))
        problems.push(
          new SkiffError(
            PIPE_CODES["SKF-PIPE-006"],
            `task ${name} takes ${input.from} but does not need ${from}`,
            { position: at(ipath), hint: `Add ${from} to the needs of ${name}.` },
          ),
        );
      if (producer.matrix)
        problems.push(
          new SkiffError(
            PIPE_CODES["SKF-PIPE-006"],
            `task ${name} takes ${input.from}, but ${from} runs once per matrix entry`,
            { position: at(ipath), hint: "Take artifacts only from tasks without a matrix." },
          ),
        );
      inputArtifacts.push({ name: aname, path: input.path ?? producer.artifacts![fromArtifact]! });
      argArtifacts.push({ name: aname, from: `{{tasks.${from}.outputs.artifacts.${fromArtifact}}}` });
    }
    if (inputParameters.length > 0 || inputArtifacts.length > 0)
      template.inputs = {
        ...(inputParameters.length > 0 ? { parameters: inputParameters } : {}),
        ...(inputArtifacts.length > 0 ? { artifacts: inputArtifacts } : {}),
      };
    const outputs = Object.entries(task.artifacts ?? {});
    if (outputs.length > 0) template.outputs = { artifacts: outputs.map(([n, p]) => ({ name: n, path: p })) };
    if (task.retry !== undefined) template.retryStrategy = retryStrategy(task.retry, tpath, seconds);
    if (task.timeout !== undefined) {
      const s = seconds(task.timeout, [...tpath, "timeout"]);
      if (s !== undefined) template.activeDeadlineSeconds = String(s);
    }
    templates.push(template);
    const ti = templates.length - 1;
    origin(["spec", "templates", ti], tpath);
    origin(["spec", "templates", ti, "script", "source"], [...tpath, "run"]);
    origin(["spec", "templates", ti, "script", "image"], [...tpath, "image"]);
    origin(["spec", "templates", ti, "script", "env"], [...tpath, "env"]);
    origin(["spec", "templates", ti, "retryStrategy"], [...tpath, "retry"]);
    origin(["spec", "templates", ti, "activeDeadlineSeconds"], [...tpath, "timeout"]);
    origin(["spec", "templates", ti, "outputs"], [...tpath, "artifacts"]);
    origin(["spec", "templates", ti, "inputs", "artifacts"], [...tpath, "inputs"]);

    const dagTask: DAGTask = { name, template: name };
    const needs = needsOf(task);
    if (needs.length > 0) dagTask.dependencies = needs;
    if (task.if !== undefined) dagTask.when = toItems(task.if);
    if (task.continueOnError) dagTask.continueOn = { failed: true, error: true };
    const argParameters: Parameter[] = matrixKeys.map((k) => ({ name: k, value: `{{item.${k}}}` }));
    if (argParameters.length > 0 || argArtifacts.length > 0)
      dagTask.arguments = {
        ...(argParameters.length > 0 ? { parameters: argParameters } : {}),
        ...(argArtifacts.length > 0 ? { artifacts: argArtifacts } : {}),
      };
    if (task.matrix) dagTask.withItems = matrixProduct(task.matrix);
    tasks.push(dagTask);
    origin(["spec", "templates", 0, "dag", "tasks", i], tpath);
    origin(["spec", "templates", 0, "dag", "tasks", i, "dependencies"], [...tpath, "needs"]);
    origin(["spec", "templates", 0, "dag", "tasks", i, "when"], [...tpath, "if"]);
    origin(["spec", "templates", 0, "dag", "tasks", i, "withItems"], [...tpath, "matrix"]);
  });

  if (problems.length > 0)
    throw new SkiffAggregateError(
      problems[0]!.code,
      problems,
      `pipeline ${pipeline.metadata.name} has ${problems.length} problem${problems.length === 1 ? "" : "s"}`,
    );

  const annotations = { ...(pipeline.metadata.annotations ?? {}), ...onAnnotations(pipeline.on) };
  // Git parameters the tasks use are declared (empty by default) so that the Workflow also lints and runs
  // on its own, e.g. with `argo submit -p git-sha=...`.
  const text = JSON.stringify(pipeline.tasks);
  const parameters: Parameter[] = [
    ...Object.entries(pipeline.params ?? {}).map(([n, v]) => ({ name: n, value: String(v) })),
    ...GIT_PARAMETERS.filter(
      (g) => text.includes(`workflow.parameters.${g}`) && !Object.hasOwn(pipeline.params ?? {}, g),
    ).map((g) => ({ name: g, value: "" })),
  ];
  const workflow: Workflow = {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: {
      generateName: `${pipeline.metadata.name}-`,
      labels: { ...(pipeline.metadata.labels ?? {}), [PIPELINE_LABEL]: pipeline.metadata.name },
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec: {
      entrypoint: dagName,
      ...(parameters.length > 0 ? { arguments: { parameters } } : {}),
      templates,
    },
  };
  if (pipeline.timeout !== undefined) {
    const s = seconds(pipeline.timeout, ["timeout"]);
    if (s !== undefined) workflow.spec.activeDeadlineSeconds = s;
  }
  origin([], []);
  origin(["metadata"], ["metadata"]);
  origin(["metadata", "annotations"], pipeline.on === undefined ? ["metadata", "annotations"] : ["on"]);
  origin(["spec"], ["tasks"]);
  origin(["spec", "arguments"], ["params"]);
  origin(["spec", "activeDeadlineSeconds"], ["timeout"]);

  return { workflow, positions: mappedPositions(positions, origins) };
}

/** `on:` as the trigger annotations it stands for. */
function onAnnotations(on: PipelineOn | undefined): Record<string, string> {
  if (on === undefined) return {};
  const list = (v: string | string[]) => (typeof v === "string" ? [v] : v).join(", ");
  if (typeof on === "string" || Array.isArray(on)) return { [TRIGGER_ANNOTATIONS.event]: list(on) };
  const out: Record<string, string> = {};
  if (on.events) out[TRIGGER_ANNOTATIONS.event] = list(on.events);
  if (on.branches) out[TRIGGER_ANNOTATIONS.targetBranch] = list(on.branches);
  if (on.paths) out[TRIGGER_ANNOTATIONS.pathChange] = list(on.paths);
  if (on["paths-ignore"]) out[TRIGGER_ANNOTATIONS.pathChangeIgnore] = list(on["paths-ignore"]);
  if (on.comment) out[TRIGGER_ANNOTATIONS.comment] = on.comment;
  return out;
}

function retryStrategy(
  retry: NonNullable<PipelineTask["retry"]>,
  tpath: (string | number)[],
  seconds: (d: Duration, path: (string | number)[]) => number | undefined,
): RetryStrategy {
  // IntOrString fields are written as strings: Argo's JSON Schema types them so.
  if (typeof retry === "number") return { limit: String(retry), retryPolicy: "Always" };
  const s: RetryStrategy = { limit: String(retry.limit), retryPolicy: (retry.policy ?? "Always") as never };
  if (retry.backoff) {
    const b = retry.backoff;
    const dur = (d: Duration | undefined, key: string) => {
      if (d === undefined) return undefined;
      const n = seconds(d, [...tpath, "retry", "backoff", key]);
      return n === undefined ? undefined : `${n}s`;
    };
    const duration = dur(b.duration, "duration");
    const maxDuration = dur(b.maxDuration, "maxDuration");
    s.backoff = {
      ...(duration ? { duration } : {}),
      ...(b.factor !== undefined ? { factor: String(b.factor) } : {}),
      ...(maxDuration ? { maxDuration } : {}),
    };
  }
  return s;
}

/** Every combination of the matrix values, keys in written order. */
export function matrixProduct(matrix: Record<string, Scalar[]>): Record<string, Scalar>[] {
  let combos: Record<string, Scalar>[] = [{}];
  for (const [key, values] of Object.entries(matrix))
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
  return combos;
}

function uniqueName(base: string, taken: readonly string[]): string {
  let name = base;
  for (let i = 2; taken.includes(name); i++) name = `${base}-${i}`;
  return name;
}

/** Answers a Workflow path with the position of the longest mapped prefix's pipeline field. */
function mappedPositions(
  inner: PositionIndex,
  origins: ReadonlyMap<string, (string | number)[]>,
): PositionIndex {
  return {
    get(path) {
      for (let n = path.length; n >= 0; n--) {
        const target = origins.get(JSON.stringify(path.slice(0, n)));
        if (!target) continue;
        for (let m = target.length; m >= 0; m--) {
          const p = inner.get(target.slice(0, m));
          if (p) return p;
        }
      }
      return undefined;
    },
  };
}

interface SchemaProblem {
  path: (string | number)[];
  message: string;
}

/** Ajv's errors as messages a person reads, most specific first, without the noise of `oneOf` branches. */
function schemaProblems(errors: readonly ErrorObject[]): SchemaProblem[] {
  const out: SchemaProblem[] = [];
  const seen = new Set<string>();
  const oneOfPaths = new Set(errors.filter((e) => e.keyword === "oneOf").map((e) => e.instancePath));
  for (const e of errors) {
    const path = e.instancePath
      .split("/")
      .slice(1)
      .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    const field = path.length > 0 ? path.join(".") : "the pipeline";
    let message: string;
    // Inside a oneOf, each branch's complaint is noise: report the oneOf once.
    if (
      e.keyword !== "oneOf" &&
      [...oneOfPaths].some((p) => e.instancePath === p || e.instancePath.startsWith(`${p}/`))
    )
      continue;
    switch (e.keyword) {
      case "oneOf":
        message = `${field} has the wrong shape`;
        break;
      case "additionalProperties":
        message = `${field} has an unknown field ${String((e.params as { additionalProperty: string }).additionalProperty)}`;
        path.push((e.params as { additionalProperty: string }).additionalProperty);
        break;
      case "required":
        message = `${field} needs ${String((e.params as { missingProperty: string }).missingProperty)}`;
        break;
      case "const":
        message = `${field} must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
        break;
      case "propertyNames":
        continue;
      case "pattern":
        if (e.propertyName !== undefined) {
          message = `${field}: ${e.propertyName} is not a valid name (${e.message ?? ""})`;
          path.push(e.propertyName);
        } else message = `${field} ${e.message ?? "is not valid"}`;
        break;
      default:
        message = `${field} ${e.message ?? "is not valid"}`;
    }
    const key = `${path.join(".")}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path, message });
  }
  return out;
}
