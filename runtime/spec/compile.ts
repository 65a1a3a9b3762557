import { randomBytes } from "node:crypto";
import { basename } from "node:path";
import { SkiffAggregateError, SkiffError, type SourcePosition } from "../errors/index.js";
import { SPEC_CODES } from "./codes.js";
import type { CompiledWorkflow, ResolvedTemplate, TemplateHolder, TemplateScope } from "./compiled.js";
import type { ExpressionSyntaxCheck } from "./expressions.js";
import type { Library } from "./library.js";
import type { LoadedManifest } from "./load.js";
import { isPlainObject, strategicMerge } from "./merge.js";
import type { PositionIndex } from "./positions.js";
import {
  templateTypeOf,
  TEMPLATE_TYPES,
  type ConfigMap,
  type CronWorkflow,
  type ObjectMeta,
  type Parameter,
  type Secret,
  type Template,
  type Workflow,
  type WorkflowSpec,
} from "./types.js";

export interface CompileOptions {
  /** `--entrypoint`: overrides `spec.entrypoint`. */
  entrypoint?: string;
  /** `-p name=value`: overrides of `spec.arguments.parameters`. */
  parameters?: Record<string, string>;
  /** Explicit workflow name (wins over `metadata.name` and `generateName`). */
  name?: string;
  /** Suffix for `generateName` (default: 5 random `[a-z0-9]`, like Kubernetes). */
  generateNameSuffix?: () => string;
  /** Default `"default"`. */
  namespace?: string;
  /**
   * Argo's controller `workflowDefaults`: a Workflow whose metadata and spec fill in what the workflow
   * (after `workflowTemplateRef`) leaves unset. The workflow wins; maps are merged, lists replaced.
   */
  workflowDefaults?: {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec?: WorkflowSpec;
  };
  /**
   * Checks `when`, `depends` and expr-lang expressions (pass `checkExpressionSyntax` from runtime/expr);
   * without it their syntax is left to run time.
   */
  checkExpressionSyntax?: ExpressionSyntaxCheck;
}

/** Where a subtree of the compiled workflow was written: `positions.get([...prefix, ...rest])`. */
interface Origin {
  positions: PositionIndex;
  prefix: readonly (string | number)[];
}

/**
 * A workflow with its spec merged and references resolvable, before checks. `validate()` and `compile()` both
 * start from it, so they agree on what the workflow is and where each field came from.
 */
export interface PreparedWorkflow {
  compiled: CompiledWorkflow;
  /** Problems found while preparing (missing WorkflowTemplate, templates beside workflowTemplateRef...). */
  problems: SkiffError[];
  /** The manifest the user passed (Workflow, CronWorkflow or (Cluster)WorkflowTemplate). */
  source: LoadedManifest;
  library: Library;
  /** Scopes of every (Cluster)WorkflowTemplate reached through `templateRef`, by scope id. */
  templateScopes(): TemplateScope[];
  /** The raw templates (without defaults) of a scope, for validation. */
  templatesOf(scope: TemplateScope): readonly Template[];
  /** Whether the manifest is a (Cluster)WorkflowTemplate checked on its own (Argo relaxes some rules then). */
  isTemplateValidation: boolean;
}

export function scopeId(kind: TemplateScope["kind"], name: string): string {
  if (kind === "Workflow") return "";
  return `${kind === "ClusterWorkflowTemplate" ? "cluster" : "namespaced"}/${name}`;
}

function randomSuffix(): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  const bytes = randomBytes(5);
  let s = "";
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return s;
}

/** Argo's AnyString: numbers and booleans written for parameter values are strings. */
function normalizeParameters(value: unknown): void {
  if (Array.isArray(value)) {
    for (const v of value) normalizeParameters(v);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [k, v] of Object.entries(value)) {
    if (k === "parameters" && Array.isArray(v)) {
      for (const p of v) {
        if (!isPlainObject(p)) continue;
        for (const f of ["value", "default"]) if (isScalarNonString(p[f])) p[f] = String(p[f]);
        if (Array.isArray(p.enum)) p.enum = p.enum.map((e) => (isScalarNonString(e) ? String(e) : e));
        if (isPlainObject(p.valueFrom) && isScalarNonString(p.valueFrom.default))
          p.valueFrom.default = String(p.valueFrom.default);
      }
    }
    normalizeParameters(v);
  }
}

function isScalarNonString(v: unknown): v is number | boolean {
  return typeof v === "number" || typeof v === "boolean";
}

