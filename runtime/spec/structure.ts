import { SPEC_CODES } from "./codes.js";
import { isPlainObject } from "./merge.js";
import { formatPath } from "./positions.js";

/**
 * The shape of Argo's objects, written out for the fields Skiff checks: Argo-owned types are closed (an
 * unknown field is a problem, as with `argo lint --strict`), Kubernetes types Skiff only passes through are
 * checked one level deep. Kept in code rather than read from Argo's JSON Schema so the bundle stays small.
 */
type Shape =
  | "string"
  | "integer"
  | "number"
  | "boolean"
  | "any"
  | "object"
  | "intOrString"
  | "anyString"
  | "quantity"
  | { type: string }
  | { list: Shape }
  | { map: Shape }
  | { enum: readonly string[] };

interface TypeDef {
  fields: Record<string, Shape>;
  required?: readonly string[];
  /** Accept fields not listed (Kubernetes types Skiff does not model). */
  open?: boolean;
}

const str = "string" as const;
const bool = "boolean" as const;
const int = "integer" as const;
const list = (s: Shape): Shape => ({ list: s });
const map = (s: Shape): Shape => ({ map: s });
const ref = (type: string): Shape => ({ type });
const obj = "object" as const;

const CONTAINER_FIELDS: Record<string, Shape> = {
  name: str,
  image: str,
  command: list(str),
  args: list(str),
  env: list(ref("EnvVar")),
  envFrom: list(obj),
  workingDir: str,
  resources: obj,
  volumeMounts: list(ref("VolumeMount")),
  volumeDevices: list(obj),
  securityContext: obj,
  imagePullPolicy: str,
  ports: list(obj),
  readinessProbe: obj,
  livenessProbe: obj,
  startupProbe: obj,
  lifecycle: obj,
  stdin: bool,
  stdinOnce: bool,
  tty: bool,
  terminationMessagePath: str,
  terminationMessagePolicy: str,
  resizePolicy: list(obj),
  restartPolicy: str,
  restartPolicyRules: list(obj),
};

const ARTIFACT_LOCATION: Record<string, Shape> = {
  archiveLogs: bool,
  s3: obj,
  gcs: obj,
  azure: obj,
  http: obj,
  git: obj,
  raw: obj,
  artifactory: obj,
  oss: obj,
  hdfs: obj,
  plugin: obj,
  local: obj,
};

const ARTIFACT_FIELDS: Record<string, Shape> = {
  ...ARTIFACT_LOCATION,
  name: str,
  path: str,
  mode: int,
  from: str,
  fromExpression: str,
  globalName: str,
  optional: bool,
  subPath: str,
  recurseMode: bool,
  archive: obj,
  deleted: bool,
  artifactGC: obj,
};

const WORKFLOW_SPEC_FIELDS: Record<string, Shape> = {
  activeDeadlineSeconds: int,
  affinity: obj,
  archiveLogs: bool,
  arguments: ref("Arguments"),
  artifactGC: obj,
  artifactRepositoryRef: obj,
  automountServiceAccountToken: bool,
  dnsConfig: obj,
  dnsPolicy: str,
  entrypoint: str,
  executor: obj,
  executorPlugins: list(obj),
  hooks: map(ref("LifecycleHook")),
  hostAliases: list(obj),
  hostNetwork: bool,
  imagePullSecrets: list(obj),
  metrics: ref("Metrics"),
  nodeSelector: map(str),
  onExit: str,
  parallelism: int,
  podDisruptionBudget: obj,
  podGC: ref("PodGC"),
  podMetadata: ref("Metadata"),
  podPriorityClassName: str,
  podResources: obj,
  podSpecPatch: str,
  priority: int,
  resourceClaims: list(obj),
  retryStrategy: ref("RetryStrategy"),
  schedulerName: str,
  securityContext: obj,
  serviceAccountName: str,
  shutdown: str,
  suspend: bool,
  synchronization: ref("Synchronization"),
  templateDefaults: ref("Template"),
  templates: list(ref("Template")),
  tolerations: list(obj),
  ttlStrategy: ref("TTLStrategy"),
  volumeClaimGC: obj,
  volumeClaimTemplates: list(obj),
  volumes: list(ref("Volume")),
  workflowMetadata: ref("WorkflowMetadata"),
  workflowTemplateRef: ref("WorkflowTemplateRef"),
};

