import { resolve } from "node:path";
import { SkiffError } from "../../runtime/errors/index.js";
import { checkExpressionSyntax } from "../../runtime/expr/index.js";
import type { Executor, LogLine, StepHandle } from "../../runtime/interfaces/executor.js";
import { compile } from "../../runtime/spec/index.js";
import type { Workflow } from "../../runtime/spec/types.js";
import type { SkiffConfig } from "../config/index.js";
import { runCompiledWorkflow, type RunHooks } from "./engine.js";
import { loadRunnables } from "./select.js";
import { openRunStore, readSource, type RunSource } from "./store.js";

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
    checkExpressionSyntax,
    entrypoint: source.entrypoint,
    parameters: source.parameters,
    name,
    workflowDefaults: config.workflowDefaults,
  });
  const stepLogs = await storedStepLogs(stored, config);
  const wrap = hooks.wrapExecutor;
  const skipping: RunHooks = {
    ...hooks,
    wrapExecutor: (e) => skipStoredLogs(wrap ? wrap(e) : e, stepLogs),
  };
  return runCompiledWorkflow(compiled, config, skipping, {
    persisted: stored,
    source,
    ...(resumeSelector !== undefined ? { resume: resumeSelector } : {}),
  });
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
