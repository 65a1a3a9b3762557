import { Command, Option } from "commander";
import { stringify } from "yaml";
import {
  nextFiring,
  parseCronSchedules,
  schedulesOf,
  statusOf,
  type CronFiring,
} from "../../../runtime/cron/index.js";
import { SkiffAggregateError, SkiffError } from "../../../runtime/errors/index.js";
import type { CronWorkflow } from "../../../runtime/spec/types.js";
import { formatDuration } from "../../reporters/console/tree.js";
import { startStoreCronScheduler } from "../../run/from-registry.js";
import {
  REGISTRY_CODES,
  TemplateRegistry,
  type RegisteredObject,
  type RegistryKind,
} from "../../run/registry.js";
import { loadPathsWithPipelines } from "../../run/select.js";
import { EXIT } from "../exit.js";
import { formatTable, printError } from "../output.js";
import type { Store } from "../../../runtime/interfaces/store.js";
import type { SkiffConfig } from "../../config/index.js";
import { openRunStore } from "../../run/store.js";
import { common, configOf, withStore, type CommonOptions } from "./control.js";
import { formatLintTable } from "./lint.js";

/** `--server`/`SKIFF_SERVER`: accepted so that scripts written for a server fail clearly until it is wired. */
interface ServerOptions {
  server?: string;
}

function withServer(cmd: Command): Command {
  return cmd.option(
    "--server <url>",
    "talk to a skiff server instead of the local store (not yet supported)",
  );
}

/** `SKF-REG-006` when a server is named: the verbs work on the local store only for now. */
export function refuseServer(o: ServerOptions): void {
  const server = o.server ?? process.env.SKIFF_SERVER;
  if (server)
    throw new SkiffError(
      REGISTRY_CODES["SKF-REG-006"],
      `cannot talk to the server ${server}: this version works on the local store only`,
    );
}

type Options = CommonOptions & ServerOptions & { output?: string };

/** Opens the store (after refusing `--server`) and runs `body`; coded errors print and exit 2. */
async function withRegistry(
  o: Options,
  setExitCode: (c: number) => void,
  body: (registry: TemplateRegistry, o: Options) => Promise<number>,
): Promise<void> {
  try {
    refuseServer(o);
  } catch (e) {
    printError(e as SkiffError);
    setExitCode(EXIT.rejected);
    return;
  }
  await withStore(o, setExitCode, (store) => body(new TemplateRegistry(store), o));
}

function age(created: string | undefined, now = Date.now()): string {
  const t = Date.parse(created ?? "");
  return Number.isNaN(t) ? "" : formatDuration(now - t);
}

/** `argo cron list`'s columns; `wide` adds the concurrency policy and the run counts. */
export function renderCronList(crons: readonly CronWorkflow[], wide: boolean, now = Date.now()): string {
  const head = ["NAME", "AGE", "LAST RUN", "NEXT RUN", "SCHEDULES", "TIMEZONE", "SUSPENDED"];
  const rows = [wide ? [...head, "POLICY", "ACTIVE", "SUCCEEDED", "FAILED", "PHASE"] : head];
  for (const c of crons) {
    const status = statusOf(c);
    let next = "";
    try {
      const t = nextFiring(parseCronSchedules(c), now);
      if (t !== undefined && !c.spec.suspend && status.phase !== "Stopped") next = formatDuration(t - now);
    } catch {
      next = "invalid schedule";
    }
    const row = [
      c.metadata.name ?? "",
      age(c.metadata.creationTimestamp, now),
      status.lastScheduledTime ? age(status.lastScheduledTime, now) : "N/A",
      next || "N/A",
      schedulesOf(c).join(","),
      c.spec.timezone ?? "",
      String(c.spec.suspend === true),
    ];
    if (wide)
      row.push(
        c.spec.concurrencyPolicy || "Allow",
        String(status.active?.length ?? 0),
        String(status.succeeded ?? 0),
        String(status.failed ?? 0),
        status.phase ?? "",
      );
    rows.push(row);
  }
  return formatTable(rows);
}

