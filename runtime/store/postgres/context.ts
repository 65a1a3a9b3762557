import { randomUUID } from "node:crypto";
import { Pool, escapeIdentifier, type QueryResultRow } from "pg";
import { SkiffError } from "../../errors/index.js";
import type { WorkflowQuery } from "../../interfaces/store.js";
import { STORE_CODES } from "../codes.js";
import { LogWakeups } from "../follow-logs.js";
import { StoreLifecycle } from "../lifecycle.js";

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
 * What the parts of one PostgreSQL store share: the pool, the schema (as a quoted identifier for SQL), the
 * notification channel, and the store's life.
 */
export class PostgresContext extends StoreLifecycle {
  readonly schema: string;
  /** The schema as an escaped SQL identifier. */
  readonly s: string;
  readonly channel: string;
  readonly pool: Pool;
  readonly archiveEnabled: boolean;
  readonly archiveTTLMs: number | undefined;
  readonly pollIntervalMs: number;
  /** Tags this instance's notifications, so it does not announce its own changes twice. */
  readonly instanceId = randomUUID();
  /** Log followers of this store, woken by appends (its own and, through notifications, others') and `close`. */
  readonly logWakeups = new LogWakeups();

  constructor(readonly options: PostgresStoreOptions) {
    super();
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

  /** Reads retry once when the pool handed out a connection the server had closed meanwhile. */
  async read<R extends QueryResultRow>(sql: string, params: unknown[], what: string): Promise<R[]> {
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
}

/** The `WHERE` clause of a `WorkflowQuery` (other than `limit`) on the `workflows` or `archive` table. */
export function whereOf(query: WorkflowQuery): { where: string; params: unknown[] } {
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

/** `LIMIT n` of a `WorkflowQuery`, or nothing. */
export function limitOf(query: WorkflowQuery): string {
  return query.limit !== undefined && query.limit > 0 ? `LIMIT ${Math.floor(query.limit)}` : "";
}

/** SQLSTATE classes and messages that mean the connection, not the statement, failed. */
export function isConnectionError(e: unknown): boolean {
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

export function writeError(what: string, e: unknown): SkiffError {
  if (e instanceof SkiffError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  return new SkiffError(STORE_CODES["SKF-STORE-001"], `cannot save ${what}: ${detail}`, {
    cause: e,
    ...(isConnectionError(e) ? { hint: CONNECTION_HINT } : {}),
  });
}

export function readError(what: string, e: unknown): SkiffError {
  if (e instanceof SkiffError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  return new SkiffError(STORE_CODES["SKF-STORE-003"], `cannot read ${what}: ${detail}`, { cause: e });
}
