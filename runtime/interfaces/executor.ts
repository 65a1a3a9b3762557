import type {
  Artifact,
  ConfigMap,
  Container,
  K8sObject,
  Parameter,
  Secret,
  Template,
  WorkflowSpec,
} from "../spec/types.js";
import type { ArtifactRepository } from "./artifacts.js";

/**
 * What the controller asks an executor to run: one leaf node (Argo's "pod"). Every `{{...}}` in `template`
 * has already been substituted; input parameters have their values and input artifacts their locations.
 */
export interface StepRequest {
  workflowName: string;
  namespace: string;
  workflowUid: string;
  nodeId: string;
  /** Full node name, e.g. `wf[0].hello(0)`. */
  nodeName: string;
  /** Argo's pod name (`{{pod.name}}`): `<wf>-<template>-<fnv32a(nodeName)>`. */
  podName: string;
  templateName: string;
  /** The substituted template: its container/script/containerSet/http/data/resource block is what runs. */
  template: Template;
  /** Input parameters with their final values. */
  parameters: Parameter[];
  /** Input artifacts with their resolved locations (the executor loads them to `path`). */
  inputArtifacts: Artifact[];
  /** The artifact repository output artifacts are saved to, and inputs loaded from. */
  artifactRepository?: ArtifactRepository;
  /** Default key prefix for output artifacts (Argo's `{{workflow.name}}/{{pod.name}}`). */
  artifactKeyPrefix: string;
  /** Whether stdout must be captured as `outputs.result` (Argo keeps the last 256 KiB). */
  captureResult: boolean;
  /** Absolute time (ms since epoch) by which the step must end; the executor kills it then. */
  deadline?: number;
  /** Extra environment variables (Argo's `ARGO_*` ones among them). */
  env: Record<string, string>;
  /**
   * A directory shared by all steps of the workflow (the checkout, for CI runs). Steps start in it unless
   * their container sets `workingDir`.
   */
  workspace?: string;
  /**
   * The volumes the step's `volumeMounts` may name: the workflow's `spec.volumes`, one
   * `{name, persistentVolumeClaim: {claimName}}` per `spec.volumeClaimTemplates` entry (claimName is
   * `<workflow>-<name>`, as Argo names the PVC it creates), then the template's own `volumes` (which win).
   * Executors keep a claim's contents for the whole workflow (and an existing claim's across workflows).
   */
  volumes?: K8sObject[];
  /**
   * ConfigMaps and Secrets loaded beside the workflow, by name (`CompiledWorkflow.configMaps`/`secrets`):
   * `configMap` and `secret` volumes are made from them. Executors that cannot read a cluster need them.
   */
  configMaps?: ReadonlyMap<string, ConfigMap>;
  secrets?: ReadonlyMap<string, Secret>;
  /**
   * The workflow's spec, for pod-level settings an executor that builds real pods applies (`nodeSelector`,
   * `affinity`, `tolerations`, `podMetadata`, `podSpecPatch`, `imagePullSecrets`, `podGC`...).
   */
  workflowSpec?: WorkflowSpec;
  /** True for daemon templates: `start` returns at once; `ready()` resolves once the step is up. */
  daemon: boolean;
  /**
   * Evaluates an expr-lang expression (data-template transformations, HTTP `successCondition`) with Argo's
   * environment. Given by the controller, so executors need not import the expression engine.
   */
  evaluate: ExpressionEvaluator;
}

/** Evaluates an expr-lang expression over an environment of plain values. Throws a SkiffError on failure. */
export type ExpressionEvaluator = (expression: string, env: Record<string, unknown>) => unknown;

export interface StepHandle {
  readonly id: string;
  readonly nodeId: string;
}

/** One line a step wrote. */
export interface LogLine {
  nodeId: string;
  /** Container name: `main`, `init`, a sidecar's or a containerSet container's name. */
  container: string;
  stream: "stdout" | "stderr";
  /** RFC3339 time of the line. */
  time: string;
  text: string;
}

/** The end of one container of a step (for containerSet nodes and init/sidecars). */
export interface ContainerResult {
  name: string;
  exitCode: number | null;
  phase: "Succeeded" | "Failed" | "Error";
  message?: string;
  startedAt?: string;
  finishedAt?: string;
}

/** How a step ended, as Argo's pod assessment would put it. */
export interface StepResult {
  /** Succeeded: main exited 0 and outputs collected. Failed: main exited non-zero. Error: anything else. */
  phase: "Succeeded" | "Failed" | "Error";
  /** Argo's message, e.g. `main: Error (exit code 1)`; absent on success. */
  message?: string;
  exitCode: number | null;
  outputs: {
    result?: string;
    exitCode?: string;
    parameters?: Parameter[];
    artifacts?: Artifact[];
  };
  containers?: ContainerResult[];
  startedAt: string;
  finishedAt: string;
  /** Host name or IP the step ran at (`hostNodeName`). */
  hostNodeName?: string;
}

/** Sent when a daemon step is up. */
export interface DaemonReady {
  /** `{{steps.X.ip}}`. */
  ip: string;
}

export interface ExecutorCapabilities {
  /** Kubernetes `resource` templates. */
  resource: boolean;
  /** Whether `image` matters (Docker, Kubernetes) or is only used to choose a command (host). */
  containers: boolean;
}

/**
 * Runs leaf nodes. Host, Docker and Kubernetes implement it; `runtime/testing/fake-executor.ts` is the
 * scripted one the controller's tests use. Implementations never throw from `wait` for a step that ran and
 * failed: that is a `StepResult` with phase Failed/Error. They throw a SkiffError only when they could not
 * start the step at all.
 */
export interface Executor {
  readonly name: string;
  readonly capabilities: ExecutorCapabilities;
  start(step: StepRequest): Promise<StepHandle>;
  /**
   * Finds a step started by an earlier controller of the same workflow (crash recovery). On resume, for a
   * `Pod` node the persisted status says was Running (or Pending, when `start` may have been called before
   * the Running phase was stored), the controller rebuilds the same `StepRequest` it would have started
   * (same `workflowUid`, `nodeId` and `podName`) and calls `attach` instead of `start`.
   *
   * A handle means the step is followed from there as if it had been started by this process: `wait`,
   * `logs` (from the step's start), `kill` and `ready` work on it, and its outputs are collected as usual,
   * also when it ended while no controller ran. `undefined` means there is nothing to attach to: a Running
   * node is then treated as Argo treats a lost pod (node Error `pod deleted`, after which its
   * `retryStrategy` decides), a Pending one is started. Throws a SkiffError only when the executor cannot
   * tell (e.g. its engine does not answer); the node is then an Error too.
   *
   * Executors without `attach` get today's behaviour: the step is started again.
   */
  attach?(step: StepRequest): Promise<StepHandle | undefined>;
  /** Resolves once a daemon step is ready (only called for daemon steps). */
  ready(handle: StepHandle): Promise<DaemonReady>;
  wait(handle: StepHandle): Promise<StepResult>;
  logs(handle: StepHandle): AsyncIterable<LogLine>;
  /** Stops the step (its whole process group / container group). `wait` then resolves. */
  kill(handle: StepHandle, reason: string): Promise<void>;
  /** Frees everything this executor created. */
  cleanup(): Promise<void>;
}

export type { Container };
