import { Command, Option } from "commander";
import { readFile } from "node:fs/promises";
import { stringify } from "yaml";
import { SkiffAggregateError, SkiffError } from "../../../runtime/errors/index.js";
import { checkExpressionSyntax } from "../../../runtime/expr/index.js";
import { Library } from "../../../runtime/spec/library.js";
import { validate } from "../../../runtime/spec/validate.js";
import type { Workflow } from "../../../runtime/spec/types.js";
import { PIPE_CODES } from "../../pipelines/codes.js";
import { parsePipelineFile } from "../../pipelines/discover.js";
import { EXIT } from "../exit.js";
import { printError } from "../output.js";

export interface ConvertResult {
  workflows: Workflow[];
  problems: SkiffError[];
}

/**
 * Converts every `kind: Pipeline` document of a file into the Argo Workflow it runs as, and checks each
 * result with Argo's lint rules. Argo objects beside the pipelines are the library references resolve in.
 */
export async function convertFile(file: string): Promise<ConvertResult> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    return {
      workflows: [],
      problems: [
        new SkiffError("SKF-CORE-002", `cannot read ${file}: ${(e as Error).message}`, {
          position: { file },
        }),
      ],
    };
  }
  const loaded = parsePipelineFile(text, file);
  const converted = loaded.manifests.filter(
    (m) => m.object.kind === "Workflow" && m.object.metadata.labels?.["skiff.dev/pipeline"] !== undefined,
  );
  const problems = [...loaded.problems];
  if (converted.length === 0 && problems.length === 0)
    problems.push(
      new SkiffError(PIPE_CODES["SKF-PIPE-008"], `${file} holds no kind: Pipeline document`, {
        position: { file },
      }),
    );
  const library = Library.from(loaded.manifests);
  for (const m of converted) problems.push(...validate(m, library, { checkExpressionSyntax }));
  return { workflows: converted.map((m) => m.object as Workflow), problems };
}

export function convertCommand(setExitCode: (code: number) => void): Command {
  return new Command("convert")
    .description("Print the Argo Workflow a compact kind: Pipeline file runs as")
    .argument("<file>", "a file holding one or more kind: Pipeline documents")
    .addOption(new Option("-o, --output <format>", "output format").choices(["yaml", "json"]).default("yaml"))
    .addHelpText(
      "after",
      `
Examples:
  skiff convert .skiff/ci.yaml
  skiff convert .skiff/ci.yaml > ci-workflow.yaml && argo submit ci-workflow.yaml

Exit codes: 0 converted, 2 the pipeline is not valid.`,
    )
    .action(async (file: string, opts: { output: "yaml" | "json" }) => {
      const result = await convertFile(file);
      if (result.problems.length > 0) {
        printError(new SkiffAggregateError(result.problems[0]!.code, result.problems));
        setExitCode(EXIT.rejected);
        return;
      }
      if (opts.output === "json")
        process.stdout.write(
          JSON.stringify(result.workflows.length === 1 ? result.workflows[0] : result.workflows, null, 2) +
            "\n",
        );
      else process.stdout.write(result.workflows.map((w) => stringify(w, { lineWidth: 0 })).join("---\n"));
      setExitCode(EXIT.ok);
    });
}
