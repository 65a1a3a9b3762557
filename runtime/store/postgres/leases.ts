import type { Lease, LeaseStore } from "../../interfaces/store.js";
import { checkLeaseArgs } from "../leases.js";
import { writeError, type PostgresContext } from "./context.js";

/**
 * Leases of the PostgreSQL store: one row per workflow in `leases`, changed by one atomic upsert whose `WHERE`
 * holds the lease rules of `../leases.ts`, so that one of several processes wins.
 */
export class PostgresLeases implements LeaseStore {
  constructor(private readonly ctx: PostgresContext) {}

  acquireLease(namespace: string, name: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    return this.leaseUpsert("acquire", namespace, name, owner, ttlMs, now);
  }

  renewLease(namespace: string, name: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    return this.leaseUpsert("renew", namespace, name, owner, ttlMs, now);
  }

  /**
   * One atomic statement: concurrent callers serialize on the row (or on the unique key for a new one), and
   * the row comes back only for the caller that now holds the lease.
   */
  private async leaseUpsert(
    rule: "acquire" | "renew",
    namespace: string,
    name: string,
    owner: string,
    ttlMs: number,
    now: number,
  ): Promise<boolean> {
    this.ctx.assertOpen();
    checkLeaseArgs(owner, ttlMs, now);
    const params: unknown[] = [namespace, name, owner, now + ttlMs];
    let condition = `l.owner = EXCLUDED.owner`;
    if (rule === "acquire") {
      params.push(now);
      condition += ` OR l.expires_at <= $5`;
    }
    try {
      const { rows } = await this.ctx.track(
        this.ctx.pool.query(
          `INSERT INTO ${this.ctx.s}.leases AS l (namespace, name, owner, expires_at) VALUES ($1, $2, $3, $4)
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
    this.ctx.assertOpen();
    try {
      await this.ctx.track(
        this.ctx.pool.query(
          `DELETE FROM ${this.ctx.s}.leases WHERE namespace = $1 AND name = $2 AND owner = $3`,
          [namespace, name, owner],
        ),
      );
    } catch (e) {
      throw writeError(`lease of workflow ${namespace}/${name}`, e);
    }
  }

  async getLease(namespace: string, name: string): Promise<Lease | undefined> {
    const rows = await this.ctx.read<{ owner: string; expires_at: string }>(
      `SELECT owner, expires_at::text FROM ${this.ctx.s}.leases WHERE namespace = $1 AND name = $2`,
      [namespace, name],
      `lease of workflow ${namespace}/${name}`,
    );
    const r = rows[0];
    return r ? { owner: r.owner, expiresAt: Number(r.expires_at) } : undefined;
  }

  /** For `gc`: deletes leases that expired at `now`. */
  async deleteExpired(now: number): Promise<void> {
    await this.ctx.pool.query(`DELETE FROM ${this.ctx.s}.leases WHERE expires_at <= $1`, [now]);
  }
}
