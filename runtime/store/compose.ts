import type { LogLine } from "../interfaces/executor.js";
import type { MemoCache, MemoEntry } from "../interfaces/memo.js";
import type {
  ArchiveStore,
  GcResult,
  Lease,
  LeaseStore,
  LogQuery,
  LogStore,
  MemoStore,
  PutOptions,
  RegisteredObject,
  RegistryKind,
  RegistryPutOptions,
  RegistryStore,
  Store,
  StoreEvent,
  WorkflowQuery,
  WorkflowStore,
} from "../interfaces/store.js";
import type { Workflow } from "../spec/types.js";
import { DEFAULT_NAMESPACE } from "./common.js";

/** The six parts one backend implements. */
export interface StoreParts {
  workflows: WorkflowStore;
  logs: LogStore;
  memo: MemoStore;
  archive: ArchiveStore;
  leases: LeaseStore;
  registry: RegistryStore;
}

/**
 * A `Store` made of one backend's parts: every method goes to the part that owns it, so that a backend class
 * holds only what spans the parts (opening, `gc`, `close`).
 */
export abstract class ComposedStore<C, P extends StoreParts> implements Store {
  /** Present when the backend's archive can delete single runs. */
  declare readonly archiveDelete?: (namespace: string, name: string, uid?: string) => Promise<number>;

  protected constructor(
    /** What the parts share (the backend's context). */
    protected readonly ctx: C,
    protected readonly parts: P,
  ) {
    const { archive } = parts;
    if (archive.archiveDelete) {
      this.archiveDelete = (namespace, name, uid) => archive.archiveDelete!(namespace, name, uid);
    }
  }

  abstract gc(now: number): Promise<GcResult>;
  abstract close(): Promise<void>;

  put(workflow: Workflow, options?: PutOptions): Promise<void> {
    return this.parts.workflows.put(workflow, options);
  }

  get(namespace: string, name: string): Promise<Workflow | undefined> {
    return this.parts.workflows.get(namespace, name);
  }

  list(query?: WorkflowQuery): Promise<Workflow[]> {
    return this.parts.workflows.list(query);
  }

  delete(namespace: string, name: string): Promise<void> {
    return this.parts.workflows.delete(namespace, name);
  }

  watch(listener: (e: StoreEvent) => void): () => void {
    return this.parts.workflows.watch(listener);
  }

  appendLogs(namespace: string, name: string, lines: LogLine[]): Promise<void> {
    return this.parts.logs.appendLogs(namespace, name, lines);
  }

  readLogs(namespace: string, name: string, query?: LogQuery): AsyncIterable<LogLine> {
    return this.parts.logs.readLogs(namespace, name, query);
  }

  memoCache(namespace?: string): MemoCache {
    return this.parts.memo.memoCache(namespace);
  }

  archiveList(query?: WorkflowQuery): Promise<Workflow[]> {
    return this.parts.archive.archiveList(query);
  }

  archiveGet(namespace: string, name: string, uid?: string): Promise<Workflow | undefined> {
    return this.parts.archive.archiveGet(namespace, name, uid);
  }

  acquireLease(namespace: string, name: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    return this.parts.leases.acquireLease(namespace, name, owner, ttlMs, now);
  }

  renewLease(namespace: string, name: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    return this.parts.leases.renewLease(namespace, name, owner, ttlMs, now);
  }

  releaseLease(namespace: string, name: string, owner: string): Promise<void> {
    return this.parts.leases.releaseLease(namespace, name, owner);
  }

  getLease(namespace: string, name: string): Promise<Lease | undefined> {
    return this.parts.leases.getLease(namespace, name);
  }

  putRegistered<T extends RegisteredObject>(object: T, options?: RegistryPutOptions): Promise<T> {
    return this.parts.registry.putRegistered(object, options);
  }

  getRegistered(kind: RegistryKind, namespace: string, name: string): Promise<RegisteredObject | undefined> {
    return this.parts.registry.getRegistered(kind, namespace, name);
  }

  listRegistered(kind: RegistryKind, namespace?: string): Promise<RegisteredObject[]> {
    return this.parts.registry.listRegistered(kind, namespace);
  }

  deleteRegistered(kind: RegistryKind, namespace: string, name: string): Promise<boolean> {
    return this.parts.registry.deleteRegistered(kind, namespace, name);
  }
}

/** A backend's memoized outputs across namespaces; `memoCacheFor` gives the `MemoCache` of one namespace. */
export interface MemoEntries {
  load(namespace: string, cacheName: string, key: string): Promise<MemoEntry | undefined>;
  save(namespace: string, cacheName: string, key: string, entry: MemoEntry): Promise<void>;
}

/** `Store.memoCache`: the entries of one namespace (`default` when none is named). */
export function memoCacheFor(entries: MemoEntries, namespace: string = DEFAULT_NAMESPACE): MemoCache {
  return {
    load: (cacheName, key) => entries.load(namespace, cacheName, key),
    save: (cacheName, key, entry) => entries.save(namespace, cacheName, key, entry),
  };
}
