import { randomUUID } from "node:crypto";
import { readFileSync, watch as watchFs, type FSWatcher } from "node:fs";
import { mkdir, open, readdir, rmdir, unlink, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import { SkiffError } from "../../errors/index.js";
import type { LogLine } from "../../interfaces/executor.js";
import type { MemoCache, MemoEntry } from "../../interfaces/memo.js";
import type {
  GcResult,
  Lease,
  LogQuery,
  PutOptions,
  Store,
  StoreEvent,
  WorkflowQuery,
} from "../../interfaces/store.js";
import type { Workflow } from "../../spec/types.js";
import { STORE_CODES } from "../codes.js";
import {
  DEFAULT_NAMESPACE,
  archiveId,
  checkExpectedVersion,
  checkLeaseArgs,
  closedError,
  compareArchived,
  defineLazy,
  compareByNamespaceAndName,
  finishedAtMs,
  isCompletedPhase,
  logLineMatches,
  matchesQuery,
  pause,
  shouldArchive,
  sinceMsOf,
  summarize,
  ttlExpiresAt,
  workflowKey,
  type WorkflowSummary,
} from "../common.js";
import {
  DirSyncer,
  encodeSegment,
  errnoOf,
  fingerprint,
  readError,
  readIfExists,
  removeFile,
  statIfExists,
  withFileLock,
  writeError,
  writeFileAtomic,
  type LockOptions,
} from "./files.js";
import { KeyedWriteQueue } from "../queue.js";
import { headOf, isDeltaRecord, replayJournal, WorkflowModel } from "./journal.js";

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
 * On-disk layout version, in `<dir>/format.json`. 2: journals may hold snapshot and delta records
 * (`journal.ts`), which a version-1 reader would take for whole workflows.
 */
export const EMBEDDED_FORMAT_VERSION = 2;

/** One version of a stored workflow, as far as it was read. */
interface Entry {
  fp: string;
  rv: number;
  uid: string;
  summary: WorkflowSummary;
  /** The whole workflow, once something needed it. */
  json?: string;
  /** The workflow without `spec` and `status.nodes` (what watch events parse first). */
  head?: string;
}

/** What a store instance puts for one workflow: the model and the newest put's metadata. */
interface Held {
  model: WorkflowModel;
  summary: WorkflowSummary;
  archive: boolean;
  archiveId: string;
}

interface WorkflowWrite {
  kind: "put" | "delete";
  namespace: string;
  name: string;
  held?: Held;
  expected?: string;
}

interface LogWrite {
  path: string;
  what: string;
  data: string;
}

/**
 * The default store: a folder of JSON files, one per workflow, replaced atomically and flushed before a write
 * resolves; step logs as append-only JSON-lines files; cross-process locks as O_EXCL lock files. See
 * `docs/decisions/0004-embedded-store.md` for why it is plain files.
 */
export class EmbeddedStore implements Store {
  readonly dir: string;
  private readonly durable: boolean;
  private readonly archiveEnabled: boolean;
  private readonly archiveTTLMs: number | undefined;
  private readonly pollIntervalMs: number;
  private readonly lockOptions: LockOptions;
  private readonly dirs: DirSyncer;
  /** Parsed-file cache by path, checked against the file's fingerprint on every read. */
  private readonly cache: LruMap<Entry>;
  private readonly writes = new KeyedWriteQueue<WorkflowWrite>((_key, op) => this.applyWrite(op));
  private readonly logWrites = new KeyedWriteQueue<LogWrite>(
    (_key, op) => this.applyLogWrite(op),
    (older, newer) => ({ ...newer, data: older.data + newer.data }),
  );
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly listeners = new Set<(e: StoreEvent) => void>();
  /** What `watch` listeners have last been told, by workflow file. */
  private readonly emitted = new Map<string, Seen>();
  private readonly wakeups = new Set<() => void>();
  private readonly rvToken = `@rv-${randomUUID()}@`;
  /** What this instance last put per workflow file, so a put with `changedNodes` writes a delta. */
  private readonly models = new Map<string, Held>();
  private watchers: FSWatcher[] = [];
  private watchedNamespaces = new Set<string>();
  private pollTimer: NodeJS.Timeout | undefined;
  private scanning = false;
  /** A change arrived during a scan: scan again once it ends. */
  private rescan = false;
  private closed = false;

  constructor(options: EmbeddedStoreOptions) {
    this.dir = options.dir;
    this.durable = options.durable ?? true;
    this.archiveEnabled = options.archive ?? true;
    this.archiveTTLMs = options.archiveTTLMs;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.lockOptions = { timeoutMs: options.lockTimeoutMs ?? 30_000, staleMs: options.staleLockMs ?? 10_000 };
    this.dirs = new DirSyncer(this.durable);
    this.cache = new LruMap(options.cacheEntries ?? 1000);
  }

  /** Creates the folder layout (when writable) and checks the format version. */
  async init(): Promise<void> {
    const formatPath = join(this.dir, "format.json");
    const existing = await readIfExists(formatPath).catch((e: unknown) => {
      throw readError(`store folder ${this.dir}`, e);
    });
    if (existing) {
      let version: unknown;
      try {
        version = (JSON.parse(existing.toString("utf8")) as { version?: unknown }).version;
      } catch (e) {
        throw new SkiffError(STORE_CODES["SKF-STORE-004"], `${formatPath} is not valid JSON`, { cause: e });
      }
      if (typeof version !== "number" || version > EMBEDDED_FORMAT_VERSION) {
        throw new SkiffError(
          STORE_CODES["SKF-STORE-010"],
          `store folder ${this.dir} has format version ${String(version)}; this Skiff reads up to ${EMBEDDED_FORMAT_VERSION}`,
        );
      }
      // A version-1 folder is upgraded in place: its journals are valid version-2 journals.
      if (version === EMBEDDED_FORMAT_VERSION) return;
    }
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFileAtomic(
        formatPath,
        JSON.stringify({ format: "skiff-embedded-store", version: EMBEDDED_FORMAT_VERSION }) + "\n",
        { durable: this.durable, dirs: this.dirs },
      );
    } catch (e) {
      // A read-only store can still be read (e.g. `skiff get` on a mounted snapshot); writes will fail.
      if (!["EACCES", "EPERM", "EROFS"].includes(errnoOf(e) ?? ""))
        throw writeError(`store folder ${this.dir}`, e);
    }
  }

  // ---------------------------------------------------------------------------------------------- paths

  private workflowPath(namespace: string, name: string): string {
    return join(this.dir, "workflows", encodeSegment(namespace), `${encodeSegment(name)}.jsonl`);
  }

  private lockPathOf(path: string): string {
    const dir = dirname(path);
    const base = path.slice(dir.length + 1).replace(/\.json(l)?$/, "");
    return join(dir, `.${base}.lock`);
  }

  private archivePath(namespace: string, name: string, uid: string): string {
    return join(
      this.dir,
      "archive",
      encodeSegment(namespace),
      encodeSegment(name),
      `${encodeSegment(uid)}.json`,
    );
  }

  private logPath(namespace: string, name: string): string {
    return join(this.dir, "logs", encodeSegment(namespace), `${encodeSegment(name)}.jsonl`);
  }

  private leasePath(namespace: string, name: string): string {
    return join(this.dir, "leases", encodeSegment(namespace), `${encodeSegment(name)}.json`);
  }

  private memoPath(namespace: string, cacheName: string, key: string): string {
    return join(
      this.dir,
      "memo",
      encodeSegment(namespace),
      encodeSegment(cacheName),
      `${encodeSegment(key)}.json`,
    );
  }

  // ------------------------------------------------------------------------------------------ workflows

  put(workflow: Workflow, options: PutOptions = {}): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    let key;
    try {
      key = workflowKey(workflow);
    } catch (e) {
      return Promise.reject(e);
    }
    const stored = {
      ...workflow,
      metadata: { ...workflow.metadata, namespace: key.namespace, resourceVersion: this.rvToken },
    };
    const path = this.workflowPath(key.namespace, key.name);
    const uid = stored.metadata.uid ?? "";
    const conditional = options.expectedResourceVersion !== undefined;
    // A conditional put may be refused, so it never becomes the base of later deltas.
    let held = conditional ? undefined : this.models.get(path);
    const delta = options.changedNodes !== undefined && held?.model.uid === uid;
    if (!held || !delta) {
      held = {
        model: new WorkflowModel(uid, this.rvToken),
        summary: summarize(stored),
        archive: false,
        archiveId: "",
      };
      if (!conditional) this.models.set(path, held);
    }
    // Serialized now (what changed, or everything): the caller may go on changing its object meanwhile.
    try {
      held.model.apply(stored, delta ? options.changedNodes : undefined);
    } catch (e) {
      this.models.delete(path);
      return Promise.reject(writeError(`workflow ${key.namespace}/${key.name}`, e));
    }
    held.summary = summarize(stored);
    held.archive = this.archiveEnabled && shouldArchive(stored);
    held.archiveId = archiveId(stored);
    return this.enqueue({
      kind: "put",
      namespace: key.namespace,
      name: key.name,
      held,
      expected: options.expectedResourceVersion,
    });
  }

  async get(namespace: string, name: string): Promise<Workflow | undefined> {
    this.assertOpen();
    const path = this.workflowPath(namespace, name);
    const entry = await this.readEntry(path, true).catch((e: unknown) => {
      throw readError(`workflow ${namespace}/${name}`, e);
    });
    return entry?.json !== undefined ? (JSON.parse(entry.json) as Workflow) : undefined;
  }

  async list(query: WorkflowQuery = {}): Promise<Workflow[]> {
    this.assertOpen();
    const entries: { path: string; entry: Entry }[] = [];
    const out: Workflow[] = [];
    try {
      for (const path of await this.workflowFiles(query.namespace)) {
        const entry = await this.readEntry(path);
        if (entry && matchesQuery(entry.summary, query)) entries.push({ path, entry });
      }
      entries.sort((a, b) => compareByNamespaceAndName(a.entry.summary, b.entry.summary));
      const limited = query.limit !== undefined && query.limit > 0 ? entries.slice(0, query.limit) : entries;
      for (const { path, entry } of limited) {
        // Read whole only now; a version written meanwhile is the one returned.
        const full = entry.json !== undefined ? entry : await this.readEntry(path, true);
        if (full?.json !== undefined) out.push(JSON.parse(full.json) as Workflow);
      }
    } catch (e) {
      throw readError("workflows", e);
    }
    return out;
  }

  delete(namespace: string, name: string): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    this.models.delete(this.workflowPath(namespace, name));
    return this.enqueue({ kind: "delete", namespace, name });
  }

  /** Deletes only the version gc looked at: a workflow put again meanwhile stays. */
  private deleteVersion(namespace: string, name: string, rv: number): Promise<void> {
    this.models.delete(this.workflowPath(namespace, name));
    return this.enqueue({ kind: "delete", namespace, name, expected: String(rv) });
  }

  watch(listener: (e: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1 && !this.closed) this.startWatching();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopWatching();
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopWatching();
    this.listeners.clear();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    for (const wake of [...this.wakeups]) wake();
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    const done = () => this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  private enqueue(op: WorkflowWrite): Promise<void> {
    const coalesce = op.kind === "put" && op.expected === undefined;
    return this.track(this.writes.push(`${op.namespace}\u0000${op.name}`, op, coalesce));
  }

  private async applyWrite(op: WorkflowWrite): Promise<void> {
    try {
      if (op.kind === "put") await this.writeWorkflow(op.namespace, op.name, op);
      else await this.removeWorkflow(op.namespace, op.name, op.expected);
    } catch (e) {
      const what = op.kind === "put" ? "workflow" : "deletion of workflow";
      throw writeError(`${what} ${op.namespace}/${op.name}`, e);
    }
  }

  private async writeWorkflow(namespace: string, name: string, op: WorkflowWrite): Promise<void> {
    const path = this.workflowPath(namespace, name);
    const held = op.held!;
    const model = held.model;
    const entry = await withFileLock(this.lockPathOf(path), this.lockOptions, async () => {
      const fh = await this.openJournal(path);
      let closed = false;
      try {
        const before = await fh.stat({ bigint: true });
        const size = Number(before.size);
        const fp = fingerprint(before);
        // Deltas only follow this model's own last write: anything else (another process, a failed write, a
        // first write) gets a snapshot.
        if (model.journal?.fp !== fp) model.journal = undefined;
        const cached = this.cache.get(path);
        const currentRv =
          model.journal?.rv ??
          (size === 0 ? undefined : cached?.fp === fp ? cached.rv : (await this.parseJournal(fh, size))?.rv);
        checkExpectedVersion(
          { namespace, name },
          op.expected,
          currentRv === undefined ? undefined : String(currentRv),
        );
        const rv = (currentRv ?? 0) + 1;
        const write = model.takeWrite(String(rv));
        try {
          // The archive copy goes first: once the live object says "completed", the archive has it too.
          if (held.archive) {
            const whole = JSON.stringify(model.materialize(String(rv)));
            await writeFileAtomic(this.archivePath(namespace, name, held.archiveId), whole, {
              durable: this.durable,
              dirs: this.dirs,
            });
          }
          const journal = model.journal;
          let record = Buffer.from(write.record + "\n", "utf8");
          let snapshot = write.kind === "snapshot";
          // Once the deltas outweigh their snapshot, a fresh snapshot bounds what a reader replays.
          if (
            journal &&
            !snapshot &&
            journal.deltaBytes + record.length > Math.max(COMPACT_MIN_BYTES, journal.snapshotBytes)
          ) {
            record = Buffer.from(model.snapshot(String(rv)) + "\n", "utf8");
            snapshot = true;
          }
          const snapshotBytes = snapshot ? record.length : journal!.snapshotBytes;
          let deltaBytes = snapshot ? 0 : journal!.deltaBytes + record.length;
          let after;
          if (
            size > 0 &&
            size + record.length > Math.max(COMPACT_MIN_BYTES, COMPACT_FACTOR * snapshotBytes)
          ) {
            // Compaction: a fresh journal holding the newest version only replaces the old one atomically.
            if (!snapshot) record = Buffer.from(model.snapshot(String(rv)) + "\n", "utf8");
            deltaBytes = 0;
            await fh.close();
            closed = true;
            await writeFileAtomic(path, record, { durable: this.durable, dirs: this.dirs });
            // The rename changed the file's ctime: fingerprint what readers will see.
            after = await statIfExists(path);
            if (!after) throw new Error(`${path} vanished while the store held its lock`);
            model.journal = { fp: fingerprint(after), rv, snapshotBytes: record.length, deltaBytes };
          } else {
            let data = record;
            if (size > 0) {
              // A crash may have cut the last record short: start on a fresh line so it stays a lone bad line.
              const last = Buffer.alloc(1);
              await fh.read(last, 0, 1, size - 1);
              if (last[0] !== 0x0a) data = Buffer.concat([Buffer.from("\n"), record]);
            }
            await fh.write(data);
            if (this.durable) await fh.datasync();
            if (size === 0) await this.dirs.sync(dirname(path));
            after = await fh.stat({ bigint: true });
            model.journal = { fp: fingerprint(after), rv, snapshotBytes, deltaBytes };
          }
          const entry: Entry = { fp: model.journal.fp, rv, uid: model.uid, summary: held.summary };
          if (this.listeners.size > 0) entry.head = model.head(String(rv));
          this.cache.set(path, entry);
          return entry;
        } catch (e) {
          write.undo();
          throw e;
        }
      } finally {
        if (!closed) await fh.close();
      }
    });
    if (isCompletedPhase(held.summary.phase) && this.models.get(path) === held) {
      // Nobody sends deltas to a finished run; its model would only hold memory.
      this.models.delete(path);
    }
    if (this.listeners.size > 0) {
      this.ensureNamespaceWatched(encodeSegment(namespace));
      this.offer(path, entry);
    }
  }

  private async removeWorkflow(namespace: string, name: string, expected?: string): Promise<void> {
    const path = this.workflowPath(namespace, name);
    const last = await withFileLock(this.lockPathOf(path), this.lockOptions, async () => {
      const current = await this.readEntry(path);
      if (!current) return undefined;
      checkExpectedVersion({ namespace, name }, expected, String(current.rv));
      // Registered before the file goes, so that whichever of this call and a folder scan notices the
      // deletion first announces it, once.
      if (this.listeners.size > 0 && !this.emitted.has(path)) this.emitted.set(path, seenOf(current));
      await removeFile(path, this.dirs);
      this.cache.delete(path);
      return current;
    });
    await removeFile(this.leasePath(namespace, name), this.dirs);
    if (last && this.listeners.size > 0) this.offerDeletion(path, last);
  }

  private async openJournal(path: string): Promise<FileHandle> {
    try {
      return await open(path, "a+");
    } catch (e) {
      if (errnoOf(e) !== "ENOENT") throw e;
      await mkdir(dirname(path), { recursive: true });
      await this.dirs.sync(dirname(dirname(path)));
      return open(path, "a+");
    }
  }

  /** The newest version in a journal the cache does not know (written by another process). */
  private async parseJournal(fh: FileHandle, size: number): Promise<Entry | undefined> {
    const found = await lastRecord(fh, size);
    return found && toEntry("", found.head, found.whole);
  }

  /**
   * Reads one stored workflow through the cache; undefined when it does not exist. Without `whole`, only what
   * listing needs (the newest record's metadata); with it, the workflow replayed from its journal.
   */
  private async readEntry(path: string, whole = false): Promise<Entry | undefined> {
    let fh;
    try {
      fh = await open(path, "r");
    } catch (e) {
      if (errnoOf(e) === "ENOENT" || errnoOf(e) === "ENOTDIR") {
        this.cache.delete(path);
        return undefined;
      }
      throw e;
    }
    try {
      // Stat and read through one handle, and only up to the size seen: the fingerprint matches the bytes read.
      const st = await fh.stat({ bigint: true });
      const fp = fingerprint(st);
      const cached = this.cache.get(path);
      if (cached?.fp === fp && (!whole || cached.json !== undefined)) return cached;
      const size = Number(st.size);
      let entry: Entry | undefined;
      if (whole) {
        const buf = Buffer.alloc(size);
        const { bytesRead } = size === 0 ? { bytesRead: 0 } : await fh.read(buf, 0, size, 0);
        const wf = replayJournal(buf.subarray(0, bytesRead).toString("utf8"));
        entry = wf && toEntry(fp, wf, JSON.stringify(wf));
      } else {
        const found = size === 0 ? undefined : await lastRecord(fh, size);
        entry = found && toEntry(fp, found.head, found.whole);
      }
      if (!entry) {
        this.cache.delete(path);
        return undefined;
      }
      this.cache.set(path, entry);
      return entry;
    } finally {
      await fh.close();
    }
  }

  /**
   * The newest stored version, read synchronously for a watch listener that looks past the metadata; undefined
   * when the workflow is gone.
   */
  private readWholeSync(path: string): Workflow | undefined {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      return undefined;
    }
    return replayJournal(text);
  }

  private async workflowFiles(namespace?: string): Promise<string[]> {
    const root = join(this.dir, "workflows");
    const namespaces = namespace !== undefined ? [encodeSegment(namespace)] : await listNames(root);
    const out: string[] = [];
    for (const ns of namespaces) {
      for (const f of await listNames(join(root, ns))) {
        if (f.endsWith(".jsonl")) out.push(join(root, ns, f));
      }
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------- watch

  private emit(event: StoreEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch {
        // A listener's failure must not break the store or the other listeners.
      }
    }
  }

  /** Tells listeners about a version of a workflow unless they have seen it or a newer one already. */
  private offer(path: string, entry: Entry): void {
    const seen = this.emitted.get(path);
    if (seen && seen.uid === entry.uid && seen.rv >= entry.rv) return;
    this.emitted.set(path, seenOf(entry));
    this.emit({ type: "put", workflow: this.eventWorkflow(path, entry) });
  }

  /**
   * The workflow a watch event carries. Unless the version was read whole, `spec` and `status.nodes` are read
   * on first access: a listener that only looks at the metadata (most do) must not pay for 10,000 nodes per put.
   */
  private eventWorkflow(path: string, entry: Entry): Workflow {
    if (entry.json !== undefined) return JSON.parse(entry.json) as Workflow;
    if (entry.head === undefined) return this.readWholeSync(path) ?? minimalWorkflow(entry);
    let whole: Workflow | undefined;
    const load = () => (whole ??= this.readWholeSync(path) ?? minimalWorkflow(entry));
    const wf = JSON.parse(entry.head) as Workflow;
    defineLazy(wf, "spec", () => load().spec);
    if (wf.status) defineLazy(wf.status, "nodes", () => load().status?.nodes);
    return wf;
  }

  /**
   * Announces a deletion once. The last version comes from the cache when it is there (always for this
   * store's own deletions); otherwise listeners get its metadata only.
   */
  private offerDeletion(path: string, last?: Entry): void {
    const seen = this.emitted.get(path);
    if (!seen) return;
    this.emitted.delete(path);
    const known = last ?? this.cache.get(path);
    const workflow: Workflow =
      known?.json !== undefined
        ? (JSON.parse(known.json) as Workflow)
        : known?.head !== undefined
          ? // The journal is gone: the spec, never read, stays empty.
            { ...(JSON.parse(known.head) as Workflow), spec: {} }
          : minimalWorkflow({ rv: seen.rv, uid: seen.uid, summary: { ...seen, phase: "", labels: {} } });
    this.cache.delete(path);
    this.emit({ type: "delete", workflow });
  }

  /** One workflow file changed (an `fs.watch` event): compare just that one. */
  private async checkFile(path: string): Promise<void> {
    if (this.listeners.size === 0) return;
    try {
      const before = this.cache.get(path);
      const entry = await this.readEntry(path);
      if (this.listeners.size === 0) return;
      if (entry) this.offer(path, entry);
      else this.offerDeletion(path, before);
    } catch {
      // Transient: the next poll compares again.
    }
  }

  private startWatching(): void {
    const root = join(this.dir, "workflows");
    void this.scan(false);
    try {
      const w = watchFs(root, { persistent: false }, () => void this.scan(true));
      w.on("error", () => undefined);
      this.watchers.push(w);
    } catch {
      // No folder yet, or no inotify watches left: polling covers it.
    }
    this.pollTimer = setInterval(() => void this.scan(true), this.pollIntervalMs);
    this.pollTimer.unref();
  }

  private ensureNamespaceWatched(enc: string): void {
    if (this.watchedNamespaces.has(enc) || this.listeners.size === 0) return;
    this.watchedNamespaces.add(enc);
    try {
      const dir = join(this.dir, "workflows", enc);
      const w = watchFs(dir, { persistent: false }, (_type, file) => {
        const f = file ? String(file) : "";
        if (f.endsWith(".jsonl") && !f.startsWith(".")) void this.checkFile(join(dir, f));
        else if (!f) void this.scan(true);
      });
      w.on("error", () => undefined);
      this.watchers.push(w);
    } catch {
      // Polling covers it.
    }
  }

  private stopWatching(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    this.watchedNamespaces.clear();
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    this.emitted.clear();
  }

  /** Compares the folder with what listeners were told; `announce` false only records the baseline. */
  private async scan(announce: boolean): Promise<void> {
    if (this.listeners.size === 0) return;
    if (this.scanning) {
      this.rescan = true;
      return;
    }
    this.scanning = true;
    try {
      const root = join(this.dir, "workflows");
      const present = new Set<string>();
      for (const ns of await listNames(root)) {
        this.ensureNamespaceWatched(ns);
        for (const f of await listNames(join(root, ns))) {
          if (!f.endsWith(".jsonl")) continue;
          const path = join(root, ns, f);
          present.add(path);
          const entry = await this.readEntry(path).catch(() => undefined);
          if (!entry || this.listeners.size === 0) continue;
          if (!announce) {
            if (!this.emitted.has(path)) this.emitted.set(path, seenOf(entry));
          } else this.offer(path, entry);
        }
      }
      if (announce) {
        for (const path of [...this.emitted.keys()]) {
          if (!present.has(path) && !(await statIfExists(path))) this.offerDeletion(path);
        }
      }
    } catch {
      // Transient read errors: the next poll retries.
    } finally {
      this.scanning = false;
    }
    if (this.rescan) {
      this.rescan = false;
      await this.scan(true);
    }
  }

  // ----------------------------------------------------------------------------------------------- logs

  appendLogs(namespace: string, name: string, lines: LogLine[]): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    if (lines.length === 0) return Promise.resolve();
    const data = lines.map((l) => JSON.stringify(l) + "\n").join("");
    const path = this.logPath(namespace, name);
    return this.track(this.logWrites.push(path, { path, what: `${namespace}/${name}`, data }, true));
  }

  /** Appends everything queued for one log file with one write and one flush. */
  private async applyLogWrite(op: LogWrite): Promise<void> {
    try {
      await this.appendDurable(op.path, op.data);
    } catch (e) {
      throw writeError(`logs of workflow ${op.what}`, e);
    } finally {
      for (const wake of [...this.wakeups]) wake();
    }
  }

  private async appendDurable(path: string, chunk: string): Promise<void> {
    let fh;
    try {
      fh = await open(path, "a+");
    } catch (e) {
      if (errnoOf(e) !== "ENOENT") throw e;
      await mkdir(dirname(path), { recursive: true });
      await this.dirs.sync(dirname(dirname(path)));
      fh = await open(path, "a+");
    }
    try {
      const { size } = await fh.stat();
      let data = chunk;
      if (size > 0) {
        // A crash may have cut the last line short; start on a fresh line so the next one parses.
        const last = Buffer.alloc(1);
        await fh.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) data = "\n" + data;
      }
      await fh.write(data);
      if (this.durable) await fh.datasync();
      if (size === 0) await this.dirs.sync(dirname(path));
    } finally {
      await fh.close();
    }
  }

  readLogs(namespace: string, name: string, query: LogQuery = {}): AsyncIterable<LogLine> {
    this.assertOpen();
    return this.followLogs(namespace, name, query);
  }

  private async *followLogs(namespace: string, name: string, query: LogQuery): AsyncGenerator<LogLine> {
    const path = this.logPath(namespace, name);
    const sinceMs = sinceMsOf(query);
    let offset = 0;
    let carry = "";
    let finalPass = false;
    for (;;) {
      let chunk: string;
      try {
        ({ chunk, offset } = await readFrom(path, offset));
      } catch (e) {
        throw readError(`logs of workflow ${namespace}/${name}`, e);
      }
      const text = carry + chunk;
      const lines = text.split("\n");
      carry = lines.pop() ?? "";
      for (const raw of lines) {
        if (raw === "") continue;
        let line: LogLine;
        try {
          line = JSON.parse(raw) as LogLine;
        } catch {
          continue; // a line cut short by a crash
        }
        if (logLineMatches(line, query, sinceMs)) yield line;
      }
      if (!query.follow || finalPass || this.closed || query.signal?.aborted) return;
      const wf = await this.get(namespace, name).catch(() => undefined);
      if (!wf || isCompletedPhase(wf.status?.phase)) {
        // One more pass for lines appended before the workflow completed but after this read.
        finalPass = true;
        continue;
      }
      await this.waitForChange(query.signal);
    }
  }

  private waitForChange(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.wakeups.delete(wake);
        resolve();
      };
      this.wakeups.add(wake);
      void pause(this.pollIntervalMs, signal).then(wake);
    });
  }

  // ----------------------------------------------------------------------------------------------- memo

  memoCache(namespace: string = DEFAULT_NAMESPACE): MemoCache {
    return {
      load: async (cacheName: string, key: string): Promise<MemoEntry | undefined> => {
        this.assertOpen();
        const path = this.memoPath(namespace, cacheName, key);
        const data = await readIfExists(path).catch((e: unknown) => {
          throw readError(`memoization cache ${cacheName}`, e);
        });
        if (!data) return undefined;
        try {
          return JSON.parse(data.toString("utf8")) as MemoEntry;
        } catch (e) {
          throw new SkiffError(STORE_CODES["SKF-STORE-004"], `${path} is not valid JSON`, { cause: e });
        }
      },
      save: (cacheName: string, key: string, entry: MemoEntry): Promise<void> => {
        if (this.closed) return Promise.reject(closedError());
        const path = this.memoPath(namespace, cacheName, key);
        return this.track(
          writeFileAtomic(path, JSON.stringify(entry), { durable: this.durable, dirs: this.dirs }).then(
            () => undefined,
            (e: unknown) => {
              throw writeError(`memoization cache ${cacheName} entry ${key}`, e);
            },
          ),
        );
      },
    };
  }

  // -------------------------------------------------------------------------------------------- archive

  async archiveList(query: WorkflowQuery = {}): Promise<Workflow[]> {
    this.assertOpen();
    const out: Workflow[] = [];
    try {
      for (const path of await this.archiveFiles(query.namespace)) {
        const doc = await readJson<Workflow>(path);
        if (doc && matchesQuery(summarize(doc), query)) out.push(doc);
      }
    } catch (e) {
      throw readError("the archive", e);
    }
    out.sort(compareArchived);
    return query.limit !== undefined && query.limit > 0 ? out.slice(0, query.limit) : out;
  }

  async archiveDelete(namespace: string, name: string, uid?: string): Promise<number> {
    this.assertOpen();
    const dir = join(this.dir, "archive", encodeSegment(namespace), encodeSegment(name));
    try {
      const paths =
        uid !== undefined
          ? [this.archivePath(namespace, name, uid)]
          : (await listNames(dir)).filter((f) => f.endsWith(".json")).map((f) => join(dir, f));
      let deleted = 0;
      for (const path of paths) {
        if ((await readJson<Workflow>(path)) === undefined) continue;
        await removeFile(path, this.dirs);
        deleted++;
      }
      return deleted;
    } catch (e) {
      throw writeError(`archived workflow ${namespace}/${name}`, e);
    }
  }

  async archiveGet(namespace: string, name: string, uid?: string): Promise<Workflow | undefined> {
    this.assertOpen();
    try {
      if (uid !== undefined) return await readJson<Workflow>(this.archivePath(namespace, name, uid));
      const dir = join(this.dir, "archive", encodeSegment(namespace), encodeSegment(name));
      const runs: Workflow[] = [];
      for (const f of await listNames(dir)) {
        const doc = await readJson<Workflow>(join(dir, f));
        if (doc) runs.push(doc);
      }
      return runs.sort(compareArchived)[0];
    } catch (e) {
      throw readError(`archived workflow ${namespace}/${name}`, e);
    }
  }

  private async archiveFiles(namespace?: string): Promise<string[]> {
    const root = join(this.dir, "archive");
    const namespaces = namespace !== undefined ? [encodeSegment(namespace)] : await listNames(root);
    const out: string[] = [];
    for (const ns of namespaces) {
      for (const name of await listNames(join(root, ns))) {
        for (const f of await listNames(join(root, ns, name))) {
          if (f.endsWith(".json")) out.push(join(root, ns, name, f));
        }
      }
    }
    return out;
  }

  async gc(now: number): Promise<GcResult> {
    this.assertOpen();
    const result: GcResult = { deleted: [], archiveDeleted: [] };
    try {
      for (const path of await this.workflowFiles()) {
        const entry = await this.readEntry(path);
        if (!entry || !isCompletedPhase(entry.summary.phase)) continue;
        const whole = await this.readEntry(path, true);
        if (!whole?.json) continue;
        const expiresAt = ttlExpiresAt(JSON.parse(whole.json) as Workflow);
        if (expiresAt === undefined || expiresAt > now) continue;
        const { namespace, name } = entry.summary;
        try {
          await this.deleteVersion(namespace, name, entry.rv);
        } catch (e) {
          if (e instanceof SkiffError && e.code === STORE_CODES["SKF-STORE-002"]) continue;
          throw e;
        }
        result.deleted.push({ namespace, name });
        const archived = await listNames(
          join(this.dir, "archive", encodeSegment(namespace), encodeSegment(name)),
        );
        if (archived.length === 0) await removeFile(this.logPath(namespace, name), this.dirs);
      }
      if (this.archiveTTLMs !== undefined) {
        const emptied = new Map<string, { namespace: string; name: string }>();
        for (const path of await this.archiveFiles()) {
          const doc = await readJson<Workflow>(path);
          if (!doc) continue;
          const finished = finishedAtMs(doc);
          if (finished === undefined || finished + this.archiveTTLMs > now) continue;
          await removeFile(path, this.dirs);
          const { namespace, name } = summarize(doc);
          result.archiveDeleted.push({ namespace, name, uid: archiveId(doc) });
          emptied.set(dirname(path), { namespace, name });
        }
        for (const [dir, { namespace, name }] of emptied) {
          if ((await listNames(dir)).length > 0) continue;
          await rmdir(dir).catch(() => undefined);
          if (!(await statIfExists(this.workflowPath(namespace, name)))) {
            await removeFile(this.logPath(namespace, name), this.dirs);
          }
        }
      }
      await this.gcLeases(now);
      await removeLeftovers(this.dir, now - LEFTOVER_AGE_MS, 4);
    } catch (e) {
      throw writeError("garbage collection", e);
    }
    return result;
  }

  private async gcLeases(now: number): Promise<void> {
    const root = join(this.dir, "leases");
    for (const ns of await listNames(root)) {
      for (const f of await listNames(join(root, ns))) {
        if (!f.endsWith(".json")) continue;
        const path = join(root, ns, f);
        await withFileLock(this.lockPathOf(path), this.lockOptions, async () => {
          const lease = await readJson<Lease>(path);
          if (lease && lease.expiresAt <= now) await removeFile(path, this.dirs);
        });
      }
    }
  }

  // --------------------------------------------------------------------------------------------- leases

  acquireLease(namespace: string, name: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    return this.changeLease(
      namespace,
      name,
      (current) => {
        if (current && current.owner !== owner && current.expiresAt > now) return undefined;
        return { owner, expiresAt: now + ttlMs };
      },
      owner,
      ttlMs,
      now,
    );
  }

  renewLease(namespace: string, name: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    return this.changeLease(
      namespace,
      name,
      (current) => {
        if (current && current.owner !== owner) return undefined;
        return { owner, expiresAt: now + ttlMs };
      },
      owner,
      ttlMs,
      now,
    );
  }

  private async changeLease(
    namespace: string,
    name: string,
    decide: (current: Lease | undefined) => Lease | undefined,
    owner: string,
    ttlMs: number,
    now: number,
  ): Promise<boolean> {
    this.assertOpen();
    checkLeaseArgs(owner, ttlMs, now);
    const path = this.leasePath(namespace, name);
    return this.track(
      withFileLock(this.lockPathOf(path), this.lockOptions, async () => {
        const next = decide(await readJson<Lease>(path));
        if (!next) return false;
        await writeFileAtomic(path, JSON.stringify(next), { durable: this.durable, dirs: this.dirs });
        return true;
      }).catch((e: unknown) => {
        throw writeError(`lease of workflow ${namespace}/${name}`, e);
      }),
    );
  }

  async releaseLease(namespace: string, name: string, owner: string): Promise<void> {
    this.assertOpen();
    const path = this.leasePath(namespace, name);
    await this.track(
      withFileLock(this.lockPathOf(path), this.lockOptions, async () => {
        const current = await readJson<Lease>(path);
        if (current?.owner === owner) await removeFile(path, this.dirs);
      }).catch((e: unknown) => {
        throw writeError(`lease of workflow ${namespace}/${name}`, e);
      }),
    );
  }

  async getLease(namespace: string, name: string): Promise<Lease | undefined> {
    this.assertOpen();
    return readJson<Lease>(this.leasePath(namespace, name)).catch((e: unknown) => {
      throw readError(`lease of workflow ${namespace}/${name}`, e);
    });
  }
}

