import { Command, Option } from "commander";
import { readFile, writeFile } from "node:fs/promises";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { defineErrorCodes, SkiffAggregateError, SkiffError } from "../../../runtime/errors/index.js";
import { MetricsRegistry } from "../../../runtime/metrics/index.js";
import { loadConfig, type SkiffConfig } from "../../config/index.js";
import { createConsoleReporter } from "../../reporters/console/live.js";
import { createConsoleRunReporter } from "../../reporters/console/run.js";
import type { RunReporter } from "../../reporters/events.js";
import { createJUnitReporter } from "../../reporters/junit/reporter.js";
import { EXIT } from "../exit.js";
import { printError } from "../output.js";
import { runSelection } from "../../run/pipeline.js";
import { registryLookup } from "../../run/registry.js";
import { selectPaths } from "../../run/select.js";

export const RUN_CODES = defineErrorCodes({
  "SKF-CLI-001": {
    title: "Bad command-line parameter",
    hint: "Parameters are given as -p name=value; a parameter file is a YAML or JSON mapping of names to values.",
  },
});

export interface RunOptions {
  entrypoint?: string;
  parameter: string[];
  parameterFile?: string;
  executor?: string;
  config?: string;
  output?: string;
  logs?: boolean;
  name?: string;
  sandbox?: string;
  stateDir?: string;
  metricsFile?: string;
  junit?: string;
  namespace?: string;
}

/** Parses `-p name=value` pairs and a parameter file into one map (command-line values win). */
export async function readParameters(
  pairs: string[],
  file: string | undefined,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  if (file) {
    let raw: unknown;
    try {
      raw = parseYaml(await readFile(file, "utf8"));
    } catch (e) {
      throw new SkiffError("SKF-CLI-001", `cannot read parameter file ${file}: ${(e as Error).message}`, {
        position: { file },
      });
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw new SkiffError("SKF-CLI-001", `parameter file ${file} must be a mapping of names to values`, {
        position: { file },
      });
    }
    for (const [k, v] of Object.entries(raw)) out[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  for (const p of pairs) {
    const i = p.indexOf("=");
    if (i <= 0) throw new SkiffError("SKF-CLI-001", `parameter "${p}" is not of the form name=value`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function runCommand(setExitCode: (code: number) => void): Command {
  return new Command("run")
    .description("Run Argo workflows to completion on this machine and report their status")
    .argument(
      "<paths...>",
      "workflow files or folders (WorkflowTemplates and ConfigMaps beside them are used too)",
    )
    .option("--entrypoint <template>", "template to start from (overrides spec.entrypoint)")
    .option("-p, --parameter <name=value>", "set a workflow parameter (repeatable)", collect, [])
    .option("--parameter-file <file>", "YAML or JSON file of parameter values")
    .addOption(
      new Option("--executor <name>", "where steps run").choices(["auto", "host", "docker", "kubernetes"]),
    )
    .option("--namespace <namespace>", "Kubernetes namespace steps run in (kubernetes executor)")
    .option("--config <file>", "Skiff config file (images, sandbox, state folder)")
    .addOption(
      new Option("-o, --output <format>", "print the final workflow").choices([
        "json",
        "yaml",
        "wide",
        "name",
      ]),
    )
    .option("--logs", "stream step logs, each line prefixed with its step")
    .option("--name <name>", "name of the workflow (instead of metadata.name/generateName)")
    .addOption(new Option("--sandbox <mode>", "host executor sandbox").choices(["auto", "bwrap", "none"]))
    .option("--state-dir <dir>", "where runs, logs and local artifacts are kept")
    .option(
      "--metrics-file <file>",
      "write the run's Prometheus metrics (text format) to this file at the end",
    )
    .option("--junit <file>", "write a JUnit XML report (one testsuite per workflow, one testcase per step)")
    .addHelpText(
      "after",
      `
Examples:
  skiff run examples/hello-world.yaml
  skiff run pipeline.yaml -p message=hi --logs
  skiff run .skiff/ --entrypoint build -o json > result.json

Exit codes: 0 Succeeded, 1 Failed or Error, 2 rejected before running (invalid spec or arguments).`,
    )
    .action(async (paths: string[], opts: RunOptions) => {
      setExitCode(await runAction(paths, opts));
    });
}

/** `skiff run`: load, compile, run each workflow, print; returns the exit code. */
export async function runAction(paths: string[], opts: RunOptions): Promise<number> {
  let config: SkiffConfig;
  let parameters: Record<string, string>;
  try {
    config = await loadConfig(opts.config);
    if (opts.executor) config.executor = opts.executor as SkiffConfig["executor"];
    if (opts.sandbox) config.host.sandbox = opts.sandbox as SkiffConfig["host"]["sandbox"];
    if (opts.stateDir) config.stateDir = opts.stateDir;
    if (opts.namespace) config.kubernetes = { ...config.kubernetes, namespace: opts.namespace };
    parameters = await readParameters(opts.parameter ?? [], opts.parameterFile);
  } catch (e) {
    printError(e as SkiffError);
    return EXIT.rejected;
  }

  const selection = await selectPaths(paths, {
    entrypoint: opts.entrypoint,
    parameters,
    name: opts.name,
    workflowDefaults: config.workflowDefaults,
    registry: registryLookup(config),
  });
  if (selection.rejected.length > 0) {
    printError(
      new SkiffAggregateError(
        "SKF-CLI-001",
        selection.rejected.map((r) => r.error),
      ),
    );
    return EXIT.rejected;
  }

  const jsonOut = opts.output === "json" || opts.output === "yaml" || opts.output === "name";
  const live = !jsonOut && process.stderr.isTTY === true && process.env.CI === undefined;
  const metrics = opts.metricsFile ? new MetricsRegistry() : undefined;
  const consoleReporter = createConsoleRunReporter(
    () =>
      createConsoleReporter({
        out: jsonOut ? process.stderr : process.stdout,
        logOut: jsonOut ? process.stderr : process.stdout,
        live: live && process.stdout.isTTY === true,
        logs: opts.logs === true,
        wide: opts.output === "wide",
        color: live,
      }),
    (wf, reporter) => {
      if (opts.output === "json") process.stdout.write(JSON.stringify(wf, null, 2) + "\n");
      else if (opts.output === "yaml") process.stdout.write(stringifyYaml(wf));
      else if (opts.output === "name") process.stdout.write(`${wf.metadata.name}\n`);
      if (!jsonOut || opts.output !== "name") reporter.finish(wf);
    },
  );
  const reporters: RunReporter[] = [consoleReporter];
  if (opts.junit)
    reporters.push(
      createJUnitReporter({
        file: opts.junit,
        workspace: process.cwd(),
        onError: (e) => process.stderr.write(`cannot write the JUnit report ${opts.junit}: ${e.message}\n`),
      }),
    );
  if (metrics)
    reporters.push({ onEvent: (e) => (e.type === "controller" ? metrics.observe(e.event) : undefined) });
  let result;
  try {
    // Every workflow compiles before the first one runs; the first problem stops the command.
    result = await runSelection(selection, {
      config,
      reporters,
      onError: "stop",
      hooks: { signals: true, ...(metrics ? { metrics } : {}) },
    });
  } catch (e) {
    printError(e as SkiffError);
    return EXIT.rejected;
  }
  if (metrics && opts.metricsFile) await writeFile(opts.metricsFile, await metrics.exposition());
  return result.failed > 0 ? EXIT.failed : EXIT.ok;
}
