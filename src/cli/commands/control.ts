import { Command, Option } from "commander";
import { stringify } from "yaml";
import { SkiffError } from "../../../runtime/errors/index.js";
import type { Store } from "../../../runtime/interfaces/store.js";
import type { Workflow } from "../../../runtime/spec/types.js";
import { loadConfig, type SkiffConfig } from "../../config/index.js";
import { createConsoleReporter } from "../../reporters/console/live.js";
import { formatDuration, renderNodeTree, renderSummary } from "../../reporters/console/tree.js";
import { listRuns, readRun, sendCommand, type ControlCommand } from "../../run/control.js";
import { filterRuns, parseAge, type RunFilter } from "../../run/query.js";
import { followWorkflow } from "../../run/watch.js";
import { recoverWorkflow, withRecordedExecutor } from "../../run/recover.js";
import { collectBeforeDelete } from "../../run/gc.js";
import { describeOwner, leaseAlive, openRunStore } from "../../run/store.js";
import { EXIT } from "../exit.js";
import { formatTable, printError } from "../output.js";

export interface CommonOptions {
  namespace: string;
  config?: string;
  stateDir?: string;
}

export async function configOf(o: CommonOptions): Promise<SkiffConfig> {
  const config = await loadConfig(o.config);
  if (o.stateDir) config.stateDir = o.stateDir;
  return config;
}

/** Opens the store, runs `body`, closes the store; coded errors are printed and give exit code 2. */
export async function withStore(
  o: CommonOptions,
  setExitCode: (c: number) => void,
  body: (store: Store, config: SkiffConfig) => Promise<number>,
): Promise<void> {
  let store: Store | undefined;
  try {
    const config = await configOf(o);
    store = await openRunStore(config);
    setExitCode(await body(store, config));
  } catch (e) {
    printError(e as SkiffError);
    setExitCode(EXIT.rejected);
  } finally {
    await store?.close().catch(() => undefined);
  }
}

export function common(cmd: Command): Command {
  return cmd
    .option("-n, --namespace <ns>", "namespace of the workflow", "default")
    .option("--config <file>", "Skiff config file")
    .option("--state-dir <dir>", "state folder (default: $SKIFF_STATE_DIR or ~/.local/state/skiff)");
}

const completed = (wf: Workflow) =>
  wf.status?.phase === "Succeeded" || wf.status?.phase === "Failed" || wf.status?.phase === "Error";

/** Whether `resume` has something to resume in a running workflow: it is suspended or waits in a suspend node. */
function hasSuspension(wf: Workflow): boolean {
  if (wf.spec.suspend) return true;
  return Object.values(wf.status?.nodes ?? {}).some((n) => n.type === "Suspend" && n.phase === "Running");
}

function controlCommand(
  name: ControlCommand["action"],
  description: string,
  setExitCode: (c: number) => void,
  withSelector: boolean,
  examples: string,
): Command {
  const cmd = common(new Command(name).description(description).argument("<workflow>", "workflow name"));
  if (withSelector)
    cmd.option("--node-field-selector <selector>", "only nodes matching, e.g. displayName=approve");
  cmd.addHelpText("after", examples);
  return cmd.action(async (wfName: string, o: CommonOptions & { nodeFieldSelector?: string }) => {
    await withStore(o, setExitCode, async (store) => {
      await sendCommand(store, o.namespace, wfName, { action: name, nodeFieldSelector: o.nodeFieldSelector });
      process.stdout.write(`workflow ${wfName} ${name} requested\n`);
      return EXIT.ok;
    });
  });
}

/**
 * `skiff resume NAME`: resumes a suspended workflow its owner runs; continues one whose process is gone
 * (killed, crashed) in this process; refuses (`SKF-RUN-005`) a running one with nothing to resume.
 */
