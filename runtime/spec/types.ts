/**
 * The `argoproj.io/v1alpha1` object model, as loaded from YAML (the loose form). Field names are Argo's.
 * `../shared/contracts/argo-workflow.schema.json` is the reference; Kubernetes core types that Skiff only
 * passes through are kept loose (`K8sObject`).
 */

export type K8sObject = Record<string, unknown>;

/** Kubernetes `IntOrString`. */
export type IntOrString = number | string;

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  resourceVersion?: string;
  [key: string]: unknown;
}

export interface ConfigMapKeySelector {
  name: string;
  key: string;
  optional?: boolean;
}

export interface ValueFrom {
  path?: string;
  jsonPath?: string;
  jqFilter?: string;
  parameter?: string;
  expression?: string;
  default?: string;
  supplied?: Record<string, never>;
  event?: string;
  configMapKeyRef?: ConfigMapKeySelector;
}

export interface Parameter {
  name: string;
  value?: string;
  default?: string;
  valueFrom?: ValueFrom;
  enum?: string[];
  description?: string;
  globalName?: string;
}

export interface ArchiveStrategy {
  tar?: { compressionLevel?: number };
  none?: Record<string, never>;
  zip?: Record<string, never>;
}

export interface S3Artifact {
  bucket?: string;
  key?: string;
  endpoint?: string;
  region?: string;
  insecure?: boolean;
  accessKeySecret?: SecretKeySelector;
  secretKeySecret?: SecretKeySelector;
  [key: string]: unknown;
}

export interface SecretKeySelector {
  name: string;
  key: string;
  optional?: boolean;
}

export interface Artifact {
  name: string;
  path?: string;
  mode?: number;
  from?: string;
  fromExpression?: string;
  globalName?: string;
  optional?: boolean;
  subPath?: string;
  recurseMode?: boolean;
  archive?: ArchiveStrategy;
  archiveLogs?: boolean;
  deleted?: boolean;
  artifactGC?: K8sObject;
  s3?: S3Artifact;
  gcs?: K8sObject;
  azure?: K8sObject;
  http?: K8sObject;
  git?: K8sObject;
  raw?: { data: string };
  artifactory?: K8sObject;
  oss?: K8sObject;
  hdfs?: K8sObject;
  plugin?: K8sObject;
  /**
   * Skiff's embedded artifact repository (a folder on the machine running the controller). Not an Argo field:
   * Argo has no local repository. `key` is relative to the repository root.
   */
  local?: { key: string };
}

export interface Inputs {
  parameters?: Parameter[];
  artifacts?: Artifact[];
}

export interface Outputs {
  parameters?: Parameter[];
  artifacts?: Artifact[];
  result?: string;
  exitCode?: string;
}

export interface Arguments {
  parameters?: Parameter[];
  artifacts?: Artifact[];
}

export interface TemplateRef {
  name: string;
  template: string;
  clusterScope?: boolean;
}

export interface ContinueOn {
  error?: boolean;
  failed?: boolean;
}

export interface Sequence {
  count?: IntOrString;
  start?: IntOrString;
  end?: IntOrString;
  format?: string;
}

/** A loop item: Argo's `Item` is any JSON value. */
export type Item = string | number | boolean | null | Item[] | { [key: string]: Item };

export interface LifecycleHook {
  template?: string;
  templateRef?: TemplateRef;
  arguments?: Arguments;
  expression?: string;
}

export type LifecycleHooks = Record<string, LifecycleHook>;

/** Fields shared by a step (`WorkflowStep`) and a DAG task (`DAGTask`). */
export interface InvocationBase {
  name: string;
  template?: string;
  templateRef?: TemplateRef;
  inline?: Template;
  arguments?: Arguments;
  withItems?: Item[];
  withParam?: string;
  withSequence?: Sequence;
  when?: string;
  continueOn?: ContinueOn;
  onExit?: string;
  hooks?: LifecycleHooks;
}

export type WorkflowStep = InvocationBase;

export interface DAGTask extends InvocationBase {
  dependencies?: string[];
  depends?: string;
}

export interface DAGTemplate {
  target?: string;
  tasks: DAGTask[];
  failFast?: boolean;
}

export interface Backoff {
  duration?: IntOrString;
  factor?: IntOrString;
  maxDuration?: IntOrString;
  cap?: IntOrString;
}

export type RetryPolicy = "Always" | "OnFailure" | "OnError" | "OnTransientError";

export interface RetryStrategy {
  limit?: IntOrString;
  retryPolicy?: RetryPolicy;
  backoff?: Backoff;
  expression?: string;
  affinity?: K8sObject;
}

export interface Memoize {
  key: string;
  maxAge?: string;
  cache?: { configMap: { name: string; key?: string } };
}

