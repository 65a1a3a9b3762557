// The parts of Argo's API objects the UI reads (io.argoproj.workflow.v1alpha1.*, as the server's swagger
// describes them). Everything is optional: the server omits empty fields.

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface Parameter {
  name: string;
  value?: string;
  default?: string;
  enum?: string[];
  description?: string;
}

export interface Artifact {
  name: string;
  path?: string;
  s3?: { key?: string };
  [driver: string]: unknown;
}

export interface Inputs {
  parameters?: Parameter[];
  artifacts?: Artifact[];
}

export interface Outputs extends Inputs {
  result?: string;
  exitCode?: string;
}

export type NodePhase = "Pending" | "Running" | "Succeeded" | "Skipped" | "Failed" | "Error" | "Omitted";

export interface NodeStatus {
  id: string;
  name: string;
  displayName?: string;
  type: string;
  phase?: NodePhase;
  templateName?: string;
  templateRef?: { name?: string; template?: string; clusterScope?: boolean };
  boundaryID?: string;
  children?: string[];
  outboundNodes?: string[];
  startedAt?: string;
  finishedAt?: string;
  message?: string;
  progress?: string;
  inputs?: Inputs;
  outputs?: Outputs;
  resourcesDuration?: Record<string, number>;
  hostNodeName?: string;
  podIP?: string;
}

export interface Template {
  name?: string;
  steps?: unknown;
  dag?: unknown;
  container?: unknown;
  script?: unknown;
}

export interface WorkflowSpec {
  entrypoint?: string;
  arguments?: Inputs;
  templates?: Template[];
  suspend?: boolean;
  shutdown?: string;
  workflowTemplateRef?: { name?: string; clusterScope?: boolean };
}

export interface WorkflowStatus {
  phase?: string;
  startedAt?: string;
  finishedAt?: string;
  message?: string;
  progress?: string;
  nodes?: Record<string, NodeStatus>;
  resourcesDuration?: Record<string, number>;
}

export interface Workflow {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: WorkflowSpec;
  status?: WorkflowStatus;
}

export interface WorkflowTemplate {
  metadata: ObjectMeta;
  spec?: WorkflowSpec;
}

export interface CronWorkflow {
  metadata: ObjectMeta;
  spec: {
    schedules?: string[];
    schedule?: string;
    timezone?: string;
    suspend?: boolean;
    concurrencyPolicy?: string;
    workflowSpec?: WorkflowSpec;
  };
  status?: {
    active?: { name?: string; namespace?: string; uid?: string }[];
    lastScheduledTime?: string;
    succeeded?: number;
    failed?: number;
    phase?: string;
  };
}

export interface List<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[] | null;
}

export interface WatchEvent<T> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "ERROR";
  object: T;
}

export interface LogEntry {
  content?: string;
  podName?: string;
}