function resumeCommand(setExitCode: (c: number) => void): Command {
  return common(
    new Command("resume")
      .description("Resume a suspended workflow, or continue one whose `skiff run` was killed")
      .argument("<workflow>", "workflow name"),
  )
    .option("--node-field-selector <selector>", "only nodes matching, e.g. displayName=approve")
    .option("--logs", "stream step logs while continuing a killed run")
    .addOption(
      new Option(
        "--executor <name>",
        "where the steps of a killed run continue (default: the executor it was started with)",
      ).choices(["auto", "host", "docker", "kubernetes"]),
    )
    .addOption(
      new Option("--sandbox <mode>", "host executor sandbox (default: the one it was started with)").choices([
        "auto",
        "bwrap",
        "none",
      ]),
    )
    .addHelpText(
      "after",
      `
Examples:
  skiff resume my-wf                                    # resume a suspended workflow
  skiff resume my-wf --node-field-selector displayName=approve
  skiff resume my-wf                                    # after its skiff run was killed: continue it here

A workflow whose process is gone is continued in this process (succeeded steps are not run again);
the exit code is then that of skiff run (0 Succeeded, 1 Failed or Error).`,
    )
    .action(
      async (
        wfName: string,
        o: CommonOptions & {
          nodeFieldSelector?: string;
          logs?: boolean;
          executor?: string;
          sandbox?: string;
        },
      ) => {
        await withStore(o, setExitCode, async (store, config) => {
          const wf = await readRun(store, o.namespace, wfName);
          const lease = await store.getLease(o.namespace, wfName);
          if (completed(wf))
            throw new SkiffError(
              "SKF-RUN-004",
              `workflow ${wfName} is not running (phase ${wf.status?.phase})`,
            );
          if (leaseAlive(lease)) {
            if (!hasSuspension(wf) && o.nodeFieldSelector === undefined)
              throw new SkiffError(
                "SKF-RUN-005",
                `workflow ${wfName} is already running (run by ${describeOwner(lease!.owner)}); nothing to resume`,
              );
            await sendCommand(store, o.namespace, wfName, {
              action: "resume",
              nodeFieldSelector: o.nodeFieldSelector,
            });
            process.stdout.write(`workflow ${wfName} resume requested\n`);
            return EXIT.ok;
          }
          // Nobody runs it: continue it here. The store is reopened by the run itself.
          await store.close();
          const reporter = createConsoleReporter({
            out: process.stdout,
            logOut: process.stdout,
            live: false,
            logs: o.logs === true,
          });
          const resume = o.nodeFieldSelector ?? (wf.spec.suspend ? true : undefined);
          const done = await recoverWorkflow(
            wf,
            withRecordedExecutor(wf, config, o),
            { onEvent: (e) => reporter.onEvent(e), signals: true },
            resume,
          );
          reporter.finish(done);
          return done.status?.phase === "Succeeded" ? EXIT.ok : EXIT.failed;
        });
      },
    );
}

interface ListOptions {
  status?: string;
  phase?: string;
  selector?: string;
  prefix?: string;
  completed?: boolean;
  running?: boolean;
  older?: string;
  output?: string;
}

interface DeleteOptions extends ListOptions {
  all?: boolean;
  dryRun?: boolean;
  force?: boolean;
}

/** The phases `--status` takes, as `argo list --status` does. */
const PHASES = ["Pending", "Running", "Succeeded", "Failed", "Error"];

/** The filter the list options describe; `SKF-RUN-010` for a phase no workflow can have. */
export function listFilter(o: ListOptions): RunFilter {
  const phases = [o.status, o.phase]
    .filter((p): p is string => p !== undefined)
    .flatMap((p) => p.split(","))
    .map((s) => s.trim())
    .filter(Boolean);
  for (const p of phases)
    if (!PHASES.includes(p))
      throw new SkiffError("SKF-RUN-010", `"${p}" is not a workflow phase`, {
        hint: `--status takes ${PHASES.join(", ")} (comma-separated for several).`,
      });
  return {
    ...(phases.length ? { phases } : {}),
    ...(o.selector ? { selector: o.selector } : {}),
    ...(o.prefix ? { prefix: o.prefix } : {}),
    ...(o.completed ? { completed: true } : {}),
    ...(o.running ? { running: true } : {}),
    ...(o.older ? { olderThanMs: parseAge(o.older) } : {}),
  };
}

function duration(w: Workflow): string {
  const start = Date.parse(w.status?.startedAt ?? "");
  if (Number.isNaN(start)) return "";
  const end = w.status?.finishedAt ? Date.parse(w.status.finishedAt) : Date.now();
  return formatDuration(end - start);
}

