import path from "node:path";
import { parse as parseYaml } from "yaml";
import { SkiffError } from "../../errors/index.js";
import type { StepRequest } from "../../interfaces/executor.js";
import type { Container, K8sObject, WorkflowSpec } from "../../spec/types.js";
import { imageRepository, type PlannedContainer } from "../shared/index.js";
import { KUBE_CODES } from "./codes.js";

/*
 * The Pod of one step, as Argo builds it (docs/decisions/0009-kubernetes-outputs.md for the outputs design):
 * an `init` container (the executor image) copies its static busybox into the `skiff-var` emptyDir and
 * unpacks the step's inputs there from a ConfigMap; main containers and sidecars run under a busybox shell
 * wrapper that records their exit code, copies main's output paths into the emptyDir and stops sidecars once
 * the mains ended; a `wait` container prints the collected outputs (a tar, base64) to its log, which the
 * controller reads through the log API. No exec, no credentials inside the pod.
 */

/** Where the `skiff-var` emptyDir is mounted in every container Skiff adds or wraps. */
export const VAR_DIR = "/var/run/skiff";
export const VAR_VOLUME = "skiff-var";
export const INPUTS_VOLUME = "skiff-inputs";
/** Key of the inputs tar in the step's ConfigMap. */
export const INPUTS_KEY = "inputs.tar";
/** Lines around the outputs the `wait` container prints. */
export const OUTPUTS_BEGIN = "--- skiff outputs begin ---";
export const OUTPUTS_END = "--- skiff outputs end ---";

/** Labels and annotations Skiff sets on what it creates (Argo's where Argo has one). */
export const LABELS = {
  workflow: "workflows.argoproj.io/workflow",
  completed: "workflows.argoproj.io/completed",
  managedBy: "app.kubernetes.io/managed-by",
  workflowUid: "skiff.dev/workflow-uid",
  executor: "skiff.dev/executor",
} as const;
export const ANNOTATIONS = {
  nodeName: "workflows.argoproj.io/node-name",
  nodeId: "workflows.argoproj.io/node-id",
  defaultContainer: "kubectl.kubernetes.io/default-container",
  podGC: "workflows.argoproj.io/pod-gc-strategy",
} as const;

/** A container of a step as the Pod will hold it. */
export interface KubeContainer extends PlannedContainer {
  /** The Kubernetes container, before Skiff's wrapper and mounts are added. */
  container: K8sObject;
  /** The command (entrypoint) the wrapper runs, when known. */
  command: string[] | undefined;
  args: string[];
}

/**
 * Shell the wrapper runs (busybox sh): `$1` name, `$2` role, `$3` containers to wait for (a containerSet
 * member's dependencies; the mains, for a sidecar), `$4` output paths to copy, `$5` containers to wait for
 * before copying them (the rest of a containerSet, which may write them on a shared volume).
 */
const WRAP = `B=${VAR_DIR}/bin/busybox
name=$1; role=$2; deps=$3; outs=$4; after=$5; shift 6
for d in $(echo "$deps" | $B tr , ' '); do
  [ "$role" = sidecar ] && break
  while [ ! -f ${VAR_DIR}/ctr/$d ]; do $B sleep 0.1; done
  if [ "$($B cat ${VAR_DIR}/ctr/$d)" != 0 ]; then echo 64 > ${VAR_DIR}/ctr/$name; exit 64; fi
done
"$@" &
pid=$!
trap '$B kill -TERM $pid 2>/dev/null' TERM INT
if [ "$role" = sidecar ]; then
  ( for d in $(echo "$deps" | $B tr , ' '); do while [ ! -f ${VAR_DIR}/ctr/$d ]; do $B sleep 0.2; done; done
    $B kill -TERM $pid 2>/dev/null ) &
fi
while :; do wait $pid; rc=$?; $B kill -0 $pid 2>/dev/null || break; done
for d in $(echo "$after" | $B tr , ' '); do while [ ! -f ${VAR_DIR}/ctr/$d ]; do $B sleep 0.1; done; done
if [ -n "$outs" ]; then
  $B mkdir -p ${VAR_DIR}/out
  i=0
  while IFS= read -r p; do
    [ -n "$p" ] && [ -e "$p" ] && $B cp -a "$p" ${VAR_DIR}/out/$i
    i=$((i+1))
  done <<EOF
$outs
EOF
fi
echo $rc > ${VAR_DIR}/ctr/$name.tmp && $B mv ${VAR_DIR}/ctr/$name.tmp ${VAR_DIR}/ctr/$name
exit $rc`;

