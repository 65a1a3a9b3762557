import { Writable } from "node:stream";
import { Command, Option } from "commander";
import { stringify } from "yaml";
import { SkiffAggregateError, SkiffError } from "../../../runtime/errors/index.js";
import type { ControllerEvent } from "../../../runtime/interfaces/events.js";
import type { Store } from "../../../runtime/interfaces/store.js";
import type { NodePhase, NodeStatus, Workflow } from "../../../runtime/spec/types.js";
import type { SkiffConfig } from "../../config/index.js";
import { createConsoleReporter, type ConsoleReporter } from "../../reporters/console/live.js";
import { renderNodeTree, renderSummary } from "../../reporters/console/tree.js";
import { readRun } from "../../run/control.js";
import { startDetached } from "../../run/detach.js";
import { recoverWorkflow, withRecordedExecutor } from "../../run/recover.js";
import {
  prepareResubmit,
  prepareRetry,
  randomSuffix,
  storeSubmitted,
  type ParameterOverrides,
} from "../../run/retry.js";
import { selectRegistered } from "../../run/from-registry.js";
import { parseRegistryRef, registryLookup } from "../../run/registry.js";
import { compileRunnable, selectPaths, type Selection } from "../../run/select.js";
import { openRunStore, recordedExecutor } from "../../run/store.js";
import { followWorkflow, isCompleted } from "../../run/watch.js";
import { EXIT } from "../exit.js";
import { printError } from "../output.js";
import { common, configOf, withStore, type CommonOptions } from "./control.js";
import { refuseServer } from "./registry.js";
import { readParameters } from "./run.js";

interface ExecutorOptions {
  executor?: string;
  sandbox?: string;
}

interface FollowFlags {
  wait?: boolean;
  watch?: boolean;
  /** Print the step logs until completion (implies waiting). */
  log?: boolean;
  output?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function withExecutorOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option("--executor <name>", "where steps run").choices(["auto", "host", "docker", "kubernetes"]),
    )
    .addOption(new Option("--sandbox <mode>", "host executor sandbox").choices(["auto", "bwrap", "none"]));
}

function withFollowOptions(cmd: Command): Command {
  return cmd
    .option("--wait", "wait for the workflow to complete; exit 0 when it Succeeded, 1 otherwise")
    .option("--watch", "show the live status tree until the workflow completes")
    .option("--log", "print the step logs until the workflow completes (exit code as --wait)")
    .addOption(new Option("-o, --output <format>", "print the workflow").choices(["name", "json", "yaml"]));
}

function applyExecutorOptions(config: SkiffConfig, o: ExecutorOptions): SkiffConfig {
  if (o.executor) config.executor = o.executor as SkiffConfig["executor"];
  if (o.sandbox) config.host.sandbox = o.sandbox as SkiffConfig["host"]["sandbox"];
  return config;
}

/** `-p name=value` in the order given; `SKF-CLI-001` for a malformed one. */
function parameterPairs(pairs: string[]): ParameterOverrides {
  return pairs.map((p) => {
    const i = p.indexOf("=");
    if (i <= 0) throw new SkiffError("SKF-CLI-001", `parameter "${p}" is not of the form name=value`);
    return [p.slice(0, i), p.slice(i + 1)];
  });
}

function printWorkflow(wf: Workflow, output: string | undefined): void {
  if (output === "name") process.stdout.write(`${wf.metadata.name}\n`);
  else if (output === "json") process.stdout.write(JSON.stringify(wf, null, 2) + "\n");
  else if (output === "yaml") process.stdout.write(stringify(wf));
  else process.stdout.write(renderSummary(wf).join("\n") + "\n");
}

/** Where the progress lines go when only the step logs are wanted. */
const discard = new Writable({ write: (_chunk, _encoding, done) => done() });

function liveReporter(): ConsoleReporter {
  const live = process.stdout.isTTY === true && process.env.CI === undefined;
  return createConsoleReporter({
    out: process.stdout,
    logOut: process.stdout,
    live,
    logs: false,
    color: live,
  });
}

/**
 * Turns the stored versions of a workflow another process runs into the controller events a console
 * reporter draws: a node whose phase changed between two versions is a `node-updated`.
 */
