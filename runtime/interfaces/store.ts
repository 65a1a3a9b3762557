import type { ClusterWorkflowTemplate, CronWorkflow, Workflow, WorkflowTemplate } from "../spec/types.js";
import type { LogLine } from "./executor.js";
import type { MemoCache } from "./memo.js";

export interface WorkflowQuery {
  namespace?: string;
  phases?: string[];
  labelSelector?: Record<string, string>;
  namePrefix?: string;
  limit?: number;
}

export type StoreEvent = { type: "put" | "delete"; workflow: Workflow };

/** Options of `Store.put`. */
export interface PutOptions {
  /**
   * Optimistic concurrency: the put succeeds only when the stored object's `metadata.resourceVersion` equals
   * this value; `""` means the workflow must not exist yet. On a mismatch `put` rejects with `SKF-STORE-002`.
   */
  expectedResourceVersion?: string;
  /**
   * The ids of the `status.nodes` entries added, changed or removed since this caller's previous put of the
   * same workflow (same uid) to this store object; the other nodes are taken as unchanged. Metadata, spec and
   * the workflow-level status are always taken whole. It lets a store write what changed instead of the whole
   * status (a loop of 10,000 items); a store may ignore it, and treats the put as whole when it has nothing to
   * apply the change to (the caller's first put, another uid, after a conditional put). Leave it out on a
   * caller's first put and whenever unsure.
   */
  changedNodes?: readonly string[];
}

/** What `Store.readLogs` returns. */
export interface LogQuery {
  /** Only lines of this node. */
  nodeId?: string;
  /** Only lines of this container (`main`, `init`, a sidecar...). */
  container?: string;
  /** RFC3339: only lines written at or after this time. */
  since?: string;
  /**
   * Keep waiting for new lines until the workflow has completed (or does not exist), `signal` aborts, or the
   * consumer stops iterating. Whoever appends a step's logs does so before putting the completed workflow.
   */
  follow?: boolean;
  signal?: AbortSignal;
}

/** Which live and archived runs `Store.gc` removed. */
export interface GcResult {
  /** Live workflows whose `spec.ttlStrategy` expired (they stay in the archive). */
  deleted: { namespace: string; name: string }[];
  /** Archived runs older than the archive TTL (their logs go with them). */
  archiveDeleted: { namespace: string; name: string; uid: string }[];
}

/** Who owns a workflow, and until when (ms since the epoch, on the clock the caller passes as `now`). */
export interface Lease {
  owner: string;
  expiresAt: number;
}

/**
 * The live workflows: one object per namespace and name, with a `resourceVersion` counter, and the changes to
 * them as events.
 */
export interface WorkflowStore {
  /**
   * Creates or replaces a workflow. The store sets `metadata.resourceVersion` (a counter per workflow) on the
   * stored copy; the object passed in is not changed. A workflow put in a completed phase (Succeeded, Failed,
   * Error) is also copied into the archive.
   */
  put(workflow: Workflow, options?: PutOptions): Promise<void>;
  get(namespace: string, name: string): Promise<Workflow | undefined>;
  /** Sorted by namespace, then name. */
  list(query?: WorkflowQuery): Promise<Workflow[]>;
  /** Deletes the live workflow and its lease; the archive and the logs stay (`gc` removes them). */
  delete(namespace: string, name: string): Promise<void>;
  /**
   * Calls `listener` after each put/delete, including those made by other processes on the same store (those
   * arrive a little later). Events of one workflow come in order; quick successive writes by another process
   * may be seen as one event. Returns the unsubscribe function.
   */
  watch(listener: (e: StoreEvent) => void): () => void;
}

/** Step logs, kept per workflow name (Argo keeps them with the pods; a finished run's logs outlive them here). */
export interface LogStore {
  /** Appends step log lines of one workflow, durably, in order. */
  appendLogs(namespace: string, name: string, lines: LogLine[]): Promise<void>;
  /** The workflow's log lines in the order they were appended. */
  readLogs(namespace: string, name: string, query?: LogQuery): AsyncIterable<LogLine>;
}

/** Memoized outputs that outlive one controller process. */
export interface MemoStore {
  /** Memoized outputs kept in the store, per namespace (Argo keeps them in ConfigMaps of the namespace). */
  memoCache(namespace?: string): MemoCache;
}

