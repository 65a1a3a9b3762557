import { resolve } from "node:path";
import { SkiffError } from "../../runtime/errors/index.js";
import { compile } from "../../runtime/spec/index.js";
import type { Workflow } from "../../runtime/spec/types.js";
import type { SkiffConfig } from "../config/index.js";
import { runCompiledWorkflow, type RunHooks } from "./engine.js";
import { loadRunnables } from "./select.js";
import { readSource, type RunSource } from "./store.js";

/** Records how a manifest was started (absolute paths), for `recoverWorkflow`. */
export function runSource(
  paths: readonly string[],
  manifest: { file: string; docIndex: number },
  options: { entrypoint?: string; parameters: Record<string, string>; workspace?: string },
): RunSource {
  return {
    paths: paths.map((p) => resolve(p)),
    file: resolve(manifest.file),
    docIndex: manifest.docIndex,
    ...(options.entrypoint ? { entrypoint: options.entrypoint } : {}),
    parameters: options.parameters,
    workspace: resolve(options.workspace ?? process.cwd()),
  };
}

/**
 * Continues a stored workflow whose process is gone: compiles its source again (same manifest, entrypoint,
 * parameters and name), takes its lease and resumes it from the stored status, so succeeded steps keep their
 * outputs and are not run again. `SKF-RUN-006` when the run was not recorded or its source cannot be loaded.
 */
export async function recoverWorkflow(
  stored: Workflow,
  config: SkiffConfig,
  hooks: RunHooks = {},
  resumeSelector?: true | string,
): Promise<Workflow> {
  const name = stored.metadata.name ?? "";
  const source = readSource(stored);
  if (!source)
    throw new SkiffError("SKF-RUN-006", `workflow ${name} has no recorded source to continue from`);
  const loaded = await loadRunnables(source.paths);
  const manifest = loaded.manifests.find(
    (m) => resolve(m.file) === source.file && m.docIndex === source.docIndex,
  );
  if (!manifest) {
    const first = loaded.problems[0];
    const problems = first ? `: ${first.message}` : "";
    throw new SkiffError(
      "SKF-RUN-006",
      `cannot load ${source.file} to continue workflow ${name}${problems}`,
      {
        position: { file: source.file },
      },
    );
  }
  const compiled = compile(manifest, loaded.library, {
    entrypoint: source.entrypoint,
    parameters: source.parameters,
    name,
    workflowDefaults: config.workflowDefaults,
  });
  return runCompiledWorkflow(compiled, config, hooks, {
    persisted: stored,
    source,
    ...(resumeSelector !== undefined ? { resume: resumeSelector } : {}),
  });
}
