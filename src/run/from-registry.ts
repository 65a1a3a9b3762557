import {
  rfc3339,
  startCronScheduler,
  type CronScheduler,
  type CronSubmission,
} from "../../runtime/cron/index.js";
import { SkiffError } from "../../runtime/errors/index.js";
import { SystemClock, type Clock } from "../../runtime/interfaces/clock.js";
import type { Store } from "../../runtime/interfaces/store.js";
import { Library, type CompileOptions } from "../../runtime/spec/index.js";
import type { SkiffConfig } from "../config/index.js";
import { sendCommand } from "./control.js";
import { startDetached, type DetachOptions } from "./detach.js";
import { manifestOf, registryRefOf, TemplateRegistry, type RegistryKind } from "./registry.js";
import { compileRunnable, type Selection } from "./select.js";
import { recordedExecutor, type RunSource } from "./store.js";
import { storeSubmitted } from "./retry.js";

/** What `selectRegistered` compiles with: `skiff submit --from`'s options. */
export interface RegisteredSelectionOptions {
  entrypoint?: string;
  parameters?: Record<string, string>;
  /** The workflow's name instead of the generated `<name>-xxxxx`. */
  name?: string;
  workflowDefaults?: CompileOptions["workflowDefaults"];
  /** The current time, for the scheduled-time annotation of a run submitted from a CronWorkflow. */
  now?: number;
}

/**
 * The registry's selection route (`skiff submit --from KIND/NAME`, the server's submit): the stored
 * WorkflowTemplate, ClusterWorkflowTemplate or CronWorkflow submitted as a Workflow as Argo does it
 * (`generateName: <name>-`, `workflowTemplateRef` or the cron's `workflowSpec`, Argo's labels), references
 * resolved from the registry. `SKF-REG-003` when the store holds no such object.
 */
export async function selectRegistered(
  store: Store,
  kind: RegistryKind,
  namespace: string,
  name: string,
  options: RegisteredSelectionOptions = {},
): Promise<Selection> {
  const registry = new TemplateRegistry(store);
  const object = structuredClone(await registry.get(kind, namespace, name));
  if (kind === "CronWorkflow") {
    // Argo's submit from a cron: its scheduled-time annotation is now.
    const meta = ((
      object.spec as { workflowMetadata?: { annotations?: Record<string, string> } }
    ).workflowMetadata ??= {});
    meta.annotations = {
      ...meta.annotations,
      "workflows.argoproj.io/scheduled-time": rfc3339(options.now ?? Date.now()),
    };
  }
  if (kind === "ClusterWorkflowTemplate") object.metadata = { ...object.metadata, namespace };
  const manifest = manifestOf(object);
  const parameters = options.parameters ?? {};
  const source: RunSource = {
    paths: [],
    file: registryRefOf(kind, name),
    docIndex: 0,
    ...(options.entrypoint ? { entrypoint: options.entrypoint } : {}),
    parameters,
    workspace: process.cwd(),
    manifest: object as unknown as Record<string, unknown>,
  };
  return {
    library: Library.from([manifest, ...(await registry.library(namespace))]),
    runnables: [
      {
        manifest,
        name,
        file: source.file,
        compileOptions: {
          entrypoint: options.entrypoint,
          parameters,
          name: options.name,
          namespace,
          workflowDefaults: options.workflowDefaults,
        },
        source,
        create: true,
      },
    ],
    skipped: [],
    rejected: [],
  };
}

/**
 * Stores one scheduled run of a CronWorkflow (compiled with references from the registry, recorded so that
 * it can be compiled again) and starts a background `skiff` process that runs it, as `skiff submit` does.
 */
export async function submitCronRun(
  store: Store,
  submission: CronSubmission,
  config: SkiffConfig & { configFile?: string },
  detach: Omit<DetachOptions, "stateDir"> = {},
  run: Pick<StoreCronSchedulerOptions, "start" | "workspace"> = {},
): Promise<void> {
  const { workflow } = submission;
  const namespace = workflow.metadata.namespace ?? "default";
  const name = workflow.metadata.name ?? "";
  const manifest = manifestOf(workflow);
  const library = Library.from([manifest, ...(await new TemplateRegistry(store).library(namespace))]);
  const selection: Selection = { library, runnables: [], skipped: [], rejected: [] };
  const compiled = compileRunnable(selection, {
    manifest,
    name,
    compileOptions: { name, namespace, parameters: {}, workflowDefaults: config.workflowDefaults },
  });
  await storeSubmitted(store, compiled, {
    paths: [],
    file: registryRefOf("CronWorkflow", submission.cron.metadata.name ?? ""),
    docIndex: 0,
    parameters: {},
    workspace: run.workspace ?? process.cwd(),
    manifest: workflow as unknown as Record<string, unknown>,
    executor: recordedExecutor(config),
  });
  if (run.start) await run.start(namespace, name);
  else await startDetached(store, namespace, name, { stateDir: config.stateDir, ...detach });
}

/** Terminates a run for `concurrencyPolicy: Replace`; one that is gone or finished is left alone (as Argo). */
export async function terminateCronRun(store: Store, namespace: string, name: string): Promise<void> {
  try {
    await sendCommand(store, namespace, name, { action: "terminate" });
  } catch (e) {
    if (!(e instanceof SkiffError && (e.code === "SKF-RUN-003" || e.code === "SKF-RUN-004"))) throw e;
  }
}

/** Options of `startStoreCronScheduler`. */
export interface StoreCronSchedulerOptions {
  store: Store;
  config: SkiffConfig & { configFile?: string };
  /** Default: the system clock. */
  clock?: Clock;
  /** Only this namespace's CronWorkflows. */
  namespace?: string;
  /** How the background processes run the workflows (`--config`, `--executor`, `--sandbox`). */
  detach?: Omit<DetachOptions, "stateDir">;
  /** Starts a stored firing instead of a background process (the server's own runner takes it). */
  start?: (namespace: string, name: string) => Promise<unknown>;
  /** The folder the runs' steps see as their workspace (default: the current directory). */
  workspace?: string;
  onError?: Parameters<typeof startCronScheduler>[0]["onError"];
  onFiring?: Parameters<typeof startCronScheduler>[0]["onFiring"];
}

/**
 * The scheduler of `runtime/cron` wired to this store: each firing is stored and run by a background
 * process (`submitCronRun`), `Replace` terminates through the store's command records. The server runs one;
 * `skiff cron schedule` runs one in the foreground.
 */
export function startStoreCronScheduler(options: StoreCronSchedulerOptions): CronScheduler {
  const { store } = options;
  return startCronScheduler({
    store,
    clock: options.clock ?? new SystemClock(),
    ...(options.namespace ? { namespace: options.namespace } : {}),
    submit: (s) => submitCronRun(store, s, options.config, options.detach, options),
    terminate: (namespace, name) => terminateCronRun(store, namespace, name),
    ...(options.onError ? { onError: options.onError } : {}),
    ...(options.onFiring ? { onFiring: options.onFiring } : {}),
  });
}