/** The `init` container's script: busybox and the inputs into the emptyDir. */
const INIT = `set -e
mkdir -p ${VAR_DIR}/bin ${VAR_DIR}/ctr ${VAR_DIR}/inputs ${VAR_DIR}/out
chmod 777 ${VAR_DIR}/ctr ${VAR_DIR}/out
cp "$(command -v busybox)" ${VAR_DIR}/bin/busybox
if [ -f /var/run/skiff-inputs/${INPUTS_KEY} ]; then tar -xf /var/run/skiff-inputs/${INPUTS_KEY} -C ${VAR_DIR}/inputs; fi`;

/** The `wait` container's script: once every main ended, the outputs as a base64 tar between markers. */
const WAIT = `for d in $(echo "$1" | tr , ' '); do while [ ! -f ${VAR_DIR}/ctr/$d ]; do sleep 0.1; done; done
mkdir -p ${VAR_DIR}/out
echo "${OUTPUTS_BEGIN}"
cd ${VAR_DIR}/out && tar -c . | base64
echo "${OUTPUTS_END}"`;

/** Output paths main's wrapper copies out, in order (parameters `valueFrom.path`, then artifacts' `path`). */
export function outputPaths(request: StepRequest): string[] {
  const outs = request.template.outputs;
  const paths: string[] = [];
  for (const p of outs?.parameters ?? []) {
    const file = p.valueFrom?.path;
    if (file && !paths.includes(file)) paths.push(file);
  }
  for (const a of outs?.artifacts ?? []) {
    if (a.path && !paths.includes(a.path)) paths.push(a.path);
  }
  return paths;
}

/** Image names -> the names pods use instead (a mirror, or local images of a test cluster). */
export type ImageMap = Record<string, string>;

/** The image a pod runs for a template's image: the exact name mapped, else its repository, else itself. */
export function mapImage(map: ImageMap, image: string): string {
  return map[image] ?? map[imageRepository(image)] ?? image;
}

/** Kubernetes fields of a container (Argo's container type carries more, such as `dependencies`). */
const CONTAINER_FIELDS = [
  "name",
  "image",
  "command",
  "args",
  "workingDir",
  "ports",
  "envFrom",
  "env",
  "resources",
  "volumeMounts",
  "volumeDevices",
  "livenessProbe",
  "readinessProbe",
  "startupProbe",
  "lifecycle",
  "terminationMessagePath",
  "terminationMessagePolicy",
  "imagePullPolicy",
  "securityContext",
  "stdin",
  "stdinOnce",
  "tty",
];

/** The Kubernetes container of a template container, with Argo's environment added. */
export function kubeContainer(
  spec: Container,
  name: string,
  image: string,
  env: Record<string, string>,
): K8sObject {
  const c: K8sObject = {};
  for (const f of CONTAINER_FIELDS) {
    const v = (spec as K8sObject)[f];
    if (v !== undefined && v !== null) c[f] = structuredClone(v);
  }
  c.name = name;
  c.image = image;
  const own = (spec.env ?? []) as unknown as K8sObject[];
  const names = new Set(own.map((e) => e.name));
  c.env = [
    ...Object.entries(env)
      .filter(([k]) => !names.has(k))
      .map(([k, value]) => ({ name: k, value })),
    { name: "ARGO_CONTAINER_NAME", value: name },
    ...own,
  ];
  delete c.command;
  delete c.args;
  return c;
}

export interface PodSettings {
  namespace: string;
  executorImage: string;
  instanceId: string;
  /** Input paths staged for the step (relative to `/`), mounted from the emptyDir into main containers. */
  inputs: string[];
  /** Whether the step's ConfigMap of inputs exists (named like the pod). */
  inputsConfigMap: boolean;
  /** The step's volumes as the workflow gives them. */
  volumes: K8sObject[];
  /** Seconds before the kubelet ends the pod (the controller's own deadline comes first). */
  activeDeadlineSeconds?: number;
  terminationGracePeriodSeconds: number;
}

