import { randomUUID } from "node:crypto";
import { SkiffError } from "../../errors/index.js";
import type { PutOptions, StoreEvent, WorkflowQuery, WorkflowStore } from "../../interfaces/store.js";
import type { Workflow } from "../../spec/types.js";
import { STORE_CODES } from "../codes.js";
import {
  archiveId,
  checkExpectedVersion,
  closedError,
  defineLazy,
  finishedAtMs,
  shouldArchive,
  ttlExpiresAt,
  workflowKey,
} from "../common.js";
import type { ExpiredWorkflow } from "../gc.js";
import { parseSnapshot, WorkflowModel } from "../journal.js";
import { rejectOnThrow } from "../lifecycle.js";
import { KeyedWriteQueue } from "../queue.js";
import { limitOf, whereOf, writeError, type PostgresContext } from "./context.js";
import { PostgresWatch } from "./watch.js";

interface PutWrite {
  kind: "put" | "delete";
  namespace: string;
  name: string;
  doc?: string;
  uid?: string;
  phase?: string;
  labels?: string;
  finishedAt?: string | null;
  archive?: boolean;
  archiveId?: string;
  expected?: string;
  /** What this store last put, when the row may be patched with what changed instead of replaced. */
  held?: WorkflowModel;
  /** Filled in by the write: what listeners are told. */
  result?: { rv: number; json: unknown } | undefined;
}

/**
 * The live workflows of the PostgreSQL store: one row per workflow in `workflows`, the whole object in `doc`
 * (JSONB) and what queries filter on beside it. One statement writes the row, the archive copy of a completed
 * run and the notification, so they commit together.
 */
export class PostgresWorkflows implements WorkflowStore {
  readonly watcher: PostgresWatch;
  private readonly writes = new KeyedWriteQueue<PutWrite>((_k, op) => this.applyWrite(op));
  /** What this instance last put per workflow, so a put with `changedNodes` sends those nodes only. */
  private readonly models = new Map<string, WorkflowModel>();

  constructor(private readonly ctx: PostgresContext) {
    this.watcher = new PostgresWatch(ctx, (namespace, name) => this.get(namespace, name));
  }

  put(workflow: Workflow, options: PutOptions = {}): Promise<void> {
    return rejectOnThrow(() => this.startPut(workflow, options));
  }

  private startPut(workflow: Workflow, options: PutOptions): Promise<void> {
    this.ctx.assertOpen();
    const key = workflowKey(workflow);
    const metadata = { ...workflow.metadata, namespace: key.namespace };
    delete metadata.resourceVersion;
    const stored: Workflow = { ...workflow, metadata };
    const finished = finishedAtMs(stored);
    const queueKey = `${key.namespace}\u0000${key.name}`;
    const uid = stored.metadata.uid ?? "";
    const conditional = options.expectedResourceVersion !== undefined;
    const archive = this.ctx.archiveEnabled && shouldArchive(stored);
    let held = conditional ? undefined : this.models.get(queueKey);
    // The archive copy is a whole document: a put that archives sends one.
    const delta = options.changedNodes !== undefined && held?.uid === uid && !archive;
    if (!conditional && (!held || !delta)) {
      held = new WorkflowModel(uid, RV_TOKEN);
      this.models.set(queueKey, held);
    }
    try {
      held?.apply(
        { ...stored, metadata: { ...metadata, resourceVersion: RV_TOKEN } },
        delta ? options.changedNodes : undefined,
      );
    } catch (e) {
      this.models.delete(queueKey);
      throw writeError(`workflow ${key.namespace}/${key.name}`, e);
    }
    return this.ctx.track(
      this.writes.push(
        queueKey,
        {
          kind: "put",
          namespace: key.namespace,
          name: key.name,
          // Serialized now (what changed, or everything): the caller may go on changing its object meanwhile.
          ...(delta ? {} : { doc: JSON.stringify(stored) }),
          ...(held ? { held } : {}),
          uid: stored.metadata.uid ?? "",
          phase: stored.status?.phase ?? "",
          labels: JSON.stringify(stored.metadata.labels ?? {}),
          finishedAt: finished === undefined ? null : new Date(finished).toISOString(),
          archive,
          archiveId: archiveId(stored),
          expected: options.expectedResourceVersion,
        },
        options.expectedResourceVersion === undefined,
      ),
    );
  }