export interface Mutex {
  name?: string;
  namespace?: string;
  database?: boolean;
}

export interface SemaphoreRef {
  configMapKeyRef?: ConfigMapKeySelector;
  namespace?: string;
  database?: { key: string };
}

export interface Synchronization {
  mutexes?: Mutex[];
  semaphores?: SemaphoreRef[];
  /** Deprecated singular forms, still accepted by Argo. */
  mutex?: Mutex;
  semaphore?: SemaphoreRef;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: K8sObject;
}

export interface Container {
  name?: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: K8sObject[];
  workingDir?: string;
  resources?: K8sObject;
  volumeMounts?: K8sObject[];
  securityContext?: K8sObject;
  imagePullPolicy?: string;
  ports?: K8sObject[];
  readinessProbe?: K8sObject;
  livenessProbe?: K8sObject;
  stdin?: boolean;
  tty?: boolean;
  [key: string]: unknown;
}

export interface ScriptTemplate extends Container {
  source: string;
}

export interface UserContainer extends Container {
  mirrorVolumeMounts?: boolean;
}

export interface ContainerNode extends Container {
  name: string;
  dependencies?: string[];
}

export interface ContainerSetTemplate {
  containers: ContainerNode[];
  volumeMounts?: K8sObject[];
  retryStrategy?: { retries?: IntOrString; duration?: string };
}

export interface ResourceTemplate {
  action: string;
  mergeStrategy?: string;
  manifest?: string;
  manifestFrom?: { artifact: Artifact };
  setOwnerReference?: boolean;
  successCondition?: string;
  failureCondition?: string;
  flags?: string[];
}

export interface DataTemplate {
  source: { artifactPaths?: Artifact & K8sObject };
  transformation: { expression: string }[];
}

export interface HTTPHeader {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: SecretKeySelector };
}

export interface HTTPTemplate {
  method?: string;
  url: string;
  headers?: HTTPHeader[];
  timeoutSeconds?: number;
  body?: string;
  bodyFrom?: { bytes?: string };
  successCondition?: string;
  insecureSkipVerify?: boolean;
}

export interface SuspendTemplate {
  duration?: string;
}

export interface Metadata {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface Template {
  name?: string;
  inputs?: Inputs;
  outputs?: Outputs;
  metadata?: Metadata;
  daemon?: boolean;

  container?: Container;
  script?: ScriptTemplate;
  containerSet?: ContainerSetTemplate;
  resource?: ResourceTemplate;
  data?: DataTemplate;
  http?: HTTPTemplate;
  plugin?: K8sObject;
  suspend?: SuspendTemplate;
  steps?: WorkflowStep[][];
  dag?: DAGTemplate;

  initContainers?: UserContainer[];
  sidecars?: UserContainer[];
  volumes?: K8sObject[];
  archiveLocation?: K8sObject;

  activeDeadlineSeconds?: IntOrString;
  timeout?: string;
  pendingTimeout?: string;
  retryStrategy?: RetryStrategy;
  parallelism?: number;
  failFast?: boolean;
  memoize?: Memoize;
  synchronization?: Synchronization;
  metrics?: K8sObject;
  podSpecPatch?: string;

  nodeSelector?: Record<string, string>;
  affinity?: K8sObject;
  tolerations?: K8sObject[];
  securityContext?: K8sObject;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  executor?: K8sObject;
  hostAliases?: K8sObject[];
  priorityClassName?: string;
  schedulerName?: string;
  podResources?: K8sObject;
  resourceClaims?: K8sObject[];
  annotations?: Record<string, string>;
}

export type TemplateType =
  | "container"
  | "script"
  | "containerSet"
  | "resource"
  | "data"
  | "http"
  | "plugin"
  | "suspend"
  | "steps"
  | "dag";

export const TEMPLATE_TYPES: readonly TemplateType[] = [
  "container",
  "script",
  "containerSet",
  "resource",
  "data",
  "http",
  "plugin",
  "suspend",
  "steps",
  "dag",
];

/** The one template type a template declares; undefined when it declares none. */
export function templateTypeOf(t: Template): TemplateType | undefined {
  for (const k of TEMPLATE_TYPES) if (t[k] !== undefined && t[k] !== null) return k;
  return undefined;
}

export interface WorkflowTemplateRef {
  name: string;
  clusterScope?: boolean;
}

export interface TTLStrategy {
  secondsAfterCompletion?: number;
  secondsAfterSuccess?: number;
  secondsAfterFailure?: number;
}

export interface WorkflowSpec {
  entrypoint?: string;
  arguments?: Arguments;
  templates?: Template[];
  onExit?: string;
  hooks?: LifecycleHooks;
  parallelism?: number;
  activeDeadlineSeconds?: number;
  retryStrategy?: RetryStrategy;
  synchronization?: Synchronization;
  templateDefaults?: Template;
  workflowTemplateRef?: WorkflowTemplateRef;
  suspend?: boolean;
  shutdown?: "Stop" | "Terminate" | "";
  priority?: number;
  serviceAccountName?: string;
  volumes?: K8sObject[];
  volumeClaimTemplates?: K8sObject[];
  artifactRepositoryRef?: { configMap?: string; key?: string };
  ttlStrategy?: TTLStrategy;
  podGC?: K8sObject;
  workflowMetadata?: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    labelsFrom?: Record<string, { expression: string }>;
  };
  podMetadata?: Metadata;
  podSpecPatch?: string;
  archiveLogs?: boolean;
  artifactGC?: K8sObject;
  metrics?: K8sObject;
  [key: string]: unknown;
}