function problem(
  code: string,
  message: string,
  position: SourcePosition | undefined,
  path?: string,
): SkiffError {
  return new SkiffError(code, message, { position, ...(path === undefined ? {} : { path }) });
}

/**
 * Builds the merged workflow of a manifest: CronWorkflow -> its workflowSpec, (Cluster)WorkflowTemplate ->
 * a Workflow referencing it, `workflowTemplateRef` merged, `-p` overrides applied, name and namespace set.
 */
export function prepareWorkflow(
  manifest: LoadedManifest,
  library: Library,
  options: CompileOptions = {},
): PreparedWorkflow {
  const problems: SkiffError[] = [];
  const obj = manifest.object;
  const own = manifest.positions;
  let metadata: ObjectMeta;
  let spec: WorkflowSpec;
  let specOrigin: Origin = { positions: own, prefix: ["spec"] };
  let isTemplateValidation = false;
  let directTemplate: LoadedManifest | undefined;

  const rawMeta = isPlainObject(obj.metadata) ? (obj.metadata as ObjectMeta) : {};
  switch (obj.kind) {
    case "Workflow":
      metadata = structuredClone(rawMeta);
      spec = isPlainObject(obj.spec) ? structuredClone(obj.spec) : {};
      break;
    case "CronWorkflow": {
      const cron = obj as CronWorkflow;
      const cronSpec: Record<string, unknown> = isPlainObject(cron.spec) ? cron.spec : {};
      const wfMeta = isPlainObject(cronSpec.workflowMetadata) ? cronSpec.workflowMetadata : {};
      // Argo's ConvertCronWorkflowToWorkflow: labels and annotations from workflowMetadata, plus the owner label.
      const labels: Record<string, string> = {
        ...(isPlainObject(wfMeta.labels) ? (wfMeta.labels as Record<string, string>) : {}),
      };
      if (typeof rawMeta.name === "string") labels["workflows.argoproj.io/cron-workflow"] = rawMeta.name;
      metadata = {
        generateName: typeof rawMeta.name === "string" ? `${rawMeta.name}-` : undefined,
        namespace: rawMeta.namespace,
        labels,
        ...(isPlainObject(wfMeta.annotations)
          ? { annotations: structuredClone(wfMeta.annotations as Record<string, string>) }
          : {}),
      };
      spec = isPlainObject(cronSpec.workflowSpec) ? structuredClone(cronSpec.workflowSpec) : {};
      specOrigin = { positions: own, prefix: ["spec", "workflowSpec"] };
      break;
    }
    case "WorkflowTemplate":
    case "ClusterWorkflowTemplate": {
      // `argo submit --from workflowtemplate/<name>`: a Workflow that references the template.
      // A template created with generateName only (as Hera emits them) is submitted under its prefix.
      const generated = typeof rawMeta.name !== "string" && typeof rawMeta.generateName === "string";
      const name = generated ? rawMeta.generateName!.replace(/-$/, "") : (rawMeta.name ?? "");
      const wftSpec = (obj as { spec?: unknown }).spec;
      const wfMeta =
        isPlainObject(wftSpec) && isPlainObject(wftSpec.workflowMetadata) ? wftSpec.workflowMetadata : {};
      const labelKey =
        obj.kind === "ClusterWorkflowTemplate"
          ? "workflows.argoproj.io/cluster-workflow-template"
          : "workflows.argoproj.io/workflow-template";
      metadata = {
        generateName: generated ? rawMeta.generateName : `${name}-`,
        namespace: rawMeta.namespace,
        labels: {
          ...(isPlainObject(wfMeta.labels) ? (wfMeta.labels as Record<string, string>) : {}),
          [labelKey]: name,
        },
        ...(isPlainObject(wfMeta.annotations)
          ? { annotations: structuredClone(wfMeta.annotations as Record<string, string>) }
          : {}),
      };
      spec = {
        workflowTemplateRef: {
          name,
          ...(obj.kind === "ClusterWorkflowTemplate" ? { clusterScope: true } : {}),
        },
      };
      directTemplate = manifest;
      isTemplateValidation = true;
      break;
    }
    default:
      throw new SkiffError(
        SPEC_CODES["SKF-SPEC-005"],
        `kind ${String((obj as { kind: unknown }).kind)} is not a workflow`,
        {
          position: own.get(["kind"]),
        },
      );
  }
  normalizeParameters(spec);

  // Field-level origins of the merged spec: a field written in the Workflow comes from it, else from the WFT.
  const fieldOrigins = new Map<string, Origin>();
  let templateOrigins: Origin[] = [];
  const wfOwnTemplates = Array.isArray(spec.templates) ? spec.templates : [];
  templateOrigins = wfOwnTemplates.map((_, i) => ({
    positions: specOrigin.positions,
    prefix: [...specOrigin.prefix, "templates", i],
  }));

  const ref = spec.workflowTemplateRef;
  if (ref !== undefined) {
    const refName = isPlainObject(ref) && typeof ref.name === "string" ? ref.name : undefined;
    const clusterScope = isPlainObject(ref) && ref.clusterScope === true;
    const wft =
      directTemplate ?? (refName === undefined ? undefined : library.workflowTemplate(refName, clusterScope));
    const refPos = specOrigin.positions.get([...specOrigin.prefix, "workflowTemplateRef"]);
    if (!wft) {
      problems.push(
        problem(
          SPEC_CODES["SKF-SPEC-032"],
          `${clusterScope ? "cluster " : ""}workflow template ${refName ?? "<no name>"} not found`,
          specOrigin.positions.get([...specOrigin.prefix, "workflowTemplateRef", "name"]) ?? refPos,
          "spec.workflowTemplateRef.name",
        ),
      );
    } else {
      if (wfOwnTemplates.length > 0) {
        problems.push(
          problem(
            SPEC_CODES["SKF-SPEC-033"],
            "workflows that use workflowTemplateRef may not define templates",
            specOrigin.positions.get([...specOrigin.prefix, "templates"]),
            "spec.templates",
          ),
        );
      }
      const wftRaw = (wft.object as { spec?: unknown }).spec;
      const wftSpec: Record<string, unknown> = isPlainObject(wftRaw) ? structuredClone(wftRaw) : {};
      normalizeParameters(wftSpec);
      const ownSpec = spec;
      const merged = strategicMerge(wftSpec, ownSpec) as WorkflowSpec;
      for (const key of Object.keys(merged)) {
        fieldOrigins.set(key, key in ownSpec ? specOrigin : { positions: wft.positions, prefix: ["spec"] });
      }
      const wftTemplates = Array.isArray(wftSpec.templates) ? (wftSpec.templates as unknown[]) : [];
      templateOrigins = (Array.isArray(merged.templates) ? merged.templates : []).map((t, i) => {
        const name = isPlainObject(t) ? t.name : undefined;
        const j = wftTemplates.findIndex((w) => isPlainObject(w) && w.name === name);
        if (j >= 0) return { positions: wft.positions, prefix: ["spec", "templates", j] };
        const k = wfOwnTemplates.findIndex((w) => isPlainObject(w) && w.name === name);
        return {
          positions: specOrigin.positions,
          prefix: [...specOrigin.prefix, "templates", k >= 0 ? k : i],
        };
      });
      spec = merged;
    }
  }

  const defaultsSpec = options.workflowDefaults?.spec;
  if (isPlainObject(defaultsSpec)) {
    const d = structuredClone(defaultsSpec) as Record<string, unknown>;
    normalizeParameters(d);
    spec = strategicMerge(d as never, spec as never) as WorkflowSpec;
  }
  for (const field of ["labels", "annotations"] as const) {
    const extra = options.workflowDefaults?.metadata?.[field];
    if (extra)
      metadata[field] = { ...extra, ...((metadata[field] as Record<string, string> | undefined) ?? {}) };
  }

  applyParameterOverrides(spec, options.parameters);
  if (options.entrypoint !== undefined) spec.entrypoint = options.entrypoint;

  let name =
    options.name ?? (typeof metadata.name === "string" && metadata.name !== "" ? metadata.name : undefined);
  if (name === undefined) {
    if (typeof metadata.generateName === "string" && metadata.generateName !== "") {
      name = metadata.generateName + (options.generateNameSuffix ?? randomSuffix)();
    } else {
      // Argo's lint accepts a workflow without either (the API server would refuse it); Skiff runs files, so
      // it names the run after the file.
      name = `${nameFromFile(manifest.file)}-${(options.generateNameSuffix ?? randomSuffix)()}`;
    }
  }
  metadata.name = name;
  metadata.namespace =
    options.namespace ?? (typeof metadata.namespace === "string" ? metadata.namespace : "default");
  for (const k of Object.keys(metadata)) if (metadata[k] === undefined) delete metadata[k];

  const rootScope: TemplateScope = { id: "", kind: "Workflow", name };
  const rawRootTemplates: Template[] = (Array.isArray(spec.templates) ? spec.templates : []).map((t) =>
    isPlainObject(t) ? t : ({} as Template),
  );
  const defaults = isPlainObject(spec.templateDefaults) ? spec.templateDefaults : undefined;
  const withDefaults = (t: Template): Template => applyTemplateDefaults(t, defaults);
  if (Array.isArray(spec.templates)) spec.templates = rawRootTemplates.map(withDefaults);

  const workflow: Workflow = { apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", metadata, spec };

  // Template tables per scope, with defaults applied on first use.
  const rawByScope = new Map<
    string,
    { scope: TemplateScope; templates: readonly Template[]; manifest?: LoadedManifest }
  >();
  rawByScope.set("", { scope: rootScope, templates: rawRootTemplates });
  const resolvedByScope = new Map<string, Map<string, Template>>();
  const inlineCache = new WeakMap<Template, Template>();

  const scopeFor = (refName: string, clusterScope: boolean): TemplateScope | undefined => {
    const kind = clusterScope ? "ClusterWorkflowTemplate" : "WorkflowTemplate";
    const id = scopeId(kind, refName);
    if (rawByScope.has(id)) return rawByScope.get(id)?.scope;
    const lm = library.workflowTemplate(refName, clusterScope);
    if (!lm) return undefined;
    const lmSpec = (lm.object as { spec?: unknown }).spec;
    const wftSpec: Record<string, unknown> = isPlainObject(lmSpec) ? structuredClone(lmSpec) : {};
    normalizeParameters(wftSpec);
    const templates = (Array.isArray(wftSpec.templates) ? wftSpec.templates : []).map((t) =>
      isPlainObject(t) ? (t as Template) : ({} as Template),
    );
    const scope: TemplateScope = { id, kind, name: refName };
    rawByScope.set(id, { scope, templates, manifest: lm });
    return scope;
  };

  const getTemplate = (tname: string, scope: TemplateScope): Template | undefined => {
    let table = resolvedByScope.get(scope.id);
    if (!table) {
      const raw =
        scope.id === ""
          ? rawByScope.get("")
          : (scopeFor(scope.name, scope.kind === "ClusterWorkflowTemplate"), rawByScope.get(scope.id));
      if (!raw) return undefined;
      table = new Map();
      for (const t of raw.templates)
        if (typeof t.name === "string" && !table.has(t.name)) table.set(t.name, withDefaults(t));
      resolvedByScope.set(scope.id, table);
    }
    return table.get(tname);
  };

  const resolveTemplate = (holder: TemplateHolder, scope: TemplateScope): ResolvedTemplate => {
    if (holder.inline !== undefined && holder.inline !== null) {
      let t = inlineCache.get(holder.inline);
      if (!t) inlineCache.set(holder.inline, (t = withDefaults(holder.inline)));
      return { template: t, scope };
    }
    if (holder.templateRef !== undefined && holder.templateRef !== null) {
      const tr = holder.templateRef;
      const target = scopeFor(tr.name, tr.clusterScope === true);
      if (!target) {
        throw new SkiffError(
          SPEC_CODES["SKF-SPEC-032"],
          `${tr.clusterScope === true ? "cluster " : ""}workflow template ${tr.name} not found`,
        );
      }
      const t = getTemplate(tr.template, target);
      if (!t) {
        throw new SkiffError(
          SPEC_CODES["SKF-SPEC-031"],
          `template ${tr.template} not found in ${tr.clusterScope === true ? "cluster " : ""}workflow template ${tr.name}`,
        );
      }
      return { template: t, scope: target, templateRef: tr };
    }
    if (typeof holder.template === "string") {
      const t = getTemplate(holder.template, scope);
      if (!t) {
        throw new SkiffError(
          SPEC_CODES["SKF-SPEC-031"],
          scope.id === ""
            ? `template ${holder.template} not found`
            : `template ${holder.template} not found in workflow template ${scope.name}`,
        );
      }
      return { template: t, scope };
    }
    throw new SkiffError(SPEC_CODES["SKF-SPEC-036"], "no template, templateRef or inline template given");
  };

  const positionOf = (
    path: readonly (string | number)[],
    scope?: TemplateScope,
  ): SourcePosition | undefined => {
    if (scope !== undefined && scope.id !== "") {
      const raw =
        rawByScope.get(scope.id) ??
        (scopeFor(scope.name, scope.kind === "ClusterWorkflowTemplate") && rawByScope.get(scope.id));
      return raw && raw.manifest ? raw.manifest.positions.get(path) : undefined;
    }
    if (path[0] === "spec") {
      if (path[1] === "templates" && typeof path[2] === "number") {
        const o = templateOrigins[path[2]];
        return o ? o.positions.get([...o.prefix, ...path.slice(3)]) : undefined;
      }
      const o = (typeof path[1] === "string" ? fieldOrigins.get(path[1]) : undefined) ?? specOrigin;
      return o.positions.get([...o.prefix, ...path.slice(1)]);
    }
    if (path[0] === "metadata" && obj.kind !== "Workflow") {
      if (obj.kind === "CronWorkflow")
        return own.get(["spec", "workflowMetadata", ...path.slice(1)]) ?? own.get(["metadata"]);
      return own.get(["metadata"]);
    }
    return own.get(path);
  };

  const templatePosition = (tname: string, scope: TemplateScope): SourcePosition | undefined => {
    const raw =
      scope.id === ""
        ? rawByScope.get("")
        : (scopeFor(scope.name, scope.kind === "ClusterWorkflowTemplate"), rawByScope.get(scope.id));
    const i = raw ? raw.templates.findIndex((t) => t.name === tname) : -1;
    return i < 0 ? undefined : positionOf(["spec", "templates", i], scope);
  };

  const configMaps = new Map<string, ConfigMap>(library.configMaps());
  const secrets = new Map<string, Secret>(library.secrets());
  const compiled: CompiledWorkflow = {
    workflow,
    entrypoint: typeof spec.entrypoint === "string" ? spec.entrypoint : "",
    rootScope,
    configMaps,
    secrets,
    resolveTemplate,
    getTemplate,
    positionOf,
    templatePosition,
  };

  return {
    compiled,
    problems,
    source: manifest,
    library,
    isTemplateValidation,
    templateScopes: () => [...rawByScope.values()].map((r) => r.scope).filter((s) => s.id !== ""),
    templatesOf: (scope) =>
      (scope.id === ""
        ? rawByScope.get("")
        : (scopeFor(scope.name, scope.kind === "ClusterWorkflowTemplate"), rawByScope.get(scope.id))
      )?.templates ?? [],
  };
}

function nameFromFile(file: string): string {
  const base = basename(file)
    .replace(/\.(ya?ml|json)$/i, "")
    .toLowerCase();
  const cleaned = base
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 50);
  return cleaned === "" ? "workflow" : cleaned;
}