/** Argo's pod for a step: metadata, containers in Argo's order, volumes and the pod-level fields. */
export function buildPod(request: StepRequest, plans: readonly KubeContainer[], s: PodSettings): K8sObject {
  const t = request.template;
  const wf: WorkflowSpec = request.workflowSpec ?? {};
  const mains = plans.filter((p) => p.role === "main" || p.role === "set");
  const mainNames = mains.map((p) => p.name).join(",");
  const outs = outputPaths(request);
  const collects = outs.length > 0 && mains.some((p) => p.command !== undefined);
  const varMount = { name: VAR_VOLUME, mountPath: VAR_DIR };

  const wrap = (p: KubeContainer): K8sObject => {
    const c = { ...p.container };
    const mounts = [...((c.volumeMounts as K8sObject[] | undefined) ?? [])];
    if (p.role === "set") mounts.push(...((t.containerSet?.volumeMounts ?? []) as K8sObject[]));
    if (p.role === "main" || p.role === "set") {
      for (const rel of s.inputs) {
        const at = `/${rel}`;
        if (!mounts.some((m) => m.mountPath === at)) {
          mounts.push({ name: VAR_VOLUME, mountPath: at, subPath: `inputs/${rel}` });
        }
      }
    }
    if (p.command === undefined || p.role === "init") {
      if (p.command !== undefined) c.command = p.command;
      if (p.args.length) c.args = p.args;
      if (mounts.length) c.volumeMounts = mounts;
      return c;
    }
    const isMain = p.role === "main" || (p.role === "set" && (p.name === "main" || mains.length === 1));
    const role = p.role === "sidecar" ? "sidecar" : "main";
    const deps = p.role === "sidecar" ? mainNames : p.dependencies.join(",");
    c.command = [
      `${VAR_DIR}/bin/busybox`,
      "sh",
      "-c",
      WRAP,
      "skiff-wrap",
      p.name,
      role,
      deps,
      isMain ? outs.join("\n") : "",
      isMain && p.role === "set"
        ? mains
            .filter((m) => m.name !== p.name)
            .map((m) => m.name)
            .join(",")
        : "",
      "--",
      ...p.command,
    ];
    if (p.args.length) c.args = p.args;
    c.volumeMounts = [...mounts, varMount];
    return c;
  };

  const executorContainer = (
    name: string,
    script: string,
    args: string[],
    extra: K8sObject[] = [],
  ): K8sObject => ({
    name,
    image: s.executorImage,
    command: ["sh", "-c", script, name, ...args],
    env: [{ name: "ARGO_CONTAINER_NAME", value: name }],
    volumeMounts: [varMount, ...extra],
  });

  const initContainers: K8sObject[] = [
    executorContainer(
      "init",
      INIT,
      [],
      s.inputsConfigMap ? [{ name: INPUTS_VOLUME, mountPath: "/var/run/skiff-inputs", readOnly: true }] : [],
    ),
    ...plans.filter((p) => p.role === "init").map(wrap),
  ];
  const containers: K8sObject[] = [
    ...(collects ? [executorContainer("wait", WAIT, [mainNames])] : []),
    ...mains.map(wrap),
    ...plans.filter((p) => p.role === "sidecar").map(wrap),
  ];

  const volumes: K8sObject[] = [{ name: VAR_VOLUME, emptyDir: {} }];
  if (s.inputsConfigMap) {
    volumes.push({ name: INPUTS_VOLUME, configMap: { name: inputsConfigMapName(request.podName) } });
  }
  const used = new Set(
    [...initContainers, ...containers].flatMap((c) =>
      ((c.volumeMounts as K8sObject[] | undefined) ?? []).map((m) => String(m.name)),
    ),
  );
  for (const v of s.volumes) {
    if (used.has(String(v.name)) && !volumes.some((x) => x.name === v.name)) volumes.push(structuredClone(v));
  }
  for (const name of used) {
    // A mount naming no volume of the workflow gets an emptyDir, as the other executors give it.
    if (!volumes.some((v) => v.name === name)) volumes.push({ name, emptyDir: {} });
  }

  const meta = podMetadata(request, s);
  const spec: K8sObject = {
    restartPolicy: "Never",
    initContainers,
    containers,
    volumes,
    terminationGracePeriodSeconds: s.terminationGracePeriodSeconds,
  };
  const pick = (k: string, v: unknown) => {
    if (v !== undefined && v !== null) spec[k] = structuredClone(v);
  };
  const tpl = t as K8sObject;
  pick("nodeSelector", tpl.nodeSelector ?? wf.nodeSelector);
  pick("affinity", tpl.affinity ?? wf.affinity);
  pick("tolerations", tpl.tolerations ?? wf.tolerations);
  pick("schedulerName", tpl.schedulerName ?? wf.schedulerName);
  pick("securityContext", tpl.securityContext ?? wf.securityContext);
  pick("priorityClassName", tpl.priorityClassName ?? wf.podPriorityClassName);
  pick("hostAliases", (tpl.hostAliases as unknown[] | undefined)?.length ? tpl.hostAliases : wf.hostAliases);
  pick("serviceAccountName", tpl.serviceAccountName ?? wf.serviceAccountName);
  pick("automountServiceAccountToken", tpl.automountServiceAccountToken ?? wf.automountServiceAccountToken);
  pick("imagePullSecrets", wf.imagePullSecrets);
  pick("hostNetwork", wf.hostNetwork);
  pick("dnsPolicy", wf.dnsPolicy);
  pick("dnsConfig", wf.dnsConfig);
  pick("activeDeadlineSeconds", s.activeDeadlineSeconds);
  for (const patch of [withWorkflowParameters(wf.podSpecPatch, wf), tpl.podSpecPatch]) {
    if (typeof patch === "string" && patch.trim()) applyPodSpecPatch(spec, patch, request);
  }
  return { apiVersion: "v1", kind: "Pod", metadata: meta, spec };
}

