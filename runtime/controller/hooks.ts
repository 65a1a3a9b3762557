import { evaluateExpression, substitute, substituteObject } from "../expr/index.js";
import { podName as podNameOf } from "../spec/index.js";
import type {
  Arguments,
  Artifact,
  InvocationBase,
  LifecycleHook,
  NodeStatus,
  WorkflowPhase,
} from "../spec/types.js";
import { ARTIFACT_REF, type Invocation, messageOf, type OperatorContext } from "./context.js";
import { isCompleted, isFailedOrError, isFulfilled } from "./graph.js";
import { LayeredVars, SiblingScope } from "./vars.js";

/*
 * Lifecycle hooks and exit handlers: step/task hooks (watched on phase changes), workflow-level hooks
 * (evaluated after each batch of transitions and on a timer), and `onExit` / `hooks.exit`.
 */

/**
 * How often hook expressions are evaluated again while nothing changes. Argo evaluates them on every
 * reconcile and requeues a running workflow every 10 s, so an expression that turns true with time
 * (`workflow.duration`, a step Running for a while) fires within that period.
 */
export const HOOK_REEVALUATION_MS = 10_000;

/**
 * After a step/task node exists: lifecycle hooks (watched on its phase changes) and, once it is
 * completed, its exit handler. Resolves when all triggered hooks and the exit handler are fulfilled.
 */
/** Hooks and exit handler of a step/task whose node is already done (or found done on recovery). */
export function runStepHooks(
  op: OperatorContext,
  node: NodeStatus,
  step: InvocationBase,
  scope: SiblingScope,
  inv: Invocation,
): Promise<void> {
  return watchStepHooks(op, node, step, scope, inv)();
}

/**
 * Starts watching a step/task node for its lifecycle hooks as soon as the node exists, so a hook on
 * `status == "Running"` fires while it runs. The returned function waits for the node, the hooks it
 * triggered and, once the node is completed, its exit handler.
 */
export function watchStepHooks(
  op: OperatorContext,
  node: NodeStatus,
  step: InvocationBase,
  scope: SiblingScope,
  inv: Invocation,
): () => Promise<void> {
  const hooks = step.hooks ?? {};
  const names = Object.keys(hooks).filter((h) => h !== "exit");
  const runs: Promise<unknown>[] = [];
  const fired = new Set<string>();
  const selfVars = () => {
    const v = new LayeredVars(scope.vars);
    const key = `${scope.prefix}.${step.name}`;
    v.set(`${key}.status`, node.phase);
    v.set(`${key}.id`, node.id);
    if (node.outputs) {
      for (const p of node.outputs.parameters ?? [])
        if (p.value !== undefined) v.set(`${key}.outputs.parameters.${p.name}`, p.value);
      if (node.outputs.result !== undefined) v.set(`${key}.outputs.result`, node.outputs.result);
      if (node.outputs.exitCode !== undefined) v.set(`${key}.exitCode`, node.outputs.exitCode);
    }
    return v;
  };
  const check = () => {
    for (const h of names) {
      if (fired.has(h)) continue;
      const hook = hooks[h] as LifecycleHook;
      if (!hook.expression) continue;
      let ok = false;
      try {
        const vars = selfVars();
        ok = evaluateExpression(substitute(hook.expression, vars), vars) === true;
      } catch {
        ok = false;
      }
      if (!ok) continue;
      fired.add(h);
      runs.push(runHook(op, `${node.name}.hooks.${h}`, hook, node, inv, selfVars(), scope, step.name));
    }
  };
  let off: (() => void) | undefined;
  let offTimer: (() => void) | undefined;
  if (names.length) {
    check();
    off = op.onPhaseChange(node, check);
    offTimer = onHookTimer(op, check);
  }
  return async () => {
    if (names.length) {
      if (!isFulfilled(node)) {
        await new Promise<void>((resolve) => {
          const off2 = op.onPhaseChange(node, () => {
            if (isFulfilled(node)) {
              off2();
              resolve();
            }
          });
        });
      }
      check();
      off?.();
      offTimer?.();
    }
    const exitHook: LifecycleHook | undefined =
      hooks.exit ?? (step.onExit ? { template: step.onExit } : undefined);
    if (exitHook && isCompleted(node.phase) && !(op.shutdown === "Terminate")) {
      const vars = new LayeredVars(scope.vars);
      const key = `${scope.prefix}.${step.name}`;
      vars.set(`${key}.status`, node.phase);
      vars.set(`${key}.id`, node.id);
      for (const p of node.outputs?.parameters ?? [])
        vars.set(`${key}.outputs.parameters.${p.name}`, p.value ?? "");
      if (node.outputs?.result !== undefined) vars.set(`${key}.outputs.result`, node.outputs.result);
      if (node.outputs?.exitCode !== undefined) vars.set(`${key}.exitCode`, node.outputs.exitCode);
      let run = true;
      if (exitHook.expression) {
        try {
          run = evaluateExpression(substitute(exitHook.expression, vars), vars) === true;
        } catch {
          run = false;
        }
      }
      if (run) runs.push(runHook(op, `${node.name}.onExit`, exitHook, node, inv, vars, scope, step.name));
    }
    await Promise.all(runs);
  };
}