/** Completed runs, kept by uid after the live workflow is deleted (Argo's workflow archive). */
export interface ArchiveStore {
  /** Archived (completed) runs, newest `finishedAt` first. */
  archiveList(query?: WorkflowQuery): Promise<Workflow[]>;
  /** One archived run: the one with `uid` when given, else the newest run of that name. */
  archiveGet(namespace: string, name: string, uid?: string): Promise<Workflow | undefined>;
  /**
   * Deletes archived runs of a name: the one with `uid` when given, else all of them. Resolves with how many
   * were deleted. Optional: a store without it cannot delete single archived runs (`gc` still expires them).
   */
  archiveDelete?(namespace: string, name: string, uid?: string): Promise<number>;
}

/** Who runs which workflow, so that two controllers never run the same one. */
export interface LeaseStore {
  /**
   * Takes (or extends) the lease of one workflow for `owner` until `now + ttlMs`. True when `owner` holds the
   * lease afterwards; false while another owner holds an unexpired lease. Exactly one of several concurrent
   * callers wins, also across processes.
   */
  acquireLease(namespace: string, name: string, owner: string, ttlMs: number, now: number): Promise<boolean>;
  /** Extends a lease `owner` still holds (or that nobody took since it expired); false when it was lost. */
  renewLease(namespace: string, name: string, owner: string, ttlMs: number, now: number): Promise<boolean>;
  /** Gives the lease up, if `owner` holds it. */
  releaseLease(namespace: string, name: string, owner: string): Promise<void>;
  /** The current lease, expired or not; undefined when there is none. */
  getLease(namespace: string, name: string): Promise<Lease | undefined>;
}

/** The kinds the registry keeps: Argo's objects that live on between runs. */
export type RegistryKind = "WorkflowTemplate" | "ClusterWorkflowTemplate" | "CronWorkflow";

/** An object of the registry. A ClusterWorkflowTemplate has no namespace. */
export type RegisteredObject = WorkflowTemplate | ClusterWorkflowTemplate | CronWorkflow;

/** Options of `RegistryStore.putRegistered`. */
export interface RegistryPutOptions {
  /**
   * Optimistic concurrency: the put succeeds only when the stored object's `metadata.resourceVersion` equals
   * this value; `""` means the object must not exist yet. On a mismatch the put rejects with `SKF-STORE-002`.
   */
  expectedResourceVersion?: string;
}

/**
 * WorkflowTemplates, ClusterWorkflowTemplates and CronWorkflows kept between runs (Argo keeps them in the
 * cluster). Objects are stored as given: validating them is the caller's job (`src/run/registry.ts`).
 */
export interface RegistryStore {
  /**
   * Creates or replaces an object and resolves with the stored copy. The store sets `metadata.uid` and
   * `metadata.creationTimestamp` when the object is created (an update keeps them) and
   * `metadata.resourceVersion` (a counter per object) on every put; the object passed in is not changed.
   * `metadata.namespace` defaults to `default`, and is dropped for a ClusterWorkflowTemplate.
   */
  putRegistered<T extends RegisteredObject>(object: T, options?: RegistryPutOptions): Promise<T>;
  /** One object; `namespace` is ignored for a ClusterWorkflowTemplate. */
  getRegistered(kind: RegistryKind, namespace: string, name: string): Promise<RegisteredObject | undefined>;
  /** The objects of a kind, of one namespace when given, sorted by namespace, then name. */
  listRegistered(kind: RegistryKind, namespace?: string): Promise<RegisteredObject[]>;
  /** Deletes an object; resolves true when there was one. */
  deleteRegistered(kind: RegistryKind, namespace: string, name: string): Promise<boolean>;
}

/**
 * Persists workflows (spec + status), their step logs, memoized outputs, an archive of finished runs, and
 * who runs which workflow, and the registry of templates and CronWorkflows: the six parts above on one backend, plus the retention that spans them. Writes
 * are atomic: a reader sees the old or the new object, never a mix. Every write resolves only once it is
 * durable. Failed writes reject with a `SkiffError` (`SKF-STORE-...`) and leave the last good state readable.
 * `createStore` (`runtime/store`) opens one.
 */
export interface Store extends WorkflowStore, LogStore, MemoStore, ArchiveStore, LeaseStore, RegistryStore {
  /**
   * Retention. Deletes live workflows whose `spec.ttlStrategy` has expired at `now` (ms since the epoch),
   * archived runs finished longer than the store's archive TTL ago together with their logs, and expired
   * leases.
   */
  gc(now: number): Promise<GcResult>;
  /** Waits for the writes under way, then lets go of connections, watchers and timers; later calls fail (`SKF-STORE-005`). */
  close(): Promise<void>;
}
