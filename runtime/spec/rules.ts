import { parseAllDocuments } from "yaml";
import { checkExpressionSyntax } from "../expr/index.js";
import { SkiffError } from "../errors/index.js";
import { SPEC_CODES } from "./codes.js";
import type { PreparedWorkflow } from "./compile.js";
import type { LoadedManifest } from "./load.js";
import type { CompiledWorkflow, TemplateScope } from "./compiled.js";
import { parseDepends, TASK_RESULTS } from "./depends.js";
import { isPlainObject } from "./merge.js";
import { formatPath } from "./positions.js";
import { checkStructure } from "./structure.js";
import { collectStrings, findTags } from "./tags.js";
import { TEMPLATE_TYPES, type TemplateType } from "./types.js";
import { parseDuration } from "./units.js";

export interface CheckOptions {
  /** Checking for a run (compile) rather than lint: the entrypoint and argument values are required. */
  submit: boolean;
}

type Path = (string | number)[];
type Dict = Record<string, unknown>;

const FIELD_NAME = /^[a-zA-Z0-9][-a-zA-Z0-9]*$/;
const PARAM_NAME = /^[-a-zA-Z0-9_]+$/;
const K8S_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const IS_PARAMETER = /{{[-a-zA-Z0-9]+(\.[-a-zA-Z0-9_]+)*}}/;
const CHECKED_PREFIXES = ["item.", "steps.", "inputs.", "outputs.", "pod.", "workflow.", "tasks."];
const LEAF_TYPES: readonly TemplateType[] = [
  "container",
  "script",
  "containerSet",
  "resource",
  "data",
  "http",
  "plugin",
  "suspend",
];
const POD_TYPES: readonly TemplateType[] = ["container", "script", "containerSet", "resource", "data"];
const RETRY_POLICIES = ["Always", "OnFailure", "OnError", "OnTransientError", ""];
const RESOURCE_ACTIONS = ["get", "create", "apply", "delete", "replace", "patch"];
const POD_GC = ["", "OnPodCompletion", "OnPodSuccess", "OnWorkflowCompletion", "OnWorkflowSuccess"];
const MAX_FIELD_NAME = 128;

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const dict = (v: unknown): Dict | undefined => (isPlainObject(v) ? v : undefined);
const has = (v: unknown): boolean => v !== undefined && v !== null;
const hasVar = (v: unknown): boolean => typeof v === "string" && v.includes("{{");

function typesOf(t: Dict): TemplateType[] {
  return TEMPLATE_TYPES.filter((k) => has(t[k]));
}

/** Variables that can be referenced, and patterns that stand for families of them. */
type Scope = Set<string>;

/**
 * Argo's workflow validation (`workflow/validate/validate.go`), reporting every problem instead of the first.
 * Paths are relative to the object root of the scope a template lives in, so each problem points at the file
 * and line of the offending field, including for templates from other files.
 */
class Checker {
  readonly problems: SkiffError[] = [];
  private readonly compiled: CompiledWorkflow;
  private readonly globals = new Set<string>();
  private readonly validated = new Set<string>();
  private readonly reportedAt = new Set<string>();
  private readonly templateValidation: boolean;
  private anyGlobalOutputParameter = false;
  private anyGlobalOutputArtifact = false;

  constructor(
    private readonly prepared: PreparedWorkflow,
    private readonly options: CheckOptions,
  ) {
    this.compiled = prepared.compiled;
    this.templateValidation = prepared.isTemplateValidation && !options.submit;
  }

  report(code: string, message: string, path: Path, scope?: TemplateScope): void {
    const position = this.compiled.positionOf(path, scope) ?? this.nearest(path, scope);
    const key = `${code}|${message}|${scope?.id ?? ""}|${formatPath(path)}`;
    if (this.reportedAt.has(key)) return;
    this.reportedAt.add(key);
    this.problems.push(new SkiffError(code, message, { position, path: formatPath(path) }));
  }

  private nearest(path: Path, scope?: TemplateScope) {
    for (let n = path.length - 1; n >= 0; n--) {
      const p = this.compiled.positionOf(path.slice(0, n), scope);
      if (p) return p;
    }
    return undefined;
  }

  run(): void {
    const source = this.prepared.source;
    const raw = source.object as unknown as Dict;
    this.problems.push(...validateStructure(source));
    this.checkObjectNames(raw);

    this.checkExpressions(raw);

    const wf = this.compiled.workflow;
    const spec = wf.spec as unknown as Dict;
    const root = this.compiled.rootScope;

    // Template names of every scope's spec.templates.
    this.checkNames(arr(spec.templates), ["spec", "templates"], FIELD_NAME, "template", root);
    for (const scope of this.prepared.templateScopes()) {
      this.checkNames(
        this.prepared.templatesOf(scope) as unknown[],
        ["spec", "templates"],
        FIELD_NAME,
        "template",
        scope,
      );
    }

    const args = dict(spec.arguments) ?? {};
    const allowEmpty = !this.options.submit || this.templateValidation;
    this.checkArguments(args, ["spec", "arguments"], allowEmpty, root);
    this.collectGlobals(wf.metadata as Dict, spec, args);

    const entry = str(spec.entrypoint);
    // When the referenced WorkflowTemplate is missing its entrypoint is unknown; that problem is already reported.
    const refMissing =
      spec.workflowTemplateRef !== undefined &&
      this.prepared.problems.some((p) => p.code === SPEC_CODES["SKF-SPEC-032"]);
    const entryRequired =
      !refMissing && (this.options.submit || !this.prepared.isTemplateValidation || (entry ?? "") !== "");
    if (entry === undefined || entry === "") {
      if (entryRequired) this.report(SPEC_CODES["SKF-SPEC-030"], "spec.entrypoint is required", ["spec"]);
    } else if (!this.compiled.getTemplate(entry, root)) {
      this.report(SPEC_CODES["SKF-SPEC-031"], `spec.entrypoint template '${entry}' not found`, [
        "spec",
        "entrypoint",
      ]);
    } else {
      this.checkCall(
        { template: entry },
        this.templateValidation ? undefined : args,
        ["spec", "entrypoint"],
        root,
      );
    }

    const onExit = str(spec.onExit);
    if (onExit !== undefined && onExit !== "") {
      if (!this.compiled.getTemplate(onExit, root))
        this.report(SPEC_CODES["SKF-SPEC-031"], `spec.onExit template '${onExit}' not found`, [
          "spec",
          "onExit",
        ]);
      else this.checkCall({ template: onExit }, args, ["spec", "onExit"], root);
    }
    this.checkHooks(spec.hooks, ["spec", "hooks"], root, args);

    const podGC = dict(spec.podGC);
    if (podGC && typeof podGC.strategy === "string" && !POD_GC.includes(podGC.strategy)) {
      this.report(SPEC_CODES["SKF-SPEC-013"], `podGC.strategy unknown strategy '${podGC.strategy}'`, [
        "spec",
        "podGC",
        "strategy",
      ]);
    }
    if (podGC)
      this.checkDuration(podGC.deleteDelayDuration, ["spec", "podGC", "deleteDelayDuration"], root, false);
    this.checkRetryStrategy(spec.retryStrategy, ["spec", "retryStrategy"], root);
    if (spec.templateDefaults !== undefined)
      this.checkTemplateOnlyFields(
        dict(spec.templateDefaults) ?? {},
        ["spec", "templateDefaults"],
        root,
        true,
      );

    // Every template is checked, reached or not (Argo validates all of them with made-up arguments).
    arr(spec.templates).forEach((t, i) => {
      if (isPlainObject(t)) this.checkTemplate(t as Dict, ["spec", "templates", i], root, undefined);
    });
    if (spec.workflowTemplateRef !== undefined) {
      for (const scope of this.prepared.templateScopes()) {
        this.prepared.templatesOf(scope).forEach((t, i) => {
          if (isPlainObject(t)) this.checkTemplate(t as Dict, ["spec", "templates", i], scope, undefined);
        });
      }
    }
  }

