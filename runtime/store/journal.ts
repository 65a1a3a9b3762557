import type { NodeStatus, Workflow } from "../spec/types.js";

/**
 * Records of a workflow journal (one JSON document per line, `\n`-terminated):
 *
 * - a whole workflow (format 1, and what `put` without `changedNodes` used to write);
 * - a snapshot, `{"$snapshot":1,"head":H,"spec":S,"nodes":{id:node...}}`: the workflow split in three, so a
 *   writer can assemble it from JSON it already holds per node;
 * - a delta, `{"$delta":1,"head":H,"spec":S?,"nodes":{...},"children":{id:[appended ids]},"removed":[ids]}`,
 *   relative to the state the records before it describe.
 *
 * `head` is the workflow without `spec` and `status.nodes` (so it carries metadata, `resourceVersion` included,
 * and the workflow-level status). A delta names `spec` only when it changed. Each node in `nodes` replaces the
 * previous one; when `children` also names the node, its `children` are the previous node's followed by the ids
 * listed (a loop's parent gains one child per item: writing its whole list on every put would cost O(N) a put).
 */

/** How a delta record starts; nothing else does. */
export const DELTA_PREFIX = '{"$delta":1,';
const SNAPSHOT_PREFIX = '{"$snapshot":1,';

interface SplitRecord {
  head: Workflow;
  spec?: Workflow["spec"];
  nodes?: Record<string, NodeStatus>;
}

interface DeltaRecord extends SplitRecord {
  children?: Record<string, string[]>;
  removed?: string[];
}

export function isDeltaRecord(line: string): boolean {
  return line.startsWith(DELTA_PREFIX);
}

/** The workflow a non-delta record holds; throws when the record is not valid JSON. */
export function parseSnapshot(line: string): Workflow {
  if (!line.startsWith(SNAPSHOT_PREFIX)) return JSON.parse(line) as Workflow;
  const rec = JSON.parse(line) as SplitRecord;
  const wf = rec.head;
  if (rec.spec !== undefined) wf.spec = rec.spec;
  if (rec.nodes !== undefined) (wf.status ??= {}).nodes = rec.nodes;
  return wf;
}

export function parseDelta(line: string): DeltaRecord {
  return JSON.parse(line) as DeltaRecord;
}

/** Applies a delta to the workflow before it (changed in place) and returns the result. */
export function applyDelta(wf: Workflow, delta: DeltaRecord): Workflow {
  const before = wf.status?.nodes;
  const next = delta.head;
  next.spec = delta.spec ?? wf.spec;
  const nodes: Record<string, NodeStatus> = before ?? {};
  let hasNodes = before !== undefined;
  for (const id of delta.removed ?? []) delete nodes[id];
  for (const [id, node] of Object.entries(delta.nodes ?? {})) {
    const appended = delta.children?.[id];
    if (appended) {
      // The records were parsed for this replay alone, so the previous list can grow in place.
      const list = nodes[id]?.children ?? [];
      for (const child of appended) list.push(child);
      node.children = list;
    }
    nodes[id] = node;
    hasNodes = true;
  }
  if (next.status && hasNodes) next.status.nodes = nodes;
  return next;
}

/** The metadata a listing needs, from the newest record without replaying the journal. */
export function headOf(line: string): Workflow {
  return isDeltaRecord(line) ? parseDelta(line).head : parseSnapshot(line);
}

/**
 * The workflow a journal's complete records describe: the newest readable snapshot and the deltas after it, up
 * to the first record that does not parse (a record cut short by a crash can only be the last: after a failed
 * or foreign write, a writer replaces the journal instead of appending). Undefined when nothing is readable.
 */
export function replayJournal(text: string): Workflow | undefined {
  const lines = text.split("\n");
  // A last line without its newline is a record still being written, or cut short by a crash.
  lines.pop();
  for (let s = lines.length - 1; s >= 0; s--) {
    const line = lines[s]!;
    if (line === "" || isDeltaRecord(line)) continue;
    let wf: Workflow;
    try {
      wf = parseSnapshot(line);
    } catch {
      continue;
    }
    for (let i = s + 1; i < lines.length; i++) {
      const next = lines[i]!;
      if (next === "") continue;
      let delta: DeltaRecord;
      try {
        delta = parseDelta(next);
      } catch {
        break;
      }
      wf = applyDelta(wf, delta);
    }
    return wf;
  }
  return undefined;
}

/** One node as the writer keeps it: JSON without `children` when it has any, and its own copy of them. */
interface NodeDoc {
  json: string;
  children?: string[];
}

function nodeJson(doc: NodeDoc): string {
  if (!doc.children) return doc.json;
  const list = `"children":${JSON.stringify(doc.children)}}`;
  return doc.json === "{}" ? `{${list}` : `${doc.json.slice(0, -1)},${list}`;
}

function startsWith(list: string[], prefix: string[]): boolean {
  if (prefix.length > list.length) return false;
  for (let i = 0; i < prefix.length; i++) if (list[i] !== prefix[i]) return false;
  return true;
}

/** How much a model knows of the journal file it last wrote. */
export interface JournalState {
  /** Fingerprint of the file after that write. */
  fp: string;
  /** The resourceVersion it wrote. */
  rv: number;
  /** Bytes of the newest snapshot, and of the deltas after it. */
  snapshotBytes: number;
  deltaBytes: number;
}

