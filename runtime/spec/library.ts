import type { LoadedManifest } from "./load.js";
import type { ConfigMap, Secret } from "./types.js";

/**
 * Everything loaded, by kind and name: references (`workflowTemplateRef`, `templateRef`, ConfigMap lookups)
 * resolve against it. Skiff has no API server, so the objects passed together form the "cluster"; namespaces
 * are not separated.
 */
export class Library {
  private readonly byKind = new Map<string, Map<string, LoadedManifest>>();
  private readonly all: LoadedManifest[];

  private constructor(manifests: LoadedManifest[]) {
    this.all = manifests;
    for (const m of manifests) {
      const name = m.object.metadata?.name;
      if (typeof name !== "string") continue;
      let kind = this.byKind.get(m.object.kind);
      if (!kind) this.byKind.set(m.object.kind, (kind = new Map()));
      // The first definition wins so that lookups do not depend on later, duplicate files.
      if (!kind.has(name)) kind.set(name, m);
    }
  }

  static from(manifests: readonly LoadedManifest[]): Library {
    return new Library([...manifests]);
  }

  /** Every manifest, in load order. */
  manifests(): LoadedManifest[] {
    return [...this.all];
  }

  workflows(): LoadedManifest[] {
    return this.all.filter((m) => m.object.kind === "Workflow");
  }

  cronWorkflows(): LoadedManifest[] {
    return this.all.filter((m) => m.object.kind === "CronWorkflow");
  }

  /** A WorkflowTemplate (or, with `clusterScope`, a ClusterWorkflowTemplate) by name. */
  workflowTemplate(name: string, clusterScope = false): LoadedManifest | undefined {
    return this.byKind.get(clusterScope ? "ClusterWorkflowTemplate" : "WorkflowTemplate")?.get(name);
  }

  configMap(name: string): ConfigMap | undefined {
    return this.byKind.get("ConfigMap")?.get(name)?.object as ConfigMap | undefined;
  }

  secret(name: string): Secret | undefined {
    return this.byKind.get("Secret")?.get(name)?.object as Secret | undefined;
  }

  configMaps(): ReadonlyMap<string, ConfigMap> {
    return mapObjects<ConfigMap>(this.byKind.get("ConfigMap"));
  }

  secrets(): ReadonlyMap<string, Secret> {
    return mapObjects<Secret>(this.byKind.get("Secret"));
  }
}

function mapObjects<T>(m: Map<string, LoadedManifest> | undefined): Map<string, T> {
  const out = new Map<string, T>();
  for (const [name, lm] of m ?? []) out.set(name, lm.object as T);
  return out;
}