  /**
   * Syntax of every expression written in the manifest: `{{=...}}` tags anywhere, `when` (govaluate) on steps
   * and tasks, and the expr-lang fields (hook and retry expressions, `fromExpression`, output
   * `valueFrom.expression`, HTTP `successCondition`, data transformations, CronWorkflow `when`).
   */
  private checkExpressions(raw: Dict): void {
    const src = this.prepared.source;
    const push = (message: string, path: Path): void => {
      this.problems.push(
        new SkiffError(SPEC_CODES["SKF-SPEC-067"], message, {
          position: src.positions.get(path) ?? src.positions.get([]),
          path: formatPath(path),
        }),
      );
    };
    const check = (text: string, kind: "expr" | "govaluate", path: Path): void => {
      const p = checkExpressionSyntax(text, kind)[0];
      if (p)
        push(`${formatPath(path)}: invalid expression '${text}': ${p.message} (column ${p.column})`, path);
    };
    const walk = (value: unknown, path: Path): void => {
      if (typeof value === "string") {
        const key = path[path.length - 1];
        const parent = path[path.length - 2];
        if (key === "when" && path.length > 2 && (path.includes("steps") || path.includes("tasks"))) {
          check(value, "govaluate", path);
          return;
        }
        const exprField =
          key === "expression" ||
          key === "fromExpression" ||
          (key === "successCondition" && parent === "http") ||
          (key === "when" && raw.kind === "CronWorkflow" && path.length === 2);
        if (exprField && !value.includes("{{")) {
          check(value, "expr", path);
          return;
        }
        for (const tag of findTags(value)) {
          if (tag.trim().startsWith("=")) check(tag.trim().slice(1), "expr", path);
        }
        return;
      }
      if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]));
      else if (isPlainObject(value)) {
        for (const [k, v] of Object.entries(value)) {
          // depends has its own grammar, checked with the DAG.
          if (k === "depends") continue;
          walk(v, [...path, k]);
        }
      }
    };
    walk(raw.spec, ["spec"]);
  }

  private checkObjectNames(raw: Dict): void {
    const meta = dict(raw.metadata) ?? {};
    const kind = String(raw.kind);
    const name = str(meta.name);
    const limit = kind === "CronWorkflow" ? 52 : 63;
    const label =
      kind === "CronWorkflow"
        ? "cron workflow"
        : kind === "WorkflowTemplate"
          ? "workflow template"
          : kind === "ClusterWorkflowTemplate"
            ? "cluster workflow template"
            : "workflow";
    const src = this.prepared.source;
    const push = (code: string, message: string, path: Path): void => {
      this.problems.push(
        new SkiffError(code, message, {
          position: src.positions.get(path) ?? src.positions.get([]),
          path: formatPath(path),
        }),
      );
    };
    if (name !== undefined) {
      if (name.length > limit)
        push(
          SPEC_CODES["SKF-SPEC-022"],
          `${label} name "${name}" must not be more than ${limit} characters long (currently ${name.length})`,
          ["metadata", "name"],
        );
      if (!K8S_NAME.test(name))
        push(
          SPEC_CODES["SKF-SPEC-021"],
          `${label} name "${name}" must consist of lower case alphanumeric characters, '-' or '.'`,
          ["metadata", "name"],
        );
    } else if (kind !== "Workflow" || str(meta.generateName) === undefined) {
      if (kind !== "Workflow")
        push(SPEC_CODES["SKF-SPEC-020"], `${label} has no metadata.name`, ["metadata"]);
    }
    const gen = str(meta.generateName);
    if (gen !== undefined && name === undefined && !/^[a-z0-9]([-a-z0-9.]*)?$/.test(gen)) {
      push(
        SPEC_CODES["SKF-SPEC-021"],
        `generateName "${gen}" must consist of lower case alphanumeric characters, '-' or '.'`,
        ["metadata", "generateName"],
      );
    }
    if (kind === "CronWorkflow") {
      const spec = dict(raw.spec) ?? {};
      const schedule = str(spec.schedule);
      const schedules = arr(spec.schedules);
      if (schedule !== undefined && schedule !== "" && schedules.length > 0)
        push(
          SPEC_CODES["SKF-SPEC-072"],
          "cron workflow cant be configured with both Spec.Schedule and Spec.Schedules",
          ["spec", "schedules"],
        );
      if ((schedule === undefined || schedule === "") && schedules.length === 0)
        push(SPEC_CODES["SKF-SPEC-072"], "cron workflow needs spec.schedule or spec.schedules", ["spec"]);
      const all: [unknown, Path][] = schedule !== undefined ? [[schedule, ["spec", "schedule"]]] : [];
      schedules.forEach((s, i) => all.push([s, ["spec", "schedules", i]]));
      for (const [s, p] of all) {
        if (typeof s === "string" && s !== "" && !isCronSchedule(s))
          push(SPEC_CODES["SKF-SPEC-072"], `cron schedule ${s} is malformed`, p);
      }
      const policy = spec.concurrencyPolicy;
      if (typeof policy === "string" && !["Allow", "Forbid", "Replace", ""].includes(policy))
        push(SPEC_CODES["SKF-SPEC-013"], `'${policy}' is not a valid concurrencyPolicy`, [
          "spec",
          "concurrencyPolicy",
        ]);
      if (typeof spec.startingDeadlineSeconds === "number" && spec.startingDeadlineSeconds < 0)
        push(SPEC_CODES["SKF-SPEC-069"], "startingDeadlineSeconds must be positive", [
          "spec",
          "startingDeadlineSeconds",
        ]);
    }
  }

  private collectGlobals(meta: Dict, spec: Dict, args: Dict): void {
    const g = this.globals;
    for (const k of [
      "name",
      "namespace",
      "mainEntrypoint",
      "serviceAccountName",
      "uid",
      "status",
      "failures",
    ])
      g.add(`workflow.${k}`);
    const params = arr(args.parameters);
    if (params.length > 0) {
      g.add("workflow.parameters");
      g.add("workflow.parameters.json");
    }
    for (const p of params)
      if (isPlainObject(p) && typeof p.name === "string") g.add(`workflow.parameters.${p.name}`);
    const wm = dict(spec.workflowMetadata) ?? {};
    const annotations = [
      ...Object.keys(dict(meta.annotations) ?? {}),
      ...Object.keys(dict(wm.annotations) ?? {}),
    ];
    const labels = [
      ...Object.keys(dict(meta.labels) ?? {}),
      ...Object.keys(dict(wm.labels) ?? {}),
      ...Object.keys(dict(wm.labelsFrom) ?? {}),
    ];
    for (const a of annotations) g.add(`workflow.annotations.${a}`);
    for (const l of labels) g.add(`workflow.labels.${l}`);
    for (const k of ["annotations", "annotations.json", "labels", "labels.json"]) g.add(`workflow.${k}`);
    if (spec.priority !== undefined) g.add("workflow.priority");
    // Global outputs may be exported by any template; collect them up front so order does not matter.
    const visit = (t: unknown): void => {
      const outputs = dict(dict(t)?.outputs);
      for (const p of arr(outputs?.parameters)) {
        const gn = str(dict(p)?.globalName);
        if (gn === undefined || gn === "") continue;
        if (IS_PARAMETER.test(gn)) this.anyGlobalOutputParameter = true;
        else g.add(`workflow.outputs.parameters.${gn}`);
      }
      for (const a of arr(outputs?.artifacts)) {
        const gn = str(dict(a)?.globalName);
        if (gn === undefined || gn === "") continue;
        if (IS_PARAMETER.test(gn)) this.anyGlobalOutputArtifact = true;
        else g.add(`workflow.outputs.artifacts.${gn}`);
      }
    };
    for (const t of arr(spec.templates)) visit(t);
    for (const scope of this.prepared.templateScopes())
      for (const t of this.prepared.templatesOf(scope)) visit(t);
  }

  /** `validateWorkflowFieldNames`: names required, well formed and unique. */
  private checkNames(
    items: unknown[],
    path: Path,
    pattern: RegExp,
    what: string,
    scope: TemplateScope,
  ): void {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      const name = dict(item)?.name;
      if (typeof name !== "string" || name === "") {
        this.report(
          SPEC_CODES["SKF-SPEC-011"],
          `${formatPath([...path, i])}.name is required`,
          [...path, i],
          scope,
        );
        return;
      }
      if (pattern === FIELD_NAME && name.length > MAX_FIELD_NAME) {
        this.report(
          SPEC_CODES["SKF-SPEC-022"],
          `${what} name '${name}' must be no more than ${MAX_FIELD_NAME} characters`,
          [...path, i, "name"],
          scope,
        );
      }
      if (!pattern.test(name)) {
        const rule =
          pattern === FIELD_NAME
            ? "name must consist of alpha-numeric characters or '-', and must start with an alpha-numeric character"
            : "Parameter/Artifact name must consist of alpha-numeric characters, '_' or '-'";
        this.report(
          SPEC_CODES["SKF-SPEC-021"],
          `${what} name '${name}' is invalid: ${rule}`,
          [...path, i, "name"],
          scope,
        );
      }
      if (seen.has(name))
        this.report(
          SPEC_CODES["SKF-SPEC-023"],
          `${what} name '${name}' is not unique`,
          [...path, i, "name"],
          scope,
        );
      seen.add(name);
    });
  }

  /** `validateArguments`: names, and values unless empty values are allowed (lint). */
  private checkArguments(args: Dict, path: Path, allowEmpty: boolean, scope: TemplateScope): void {
    const params = arr(args.parameters);
    const artifacts = arr(args.artifacts);
    this.checkNames(params, [...path, "parameters"], PARAM_NAME, "parameter", scope);
    this.checkNames(artifacts, [...path, "artifacts"], PARAM_NAME, "artifact", scope);
    params.forEach((p, i) => {
      const param = dict(p);
      if (!param) return;
      const at: Path = [...path, "parameters", i];
      const name = String(param.name ?? i);
      const valueFrom = dict(param.valueFrom);
      if (!has(param.value) && !valueFrom && !allowEmpty) {
        this.report(
          SPEC_CODES["SKF-SPEC-043"],
          `${formatPath(path)}.${name}.value or ${formatPath(path)}.${name}.valueFrom is required`,
          at,
          scope,
        );
      }
      if (valueFrom) {
        const allowed = has(valueFrom.configMapKeyRef) || has(valueFrom.event) || has(valueFrom.supplied);
        const forbidden = ["path", "jsonPath", "parameter", "expression"].some(
          (k) => has(valueFrom[k]) && valueFrom[k] !== "",
        );
        if (!allowed || forbidden) {
          this.report(
            SPEC_CODES["SKF-SPEC-043"],
            `${formatPath(path)}.${name}.valueFrom only allows: default, configMapKeyRef and supplied`,
            [...at, "valueFrom"],
            scope,
          );
        }
      }
      if (Array.isArray(param.enum)) {
        if (param.enum.length === 0) {
          this.report(
            SPEC_CODES["SKF-SPEC-043"],
            `${formatPath(path)}.${name}.enum should contain at least one value`,
            [...at, "enum"],
            scope,
          );
        } else if (!has(param.value)) {
          if (!allowEmpty)
            this.report(
              SPEC_CODES["SKF-SPEC-043"],
              `${formatPath(path)}.${name}.value is required`,
              at,
              scope,
            );
        } else if (!param.enum.map(String).includes(String(param.value))) {
          this.report(
            SPEC_CODES["SKF-SPEC-043"],
            `${formatPath(path)}.${name}.value should be present in ${formatPath(path)}.${name}.enum list`,
            [...at, "value"],
            scope,
          );
        }
      }
    });
    artifacts.forEach((a, i) => {
      const art = dict(a);
      if (!art) return;
      const at: Path = [...path, "artifacts", i];
      const name = String(art.name ?? i);
      if (!has(art.from) && !has(art.fromExpression) && !hasLocation(art)) {
        this.report(
          SPEC_CODES["SKF-SPEC-044"],
          `${formatPath(path)}.${name}.from, artifact location, or key is required`,
          at,
          scope,
        );
      }
      if (has(art.from) && has(art.fromExpression)) {
        this.report(
          SPEC_CODES["SKF-SPEC-044"],
          `${formatPath(path)}.${name} shouldn't have both \`from\` and \`fromExpression\` in Artifact`,
          at,
          scope,
        );
      }
    });
  }

  private checkHooks(hooks: unknown, path: Path, scope: TemplateScope, args: Dict | undefined): void {
    const h = dict(hooks);
    if (!h) return;
    for (const [name, hook] of Object.entries(h)) {
      const hd = dict(hook) ?? {};
      if (name !== "exit" && (typeof hd.expression !== "string" || hd.expression === "")) {
        this.report(
          SPEC_CODES["SKF-SPEC-064"],
          `${formatPath([...path, name])} Expression required`,
          [...path, name],
          scope,
        );
      }
      if (has(hd.template) || has(hd.templateRef))
        this.checkCall(hd, dict(hd.arguments) ?? args, [...path, name], scope);
    }
  }

  /**
   * Resolves what a step/task/hook names and checks the template with the given arguments (undefined: any
   * argument is supplied, as Argo's FakeArguments).
   */
  private checkCall(
    holder: Dict,
    args: Dict | undefined,
    path: Path,
    scope: TemplateScope,
  ): { template?: Dict; scope?: TemplateScope; path?: Path } {
    const template = holder.template;
    const templateRef = dict(holder.templateRef);
    const inline = dict(holder.inline);
    const count = [has(template) && template !== "", templateRef !== undefined, inline !== undefined].filter(
      Boolean,
    ).length;
    if (count > 1) {
      const message =
        templateRef && has(template)
          ? "template name cannot be specified with templateRef."
          : "only one of template, templateRef or inline may be given";
      this.report(SPEC_CODES["SKF-SPEC-036"], message, path, scope);
      return {};
    }
    if (count === 0) {
      this.report(
        SPEC_CODES["SKF-SPEC-036"],
        "one of template, templateRef or inline is required",
        path,
        scope,
      );
      return {};
    }
    if (templateRef) {
      const name = str(templateRef.name);
      const tname = str(templateRef.template);
      if (!name) {
        this.report(
          SPEC_CODES["SKF-SPEC-011"],
          "templateRef: resource name is required",
          [...path, "templateRef"],
          scope,
        );
        return {};
      }
      if (!tname) {
        this.report(
          SPEC_CODES["SKF-SPEC-011"],
          "templateRef: template name is required",
          [...path, "templateRef"],
          scope,
        );
        return {};
      }
      if (hasVar(name) || hasVar(tname)) return {};
    }
    let resolved;
    try {
      resolved = this.compiled.resolveTemplate(holder as never, scope);
    } catch (e) {
      const err = e as SkiffError;
      let message = err.message;
      if (typeof template === "string" && !templateRef) message = `template name '${template}' undefined`;
      const field: Path = templateRef
        ? [...path, "templateRef"]
        : typeof template === "string"
          ? [...path, "template"]
          : path;
      this.report(err.code ?? SPEC_CODES["SKF-SPEC-031"], message, field, scope);
      return {};
    }
    // Argo validates templates as written, before templateDefaults are merged in.
    let t: Dict;
    let tPath: Path;
    if (inline) {
      t = inline;
      tPath = [...path, "inline"];
    } else {
      const raw = this.prepared.templatesOf(resolved.scope);
      const idx = raw.findIndex((r) => r.name === (resolved.template.name ?? ""));
      t = (raw[idx] as unknown as Dict | undefined) ?? (resolved.template as unknown as Dict);
      tPath = ["spec", "templates", idx];
    }
    this.checkTemplate(t, tPath, resolved.scope, args, path, scope);
    return { template: t, scope: resolved.scope, path: tPath };
  }

  /** `validateTemplate` plus the argument check of `ProcessArgs`. */
  private checkTemplate(
    t: Dict,
    path: Path,
    scope: TemplateScope,
    args: Dict | undefined,
    callPath?: Path,
    callScope?: TemplateScope,
  ): void {
    const name = str(t.name) ?? "";
    if (args !== undefined) this.checkSuppliedArguments(t, args, callPath ?? path, callScope ?? scope);
    const key = `${scope.id}/${path.join(".")}`;
    if (this.validated.has(key)) return;
    this.validated.add(key);

    const types = typesOf(t);
    if (types.length === 0) {
      this.report(
        SPEC_CODES["SKF-SPEC-034"],
        `templates.${name} template type unspecified. choose one of: container, containerSet, steps, script, resource, dag, suspend, data, http, plugin`,
        path,
        scope,
      );
    } else if (types.length > 1) {
      this.report(
        SPEC_CODES["SKF-SPEC-035"],
        `templates.${name} multiple template types specified (${types.join(", ")}). choose one of: container, containerSet, steps, script, resource, dag, suspend, data, http, plugin`,
        [...path, types[1] ?? ""],
        scope,
      );
    }
    const type = types[0];
    const leaf = type === undefined || LEAF_TYPES.includes(type);
    const vars: Scope = new Set(this.globals);
    this.checkInputs(t, path, scope, leaf, vars);
    if (type !== undefined && POD_TYPES.includes(type)) vars.add("pod.name");
    if (has(t.retryStrategy))
      for (const v of [
        "retries",
        "lastRetry.exitCode",
        "lastRetry.status",
        "lastRetry.duration",
        "lastRetry.message",
      ])
        vars.add(v);
    const outputs = dict(t.outputs) ?? {};
    if (leaf) {
      for (const a of arr(outputs.artifacts))
        if (str(dict(a)?.path)) vars.add(`outputs.artifacts.${String(dict(a)?.name)}.path`);
      for (const p of arr(outputs.parameters))
        if (str(dict(dict(p)?.valueFrom)?.path)) vars.add(`outputs.parameters.${String(dict(p)?.name)}.path`);
    }
    this.checkTemplateOnlyFields(t, path, scope, false, type);

    if (type === "steps") this.checkSteps(t, path, scope, vars);
    else if (type === "dag") this.checkDag(t, path, scope, vars);
    else this.checkLeaf(t, path, scope, vars, type);
    this.checkOutputs(t, path, scope, vars, type);
  }

  /** `ProcessArgs`: every input parameter gets a value and every required input artifact a source. */
  private checkSuppliedArguments(t: Dict, args: Dict, callPath: Path, callScope: TemplateScope): void {
    const inputs = dict(t.inputs) ?? {};
    const argParams = arr(args.parameters).map(dict);
    const argArts = arr(args.artifacts).map(dict);
    for (const p of arr(inputs.parameters)) {
      const param = dict(p);
      if (!param || typeof param.name !== "string") continue;
      const arg = argParams.find((a) => a?.name === param.name);
      const supplied =
        has(param.value) ||
        has(param.default) ||
        has(param.valueFrom) ||
        (arg !== undefined && (has(arg.value) || has(arg.valueFrom)));
      if (!supplied) {
        this.report(
          SPEC_CODES["SKF-SPEC-040"],
          `inputs.parameters.${param.name} was not supplied`,
          callPath,
          callScope,
        );
      }
    }
    for (const a of arr(inputs.artifacts)) {
      const art = dict(a);
      if (!art || typeof art.name !== "string") continue;
      if (hasLocation(art) || art.optional === true) continue;
      if (!argArts.some((x) => x?.name === art.name)) {
        this.report(
          SPEC_CODES["SKF-SPEC-040"],
          `inputs.artifacts.${art.name} was not supplied`,
          callPath,
          callScope,
        );
      }
    }
  }

  private checkInputs(t: Dict, path: Path, scope: TemplateScope, leaf: boolean, vars: Scope): void {
    const inputs = dict(t.inputs) ?? {};
    const params = arr(inputs.parameters);
    const artifacts = arr(inputs.artifacts);
    this.checkNames(params, [...path, "inputs", "parameters"], PARAM_NAME, "input parameter", scope);
    this.checkNames(artifacts, [...path, "inputs", "artifacts"], PARAM_NAME, "input artifact", scope);
    for (const p of params)
      if (typeof dict(p)?.name === "string") vars.add(`inputs.parameters.${String(dict(p)?.name)}`);
    if (params.length > 0) vars.add("inputs.parameters");
    artifacts.forEach((a, i) => {
      const art = dict(a);
      if (!art) return;
      const n = String(art.name);
      vars.add(`inputs.artifacts.${n}`);
      if (leaf) vars.add(`inputs.artifacts.${n}.path`);
      else if (has(art.path)) {
        this.report(
          SPEC_CODES["SKF-SPEC-044"],
          `templates.${String(t.name)}.inputs.artifacts.${n}.path only valid in container/script templates`,
          [...path, "inputs", "artifacts", i, "path"],
          scope,
        );
      }
      if (has(art.from)) {
        this.report(
          SPEC_CODES["SKF-SPEC-044"],
          `templates.${String(t.name)}.inputs.artifacts.${n}.from not valid in inputs`,
          [...path, "inputs", "artifacts", i, "from"],
          scope,
        );
      }
      this.checkArtifactLocation(art, [...path, "inputs", "artifacts", i], scope);
    });
  }

  private checkArtifactLocation(loc: Dict, path: Path, scope: TemplateScope): void {
    const git = dict(loc.git);
    if (git && (typeof git.repo !== "string" || git.repo === "")) {
      this.report(
        SPEC_CODES["SKF-SPEC-011"],
        `${formatPath(path)}.git.repo is required`,
        [...path, "git"],
        scope,
      );
    }
  }

  /** Fields whose validity depends on the template type, durations and retry/memoize shapes. */
  private checkTemplateOnlyFields(
    t: Dict,
    path: Path,
    scope: TemplateScope,
    isDefaults: boolean,
    type?: TemplateType,
  ): void {
    const name = String(t.name ?? "");
    const nonLeaf = type === "steps" || type === "dag";
    if (!isDefaults && type !== undefined) {
      if (!nonLeaf && has(t.parallelism)) {
        this.report(
          SPEC_CODES["SKF-SPEC-062"],
          `templates.${name}.parallelism is only valid for steps and dag templates`,
          [...path, "parallelism"],
          scope,
        );
      }
      if (!nonLeaf && has(t.failFast)) {
        this.report(
          SPEC_CODES["SKF-SPEC-062"],
          `templates.${name}.failFast is only valid for steps and dag templates`,
          [...path, "failFast"],
          scope,
        );
      }
      if (nonLeaf && has(t.timeout) && t.timeout !== "") {
        this.report(
          SPEC_CODES["SKF-SPEC-062"],
          `${type} template doesn't support timeout field.`,
          [...path, "timeout"],
          scope,
        );
      }
      if (nonLeaf && has(t.activeDeadlineSeconds)) {
        this.report(
          SPEC_CODES["SKF-SPEC-062"],
          `templates.${name}.activeDeadlineSeconds is only valid for leaf templates`,
          [...path, "activeDeadlineSeconds"],
          scope,
        );
      }
    }
    if (typeof t.timeout === "string" && t.timeout !== "" && !hasVar(t.timeout)) {
      if (/^[-+]?\d+$/.test(t.timeout.trim())) {
        this.report(
          SPEC_CODES["SKF-SPEC-063"],
          `${name} has invalid duration format in timeout.`,
          [...path, "timeout"],
          scope,
        );
      } else this.checkDuration(t.timeout, [...path, "timeout"], scope, false);
    }
    this.checkDuration(t.pendingTimeout, [...path, "pendingTimeout"], scope, false);
    const suspend = dict(t.suspend);
    if (suspend) this.checkDuration(suspend.duration, [...path, "suspend", "duration"], scope, true);
    this.checkRetryStrategy(t.retryStrategy, [...path, "retryStrategy"], scope);
    const memoize = dict(t.memoize);
    if (memoize) {
      const key = memoize.key;
      if (typeof key === "string" && !hasVar(key) && !FIELD_NAME.test(key)) {
        this.report(
          SPEC_CODES["SKF-SPEC-065"],
          `memoize key '${key}' is invalid: it must match ${FIELD_NAME.source}`,
          [...path, "memoize", "key"],
          scope,
        );
      }
      if (typeof key === "string" && key === "")
        this.report(
          SPEC_CODES["SKF-SPEC-065"],
          "memoize.key may not be empty",
          [...path, "memoize", "key"],
          scope,
        );
      const cm = dict(dict(memoize.cache)?.configMap);
      if (dict(memoize.cache) && (!cm || typeof cm.name !== "string" || cm.name === "")) {
        this.report(
          SPEC_CODES["SKF-SPEC-065"],
          "memoize.cache.configMap.name is required",
          [...path, "memoize", "cache"],
          scope,
        );
      }
      this.checkDuration(memoize.maxAge, [...path, "memoize", "maxAge"], scope, false);
    }
    const ads = t.activeDeadlineSeconds;
    if (!nonLeaf && has(ads) && !hasVar(ads)) {
      const n =
        typeof ads === "number"
          ? ads
          : typeof ads === "string" && /^-?\d+$/.test(ads)
            ? Number(ads)
            : Number.NaN;
      if (!Number.isInteger(n) || n < 0) {
        this.report(
          SPEC_CODES["SKF-SPEC-069"],
          `templates.${name}.activeDeadlineSeconds must be a positive integer > 0 or an argo variable`,
          [...path, "activeDeadlineSeconds"],
          scope,
        );
      }
    }
    const metrics = dict(t.metrics);
    arr(metrics?.prometheus).forEach((m, i) => {
      const metric = dict(m) ?? {};
      const mp: Path = [...path, "metrics", "prometheus", i];
      if (typeof metric.name === "string" && !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(metric.name)) {
        this.report(
          SPEC_CODES["SKF-SPEC-021"],
          `templates.${name} metric name '${metric.name}' is invalid. Metric names must contain alphanumeric characters or '_'`,
          [...mp, "name"],
          scope,
        );
      }
      if (typeof metric.help !== "string" || metric.help === "") {
        this.report(
          SPEC_CODES["SKF-SPEC-011"],
          `templates.${name} metric '${String(metric.name)}' must contain a help string under 'help: ' field`,
          mp,
          scope,
        );
      }
    });
  }

  private checkRetryStrategy(value: unknown, path: Path, scope: TemplateScope): void {
    const rs = dict(value);
    if (!rs) return;
    if (typeof rs.retryPolicy === "string" && !RETRY_POLICIES.includes(rs.retryPolicy)) {
      this.report(
        SPEC_CODES["SKF-SPEC-066"],
        `${rs.retryPolicy} is not a valid RetryPolicy`,
        [...path, "retryPolicy"],
        scope,
      );
    }
    const limit = rs.limit;
    if (has(limit) && !hasVar(limit)) {
      const n =
        typeof limit === "number"
          ? limit
          : typeof limit === "string" && /^-?\d+$/.test(limit)
            ? Number(limit)
            : Number.NaN;
      if (!Number.isInteger(n) || n < 0)
        this.report(
          SPEC_CODES["SKF-SPEC-066"],
          `retryStrategy.limit '${String(limit)}' must be a non-negative integer`,
          [...path, "limit"],
          scope,
        );
    }
    const backoff = dict(rs.backoff);
    if (backoff)
      for (const k of ["duration", "maxDuration", "cap"])
        this.checkDuration(backoff[k], [...path, "backoff", k], scope, true);
  }

  /** Go durations (and, where Argo allows it, whole seconds); values with variables are checked at run time. */
  private checkDuration(value: unknown, path: Path, scope: TemplateScope, allowSeconds: boolean): void {
    if (!has(value) || value === "" || hasVar(value)) return;
    if (typeof value === "number") {
      if (!allowSeconds)
        this.report(
          SPEC_CODES["SKF-SPEC-063"],
          `${formatPath(path)}: invalid duration ${value} (use e.g. "${value}s")`,
          path,
          scope,
        );
      return;
    }
    if (typeof value !== "string") return;
    if (!allowSeconds && /^[-+]?\d+$/.test(value.trim())) {
      this.report(
        SPEC_CODES["SKF-SPEC-063"],
        `${formatPath(path)}: invalid duration "${value}" (use e.g. "${value}s")`,
        path,
        scope,
      );
      return;
    }
    try {
      parseDuration(value);
    } catch {
      this.report(
        SPEC_CODES["SKF-SPEC-063"],
        `${formatPath(path)}: invalid duration "${value}"`,
        path,
        scope,
      );
    }
  }

  /** `resolveAllVariables`: tags with a known root must name something in scope. */
  private checkVariables(
    value: unknown,
    vars: Scope,
    path: Path,
    scope: TemplateScope,
    context: string,
  ): void {
    for (const s of collectStrings(value)) {
      for (const tag of findTags(s)) {
        const trimmed = tag.trim();
        if (trimmed.startsWith("=")) continue;
        if (!CHECKED_PREFIXES.some((p) => trimmed.startsWith(p))) continue;
        if (this.resolvable(trimmed, vars)) continue;
        const at = isPlainObject(value) || Array.isArray(value) ? this.fieldOf(value as Dict, s, path) : path;
        this.report(SPEC_CODES["SKF-SPEC-042"], `${context}: failed to resolve {{${tag}}}`, at, scope);
      }
    }
  }

  private resolvable(tag: string, vars: Scope): boolean {
    if (vars.has(tag) || this.globals.has(tag) || this.hasWildcard(tag, vars)) return true;
    if ((tag === "item" || tag.startsWith("item.")) && vars.has("item.*")) return true;
    if (tag.startsWith("workflow.outputs.parameters.") && this.anyGlobalOutputParameter) return true;
    if (tag.startsWith("workflow.outputs.artifacts.") && this.anyGlobalOutputArtifact) return true;
    if (tag.startsWith("outputs.")) return true;
    for (const p of [
      "workflow.creationTimestamp",
      "workflow.scheduledTime",
      "workflow.duration",
      "tasks.name",
      "steps.name",
      "node.name",
    ]) {
      if (tag.startsWith(p)) return true;
    }
    if (tag.startsWith("workflow.parameters") && this.templateValidation) return true;
    return false;
  }

  private addItems(holder: Dict, vars: Scope, path: Path, scope: TemplateScope): void {
    const defined = [
      Array.isArray(holder.withItems) && holder.withItems.length > 0,
      typeof holder.withParam === "string" && holder.withParam !== "",
      has(holder.withSequence),
    ].filter(Boolean).length;
    if (defined > 1) {
      this.report(
        SPEC_CODES["SKF-SPEC-060"],
        "only one of withItems, withParam, withSequence can be specified",
        path,
        scope,
      );
    }
    if (Array.isArray(holder.withItems) && holder.withItems.length > 0) {
      for (const item of holder.withItems) {
        if (Array.isArray(item)) item.forEach((_, i) => vars.add(`item.[${i}]`));
        else if (isPlainObject(item)) for (const k of Object.keys(item)) vars.add(`item.${k}`);
        else vars.add("item");
      }
    } else if (typeof holder.withParam === "string" && holder.withParam !== "") {
      vars.add("item");
      vars.add("item.*");
    } else if (has(holder.withSequence)) {
      const seq = dict(holder.withSequence) ?? {};
      if (has(seq.count) && has(seq.end)) {
        this.report(
          SPEC_CODES["SKF-SPEC-061"],
          "only one of count or end can be defined in withSequence",
          [...path, "withSequence"],
          scope,
        );
      }
      for (const k of ["count", "start", "end"]) {
        const v = seq[k];
        if (
          has(v) &&
          !hasVar(v) &&
          !(typeof v === "number" ? Number.isInteger(v) : /^-?\d+$/.test(String(v)))
        ) {
          this.report(
            SPEC_CODES["SKF-SPEC-061"],
            `withSequence.${k} must be an integer, not '${String(v)}'`,
            [...path, "withSequence", k],
            scope,
          );
        }
      }
      vars.add("item");
    }
  }

  private addOutputs(
    target: Dict | undefined,
    prefix: string,
    vars: Scope,
    aggregate: boolean,
    withStatus: boolean,
  ): void {
    for (const k of ["id", "startedAt", "finishedAt", "hostNodeName"]) vars.add(`${prefix}.${k}`);
    if (withStatus) vars.add(`${prefix}.status`);
    if (!target) {
      // A template reached through an unresolved templateRef: its outputs are unknown, allow any.
      vars.add(`${prefix}.*`);
      return;
    }
    if (target.daemon === true) vars.add(`${prefix}.ip`);
    const cs = dict(target.containerSet);
    const hasOutput =
      has(target.container) ||
      has(target.script) ||
      has(target.data) ||
      has(target.http) ||
      has(target.plugin) ||
      (cs !== undefined && arr(cs.containers).some((c) => dict(c)?.name === "main"));
    if (hasOutput) {
      vars.add(`${prefix}.outputs.result`);
      vars.add(`${prefix}.exitCode`);
    }
    const outputs = dict(target.outputs) ?? {};
    for (const p of arr(outputs.parameters))
      vars.add(`${prefix}.outputs.parameters.${String(dict(p)?.name)}`);
    for (const a of arr(outputs.artifacts)) vars.add(`${prefix}.outputs.artifacts.${String(dict(a)?.name)}`);
    if (aggregate) {
      vars.add(`${prefix}.outputs.parameters`);
      if (has(target.script) || has(target.containerSet)) {
        vars.add(`${prefix}.outputs.result`);
        vars.add(`${prefix}.exitCode`);
      }
    }
  }

  private hasWildcard(tag: string, vars: Scope): boolean {
    const m = /^(steps|tasks)\.([^.]+)\./.exec(tag);
    return m !== null && vars.has(`${m[1]}.${m[2]}.*`);
  }

  private checkSteps(t: Dict, path: Path, scope: TemplateScope, vars: Scope): void {
    const name = String(t.name ?? "");
    const groups = arr(t.steps);
    const seen = new Set<string>();
    const scopeVars: Scope = new Set(vars);
    groups.forEach((g, gi) => {
      const group = Array.isArray(g) ? g : [];
      if (!Array.isArray(g) && isPlainObject(g)) {
        this.report(
          SPEC_CODES["SKF-SPEC-010"],
          `templates.${name}.steps[${gi}] must be a list of steps (use '- - name:')`,
          [...path, "steps", gi],
          scope,
        );
      }
      const groupOutputs: (() => void)[] = [];
      group.forEach((s, si) => {
        const step = dict(s);
        if (!step) return;
        const sp: Path = [...path, "steps", gi, si];
        const sname = str(step.name);
        if (sname === undefined || sname === "") {
          this.report(
            SPEC_CODES["SKF-SPEC-011"],
            `templates.${name}.steps[${gi}].name is required`,
            sp,
            scope,
          );
        } else {
          if (seen.has(sname))
            this.report(
              SPEC_CODES["SKF-SPEC-023"],
              `templates.${name}.steps[${gi}].name '${sname}' is not unique`,
              [...sp, "name"],
              scope,
            );
          if (!FIELD_NAME.test(sname)) {
            this.report(
              SPEC_CODES["SKF-SPEC-021"],
              `templates.${name}.steps[${gi}].name '${sname}' is invalid: name must consist of alpha-numeric characters or '-', and must start with an alpha-numeric character`,
              [...sp, "name"],
              scope,
            );
          }
          if (sname.length > MAX_FIELD_NAME)
            this.report(
              SPEC_CODES["SKF-SPEC-022"],
              `step name '${sname}' must be no more than ${MAX_FIELD_NAME} characters`,
              [...sp, "name"],
              scope,
            );
          seen.add(sname);
        }
        const prefix = `steps.${sname ?? ""}`;
        scopeVars.add(`${prefix}.status`);
        const stepVars: Scope = new Set(scopeVars);
        this.addItems(step, stepVars, sp, scope);
        const args = dict(step.arguments) ?? {};
        this.checkArguments(args, [...sp, "arguments"], false, scope);
        const target = this.checkCall(step, args, sp, scope);
        if (has(step.onExit) || dict(step.hooks)?.exit !== undefined)
          this.addOutputs(target.template, prefix, stepVars, false, true);
        this.checkHooks(step.hooks, [...sp, "hooks"], scope, args);
        if (typeof step.onExit === "string" && step.onExit !== "")
          this.checkCall({ template: step.onExit }, undefined, [...sp, "onExit"], scope);
        const inline = dict(step.inline);
        for (const p of arr(dict(inline?.inputs)?.parameters))
          stepVars.add(`inputs.parameters.${String(dict(p)?.name)}`);
        if (dict(step.hooks)) this.addOutputs(target.template, prefix, stepVars, false, true);
        this.checkInvocationVariables(step, stepVars, sp, scope, `templates.${name}.steps`);
        const aggregate =
          (Array.isArray(step.withItems) && step.withItems.length > 0) ||
          (typeof step.withParam === "string" && step.withParam !== "");
        groupOutputs.push(() => this.addOutputs(target.template, prefix, scopeVars, aggregate, false));
      });
      // Steps see the outputs of earlier groups only: a step's siblings run at the same time.
      for (const add of groupOutputs) add();
    });
    for (const v of scopeVars) vars.add(v);
  }

  /** Variables of a step/task body, leaving the nested inline template to its own check. */
  private checkInvocationVariables(
    holder: Dict,
    vars: Scope,
    path: Path,
    scope: TemplateScope,
    context: string,
  ): void {
    const body: Dict = { ...holder };
    delete body.inline;
    for (const s of collectStrings(body)) {
      for (const tag of findTags(s)) {
        const trimmed = tag.trim();
        if (trimmed.startsWith("=")) continue;
        if (!CHECKED_PREFIXES.some((p) => trimmed.startsWith(p))) continue;
        if (this.resolvable(trimmed, vars) || this.hasWildcard(trimmed, vars)) continue;
        this.report(
          SPEC_CODES["SKF-SPEC-042"],
          `${context}: failed to resolve {{${tag}}}`,
          this.fieldOf(holder, s, path),
          scope,
        );
      }
    }
  }

  /** The path of the field that holds a string inside a step/task, for a precise position. */
  private fieldOf(holder: Dict, text: string, path: Path): Path {
    const search = (value: unknown, at: Path): Path | undefined => {
      if (value === text) return at;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const r = search(value[i], [...at, i]);
          if (r) return r;
        }
      } else if (isPlainObject(value)) {
        for (const [k, v] of Object.entries(value)) {
          if (k === "inline") continue;
          const r = search(v, [...at, k]);
          if (r) return r;
        }
      }
      return undefined;
    };
    return search(holder, path) ?? path;
  }

  private checkDag(t: Dict, path: Path, scope: TemplateScope, vars: Scope): void {
    const name = String(t.name ?? "");
    const dag = dict(t.dag) ?? {};
    const tasks = arr(dag.tasks).map((x) => dict(x) ?? {});
    const tp: Path = [...path, "dag", "tasks"];
    if (tasks.length === 0) {
      // A missing list is a structure problem, reported there.
      if (Array.isArray(dag.tasks)) {
        this.report(
          SPEC_CODES["SKF-SPEC-011"],
          `templates.${name} must have at least one task`,
          [...path, "dag"],
          scope,
        );
      }
      return;
    }
    this.checkNames(tasks, tp, FIELD_NAME, "task", scope);
    const usingDepends = tasks.some((x) => typeof x.depends === "string" && x.depends !== "");
    const byName = new Map<string, { task: Dict; index: number }>();
    tasks.forEach((task, index) => {
      if (typeof task.name === "string" && !byName.has(task.name)) byName.set(task.name, { task, index });
    });
    const deps = new Map<string, string[]>();
    tasks.forEach((task, i) => {
      const tname = String(task.name ?? "");
      const at: Path = [...tp, i];
      const dependencies = arr(task.dependencies).filter((d): d is string => typeof d === "string");
      if ((usingDepends || dependencies.length > 0) && /^[0-9]/.test(tname)) {
        this.report(
          SPEC_CODES["SKF-SPEC-021"],
          `templates.${name}.tasks.${tname} name cannot begin with a digit when using either 'depends' or 'dependencies'`,
          [...at, "name"],
          scope,
        );
      }
      if (usingDepends && dependencies.length > 0) {
        this.report(
          SPEC_CODES["SKF-SPEC-053"],
          `templates.${name} cannot use both 'depends' and 'dependencies' in the same DAG template`,
          [...at, "dependencies"],
          scope,
        );
      }
      if (usingDepends && has(task.continueOn)) {
        this.report(
          SPEC_CODES["SKF-SPEC-054"],
          `templates.${name} cannot use 'continueOn' when using 'depends'. Instead use 'dep-task.Failed'/'dep-task.Errored'`,
          [...at, "continueOn"],
          scope,
        );
      }
      let names: string[] = dependencies;
      if (typeof task.depends === "string" && task.depends !== "") {
        const parsed = parseDepends(task.depends);
        // The expression engine evaluates depends at run time; its syntax verdict is the one that matters.
        const engine = checkExpressionSyntax(task.depends, "depends")[0];
        if (engine) parsed.error = `${engine.message} (column ${engine.column})`;
        else if (parsed.error !== undefined && parsed.references.length > 0) parsed.error = undefined;
        if (parsed.error !== undefined) {
          this.report(
            SPEC_CODES["SKF-SPEC-052"],
            `templates.${name}.tasks.${tname} invalid depends '${task.depends}': ${parsed.error}`,
            [...at, "depends"],
            scope,
          );
        }
        for (const ref of parsed.references) {
          if (
            engine === undefined &&
            ref.result !== undefined &&
            !(TASK_RESULTS as readonly string[]).includes(ref.result)
          ) {
            this.report(
              SPEC_CODES["SKF-SPEC-052"],
              `templates.${name}.tasks.${tname} unknown task result '${ref.result}' in depends (use one of ${TASK_RESULTS.join(", ")})`,
              [...at, "depends"],
              scope,
            );
          }
          if (ref.result === "AnySucceeded" || ref.result === "AllFailed") {
            const dep = byName.get(ref.task)?.task;
            if (dep && !has(dep.withItems) && !has(dep.withParam) && !has(dep.withSequence)) {
              this.report(
                SPEC_CODES["SKF-SPEC-052"],
                `templates.${name}.tasks.${tname} dependency '${ref.task}' uses an items-based condition such as .AnySucceeded or .AllFailed but does not contain any items`,
                [...at, "depends"],
                scope,
              );
            }
          }
        }
        names = [...new Set(parsed.references.map((r) => r.task))];
      }
      for (const d of names) {
        if (!byName.has(d)) {
          this.report(
            SPEC_CODES["SKF-SPEC-051"],
            `templates.${name}.tasks.${tname} dependency '${d}' not defined`,
            [...at, typeof task.depends === "string" ? "depends" : "dependencies"],
            scope,
          );
        }
      }
      deps.set(
        tname,
        names.filter((d) => byName.has(d)),
      );
    });

    const cycle = findCycle([...byName.keys()], deps);
    if (cycle) {
      const first = byName.get(cycle[0] ?? "");
      this.report(
        SPEC_CODES["SKF-SPEC-050"],
        `templates.${name}.tasks dependency cycle detected: ${cycle.join("->")}`,
        first ? [...tp, first.index] : tp,
        scope,
      );
    }
    const ancestors = (task: string): Set<string> => {
      const out = new Set<string>();
      const stack = [...(deps.get(task) ?? [])];
      while (stack.length > 0) {
        const d = stack.pop() ?? "";
        if (out.has(d)) continue;
        out.add(d);
        stack.push(...(deps.get(d) ?? []));
      }
      return out;
    };

    // Resolve every task's template first: outputs of all tasks are visible to the DAG's own outputs.
    const targets = new Map<string, Dict | undefined>();
    const loops = new Map<string, boolean>();
    tasks.forEach((task, i) => {
      const tname = String(task.name ?? "");
      const at: Path = [...tp, i];
      const args = dict(task.arguments) ?? {};
      this.checkArguments(args, [...at, "arguments"], false, scope);
      const target = this.checkCall(task, args, at, scope);
      targets.set(tname, target.template);
      loops.set(
        tname,
        (Array.isArray(task.withItems) && task.withItems.length > 0) ||
          (typeof task.withParam === "string" && task.withParam !== ""),
      );
      this.checkHooks(task.hooks, [...at, "hooks"], scope, args);
      if (typeof task.onExit === "string" && task.onExit !== "")
        this.checkCall({ template: task.onExit }, undefined, [...at, "onExit"], scope);
    });
    const allVars: Scope = new Set(vars);
    for (const [tname, target] of targets)
      this.addOutputs(target, `tasks.${tname}`, allVars, loops.get(tname) ?? false, false);

    if (typeof dag.target === "string" && dag.target !== "") {
      this.checkVariables(dag.target, vars, [...path, "dag", "target"], scope, `templates.${name}.targets`);
      for (const target of dag.target.split(" ")) {
        if (target === "" || IS_PARAMETER.test(target)) continue;
        if (!byName.has(target))
          this.report(
            SPEC_CODES["SKF-SPEC-055"],
            `templates.${name}.targets: target '${target}' is not defined`,
            [...path, "dag", "target"],
            scope,
          );
      }
    }

    tasks.forEach((task, i) => {
      const tname = String(task.name ?? "");
      const at: Path = [...tp, i];
      const taskVars: Scope = new Set(vars);
      const anc = ancestors(tname);
      for (const a of anc)
        this.addOutputs(targets.get(a), `tasks.${a}`, taskVars, loops.get(a) ?? false, true);
      if (has(task.hooks) || has(task.onExit))
        this.addOutputs(targets.get(tname), `tasks.${tname}`, taskVars, false, true);
      for (const p of arr(dict(dict(task.inline)?.inputs)?.parameters))
        taskVars.add(`inputs.parameters.${String(dict(p)?.name)}`);
      this.addItems(task, taskVars, at, scope);
      this.checkInvocationVariables(task, taskVars, at, scope, `templates.${name}.tasks.${tname}`);
      const args = dict(task.arguments) ?? {};
      arr(args.parameters).forEach((p, pi) => {
        const v = dict(p)?.value;
        if (typeof v === "string" && v.startsWith("{{tasks.")) {
          const ref = v.split(".")[1] ?? "";
          if (!anc.has(ref)) {
            this.report(
              SPEC_CODES["SKF-SPEC-051"],
              `templates.${name}.tasks.${tname} missing dependency '${ref}' for parameter '${String(dict(p)?.name)}'`,
              [...at, "arguments", "parameters", pi, "value"],
              scope,
            );
          }
        }
      });
      arr(args.artifacts).forEach((a, ai) => {
        const from = dict(a)?.from;
        if (typeof from === "string" && from.startsWith("{{tasks.")) {
          const ref = from.split(".")[1] ?? "";
          if (!anc.has(ref)) {
            this.report(
              SPEC_CODES["SKF-SPEC-051"],
              `templates.${name}.tasks.${tname} missing dependency '${ref}' for artifact '${String(dict(a)?.name)}'`,
              [...at, "arguments", "artifacts", ai, "from"],
              scope,
            );
          }
        }
      });
    });
    for (const v of allVars) vars.add(v);
  }

  private checkLeaf(
    t: Dict,
    path: Path,
    scope: TemplateScope,
    vars: Scope,
    type: TemplateType | undefined,
  ): void {
    const name = String(t.name ?? "");
    const body: Dict = { ...t };
    delete body.outputs;
    this.checkVariables(body, vars, path, scope, `templates.${name}`);
    const defaults = dict(this.compiled.workflow.spec.templateDefaults);
    const container = dict(t.container);
    if (type === "container" && container) {
      const mounts = new Map<string, string>();
      arr(container.volumeMounts).forEach((m, i) => {
        const mount = dict(m);
        const mp = str(mount?.mountPath);
        if (mp === undefined) return;
        const prev = mounts.get(mp);
        if (prev !== undefined) {
          this.report(
            SPEC_CODES["SKF-SPEC-069"],
            `templates.${name}.container.volumeMounts[${i}].mountPath '${mp}' already mounted in ${prev}`,
            [...path, "container", "volumeMounts", i, "mountPath"],
            scope,
          );
        }
        mounts.set(mp, `container.volumeMounts.${String(mount?.name)}`);
      });
      arr(dict(t.inputs)?.artifacts).forEach((a, i) => {
        const art = dict(a);
        const ap = str(art?.path);
        if (ap === undefined) return;
        const prev = mounts.get(ap);
        if (prev !== undefined) {
          this.report(
            SPEC_CODES["SKF-SPEC-069"],
            `templates.${name}.inputs.artifacts[${i}].path '${ap}' already mounted in ${prev}`,
            [...path, "inputs", "artifacts", i, "path"],
            scope,
          );
        }
        mounts.set(ap, `inputs.artifacts.${String(art?.name)}`);
      });
      if (
        (typeof container.image !== "string" || container.image === "") &&
        !str(dict(defaults?.container)?.image)
      ) {
        this.report(
          SPEC_CODES["SKF-SPEC-011"],
          `templates.${name}.container.image may not be empty`,
          [...path, "container"],
          scope,
        );
      }
    }
    const script = dict(t.script);
    if (
      type === "script" &&
      script &&
      (typeof script.image !== "string" || script.image === "") &&
      !str(dict(defaults?.script)?.image)
    ) {
      this.report(
        SPEC_CODES["SKF-SPEC-011"],
        `templates.${name}.script.image may not be empty`,
        [...path, "script"],
        scope,
      );
    }
    const cs = dict(t.containerSet);
    if (type === "containerSet" && cs) {
      const containers = arr(cs.containers).map((c) => dict(c) ?? {});
      const names = new Set<string>();
      containers.forEach((c, i) => {
        const cn = str(c.name) ?? "";
        if (names.has(cn))
          this.report(
            SPEC_CODES["SKF-SPEC-023"],
            `templates.${name}.containerSet.containers[${i}].name '${cn}' is not unique`,
            [...path, "containerSet", "containers", i, "name"],
            scope,
          );
        names.add(cn);
      });
      containers.forEach((c, i) => {
        arr(c.dependencies).forEach((d, di) => {
          if (typeof d === "string" && !names.has(d)) {
            this.report(
              SPEC_CODES["SKF-SPEC-051"],
              `templates.${name}.containerSet.containers[${i}] dependency '${d}' not defined`,
              [...path, "containerSet", "containers", i, "dependencies", di],
              scope,
            );
          }
        });
      });
      const cdeps = new Map(
        containers.map((c) => [
          str(c.name) ?? "",
          arr(c.dependencies).filter((d): d is string => typeof d === "string" && names.has(d)),
        ]),
      );
      const cyc = findCycle([...cdeps.keys()], cdeps);
      if (cyc)
        this.report(
          SPEC_CODES["SKF-SPEC-050"],
          `templates.${name}.containerSet dependency cycle detected: ${cyc.join("->")}`,
          [...path, "containerSet"],
          scope,
        );
      const outs = dict(t.outputs) ?? {};
      if (
        (arr(dict(t.inputs)?.artifacts).length > 0 ||
          arr(outs.parameters).length > 0 ||
          arr(outs.artifacts).length > 0) &&
        !names.has("main")
      ) {
        this.report(
          SPEC_CODES["SKF-SPEC-069"],
          `templates.${name}.containerSet.containers must have a container named "main" for input or output`,
          [...path, "containerSet"],
          scope,
        );
      }
    }
    const resource = dict(t.resource);
    if (type === "resource" && resource) {
      const action = resource.action;
      if (typeof action === "string" && !hasVar(action) && !RESOURCE_ACTIONS.includes(action)) {
        this.report(
          SPEC_CODES["SKF-SPEC-013"],
          `templates.${name}.resource.action must be one of: get, create, apply, delete, replace, patch`,
          [...path, "resource", "action"],
          scope,
        );
      }
      if (action !== "delete" && action !== "get") {
        const manifest = resource.manifest;
        const from = dict(resource.manifestFrom);
        if ((typeof manifest !== "string" || manifest === "") && !from) {
          this.report(
            SPEC_CODES["SKF-SPEC-011"],
            `either templates.${name}.resource.manifest or templates.${name}.resource.manifestFrom must be specified`,
            [...path, "resource"],
            scope,
          );
        }
        if (typeof manifest === "string" && manifest !== "" && from) {
          this.report(
            SPEC_CODES["SKF-SPEC-069"],
            "shouldn't have both `manifest` and `manifestFrom` specified in `Manifest` for resource template",
            [...path, "resource", "manifestFrom"],
            scope,
          );
        }
        const artName = str(dict(from?.artifact)?.name);
        if (artName !== undefined && !arr(dict(t.inputs)?.artifacts).some((a) => dict(a)?.name === artName)) {
          this.report(
            SPEC_CODES["SKF-SPEC-044"],
            `artifact ${artName} in \`manifestFrom\` refer to a non-exist artifact`,
            [...path, "resource", "manifestFrom"],
            scope,
          );
        }
        if (typeof manifest === "string" && manifest !== "") {
          // Argo checks the manifest after substituting variables, so tags become plain values first.
          const replaced = manifest.replace(/{{[^}]*}}/g, "placeholder");
          try {
            parseAllDocuments(replaced, { uniqueKeys: false, logLevel: "silent" }).forEach((d) => {
              if (d.errors.length > 0) throw d.errors[0];
            });
          } catch {
            this.report(
              SPEC_CODES["SKF-SPEC-069"],
              `templates.${name}.resource.manifest must be a valid yaml`,
              [...path, "resource", "manifest"],
              scope,
            );
          }
        }
      }
    }
    const http = dict(t.http);
    if (type === "http" && http && typeof http.method === "string" && !hasVar(http.method)) {
      if (
        !["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE"].includes(
          http.method.toUpperCase(),
        )
      ) {
        this.report(
          SPEC_CODES["SKF-SPEC-013"],
          `templates.${name}.http.method '${http.method}' is not an HTTP method`,
          [...path, "http", "method"],
          scope,
        );
      }
    }
    if (type === "data") {
      const data = dict(t.data) ?? {};
      if (!dict(dict(data.source)?.artifactPaths)) {
        this.report(
          SPEC_CODES["SKF-SPEC-011"],
          `templates.${name}.data.source.artifactPaths is required`,
          [...path, "data", "source"],
          scope,
        );
      }
    }
    for (const [field, list] of [
      ["initContainers", t.initContainers],
      ["sidecars", t.sidecars],
    ] as const) {
      arr(list).forEach((c, i) => {
        if (typeof dict(c)?.name !== "string" || dict(c)?.name === "") {
          this.report(
            SPEC_CODES["SKF-SPEC-011"],
            `${field} must all have container name`,
            [...path, field, i],
            scope,
          );
        }
      });
    }
    const archive = dict(t.archiveLocation);
    if (archive) this.checkArtifactLocation(archive, [...path, "archiveLocation"], scope);
  }

  private checkOutputs(
    t: Dict,
    path: Path,
    scope: TemplateScope,
    vars: Scope,
    type: TemplateType | undefined,
  ): void {
    const name = String(t.name ?? "");
    const outputs = dict(t.outputs);
    if (!outputs) return;
    const op: Path = [...path, "outputs"];
    const params = arr(outputs.parameters);
    const artifacts = arr(outputs.artifacts);
    this.checkNames(params, [...op, "parameters"], PARAM_NAME, "output parameter", scope);
    this.checkNames(artifacts, [...op, "artifacts"], PARAM_NAME, "output artifact", scope);
    this.checkVariables(outputs, vars, op, scope, `templates.${name}.outputs`);
    const leaf = type === undefined || LEAF_TYPES.includes(type);
    artifacts.forEach((a, i) => {
      const art = dict(a) ?? {};
      const an = String(art.name ?? i);
      if (!leaf && has(art.path)) {
        this.report(
          SPEC_CODES["SKF-SPEC-044"],
          `templates.${name}.outputs.artifacts.${an}.path only valid in container/script templates`,
          [...op, "artifacts", i, "path"],
          scope,
        );
      }
      const gn = art.globalName;
      if (typeof gn === "string" && gn !== "" && !IS_PARAMETER.test(gn) && !PARAM_NAME.test(gn)) {
        this.report(
          SPEC_CODES["SKF-SPEC-021"],
          `templates.${name}.outputs.artifacts.${an}.globalName: Parameter/Artifact name must consist of alpha-numeric characters, '_' or '-'`,
          [...op, "artifacts", i, "globalName"],
          scope,
        );
      }
    });
    params.forEach((p, i) => {
      const param = dict(p) ?? {};
      const pn = String(param.name ?? i);
      const ref = `templates.${name}.outputs.parameters.${pn}`;
      const at: Path = [...op, "parameters", i];
      const vf = dict(param.valueFrom);
      if (vf && has(param.value)) {
        this.report(
          SPEC_CODES["SKF-SPEC-043"],
          `${ref} has both valueFrom and value specified. Choose one.`,
          at,
          scope,
        );
        return;
      }
      if (has(param.value)) return;
      if (!vf) {
        this.report(
          SPEC_CODES["SKF-SPEC-043"],
          `${ref} does not have valueFrom or value specified`,
          at,
          scope,
        );
        return;
      }
      const kinds = ["path", "jqFilter", "jsonPath", "parameter", "expression"].filter(
        (k) => typeof vf[k] === "string" && vf[k] !== "",
      );
      const count = kinds.length + (has(vf.supplied) ? 1 : 0);
      if (count === 0 && !has(vf.configMapKeyRef) && !has(vf.event)) {
        this.report(
          SPEC_CODES["SKF-SPEC-043"],
          `${ref}: valueFrom type unspecified. choose one of: path, jqFilter, jsonPath, parameter, raw, expression`,
          [...at, "valueFrom"],
          scope,
        );
      } else if (count > 1) {
        this.report(
          SPEC_CODES["SKF-SPEC-043"],
          `${ref}: multiple valueFrom types specified. choose one of: path, jqFilter, jsonPath, parameter, raw`,
          [...at, "valueFrom"],
          scope,
        );
      }
      if (type === "container" || type === "containerSet" || type === "script") {
        if (typeof vf.path !== "string" || vf.path === "") {
          this.report(
            SPEC_CODES["SKF-SPEC-043"],
            `${ref}.path must be specified for ${type} templates`,
            [...at, "valueFrom"],
            scope,
          );
        }
      } else if (type === "resource") {
        if (!has(vf.jqFilter) && !has(vf.jsonPath)) {
          this.report(
            SPEC_CODES["SKF-SPEC-043"],
            `${ref} .jqFilter or jsonPath must be specified for resource templates`,
            [...at, "valueFrom"],
            scope,
          );
        }
      } else if (type === "dag" || type === "steps") {
        if (!has(vf.parameter) && !has(vf.expression)) {
          this.report(
            SPEC_CODES["SKF-SPEC-043"],
            `${ref}.parameter or expression must be specified for ${type} templates`,
            [...at, "valueFrom"],
            scope,
          );
        }
      }
      const gn = param.globalName;
      if (typeof gn === "string" && gn !== "" && !IS_PARAMETER.test(gn) && !PARAM_NAME.test(gn)) {
        this.report(
          SPEC_CODES["SKF-SPEC-021"],
          `${ref}.globalName: Parameter/Artifact name must consist of alpha-numeric characters, '_' or '-'`,
          [...at, "globalName"],
          scope,
        );
      }
    });
  }
}