/** Temp files of a write that crashed are removed by `gc` once they are this old. */
const LEFTOVER_AGE_MS = 3_600_000;

/** Removes temp files (and locks moved aside when broken) last changed before `before`. */
async function removeLeftovers(dir: string, before: number, depth: number): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if (errnoOf(e) === "ENOENT" || errnoOf(e) === "ENOTDIR") return;
    throw e;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (depth > 0) await removeLeftovers(path, before, depth - 1);
    } else if (e.name.startsWith(".") && (e.name.endsWith(".tmp") || e.name.endsWith(".stale"))) {
      const st = await statIfExists(path);
      if (st && Number(st.mtimeMs) < before) await unlink(path).catch(() => undefined);
    }
  }
}

/** Entries of a folder that are not temp or lock files; none when the folder does not exist. */
async function listNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => !n.startsWith(".")).sort();
  } catch (e) {
    if (errnoOf(e) === "ENOENT" || errnoOf(e) === "ENOTDIR") return [];
    throw e;
  }
}

async function readJson<T>(path: string): Promise<T | undefined> {
  const data = await readIfExists(path);
  if (!data) return undefined;
  try {
    return JSON.parse(data.toString("utf8")) as T;
  } catch (e) {
    throw new SkiffError(STORE_CODES["SKF-STORE-004"], `${path} is not valid JSON`, { cause: e });
  }
}

