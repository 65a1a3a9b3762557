import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { validateCronWorkflow } from "../../runtime/cron/index.js";
import { SkiffAggregateError, SkiffError } from "../../runtime/errors/index.js";
import { checkExpressionSyntax } from "../../runtime/expr/index.js";
import type { RegisteredObject, RegistryKind, RegistryStore } from "../../runtime/interfaces/store.js";
import { Library, parseManifests, validate, type LoadedManifest } from "../../runtime/spec/index.js";
import type { CronWorkflow } from "../../runtime/spec/types.js";
import { REGISTRY_CODES, REGISTRY_KINDS } from "../../runtime/store/index.js";
import { openRunStore, storeLocation, type StoreSettings } from "./store.js";

export { REGISTRY_CODES } from "../../runtime/store/index.js";
export type { RegisteredObject, RegistryKind } from "../../runtime/interfaces/store.js";

/** The names `argo` accepts for each kind (`argo submit --from KIND/NAME`, the server's `resourceKind`). */
const KIND_NAMES: Record<string, RegistryKind> = {
  workflowtemplate: "WorkflowTemplate",
  workflowtemplates: "WorkflowTemplate",
  wftmpl: "WorkflowTemplate",
  clusterworkflowtemplate: "ClusterWorkflowTemplate",
  clusterworkflowtemplates: "ClusterWorkflowTemplate",
  cwftmpl: "ClusterWorkflowTemplate",
  cwft: "ClusterWorkflowTemplate",
  cronworkflow: "CronWorkflow",
  cronworkflows: "CronWorkflow",
  cronwf: "CronWorkflow",
  cwf: "CronWorkflow",
};

/** Reads `KIND/NAME` as `argo submit --from` takes it; `SKF-REG-005` for anything else. */
export function parseRegistryRef(text: string): { kind: RegistryKind; name: string } {
  const i = text.indexOf("/");
  const kind = KIND_NAMES[text.slice(0, Math.max(0, i)).toLowerCase()];
  const name = text.slice(i + 1);
  if (i <= 0 || !kind || name === "" || name.includes("/"))
    throw new SkiffError(REGISTRY_CODES["SKF-REG-005"], `cannot submit from ${JSON.stringify(text)}`);
  return { kind, name };
}

/** `workflowtemplate/NAME`: how messages and recorded sources name a registry object. */
export function registryRefOf(kind: RegistryKind, name: string): string {
  return `${kind.toLowerCase()}/${name}`;
}

/**
 * A stored object as a loaded manifest, so that compile and lint read it as they read a file: its YAML form
 * (positions point into it) under the name `kind/name`.
 */
export function manifestOf(
  object: RegisteredObject | { kind: string; metadata?: { name?: string } },
): LoadedManifest {
  const label = `${object.kind.toLowerCase()}/${object.metadata?.name ?? ""}`;
  const loaded = parseManifests(stringify(object), label);
  const manifest = loaded.manifests[0];
  if (!manifest)
    throw loaded.problems[0] ?? new SkiffError(REGISTRY_CODES["SKF-REG-002"], `cannot read ${label}`);
  return manifest;
}

/** Options of `TemplateRegistry.create`/`update`. */
export interface RegisterOptions {
  /** The namespace of objects that name none (default `default`); ignored for ClusterWorkflowTemplates. */
  namespace?: string;
}

/**
 * The registry of WorkflowTemplates, ClusterWorkflowTemplates and CronWorkflows over a store: what the CLI's
 * `template`, `cluster-template` and `cron` verbs and the server's template and cron services call. Objects
 * are linted as `skiff lint` does (references resolved against the registry and the objects given together,
 * CronWorkflow schedules parsed) before they are stored; a refused object is `SKF-REG-004` with every problem
 * at its file and line.
 */
export class TemplateRegistry {
  constructor(private readonly store: RegistryStore) {}

