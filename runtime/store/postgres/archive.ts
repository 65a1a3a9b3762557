import type { ArchiveStore, GcResult, WorkflowQuery } from "../../interfaces/store.js";
import type { Workflow } from "../../spec/types.js";
import { limitOf, whereOf, type PostgresContext } from "./context.js";

/**
 * Completed runs of the PostgreSQL store: one row per run in `archive`, by namespace, name and uid, written in
 * the statement of the put that completes it (`workflows.ts`).
 */
export class PostgresArchive implements ArchiveStore {
  constructor(private readonly ctx: PostgresContext) {}

  async archiveList(query: WorkflowQuery = {}): Promise<Workflow[]> {
    const { where, params } = whereOf(query);
    const rows = await this.ctx.read<{ doc: Workflow }>(
      `SELECT doc FROM ${this.ctx.s}.archive WHERE ${where}
       ORDER BY finished_at DESC NULLS LAST, namespace COLLATE "C", name COLLATE "C" ${limitOf(query)}`,
      params,
      "the archive",
    );
    return rows.map((r) => r.doc);
  }

  async archiveGet(namespace: string, name: string, uid?: string): Promise<Workflow | undefined> {
    const s = this.ctx.s;
    const rows =
      uid !== undefined
        ? await this.ctx.read<{ doc: Workflow }>(
            `SELECT doc FROM ${s}.archive WHERE namespace = $1 AND name = $2 AND uid = $3`,
            [namespace, name, uid],
            `archived workflow ${namespace}/${name}`,
          )
        : await this.ctx.read<{ doc: Workflow }>(
            `SELECT doc FROM ${s}.archive WHERE namespace = $1 AND name = $2
             ORDER BY finished_at DESC NULLS LAST LIMIT 1`,
            [namespace, name],
            `archived workflow ${namespace}/${name}`,
          );
    return rows[0]?.doc;
  }

  /** For `gc`: deletes the runs finished at or before `cutoff`, sorted by namespace and name. */
  async deleteFinishedBefore(cutoff: number): Promise<GcResult["archiveDeleted"]> {
    const { rows } = await this.ctx.pool.query<{ namespace: string; name: string; uid: string }>(
      `DELETE FROM ${this.ctx.s}.archive WHERE finished_at <= to_timestamp($1::double precision / 1000)
       RETURNING namespace, name, uid`,
      [cutoff],
    );
    return rows.sort((a, b) => (a.namespace + "/" + a.name < b.namespace + "/" + b.name ? -1 : 1));
  }
}
