import { Command, Option } from "commander";
import { defineErrorCodes, formatPosition, SkiffError } from "../../../runtime/errors/index.js";
import { checkExpressionSyntax } from "../../../runtime/expr/index.js";
import { lintPaths } from "../../../runtime/spec/index.js";
import { loadConfig } from "../../config/index.js";
import { registryLookup } from "../../run/registry.js";
import { loadPathsWithPipelines, withRegistry } from "../../run/select.js";
import { EXIT } from "../exit.js";

export const LINT_CLI_CODES = defineErrorCodes({
  "SKF-CLI-002": {
    title: "Nothing to lint",
    hint: "Give the files or folders that hold the workflows (*.yaml, *.yml, *.json: Argo objects or kind: Pipeline); folders are searched recursively, skipping hidden ones and node_modules.",
  },
});

interface LintCliOptions {
  output: "table" | "json";
  strict: boolean;
}

/** `skiff lint PATH...`: Argo's lint. Exit 0 when everything is valid, 2 when a problem was found. */
export function lintCommand(setExitCode: (code: number) => void): Command {
  return new Command("lint")
    .description("Check Argo workflow files (and directories of them) the way `argo lint` does.")
    .argument("<paths...>", "files or directories (*.yaml, *.yml, *.json, recursively)")
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"),
    )
    .option("--strict", "reject duplicate keys (by default the last one wins and a note says so)", false)
    .action(async (paths: string[], options: LintCliOptions) => {
      // As argo lint resolves references against the cluster: templates the files lack come from the store.
      const registry = registryLookup(await loadConfig(undefined));
      const result = await lintPaths(paths, {
        strict: options.strict,
        checkExpressionSyntax,
        load: loadPathsWithPipelines,
        library: (manifests, library) => withRegistry(manifests, library, registry),
      });
      // As `argo lint` of a folder without manifests: an error, so a wrong path does not pass CI.
      if (result.objects === 0 && result.problems.length === 0)
        result.problems.push(
          new SkiffError(
            "SKF-CLI-002",
            `nothing to lint in ${paths.join(", ")}: ${result.files === 0 ? "no YAML or JSON files" : "no Argo objects or Pipelines"}`,
            paths.length === 1 ? { position: { file: paths[0]! } } : {},
          ),
        );
      if (options.output === "json") {
        process.stdout.write(
          `${JSON.stringify(
            {
              files: result.files,
              objects: result.objects,
              problems: result.problems.map(toJson),
              notes: result.notes.map(toJson),
            },
            null,
            2,
          )}\n`,
        );
      } else {
        process.stdout.write(formatLintTable(result.problems, result.notes, result.files, result.objects));
      }
      setExitCode(result.problems.length === 0 ? EXIT.ok : EXIT.rejected);
    });
}

function toJson(p: SkiffError): Record<string, unknown> {
  return {
    code: p.code,
    message: p.message,
    hint: p.hint,
    file: p.position?.file,
    line: p.position?.line,
    column: p.position?.column,
    path: p.path,
  };
}

/** The terminal form: one block per problem, `file:line:col  CODE  message`, the hint below it. */
export function formatLintTable(
  problems: SkiffError[],
  notes: SkiffError[],
  files: number,
  objects: number,
): string {
  const rows = problems.map(
    (p) => [formatPosition(p.position) ?? "", p.code, p.message, p.hint ?? ""] as const,
  );
  const w0 = Math.max(8, ...rows.map((r) => r[0].length));
  const w1 = Math.max(4, ...rows.map((r) => r[1].length));
  let out = "";
  if (rows.length > 0) {
    out += `${"LOCATION".padEnd(w0)}  ${"CODE".padEnd(w1)}  MESSAGE\n`;
    for (const [where, code, message, hint] of rows) {
      out += `${where.padEnd(w0)}  ${code.padEnd(w1)}  ${message}\n`;
      if (hint !== "") out += `${" ".repeat(w0 + w1 + 4)}hint: ${hint}\n`;
    }
  }
  for (const n of notes) out += `note: ${formatPosition(n.position) ?? ""} ${n.message} (skipped)\n`;
  const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? "" : "s"}`;
  out +=
    problems.length === 0
      ? `${plural(objects, "object")} in ${plural(files, "file")}: no problems found\n`
      : `${plural(problems.length, "problem")} in ${plural(objects, "object")} (${plural(files, "file")})\n`;
  return out;
}