  /** What references of a workflow in `namespace` resolve against: its WorkflowTemplates and every ClusterWorkflowTemplate. */
  async library(namespace = "default"): Promise<LoadedManifest[]> {
    const objects = [
      ...(await this.store.listRegistered("WorkflowTemplate", namespace)),
      ...(await this.store.listRegistered("ClusterWorkflowTemplate")),
    ];
    return objects.map((o) => manifestOf(o));
  }

  /**
   * Argo's lint of objects about to be registered (loaded from files, or built from objects with
   * `manifestOf`): every problem of each, references resolved against the others and the registry.
   */
  async lint(manifests: readonly LoadedManifest[], options: RegisterOptions = {}): Promise<SkiffError[]> {
    const library = Library.from([...manifests, ...(await this.library(options.namespace))]);
    const problems: SkiffError[] = [];
    for (const m of manifests) {
      if (!REGISTRY_KINDS.includes(m.object.kind as RegistryKind)) {
        problems.push(
          new SkiffError(
            REGISTRY_CODES["SKF-REG-002"],
            `${m.object.kind} ${m.object.metadata?.name ?? ""} cannot be registered`,
            { position: m.positions.get(["kind"]) ?? { file: m.file } },
          ),
        );
        continue;
      }
      problems.push(...validate(m, library, { checkExpressionSyntax }));
      if (m.object.kind === "CronWorkflow") problems.push(...validateCronWorkflow(m));
    }
    return problems;
  }

  private async checked(
    manifests: readonly LoadedManifest[],
    kind: RegistryKind | undefined,
    options: RegisterOptions,
  ): Promise<RegisteredObject[]> {
    const problems = await this.lint(manifests, options);
    if (kind)
      for (const m of manifests)
        if (m.object.kind !== kind)
          problems.push(
            new SkiffError(REGISTRY_CODES["SKF-REG-002"], `expected a ${kind}, found a ${m.object.kind}`, {
              position: m.positions.get(["kind"]) ?? { file: m.file },
            }),
          );
    if (problems.length > 0) {
      const names = manifests.map((m) => m.object.metadata?.name ?? m.file).join(", ");
      throw new SkiffAggregateError(REGISTRY_CODES["SKF-REG-004"], problems, `cannot register ${names}`);
    }
    return manifests.map((m) => {
      const object = structuredClone(m.object) as RegisteredObject;
      if (object.kind !== "ClusterWorkflowTemplate")
        object.metadata = {
          ...object.metadata,
          namespace: object.metadata.namespace || options.namespace || "default",
        };
      // A created object starts without the status the API server owns.
      if (object.kind === "CronWorkflow") delete (object as { status?: unknown }).status;
      return object;
    });
  }

  /**
   * Lints and creates objects (all or none pass the lint); `kind` refuses others. `SKF-REG-001` when one
   * exists already (those before it are created).
   */
  async create(
    manifests: readonly LoadedManifest[],
    options: RegisterOptions & { kind?: RegistryKind } = {},
  ): Promise<RegisteredObject[]> {
    const objects = await this.checked(manifests, options.kind, options);
    const out: RegisteredObject[] = [];
    for (const o of objects) out.push(await this.store.putRegistered(o, { expectedResourceVersion: "" }));
    return out;
  }

  /**
   * Lints and replaces one object. With `metadata.resourceVersion` set, the update applies only to that
   * version (`SKF-REG-001` otherwise), as a Kubernetes update; a CronWorkflow keeps its status.
   */
  async update(manifest: LoadedManifest, options: RegisterOptions = {}): Promise<RegisteredObject> {
    const [object] = await this.checked([manifest], undefined, options);
    const { kind, metadata } = object!;
    const current = await this.get(kind, metadata.namespace ?? "", metadata.name ?? "");
    const expected = manifest.object.metadata?.resourceVersion;
    const next = { ...object!, metadata: { ...current.metadata, ...object!.metadata } } as RegisteredObject;
    if (kind === "CronWorkflow" && (current as CronWorkflow).status)
      (next as CronWorkflow).status = (current as CronWorkflow).status;
    return this.store.putRegistered(next, {
      expectedResourceVersion: expected || current.metadata.resourceVersion || "",
    });
  }

