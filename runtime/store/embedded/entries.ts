import { readFileSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { Workflow } from "../../spec/types.js";
import { summarize, type WorkflowSummary } from "../common.js";
import { headOf, isDeltaRecord, replayJournal } from "../journal.js";
import type { EmbeddedContext } from "./context.js";
import { encodeSegment, errnoOf, fingerprint, listNames } from "./files.js";

/** One version of a stored workflow, as far as it was read. */
export interface Entry {
  fp: string;
  rv: number;
  uid: string;
  summary: WorkflowSummary;
  /** The whole workflow, once something needed it. */
  json?: string;
  /** The workflow without `spec` and `status.nodes` (what watch events parse first). */
  head?: string;
}

/**
 * Reads workflow journals (`workflows/<ns>/<name>.jsonl`) through a cache of parsed versions by path, checked
 * against the file's fingerprint on every read, so an unchanged file is not parsed again. Reads take no lock:
 * a journal only grows by complete lines or is replaced whole.
 */
export class EntryCache {
  private readonly cache: LruMap<Entry>;

  constructor(private readonly ctx: EmbeddedContext) {
    this.cache = new LruMap(ctx.cacheEntries);
  }

  peek(path: string): Entry | undefined {
    return this.cache.get(path);
  }

  set(path: string, entry: Entry): void {
    this.cache.set(path, entry);
  }

  forget(path: string): void {
    this.cache.delete(path);
  }

  /**
   * Reads one stored workflow through the cache; undefined when it does not exist. Without `whole`, only what
   * listing needs (the newest record's metadata); with it, the workflow replayed from its journal.
   */
  async read(path: string, whole = false): Promise<Entry | undefined> {
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

  /** The newest version in a journal the cache does not know (written by another process). */
  async parseJournal(fh: FileHandle, size: number): Promise<Entry | undefined> {
    const found = await lastRecord(fh, size);
    return found && toEntry("", found.head, found.whole);
  }

  /**
   * The newest stored version, read synchronously for a watch listener that looks past the metadata; undefined
   * when the workflow is gone.
   */
  readWholeSync(path: string): Workflow | undefined {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      return undefined;
    }
    return replayJournal(text);
  }

  /** The journal files of one namespace, or of all. */
  async workflowFiles(namespace?: string): Promise<string[]> {
    const root = this.ctx.workflowsRoot();
    const namespaces = namespace !== undefined ? [encodeSegment(namespace)] : await listNames(root);
    const out: string[] = [];
    for (const ns of namespaces) {
      for (const f of await listNames(join(root, ns))) {
        if (f.endsWith(".jsonl")) out.push(join(root, ns, f));
      }
    }
    return out;
  }
}

export function toEntry(fp: string, doc: Workflow, json?: string): Entry {
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
export function minimalWorkflow(entry: Pick<Entry, "rv" | "uid" | "summary">): Workflow {
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
