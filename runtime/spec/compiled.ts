import type { SourcePosition } from "../errors/index.js";
import type { ConfigMap, Secret, Template, TemplateRef, Workflow } from "./types.js";

/**
 * Where a template lives. `""` is the workflow's own `spec.templates`; otherwise the (Cluster)WorkflowTemplate
 * that holds it. Template names used inside a WorkflowTemplate resolve within that WorkflowTemplate (Argo's
 * template scope, `status.nodes[].templateScope`).
 */
export interface TemplateScope {
  /** `""` for the workflow itself, else `namespaced/<name>` or `cluster/<name>` (Argo's templateScope text). */
  readonly id: string;
  readonly kind: "Workflow" | "WorkflowTemplate" | "ClusterWorkflowTemplate";
  readonly name: string;
}

/** A template found for a step/task/hook reference, with the scope that later names resolve in. */
export interface ResolvedTemplate {
  readonly template: Template;
  readonly scope: TemplateScope;
  /** Set when the template was reached through `templateRef`. */
  readonly templateRef?: TemplateRef;
}

/** Something that names a template: a step, DAG task, hook, or the workflow entrypoint. */
export interface TemplateHolder {
  template?: string;
  templateRef?: TemplateRef;
  inline?: Template;
}

/**
 * The only form of a workflow that reaches the controller: validated, `workflowTemplateRef` merged into
 * `workflow.spec`, `templateDefaults` applied to every template, every reference resolvable, and the source
 * position of every field kept. Produced by `compile()`.
 */
export interface CompiledWorkflow {
  /** The workflow with its merged spec (Argo's `storedWorkflowSpec` view). `metadata.name` is set. */
  readonly workflow: Workflow;
  /** The entry template name (`spec.entrypoint`, or the `--entrypoint` override). */
  readonly entrypoint: string;
  /** The workflow's own scope (id `""`). */
  readonly rootScope: TemplateScope;
  /** ConfigMaps and Secrets loaded beside the workflow, by name. */
  readonly configMaps: ReadonlyMap<string, ConfigMap>;
  readonly secrets: ReadonlyMap<string, Secret>;
  /**
   * Finds the template a holder names, from the scope it is written in. Throws a SkiffError
   * (`workflow template <n> not found`, `template <t> not found`) when it cannot.
   */
  resolveTemplate(holder: TemplateHolder, scope: TemplateScope): ResolvedTemplate;
  /** Looks up a template by name in a scope; undefined when absent. */
  getTemplate(name: string, scope: TemplateScope): Template | undefined;
  /**
   * The source position of a field, by its path from the workflow object root (e.g.
   * `["spec","templates",0,"dag","tasks",1]`). For templates that came from a WorkflowTemplate the position
   * is in that template's file. Undefined when the field was not written in a file (defaults, generated).
   */
  positionOf(path: readonly (string | number)[], scope?: TemplateScope): SourcePosition | undefined;
  /** The position of a named template's definition in its scope. */
  templatePosition(name: string, scope: TemplateScope): SourcePosition | undefined;
}
