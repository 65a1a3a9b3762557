import type { PoolClient } from "pg";
import { SkiffError } from "../../errors/index.js";
import { STORE_CODES } from "../codes.js";
import type { PostgresContext } from "./context.js";

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
  (s) => `
    CREATE TABLE ${s}.registry (
      kind text NOT NULL,
      namespace text NOT NULL,
      name text NOT NULL,
      resource_version bigint NOT NULL,
      doc jsonb NOT NULL,
      PRIMARY KEY (kind, namespace, name)
    );`,
];

/** Connects and brings the schema up to date; on failure the pool is ended. */
export async function migrate(ctx: PostgresContext): Promise<void> {
  let client: PoolClient;
  try {
    client = await ctx.pool.connect();
  } catch (e) {
    await ctx.pool.end().catch(() => undefined);
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
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`skiff-migrate:${ctx.schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${ctx.s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${ctx.s}.migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ v: number | null }>(
      `SELECT max(version) AS v FROM ${ctx.s}.migrations`,
    );
    const current = rows[0]?.v ?? 0;
    if (current > MIGRATIONS.length) {
      throw new SkiffError(
        STORE_CODES["SKF-STORE-010"],
        `schema ${ctx.schema} is at version ${current}; this Skiff knows up to ${MIGRATIONS.length}`,
      );
    }
    for (let v = current + 1; v <= MIGRATIONS.length; v++) {
      await client.query(MIGRATIONS[v - 1]!(ctx.s));
      await client.query(`INSERT INTO ${ctx.s}.migrations (version) VALUES ($1)`, [v]);
    }
    await client.query("COMMIT");
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    client.release();
    await ctx.pool.end().catch(() => undefined);
    if (e instanceof SkiffError) throw e;
    throw new SkiffError(
      STORE_CODES["SKF-STORE-009"],
      `cannot prepare schema ${ctx.schema}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  client.release();
}