const INVOCATION_FIELDS: Record<string, Shape> = {
  name: str,
  template: str,
  templateRef: ref("TemplateRef"),
  inline: ref("Template"),
  arguments: ref("Arguments"),
  withItems: list("any"),
  withParam: str,
  withSequence: ref("Sequence"),
  when: str,
  continueOn: ref("ContinueOn"),
  onExit: str,
  hooks: map(ref("LifecycleHook")),
};

const TYPES: Record<string, TypeDef> = {
  ObjectMeta: {
    fields: {
      name: str,
      generateName: str,
      namespace: str,
      labels: map(str),
      annotations: map(str),
      uid: str,
      resourceVersion: str,
      creationTimestamp: "any",
    },
    open: true,
  },
  WorkflowSpec: { fields: WORKFLOW_SPEC_FIELDS },
  CronWorkflowSpec: {
    fields: {
      schedule: str,
      schedules: list(str),
      timezone: str,
      concurrencyPolicy: str,
      startingDeadlineSeconds: int,
      successfulJobsHistoryLimit: int,
      failedJobsHistoryLimit: int,
      suspend: bool,
      when: str,
      stopStrategy: obj,
      workflowSpec: ref("WorkflowSpec"),
      workflowMetadata: ref("ObjectMeta"),
    },
    required: ["workflowSpec"],
  },
  Template: {
    fields: {
      name: str,
      inputs: ref("Inputs"),
      outputs: ref("Outputs"),
      metadata: ref("Metadata"),
      daemon: bool,
      container: ref("Container"),
      script: ref("ScriptTemplate"),
      containerSet: ref("ContainerSetTemplate"),
      resource: ref("ResourceTemplate"),
      data: ref("Data"),
      http: ref("HTTP"),
      plugin: obj,
      suspend: ref("SuspendTemplate"),
      steps: list(list(ref("WorkflowStep"))),
      dag: ref("DAGTemplate"),
      initContainers: list(ref("UserContainer")),
      sidecars: list(ref("UserContainer")),
      volumes: list(ref("Volume")),
      archiveLocation: ref("ArtifactLocation"),
      activeDeadlineSeconds: "intOrString",
      timeout: str,
      pendingTimeout: str,
      retryStrategy: ref("RetryStrategy"),
      parallelism: int,
      failFast: bool,
      memoize: ref("Memoize"),
      synchronization: ref("Synchronization"),
      metrics: ref("Metrics"),
      podSpecPatch: str,
      nodeSelector: map(str),
      affinity: obj,
      tolerations: list(obj),
      securityContext: obj,
      serviceAccountName: str,
      automountServiceAccountToken: bool,
      executor: obj,
      hostAliases: list(obj),
      priorityClassName: str,
      schedulerName: str,
      podResources: obj,
      resourceClaims: list(obj),
      annotations: map(str),
    },
  },
  Container: { fields: CONTAINER_FIELDS },
  // Argo's Go type has `source` without omitempty, so its schema lists it as required, but neither its
  // validation nor its executor needs it: a script without source runs its command on an empty script file.
  ScriptTemplate: { fields: { ...CONTAINER_FIELDS, source: str }, required: ["image"] },
  UserContainer: { fields: { ...CONTAINER_FIELDS, mirrorVolumeMounts: bool }, required: ["name"] },
  ContainerNode: { fields: { ...CONTAINER_FIELDS, dependencies: list(str) }, required: ["name"] },
  ContainerSetTemplate: {
    fields: {
      containers: list(ref("ContainerNode")),
      volumeMounts: list(ref("VolumeMount")),
      retryStrategy: ref("ContainerSetRetryStrategy"),
    },
    required: ["containers"],
  },
  ContainerSetRetryStrategy: { fields: { retries: "intOrString", duration: str }, required: ["retries"] },
  EnvVar: { fields: { name: str, value: str, valueFrom: obj }, required: ["name"] },
  VolumeMount: { fields: { name: str, mountPath: str }, required: ["name", "mountPath"], open: true },
  Volume: { fields: { name: str }, required: ["name"], open: true },
  ResourceTemplate: {
    fields: {
      action: str,
      mergeStrategy: str,
      manifest: str,
      manifestFrom: ref("ManifestFrom"),
      setOwnerReference: bool,
      successCondition: str,
      failureCondition: str,
      flags: list(str),
    },
    required: ["action"],
  },
  ManifestFrom: { fields: { artifact: ref("Artifact") }, required: ["artifact"] },
  Data: {
    fields: { source: ref("DataSource"), transformation: list(ref("TransformationStep")) },
    required: ["source", "transformation"],
  },
  DataSource: { fields: { artifactPaths: ref("Artifact") } },
  TransformationStep: { fields: { expression: str }, required: ["expression"] },
  HTTP: {
    fields: {
      method: str,
      url: str,
      headers: list(ref("HTTPHeader")),
      timeoutSeconds: int,
      body: str,
      bodyFrom: obj,
      successCondition: str,
      insecureSkipVerify: bool,
    },
    required: ["url"],
  },
  HTTPHeader: { fields: { name: str, value: str, valueFrom: obj }, required: ["name"] },
  SuspendTemplate: { fields: { duration: "intOrString" } },
  DAGTemplate: { fields: { target: str, tasks: list(ref("DAGTask")), failFast: bool }, required: ["tasks"] },
  DAGTask: { fields: { ...INVOCATION_FIELDS, dependencies: list(str), depends: str }, required: ["name"] },
  WorkflowStep: { fields: INVOCATION_FIELDS },
  TemplateRef: { fields: { name: str, template: str, clusterScope: bool } },
  WorkflowTemplateRef: { fields: { name: str, clusterScope: bool } },
  LifecycleHook: {
    fields: { template: str, templateRef: ref("TemplateRef"), arguments: ref("Arguments"), expression: str },
  },
  Arguments: { fields: { parameters: list(ref("Parameter")), artifacts: list(ref("Artifact")) } },
  Inputs: { fields: { parameters: list(ref("Parameter")), artifacts: list(ref("Artifact")) } },
  Outputs: {
    fields: {
      parameters: list(ref("Parameter")),
      artifacts: list(ref("Artifact")),
      result: str,
      exitCode: str,
    },
  },
  Parameter: {
    fields: {
      name: str,
      value: "anyString",
      default: "anyString",
      valueFrom: ref("ValueFrom"),
      enum: list("anyString"),
      description: "anyString",
      globalName: str,
    },
    required: ["name"],
  },
  ValueFrom: {
    fields: {
      path: str,
      jsonPath: str,
      jqFilter: str,
      parameter: str,
      expression: str,
      default: "anyString",
      supplied: obj,
      event: str,
      configMapKeyRef: ref("ConfigMapKeySelector"),
    },
  },
  ConfigMapKeySelector: { fields: { name: str, key: str, optional: bool }, required: ["key"] },
  Artifact: { fields: ARTIFACT_FIELDS, required: ["name"] },
  ArtifactLocation: { fields: ARTIFACT_LOCATION },
  Sequence: { fields: { count: "intOrString", start: "intOrString", end: "intOrString", format: str } },
  ContinueOn: { fields: { error: bool, failed: bool } },
  RetryStrategy: {
    fields: {
      limit: "intOrString",
      retryPolicy: str,
      backoff: ref("Backoff"),
      expression: str,
      affinity: obj,
    },
  },
  Backoff: {
    fields: {
      duration: "intOrString",
      factor: "intOrString",
      maxDuration: "intOrString",
      cap: "intOrString",
    },
  },
  Memoize: { fields: { key: str, maxAge: str, cache: ref("Cache") }, required: ["key", "cache"] },
  Cache: { fields: { configMap: ref("LocalObjectReference") }, required: ["configMap"] },
  LocalObjectReference: { fields: { name: str, key: str } },
  Synchronization: {
    fields: {
      mutexes: list(ref("Mutex")),
      semaphores: list(ref("SemaphoreRef")),
      mutex: ref("Mutex"),
      semaphore: ref("SemaphoreRef"),
    },
  },
  Mutex: { fields: { name: str, namespace: str, database: bool } },
  SemaphoreRef: { fields: { configMapKeyRef: ref("ConfigMapKeySelector"), namespace: str, database: obj } },
  Metadata: { fields: { labels: map(str), annotations: map(str) } },
  WorkflowMetadata: { fields: { labels: map(str), annotations: map(str), labelsFrom: map(obj) } },
  TTLStrategy: {
    fields: { secondsAfterCompletion: int, secondsAfterSuccess: int, secondsAfterFailure: int },
  },
  PodGC: { fields: { strategy: str, labelSelector: obj, deleteDelayDuration: str } },
  Metrics: { fields: { prometheus: list(obj) }, required: ["prometheus"] },
};