  private async applyWrite(op: PutWrite): Promise<void> {
    try {
      if (op.kind === "put") await this.writeWorkflow(op);
      else await this.removeWorkflow(op);
    } catch (e) {
      const what = op.kind === "put" ? "workflow" : "deletion of workflow";
      throw writeError(`${what} ${op.namespace}/${op.name}`, e);
    }
  }

  private async writeWorkflow(op: PutWrite): Promise<void> {
    const held = op.held;
    if (held) {
      // Whatever the queue merged, the model holds the newest state: a delta when the row is still what this
      // store last wrote, else the whole document.
      const write = held.takeWrite("0");
      try {
        if (write.kind === "delta" && (await this.patchWorkflow(op, held, write.record))) return;
        if (op.doc === undefined || write.kind === "delta") {
          const doc = parseSnapshot(held.snapshot("0"));
          delete doc.metadata.resourceVersion;
          op.doc = JSON.stringify(doc);
        }
        await this.replaceWorkflow(op);
        held.journal = { fp: "", rv: op.result?.rv ?? 0, snapshotBytes: 0, deltaBytes: 0 };
      } catch (e) {
        write.undo();
        throw e;
      }
      return;
    }
    await this.replaceWorkflow(op);
  }

  /**
   * Applies a delta record (`embedded/journal.ts`) to the row in one statement, if the row is still the version
   * this store wrote last; false when it is not (someone else wrote it), so the caller writes it whole.
   */
  private async patchWorkflow(op: PutWrite, held: WorkflowModel, record: string): Promise<boolean> {
    const s = this.ctx.s;
    const lastRv = held.journal?.rv ?? 0;
    const sql = `WITH d AS (SELECT $7::jsonb AS d),
      up AS (
        UPDATE ${s}.workflows AS w SET
          uid = $3, resource_version = w.resource_version + 1, phase = $4, labels = $5::jsonb,
          finished_at = $6::timestamptz,
          doc = jsonb_set(
            (CASE WHEN (d.d->'head') ? 'status' THEN jsonb_set(d.d->'head', '{status,nodes}',
              (coalesce(w.doc->'status'->'nodes', '{}'::jsonb)
                - coalesce(ARRAY(SELECT jsonb_array_elements_text(d.d->'removed')), '{}'::text[]))
              || coalesce((SELECT jsonb_object_agg(e.k, CASE WHEN (d.d->'children') ? e.k
                    THEN e.v || jsonb_build_object('children',
                      coalesce(w.doc->'status'->'nodes'->e.k->'children', '[]'::jsonb) || (d.d->'children'->e.k))
                    ELSE e.v END)
                  FROM jsonb_each(d.d->'nodes') AS e(k, v)), '{}'::jsonb))
            ELSE d.d->'head' END)
            || jsonb_build_object('spec', coalesce(d.d->'spec', w.doc->'spec')),
            '{metadata,resourceVersion}', to_jsonb((w.resource_version + 1)::text))
        FROM d
        WHERE namespace = $1 AND name = $2 AND uid = $3 AND resource_version = $8
        RETURNING resource_version
      ),
      note AS (
        SELECT pg_notify($9, json_build_object('t', 'put', 'ns', $1::text, 'n', $2::text,
          'rv', up.resource_version::text, 'src', $10::text)::text) FROM up
      )
      SELECT up.resource_version::text AS rv FROM up, (SELECT count(*) FROM note) AS notified`;
    const params = [op.namespace, op.name, op.uid, op.phase, op.labels, op.finishedAt, record, lastRv];
    const { rows } = await this.ctx.pool.query<{ rv: string }>(sql, [
      ...params,
      this.ctx.channel,
      this.ctx.instanceId,
    ]);
    const row = rows[0];
    if (!row) return false;
    const rv = Number(row.rv);
    held.journal = { fp: "", rv, snapshotBytes: 0, deltaBytes: 0 };
    if (this.watcher.active) this.watcher.offer(op.namespace, op.name, lazyWorkflow(held, rv));
    return true;
  }

