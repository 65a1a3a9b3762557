import { randomUUID } from "node:crypto";
import { SkiffError } from "../../errors/index.js";
import type { RegisteredObject, RegistryKind, RegistryPutOptions } from "../../interfaces/store.js";
import { DEFAULT_NAMESPACE } from "../common.js";
import { REGISTRY_CODES } from "./codes.js";

export { REGISTRY_CODES } from "./codes.js";

/** The kinds a registry keeps, for checks of input that comes from outside the type system. */
export const REGISTRY_KINDS: readonly RegistryKind[] = [
  "WorkflowTemplate",
  "ClusterWorkflowTemplate",
  "CronWorkflow",
];

/** The namespace a registry object is kept under: none for cluster-scoped kinds. */
export function registryNamespace(kind: RegistryKind, namespace: string | undefined): string {
  return kind === "ClusterWorkflowTemplate" ? "" : namespace || DEFAULT_NAMESPACE;
}

/** Kind, namespace and name of an object about to be stored; rejects objects without a name or of another kind. */
export function registryKey(object: RegisteredObject): {
  kind: RegistryKind;
  namespace: string;
  name: string;
} {
  const kind = object.kind;
  if (!REGISTRY_KINDS.includes(kind))
    throw new SkiffError(REGISTRY_CODES["SKF-REG-002"], `cannot register an object of kind ${String(kind)}`);
  const name = object.metadata?.name;
  if (typeof name !== "string" || name === "")
    throw new SkiffError(REGISTRY_CODES["SKF-REG-002"], `cannot store a ${kind} without metadata.name`);
  return { kind, namespace: registryNamespace(kind, object.metadata.namespace), name };
}

function describe(kind: RegistryKind, namespace: string, name: string): string {
  return namespace === "" ? `${kind} ${name}` : `${kind} ${namespace}/${name}`;
}

/**
 * The copy a put stores, given the one stored now: the optimistic-concurrency check, then the Kubernetes
 * metadata an API server sets (uid and creationTimestamp kept from the stored object, resourceVersion
 * counted up). Rejects with `SKF-STORE-002` when the expected version does not match.
 */
export function nextRegistered<T extends RegisteredObject>(
  object: T,
  current: RegisteredObject | undefined,
  options: RegistryPutOptions = {},
  now: Date = new Date(),
): T {
  const { kind, namespace, name } = registryKey(object);
  const expected = options.expectedResourceVersion;
  const currentVersion = current?.metadata.resourceVersion ?? "";
  if (expected !== undefined && expected !== currentVersion) {
    throw new SkiffError(
      REGISTRY_CODES["SKF-REG-001"],
      expected === ""
        ? `${describe(kind, namespace, name)} already exists`
        : current
          ? `${describe(kind, namespace, name)} was changed: resourceVersion is ${currentVersion}, not ${expected}`
          : `${describe(kind, namespace, name)} does not exist (expected resourceVersion ${expected})`,
    );
  }
  const { namespace: _dropped, ...meta } = object.metadata;
  return {
    ...object,
    metadata: {
      ...meta,
      ...(namespace === "" ? {} : { namespace }),
      uid: current?.metadata.uid ?? object.metadata.uid ?? randomUUID(),
      creationTimestamp:
        current?.metadata.creationTimestamp ??
        object.metadata.creationTimestamp ??
        now.toISOString().replace(/\.\d{3}Z$/, "Z"),
      resourceVersion: String(Number(currentVersion || "0") + 1),
    },
  };
}

/** Sorts registry objects by namespace, then name. */
export function sortRegistered(objects: RegisteredObject[]): RegisteredObject[] {
  return objects.sort(
    (a, b) =>
      (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? "") ||
      (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""),
  );
}