/** The order of `list`, in every output format: newest first. */
export function newestFirst(wfs: readonly Workflow[]): Workflow[] {
  return [...wfs].sort((a, b) => (b.status?.startedAt ?? "").localeCompare(a.status?.startedAt ?? ""));
}

/**
 * A workflow's STATUS as `argo list` shows it: `Running (Suspended)` while it or one of its suspend steps
 * waits, `Failed (Terminated)` (or `(Stopped)`) once shut down.
 */
export function displayStatus(wf: Workflow): string {
  const phase = wf.status?.phase || "Pending";
  if (phase === "Running" && hasSuspension(wf)) return "Running (Suspended)";
  if ((phase === "Failed" || phase === "Error") && wf.spec.shutdown === "Terminate")
    return `${phase} (Terminated)`;
  if ((phase === "Failed" || phase === "Error") && wf.spec.shutdown === "Stop") return `${phase} (Stopped)`;
  return phase;
}

/** The `list` table: newest first; `wide` adds duration, progress and parameters. */
export function renderList(wfs: Workflow[], wide = false): string {
  const rows = [
    wide
      ? ["NAME", "STATUS", "STARTED", "FINISHED", "DURATION", "PROGRESS", "MESSAGE", "PARAMETERS"]
      : ["NAME", "STATUS", "STARTED", "FINISHED", "MESSAGE"],
  ];
  for (const w of newestFirst(wfs)) {
    const base = [
      w.metadata.name ?? "",
      displayStatus(w),
      w.status?.startedAt ?? "",
      w.status?.finishedAt ?? "",
    ];
    if (!wide) rows.push([...base, w.status?.message ?? ""]);
    else {
      const params = (w.spec.arguments?.parameters ?? []).map((p) => `${p.name}=${p.value ?? ""}`).join(",");
      rows.push([...base, duration(w), w.status?.progress ?? "", w.status?.message ?? "", params]);
    }
  }
  return formatTable(rows);
}

/** Prints workflows as `list` and `archive list` do. */
export function printWorkflows(wfs: Workflow[], output: string | undefined): void {
  if (output === "name")
    process.stdout.write(
      newestFirst(wfs)
        .map((w) => `${w.metadata.name}\n`)
        .join(""),
    );
  else if (output === "json") process.stdout.write(JSON.stringify(wfs, null, 2) + "\n");
  else if (output === "yaml") process.stdout.write(stringify(wfs));
  else process.stdout.write(renderList(wfs, output === "wide"));
}

/** Finds the node ids a `--node` value names: a node id, its full name or its display name. */
export function matchNodes(wf: Workflow, node: string): string[] {
  return Object.entries(wf.status?.nodes ?? {})
    .filter(([id, n]) => id === node || n.name === node || n.displayName === node)
    .map(([id]) => id);
}