export async function runHook(
  op: OperatorContext,
  name: string,
  hook: LifecycleHook,
  parent: NodeStatus,
  inv: Invocation,
  vars: ReadonlyMap<string, string | null>,
  scope: SiblingScope,
  selfName: string,
): Promise<NodeStatus | undefined> {
  let args: Arguments = hook.arguments ?? {};
  if (!hook.arguments || (!hook.arguments.parameters?.length && !hook.arguments.artifacts?.length)) {
    args = op.wf.spec.arguments ?? {};
  }
  try {
    args = substituteObject(args, vars, { allowUnresolved: [ARTIFACT_REF] });
    if (args.artifacts?.some((a) => a.from || a.fromExpression)) {
      // The hook may pass on the parent's own output artifacts.
      const own = new SiblingScope(scope.prefix, vars, scope.templateScope);
      for (const [k, v] of scope.artifacts) own.artifacts.set(k, v);
      const key = `${scope.prefix}.${selfName}`;
      for (const a of parent.outputs?.artifacts ?? [])
        own.artifacts.set(`${key}.outputs.artifacts.${a.name}`, a);
      args = {
        ...args,
        artifacts: args.artifacts.flatMap((a: Artifact) => {
          const r = op.resolveArtifactArg(a, own, vars);
          return r ? [r] : [];
        }),
      };
    }
  } catch (e) {
    return op.errorNode(name, { ...inv, onCreate: (n) => op.addChild(parent, n.id) }, messageOf(e));
  }
  return op.executeTemplate(name, { template: hook.template, templateRef: hook.templateRef }, args, {
    ...inv,
    // Only exit handlers are exempt from the deadline and Stop; other hooks run like any step.
    onExit: inv.onExit || name.endsWith(".onExit"),
    flag: { hooked: true },
    captureResult: false,
    local: undefined,
    onCreate: (n) => op.addChild(parent, n.id),
  });
}

/** Whether the workflow has lifecycle hooks (other than `exit`) whose expression could turn true later. */
export function hasTimedWorkflowHooks(op: OperatorContext): boolean {
  return Object.entries(op.wf.spec.hooks ?? {}).some(
    ([name, hook]) => name !== "exit" && !!hook.expression && !op.wfHooksFired.has(name),
  );
}

/**
 * Runs `check` every HOOK_REEVALUATION_MS of clock time until the returned function is called or the
 * workflow finishes. The timer exists only while some check is registered, and the real clock's timers
 * do not keep the process alive.
 */
export function onHookTimer(op: OperatorContext, check: () => void): () => void {
  op.hookChecks.add(check);
  armHookTimer(op);
  return () => {
    op.hookChecks.delete(check);
    if (op.hookChecks.size === 0 && op.hookTimer) {
      op.options.clock.clearTimer(op.hookTimer);
      op.hookTimer = undefined;
    }
  };
}