function podMetadata(request: StepRequest, s: PodSettings): K8sObject {
  const wf = request.workflowSpec ?? {};
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  for (const m of [wf.podMetadata, request.template.metadata] as (K8sObject | undefined)[]) {
    Object.assign(labels, (m?.labels as Record<string, string> | undefined) ?? {});
    Object.assign(annotations, (m?.annotations as Record<string, string> | undefined) ?? {});
  }
  Object.assign(labels, {
    [LABELS.workflow]: request.workflowName,
    [LABELS.completed]: "false",
    [LABELS.managedBy]: "skiff",
    [LABELS.workflowUid]: labelValue(request.workflowUid),
    [LABELS.executor]: s.instanceId,
  });
  Object.assign(annotations, {
    [ANNOTATIONS.nodeName]: request.nodeName,
    [ANNOTATIONS.nodeId]: request.nodeId,
    [ANNOTATIONS.defaultContainer]: request.template.containerSet ? "main" : "main",
  });
  const gc = (wf.podGC as K8sObject | undefined)?.strategy;
  if (typeof gc === "string") annotations[ANNOTATIONS.podGC] = `${gc}/0s`;
  return { name: request.podName, namespace: s.namespace, labels, annotations };
}

/** A label value from any string: at most 63 characters of `[A-Za-z0-9._-]`, alphanumeric at both ends. */
export function labelValue(v: string): string {
  return v
    .replace(/[^A-Za-z0-9._-]/g, "-")
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
}

export function inputsConfigMapName(podName: string): string {
  return `${podName.slice(0, 240)}-inputs`;
}

/**
 * Applies a `podSpecPatch` as Kubernetes' strategic merge patch does for a PodSpec: maps merge, containers
 * (and init containers, volumes) merge by `name`, other lists are replaced.
 */
export function applyPodSpecPatch(spec: K8sObject, patch: string, request: StepRequest): void {
  let parsed: unknown;
  try {
    parsed = parseYaml(patch);
  } catch (e) {
    throw new SkiffError(
      KUBE_CODES["SKF-KUBE-005"],
      `podSpecPatch of template '${request.templateName}' does not parse: ${(e as Error).message}`,
    );
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new SkiffError(
      KUBE_CODES["SKF-KUBE-005"],
      `podSpecPatch of template '${request.templateName}' is not an object of PodSpec fields`,
    );
  }
  strategicMerge(spec, parsed as K8sObject);
}

const MERGE_BY_NAME = new Set(["containers", "initContainers", "volumes", "env", "volumeMounts", "ports"]);

function strategicMerge(target: K8sObject, patch: K8sObject): void {
  for (const [k, v] of Object.entries(patch)) {
    const cur = target[k];
    if (v === null) delete target[k];
    else if (Array.isArray(v) && Array.isArray(cur) && MERGE_BY_NAME.has(k)) {
      for (const item of v as K8sObject[]) {
        const key = k === "volumeMounts" ? "mountPath" : k === "ports" ? "containerPort" : "name";
        const same = (cur as K8sObject[]).find((x) => x[key] === item[key]);
        if (same) strategicMerge(same, item);
        else (cur as K8sObject[]).push(structuredClone(item));
      }
    } else if (
      v &&
      typeof v === "object" &&
      !Array.isArray(v) &&
      cur &&
      typeof cur === "object" &&
      !Array.isArray(cur)
    ) {
      strategicMerge(cur as K8sObject, v as K8sObject);
    } else target[k] = structuredClone(v);
  }
}

/** A path as the staged inputs' tar holds it (relative to `/`). */
export function relativeInput(p: string): string {
  return path.posix.resolve("/", p).slice(1);
}

/**
 * The workflow's `podSpecPatch` with `{{workflow.parameters.X}}` replaced (the template's comes substituted
 * by the controller; the workflow's is read from its spec as written).
 */
function withWorkflowParameters(patch: unknown, wf: WorkflowSpec): unknown {
  if (typeof patch !== "string") return patch;
  const params = new Map(
    (wf.arguments?.parameters ?? []).map((p) => [
      p.name,
      p.value === undefined ? undefined : String(p.value),
    ]),
  );
  return patch.replace(
    /\{\{\s*workflow\.parameters\.([\w.-]+)\s*\}\}/g,
    (all, name: string) => params.get(name) ?? all,
  );
}
