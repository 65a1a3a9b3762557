import { randomUUID } from "node:crypto";
import { Client, Pool, escapeIdentifier, type Notification, type PoolClient, type QueryResultRow } from "pg";
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
  finishedAtMs,
  isCompletedPhase,
  pause,
  shouldArchive,
  sinceMsOf,
  defineLazy,
  ttlExpiresAt,
  workflowKey,
} from "../common.js";
import { KeyedWriteQueue } from "../queue.js";
import { parseSnapshot, WorkflowModel } from "../embedded/journal.js";

/** Options of the PostgreSQL store. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  connectionString: string;
  /** Schema holding Skiff's tables, created when missing (default `skiff`). */
  schema?: string;
  /** Copy completed workflows into the archive (default true). */
  archive?: boolean;
  /** `gc` removes archived runs (and their logs) this long after they finished (ms). Default: keep them. */
  archiveTTLMs?: number;
  /** Connections in the pool (default 4), plus one for LISTEN while someone watches. */
  poolSize?: number;
  /** How often `readLogs({follow: true})` polls when no notification arrives (ms, default 500). */
  pollIntervalMs?: number;
  /** Shown in `pg_stat_activity` (default `skiff`). */
  applicationName?: string;
}

/**
 * Schema migrations, applied in order on start inside one transaction that holds an advisory lock, so that
 * processes starting together migrate once. Never edit a released step: append a new one.
 */
const MIGRATIONS: ((s: string) => string)[] = [
  (s) => `
    CREATE TABLE ${s}.workflows (
      namespace text NOT NULL,
      name text NOT NULL,
      uid text NOT NULL DEFAULT '',
      resource_version bigint NOT NULL,
      phase text NOT NULL DEFAULT '',
      labels jsonb NOT NULL DEFAULT '{}',
      finished_at timestamptz,
      doc jsonb NOT NULL,
      PRIMARY KEY (namespace, name)
    );
    CREATE INDEX workflows_phase ON ${s}.workflows (phase);
    CREATE INDEX workflows_labels ON ${s}.workflows USING gin (labels);
    CREATE TABLE ${s}.archive (
      namespace text NOT NULL,
      name text NOT NULL,
      uid text NOT NULL,
      phase text NOT NULL DEFAULT '',
      labels jsonb NOT NULL DEFAULT '{}',
      finished_at timestamptz,
      doc jsonb NOT NULL,
      PRIMARY KEY (namespace, name, uid)
    );
    CREATE INDEX archive_finished_at ON ${s}.archive (finished_at);
    CREATE TABLE ${s}.logs (
      id bigserial PRIMARY KEY,
      namespace text NOT NULL,
      name text NOT NULL,
      node_id text NOT NULL,
      container text NOT NULL,
      time_ms bigint,
      line text NOT NULL
    );
    CREATE INDEX logs_workflow ON ${s}.logs (namespace, name, id);
    CREATE TABLE ${s}.memo (
      namespace text NOT NULL,
      cache_name text NOT NULL,
      key text NOT NULL,
      entry jsonb NOT NULL,
      PRIMARY KEY (namespace, cache_name, key)
    );
    CREATE TABLE ${s}.leases (
      namespace text NOT NULL,
      name text NOT NULL,
      owner text NOT NULL,
      expires_at bigint NOT NULL,
      PRIMARY KEY (namespace, name)
    );`,
];

/** SQLSTATE classes and messages that mean the connection, not the statement, failed. */
function isConnectionError(e: unknown): boolean {
  const code =
    typeof e === "object" && e !== null && "code" in e ? String((e as { code: unknown }).code) : "";
  const message = e instanceof Error ? e.message : "";
  return (
    code.startsWith("08") ||
    code === "57P01" ||
    code === "57P02" ||
    code === "57P03" ||
    ["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EHOSTUNREACH"].includes(code) ||
    /Connection terminated|connection is closed|Client has encountered a connection error|terminating connection/i.test(
      message,
    )
  );
}

const CONNECTION_HINT =
  "The connection to PostgreSQL was lost or refused; nothing was changed by this write and the previous state is still stored. Check that the server is up and reachable, then retry.";

