import { SkiffError, defineErrorCodes } from "../../runtime/errors/index.js";
import { checkExpressionSyntax } from "../../runtime/expr/index.js";
import {
  compile,
  Library,
  loadPaths,
  type CompileOptions,
  type LoadedManifest,
  type LoadResult,
} from "../../runtime/spec/index.js";
import type { CompiledWorkflow } from "../../runtime/spec/compiled.js";

export const SELECT_CODES = defineErrorCodes({
  "SKF-RUN-001": {
    title: "Nothing to run",
    hint: "Give a file or folder holding a Workflow (or a single WorkflowTemplate or CronWorkflow to submit as one).",
  },
});

export interface Runnables extends LoadResult {
  library: Library;
  /** The manifests to run, in load order. */
  selected: LoadedManifest[];
}

/**
 * Loads paths and picks what to run: every Workflow; when there is none, a lone WorkflowTemplate or
 * CronWorkflow is submitted as a Workflow (as `argo submit --from` does). Everything else loaded
 * (templates, ConfigMaps, Secrets) is the library references resolve against.
 */
export async function loadRunnables(paths: readonly string[]): Promise<Runnables> {
  const loaded = await loadPaths(paths);
  const library = Library.from(loaded.manifests);
  const problems = [...loaded.problems];
  let selected = loaded.manifests.filter((m) => m.object.kind === "Workflow");
  if (selected.length === 0) {
    const submittable = loaded.manifests.filter(
      (m) => m.object.kind === "CronWorkflow" || m.object.kind === "WorkflowTemplate",
    );
    if (submittable.length === 1) selected = submittable;
  }
  if (selected.length === 0 && problems.length === 0) {
    problems.push(
      new SkiffError("SKF-RUN-001", `no Workflow found in ${paths.join(", ")}`, {
        position: paths.length === 1 ? { file: paths[0] } : undefined,
      }),
    );
  }
  return { ...loaded, problems, library, selected };
}

/** Compiles every selected manifest; throws the first compile error (an aggregate of all its problems). */
export function compileRunnables(r: Runnables, options: CompileOptions): CompiledWorkflow[] {
  return r.selected.map((m) => compile(m, r.library, { ...options, checkExpressionSyntax }));
}