export function armHookTimer(op: OperatorContext): void {
  if (op.hookTimer || op.finished || op.hookChecks.size === 0) return;
  op.hookTimer = op.options.clock.setTimer(HOOK_REEVALUATION_MS, () => {
    op.hookTimer = undefined;
    if (op.finished) return;
    // Brings workflow.duration up to date for every expression evaluated in this round.
    op.globalVars();
    for (const check of [...op.hookChecks]) check();
    armHookTimer(op);
  });
}

export function evaluateWorkflowHooks(op: OperatorContext): void {
  const hooks = op.wf.spec.hooks ?? {};
  for (const [name, hook] of Object.entries(hooks)) {
    if (name === "exit" || op.wfHooksFired.has(name) || !hook.expression) continue;
    let ok = false;
    try {
      const vars = op.globalVars();
      ok = evaluateExpression(substitute(hook.expression, vars), vars) === true;
    } catch {
      ok = false;
    }
    if (!ok) continue;
    op.wfHooksFired.add(name);
    const root = op.nodes[op.name];
    const inv: Invocation = {
      boundaryID: "",
      boundary: undefined,
      scope: op.compiled.rootScope,
      depth: 0,
      onExit: false,
      captureResult: false,
      flag: { hooked: true },
    };
    const run = async () => {
      await Promise.resolve();
      const r = op.nodes[op.name] ?? root;
      const hookInv = { ...inv, onCreate: (n: NodeStatus) => (r ? op.addChild(r, n.id) : undefined) };
      const holder = { template: hook.template, templateRef: hook.templateRef };
      const nodeName = `${op.name}.hooks.${name}`;
      // As for the exit hook, the arguments see the globals (`workflow.name`, `workflow.status`).
      let args: Arguments;
      try {
        args = substituteObject(hook.arguments ?? op.wf.spec.arguments ?? {}, op.globalVars(), {
          allowUnresolved: [ARTIFACT_REF],
        });
      } catch (e) {
        hookInv.onCreate(op.errorNode(nodeName, inv, messageOf(e), "Skipped", holder));
        return;
      }
      await op.executeTemplate(nodeName, holder, args, hookInv);
    };
    op.wfHookRuns.push(run());
  }
}

export async function runWorkflowExitHandler(
  op: OperatorContext,
  phase: WorkflowPhase,
): Promise<NodeStatus | undefined> {
  const spec = op.wf.spec;
  const hook: LifecycleHook | undefined =
    spec.hooks?.exit ?? (spec.onExit ? { template: spec.onExit } : undefined);
  if (!hook) return undefined;
  if (op.shutdown === "Terminate") return undefined;
  op.globals.set("workflow.status", phase);
  op.globals.set("workflow.failures", failuresJson(op));
  const vars = op.globalVars();
  if (hook.expression) {
    try {
      if (evaluateExpression(substitute(hook.expression, vars), vars) !== true) return undefined;
    } catch {
      return undefined;
    }
  }
  const inv: Invocation = {
    boundaryID: "",
    boundary: undefined,
    scope: op.compiled.rootScope,
    depth: 0,
    onExit: true,
    captureResult: false,
    flag: { hooked: true },
  };
  const holder = { template: hook.template, templateRef: hook.templateRef };
  // Argo substitutes the exit hook's arguments with the globals, the final `workflow.status` included.
  let args: Arguments;
  try {
    args = substituteObject(hook.arguments ?? spec.arguments ?? {}, vars, {
      allowUnresolved: [ARTIFACT_REF],
    });
  } catch (e) {
    return op.errorNode(`${op.name}.onExit`, inv, messageOf(e), "Skipped", holder);
  }
  return op.executeTemplate(`${op.name}.onExit`, holder, args, inv);
}

export function failuresJson(op: OperatorContext): string {
  const failures = Object.values(op.nodes)
    .filter((n) => isFailedOrError(n.phase))
    .map((n) => ({
      displayName: n.displayName,
      message: n.message ?? "",
      templateName: n.templateName ?? n.templateRef?.template ?? "",
      phase: n.phase,
      podName: podNameOf(op.name, n.name, n.templateName ?? n.templateRef?.template ?? ""),
      finishedAt: n.finishedAt ?? "",
    }));
  return JSON.stringify(JSON.stringify(failures.length ? failures : null));
}