/** The root type of each kind's `spec`. */
const SPEC_TYPE: Record<string, string> = {
  Workflow: "WorkflowSpec",
  WorkflowTemplate: "WorkflowSpec",
  ClusterWorkflowTemplate: "WorkflowSpec",
  CronWorkflow: "CronWorkflowSpec",
};

type Path = (string | number)[];
type Report = (code: string, message: string, path: Path) => void;

/** Checks field types, required fields and unknown fields of an Argo object. */
export function checkStructure(object: Record<string, unknown>, report: Report): void {
  if (object.metadata === undefined) report(SPEC_CODES["SKF-SPEC-011"], "metadata is required", []);
  else checkValue(object.metadata, ref("ObjectMeta"), ["metadata"], report);
  const specType = SPEC_TYPE[String(object.kind)];
  if (specType === undefined) return;
  if (object.spec === undefined || object.spec === null) {
    report(SPEC_CODES["SKF-SPEC-011"], "spec is required", []);
    return;
  }
  checkValue(object.spec, ref(specType), ["spec"], report);
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "list";
  if (isPlainObject(v)) return "mapping";
  return typeof v;
}

function checkValue(value: unknown, shape: Shape, path: Path, report: Report): void {
  // Go's JSON decoding (and so Kubernetes) treats null as "not set".
  if (value === null || value === undefined) return;
  const wrong = (expected: string): void =>
    report(
      SPEC_CODES["SKF-SPEC-010"],
      `${formatPath(path)} must be ${expected}, not ${typeName(value)}`,
      path,
    );
  if (typeof shape === "string") {
    switch (shape) {
      case "any":
        return;
      case "string":
        if (typeof value !== "string") wrong("a string");
        return;
      case "anyString":
        if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean")
          wrong("a string");
        return;
      case "integer":
        if (typeof value !== "number" || !Number.isInteger(value)) wrong("an integer");
        return;
      case "number":
        if (typeof value !== "number") wrong("a number");
        return;
      case "boolean":
        if (typeof value !== "boolean") wrong("true or false");
        return;
      case "object":
        if (!isPlainObject(value)) wrong("a mapping");
        return;
      case "intOrString":
      case "quantity":
        if (typeof value !== "string" && !(typeof value === "number" && Number.isInteger(value)))
          wrong("an integer or a string");
        return;
    }
  }
  if ("list" in shape) {
    if (!Array.isArray(value)) return wrong("a list");
    value.forEach((v, i) => checkValue(v, shape.list, [...path, i], report));
    return;
  }
  if ("map" in shape) {
    if (!isPlainObject(value)) return wrong("a mapping");
    for (const [k, v] of Object.entries(value)) checkValue(v, shape.map, [...path, k], report);
    return;
  }
  if ("enum" in shape) {
    if (typeof value !== "string") return wrong("a string");
    if (!shape.enum.includes(value))
      report(
        SPEC_CODES["SKF-SPEC-013"],
        `${formatPath(path)} must be one of ${shape.enum.join(", ")}, not ${value}`,
        path,
      );
    return;
  }
  const def = TYPES[shape.type];
  if (!def) return;
  if (!isPlainObject(value)) return wrong("a mapping");
  for (const r of def.required ?? []) {
    if (value[r] === undefined || value[r] === null)
      report(SPEC_CODES["SKF-SPEC-011"], `${formatPath([...path, r])} is required`, path);
  }
  for (const [k, v] of Object.entries(value)) {
    const field = def.fields[k];
    if (field === undefined) {
      if (!def.open)
        report(SPEC_CODES["SKF-SPEC-012"], `unknown field ${formatPath([...path, k])}`, [...path, k]);
      continue;
    }
    checkValue(v, field, [...path, k], report);
  }
}
