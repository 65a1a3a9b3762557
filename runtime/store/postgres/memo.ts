import type { MemoCache, MemoEntry } from "../../interfaces/memo.js";
import type { MemoStore } from "../../interfaces/store.js";
import { memoCacheFor, type MemoEntries } from "../compose.js";
import { writeError, type PostgresContext } from "./context.js";

/** Memoized outputs of the PostgreSQL store: one row per entry in `memo`, by namespace, cache name and key. */
export class PostgresMemo implements MemoStore, MemoEntries {
  constructor(private readonly ctx: PostgresContext) {}

  memoCache(namespace?: string): MemoCache {
    return memoCacheFor(this, namespace);
  }

  async load(namespace: string, cacheName: string, key: string): Promise<MemoEntry | undefined> {
    const rows = await this.ctx.read<{ entry: MemoEntry }>(
      `SELECT entry FROM ${this.ctx.s}.memo WHERE namespace = $1 AND cache_name = $2 AND key = $3`,
      [namespace, cacheName, key],
      `memoization cache ${cacheName}`,
    );
    return rows[0]?.entry;
  }

  async save(namespace: string, cacheName: string, key: string, entry: MemoEntry): Promise<void> {
    this.ctx.assertOpen();
    await this.ctx.track(
      this.ctx.pool
        .query(
          `INSERT INTO ${this.ctx.s}.memo (namespace, cache_name, key, entry) VALUES ($1, $2, $3, $4::jsonb)
           ON CONFLICT (namespace, cache_name, key) DO UPDATE SET entry = EXCLUDED.entry`,
          [namespace, cacheName, key, JSON.stringify(entry)],
        )
        .catch((e: unknown) => {
          throw writeError(`memoization cache ${cacheName} entry ${key}`, e);
        }),
    );
  }
}