/** What one write of a model carries. */
export interface ModelWrite {
  /** A delta when the journal is known to hold the previous state, else a snapshot. */
  kind: "delta" | "snapshot";
  record: string;
  /** Puts the batch back when the write failed, so the next write carries its changes. */
  undo(): void;
}

/**
 * The newest workflow one store instance was given for one key, held as JSON per node, so that a put with
 * `changedNodes` costs what changed rather than the whole status. `pending` remembers what the journal lacks.
 */
export class WorkflowModel {
  readonly uid: string;
  private headJson = "";
  private specJson = "";
  private specPending = true;
  private hasNodes = false;
  private readonly nodes = new Map<string, NodeDoc>();
  /** Nodes changed since the last durable write: id -> how many of its children the journal holds (-1: none). */
  private pending = new Map<string, number>();
  /** The journal as this model last left it; undefined when unknown (a snapshot must replace it). */
  journal: JournalState | undefined;

  constructor(
    uid: string,
    private readonly rvToken: string,
  ) {
    this.uid = uid;
  }

  /** Takes in a put: the whole workflow when `changed` is undefined, else only the nodes it names. */
  apply(stored: Workflow, changed: readonly string[] | undefined): void {
    const { spec, status, ...rest } = stored;
    this.headJson = JSON.stringify(status ? { ...rest, status: { ...status, nodes: undefined } } : rest);
    // Cheap next to the status, and it spares the journal a copy of an unchanged spec per delta.
    const specJson = JSON.stringify(spec);
    if (specJson !== this.specJson) {
      this.specJson = specJson;
      this.specPending = true;
    }
    const all = status?.nodes;
    this.hasNodes = all !== undefined;
    if (changed === undefined) {
      for (const id of this.nodes.keys()) if (!all || !(id in all)) this.remove(id);
      for (const id of Object.keys(all ?? {})) this.set(id, all![id]!);
      return;
    }
    for (const id of changed) {
      const node = all?.[id];
      if (node) this.set(id, node);
      else this.remove(id);
    }
  }

  private remove(id: string): void {
    if (!this.nodes.delete(id)) return;
    if (!this.pending.has(id)) this.pending.set(id, -1);
  }

  private set(id: string, node: NodeStatus): void {
    const prev = this.nodes.get(id);
    const children = node.children;
    if (!children || children.length === 0) {
      this.nodes.set(id, { json: JSON.stringify(node) });
      this.pending.set(id, -1);
      return;
    }
    const json = JSON.stringify({ ...node, children: undefined });
    if (prev?.children && startsWith(children, prev.children)) {
      if (!this.pending.has(id)) this.pending.set(id, prev.children.length);
      for (let i = prev.children.length; i < children.length; i++) prev.children.push(children[i]!);
      this.nodes.set(id, { json, children: prev.children });
      return;
    }
    this.nodes.set(id, { json, children: [...children] });
    this.pending.set(id, -1);
  }

  /** The whole state as one snapshot record. */
  snapshot(rv: string): string {
    const nodes = this.hasNodes
      ? `,"nodes":{${[...this.nodes].map(([id, doc]) => `${JSON.stringify(id)}:${nodeJson(doc)}`).join(",")}}`
      : "";
    return `${SNAPSHOT_PREFIX}"head":${this.head(rv)},"spec":${this.specJson}${nodes}}`;
  }

  /** The whole workflow, as a reader gets it. */
  materialize(rv: string): Workflow {
    return parseSnapshot(this.snapshot(rv));
  }

  /**
   * The record the next write appends (a delta, when `journal` is known) or writes (a snapshot), taking the
   * pending changes with it.
   */
  takeWrite(rv: string): ModelWrite {
    const batch = this.pending;
    const specPending = this.specPending;
    this.pending = new Map();
    this.specPending = false;
    const undo = () => {
      for (const [id, held] of batch) {
        const later = this.pending.get(id);
        this.pending.set(id, later === undefined ? held : Math.min(held, later));
      }
      if (specPending) this.specPending = true;
      this.journal = undefined;
    };
    if (!this.journal) return { kind: "snapshot", record: this.snapshot(rv), undo };
    const nodes: string[] = [];
    const children: string[] = [];
    const removed: string[] = [];
    for (const [id, held] of batch) {
      const doc = this.nodes.get(id);
      const key = JSON.stringify(id);
      if (!doc) {
        removed.push(key);
      } else if (doc.children && held >= 0 && held <= doc.children.length) {
        nodes.push(`${key}:${doc.json}`);
        children.push(`${key}:${JSON.stringify(doc.children.slice(held))}`);
      } else {
        nodes.push(`${key}:${nodeJson(doc)}`);
      }
    }
    const record =
      `${DELTA_PREFIX}"head":${this.head(rv)}` +
      (specPending ? `,"spec":${this.specJson}` : "") +
      `,"nodes":{${nodes.join(",")}}` +
      (children.length ? `,"children":{${children.join(",")}}` : "") +
      (removed.length ? `,"removed":[${removed.join(",")}]` : "") +
      "}";
    return { kind: "delta", record, undo };
  }

  /** The workflow without `spec` and `status.nodes`, as JSON. */
  head(rv: string): string {
    return this.headJson.replace(this.rvToken, rv);
  }
}
