import { resolve } from "node:path";
import { SkiffError } from "../../runtime/errors/index.js";
import type { Executor, LogLine, StepHandle } from "../../runtime/interfaces/executor.js";
import type { Workflow } from "../../runtime/spec/types.js";
import type { SkiffConfig } from "../config/index.js";
import type { RunReporter } from "../reporters/events.js";
import type { RunHooks } from "./engine.js";
import { runSelection } from "./pipeline.js";
import { manifestOf, registryLookup } from "./registry.js";
import { loadRunnables, manifestOfStored, withRegistry, type Selection } from "./select.js";
import { Library, type LoadedManifest } from "../../runtime/spec/index.js";
import { openRunStore, readSource } from "./store.js";

export { runSource } from "./select.js";

/** Executor choices given on the command line of the process that continues a run. */
export interface ExecutorOverride {
  executor?: string;
  sandbox?: string;
}

/**
 * The config a stored run continues with: the executor, sandbox, images and image map it was started with
 * (recorded in its source), then what `override` names explicitly (`resume --executor`...). A run recorded
 * before executors were recorded keeps `config`'s.
 */
export function withRecordedExecutor(
  stored: Workflow,
  config: SkiffConfig,
  override: ExecutorOverride = {},
): SkiffConfig {
  const recorded = readSource(stored)?.executor;
  const out: SkiffConfig = { ...config, host: { ...config.host } };
  if (recorded) {
    out.executor = recorded.executor;
    out.host = { ...recorded.host };
    out.images = recorded.images;
    out.imageMap = recorded.imageMap;
    out.extraCAFiles = recorded.extraCAFiles;
    if (recorded.kubernetes) out.kubernetes = recorded.kubernetes;
  }
  if (override.executor) out.executor = override.executor as SkiffConfig["executor"];
  if (override.sandbox) out.host.sandbox = override.sandbox as SkiffConfig["host"]["sandbox"];
  return out;
}

/**
 * The stored-workflow selection route (`skiff resume` of a killed run, `retry`, `resubmit`, the background
 * process of `submit`): loads the workflow's recorded source again (same manifest, entrypoint, parameters
 * and name) and continues it from the stored status, so succeeded steps keep their outputs and are not run
 * again. `SKF-RUN-006` when the run was not recorded or its source cannot be loaded.
 */
