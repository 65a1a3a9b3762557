import { watch as watchFs, type FSWatcher } from "node:fs";
import { join } from "node:path";
import type { StoreEvent } from "../../interfaces/store.js";
import type { Workflow } from "../../spec/types.js";
import { defineLazy } from "../common.js";
import { WatchListeners } from "../listeners.js";
import type { EmbeddedContext } from "./context.js";
import { minimalWorkflow, type Entry, type EntryCache } from "./entries.js";
import { listNames, statIfExists } from "./files.js";

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

/**
 * `watch` of the embedded store. This store's own writes are announced at once (`offer`, `offerDeletion`);
 * other processes' writes are found through `fs.watch` on the namespace folders and a poll every
 * `pollIntervalMs`, by comparing each journal with what listeners were last told.
 */
export class EmbeddedWatch {
  readonly listeners = new WatchListeners<Seen>();
  private watchers: FSWatcher[] = [];
  private watchedNamespaces = new Set<string>();
  private pollTimer: NodeJS.Timeout | undefined;
  private scanning = false;
  /** A change arrived during a scan: scan again once it ends. */
  private rescan = false;

  constructor(
    private readonly ctx: EmbeddedContext,
    private readonly entries: EntryCache,
  ) {}

  get active(): boolean {
    return this.listeners.size > 0;
  }

  subscribe(listener: (e: StoreEvent) => void): () => void {
    return this.listeners.subscribe(listener, {
      closed: this.ctx.closed,
      start: () => this.startWatching(),
      stop: () => this.stopWatching(),
    });
  }

  close(): void {
    this.stopWatching();
    this.listeners.clear();
  }

  /** Tells listeners about a version of a workflow unless they have seen it or a newer one already. */
  offer(path: string, entry: Entry): void {
    this.listeners.offer(path, seenOf(entry), () => this.eventWorkflow(path, entry));
  }

  /**
   * Called before this store removes a journal, so that whichever of the removal and a folder scan notices the
   * deletion first announces it, once.
   */
  expectDeletion(path: string, current: Entry): void {
    if (this.active && !this.listeners.emitted.has(path)) this.listeners.emitted.set(path, seenOf(current));
  }

  /**
   * Announces a deletion once. The last version comes from the cache when it is there (always for this
   * store's own deletions); otherwise listeners get its metadata only.
   */
  offerDeletion(path: string, last?: Entry): void {
    const seen = this.listeners.emitted.get(path);
    if (!seen) return;
    this.listeners.emitted.delete(path);
    const known = last ?? this.entries.peek(path);
    const workflow: Workflow =
      known?.json !== undefined
        ? (JSON.parse(known.json) as Workflow)
        : known?.head !== undefined
          ? // The journal is gone: the spec, never read, stays empty.
            { ...(JSON.parse(known.head) as Workflow), spec: {} }
          : minimalWorkflow({ rv: seen.rv, uid: seen.uid, summary: { ...seen, phase: "", labels: {} } });
    this.entries.forget(path);
    this.listeners.emit({ type: "delete", workflow });
  }

  /**
   * The workflow a watch event carries. Unless the version was read whole, `spec` and `status.nodes` are read
   * on first access: a listener that only looks at the metadata (most do) must not pay for 10,000 nodes per put.
   */
  private eventWorkflow(path: string, entry: Entry): Workflow {
    if (entry.json !== undefined) return JSON.parse(entry.json) as Workflow;
    if (entry.head === undefined) return this.entries.readWholeSync(path) ?? minimalWorkflow(entry);
    let whole: Workflow | undefined;
    const load = () => (whole ??= this.entries.readWholeSync(path) ?? minimalWorkflow(entry));
    const wf = JSON.parse(entry.head) as Workflow;
    defineLazy(wf, "spec", () => load().spec);
    if (wf.status) defineLazy(wf.status, "nodes", () => load().status?.nodes);
    return wf;
  }

  /** One workflow file changed (an `fs.watch` event): compare just that one. */
  private async checkFile(path: string): Promise<void> {
    if (!this.active) return;
    try {
      const before = this.entries.peek(path);
      const entry = await this.entries.read(path);
      if (!this.active) return;
      if (entry) this.offer(path, entry);
      else this.offerDeletion(path, before);
    } catch {
      // Transient: the next poll compares again.
    }
  }

  private startWatching(): void {
    const root = this.ctx.workflowsRoot();
    void this.scan(false);
    try {
      const w = watchFs(root, { persistent: false }, () => void this.scan(true));
      w.on("error", () => undefined);
      this.watchers.push(w);
    } catch {
      // No folder yet, or no inotify watches left: polling covers it.
    }
    this.pollTimer = setInterval(() => void this.scan(true), this.ctx.pollIntervalMs);
    this.pollTimer.unref();
  }

  /** Watches the folder of one (encoded) namespace, once, while anyone listens. */
  ensureNamespaceWatched(enc: string): void {
    if (this.watchedNamespaces.has(enc) || !this.active) return;
    this.watchedNamespaces.add(enc);
    try {
      const dir = join(this.ctx.workflowsRoot(), enc);
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
    this.listeners.emitted.clear();
  }

  /** Compares the folder with what listeners were told; `announce` false only records the baseline. */
  private async scan(announce: boolean): Promise<void> {
    if (!this.active) return;
    if (this.scanning) {
      this.rescan = true;
      return;
    }
    this.scanning = true;
    try {
      const root = this.ctx.workflowsRoot();
      const present = new Set<string>();
      for (const ns of await listNames(root)) {
        this.ensureNamespaceWatched(ns);
        for (const f of await listNames(join(root, ns))) {
          if (!f.endsWith(".jsonl")) continue;
          const path = join(root, ns, f);
          present.add(path);
          const entry = await this.entries.read(path).catch(() => undefined);
          if (!entry || !this.active) continue;
          if (!announce) {
            if (!this.listeners.emitted.has(path)) this.listeners.emitted.set(path, seenOf(entry));
          } else this.offer(path, entry);
        }
      }
      if (announce) {
        for (const path of [...this.listeners.emitted.keys()]) {
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
}
