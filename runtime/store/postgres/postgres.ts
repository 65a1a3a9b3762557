import type { GcResult } from "../../interfaces/store.js";
import { ComposedStore } from "../compose.js";
import { collectGarbage } from "../gc.js";
import { PostgresArchive } from "./archive.js";
import { PostgresContext, writeError, type PostgresStoreOptions } from "./context.js";
import { PostgresLeases } from "./leases.js";
import { PostgresLogs } from "./logs.js";
import { PostgresMemo } from "./memo.js";
import { PostgresRegistry } from "./registry.js";
import { migrate } from "./schema.js";
import { PostgresWorkflows } from "./workflows.js";

export type { PostgresStoreOptions } from "./context.js";

interface PostgresParts {
  workflows: PostgresWorkflows;
  logs: PostgresLogs;
  memo: PostgresMemo;
  archive: PostgresArchive;
  leases: PostgresLeases;
  registry: PostgresRegistry;
}

/**
 * The PostgreSQL store: JSONB documents in a schema of their own, leases taken with one atomic upsert, and
 * LISTEN/NOTIFY so that every process sees the others' changes. Each part lives in its own file
 * (`workflows.ts`, `logs.ts`, `memo.ts`, `archive.ts`, `leases.ts`, `registry.ts`); this class connects and migrates the
 * schema, and runs `gc` and `close` across them.
 */
export class PostgresStore extends ComposedStore<PostgresContext, PostgresParts> {
  constructor(options: PostgresStoreOptions) {
    const ctx = new PostgresContext(options);
    const workflows = new PostgresWorkflows(ctx);
    super(ctx, {
      workflows,
      logs: new PostgresLogs(ctx, workflows.watcher, (namespace, name) => workflows.get(namespace, name)),
      memo: new PostgresMemo(ctx),
      archive: new PostgresArchive(ctx),
      leases: new PostgresLeases(ctx),
      registry: new PostgresRegistry(ctx),
    });
  }

  /** The schema holding Skiff's tables. */
  get schema(): string {
    return this.ctx.schema;
  }

  /** Connects and brings the schema up to date. */
  init(): Promise<void> {
    return migrate(this.ctx);
  }

  async gc(now: number): Promise<GcResult> {
    this.ctx.assertOpen();
    try {
      return await collectGarbage(this.parts, now, this.ctx.archiveTTLMs);
    } catch (e) {
      throw writeError("garbage collection", e);
    }
  }

  async close(): Promise<void> {
    if (this.ctx.closed) return;
    this.ctx.closed = true;
    await this.parts.workflows.watcher.close();
    await this.ctx.pool.end().catch(() => undefined);
  }
}