export function storeUpdatesToEvents(onEvent: (e: ControllerEvent) => void): (wf: Workflow) => void {
  const phases = new Map<string, NodePhase>();
  let started = false;
  return (wf) => {
    if (!started) {
      started = true;
      onEvent({ type: "workflow-started", workflow: wf });
    }
    // In the order things happened: starts parents first, completions children first. Times are whole
    // seconds: within one, a completion comes before a start (a step starts once its predecessor is done).
    const done = (n: NodeStatus) => n.finishedAt !== undefined;
    const at = (n: NodeStatus) => (done(n) ? n.finishedAt : n.startedAt) ?? "";
    const nodes = Object.values(wf.status?.nodes ?? {}).sort(
      (a, b) =>
        at(a).localeCompare(at(b)) ||
        Number(done(b)) - Number(done(a)) ||
        (done(a) ? b.name.length - a.name.length : a.name.length - b.name.length),
    );
    for (const node of nodes) {
      const previousPhase = phases.get(node.id);
      if (previousPhase === node.phase) continue;
      phases.set(node.id, node.phase);
      onEvent({
        type: "node-updated",
        workflow: wf,
        node,
        ...(previousPhase ? { previousPhase } : {}),
      });
    }
    onEvent({ type: "workflow-updated", workflow: wf });
  };
}

/** Prints the step lines the store receives for a workflow until it completes, as `skiff logs -f`. */
async function printLogs(store: Store, namespace: string, name: string, since: string | undefined) {
  const names = new Map<string, string>();
  for await (const line of store.readLogs(namespace, name, { follow: true, ...(since ? { since } : {}) })) {
    if (!names.has(line.nodeId)) {
      const n = (await store.get(namespace, name))?.status?.nodes?.[line.nodeId];
      names.set(line.nodeId, n?.displayName ?? n?.name ?? line.nodeId);
    }
    process.stdout.write(`${names.get(line.nodeId)}: ${line.text}\n`);
  }
}

/** Follows a workflow run elsewhere: the live tree with `--watch`, one final line with `--wait`/`--log`. */
async function follow(store: Store, namespace: string, name: string, flags: FollowFlags): Promise<number> {
  let wf: Workflow;
  if (flags.log && !flags.watch) {
    const started = (await readRun(store, namespace, name)).status?.startedAt;
    [wf] = await Promise.all([
      followWorkflow(store, namespace, name),
      printLogs(store, namespace, name, started),
    ]);
    process.stdout.write(
      `${name} ${wf.status?.phase}${wf.status?.message ? ` (${wf.status.message})` : ""}\n`,
    );
  } else if (flags.watch) {
    const reporter = liveReporter();
    wf = await followWorkflow(store, namespace, name, {
      onUpdate: storeUpdatesToEvents((e) => reporter.onEvent(e)),
    });
    reporter.finish(wf);
  } else {
    wf = await followWorkflow(store, namespace, name);
    process.stdout.write(
      `${name} ${wf.status?.phase}${wf.status?.message ? ` (${wf.status.message})` : ""}\n`,
    );
  }
  return wf.status?.phase === "Succeeded" ? EXIT.ok : EXIT.failed;
}

/** Continues a prepared workflow: in a background process, or here with `--wait`/`--watch`. */
async function continuePrepared(
  store: Store,
  wf: Workflow,
  config: SkiffConfig,
  o: CommonOptions & ExecutorOptions & FollowFlags,
): Promise<number> {
  const name = wf.metadata.name ?? "";
  if (!o.wait && !o.watch && !o.log) {
    await startDetached(store, o.namespace, name, {
      stateDir: config.stateDir,
      ...(o.config ? { config: o.config } : {}),
      ...(o.executor ? { executor: o.executor } : {}),
      ...(o.sandbox ? { sandbox: o.sandbox } : {}),
    });
    printWorkflow(await readRun(store, o.namespace, name), o.output);
    return EXIT.ok;
  }
  if (o.output) printWorkflow(wf, o.output);
  // The run opens the store itself; two open handles of the embedded store in one process do not mix.
  await store.close();
  const reporter = o.watch
    ? liveReporter()
    : o.log
      ? createConsoleReporter({ out: discard, logOut: process.stdout, live: false, logs: true })
      : undefined;
  const done = await recoverWorkflow(wf, withRecordedExecutor(wf, config, o), {
    ...(reporter ? { onEvent: (e: ControllerEvent) => reporter.onEvent(e) } : {}),
    signals: true,
  });
  if (o.watch) reporter?.finish(done);
  else
    process.stdout.write(
      `${name} ${done.status?.phase}${done.status?.message ? ` (${done.status.message})` : ""}\n`,
    );
  return done.status?.phase === "Succeeded" ? EXIT.ok : EXIT.failed;
}

