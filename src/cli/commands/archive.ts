import { Command, Option } from "commander";
import { stringify } from "yaml";
import { defineErrorCodes, SkiffError } from "../../../runtime/errors/index.js";
import type { Store } from "../../../runtime/interfaces/store.js";
import type { Workflow } from "../../../runtime/spec/types.js";
import { renderNodeTree, renderSummary } from "../../reporters/console/tree.js";
import { filterRuns } from "../../run/query.js";
import { EXIT } from "../exit.js";
import { formatTable } from "../output.js";
import { common, listFilter, withStore, type CommonOptions } from "./control.js";

export const ARCHIVE_CODES = defineErrorCodes({
  "SKF-RUN-011": {
    title: "Unknown archived workflow",
    hint: "Run `skiff archive list` to see the archived runs (a run is archived when it completes); give --uid to pick one run of a name.",
  },
  "SKF-RUN-012": {
    title: "Store cannot delete archived runs",
    hint: "This store keeps archived runs until its retention (gc) expires them.",
  },
});

/** The archive table: one row per run, newest first. */
export function renderArchive(wfs: Workflow[]): string {
  const rows = [["NAME", "UID", "STATUS", "STARTED", "FINISHED", "MESSAGE"]];
  for (const w of wfs)
    rows.push([
      w.metadata.name ?? "",
      w.metadata.uid ?? "",
      w.status?.phase || "",
      w.status?.startedAt ?? "",
      w.status?.finishedAt ?? "",
      w.status?.message ?? "",
    ]);
  return formatTable(rows);
}

async function archived(store: Store, namespace: string, name: string, uid?: string): Promise<Workflow> {
  const wf = await store.archiveGet(namespace, name, uid);
  if (!wf)
    throw new SkiffError(
      "SKF-RUN-011",
      `no archived run of ${namespace}/${name}${uid ? ` with uid ${uid}` : ""}`,
    );
  return wf;
}

/** `skiff archive list|get|delete`: the completed runs the store keeps (Argo's workflow archive). */
export function archiveCommand(setExitCode: (c: number) => void): Command {
  const archive = new Command("archive").description("Completed runs kept in the store's archive");
  archive.addCommand(
    common(new Command("list").description("List archived runs, newest first"))
      .option("--status <phases>", "comma-separated phases, e.g. Failed,Error")
      .option("-l, --selector <labels>", "label selector: key=value, key!=value or key, comma-separated")
      .option("--prefix <prefix>", "only runs whose name starts with this")
      .option("--older <age>", "only runs finished longer ago than this (e.g. 1h, 2d)")
      .addOption(new Option("-o, --output <format>").choices(["name", "wide", "json", "yaml"]))
      .addHelpText(
        "after",
        "\nExamples:\n  skiff archive list\n  skiff archive list --status Failed -o wide\n  skiff archive list -o name\n",
      )
      .action(
        async (
          o: CommonOptions & {
            status?: string;
            selector?: string;
            prefix?: string;
            older?: string;
            output?: string;
          },
        ) => {
          await withStore(o, setExitCode, async (store) => {
            const wfs = filterRuns(await store.archiveList({ namespace: o.namespace }), listFilter(o));
            if (o.output === "name")
              process.stdout.write(
                [...new Set(wfs.map((w) => w.metadata.name))].map((n) => `${n}\n`).join(""),
              );
            else if (o.output === "json") process.stdout.write(JSON.stringify(wfs, null, 2) + "\n");
            else if (o.output === "yaml") process.stdout.write(stringify(wfs));
            else process.stdout.write(renderArchive(wfs));
            return EXIT.ok;
          });
        },
      ),
  );
  archive.addCommand(
    common(new Command("get").description("Show an archived run (the newest of that name unless --uid)"))
      .argument("<workflow>", "workflow name")
      .option("--uid <uid>", "the run with this metadata.uid")
      .addOption(new Option("-o, --output <format>").choices(["json", "yaml", "wide", "name"]))
      .addHelpText(
        "after",
        "\nExamples:\n  skiff archive get my-wf\n  skiff archive get my-wf --uid 3f1c... -o json\n",
      )
      .action(async (name: string, o: CommonOptions & { uid?: string; output?: string }) => {
        await withStore(o, setExitCode, async (store) => {
          const wf = await archived(store, o.namespace, name, o.uid);
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
      }),
  );
  archive.addCommand(
    common(new Command("delete").description("Delete archived runs of a name (or one with --uid)"))
      .argument("<workflows...>", "workflow names")
      .option("--uid <uid>", "only the run with this metadata.uid")
      .addHelpText(
        "after",
        "\nExamples:\n  skiff archive delete my-wf\n  skiff archive delete my-wf --uid 3f1c...\n",
      )
      .action(async (names: string[], o: CommonOptions & { uid?: string }) => {
        await withStore(o, setExitCode, async (store) => {
          if (!store.archiveDelete)
            throw new SkiffError("SKF-RUN-012", "this store cannot delete single archived runs");
          for (const name of names) {
            await archived(store, o.namespace, name, o.uid);
            const n = await store.archiveDelete(o.namespace, name, o.uid);
            process.stdout.write(`archived workflow ${name} deleted (${n} run${n === 1 ? "" : "s"})\n`);
          }
          return EXIT.ok;
        });
      }),
  );
  return archive;
}