/** `-p name=value`: given parameters first (Argo's `ApplySubmitOpts` order), then the rest unchanged. */
function applyParameterOverrides(spec: WorkflowSpec, overrides: Record<string, string> | undefined): void {
  if (!overrides || Object.keys(overrides).length === 0) return;
  const args = isPlainObject(spec.arguments) ? spec.arguments : (spec.arguments = {});
  const existing: Parameter[] = Array.isArray(args.parameters) ? args.parameters : [];
  const given: Parameter[] = Object.entries(overrides).map(([name, value]) => {
    const old = existing.find((p) => isPlainObject(p) && p.name === name);
    const p: Parameter = { ...(old ? structuredClone(old) : {}), name, value };
    delete p.valueFrom;
    return p;
  });
  args.parameters = [
    ...given,
    ...existing.filter((p) => !(isPlainObject(p) && Object.hasOwn(overrides, String(p.name)))),
  ];
}

/**
 * `spec.templateDefaults` under a template: the template's own fields win; a type block of the defaults
 * (`container:`, `script:`...) only applies to templates of that type (Argo resets the type after merging).
 */
export function applyTemplateDefaults(template: Template, defaults: Template | undefined): Template {
  if (!defaults || Object.keys(defaults).length === 0) return template;
  const type = templateTypeOf(template);
  const merged = strategicMerge(defaults, template) as Template;
  for (const t of TEMPLATE_TYPES) if (t !== type) delete merged[t];
  return merged;
}

/**
 * Validates and compiles one Workflow (or a WorkflowTemplate/CronWorkflow submitted as a Workflow) into a
 * CompiledWorkflow. Throws SkiffAggregateError (`SKF-SPEC-070`) with every problem found.
 */
export function compileWith(
  check: (prepared: PreparedWorkflow) => SkiffError[],
  manifest: LoadedManifest,
  library: Library,
  options: CompileOptions = {},
): CompiledWorkflow {
  const prepared = prepareWorkflow(manifest, library, options);
  const problems = [...prepared.problems, ...check(prepared)];
  if (problems.length > 0) {
    const first = problems[0];
    throw new SkiffAggregateError(
      SPEC_CODES["SKF-SPEC-070"],
      problems,
      problems.length === 1 && first ? first.message : `${problems.length} problems in ${manifest.file}`,
    );
  }
  return prepared.compiled;
}