  private async replaceWorkflow(op: PutWrite): Promise<void> {
    const s = this.ctx.s;
    const cols = "namespace, name, uid, resource_version, phase, labels, finished_at, doc";
    // One statement: the upsert, the archive copy and the notification commit together or not at all.
    let upsert: string;
    const params: unknown[] = [op.namespace, op.name, op.uid, op.phase, op.labels, op.finishedAt, op.doc];
    if (op.expected === undefined) {
      upsert = `INSERT INTO ${s}.workflows AS w (${cols})
        VALUES ($1, $2, $3, 1, $4, $5::jsonb, $6::timestamptz, jsonb_set($7::jsonb, '{metadata,resourceVersion}', '"1"'))
        ON CONFLICT (namespace, name) DO UPDATE SET
          uid = EXCLUDED.uid, resource_version = w.resource_version + 1, phase = EXCLUDED.phase,
          labels = EXCLUDED.labels, finished_at = EXCLUDED.finished_at,
          doc = jsonb_set($7::jsonb, '{metadata,resourceVersion}', to_jsonb((w.resource_version + 1)::text))
        RETURNING resource_version, doc`;
    } else if (op.expected === "") {
      upsert = `INSERT INTO ${s}.workflows (${cols})
        VALUES ($1, $2, $3, 1, $4, $5::jsonb, $6::timestamptz, jsonb_set($7::jsonb, '{metadata,resourceVersion}', '"1"'))
        ON CONFLICT (namespace, name) DO NOTHING
        RETURNING resource_version, doc`;
    } else {
      params.push(op.expected);
      upsert = `UPDATE ${s}.workflows AS w SET
          uid = $3, resource_version = w.resource_version + 1, phase = $4, labels = $5::jsonb,
          finished_at = $6::timestamptz,
          doc = jsonb_set($7::jsonb, '{metadata,resourceVersion}', to_jsonb((w.resource_version + 1)::text))
        WHERE namespace = $1 AND name = $2 AND resource_version::text = $8
        RETURNING resource_version, doc`;
    }
    params.push(op.archive ?? false, op.archiveId ?? "", this.ctx.channel, this.ctx.instanceId);
    const n = params.length;
    const sql = `WITH up AS (${upsert}),
      arch AS (
        INSERT INTO ${s}.archive (namespace, name, uid, phase, labels, finished_at, doc)
        SELECT $1, $2, $${n - 2}, $4, $5::jsonb, $6::timestamptz, up.doc FROM up WHERE $${n - 3}::boolean
        ON CONFLICT (namespace, name, uid) DO UPDATE SET
          phase = EXCLUDED.phase, labels = EXCLUDED.labels, finished_at = EXCLUDED.finished_at, doc = EXCLUDED.doc
      ),
      note AS (
        SELECT pg_notify($${n - 1}, json_build_object('t', 'put', 'ns', $1::text, 'n', $2::text,
          'rv', up.resource_version::text, 'src', $${n}::text)::text) FROM up
      )
      SELECT up.resource_version::text AS rv, up.doc FROM up, (SELECT count(*) FROM note) AS notified`;
    const { rows } = await this.ctx.pool.query<{ rv: string; doc: Workflow }>(sql, params);
    const row = rows[0];
    if (!row) {
      const current = await this.ctx.read<{ rv: string }>(
        `SELECT resource_version::text AS rv FROM ${s}.workflows WHERE namespace = $1 AND name = $2`,
        [op.namespace, op.name],
        `workflow ${op.namespace}/${op.name}`,
      );
      checkExpectedVersion(op, op.expected, current[0]?.rv);
      throw writeError(`workflow ${op.namespace}/${op.name}`, new Error("the update matched no row"));
    }
    op.result = { rv: Number(row.rv), json: undefined };
    if (this.watcher.active) this.watcher.offer(op.namespace, op.name, row.doc);
  }

  async get(namespace: string, name: string): Promise<Workflow | undefined> {
    const rows = await this.ctx.read<{ doc: Workflow }>(
      `SELECT doc FROM ${this.ctx.s}.workflows WHERE namespace = $1 AND name = $2`,
      [namespace, name],
      `workflow ${namespace}/${name}`,
    );
    return rows[0]?.doc;
  }

  async list(query: WorkflowQuery = {}): Promise<Workflow[]> {
    const { where, params } = whereOf(query);
    const limit = limitOf(query);
    const rows = await this.ctx.read<{ doc: Workflow }>(
      `SELECT doc FROM ${this.ctx.s}.workflows WHERE ${where} ORDER BY namespace COLLATE "C", name COLLATE "C" ${limit}`,
      params,
      "workflows",
    );
    return rows.map((r) => r.doc);
  }

  delete(namespace: string, name: string): Promise<void> {
    if (this.ctx.closed) return Promise.reject(closedError());
    return this.ctx.track(
      this.writes.push(`${namespace}\u0000${name}`, { kind: "delete", namespace, name }, false),
    );
  }

  /** Deletes only the version gc looked at: a workflow put again meanwhile stays. */
  deleteVersion(namespace: string, name: string, rv: string): Promise<void> {
    return this.ctx.track(
      this.writes.push(`${namespace}\u0000${name}`, { kind: "delete", namespace, name, expected: rv }, false),
    );
  }