export type NodePhase = "Pending" | "Running" | "Succeeded" | "Skipped" | "Failed" | "Error" | "Omitted";
export type WorkflowPhase = "" | "Pending" | "Running" | "Succeeded" | "Failed" | "Error";
export type NodeType =
  | "Pod"
  | "Container"
  | "Steps"
  | "StepGroup"
  | "DAG"
  | "TaskGroup"
  | "Retry"
  | "Skipped"
  | "Suspend"
  | "HTTP"
  | "Plugin";

export interface NodeFlag {
  hooked?: boolean;
  retried?: boolean;
}

export interface MemoizationStatus {
  hit: boolean;
  key: string;
  cacheName: string;
}

export interface NodeStatus {
  id: string;
  name: string;
  displayName: string;
  type: NodeType;
  templateName?: string;
  templateRef?: TemplateRef;
  templateScope?: string;
  phase: NodePhase;
  boundaryID?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  estimatedDuration?: number;
  progress?: string;
  resourcesDuration?: Record<string, number>;
  podIP?: string;
  daemoned?: boolean;
  nodeFlag?: NodeFlag;
  inputs?: Inputs;
  outputs?: Outputs;
  children?: string[];
  outboundNodes?: string[];
  hostNodeName?: string;
  memoizationStatus?: MemoizationStatus;
  synchronizationStatus?: { waiting?: string };
  taskResultSynced?: boolean;
}

export interface WorkflowStatus {
  phase?: WorkflowPhase;
  startedAt?: string;
  finishedAt?: string;
  estimatedDuration?: number;
  progress?: string;
  message?: string;
  nodes?: Record<string, NodeStatus>;
  storedTemplates?: Record<string, Template>;
  storedWorkflowTemplateSpec?: WorkflowSpec;
  outputs?: Outputs;
  conditions?: { type: string; status: string; message?: string }[];
  resourcesDuration?: Record<string, number>;
  synchronization?: K8sObject;
  artifactRepositoryRef?: K8sObject;
  taskResultsCompletionStatus?: Record<string, boolean>;
}

export interface Workflow {
  apiVersion: "argoproj.io/v1alpha1";
  kind: "Workflow";
  metadata: ObjectMeta;
  spec: WorkflowSpec;
  status?: WorkflowStatus;
}

export interface WorkflowTemplate {
  apiVersion: "argoproj.io/v1alpha1";
  kind: "WorkflowTemplate";
  metadata: ObjectMeta;
  spec: WorkflowSpec;
}

export interface ClusterWorkflowTemplate {
  apiVersion: "argoproj.io/v1alpha1";
  kind: "ClusterWorkflowTemplate";
  metadata: ObjectMeta;
  spec: WorkflowSpec;
}

export interface CronWorkflowSpec {
  schedule?: string;
  schedules?: string[];
  timezone?: string;
  concurrencyPolicy?: "Allow" | "Forbid" | "Replace";
  startingDeadlineSeconds?: number;
  successfulJobsHistoryLimit?: number;
  failedJobsHistoryLimit?: number;
  suspend?: boolean;
  when?: string;
  stopStrategy?: { expression?: string; condition?: string };
  workflowSpec: WorkflowSpec;
  workflowMetadata?: ObjectMeta;
}

export interface CronWorkflow {
  apiVersion: "argoproj.io/v1alpha1";
  kind: "CronWorkflow";
  metadata: ObjectMeta;
  spec: CronWorkflowSpec;
  status?: K8sObject;
}

export interface ConfigMap {
  apiVersion: "v1";
  kind: "ConfigMap";
  metadata: ObjectMeta;
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

export interface Secret {
  apiVersion: "v1";
  kind: "Secret";
  metadata: ObjectMeta;
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export type ArgoObject = Workflow | WorkflowTemplate | ClusterWorkflowTemplate | CronWorkflow;
export type Manifest = ArgoObject | ConfigMap | Secret;
export type ManifestKind = Manifest["kind"];