export async function selectStored(
  stored: Workflow,
  config: SkiffConfig,
  resumeSelector?: true | string,
): Promise<Selection> {
  const name = stored.metadata.name ?? "";
  const source = readSource(stored);
  if (!source)
    throw new SkiffError("SKF-RUN-006", `workflow ${name} has no recorded source to continue from`);
  // Created through the server's API, submitted from the registry, or loaded from files.
  const { library, manifest } = source.inline
    ? await inlineSource(stored, config)
    : source.manifest
      ? await registeredSource(source.manifest, config)
      : await loadedSource(source.paths, source.file, source.docIndex, config);
  if (!manifest) {
    const loaded = await loadRunnables(source.paths);
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
  const stepLogs = await storedStepLogs(stored, config);
  return {
    library,
    runnables: [
      {
        manifest,
        name,
        compileOptions: {
          entrypoint: source.entrypoint,
          parameters: source.parameters,
          name,
          workflowDefaults: config.workflowDefaults,
        },
        source,
        persisted: stored,
        ...(resumeSelector !== undefined ? { resume: resumeSelector } : {}),
        wrapExecutor: (e) => skipStoredLogs(e, stepLogs),
      },
    ],
    skipped: [],
    rejected: [],
  };
}

/** The manifest a run was started from, from its files, with references completed from the registry. */
async function loadedSource(
  paths: string[],
  file: string,
  docIndex: number,
  config: SkiffConfig,
): Promise<{ library: Library; manifest: LoadedManifest | undefined }> {
  const loaded = await loadRunnables(paths);
  const manifest = loaded.manifests.find((m) => resolve(m.file) === file && m.docIndex === docIndex);
  return { library: await withRegistry(loaded.manifests, loaded.library, registryLookup(config)), manifest };
}

/** A workflow created through the server's API: the stored object itself, with the registry as its library. */
async function inlineSource(
  stored: Workflow,
  config: SkiffConfig,
): Promise<{ library: Library; manifest: LoadedManifest }> {
  const manifest = manifestOfStored(stored);
  const namespace = stored.metadata.namespace || "default";
  return { library: Library.from([manifest, ...(await registryLookup(config)(namespace))]), manifest };
}

/** The object a run was submitted from (`submit --from`, a CronWorkflow), with the registry as its library. */
async function registeredSource(
  object: Record<string, unknown>,
  config: SkiffConfig,
): Promise<{ library: Library; manifest: LoadedManifest }> {
  const manifest = manifestOf(object as { kind: string; metadata?: { name?: string; namespace?: string } });
  const namespace = manifest.object.metadata?.namespace || "default";
  return { library: Library.from([manifest, ...(await registryLookup(config)(namespace))]), manifest };
}

/**
 * Continues a stored workflow whose process is gone (see {@link selectStored}) and returns it completed.
 * Reporters of the run pipeline see its events; `hooks.onEvent` gets the controller's.
 */
export async function recoverWorkflow(
  stored: Workflow,
  config: SkiffConfig,
  hooks: RunHooks = {},
  resumeSelector?: true | string,
  reporters: readonly RunReporter[] = [],
): Promise<Workflow> {
  const selection = await selectStored(stored, config, resumeSelector);
  const { onEvent, ...rest } = hooks;
  const forward: RunReporter[] = onEvent
    ? [{ onEvent: (e) => (e.type === "controller" ? onEvent(e.event) : undefined) }]
    : [];
  const result = await runSelection(selection, {
    config,
    hooks: rest,
    onError: "stop",
    reporters: [...forward, ...reporters],
  });
  return result.workflows[0]!.workflow!;
}

const logKey = (l: Pick<LogLine, "nodeId" | "container" | "stream">): string =>
  `${l.nodeId}\u0000${l.container}\u0000${l.stream}`;

/** How many lines the store holds of each stream of the steps that were running when the run died. */
async function storedStepLogs(stored: Workflow, config: SkiffConfig): Promise<Map<string, number>> {
  const running = new Set(
    Object.values(stored.status?.nodes ?? {})
      .filter((n) => n.type === "Pod" && (n.phase === "Running" || n.phase === "Pending"))
      .map((n) => n.id),
  );
  const counts = new Map<string, number>();
  if (running.size === 0) return counts;
  const store = await openRunStore(config);
  try {
    const { namespace = "default", name = "" } = stored.metadata;
    for await (const line of store.readLogs(namespace, name)) {
      if (running.has(line.nodeId)) counts.set(logKey(line), (counts.get(logKey(line)) ?? 0) + 1);
    }
  } finally {
    await store.close();
  }
  return counts;
}

/**
 * A re-attached step's logs start again from its beginning (`Executor.attach`); the lines the dead process
 * had already stored are left out, so the stored logs hold each line once.
 */
function skipStoredLogs(executor: Executor, stored: ReadonlyMap<string, number>): Executor {
  if (stored.size === 0 || !executor.attach) return executor;
  const attach = executor.attach.bind(executor);
  const attached = new Set<string>();
  async function* skipping(lines: AsyncIterable<LogLine>): AsyncIterable<LogLine> {
    const seen = new Map<string, number>();
    for await (const line of lines) {
      const key = logKey(line);
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      if (n > (stored.get(key) ?? 0)) yield line;
    }
  }
  return {
    name: executor.name,
    capabilities: executor.capabilities,
    start: (step) => executor.start(step),
    attach: async (step) => {
      const handle = await attach(step);
      if (handle) attached.add(handle.id);
      return handle;
    },
    ready: (h) => executor.ready(h),
    wait: (h) => executor.wait(h),
    logs: (h: StepHandle) => (attached.has(h.id) ? skipping(executor.logs(h)) : executor.logs(h)),
    kill: (h, reason) => executor.kill(h, reason),
    cleanup: () => executor.cleanup(),
  };
}