  private async removeWorkflow(op: PutWrite): Promise<void> {
    // Other processes get the document in the notification when it fits NOTIFY's 8000-byte payload, else
    // its metadata and phase.
    const { rows } = await this.ctx.pool.query<{ doc: Workflow }>(
      `WITH del AS (
         DELETE FROM ${this.ctx.s}.workflows WHERE namespace = $1 AND name = $2
           AND ($5::text IS NULL OR resource_version::text = $5) RETURNING doc
       ),
       lease AS (DELETE FROM ${this.ctx.s}.leases WHERE namespace = $1 AND name = $2 AND EXISTS (SELECT 1 FROM del)),
       note AS (
         SELECT pg_notify($3, json_build_object('t', 'delete', 'ns', $1::text, 'n', $2::text, 'src', $4::text,
           'doc', CASE WHEN octet_length(del.doc::text) < 7000 THEN del.doc ELSE jsonb_build_object(
             'apiVersion', del.doc->'apiVersion', 'kind', del.doc->'kind', 'metadata', del.doc->'metadata',
             'spec', '{}'::jsonb, 'status', jsonb_build_object('phase', del.doc->'status'->'phase')) END)::text)
         FROM del
       )
       SELECT del.doc FROM del, (SELECT count(*) FROM note) AS notified`,
      [op.namespace, op.name, this.ctx.channel, this.ctx.instanceId, op.expected ?? null],
    );
    const doc = rows[0]?.doc;
    if (!doc && op.expected !== undefined) {
      throw new SkiffError(
        STORE_CODES["SKF-STORE-002"],
        `workflow ${op.namespace}/${op.name} changed before deletion`,
      );
    }
    if (doc && this.watcher.active) this.watcher.offerDeletion(op.namespace, op.name, doc);
  }

  /** Completed workflows whose `ttlStrategy` expired at `now`, for `gc`. */
  async *expired(now: number): AsyncGenerator<ExpiredWorkflow> {
    const { rows } = await this.ctx.pool.query<{
      namespace: string;
      name: string;
      phase: string;
      rv: string;
      finished: string | null;
      ttl: unknown;
      tmpl: unknown;
    }>(
      `SELECT namespace, name, phase, resource_version::text AS rv, doc->'status'->>'finishedAt' AS finished, doc->'spec'->'ttlStrategy' AS ttl,
         doc->'status'->'storedWorkflowTemplateSpec'->'ttlStrategy' AS tmpl
       FROM ${this.ctx.s}.workflows WHERE phase IN ('Succeeded', 'Failed', 'Error')
         AND (doc->'spec' ? 'ttlStrategy' OR doc->'status'->'storedWorkflowTemplateSpec' ? 'ttlStrategy')
       ORDER BY namespace COLLATE "C", name COLLATE "C"`,
    );
    for (const r of rows) {
      const probe = {
        metadata: { name: r.name },
        spec: r.ttl ? { ttlStrategy: r.ttl } : {},
        status: {
          phase: r.phase,
          finishedAt: r.finished ?? undefined,
          ...(r.tmpl ? { storedWorkflowTemplateSpec: { ttlStrategy: r.tmpl } } : {}),
        },
      } as unknown as Workflow;
      const expiresAt = ttlExpiresAt(probe);
      if (expiresAt === undefined || expiresAt > now) continue;
      yield { namespace: r.namespace, name: r.name, resourceVersion: r.rv };
    }
  }

  watch(listener: (e: StoreEvent) => void): () => void {
    return this.watcher.subscribe(listener);
  }
}

/** Stands for `metadata.resourceVersion` in what a model holds; the database sets the real one. */
const RV_TOKEN = `@rv-${randomUUID()}@`;

/**
 * The workflow a watch event carries for this store's own delta write: its metadata and workflow-level status
 * at once, `spec` and `status.nodes` from the model on first access (so a listener looking at the metadata only
 * does not pay for every node on every put).
 */
function lazyWorkflow(model: WorkflowModel, rv: number): Workflow {
  const wf = JSON.parse(model.head(String(rv))) as Workflow;
  let whole: Workflow | undefined;
  const load = () => (whole ??= parseSnapshot(model.snapshot(String(rv))));
  defineLazy(wf, "spec", () => load().spec);
  if (wf.status) defineLazy(wf.status, "nodes", () => load().status?.nodes);
  return wf;
}
