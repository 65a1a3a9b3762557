import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import { SkiffError, defineErrorCodes } from "../../runtime/errors/index.js";
import { checkExpressionSyntax } from "../../runtime/expr/index.js";
import type { Executor } from "../../runtime/interfaces/executor.js";
import {
  compile,
  Library,
  loadPaths,
  parseManifests,
  type CompileOptions,
  type LoadedManifest,
  type LoadResult,
} from "../../runtime/spec/index.js";
import type { CompiledWorkflow } from "../../runtime/spec/compiled.js";
import type { Workflow } from "../../runtime/spec/types.js";
import {
  discoverPipelines,
  displayPath,
  isPipelineDocument,
  parsePipelineFile,
  pipelineCompileOptions,
  pipelineName,
  selectPipelines,
  type GitContext,
} from "../pipelines/index.js";
import { hasUnresolvedReference, type RegistryLookup } from "./registry.js";
import type { RunSource } from "./store.js";

export const SELECT_CODES = defineErrorCodes({
  "SKF-RUN-001": {
    title: "Nothing to run",
    hint: "Give a file or folder holding a Workflow (or a single WorkflowTemplate or CronWorkflow to submit as one).",
  },
});

/**
 * One workflow the run pipeline is to compile and run, whichever way it was selected (paths on the command
 * line, a Git event's triggers, a stored workflow to continue).
 */
export interface Runnable {
  manifest: LoadedManifest;
  /** The name it is reported under: the pipeline's `metadata.name`, else `generateName` without its dash. */
  name: string;
  /** The manifest's file as shown to the user (relative to the workspace), when it is shown. */
  file?: string;
  compileOptions: CompileOptions;
  /** Recorded on the workflow so that a killed run can be compiled again (`skiff resume`). */
  source?: RunSource;
  /** The stored workflow this run continues (its succeeded nodes are kept). */
  persisted?: Workflow;
  /** A create: refused when the store already holds the workflow's name (`skiff run`, as `argo submit`). */
  create?: boolean;
  /** After recovering: resume the workflow (`true`) or the suspend nodes a selector matches. */
  resume?: true | string;
  /** Wraps the executor of this run (a recovered run leaves out the log lines the store already holds). */
  wrapExecutor?: (executor: Executor) => Executor;
}

/** What a selection route found: what runs, what the event skipped, and what cannot run. */
export interface Selection {
  /** References resolve against it: every object loaded beside the runnables. */
  library: Library;
  runnables: Runnable[];
  /** Pipelines the event did not select, with the reason. */
  skipped: { pipeline: string; reason: string }[];
  /** Files and pipelines that cannot be read or selected, each with its error. */
  rejected: { pipeline: string; error: SkiffError }[];
  /** Set when the head commit asks to skip CI (`[skip ci]`...). */
  skipCi?: string;
}

export interface Runnables extends LoadResult {
  library: Library;
  /** The manifests to run, in load order. */
  selected: LoadedManifest[];
}

