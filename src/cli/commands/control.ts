import { Command, Option } from "commander";
import { stringify } from "yaml";
import type { SkiffError } from "../../../runtime/errors/index.js";
import { loadConfig } from "../../config/index.js";
import { renderNodeTree, renderSummary } from "../../reporters/console/tree.js";
import { listRuns, readRun, sendCommand, type ControlCommand } from "../../run/control.js";
import { EXIT } from "../exit.js";
import { printError } from "../output.js";
import { join } from "node:path";

interface CommonOptions {
  namespace: string;
  config?: string;
  stateDir?: string;
}

async function runsRoot(o: CommonOptions): Promise<string> {
  const config = await loadConfig(o.config);
  return join(o.stateDir ?? config.stateDir, "runs");
}

function common(cmd: Command): Command {
  return cmd
    .option("-n, --namespace <ns>", "namespace of the workflow", "default")
    .option("--config <file>", "Skiff config file")
    .option("--state-dir <dir>", "state folder (default: $SKIFF_STATE_DIR or ~/.local/state/skiff)");
}

function controlCommand(
  name: ControlCommand["action"],
  description: string,
  setExitCode: (c: number) => void,
  withSelector: boolean,
): Command {
  const cmd = common(new Command(name).description(description).argument("<workflow>", "workflow name"));
  if (withSelector)
    cmd.option("--node-field-selector <selector>", "only nodes matching, e.g. displayName=approve");
  return cmd.action(async (wfName: string, o: CommonOptions & { nodeFieldSelector?: string }) => {
    try {
      await sendCommand(await runsRoot(o), o.namespace, wfName, {
        action: name,
        nodeFieldSelector: o.nodeFieldSelector,
      });
      process.stdout.write(`workflow ${wfName} ${name} requested\n`);
      setExitCode(EXIT.ok);
    } catch (e) {
      printError(e as SkiffError);
      setExitCode(EXIT.rejected);
    }
  });
}

/** `resume`, `suspend`, `stop`, `terminate`, `get`, `list`: the `argo` commands for workflows `skiff run` runs. */
export function controlCommands(setExitCode: (c: number) => void): Command[] {
  const get = common(new Command("get").description("Show a workflow's status tree").argument("<workflow>"))
    .addOption(new Option("-o, --output <format>").choices(["json", "yaml", "wide", "name"]))
    .action(async (wfName: string, o: CommonOptions & { output?: string }) => {
      try {
        const wf = await readRun(await runsRoot(o), o.namespace, wfName);
        if (o.output === "json") process.stdout.write(JSON.stringify(wf, null, 2) + "\n");
        else if (o.output === "yaml") process.stdout.write(stringify(wf));
        else if (o.output === "name") process.stdout.write(`${wf.metadata.name}\n`);
        else
          process.stdout.write(
            [...renderSummary(wf), "", ...renderNodeTree(wf, { wide: o.output === "wide" })].join("\n") +
              "\n",
          );
        setExitCode(EXIT.ok);
      } catch (e) {
        printError(e as SkiffError);
        setExitCode(EXIT.rejected);
      }
    });
  const list = common(new Command("list").description("List the workflows this machine ran"))
    .option("--status <phases>", "comma-separated phases, e.g. Running,Failed")
    .action(async (o: CommonOptions & { status?: string }) => {
      const phases = o.status?.split(",").map((s) => s.trim());
      const wfs = (await listRuns(await runsRoot(o), o.namespace)).filter(
        (w) => !phases || phases.includes(w.status?.phase ?? ""),
      );
      const rows = [["NAME", "STATUS", "STARTED", "FINISHED", "MESSAGE"]];
      for (const w of wfs.sort((a, b) =>
        (b.status?.startedAt ?? "").localeCompare(a.status?.startedAt ?? ""),
      )) {
        rows.push([
          w.metadata.name ?? "",
          w.status?.phase || "Pending",
          w.status?.startedAt ?? "",
          w.status?.finishedAt ?? "",
          w.status?.message ?? "",
        ]);
      }
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows)
        process.stdout.write(
          r
            .map((c, i) => c.padEnd(widths[i]!))
            .join("  ")
            .trimEnd() + "\n",
        );
      setExitCode(EXIT.ok);
    });
  return [
    controlCommand("resume", "Resume a suspended workflow (or its suspend nodes)", setExitCode, true),
    controlCommand("suspend", "Suspend a running workflow: no new steps start", setExitCode, false),
    controlCommand(
      "stop",
      "Stop a workflow: running steps are killed, exit handlers still run",
      setExitCode,
      true,
    ),
    controlCommand(
      "terminate",
      "Terminate a workflow: running steps are killed, exit handlers do not run",
      setExitCode,
      false,
    ),
    get,
    list,
  ];
}