function writeError(what: string, e: unknown): SkiffError {
  if (e instanceof SkiffError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  return new SkiffError(STORE_CODES["SKF-STORE-001"], `cannot save ${what}: ${detail}`, {
    cause: e,
    ...(isConnectionError(e) ? { hint: CONNECTION_HINT } : {}),
  });
}

function readError(what: string, e: unknown): SkiffError {
  if (e instanceof SkiffError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  return new SkiffError(STORE_CODES["SKF-STORE-003"], `cannot read ${what}: ${detail}`, { cause: e });
}

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

interface LogWrite {
  namespace: string;
  name: string;
  lines: LogLine[];
}

/** Notification payload on the store's channel. */
interface ChangeNotice {
  t: "put" | "delete" | "logs";
  ns: string;
  n: string;
  rv?: string;
  src: string;
  doc?: Workflow;
}

/**
 * The PostgreSQL store: JSONB documents in a schema of their own, leases taken with one atomic upsert, and
 * LISTEN/NOTIFY so that every process sees the others' changes.
 */
export class PostgresStore implements Store {
  readonly schema: string;
  private readonly s: string;
  private readonly channel: string;
  private readonly pool: Pool;
  private readonly archiveEnabled: boolean;
  private readonly archiveTTLMs: number | undefined;
  private readonly pollIntervalMs: number;
  /** Tags this instance's notifications, so it does not announce its own changes twice. */
  private readonly instanceId = randomUUID();
  private readonly writes = new KeyedWriteQueue<PutWrite>((_k, op) => this.applyWrite(op));
  private readonly logWrites = new KeyedWriteQueue<LogWrite>(
    (_k, op) => this.applyLogWrite(op),
    (older, newer) => ({ ...newer, lines: [...older.lines, ...newer.lines] }),
  );
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly listeners = new Set<(e: StoreEvent) => void>();
  private readonly emitted = new Map<string, { rv: number; uid: string }>();
  /** What this instance last put per workflow, so a put with `changedNodes` sends those nodes only. */
  private readonly models = new Map<string, WorkflowModel>();
  private readonly wakeups = new Set<() => void>();
  private listener: Client | undefined;
  private listenerStarting: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: PostgresStoreOptions) {
    const schema = options.schema ?? "skiff";
    if (!/^[a-z_][a-z0-9_]{0,40}$/.test(schema)) {
      throw new SkiffError(
        STORE_CODES["SKF-STORE-006"],
        `invalid schema name ${JSON.stringify(schema)}: use lower-case letters, digits and _`,
      );
    }
    this.schema = schema;
    this.s = escapeIdentifier(schema);
    this.channel = `skiff_${schema}`;
    this.archiveEnabled = options.archive ?? true;
    this.archiveTTLMs = options.archiveTTLMs;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.pool = new Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 4,
      application_name: options.applicationName ?? "skiff",
      connectionTimeoutMillis: 10_000,
    });
    // An idle connection killed by the server emits here; the pool drops it and opens another on demand.
    this.pool.on("error", () => undefined);
  }

  /** Connects and brings the schema up to date. */
  async init(): Promise<void> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      await this.pool.end().catch(() => undefined);
      throw new SkiffError(
        STORE_CODES["SKF-STORE-009"],
        `cannot connect to PostgreSQL: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`skiff-migrate:${this.schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.s}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.s}.migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const { rows } = await client.query<{ v: number | null }>(
        `SELECT max(version) AS v FROM ${this.s}.migrations`,
      );
      const current = rows[0]?.v ?? 0;
      if (current > MIGRATIONS.length) {
        throw new SkiffError(
          STORE_CODES["SKF-STORE-010"],
          `schema ${this.schema} is at version ${current}; this Skiff knows up to ${MIGRATIONS.length}`,
        );
      }
      for (let v = current + 1; v <= MIGRATIONS.length; v++) {
        await client.query(MIGRATIONS[v - 1]!(this.s));
        await client.query(`INSERT INTO ${this.s}.migrations (version) VALUES ($1)`, [v]);
      }
      await client.query("COMMIT");
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined);
      client.release();
      await this.pool.end().catch(() => undefined);
      if (e instanceof SkiffError) throw e;
      throw new SkiffError(
        STORE_CODES["SKF-STORE-009"],
        `cannot prepare schema ${this.schema}: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    client.release();
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

  /** Reads retry once when the pool handed out a connection the server had closed meanwhile. */
  private async read<R extends QueryResultRow>(sql: string, params: unknown[], what: string): Promise<R[]> {
    this.assertOpen();
    try {
      return (await this.pool.query<R>(sql, params)).rows;
    } catch (e) {
      if (!isConnectionError(e)) throw readError(what, e);
      try {
        return (await this.pool.query<R>(sql, params)).rows;
      } catch (e2) {
        throw readError(what, e2);
      }
    }
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
    const metadata = { ...workflow.metadata, namespace: key.namespace };
    delete metadata.resourceVersion;
    const stored: Workflow = { ...workflow, metadata };
    const finished = finishedAtMs(stored);
    const queueKey = `${key.namespace}\u0000${key.name}`;
    const uid = stored.metadata.uid ?? "";
    const conditional = options.expectedResourceVersion !== undefined;
    const archive = this.archiveEnabled && shouldArchive(stored);
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
      return Promise.reject(writeError(`workflow ${key.namespace}/${key.name}`, e));
    }
    return this.track(
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
    const s = this.s;
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
    const { rows } = await this.pool.query<{ rv: string }>(sql, [...params, this.channel, this.instanceId]);
    const row = rows[0];
    if (!row) return false;
    const rv = Number(row.rv);
    held.journal = { fp: "", rv, snapshotBytes: 0, deltaBytes: 0 };
    if (this.listeners.size > 0) this.offer(op.namespace, op.name, lazyWorkflow(held, rv));
    return true;
  }

  private async replaceWorkflow(op: PutWrite): Promise<void> {
    const s = this.s;
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
    params.push(op.archive ?? false, op.archiveId ?? "", this.channel, this.instanceId);
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
    const { rows } = await this.pool.query<{ rv: string; doc: Workflow }>(sql, params);
    const row = rows[0];
    if (!row) {
      const current = await this.read<{ rv: string }>(
        `SELECT resource_version::text AS rv FROM ${s}.workflows WHERE namespace = $1 AND name = $2`,
        [op.namespace, op.name],
        `workflow ${op.namespace}/${op.name}`,
      );
      checkExpectedVersion(op, op.expected, current[0]?.rv);
      throw writeError(`workflow ${op.namespace}/${op.name}`, new Error("the update matched no row"));
    }
    op.result = { rv: Number(row.rv), json: undefined };
    if (this.listeners.size > 0) this.offer(op.namespace, op.name, row.doc);
  }

  async get(namespace: string, name: string): Promise<Workflow | undefined> {
    const rows = await this.read<{ doc: Workflow }>(
      `SELECT doc FROM ${this.s}.workflows WHERE namespace = $1 AND name = $2`,
      [namespace, name],
      `workflow ${namespace}/${name}`,
    );
    return rows[0]?.doc;
  }

  async list(query: WorkflowQuery = {}): Promise<Workflow[]> {
    const { where, params } = this.filters(query);
    const limit = query.limit !== undefined && query.limit > 0 ? `LIMIT ${Math.floor(query.limit)}` : "";
    const rows = await this.read<{ doc: Workflow }>(
      `SELECT doc FROM ${this.s}.workflows WHERE ${where} ORDER BY namespace COLLATE "C", name COLLATE "C" ${limit}`,
      params,
      "workflows",
    );
    return rows.map((r) => r.doc);
  }

  private filters(query: WorkflowQuery): { where: string; params: unknown[] } {
    const conds: string[] = ["true"];
    const params: unknown[] = [];
    if (query.namespace !== undefined) {
      params.push(query.namespace);
      conds.push(`namespace = $${params.length}`);
    }
    if (query.phases && query.phases.length > 0) {
      params.push(query.phases);
      conds.push(`phase = ANY($${params.length}::text[])`);
    }
    if (query.labelSelector && Object.keys(query.labelSelector).length > 0) {
      params.push(JSON.stringify(query.labelSelector));
      conds.push(`labels @> $${params.length}::jsonb`);
    }
    if (query.namePrefix !== undefined) {
      params.push(query.namePrefix);
      conds.push(`starts_with(name, $${params.length})`);
    }
    return { where: conds.join(" AND "), params };
  }

  delete(namespace: string, name: string): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    return this.track(
      this.writes.push(`${namespace}\u0000${name}`, { kind: "delete", namespace, name }, false),
    );
  }

  /** Deletes only the version gc looked at: a workflow put again meanwhile stays. */
  private deleteVersion(namespace: string, name: string, rv: string): Promise<void> {
    return this.track(
      this.writes.push(`${namespace}\u0000${name}`, { kind: "delete", namespace, name, expected: rv }, false),
    );
  }

  private async removeWorkflow(op: PutWrite): Promise<void> {
    // Other processes get the document in the notification when it fits NOTIFY's 8000-byte payload, else
    // its metadata and phase.
    const { rows } = await this.pool.query<{ doc: Workflow }>(
      `WITH del AS (
         DELETE FROM ${this.s}.workflows WHERE namespace = $1 AND name = $2
           AND ($5::text IS NULL OR resource_version::text = $5) RETURNING doc
       ),
       lease AS (DELETE FROM ${this.s}.leases WHERE namespace = $1 AND name = $2 AND EXISTS (SELECT 1 FROM del)),
       note AS (
         SELECT pg_notify($3, json_build_object('t', 'delete', 'ns', $1::text, 'n', $2::text, 'src', $4::text,
           'doc', CASE WHEN octet_length(del.doc::text) < 7000 THEN del.doc ELSE jsonb_build_object(
             'apiVersion', del.doc->'apiVersion', 'kind', del.doc->'kind', 'metadata', del.doc->'metadata',
             'spec', '{}'::jsonb, 'status', jsonb_build_object('phase', del.doc->'status'->'phase')) END)::text)
         FROM del
       )
       SELECT del.doc FROM del, (SELECT count(*) FROM note) AS notified`,
      [op.namespace, op.name, this.channel, this.instanceId, op.expected ?? null],
    );
    const doc = rows[0]?.doc;
    if (!doc && op.expected !== undefined) {
      throw new SkiffError(
        STORE_CODES["SKF-STORE-002"],
        `workflow ${op.namespace}/${op.name} changed before deletion`,
      );
    }
    if (doc && this.listeners.size > 0) this.offerDeletion(op.namespace, op.name, doc);
  }

  // ---------------------------------------------------------------------------------------------- watch

  watch(listener: (e: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1 && !this.closed) void this.startListening();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && !this.wantsNotifications()) this.stopListening();
    };
  }

  private wantsNotifications(): boolean {
    return this.listeners.size > 0 || this.wakeups.size > 0;
  }

  private emit(event: StoreEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch {
        // A listener's failure must not break the store or the other listeners.
      }
    }
  }

  private offer(namespace: string, name: string, doc: Workflow): void {
    const key = `${namespace}\u0000${name}`;
    const rv = Number(doc.metadata.resourceVersion ?? 0);
    const uid = doc.metadata.uid ?? "";
    const seen = this.emitted.get(key);
    if (seen && seen.uid === uid && seen.rv >= rv) return;
    this.emitted.set(key, { rv, uid });
    this.emit({ type: "put", workflow: doc });
  }

  private offerDeletion(namespace: string, name: string, doc: Workflow): void {
    this.emitted.delete(`${namespace}\u0000${name}`);
    this.emit({ type: "delete", workflow: doc });
  }

  /** One dedicated connection LISTENs for the whole store; it reconnects when it is lost. */
  private startListening(): Promise<void> {
    if (this.listener || this.listenerStarting || this.closed)
      return this.listenerStarting ?? Promise.resolve();
    this.listenerStarting = (async () => {
      const client = new Client({
        connectionString: this.options.connectionString,
        application_name: `${this.options.applicationName ?? "skiff"}-listen`,
      });
      client.on("error", () => undefined);
      client.on("end", () => {
        if (this.listener !== client) return;
        this.listener = undefined;
        if (!this.closed && this.wantsNotifications()) {
          void pause(200).then(() => this.startListening());
        }
      });
      client.on("notification", (m) => this.onNotification(m));
      try {
        await client.connect();
        await client.query(`LISTEN ${escapeIdentifier(this.channel)}`);
        if (this.closed || !this.wantsNotifications()) {
          await client.end().catch(() => undefined);
          return;
        }
        this.listener = client;
      } catch {
        await client.end().catch(() => undefined);
        if (!this.closed && this.wantsNotifications()) void pause(1000).then(() => this.startListening());
      }
    })().finally(() => {
      this.listenerStarting = undefined;
    });
    return this.listenerStarting;
  }

  private stopListening(): void {
    const client = this.listener;
    this.listener = undefined;
    if (client) void client.end().catch(() => undefined);
  }

  private onNotification(m: Notification): void {
    let notice: ChangeNotice;
    try {
      notice = JSON.parse(m.payload ?? "") as ChangeNotice;
    } catch {
      return;
    }
    if (notice.t === "logs") {
      for (const wake of [...this.wakeups]) wake();
      return;
    }
    if (notice.src === this.instanceId || this.listeners.size === 0) return;
    if (notice.t === "delete") {
      if (notice.doc) this.offerDeletion(notice.ns, notice.n, notice.doc);
      return;
    }
    const seen = this.emitted.get(`${notice.ns}\u0000${notice.n}`);
    if (seen && Number(notice.rv) <= seen.rv) return;
    // Fetched rather than sent: documents may exceed NOTIFY's payload limit. Several quick changes may thus
    // arrive as one event with the newest state.
    void this.get(notice.ns, notice.n).then(
      (doc) => {
        if (doc && this.listeners.size > 0) this.offer(notice.ns, notice.n, doc);
      },
      () => undefined,
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    for (const wake of [...this.wakeups]) wake();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    if (this.listenerStarting) await this.listenerStarting;
    this.stopListening();
    await this.pool.end().catch(() => undefined);
  }

  // ----------------------------------------------------------------------------------------------- logs

  appendLogs(namespace: string, name: string, lines: LogLine[]): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    if (lines.length === 0) return Promise.resolve();
    return this.track(
      this.logWrites.push(`${namespace}\u0000${name}`, { namespace, name, lines: [...lines] }, true),
    );
  }

  private async applyLogWrite(op: LogWrite): Promise<void> {
    const nodes: string[] = [];
    const containers: string[] = [];
    const times: (string | null)[] = [];
    const texts: string[] = [];
    for (const l of op.lines) {
      nodes.push(l.nodeId);
      containers.push(l.container);
      const t = Date.parse(l.time);
      times.push(Number.isNaN(t) ? null : String(t));
      texts.push(JSON.stringify(l));
    }
    try {
      await this.pool.query(
        `WITH ins AS (
           INSERT INTO ${this.s}.logs (namespace, name, node_id, container, time_ms, line)
           SELECT $1, $2, u.node_id, u.container, u.time_ms, u.line
           FROM unnest($3::text[], $4::text[], $5::bigint[], $6::text[]) WITH ORDINALITY
             AS u(node_id, container, time_ms, line, ord)
           ORDER BY u.ord
           RETURNING 1
         )
         SELECT pg_notify($7, json_build_object('t', 'logs', 'ns', $1::text, 'n', $2::text, 'src', $8::text)::text)
         FROM (SELECT count(*) FROM ins) AS inserted`,
        [op.namespace, op.name, nodes, containers, times, texts, this.channel, this.instanceId],
      );
    } catch (e) {
      throw writeError(`logs of workflow ${op.namespace}/${op.name}`, e);
    } finally {
      for (const wake of [...this.wakeups]) wake();
    }
  }

  readLogs(namespace: string, name: string, query: LogQuery = {}): AsyncIterable<LogLine> {
    this.assertOpen();
    return this.followLogs(namespace, name, query);
  }

  private async *followLogs(namespace: string, name: string, query: LogQuery): AsyncGenerator<LogLine> {
    try {
      yield* this.readLogRows(namespace, name, query);
    } finally {
      if (!this.wantsNotifications()) this.stopListening();
    }
  }

  private async *readLogRows(namespace: string, name: string, query: LogQuery): AsyncGenerator<LogLine> {
    const params: unknown[] = [namespace, name];
    const conds = ["namespace = $1", "name = $2"];
    if (query.nodeId !== undefined) {
      params.push(query.nodeId);
      conds.push(`node_id = $${params.length}`);
    }
    if (query.container !== undefined) {
      params.push(query.container);
      conds.push(`container = $${params.length}`);
    }
    const sinceMs = sinceMsOf(query);
    if (sinceMs !== undefined) {
      params.push(sinceMs);
      conds.push(`time_ms >= $${params.length}`);
    }
    params.push("0");
    const idParam = params.length;
    const sql = `SELECT id::text AS id, line FROM ${this.s}.logs WHERE ${conds.join(" AND ")} AND id > $${idParam}::bigint ORDER BY id LIMIT 1000`;
    let finalPass = false;
    for (;;) {
      const rows = await this.read<{ id: string; line: string }>(
        sql,
        params,
        `logs of workflow ${namespace}/${name}`,
      );
      for (const r of rows) yield JSON.parse(r.line) as LogLine;
      if (rows.length > 0) {
        params[idParam - 1] = rows[rows.length - 1]!.id;
        if (rows.length === 1000) continue;
      }
      if (!query.follow || finalPass || this.closed || query.signal?.aborted) return;
      const wf = await this.get(namespace, name).catch(() => undefined);
      if (!wf || isCompletedPhase(wf.status?.phase)) {
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
      void this.startListening();
      void pause(this.pollIntervalMs, signal).then(wake);
    });
  }

  // ----------------------------------------------------------------------------------------------- memo

  memoCache(namespace: string = DEFAULT_NAMESPACE): MemoCache {
    return {
      load: async (cacheName: string, key: string): Promise<MemoEntry | undefined> => {
        const rows = await this.read<{ entry: MemoEntry }>(
          `SELECT entry FROM ${this.s}.memo WHERE namespace = $1 AND cache_name = $2 AND key = $3`,
          [namespace, cacheName, key],
          `memoization cache ${cacheName}`,
        );
        return rows[0]?.entry;
      },
      save: async (cacheName: string, key: string, entry: MemoEntry): Promise<void> => {
        this.assertOpen();
        await this.track(
          this.pool
            .query(
              `INSERT INTO ${this.s}.memo (namespace, cache_name, key, entry) VALUES ($1, $2, $3, $4::jsonb)
               ON CONFLICT (namespace, cache_name, key) DO UPDATE SET entry = EXCLUDED.entry`,
              [namespace, cacheName, key, JSON.stringify(entry)],
            )
            .catch((e: unknown) => {
              throw writeError(`memoization cache ${cacheName} entry ${key}`, e);
            }),
        );
      },
    };
  }

  // -------------------------------------------------------------------------------------------- archive

  async archiveList(query: WorkflowQuery = {}): Promise<Workflow[]> {
    const { where, params } = this.filters(query);
    const limit = query.limit !== undefined && query.limit > 0 ? `LIMIT ${Math.floor(query.limit)}` : "";
    const rows = await this.read<{ doc: Workflow }>(
      `SELECT doc FROM ${this.s}.archive WHERE ${where}
       ORDER BY finished_at DESC NULLS LAST, namespace COLLATE "C", name COLLATE "C" ${limit}`,
      params,
      "the archive",
    );
    return rows.map((r) => r.doc);
  }

  async archiveGet(namespace: string, name: string, uid?: string): Promise<Workflow | undefined> {
    const rows =
      uid !== undefined
        ? await this.read<{ doc: Workflow }>(
            `SELECT doc FROM ${this.s}.archive WHERE namespace = $1 AND name = $2 AND uid = $3`,
            [namespace, name, uid],
            `archived workflow ${namespace}/${name}`,
          )
        : await this.read<{ doc: Workflow }>(
            `SELECT doc FROM ${this.s}.archive WHERE namespace = $1 AND name = $2
             ORDER BY finished_at DESC NULLS LAST LIMIT 1`,
            [namespace, name],
            `archived workflow ${namespace}/${name}`,
          );
    return rows[0]?.doc;
  }

  async gc(now: number): Promise<GcResult> {
    this.assertOpen();
    const result: GcResult = { deleted: [], archiveDeleted: [] };
    const s = this.s;
    try {
      const { rows: completed } = await this.pool.query<{
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
         FROM ${s}.workflows WHERE phase IN ('Succeeded', 'Failed', 'Error')
           AND (doc->'spec' ? 'ttlStrategy' OR doc->'status'->'storedWorkflowTemplateSpec' ? 'ttlStrategy')
         ORDER BY namespace COLLATE "C", name COLLATE "C"`,
      );
      for (const r of completed) {
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
        try {
          await this.deleteVersion(r.namespace, r.name, r.rv);
        } catch (e) {
          if (e instanceof SkiffError && e.code === STORE_CODES["SKF-STORE-002"]) continue;
          throw e;
        }
        result.deleted.push({ namespace: r.namespace, name: r.name });
        await this.pool.query(
          `DELETE FROM ${s}.logs WHERE namespace = $1 AND name = $2
             AND NOT EXISTS (SELECT 1 FROM ${s}.archive WHERE namespace = $1 AND name = $2)`,
          [r.namespace, r.name],
        );
      }
      if (this.archiveTTLMs !== undefined) {
        const { rows: dropped } = await this.pool.query<{ namespace: string; name: string; uid: string }>(
          `DELETE FROM ${s}.archive WHERE finished_at <= to_timestamp($1::double precision / 1000)
           RETURNING namespace, name, uid`,
          [now - this.archiveTTLMs],
        );
        dropped.sort((a, b) => (a.namespace + "/" + a.name < b.namespace + "/" + b.name ? -1 : 1));
        result.archiveDeleted.push(...dropped);
        for (const d of dropped) {
          await this.pool.query(
            `DELETE FROM ${s}.logs WHERE namespace = $1 AND name = $2
               AND NOT EXISTS (SELECT 1 FROM ${s}.archive WHERE namespace = $1 AND name = $2)
               AND NOT EXISTS (SELECT 1 FROM ${s}.workflows WHERE namespace = $1 AND name = $2)`,
            [d.namespace, d.name],
          );
        }
      }
      await this.pool.query(`DELETE FROM ${s}.leases WHERE expires_at <= $1`, [now]);
    } catch (e) {
      throw writeError("garbage collection", e);
    }
    return result;
  }

  // --------------------------------------------------------------------------------------------- leases

  async acquireLease(
    namespace: string,
    name: string,
    owner: string,
    ttlMs: number,
    now: number,
  ): Promise<boolean> {
    this.assertOpen();
    checkLeaseArgs(owner, ttlMs, now);
    return this.leaseUpsert(
      namespace,
      name,
      owner,
      now + ttlMs,
      `l.owner = EXCLUDED.owner OR l.expires_at <= $5`,
      now,
    );
  }

  async renewLease(
    namespace: string,
    name: string,
    owner: string,
    ttlMs: number,
    now: number,
  ): Promise<boolean> {
    this.assertOpen();
    checkLeaseArgs(owner, ttlMs, now);
    return this.leaseUpsert(namespace, name, owner, now + ttlMs, `l.owner = EXCLUDED.owner`);
  }

  /**
   * One atomic statement: concurrent callers serialize on the row (or on the unique key for a new one), and
   * the row comes back only for the caller that now holds the lease.
   */
  private async leaseUpsert(
    namespace: string,
    name: string,
    owner: string,
    expiresAt: number,
    condition: string,
    now?: number,
  ): Promise<boolean> {
    const params: unknown[] = [namespace, name, owner, expiresAt];
    if (now !== undefined) params.push(now);
    try {
      const { rows } = await this.track(
        this.pool.query(
          `INSERT INTO ${this.s}.leases AS l (namespace, name, owner, expires_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (namespace, name) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
           WHERE ${condition}
           RETURNING owner`,
          params,
        ),
      );
      return rows.length === 1;
    } catch (e) {
      throw writeError(`lease of workflow ${namespace}/${name}`, e);
    }
  }

  async releaseLease(namespace: string, name: string, owner: string): Promise<void> {
    this.assertOpen();
    try {
      await this.track(
        this.pool.query(`DELETE FROM ${this.s}.leases WHERE namespace = $1 AND name = $2 AND owner = $3`, [
          namespace,
          name,
          owner,
        ]),
      );
    } catch (e) {
      throw writeError(`lease of workflow ${namespace}/${name}`, e);
    }
  }

  async getLease(namespace: string, name: string): Promise<Lease | undefined> {
    const rows = await this.read<{ owner: string; expires_at: string }>(
      `SELECT owner, expires_at::text FROM ${this.s}.leases WHERE namespace = $1 AND name = $2`,
      [namespace, name],
      `lease of workflow ${namespace}/${name}`,
    );
    const r = rows[0];
    return r ? { owner: r.owner, expiresAt: Number(r.expires_at) } : undefined;
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