/** Reads what was appended to a file after `offset`. */
async function readFrom(path: string, offset: number): Promise<{ chunk: string; offset: number }> {
  let fh;
  try {
    fh = await open(path, "r");
  } catch (e) {
    if (errnoOf(e) === "ENOENT" || errnoOf(e) === "ENOTDIR") return { chunk: "", offset };
    throw e;
  }
  try {
    const { size } = await fh.stat();
    if (size <= offset) return { chunk: "", offset };
    const buf = Buffer.alloc(size - offset);
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    // Cut at the last newline so a multi-byte character is never split between two reads.
    const end = buf.lastIndexOf(0x0a, bytesRead - 1) + 1;
    return { chunk: buf.subarray(0, end).toString("utf8"), offset: offset + end };
  } finally {
    await fh.close();
  }
}

/** A Map that forgets the least recently used entries beyond `max`. */
class LruMap<V> {
  private readonly map = new Map<string, V>();

  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.map.delete(key);
  }
}

/** What watchers were last told about one workflow. */
interface Seen {
  rv: number;
  uid: string;
  namespace: string;
  name: string;
}

function seenOf(entry: Entry): Seen {
  return { rv: entry.rv, uid: entry.uid, namespace: entry.summary.namespace, name: entry.summary.name };
}

function toEntry(fp: string, doc: Workflow, json?: string): Entry {
  const { spec: _spec, status, ...rest } = doc;
  return {
    fp,
    rv: Number(doc.metadata?.resourceVersion ?? 0) || 0,
    uid: doc.metadata?.uid ?? "",
    summary: summarize(doc),
    ...(json !== undefined ? { json } : {}),
    head: JSON.stringify(status ? { ...rest, status: { ...status, nodes: undefined } } : rest),
  };
}

