import { randomUUID } from "node:crypto";
import { mkdir, open, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import type { PutOptions, StoreEvent, WorkflowQuery, WorkflowStore } from "../../interfaces/store.js";
import type { Workflow } from "../../spec/types.js";
import {
  archiveId,
  checkExpectedVersion,
  closedError,
  compareByNamespaceAndName,
  isCompletedPhase,
  matchesQuery,
  shouldArchive,
  summarize,
  ttlExpiresAt,
  workflowKey,
  type WorkflowSummary,
} from "../common.js";
import type { ExpiredWorkflow } from "../gc.js";
import { WorkflowModel } from "../journal.js";
import { rejectOnThrow } from "../lifecycle.js";
import { KeyedWriteQueue } from "../queue.js";
import type { EmbeddedContext } from "./context.js";
import { EntryCache, type Entry } from "./entries.js";
import {
  encodeSegment,
  errnoOf,
  fingerprint,
  readError,
  removeFile,
  statIfExists,
  withFileLock,
  writeAll,
  writeError,
  writeFileAtomic,
  PRIVATE_DIR,
  PRIVATE_FILE,
} from "./files.js";
import { EmbeddedWatch } from "./watch.js";

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

/** A journal is rewritten with its newest record alone once it outgrows this many bytes... */
const COMPACT_MIN_BYTES = 256 * 1024;
/** ...or this many times the newest record, whichever is larger. */
const COMPACT_FACTOR = 4;

/**
 * The live workflows of the embedded store: one journal per workflow (`workflows/<ns>/<name>.jsonl`, records
 * as in `../journal.ts`), appended under the workflow's lock file and flushed before a put resolves. A put
 * that completes a run also writes its archive copy, first.
 */
export class EmbeddedWorkflows implements WorkflowStore {
  readonly entries: EntryCache;
  readonly watcher: EmbeddedWatch;
  private readonly writes = new KeyedWriteQueue<WorkflowWrite>((_key, op) => this.applyWrite(op));
  private readonly rvToken = `@rv-${randomUUID()}@`;
  /** What this instance last put per workflow file, so a put with `changedNodes` writes a delta. */
  private readonly models = new Map<string, Held>();

  constructor(private readonly ctx: EmbeddedContext) {
    this.entries = new EntryCache(ctx);
    this.watcher = new EmbeddedWatch(ctx, this.entries);
  }

  put(workflow: Workflow, options: PutOptions = {}): Promise<void> {
    return rejectOnThrow(() => this.startPut(workflow, options));
  }

  private startPut(workflow: Workflow, options: PutOptions): Promise<void> {
    this.ctx.assertOpen();
    const key = workflowKey(workflow);
    const stored = {
      ...workflow,
      metadata: { ...workflow.metadata, namespace: key.namespace, resourceVersion: this.rvToken },
    };
    const path = this.ctx.workflowPath(key.namespace, key.name);
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
      throw writeError(`workflow ${key.namespace}/${key.name}`, e);
    }
    held.summary = summarize(stored);
    held.archive = this.ctx.archiveEnabled && shouldArchive(stored);
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
    this.ctx.assertOpen();
    const path = this.ctx.workflowPath(namespace, name);
    const entry = await this.entries.read(path, true).catch((e: unknown) => {
      throw readError(`workflow ${namespace}/${name}`, e);
    });
    return entry?.json !== undefined ? (JSON.parse(entry.json) as Workflow) : undefined;
  }

  async list(query: WorkflowQuery = {}): Promise<Workflow[]> {
    this.ctx.assertOpen();
    const entries: { path: string; entry: Entry }[] = [];
    const out: Workflow[] = [];
    try {
      for (const path of await this.entries.workflowFiles(query.namespace)) {
        const entry = await this.entries.read(path);
        if (entry && matchesQuery(entry.summary, query)) entries.push({ path, entry });
      }
      entries.sort((a, b) => compareByNamespaceAndName(a.entry.summary, b.entry.summary));
      const limited = query.limit !== undefined && query.limit > 0 ? entries.slice(0, query.limit) : entries;
      for (const { path, entry } of limited) {
        // Read whole only now; a version written meanwhile is the one returned.
        const full = entry.json !== undefined ? entry : await this.entries.read(path, true);
        if (full?.json !== undefined) out.push(JSON.parse(full.json) as Workflow);
      }
    } catch (e) {
      throw readError("workflows", e);
    }
    return out;
  }

  delete(namespace: string, name: string): Promise<void> {
    if (this.ctx.closed) return Promise.reject(closedError());
    this.models.delete(this.ctx.workflowPath(namespace, name));
    return this.enqueue({ kind: "delete", namespace, name });
  }

  /** Deletes only the version gc looked at: a workflow put again meanwhile stays. */
  deleteVersion(namespace: string, name: string, resourceVersion: string): Promise<void> {
    this.models.delete(this.ctx.workflowPath(namespace, name));
    return this.enqueue({ kind: "delete", namespace, name, expected: resourceVersion });
  }

  /** Completed workflows whose `ttlStrategy` expired at `now`, for `gc`. */
  async *expired(now: number): AsyncGenerator<ExpiredWorkflow> {
    for (const path of await this.entries.workflowFiles()) {
      const entry = await this.entries.read(path);
      if (!entry || !isCompletedPhase(entry.summary.phase)) continue;
      const whole = await this.entries.read(path, true);
      if (!whole?.json) continue;
      const expiresAt = ttlExpiresAt(JSON.parse(whole.json) as Workflow);
      if (expiresAt === undefined || expiresAt > now) continue;
      const { namespace, name } = entry.summary;
      yield { namespace, name, resourceVersion: String(entry.rv) };
    }
  }

  watch(listener: (e: StoreEvent) => void): () => void {
    return this.watcher.subscribe(listener);
  }

  private enqueue(op: WorkflowWrite): Promise<void> {
    const coalesce = op.kind === "put" && op.expected === undefined;
    return this.ctx.track(this.writes.push(`${op.namespace}\u0000${op.name}`, op, coalesce));
  }

  private async applyWrite(op: WorkflowWrite): Promise<void> {
    try {
      if (op.kind === "put") await this.writeWorkflow(op.namespace, op.name, op);
      else await this.removeWorkflow(op.namespace, op.name, op.expected);
    } catch (e) {
      const what = op.kind === "put" ? "workflow" : "deletion of workflow";
      throw writeError(`${what} ${op.namespace}/${op.name}`, e, this.ctx.workflowPath(op.namespace, op.name));
    }
  }

  private async writeWorkflow(namespace: string, name: string, op: WorkflowWrite): Promise<void> {
    const path = this.ctx.workflowPath(namespace, name);
    const held = op.held!;
    const model = held.model;
    const entry = await withFileLock(this.ctx.lockPathOf(path), this.ctx.lockOptions, async () => {
      const fh = await this.openJournal(path);
      let closed = false;
      try {
        const before = await fh.stat({ bigint: true });
        const size = Number(before.size);
        const fp = fingerprint(before);
        // Deltas only follow this model's own last write: anything else (another process, a failed write, a
        // first write) gets a snapshot.
        if (model.journal?.fp !== fp) model.journal = undefined;
        const cached = this.entries.peek(path);
        const currentRv =
          model.journal?.rv ??
          (size === 0
            ? undefined
            : cached?.fp === fp
              ? cached.rv
              : (await this.entries.parseJournal(fh, size))?.rv);
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
            await writeFileAtomic(
              this.ctx.archivePath(namespace, name, held.archiveId),
              whole,
              this.ctx.writeOptions,
            );
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
            await writeFileAtomic(path, record, this.ctx.writeOptions);
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
            try {
              await writeAll(fh, data);
              if (this.ctx.durable) await fh.datasync();
            } catch (e) {
              // A record cut short by a full disk is taken back: the journal keeps what was written whole.
              await fh.truncate(size).catch(() => undefined);
              throw e;
            }
            if (size === 0) await this.ctx.dirs.sync(dirname(path));
            after = await fh.stat({ bigint: true });
            model.journal = { fp: fingerprint(after), rv, snapshotBytes, deltaBytes };
          }
          const entry: Entry = { fp: model.journal.fp, rv, uid: model.uid, summary: held.summary };
          if (this.watcher.active) entry.head = model.head(String(rv));
          this.entries.set(path, entry);
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
    if (this.watcher.active) {
      this.watcher.ensureNamespaceWatched(encodeSegment(namespace));
      this.watcher.offer(path, entry);
    }
  }

  private async removeWorkflow(namespace: string, name: string, expected?: string): Promise<void> {
    const path = this.ctx.workflowPath(namespace, name);
    const last = await withFileLock(this.ctx.lockPathOf(path), this.ctx.lockOptions, async () => {
      const current = await this.entries.read(path);
      if (!current) return undefined;
      checkExpectedVersion({ namespace, name }, expected, String(current.rv));
      this.watcher.expectDeletion(path, current);
      await removeFile(path, this.ctx.dirs);
      this.entries.forget(path);
      return current;
    });
    await removeFile(this.ctx.leasePath(namespace, name), this.ctx.dirs);
    if (last && this.watcher.active) this.watcher.offerDeletion(path, last);
  }

  private async openJournal(path: string): Promise<FileHandle> {
    try {
      return await open(path, "a+", PRIVATE_FILE);
    } catch (e) {
      if (errnoOf(e) !== "ENOENT") throw e;
      await mkdir(dirname(path), { recursive: true, mode: PRIVATE_DIR });
      await this.ctx.dirs.sync(dirname(dirname(path)));
      return open(path, "a+", PRIVATE_FILE);
    }
  }
}