  /** One object; `SKF-REG-003` when the store has none of that name. */
  async get(kind: RegistryKind, namespace: string, name: string): Promise<RegisteredObject> {
    const object = await this.store.getRegistered(kind, namespace, name);
    if (!object) throw notFound(kind, namespace, name);
    return object;
  }

  /** The objects of a kind (of one namespace when given), by namespace and name. */
  list(kind: RegistryKind, namespace?: string): Promise<RegisteredObject[]> {
    return this.store.listRegistered(kind, namespace);
  }

  /** Deletes one object; `SKF-REG-003` when there was none. */
  async delete(kind: RegistryKind, namespace: string, name: string): Promise<void> {
    if (!(await this.store.deleteRegistered(kind, namespace, name))) throw notFound(kind, namespace, name);
  }

  /** `argo cron suspend|resume`: sets `spec.suspend` of a CronWorkflow. */
  async setSuspended(namespace: string, name: string, suspend: boolean): Promise<CronWorkflow> {
    for (let attempt = 0; ; attempt++) {
      const cron = (await this.get("CronWorkflow", namespace, name)) as CronWorkflow;
      try {
        return await this.store.putRegistered(
          { ...cron, spec: { ...cron.spec, suspend } },
          { expectedResourceVersion: cron.metadata.resourceVersion ?? "" },
        );
      } catch (e) {
        if (!(e instanceof SkiffError && e.code === "SKF-REG-001") || attempt >= 4) throw e;
      }
    }
  }
}

function notFound(kind: RegistryKind, namespace: string, name: string): SkiffError {
  const where = kind === "ClusterWorkflowTemplate" ? "" : ` in namespace ${namespace || "default"}`;
  return new SkiffError(REGISTRY_CODES["SKF-REG-003"], `${kind} ${name} not found${where}`);
}

/** What `selectPaths` asks when a workflow references a template the paths do not hold. */
export type RegistryLookup = (namespace: string) => Promise<readonly LoadedManifest[]>;

/**
 * The registry lookup of the command line: opens the store the settings name (when it exists), reads the
 * namespace's templates and closes it. A store that cannot be opened holds nothing (the missing template is then
 * reported by compile, naming the reference).
 */
export function registryLookup(settings: StoreSettings): RegistryLookup {
  return async (namespace) => {
    // A store that was never created holds no templates: looking must not create it (`skiff lint`).
    if (!storeExists(storeLocation(settings))) return [];
    let store;
    try {
      store = await openRunStore(settings);
    } catch {
      return [];
    }
    try {
      return await new TemplateRegistry(store).library(namespace);
    } finally {
      await store.close();
    }
  };
}

function storeExists(location: string): boolean {
  if (/^postgres(ql)?:\/\//i.test(location)) return true;
  try {
    return existsSync(location.startsWith("file:") ? fileURLToPath(location) : location);
  } catch {
    return false;
  }
}

/** Whether an object references a (Cluster)WorkflowTemplate the library lacks (`templateRef`, `workflowTemplateRef`). */
export function hasUnresolvedReference(object: unknown, library: Library): boolean {
  const seen = new Set<unknown>();
  const visit = (value: unknown): boolean => {
    if (typeof value !== "object" || value === null || seen.has(value)) return false;
    seen.add(value);
    if (Array.isArray(value)) return value.some(visit);
    const record = value as Record<string, unknown>;
    for (const key of ["templateRef", "workflowTemplateRef"]) {
      const ref = record[key] as { name?: unknown; clusterScope?: unknown } | undefined;
      if (
        ref &&
        typeof ref.name === "string" &&
        !library.workflowTemplate(ref.name, ref.clusterScope === true)
      )
        return true;
    }
    return Object.values(record).some(visit);
  };
  return visit(object);
}
