/**
 * `dag` templates: task names, `depends`/`dependencies`, cycles, `target`, and the variables each task
 * sees.
 */
import { SPEC_CODES } from "../codes.js";
import type { TemplateScope } from "../compiled.js";
import { parseDepends, TASK_RESULTS } from "../depends.js";
import { checkArguments, checkNames } from "./arguments.js";
import {
  arr,
  dict,
  FIELD_NAME,
  has,
  IS_PARAMETER,
  findCycle,
  type RuleContext,
  type Dict,
  type Path,
  type Scope,
} from "./context.js";
import { addItems, addOutputs, checkInvocationVariables, checkVariables } from "./variables.js";

export function checkDag(ctx: RuleContext, t: Dict, path: Path, scope: TemplateScope, vars: Scope): void {
  const name = String(t.name ?? "");
  const dag = dict(t.dag) ?? {};
  const tasks = arr(dag.tasks).map((x) => dict(x) ?? {});
  const tp: Path = [...path, "dag", "tasks"];
  if (tasks.length === 0) {
    // A missing list is a structure problem, reported there.
    if (Array.isArray(dag.tasks)) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-011"],
        `templates.${name} must have at least one task`,
        [...path, "dag"],
        scope,
      );
    }
    return;
  }
  checkNames(ctx, tasks, tp, FIELD_NAME, "task", scope);
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
      ctx.report(
        SPEC_CODES["SKF-SPEC-021"],
        `templates.${name}.tasks.${tname} name cannot begin with a digit when using either 'depends' or 'dependencies'`,
        [...at, "name"],
        scope,
      );
    }
    if (usingDepends && dependencies.length > 0) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-053"],
        `templates.${name} cannot use both 'depends' and 'dependencies' in the same DAG template`,
        [...at, "dependencies"],
        scope,
      );
    }
    if (usingDepends && has(task.continueOn)) {
      ctx.report(
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
      const engine = ctx.options.checkExpressionSyntax?.(task.depends, "depends")[0];
      if (engine) parsed.error = `${engine.message} (column ${engine.column})`;
      else if (parsed.error !== undefined && parsed.references.length > 0) parsed.error = undefined;
      if (parsed.error !== undefined) {
        ctx.report(
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
          ctx.report(
            SPEC_CODES["SKF-SPEC-052"],
            `templates.${name}.tasks.${tname} unknown task result '${ref.result}' in depends (use one of ${TASK_RESULTS.join(", ")})`,
            [...at, "depends"],
            scope,
          );
        }
        if (ref.result === "AnySucceeded" || ref.result === "AllFailed") {
          const dep = byName.get(ref.task)?.task;
          if (dep && !has(dep.withItems) && !has(dep.withParam) && !has(dep.withSequence)) {
            ctx.report(
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
        ctx.report(
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
    ctx.report(
      SPEC_CODES["SKF-SPEC-050"],
      `templates.${name}.tasks dependency cycle detected: ${cycle.join("->")}`,
      first ? [...tp, first.index] : tp,
      scope,
    );
  }
  // Whether `ancestor` runs before `task`, searched when a reference asks: listing every task's ancestors up
  // front is quadratic in a long chain of tasks.
  const isAncestor = (ancestor: string, task: string): boolean => {
    const seen = new Set<string>();
    const stack = [...(deps.get(task) ?? [])];
    while (stack.length > 0) {
      const d = stack.pop() ?? "";
      if (d === ancestor) return true;
      if (seen.has(d)) continue;
      seen.add(d);
      stack.push(...(deps.get(d) ?? []));
    }
    return false;
  };

  // Resolve every task's template first: outputs of all tasks are visible to the DAG's own outputs.
  const targets = new Map<string, Dict | undefined>();
  const loops = new Map<string, boolean>();
  tasks.forEach((task, i) => {
    const tname = String(task.name ?? "");
    const at: Path = [...tp, i];
    const args = dict(task.arguments) ?? {};
    checkArguments(ctx, args, [...at, "arguments"], false, scope);
    const target = ctx.checkCall(task, args, at, scope);
    targets.set(tname, target.template);
    loops.set(
      tname,
      (Array.isArray(task.withItems) && task.withItems.length > 0) ||
        (typeof task.withParam === "string" && task.withParam !== ""),
    );
    ctx.checkHooks(task.hooks, [...at, "hooks"], scope, args);
    if (typeof task.onExit === "string" && task.onExit !== "")
      ctx.checkCall({ template: task.onExit }, undefined, [...at, "onExit"], scope);
  });
  // What a task's dependents may reference of it.
  const outputs = new Map<string, Scope>();
  const outputsOf = (task: string): Scope => {
    let out = outputs.get(task);
    if (!out) {
      out = new Set();
      addOutputs(ctx, targets.get(task), `tasks.${task}`, out, loops.get(task) ?? false, true);
      outputs.set(task, out);
    }
    return out;
  };
  const allVars: Scope = new Set(vars);
  for (const [tname, target] of targets)
    addOutputs(ctx, target, `tasks.${tname}`, allVars, loops.get(tname) ?? false, false);

  if (typeof dag.target === "string" && dag.target !== "") {
    checkVariables(ctx, dag.target, vars, [...path, "dag", "target"], scope, `templates.${name}.targets`);
    for (const target of dag.target.split(" ")) {
      if (target === "" || IS_PARAMETER.test(target)) continue;
      if (!byName.has(target))
        ctx.report(
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
    const taskVars: Scope = new TaskScope(vars, (tag) => {
      const ref = /^tasks\.([^.]+)\./.exec(tag)?.[1];
      return ref !== undefined && isAncestor(ref, tname) && outputsOf(ref).has(tag);
    });
    if (has(task.hooks) || has(task.onExit))
      addOutputs(ctx, targets.get(tname), `tasks.${tname}`, taskVars, false, true);
    for (const p of arr(dict(dict(task.inline)?.inputs)?.parameters))
      taskVars.add(`inputs.parameters.${String(dict(p)?.name)}`);
    addItems(ctx, task, taskVars, at, scope);
    checkInvocationVariables(ctx, task, taskVars, at, scope, `templates.${name}.tasks.${tname}`);
    const args = dict(task.arguments) ?? {};
    arr(args.parameters).forEach((p, pi) => {
      const v = dict(p)?.value;
      if (typeof v === "string" && v.startsWith("{{tasks.")) {
        const ref = v.split(".")[1] ?? "";
        if (!isAncestor(ref, tname)) {
          ctx.report(
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
        if (!isAncestor(ref, tname)) {
          ctx.report(
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

/** A task's variables: the template's, its own, and what `visible` finds of the tasks it depends on. */
class TaskScope extends Set<string> {
  constructor(
    private readonly parent: Scope,
    private readonly visible: (tag: string) => boolean,
  ) {
    super();
  }

  override has(tag: string): boolean {
    return super.has(tag) || this.parent.has(tag) || this.visible(tag);
  }
}