function hasLocation(a: Dict): boolean {
  return ["s3", "gcs", "azure", "http", "git", "raw", "artifactory", "oss", "hdfs", "plugin", "local"].some(
    (k) => has(a[k]),
  );
}

/** A dependency cycle as `a->b->a`, or undefined. */
function findCycle(nodes: string[], deps: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    const s = state.get(n);
    if (s === 2) return undefined;
    if (s === 1) return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 1);
    stack.push(n);
    for (const d of deps.get(n) ?? []) {
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 2);
    return undefined;
  };
  for (const n of nodes) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}

/** Standard 5-field cron expressions and robfig/cron descriptors (`@daily`, `@every 1h`). */
function isCronSchedule(s: string): boolean {
  const text = s.trim().replace(/^(CRON_TZ|TZ)=\S+\s+/, "");
  if (text.startsWith("@")) {
    if (["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"].includes(text))
      return true;
    const m = /^@every\s+(\S+)$/.exec(text);
    if (!m) return false;
    try {
      parseDuration(m[1] ?? "");
      return true;
    } catch {
      return false;
    }
  }
  const fields = text.split(/\s+/);
  return fields.length === 5 && fields.every((f) => /^[0-9A-Za-z*/,?-]+$/.test(f));
}

/**
 * Only the shape checks (field types, required fields, unknown fields, enums) of one manifest: what Argo's
 * JSON Schema and strict decoding reject.
 */
export function validateStructure(source: LoadedManifest): SkiffError[] {
  const problems: SkiffError[] = [];
  checkStructure(source.object as unknown as Dict, (code, message, path) => {
    const position =
      source.positions.get(path) ?? source.positions.get(path.slice(0, -1)) ?? source.positions.get([]);
    problems.push(
      new SkiffError(code, message, { position: position ?? { file: source.file }, path: formatPath(path) }),
    );
  });
  return problems;
}

/** Argo's workflow validation rules over a prepared workflow; every problem, never throws. */
export function checkWorkflow(prepared: PreparedWorkflow, options: CheckOptions): SkiffError[] {
  const checker = new Checker(prepared, options);
  checker.run();
  return checker.problems;
}