/** What a deletion event carries when the last version was never read. */
function minimalWorkflow(entry: Pick<Entry, "rv" | "uid" | "summary">): Workflow {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: {
      name: entry.summary.name,
      namespace: entry.summary.namespace,
      uid: entry.uid,
      resourceVersion: String(entry.rv),
    },
    spec: {},
  };
}

/** A journal is rewritten with its newest record alone once it outgrows this many bytes... */
const COMPACT_MIN_BYTES = 256 * 1024;
/** ...or this many times the newest record, whichever is larger. */
const COMPACT_FACTOR = 4;

/**
 * The newest complete, readable record (line) of a workflow journal: the workflow's metadata and status fields
 * (the whole workflow when the record is not a delta). A record is complete once its newline is written, so a
 * reader racing an append, or a journal cut short by a crash, gets the previous version.
 */
async function lastRecord(
  fh: FileHandle,
  size: number,
): Promise<{ head: Workflow; whole?: string } | undefined> {
  const chunk = 256 * 1024;
  let pos = size;
  let data = Buffer.alloc(0);
  for (;;) {
    const end = data.lastIndexOf(0x0a);
    const start = end <= 0 ? -1 : data.lastIndexOf(0x0a, end - 1);
    if (end >= 0 && (start >= 0 || pos === 0)) {
      const line = data.subarray(start + 1, end).toString("utf8");
      try {
        if (line.length > 0) {
          const head = headOf(line);
          return isDeltaRecord(line) ? { head } : { head, whole: JSON.stringify(head) };
        }
      } catch {
        // A record cut short by a crash and sealed by the next append's newline: the one before counts.
      }
      data = data.subarray(0, start + 1);
      continue;
    }
    if (pos === 0) return undefined;
    const len = Math.min(chunk, pos);
    pos -= len;
    const buf = Buffer.alloc(len);
    const { bytesRead } = await fh.read(buf, 0, len, pos);
    data = Buffer.concat([buf.subarray(0, bytesRead), data]);
  }
}