/** `resume`, `suspend`, `stop`, `terminate`, `get`, `list`, `logs`, `wait`, `delete`: the `argo` commands. */
export function controlCommands(setExitCode: (c: number) => void): Command[] {
  const get = common(new Command("get").description("Show a workflow's status tree").argument("<workflow>"))
    .addOption(new Option("-o, --output <format>").choices(["json", "yaml", "wide", "name"]))
    .addHelpText("after", "\nExamples:\n  skiff get my-wf\n  skiff get my-wf -o json | jq .status.phase\n")
    .action(async (wfName: string, o: CommonOptions & { output?: string }) => {
      await withStore(o, setExitCode, async (store) => {
        const wf = await readRun(store, o.namespace, wfName);
        if (o.output === "json") process.stdout.write(JSON.stringify(wf, null, 2) + "\n");
        else if (o.output === "yaml") process.stdout.write(stringify(wf));
        else if (o.output === "name") process.stdout.write(`${wf.metadata.name}\n`);
        else
          process.stdout.write(
            [...renderSummary(wf), "", ...renderNodeTree(wf, { wide: o.output === "wide" })].join("\n") +
              "\n",
          );
        return EXIT.ok;
      });
    });
  const list = common(new Command("list").description("List the workflows this machine ran"))
    .option("--status <phases>", "comma-separated phases, e.g. Running,Failed")
    .option("--phase <phases>", "same as --status")
    .option("-l, --selector <labels>", "label selector: key=value, key!=value or key, comma-separated")
    .option("--prefix <prefix>", "only workflows whose name starts with this")
    .option("--completed", "only completed workflows (Succeeded, Failed, Error)")
    .option("--running", "only running workflows")
    .option("--older <age>", "only completed workflows finished longer ago than this (e.g. 1h, 2d)")
    .addOption(new Option("-o, --output <format>").choices(["name", "wide", "json", "yaml"]))
    .addHelpText(
      "after",
      "\nExamples:\n  skiff list\n  skiff list --status Running,Failed\n  skiff list -l team=web --completed -o wide\n  skiff list --prefix nightly- -o name\n",
    )
    .action(async (o: CommonOptions & ListOptions) => {
      await withStore(o, setExitCode, async (store) => {
        const wfs = filterRuns(await listRuns(store, o.namespace), listFilter(o));
        printWorkflows(wfs, o.output);
        return EXIT.ok;
      });
    });
  const logs = common(new Command("logs").description("Print a workflow's step logs").argument("<workflow>"))
    .option("--node <node>", "only this node (id, name or display name)")
    .option("-c, --container <name>", "only this container (main, init, a sidecar)")
    .option("--since-time <time>", "only lines written at or after this RFC3339 time")
    .option("--since <duration>", "only lines newer than this duration, e.g. 10m or 1h (argo logs --since)")
    .option("-f, --follow", "keep printing new lines until the workflow completes")
    .addHelpText(
      "after",
      "\nExamples:\n  skiff logs my-wf\n  skiff logs my-wf --node build --follow\n  skiff logs my-wf -c main --since-time 2026-01-01T00:00:00Z\n  skiff logs my-wf --since 10m\n",
    )
    .action(
      async (
        wfName: string,
        o: CommonOptions & {
          node?: string;
          container?: string;
          sinceTime?: string;
          since?: string;
          follow?: boolean;
        },
      ) => {
        await withStore(o, setExitCode, async (store) => {
          const sinceTime =
            o.since !== undefined ? new Date(Date.now() - parseAge(o.since)).toISOString() : o.sinceTime;
          const wf = await readRun(store, o.namespace, wfName);
          let ids: Set<string> | undefined;
          if (o.node !== undefined) {
            ids = new Set(matchNodes(wf, o.node));
            // A node that does not exist yet may still come while following; without --follow it is an error.
            if (ids.size === 0 && !o.follow)
              throw new SkiffError("SKF-RUN-003", `workflow ${wfName} has no node ${o.node}`);
          }
          const names = new Map(
            Object.entries(wf.status?.nodes ?? {}).map(([id, n]) => [id, n.displayName ?? n.name]),
          );
          const abort = new AbortController();
          const onSig = () => abort.abort();
          process.once("SIGINT", onSig);
          try {
            for await (const line of store.readLogs(o.namespace, wfName, {
              ...(o.container ? { container: o.container } : {}),
              // A name run again keeps its older lines in the store: show this run's only, unless asked.
              ...(sinceTime || wf.status?.startedAt ? { since: sinceTime ?? wf.status?.startedAt } : {}),
              follow: o.follow === true,
              signal: abort.signal,
            })) {
              if (ids && ids.size > 0 && !ids.has(line.nodeId)) continue;
              if (ids && ids.size === 0) {
                const now = await store.get(o.namespace, wfName);
                ids = new Set(now ? matchNodes(now, o.node!) : []);
                if (!ids.has(line.nodeId)) continue;
              }
              if (!names.has(line.nodeId)) {
                const now = await store.get(o.namespace, wfName);
                const n = now?.status?.nodes?.[line.nodeId];
                names.set(line.nodeId, n?.displayName ?? n?.name ?? line.nodeId);
              }
              process.stdout.write(`${names.get(line.nodeId)}: ${line.text}\n`);
            }
          } finally {
            process.off("SIGINT", onSig);
          }
          return EXIT.ok;
        });
      },
    );
  const wait = common(
    new Command("wait").description("Wait for a workflow to complete").argument("<workflow>"),
  )
    .addHelpText(
      "after",
      "\nExamples:\n  skiff wait my-wf && echo done\n\nExit codes: 0 Succeeded, 1 Failed or Error, 2 unknown workflow or nobody runs it.\n",
    )
    .action(async (wfName: string, o: CommonOptions) => {
      await withStore(o, setExitCode, async (store) => {
        const wf = await followWorkflow(store, o.namespace, wfName);
        process.stdout.write(
          `${wfName} ${wf.status?.phase}${wf.status?.message ? ` (${wf.status.message})` : ""}\n`,
        );
        return wf.status?.phase === "Succeeded" ? EXIT.ok : EXIT.failed;
      });
    });
  const del = common(
    new Command("delete")
      .description("Delete stored workflows (their logs and archive stay until gc)")
      .argument("[workflows...]"),
  )
    .option("--all", "delete every workflow of the namespace (those a live process runs are skipped)")
    .option("--completed", "delete every completed workflow of the namespace")
    .option("--older <age>", "delete completed workflows finished longer ago than this (e.g. 1h, 2d)")
    .option("--status <phases>", "delete workflows in these phases, e.g. Failed,Error")
    .option("-l, --selector <labels>", "delete workflows whose labels match")
    .option("--prefix <prefix>", "delete workflows whose name starts with this")
    .option("--dry-run", "print what would be deleted")
    .option("--force", "delete even when its OnWorkflowDeletion artifacts cannot all be deleted")
    .addHelpText(
      "after",
      "\nExamples:\n  skiff delete my-wf\n  skiff delete --completed\n  skiff delete --older 1d\n  skiff delete --all -l team=web\n\nA workflow still run by a live process is refused (SKF-RUN-005): stop or terminate it first.\n",
    )
    .action(async (names: string[], o: CommonOptions & DeleteOptions) => {
      await withStore(o, setExitCode, async (store, config) => {
        const targets = [...names];
        const bulk = o.all || o.completed || o.older || o.status || o.selector || o.prefix;
        if (bulk) {
          const filter = listFilter(o);
          for (const w of filterRuns(await listRuns(store, o.namespace), filter)) {
            const n = w.metadata.name ?? "";
            // A bulk delete leaves alone what a live process runs; naming it explicitly is refused.
            if (!completed(w) && leaseAlive(await store.getLease(o.namespace, n))) continue;
            if (!targets.includes(n)) targets.push(n);
          }
        } else if (targets.length === 0)
          throw new SkiffError(
            "SKF-RUN-003",
            "no workflow named (give names, --all, --completed, --older, --status, -l or --prefix)",
          );
        for (const n of targets) {
          const wf = await readRun(store, o.namespace, n);
          const lease = await store.getLease(o.namespace, n);
          if (!completed(wf) && leaseAlive(lease))
            throw new SkiffError(
              "SKF-RUN-005",
              `workflow ${n} is running (run by ${describeOwner(lease!.owner)}); stop or terminate it before deleting`,
            );
          if (!o.dryRun) {
            // Argo's artifactGC OnWorkflowDeletion: the artifacts go first; the workflow is kept if they cannot.
            const deleted = await collectBeforeDelete(store, wf, config, o.force === true);
            if (deleted > 0) process.stdout.write(`workflow ${n}: ${deleted} artifact(s) deleted\n`);
            await store.delete(o.namespace, n);
          }
          process.stdout.write(`workflow ${n} deleted${o.dryRun ? " (dry run)" : ""}\n`);
        }
        return EXIT.ok;
      });
    });
  return [
    resumeCommand(setExitCode),
    controlCommand(
      "suspend",
      "Suspend a running workflow: no new steps start",
      setExitCode,
      false,
      "\nExamples:\n  skiff suspend my-wf\n",
    ),
    controlCommand(
      "stop",
      "Stop a workflow: running steps are killed, exit handlers still run",
      setExitCode,
      true,
      "\nExamples:\n  skiff stop my-wf\n",
    ),
    controlCommand(
      "terminate",
      "Terminate a workflow: running steps are killed, exit handlers do not run",
      setExitCode,
      false,
      "\nExamples:\n  skiff terminate my-wf\n",
    ),
    get,
    list,
    logs,
    wait,
    del,
  ];
}