/** The template list: `argo template list`'s NAME; `wide` adds namespace, age and entrypoint. */
export function renderTemplateList(
  objects: readonly RegisteredObject[],
  wide: boolean,
  now = Date.now(),
): string {
  const rows = [wide ? ["NAME", "NAMESPACE", "AGE", "ENTRYPOINT"] : ["NAME"]];
  for (const o of objects)
    rows.push(
      wide
        ? [
            o.metadata.name ?? "",
            o.metadata.namespace ?? "",
            age(o.metadata.creationTimestamp, now),
            (o.spec as { entrypoint?: string }).entrypoint ?? "",
          ]
        : [o.metadata.name ?? ""],
    );
  return formatTable(rows);
}

/** `get` without `-o`: the object's main fields, one per line, as `argo template get`/`argo cron get`. */
export function renderRegistered(o: RegisteredObject, now = Date.now()): string {
  const lines: [string, string][] = [
    ["Name:", o.metadata.name ?? ""],
    ...(o.metadata.namespace ? ([["Namespace:", o.metadata.namespace]] as [string, string][]) : []),
    ["Created:", `${o.metadata.creationTimestamp ?? ""} (${age(o.metadata.creationTimestamp, now)} ago)`],
  ];
  if (o.kind === "CronWorkflow") {
    const status = statusOf(o);
    let next = "";
    try {
      const t = nextFiring(parseCronSchedules(o), now);
      if (t !== undefined) next = new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");
    } catch {
      next = "invalid schedule";
    }
    lines.push(
      ["Schedules:", schedulesOf(o).join(",")],
      ["Timezone:", o.spec.timezone ?? ""],
      ["Suspended:", String(o.spec.suspend === true)],
      ["ConcurrencyPolicy:", o.spec.concurrencyPolicy || "Allow"],
      ["StartingDeadlineSeconds:", String(o.spec.startingDeadlineSeconds ?? "")],
      ["NextScheduledTime:", next],
      ["LastScheduledTime:", status.lastScheduledTime ?? ""],
      ["Active Workflows:", (status.active ?? []).map((a) => a.name).join(", ")],
      ["Succeeded/Failed:", `${status.succeeded ?? 0}/${status.failed ?? 0}`],
      ...(status.phase ? ([["Phase:", status.phase]] as [string, string][]) : []),
      ...(status.conditions ?? []).map((c) => [`${c.type}:`, c.message] as [string, string]),
    );
  } else {
    const spec = o.spec as {
      entrypoint?: string;
      arguments?: { parameters?: { name: string; value?: string }[] };
    };
    lines.push(["Entrypoint:", spec.entrypoint ?? ""]);
    for (const p of spec.arguments?.parameters ?? []) lines.push([`  ${p.name}:`, p.value ?? ""]);
  }
  const w = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${k.padEnd(w)}  ${v}`.trimEnd() + "\n").join("");
}

function print(objects: RegisteredObject[], output: string | undefined, one: boolean): void {
  if (output === "name") process.stdout.write(objects.map((o) => `${o.metadata.name}\n`).join(""));
  else if (output === "json")
    process.stdout.write(JSON.stringify(one ? objects[0] : objects, null, 2) + "\n");
  else if (output === "yaml") process.stdout.write(stringify(one ? objects[0] : objects));
  else process.stdout.write(objects.map((o) => renderRegistered(o)).join("\n"));
}

const outputOption = () =>
  new Option("-o, --output <format>", "output format").choices(["name", "json", "yaml", "wide"]);

interface Noun {
  kind: RegistryKind;
  command: string;
  /** How help texts name one. */
  noun: string;
  example: string;
}

/** `create`, `list`, `get`, `delete`, `lint` of one kind, as `argo template ...` has them. */
function kindCommands(n: Noun, setExitCode: (c: number) => void): Command[] {
  const scoped = n.kind !== "ClusterWorkflowTemplate";
  const base = (cmd: Command) => withServer(common(cmd));
  const create = base(
    new Command("create")
      .description(`Lint ${n.noun}s and store them (all of them, or none when one has a problem)`)
      .argument("<files...>", `YAML or JSON files holding ${n.noun}s`),
  )
    .addOption(outputOption())
    .action(async (files: string[], o: Options) => {
      await withRegistry(o, setExitCode, async (registry) => {
        const loaded = await loadPathsWithPipelines(files);
        if (loaded.problems.length > 0)
          throw new SkiffAggregateError(REGISTRY_CODES["SKF-REG-004"], loaded.problems);
        if (loaded.manifests.length === 0)
          throw new SkiffError(REGISTRY_CODES["SKF-REG-002"], `no ${n.kind} found in ${files.join(", ")}`, {
            position: { file: files[0] ?? "" },
          });
        const created = await registry.create(loaded.manifests, { kind: n.kind, namespace: o.namespace });
        print(created, o.output ?? "name", false);
        return EXIT.ok;
      });
    });
  const list = base(new Command("list").description(`List the stored ${n.noun}s`))
    .addOption(outputOption())
    .option(scoped ? "-A, --all-namespaces" : "--no-all-namespaces", "all namespaces")
    .action(async (o: Options & { allNamespaces?: boolean }) => {
      await withRegistry(o, setExitCode, async (registry) => {
        const all = await registry.list(n.kind, scoped && !o.allNamespaces ? o.namespace : undefined);
        if (o.output === "name" || o.output === "json" || o.output === "yaml") print(all, o.output, false);
        else if (n.kind === "CronWorkflow")
          process.stdout.write(renderCronList(all as CronWorkflow[], o.output === "wide"));
        else process.stdout.write(renderTemplateList(all, o.output === "wide"));
        return EXIT.ok;
      });
    });
  const get = base(new Command("get").description(`Show stored ${n.noun}s`).argument("<names...>"))
    .addOption(outputOption())
    .action(async (names: string[], o: Options) => {
      await withRegistry(o, setExitCode, async (registry) => {
        const found: RegisteredObject[] = [];
        for (const name of names) found.push(await registry.get(n.kind, o.namespace, name));
        print(found, o.output, names.length === 1);
        return EXIT.ok;
      });
    });
  const del = base(new Command("delete").description(`Delete stored ${n.noun}s`).argument("[names...]"))
    .option("--all", `delete every ${n.noun}${scoped ? " of the namespace" : ""}`)
    .action(async (names: string[], o: Options & { all?: boolean }) => {
      await withRegistry(o, setExitCode, async (registry) => {
        const targets = o.all
          ? (await registry.list(n.kind, scoped ? o.namespace : undefined)).map((x) => x.metadata.name ?? "")
          : names;
        if (targets.length === 0 && !o.all)
          throw new SkiffError("SKF-CLI-001", `name the ${n.noun}s to delete, or pass --all`);
        for (const name of targets) {
          await registry.delete(n.kind, o.namespace, name);
          process.stdout.write(`${n.kind} '${name}' deleted\n`);
        }
        return EXIT.ok;
      });
    });
  const lint = base(
    new Command("lint")
      .description(`Check ${n.noun} files as create does, without storing them`)
      .argument("<files...>"),
  )
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"),
    )
    .action(async (files: string[], o: Options) => {
      await withRegistry(o, setExitCode, async (registry) => {
        const loaded = await loadPathsWithPipelines(files);
        const problems = [
          ...loaded.problems,
          ...(await registry.lint(loaded.manifests, { namespace: o.namespace })),
        ];
        if (o.output === "json")
          process.stdout.write(
            JSON.stringify(
              problems.map((p) => ({
                code: p.code,
                message: p.message,
                file: p.position?.file,
                line: p.position?.line,
              })),
              null,
              2,
            ) + "\n",
          );
        else
          process.stdout.write(
            formatLintTable(problems, loaded.notes, loaded.files.length, loaded.manifests.length),
          );
        return problems.length === 0 ? EXIT.ok : EXIT.rejected;
      });
    });
  for (const c of [create, list, get, del, lint]) c.addHelpText("after", `\nExamples:\n${n.example}\n`);
  return [create, list, get, del, lint];
}

function group(
  n: Noun,
  description: string,
  setExitCode: (c: number) => void,
  extra: Command[] = [],
): Command {
  const cmd = new Command(n.command).description(description);
  for (const c of [...kindCommands(n, setExitCode), ...extra]) cmd.addCommand(c);
  return cmd;
}

function suspendCommand(suspend: boolean, setExitCode: (c: number) => void): Command {
  return withServer(
    common(
      new Command(suspend ? "suspend" : "resume")
        .description(
          suspend
            ? "Stop scheduling CronWorkflows (spec.suspend: true)"
            : "Schedule suspended CronWorkflows again",
        )
        .argument("<names...>"),
    ),
  ).action(async (names: string[], o: Options) => {
    await withRegistry(o, setExitCode, async (registry) => {
      for (const name of names) {
        await registry.setSuspended(o.namespace, name, suspend);
        process.stdout.write(`CronWorkflow '${name}' ${suspend ? "suspended" : "resumed"}\n`);
      }
      return EXIT.ok;
    });
  });
}

/** `skiff cron schedule`: the scheduler in the foreground, until interrupted. */
function scheduleCommand(setExitCode: (c: number) => void): Command {
  return withServer(
    common(
      new Command("schedule").description(
        "Run the stored CronWorkflows on their schedules until interrupted (what a skiff server does)",
      ),
    ),
  )
    .option("-A, --all-namespaces", "schedule the CronWorkflows of every namespace")
    .addHelpText(
      "after",
      `
Examples:
  skiff cron schedule            # Ctrl-C to stop; missed runs are caught up within startingDeadlineSeconds
  skiff cron schedule -A

Each run is stored and run by a background skiff process, as skiff submit does; follow them with
skiff list -l workflows.argoproj.io/cron-workflow=NAME.`,
    )
    .action(async (o: Options & { allNamespaces?: boolean }) => {
      setExitCode(await runScheduler(o, o.allNamespaces ? undefined : o.namespace));
    });
}

async function runScheduler(o: Options, namespace: string | undefined): Promise<number> {
  let store: Store;
  let config: SkiffConfig;
  try {
    refuseServer(o);
    config = await configOf(o);
    store = await openRunStore(config);
  } catch (e) {
    printError(e as SkiffError);
    return EXIT.rejected;
  }
  const describe = (f: CronFiring) =>
    `${new Date(f.scheduledTime).toISOString()} ${f.namespace}/${f.cron}: ${f.outcome}${f.workflow ? ` ${f.workflow}` : ""}${f.error ? ` (${f.error.message})` : ""}\n`;
  const scheduler = startStoreCronScheduler({
    store,
    config: { ...config, ...(o.config ? { configFile: o.config } : {}) },
    ...(namespace ? { namespace } : {}),
    detach: o.config ? { config: o.config } : {},
    onFiring: (f) => process.stdout.write(describe(f)),
    onError: (e, cron) =>
      printError(new SkiffError(e.code, `${cron ? `${cron.namespace}/${cron.name}: ` : ""}${e.message}`)),
  });
  process.stdout.write(
    `scheduling CronWorkflows of ${namespace ? `namespace ${namespace}` : "every namespace"}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await scheduler.stop();
  await store.close();
  return EXIT.ok;
}

