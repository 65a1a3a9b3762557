import type { CompiledWorkflow, ResolvedTemplate, TemplateHolder, TemplateScope } from "../spec/compiled.js";
import type { Template, Workflow, WorkflowSpec } from "../spec/types.js";

type WorkflowStatus = NonNullable<Workflow["status"]>;

/**
 * The `status.storedTemplates` key Argo gives a template reached from `scope` through `holder`
 * (`resolveTemplateReference`): `namespaced/<wft>/<template>` or `cluster/<cwft>/<template>` for a
 * `templateRef`, and the same form for a name used inside a (Cluster)WorkflowTemplate. Templates of the
 * workflow itself and inline templates are not stored.
 */
export function storedTemplateKey(holder: TemplateHolder, scope: TemplateScope): string | undefined {
  if (holder.inline !== undefined && holder.inline !== null) return undefined;
  const ref = holder.templateRef;
  if (ref !== undefined && ref !== null) {
    return `${ref.clusterScope === true ? "cluster" : "namespaced"}/${ref.name}/${ref.template}`;
  }
  if (scope.id !== "" && typeof holder.template === "string") return `${scope.id}/${holder.template}`;
  return undefined;
}

/** The scope a `templateRef` resolves in, as the compiler names it. */
function refScope(holder: TemplateHolder): TemplateScope | undefined {
  const ref = holder.templateRef;
  if (ref === undefined || ref === null) return undefined;
  const cluster = ref.clusterScope === true;
  return {
    id: `${cluster ? "cluster" : "namespaced"}/${ref.name}`,
    kind: cluster ? "ClusterWorkflowTemplate" : "WorkflowTemplate",
    name: ref.name,
  };
}

/**
 * Template resolution that freezes what a run uses, as Argo does: a template from a (Cluster)WorkflowTemplate
 * is copied into `status.storedTemplates` on first use, and a `workflowTemplateRef` run keeps its merged spec
 * in `status.storedWorkflowTemplateSpec`. A run continued from a persisted status resolves through those
 * copies, so editing or deleting a WorkflowTemplate does not change a workflow that already started.
 */
export class TemplateResolver {
  /** Copies found in the persisted status: they win over the library. */
  private readonly frozen: ReadonlyMap<string, Template>;
  /** Set when the spec came from `storedWorkflowTemplateSpec`: root-scope names resolve in it. */
  private readonly rootTemplates: ReadonlyMap<string, Template> | undefined;

  constructor(
    private readonly compiled: CompiledWorkflow,
    private readonly status: WorkflowStatus,
    spec: WorkflowSpec,
    specIsStored: boolean,
    private readonly changed: () => void,
  ) {
    this.frozen = new Map(Object.entries(status.storedTemplates ?? {}));
    if (specIsStored) {
      const byName = new Map<string, Template>();
      for (const t of spec.templates ?? []) if (t.name && !byName.has(t.name)) byName.set(t.name, t);
      this.rootTemplates = byName;
    }
  }

  /** Finds the template a holder names (see `CompiledWorkflow.resolveTemplate`), recording stored copies. */
  resolve(holder: TemplateHolder, scope: TemplateScope): ResolvedTemplate {
    const key = storedTemplateKey(holder, scope);
    if (key === undefined) {
      const own =
        this.rootTemplates && scope.id === "" && typeof holder.template === "string" && !holder.inline
          ? this.rootTemplates.get(holder.template)
          : undefined;
      return own ? { template: own, scope } : this.compiled.resolveTemplate(holder, scope);
    }
    const frozen = this.frozen.get(key);
    if (frozen) {
      const target = refScope(holder) ?? scope;
      return holder.templateRef
        ? { template: frozen, scope: target, templateRef: holder.templateRef }
        : { template: frozen, scope: target };
    }
    const rt = this.compiled.resolveTemplate(holder, scope);
    const stored = (this.status.storedTemplates ??= {});
    if (!(key in stored)) {
      stored[key] = structuredClone(rt.template);
      this.changed();
    }
    return rt;
  }
}