/** `-l a=b,c=d` of `submit` (Argo: "expected labels of the form: NAME1=VALUE2,NAME2=VALUE2"). */
function parseLabels(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? "").split(",").filter((p) => p.trim() !== "")) {
    const i = part.indexOf("=");
    if (i <= 0)
      throw new SkiffError(
        "SKF-CLI-001",
        `expected labels of the form: NAME1=VALUE2,NAME2=VALUE2. Received: ${text}`,
      );
    out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

interface SubmitOptions extends ExecutorOptions, FollowFlags {
  labels?: string;
  entrypoint?: string;
  parameter: string[];
  parameterFile?: string;
  name?: string;
  generateName?: string;
  config?: string;
  stateDir?: string;
  from?: string;
  namespace?: string;
  server?: string;
}

function submitCommand(setExitCode: (c: number) => void): Command {
  const cmd = new Command("submit")
    .description("Submit workflows to run in the background; print their names and return")
    .argument("[paths...]", "workflow files or folders (as skiff run takes them)")
    .option(
      "--from <kind/name>",
      "submit a stored workflowtemplate/NAME, clusterworkflowtemplate/NAME or cronwf/NAME instead of files",
    )
    .option("-n, --namespace <ns>", "namespace of --from (and of its templates)", "default")
    .option("--server <url>", "submit to a skiff server (not yet supported)")
    .option("--entrypoint <template>", "template to start from (overrides spec.entrypoint)")
    .option("-p, --parameter <name=value>", "set a workflow parameter (repeatable)", collect, [])
    .option("--parameter-file <file>", "YAML or JSON file of parameter values")
    .option("--name <name>", "name of the workflow (overrides metadata.name)")
    .option(
      "--generate-name <prefix>",
      "name prefix, completed by 5 random characters (overrides generateName)",
    )
    .option("-l, --labels <labels>", "comma-separated labels to add, e.g. team=web,tier=1")
    .option("--config <file>", "Skiff config file")
    .option("--state-dir <dir>", "state folder (default: $SKIFF_STATE_DIR or ~/.local/state/skiff)");
  withExecutorOptions(cmd);
  withFollowOptions(cmd);
  return cmd
    .addHelpText(
      "after",
      `
Examples:
  skiff submit examples/hello-world.yaml
  skiff submit pipeline.yaml -p message=hi --generate-name nightly- -l team=web
  skiff submit pipeline.yaml --wait            # exit code as skiff run: 0 Succeeded, 1 Failed or Error
  skiff submit pipeline.yaml --watch
  skiff submit pipeline.yaml --log             # the step logs until it completes
  skiff submit --from workflowtemplate/build -p version=2 --wait
  skiff submit --from cronwf/nightly           # one run of a CronWorkflow now
  NAME=$(skiff submit pipeline.yaml -o name) && skiff logs "$NAME" --follow

A background skiff process runs each workflow (its output: <state>/background/<namespace>/<name>.log);
follow it with skiff watch, skiff wait, skiff logs --follow; control it with suspend, resume, stop, terminate.`,
    )
    .action(async (paths: string[], o: SubmitOptions) => {
      setExitCode(await submitAction(paths, o));
    });
}

async function submitAction(paths: string[], o: SubmitOptions): Promise<number> {
  let store: Store | undefined;
  try {
    const config = applyExecutorOptions(await configOf({ namespace: "default", ...o }), o);
    const parameters = await readParameters(o.parameter ?? [], o.parameterFile);
    const name = o.name ?? (o.generateName ? o.generateName + randomSuffix() : undefined);
    refuseServer(o);
    let selection: Selection;
    if (o.from !== undefined) {
      if (paths.length > 0)
        throw new SkiffError("SKF-CLI-001", "give either files or --from, not both", {
          hint: "skiff submit FILE... submits files; skiff submit --from KIND/NAME submits a stored object.",
        });
      const ref = parseRegistryRef(o.from);
      store = await openRunStore(config);
      selection = await selectRegistered(store, ref.kind, o.namespace ?? "default", ref.name, {
        entrypoint: o.entrypoint,
        parameters,
        name,
        workflowDefaults: config.workflowDefaults,
      });
    } else {
      if (paths.length === 0)
        throw new SkiffError("SKF-CLI-001", "nothing to submit: give workflow files or --from KIND/NAME");
      selection = await selectPaths(paths, {
        entrypoint: o.entrypoint,
        parameters,
        name,
        workflowDefaults: config.workflowDefaults,
        registry: registryLookup(config),
      });
    }
    if (selection.rejected.length > 0)
      throw new SkiffAggregateError(
        "SKF-CLI-001",
        selection.rejected.map((r) => r.error),
      );
    const compiled = selection.runnables.map((r) => compileRunnable(selection, r));
    const labels = parseLabels(o.labels);
    for (const c of compiled) c.workflow.metadata.labels = { ...c.workflow.metadata.labels, ...labels };
    store ??= await openRunStore(config);
    const submitted: Workflow[] = [];
    for (const [i, c] of compiled.entries()) {
      // The background process runs it as this command asked (the default then may differ).
      const wf = await storeSubmitted(store, c, {
        ...selection.runnables[i]!.source!,
        executor: recordedExecutor(config),
      });
      const namespace = wf.metadata.namespace ?? "default";
      await startDetached(store, namespace, wf.metadata.name ?? "", {
        stateDir: config.stateDir,
        ...(o.config ? { config: o.config } : {}),
        ...(o.executor ? { executor: o.executor } : {}),
        ...(o.sandbox ? { sandbox: o.sandbox } : {}),
      });
      const now = await readRun(store, namespace, wf.metadata.name ?? "");
      if (!o.watch) printWorkflow(now, (o.wait || o.log) && !o.output ? "name" : o.output);
      submitted.push(now);
    }
    let worst: number = EXIT.ok;
    if (o.wait || o.watch || o.log) {
      for (const wf of submitted) {
        const code = await follow(store, wf.metadata.namespace ?? "default", wf.metadata.name ?? "", o);
        if (code !== EXIT.ok) worst = code;
      }
    }
    return worst;
  } catch (e) {
    printError(e as SkiffError);
    return EXIT.rejected;
  } finally {
    await store?.close().catch(() => undefined);
  }
}

function watchCommand(setExitCode: (c: number) => void): Command {
  return common(
    new Command("watch")
      .description("Show the live status tree of a workflow until it completes")
      .argument("<workflow>", "workflow name"),
  )
    .addHelpText(
      "after",
      `
Examples:
  skiff watch my-wf
  skiff watch "$(skiff submit pipeline.yaml -o name)"

Exit codes: 0 Succeeded, 1 Failed or Error, 2 unknown workflow or nobody runs it (continue it with skiff resume).`,
    )
    .action(async (wfName: string, o: CommonOptions) => {
      await withStore(o, setExitCode, async (store) => {
        const wf = await readRun(store, o.namespace, wfName);
        if (isCompleted(wf)) {
          process.stdout.write([...renderSummary(wf), "", ...renderNodeTree(wf)].join("\n") + "\n");
          return wf.status?.phase === "Succeeded" ? EXIT.ok : EXIT.failed;
        }
        return follow(store, o.namespace, wfName, { watch: true });
      });
    });
}

function retryCommand(setExitCode: (c: number) => void): Command {
  const cmd = common(
    new Command("retry")
      .description("Retry a Failed or Error workflow: failed steps run again, succeeded steps are kept")
      .argument("<workflow>", "workflow name"),
  )
    .option("--node-field-selector <selector>", "with --restart-successful: succeeded nodes to run again")
    .option("--restart-successful", "also run again the succeeded nodes --node-field-selector matches")
    .option("-p, --parameter <name=value>", "change a workflow parameter (repeatable)", collect, []);
  withExecutorOptions(cmd);
  withFollowOptions(cmd);
  return cmd
    .addHelpText(
      "after",
      `
Examples:
  skiff retry my-wf
  skiff retry my-wf --wait
  skiff retry my-wf --restart-successful --node-field-selector displayName=build
  skiff retry my-wf -p version=2 --watch

As argo retry: failed steps and their descendants are deleted, their parents reset to Running, and the
workflow continues (in the background, or here with --wait/--watch). Only a Failed or Error workflow can be
retried (SKF-RUN-007), or a Succeeded one with --restart-successful and --node-field-selector.`,
    )
    .action(
      async (
        wfName: string,
        o: CommonOptions &
          ExecutorOptions &
          FollowFlags & { nodeFieldSelector?: string; restartSuccessful?: boolean; parameter: string[] },
      ) => {
        await withStore(o, setExitCode, async (store, config) => {
          const wf = await prepareRetry(store, o.namespace, wfName, {
            ...(o.nodeFieldSelector ? { nodeFieldSelector: o.nodeFieldSelector } : {}),
            ...(o.restartSuccessful ? { restartSuccessful: true } : {}),
            parameters: parameterPairs(o.parameter ?? []),
          });
          return continuePrepared(store, wf, config, o);
        });
      },
    );
}

function resubmitCommand(setExitCode: (c: number) => void): Command {
  const cmd = common(
    new Command("resubmit")
      .description("Submit a workflow again as a new one, from the same spec")
      .argument("<workflow>", "workflow name (a stored or an archived one)"),
  )
    .option("--memoized", "keep the succeeded steps of a Failed or Error workflow (they are not run again)")
    .option("-p, --parameter <name=value>", "change a workflow parameter (repeatable)", collect, []);
  withExecutorOptions(cmd);
  withFollowOptions(cmd);
  return cmd
    .addHelpText(
      "after",
      `
Examples:
  skiff resubmit my-wf
  skiff resubmit my-wf --memoized --wait
  skiff resubmit my-wf -p version=2 -o name

The new workflow is named from the old one's generateName (else "<name>-") and 5 random characters, and
carries the label workflows.argoproj.io/resubmitted-from-workflow=<name>.`,
    )
    .action(
      async (
        wfName: string,
        o: CommonOptions & ExecutorOptions & FollowFlags & { memoized?: boolean; parameter: string[] },
      ) => {
        await withStore(o, setExitCode, async (store, config) => {
          const wf = await prepareResubmit(store, o.namespace, wfName, {
            ...(o.memoized ? { memoized: true } : {}),
            parameters: parameterPairs(o.parameter ?? []),
          });
          return continuePrepared(store, wf, config, o);
        });
      },
    );
}

/** The background process of `submit`, `retry` and `resubmit`: runs a stored workflow nobody owns. */
function continueCommand(setExitCode: (c: number) => void): Command {
  const cmd = common(
    new Command("__continue")
      .description("Run a stored workflow nobody runs (the background process of submit)")
      .argument("<workflow>"),
  );
  withExecutorOptions(cmd);
  return cmd.action(async (wfName: string, o: CommonOptions & ExecutorOptions) => {
    await withStore(o, setExitCode, async (store, config) => {
      const wf = await readRun(store, o.namespace, wfName);
      await store.close();
      const reporter = createConsoleReporter({
        out: process.stdout,
        logOut: process.stdout,
        live: false,
        logs: true,
      });
      // As it was started (recorded with the run), unless this command names another executor.
      const done = await recoverWorkflow(wf, withRecordedExecutor(wf, config, o), {
        onEvent: (e) => reporter.onEvent(e),
        signals: true,
      });
      reporter.finish(done);
      return done.status?.phase === "Succeeded" ? EXIT.ok : EXIT.failed;
    });
  });
}

/** `submit`, `watch`, `retry`, `resubmit` and the hidden `__continue` they start. */
export function workflowCommands(setExitCode: (c: number) => void): {
  commands: Command[];
  hidden: Command[];
} {
  return {
    commands: [
      submitCommand(setExitCode),
      watchCommand(setExitCode),
      retryCommand(setExitCode),
      resubmitCommand(setExitCode),
    ],
    hidden: [continueCommand(setExitCode)],
  };
}
