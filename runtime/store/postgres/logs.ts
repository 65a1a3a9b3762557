import type { LogLine } from "../../interfaces/executor.js";
import type { LogQuery, LogStore } from "../../interfaces/store.js";
import type { Workflow } from "../../spec/types.js";
import { closedError, sinceMsOf } from "../common.js";
import { followLogs } from "../follow-logs.js";
import { KeyedWriteQueue } from "../queue.js";
import { writeError, type PostgresContext } from "./context.js";
import type { PostgresWatch } from "./watch.js";

interface LogWrite {
  namespace: string;
  name: string;
  lines: LogLine[];
}

/** Rows one read of a log returns at most; a full page is followed by another read at once. */
const PAGE = 1000;

/**
 * Step logs of the PostgreSQL store: one row per line in `logs`, ordered by a `bigserial` id. An append sends
 * a notification, so followers in other processes read again without waiting for the poll.
 */
export class PostgresLogs implements LogStore {
  private readonly writes = new KeyedWriteQueue<LogWrite>(
    (_k, op) => this.applyWrite(op),
    (older, newer) => ({ ...newer, lines: [...older.lines, ...newer.lines] }),
  );

  constructor(
    private readonly ctx: PostgresContext,
    private readonly watcher: PostgresWatch,
    private readonly getWorkflow: (namespace: string, name: string) => Promise<Workflow | undefined>,
  ) {}

  appendLogs(namespace: string, name: string, lines: LogLine[]): Promise<void> {
    if (this.ctx.closed) return Promise.reject(closedError());
    if (lines.length === 0) return Promise.resolve();
    return this.ctx.track(
      this.writes.push(`${namespace}\u0000${name}`, { namespace, name, lines: [...lines] }, true),
    );
  }

  private async applyWrite(op: LogWrite): Promise<void> {
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
      await this.ctx.pool.query(
        `WITH ins AS (
           INSERT INTO ${this.ctx.s}.logs (namespace, name, node_id, container, time_ms, line)
           SELECT $1, $2, u.node_id, u.container, u.time_ms, u.line
           FROM unnest($3::text[], $4::text[], $5::bigint[], $6::text[]) WITH ORDINALITY
             AS u(node_id, container, time_ms, line, ord)
           ORDER BY u.ord
           RETURNING 1
         )
         SELECT pg_notify($7, json_build_object('t', 'logs', 'ns', $1::text, 'n', $2::text, 'src', $8::text)::text)
         FROM (SELECT count(*) FROM ins) AS inserted`,
        [op.namespace, op.name, nodes, containers, times, texts, this.ctx.channel, this.ctx.instanceId],
      );
    } catch (e) {
      throw writeError(`logs of workflow ${op.namespace}/${op.name}`, e);
    } finally {
      this.ctx.logWakeups.wakeAll();
    }
  }

  readLogs(namespace: string, name: string, query: LogQuery = {}): AsyncIterable<LogLine> {
    this.ctx.assertOpen();
    return this.readLogRows(namespace, name, query);
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
    const sql = `SELECT id::text AS id, line FROM ${this.ctx.s}.logs WHERE ${conds.join(" AND ")} AND id > $${params.length + 1}::bigint ORDER BY id LIMIT ${PAGE}`;
    try {
      yield* followLogs<string>(
        {
          start: "0",
          read: async (afterId) => {
            const rows = await this.ctx.read<{ id: string; line: string }>(
              sql,
              [...params, afterId],
              `logs of workflow ${namespace}/${name}`,
            );
            return {
              lines: rows.map((r) => JSON.parse(r.line) as LogLine),
              cursor: rows.length > 0 ? rows[rows.length - 1]!.id : afterId,
              more: rows.length === PAGE,
            };
          },
          getWorkflow: () => this.getWorkflow(namespace, name),
          isClosed: () => this.ctx.closed,
          waitForChange: (signal) => {
            const changed = this.ctx.logWakeups.wait(this.ctx.pollIntervalMs, signal);
            void this.watcher.startListening();
            return changed;
          },
        },
        query,
      );
    } finally {
      if (!this.watcher.wantsNotifications()) this.watcher.stopListening();
    }
  }

  /** For `gc`: drops a name's logs once no archived run of it is left. */
  async deleteUnlessArchived(namespace: string, name: string): Promise<void> {
    const s = this.ctx.s;
    await this.ctx.pool.query(
      `DELETE FROM ${s}.logs WHERE namespace = $1 AND name = $2
         AND NOT EXISTS (SELECT 1 FROM ${s}.archive WHERE namespace = $1 AND name = $2)`,
      [namespace, name],
    );
  }

  /** For `gc`: drops a name's logs once neither a live workflow nor an archived run of it is left. */
  async deleteUnlessKept(namespace: string, name: string): Promise<void> {
    const s = this.ctx.s;
    await this.ctx.pool.query(
      `DELETE FROM ${s}.logs WHERE namespace = $1 AND name = $2
         AND NOT EXISTS (SELECT 1 FROM ${s}.archive WHERE namespace = $1 AND name = $2)
         AND NOT EXISTS (SELECT 1 FROM ${s}.workflows WHERE namespace = $1 AND name = $2)`,
      [namespace, name],
    );
  }
}
