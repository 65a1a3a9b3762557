import { constants } from "node:fs";
import { access, mkdir, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createStore } from "../../runtime/store/index.js";
import { defineErrorCodes, SkiffError } from "../../runtime/errors/index.js";
import type { Lease, Store } from "../../runtime/interfaces/store.js";
import type { Workflow } from "../../runtime/spec/types.js";
import type { ExecutorSettings } from "./executors.js";

export const STORE_RUN_CODES = defineErrorCodes({
  "SKF-RUN-005": {
    title: "Workflow owned by another process",
    hint: "Another `skiff` process holds this workflow's lease and runs it. Wait for it (`skiff wait NAME`), or stop it first; a killed owner's lease is taken over by `skiff resume NAME`.",
  },
  "SKF-RUN-006": {
    title: "Workflow cannot be recovered",
    hint: "Only workflows started by `skiff run` with this version can be continued; their source files must still be where they were.",
  },
  "SKF-RUN-015": {
    title: "Store folder cannot be created",
    hint: "Point --state-dir (or SKIFF_STATE_DIR, SKIFF_STORE, the config's stateDir or store) at a folder this user may create and write.",
  },
  "SKF-RUN-031": {
    title: "Workflow handed back",
    hint: "The process running the workflow is shutting down and let it go without ending it; another process on the same store (a `skiff server`, or `skiff resume NAME`) continues it.",
  },
  "SKF-RUN-014": {
    title: "Workflow already exists",
    hint: "The store already holds a workflow of this name (as Argo, a fixed metadata.name is created once). Continue it with `skiff resume NAME`, remove it with `skiff delete NAME`, or name each run anew with metadata.generateName (or --generate-name/--name).",
  },
});

/** Lease length: a killed owner on another host is taken over after at most this long. */
export const LEASE_TTL_MS = 15_000;
/** Annotation that records how a run was started, so `skiff resume` can compile it again. */
export const SOURCE_ANNOTATION = "skiff.dev/run-source";
/** Label of command records (another namespace, never listed as workflows). */
export const COMMAND_LABEL = "skiff.dev/command";
export const COMMAND_NAMESPACE = "skiff-commands";

/** What names the store: the config's `stateDir` and `store` fields. */
export interface StoreSettings {
  stateDir: string;
  store?: string;
}

/**
 * The store a config names: `$SKIFF_STORE` (a `postgres://` URL or a folder), else the config's `store`,
 * else `<stateDir>/store`.
 */
export function storeLocation(settings: StoreSettings, env: NodeJS.ProcessEnv = process.env): string {
  return env.SKIFF_STORE || settings.store || join(settings.stateDir, "store");
}

/**
 * `mkdir -p` one level at a time: Node's recursive mkdir never returns for some paths (under `/proc`).
 */
async function makeFolder(folder: string): Promise<void> {
  const missing: string[] = [];
  let at = folder;
  for (;;) {
    const found = await stat(at).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return undefined;
      throw e;
    });
    if (found) break;
    missing.push(at);
    if (dirname(at) === at) break;
    at = dirname(at);
  }
  for (const dir of missing.reverse()) {
    await mkdir(dir, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "EEXIST") throw e;
    });
  }
}

/**
 * Opens the store the settings name. A folder that cannot be created or written fails at once with
 * `SKF-RUN-015` naming it, before the store's locks would wait on it.
 */
