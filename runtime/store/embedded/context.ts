import { dirname, join } from "node:path";
import { LogWakeups } from "../follow-logs.js";
import { StoreLifecycle } from "../lifecycle.js";
import { DirSyncer, encodeSegment, type LockOptions } from "./files.js";

/** Options of the embedded store. */
export interface EmbeddedStoreOptions {
  /** The store folder; created when missing. */
  dir: string;
  /**
   * Flush files and folders to disk before a write resolves (default true). Turn it off only for stores that
   * may be lost with the machine, e.g. a throwaway CI job.
   */
  durable?: boolean;
  /** Copy completed workflows into the archive (default true). */
  archive?: boolean;
  /** `gc` removes archived runs (and their logs) this long after they finished (ms). Default: keep them. */
  archiveTTLMs?: number;
  /** How often `watch` and `readLogs({follow: true})` look for changes made by other processes (ms). */
  pollIntervalMs?: number;
  /** How long a write waits for another process's lock before failing with SKF-STORE-007 (ms). */
  lockTimeoutMs?: number;
  /** A lock file older than this is treated as abandoned (ms). */
  staleLockMs?: number;
  /** How many workflows' newest versions are kept parsed in memory (default 1000). */
  cacheEntries?: number;
}

/**
 * What the parts of one embedded store share: the folder and where each part keeps its files (see the layout
 * in `README.md`), how durably to write, the lock settings, and the store's life.
 */
export class EmbeddedContext extends StoreLifecycle {
  readonly dir: string;
  readonly durable: boolean;
  readonly archiveEnabled: boolean;
  readonly archiveTTLMs: number | undefined;
  readonly pollIntervalMs: number;
  readonly lockOptions: LockOptions;
  readonly dirs: DirSyncer;
  readonly cacheEntries: number;
  /** Log followers of this store, woken by its own appends and by `close`. */
  readonly logWakeups = new LogWakeups();

  constructor(options: EmbeddedStoreOptions) {
    super();
    this.dir = options.dir;
    this.durable = options.durable ?? true;
    this.archiveEnabled = options.archive ?? true;
    this.archiveTTLMs = options.archiveTTLMs;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.lockOptions = { timeoutMs: options.lockTimeoutMs ?? 30_000, staleMs: options.staleLockMs ?? 10_000 };
    this.dirs = new DirSyncer(this.durable);
    this.cacheEntries = options.cacheEntries ?? 1000;
  }

  /** How `writeFileAtomic` writes for this store. */
  get writeOptions(): { durable: boolean; dirs: DirSyncer } {
    return { durable: this.durable, dirs: this.dirs };
  }

  workflowsRoot(): string {
    return join(this.dir, "workflows");
  }

  workflowPath(namespace: string, name: string): string {
    return join(this.workflowsRoot(), encodeSegment(namespace), `${encodeSegment(name)}.jsonl`);
  }

  lockPathOf(path: string): string {
    const dir = dirname(path);
    const base = path.slice(dir.length + 1).replace(/\.json(l)?$/, "");
    return join(dir, `.${base}.lock`);
  }

  archiveRoot(): string {
    return join(this.dir, "archive");
  }

  /** The folder of one name's archived runs. */
  archiveDir(namespace: string, name: string): string {
    return join(this.archiveRoot(), encodeSegment(namespace), encodeSegment(name));
  }

  archivePath(namespace: string, name: string, uid: string): string {
    return join(this.archiveDir(namespace, name), `${encodeSegment(uid)}.json`);
  }

  logPath(namespace: string, name: string): string {
    return join(this.dir, "logs", encodeSegment(namespace), `${encodeSegment(name)}.jsonl`);
  }

  leasesRoot(): string {
    return join(this.dir, "leases");
  }

  leasePath(namespace: string, name: string): string {
    return join(this.leasesRoot(), encodeSegment(namespace), `${encodeSegment(name)}.json`);
  }

  memoPath(namespace: string, cacheName: string, key: string): string {
    return join(
      this.dir,
      "memo",
      encodeSegment(namespace),
      encodeSegment(cacheName),
      `${encodeSegment(key)}.json`,
    );
  }
}