/** `template`, `cluster-template` and `cron`: the registry verbs of `argo`. */
export function registryCommands(setExitCode: (c: number) => void): Command[] {
  return [
    group(
      {
        kind: "WorkflowTemplate",
        command: "template",
        noun: "WorkflowTemplate",
        example:
          "  skiff template create build.yaml\n  skiff template list -o wide\n  skiff template get build -o yaml\n  skiff submit --from workflowtemplate/build -p version=2 --wait",
      },
      "Manage WorkflowTemplates kept in the store (templateRef and workflowTemplateRef resolve against them)",
      setExitCode,
    ),
    group(
      {
        kind: "ClusterWorkflowTemplate",
        command: "cluster-template",
        noun: "ClusterWorkflowTemplate",
        example:
          "  skiff cluster-template create shared.yaml\n  skiff cluster-template list\n  skiff submit --from clusterworkflowtemplate/shared --wait",
      },
      "Manage ClusterWorkflowTemplates kept in the store (templateRef with clusterScope: true)",
      setExitCode,
    ),
    group(
      {
        kind: "CronWorkflow",
        command: "cron",
        noun: "CronWorkflow",
        example:
          "  skiff cron create nightly.yaml\n  skiff cron list -o wide\n  skiff cron suspend nightly\n  skiff submit --from cronwf/nightly --wait\n  skiff cron schedule",
      },
      "Manage CronWorkflows kept in the store, and run them on their schedules",
      setExitCode,
      [suspendCommand(true, setExitCode), suspendCommand(false, setExitCode), scheduleCommand(setExitCode)],
    ),
  ];
}