export async function openRunStore(settings: StoreSettings): Promise<Store> {
  const location = storeLocation(settings);
  if (!/^postgres(ql)?:\/\//i.test(location)) {
    const folder = location.startsWith("file:") ? fileURLToPath(location) : location;
    try {
      await makeFolder(resolve(folder));
      await access(folder, constants.W_OK);
    } catch (e) {
      throw new SkiffError(
        "SKF-RUN-015",
        `cannot create the store folder ${location}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        { position: { file: location } },
      );
    }
  }
  return createStore(storeLocation(settings));
}

/** `host:pid:random`: readable in error messages, and lets a process on the same host see the owner died. */
export function newOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
}

/** Whether a lease's owner still runs: by its pid on this host, else by the lease not having expired. */
export function leaseAlive(lease: Lease | undefined, now = Date.now()): boolean {
  if (!lease) return false;
  const [host, pidText] = lease.owner.split(":");
  const pid = Number(pidText);
  if (host === hostname() && Number.isInteger(pid) && pid > 0) {
    if (pid === process.pid) return lease.expiresAt > now;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
    }
  }
  return lease.expiresAt > now;
}

/** Describes a lease owner for messages: `process 123 on host`. */
export function describeOwner(owner: string): string {
  const [host, pid] = owner.split(":");
  return pid ? `process ${pid} on ${host}` : owner;
}

/**
 * Takes a workflow's lease for `owner`. A lease left by a dead process on this host is taken at once, one
 * from another host once it expired. Throws `SKF-RUN-005` naming the owner when someone else holds it.
 */
export async function claimWorkflow(
  store: Store,
  namespace: string,
  name: string,
  owner: string,
): Promise<void> {
  if (await store.acquireLease(namespace, name, owner, LEASE_TTL_MS, Date.now())) return;
  const lease = await store.getLease(namespace, name);
  if (lease && !leaseAlive(lease)) {
    await store.releaseLease(namespace, name, lease.owner);
    if (await store.acquireLease(namespace, name, owner, LEASE_TTL_MS, Date.now())) return;
  }
  const holder = (await store.getLease(namespace, name))?.owner ?? lease?.owner ?? "another process";
  throw new SkiffError(
    "SKF-RUN-005",
    `workflow ${namespace}/${name} is run by ${describeOwner(holder)} (lease owner ${holder})`,
  );
}

/**
 * Refuses to create a workflow whose name the store already holds, as the Kubernetes API refuses the create
 * of an existing name (AlreadyExists): `SKF-RUN-014` with Argo's message.
 */
export async function refuseExisting(store: Store, namespace: string, name: string): Promise<void> {
  if (await store.get(namespace, name))
    throw new SkiffError(
      "SKF-RUN-014",
      `workflows.argoproj.io "${name}" already exists (namespace ${namespace})`,
    );
}

/** How a run was started: enough to compile it again after a crash. */
export interface RunSource {
  /**
   * The manifest is the stored workflow itself (created through the server's API, not from files): it is
   * compiled again from its stored metadata and spec, and `paths`, `file` and `docIndex` are unused.
   */
  inline?: true;
  paths: string[];
  /**
   * The object submitted when it came from no file (`submit --from`, a CronWorkflow's run): compiled again
   * from it, references resolved from the registry. `paths` is then empty and `file` names it (`kind/name`).
   */
  manifest?: Record<string, unknown>;
  /** The manifest that was run, among those the paths load. */
  file: string;
  docIndex: number;
  entrypoint?: string;
  parameters: Record<string, string>;
  workspace: string;
  /**
   * The executor the run was started with (`auto` resolved) and its settings: `resume`, `retry`,
   * `resubmit` and the background process of `submit` run it with the same, whatever the default is then.
   */
  executor?: RecordedExecutor;
}

/** What a run records of the executor settings it started with. */
export type RecordedExecutor = Pick<
  ExecutorSettings,
  "executor" | "host" | "images" | "imageMap" | "extraCAFiles" | "kubernetes"
> & {
  /** The config file those settings came from, when one was given. */
  configFile?: string;
};

/** The executor settings a run records (see {@link RunSource.executor}); `executor` as resolved, if it was. */
export function recordedExecutor(
  config: ExecutorSettings & { configFile?: string },
  executor: ExecutorSettings["executor"] = config.executor,
): RecordedExecutor {
  return {
    executor,
    host: { ...config.host },
    images: config.images,
    imageMap: config.imageMap,
    extraCAFiles: config.extraCAFiles,
    ...(config.kubernetes ? { kubernetes: config.kubernetes } : {}),
    ...(config.configFile ? { configFile: config.configFile } : {}),
  };
}

export function readSource(wf: Workflow): RunSource | undefined {
  const text = wf.metadata.annotations?.[SOURCE_ANNOTATION];
  if (!text) return undefined;
  try {
    return JSON.parse(text) as RunSource;
  } catch {
    return undefined;
  }
}

export function isCommandRecord(wf: Workflow): boolean {
  return wf.metadata.labels?.[COMMAND_LABEL] !== undefined;
}