/** Whether a file's text holds a `kind: Pipeline` document. */
function holdsPipeline(text: string): boolean {
  if (!text.includes("Pipeline")) return false;
  try {
    return parseAllDocuments(text).some((doc) => {
      try {
        return isPipelineDocument(doc.toJS({ maxAliasCount: 100 }));
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/**
 * `loadPaths` of the command line (`run`, `submit`, `lint`): a file holding compact `kind: Pipeline`
 * documents is read as the Action reads it (`parsePipelineFile`), each Pipeline converted to its Workflow,
 * so it runs and lints instead of being an unknown kind.
 */
export async function loadPathsWithPipelines(
  paths: readonly string[],
  options: Parameters<typeof loadPaths>[1] = {},
): Promise<Awaited<ReturnType<typeof loadPaths>>> {
  const loaded = await loadPaths(paths, options);
  const converted = new Map<string, LoadResult>();
  for (const file of loaded.files) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch {
      continue;
    }
    if (holdsPipeline(text)) converted.set(file, parsePipelineFile(text, file));
  }
  if (converted.size === 0) return loaded;
  const other = (file: string | undefined) => file === undefined || !converted.has(file);
  const manifests = loaded.files.flatMap(
    (file) => converted.get(file)?.manifests ?? loaded.manifests.filter((m) => m.file === file),
  );
  const fromConverted = (pick: (r: LoadResult) => SkiffError[]) => [...converted.values()].flatMap(pick);
  return {
    files: loaded.files,
    manifests,
    problems: [
      ...loaded.problems.filter((p) => other(p.position?.file)),
      ...fromConverted((r) => r.problems),
    ],
    notes: [...loaded.notes.filter((n) => other(n.position?.file)), ...fromConverted((r) => r.notes)],
  };
}

/**
 * Loads paths and picks what to run: every Workflow; when there is none, a lone WorkflowTemplate or
 * CronWorkflow is submitted as a Workflow (as `argo submit --from` does). Everything else loaded
 * (templates, ConfigMaps, Secrets) is the library references resolve against.
 */
export async function loadRunnables(paths: readonly string[]): Promise<Runnables> {
  const loaded = await loadPathsWithPipelines(paths);
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

/** Records how a manifest was started (absolute paths), for a later `skiff resume`. */
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

/** How `selectPaths` compiles: `skiff run` and `skiff submit`'s options. */
export interface PathSelectionOptions {
  entrypoint?: string;
  parameters?: Record<string, string>;
  /** The workflow's name instead of `metadata.name`/`generateName`. */
  name?: string;
  workflowDefaults?: CompileOptions["workflowDefaults"];
  /**
   * Where `templateRef`/`workflowTemplateRef` resolve when the paths do not hold the template: the registry
   * of the store (`registryLookup`). Asked only then, for the namespaces of the workflows.
   */
  registry?: RegistryLookup;
}

/**
 * The library of loaded manifests, completed from the registry when one of them references a template
 * they do not hold. The templates passed on the command line win over stored ones of the same name.
 */
export async function withRegistry(
  manifests: readonly LoadedManifest[],
  library: Library,
  registry: RegistryLookup | undefined,
): Promise<Library> {
  if (!registry || !manifests.some((m) => hasUnresolvedReference(m.object, library))) return library;
  const namespaces = new Set(
    manifests
      .filter((m) => m.object.kind !== "ClusterWorkflowTemplate")
      .map((m) => m.object.metadata?.namespace || "default"),
  );
  const stored: LoadedManifest[] = [];
  for (const ns of namespaces.size > 0 ? namespaces : ["default"]) stored.push(...(await registry(ns)));
  return Library.from([...manifests, ...stored]);
}

/**
 * The command line's selection route: the Workflows in the paths given (see {@link loadRunnables}), each
 * with its source recorded so that a killed run can be continued.
 */
export async function selectPaths(
  paths: readonly string[],
  options: PathSelectionOptions = {},
): Promise<Selection> {
  const loaded = await loadRunnables(paths);
  const parameters = options.parameters ?? {};
  const compileOptions: CompileOptions = {
    entrypoint: options.entrypoint,
    parameters,
    name: options.name,
    workflowDefaults: options.workflowDefaults,
  };
  return {
    library: await withRegistry(loaded.manifests, loaded.library, options.registry),
    runnables: loaded.selected.map((manifest) => ({
      manifest,
      name: pipelineName(manifest),
      compileOptions,
      source: runSource(paths, manifest, { entrypoint: options.entrypoint, parameters }),
      create: true,
    })),
    skipped: [],
    rejected: loaded.problems.map((error) => ({ pipeline: error.position?.file ?? "?", error })),
  };
}

/** A Git event and the pipelines folder it selects from (the Action, later webhooks, GitLab, Jenkins). */
export interface EventSelectionInput {
  context: GitContext;
  /** The checkout: pipelines are shown relative to it. */
  workspace: string;
  /** The pipelines folder as the user named it (relative to the workspace). */
  pipelines: string;
  /** User parameters; they win over the Git context's. */
  parameters?: Record<string, string>;
  /** Objects added to the library (the Action's `secrets` input as a Secret). */
  library?: readonly LoadedManifest[];
}

/**
 * The Git event's selection route: finds the pipeline files of the folder, matches their triggers
 * (`src/pipelines`) and gives every selected pipeline the Git context as global parameters.
 */
export async function selectForEvent(input: EventSelectionInput): Promise<Selection> {
  const { context, workspace } = input;
  const found = await discoverPipelines(resolve(workspace, input.pipelines));
  const rejected: Selection["rejected"] = [];
  const where = (e: SkiffError, otherwise: string) =>
    e.position?.file ? displayPath(e.position.file, workspace) : otherwise;
  for (const error of found.problems) rejected.push({ pipeline: where(error, input.pipelines), error });
  const selection = selectPipelines(found.manifests, context);
  for (const error of selection.problems) rejected.push({ pipeline: where(error, "?"), error });
  if (found.problems.length === 0 && found.manifests.length === 0)
    rejected.push({
      pipeline: input.pipelines,
      error: new SkiffError("SKF-PIPE-001", `no pipeline found in ${input.pipelines}`, {
        hint: "Put Argo Workflows or kind: Pipeline files in .skiff/ (or set the pipelines input).",
      }),
    });
  return {
    library: Library.from([...found.manifests, ...(input.library ?? [])]),
    runnables: selection.selected.map((c) => ({
      manifest: c.manifest,
      name: c.name,
      file: displayPath(c.manifest.file, workspace),
      compileOptions: pipelineCompileOptions(
        c,
        context,
        input.parameters ? { parameters: input.parameters } : {},
      ),
    })),
    skipped: selection.skipped.map((c) => ({ pipeline: c.name, reason: c.decision.reason })),
    rejected,
    ...(selection.skipCi ? { skipCi: selection.skipCi } : {}),
  };
}

/**
 * Compiles one runnable against its selection's library, with expression syntax checked (spec takes the
 * check from its caller: decision 0007). Throws SkiffAggregateError with every problem.
 */
export function compileRunnable(selection: Selection, runnable: Runnable): CompiledWorkflow {
  return compile(runnable.manifest, selection.library, { checkExpressionSyntax, ...runnable.compileOptions });
}

/**
 * A Workflow object as a loaded manifest (a request body, a stored workflow): what the server creates
 * goes through the loader's checks as a file would, with `file` naming where it came from in messages.
 */
export function manifestOfObject(object: unknown, file: string): LoadResult {
  return parseManifests(JSON.stringify(object, null, 1), file);
}

/** The stored workflow's metadata and spec as the manifest it is compiled again from (status left out). */
export function manifestOfStored(stored: Workflow): LoadedManifest {
  const { resourceVersion: _rv, ...metadata } = stored.metadata;
  const loaded = manifestOfObject(
    { apiVersion: stored.apiVersion, kind: "Workflow", metadata, spec: stored.spec },
    `${metadata.namespace ?? "default"}/${metadata.name ?? ""}`,
  );
  const first = loaded.manifests[0];
  if (!first)
    throw (
      loaded.problems[0] ?? new SkiffError("SKF-RUN-006", `workflow ${metadata.name} cannot be read back`)
    );
  return first;
}

/**
 * The server's selection route: one Workflow object (a create request's body), compiled as `skiff run`
 * compiles a file's, with the source recorded as the stored workflow itself (`RunSource.inline`) so that
 * any process on the store can continue it.
 */
export function selectObject(
  object: unknown,
  where: string,
  options: PathSelectionOptions & { workspace: string },
): Selection {
  const loaded = manifestOfObject(object, where);
  const parameters = options.parameters ?? {};
  const manifest = loaded.manifests[0];
  return {
    library: Library.from(loaded.manifests),
    runnables:
      manifest && loaded.problems.length === 0
        ? [
            {
              manifest,
              name: pipelineName(manifest),
              compileOptions: {
                entrypoint: options.entrypoint,
                parameters,
                name: options.name,
                workflowDefaults: options.workflowDefaults,
              },
              source: {
                inline: true,
                paths: [],
                file: where,
                docIndex: 0,
                parameters,
                workspace: options.workspace,
              },
              create: true,
            },
          ]
        : [],
    skipped: [],
    rejected: loaded.problems.map((error) => ({ pipeline: where, error })),
  };
}
