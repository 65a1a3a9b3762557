/**
 * Argo's workflow validation (`workflow/validate/validate.go`), reporting every problem instead of the first.
 * The walk over the workflow lives here: the entrypoint, `onExit`, hooks and every template, and the calls
 * from steps, tasks and hooks into templates. What each kind of field must look like is in the files beside
 * this one, one per concern.
 */
import { SkiffError } from "../../errors/index.js";
import { SPEC_CODES } from "../codes.js";
import { SPEC_LIMITS } from "../limits.js";
import type { PreparedWorkflow } from "../compile.js";
import type { TemplateScope } from "../compiled.js";
import type { LoadedManifest } from "../load.js";
import { isPlainObject } from "../merge.js";
import { formatPath } from "../positions.js";
import { checkStructure } from "../structure.js";
import type { TemplateType } from "../types.js";
import {
  checkArguments,
  checkInputs,
  checkNames,
  checkSuppliedArguments,
  collectGlobals,
} from "./arguments.js";
import {
  arr,
  dict,
  FIELD_NAME,
  has,
  hasVar,
  LEAF_TYPES,
  RuleContext,
  str,
  typesOf,
  type CallTarget,
  type CheckOptions,
  type Dict,
  type Path,
  type Scope,
} from "./context.js";
import { checkDag } from "./dag.js";
import { checkExpressions } from "./expressions.js";
import { checkLeaf } from "./leaf.js";
import { checkObjectNames } from "./object.js";
import { checkOutputs } from "./outputs.js";
import { checkSteps } from "./steps.js";
import { checkDuration, checkRetryStrategy, checkTemplateOnlyFields } from "./template-fields.js";

export type { CheckOptions } from "./context.js";

const POD_TYPES: readonly TemplateType[] = ["container", "script", "containerSet", "resource", "data"];
const POD_GC = ["", "OnPodCompletion", "OnPodSuccess", "OnWorkflowCompletion", "OnWorkflowSuccess"];

/**
 * Paths are relative to the object root of the scope a template lives in, so each problem points at the file
 * and line of the offending field, including for templates from other files.
 */
class WorkflowChecker extends RuleContext {
  /** Templates being checked, caller first: the checker follows calls depth first, as Argo's does. */
  private callDepth = 0;

  run(): void {
    const source = this.prepared.source;
    const raw = source.object as unknown as Dict;
    this.problems.push(...validateStructure(source));
    checkObjectNames(this, raw);

    checkExpressions(this, raw);

    const wf = this.compiled.workflow;
    const spec = wf.spec as unknown as Dict;
    const root = this.compiled.rootScope;

    // Template names of every scope's spec.templates.
    checkNames(this, arr(spec.templates), ["spec", "templates"], FIELD_NAME, "template", root);
    for (const scope of this.prepared.templateScopes()) {
      checkNames(
        this,
        this.prepared.templatesOf(scope) as unknown[],
        ["spec", "templates"],
        FIELD_NAME,
        "template",
        scope,
      );
    }

    const args = dict(spec.arguments) ?? {};
    const allowEmpty = !this.options.submit || this.templateValidation;
    checkArguments(this, args, ["spec", "arguments"], allowEmpty, root);
    collectGlobals(this, wf.metadata as Dict, spec, args);

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
      checkDuration(this, podGC.deleteDelayDuration, ["spec", "podGC", "deleteDelayDuration"], root, false);
    checkRetryStrategy(this, spec.retryStrategy, ["spec", "retryStrategy"], root);
    if (spec.templateDefaults !== undefined)
      checkTemplateOnlyFields(
        this,
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

  checkHooks(hooks: unknown, path: Path, scope: TemplateScope, args: Dict | undefined): void {
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

  checkCall(holder: Dict, args: Dict | undefined, path: Path, scope: TemplateScope): CallTarget {
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
      this.report(err.code ?? SPEC_CODES["SKF-SPEC-031"], message, field(path, holder), scope);
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
      const idx = indexOfTemplate(raw, resolved.template.name ?? "");
      t = (raw[idx] as unknown as Dict | undefined) ?? (resolved.template as unknown as Dict);
      tPath = ["spec", "templates", idx];
    }
    if (this.callDepth >= SPEC_LIMITS.maxTemplateDepth) {
      this.report(
        SPEC_CODES["SKF-SPEC-083"],
        `template calls nest more than ${SPEC_LIMITS.maxTemplateDepth} levels deep`,
        field(path, holder),
        scope,
      );
      return {};
    }
    this.callDepth++;
    try {
      this.checkTemplate(t, tPath, resolved.scope, args, path, scope);
    } finally {
      this.callDepth--;
    }
    return { template: t, scope: resolved.scope, path: tPath };
  }

  /** `validateTemplate` plus the argument check of `ProcessArgs`. */
  checkTemplate(
    t: Dict,
    path: Path,
    scope: TemplateScope,
    args: Dict | undefined,
    callPath?: Path,
    callScope?: TemplateScope,
  ): void {
    const name = str(t.name) ?? "";
    if (args !== undefined) checkSuppliedArguments(this, t, args, callPath ?? path, callScope ?? scope);
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
    checkInputs(this, t, path, scope, leaf, vars);
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
    checkTemplateOnlyFields(this, t, path, scope, false, type);

    if (type === "steps") checkSteps(this, t, path, scope, vars);
    else if (type === "dag") checkDag(this, t, path, scope, vars);
    else checkLeaf(this, t, path, scope, vars, type);
    checkOutputs(this, t, path, scope, vars, type);
  }
}

const templateIndexes = new WeakMap<readonly { name?: unknown }[], Map<unknown, number>>();

/** The index of the first template of that name, looked up in a table built once per list of templates. */
function indexOfTemplate(templates: readonly { name?: unknown }[], name: string): number {
  let index = templateIndexes.get(templates);
  if (!index) {
    index = new Map();
    for (const [i, t] of templates.entries()) if (!index.has(t.name)) index.set(t.name, i);
    templateIndexes.set(templates, index);
  }
  return index.get(name) ?? -1;
}

/** Where a call names its template: `templateRef`, `template` or the call itself. */
function field(path: Path, holder: Dict): Path {
  if (dict(holder.templateRef)) return [...path, "templateRef"];
  return typeof holder.template === "string" ? [...path, "template"] : path;
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
  const checker = new WorkflowChecker(prepared, options);
  checker.run();
  return checker.problems;
}
