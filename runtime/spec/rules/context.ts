import { SkiffError } from "../../errors/index.js";
import type { PreparedWorkflow } from "../compile.js";
import type { CompiledWorkflow, TemplateScope } from "../compiled.js";
import type { ExpressionSyntaxCheck } from "../expressions.js";
import { isPlainObject } from "../merge.js";
import { formatPath } from "../positions.js";
import { TEMPLATE_TYPES, type TemplateType } from "../types.js";

export interface CheckOptions {
  /** Checking for a run (compile) rather than lint: the entrypoint and argument values are required. */
  submit: boolean;
  /** Syntax of `when`, `depends` and expr-lang expressions; without it they are not checked. */
  checkExpressionSyntax?: ExpressionSyntaxCheck;
}

export type Path = (string | number)[];
export type Dict = Record<string, unknown>;

/** Variables that can be referenced, and patterns that stand for families of them. */
export type Scope = Set<string>;

/**
 * A scope that sees everything its parent holds, now and later, plus its own additions. Cheaper than a copy
 * where each of many siblings (the steps of a template) needs the variables of all earlier ones: copying
 * would be quadratic in the number of steps. Iterating it yields only its own additions.
 */
export class LayeredScope extends Set<string> {
  constructor(private readonly parent: Scope) {
    super();
  }

  override has(tag: string): boolean {
    return super.has(tag) || this.parent.has(tag);
  }
}

/** What a step, task or hook calls: the template as written, its scope and its path there. */
export interface CallTarget {
  template?: Dict;
  scope?: TemplateScope;
  path?: Path;
}

export const FIELD_NAME = /^[a-zA-Z0-9][-a-zA-Z0-9]*$/;
export const PARAM_NAME = /^[-a-zA-Z0-9_]+$/;
export const IS_PARAMETER = /{{[-a-zA-Z0-9]+(\.[-a-zA-Z0-9_]+)*}}/;
/** Templates that run something themselves, as opposed to steps and DAGs that call other templates. */
export const LEAF_TYPES: readonly TemplateType[] = TEMPLATE_TYPES.filter((t) => t !== "steps" && t !== "dag");
export const MAX_FIELD_NAME = 128;

export const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const dict = (v: unknown): Dict | undefined => (isPlainObject(v) ? v : undefined);
export const has = (v: unknown): boolean => v !== undefined && v !== null;
export const hasVar = (v: unknown): boolean => typeof v === "string" && v.includes("{{");

export function typesOf(t: Dict): TemplateType[] {
  return TEMPLATE_TYPES.filter((k) => has(t[k]));
}

/**
 * The state every rule shares while one workflow is checked: the problems found so far, the workflow and
 * the variables known globally. The rule files are functions over it; calling a template (which recurses
 * through steps and DAGs) is left to the checker that owns the walk, so the rule files never import it.
 */
export abstract class RuleContext {
  readonly problems: SkiffError[] = [];
  readonly compiled: CompiledWorkflow;
  readonly globals = new Set<string>();
  readonly validated = new Set<string>();
  readonly templateValidation: boolean;
  anyGlobalOutputParameter = false;
  anyGlobalOutputArtifact = false;
  private readonly reportedAt = new Set<string>();

  constructor(
    readonly prepared: PreparedWorkflow,
    readonly options: CheckOptions,
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

  /**
   * Resolves what a step/task/hook names and checks the template with the given arguments (undefined: any
   * argument is supplied, as Argo's FakeArguments).
   */
  abstract checkCall(holder: Dict, args: Dict | undefined, path: Path, scope: TemplateScope): CallTarget;

  /** Lifecycle hooks (and the `exit` hook): an expression each, and the template they call. */
  abstract checkHooks(hooks: unknown, path: Path, scope: TemplateScope, args: Dict | undefined): void;
}

/** A dependency cycle as `a->b->a`, or undefined. */
export function findCycle(nodes: string[], deps: Map<string, string[]>): string[] | undefined {
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
