import { open } from "node:fs/promises";
import type { LogLine } from "../../interfaces/executor.js";
import type { LogQuery, LogStore } from "../../interfaces/store.js";
import type { Workflow } from "../../spec/types.js";
import { closedError, logLineMatches, sinceMsOf } from "../common.js";
import { followLogs } from "../follow-logs.js";
import { KeyedWriteQueue } from "../queue.js";
import type { EmbeddedContext } from "./context.js";
import {
  appendDurable,
  errnoOf,
  listNames,
  readError,
  removeFile,
  statIfExists,
  writeError,
} from "./files.js";

interface LogWrite {
  path: string;
  what: string;
  data: string;
}

/**
 * Step logs of the embedded store: one append-only JSON-lines file per workflow name
 * (`logs/<ns>/<name>.jsonl`). Appends of one file that wait together are written with one write and one flush.
 */
export class EmbeddedLogs implements LogStore {
  private readonly writes = new KeyedWriteQueue<LogWrite>(
    (_key, op) => this.applyWrite(op),
    (older, newer) => ({ ...newer, data: older.data + newer.data }),
  );

  constructor(
    private readonly ctx: EmbeddedContext,
    private readonly getWorkflow: (namespace: string, name: string) => Promise<Workflow | undefined>,
  ) {}

  appendLogs(namespace: string, name: string, lines: LogLine[]): Promise<void> {
    if (this.ctx.closed) return Promise.reject(closedError());
    if (lines.length === 0) return Promise.resolve();
    const data = lines.map((l) => JSON.stringify(l) + "\n").join("");
    const path = this.ctx.logPath(namespace, name);
    return this.ctx.track(this.writes.push(path, { path, what: `${namespace}/${name}`, data }, true));
  }

  /** Appends everything queued for one log file with one write and one flush. */
  private async applyWrite(op: LogWrite): Promise<void> {
    try {
      await appendDurable(op.path, op.data, this.ctx.writeOptions);
    } catch (e) {
      throw writeError(`logs of workflow ${op.what}`, e, op.path);
    } finally {
      this.ctx.logWakeups.wakeAll();
    }
  }

  readLogs(namespace: string, name: string, query: LogQuery = {}): AsyncIterable<LogLine> {
    this.ctx.assertOpen();
    const path = this.ctx.logPath(namespace, name);
    const sinceMs = sinceMsOf(query);
    return followLogs<{ offset: number; carry: string }>(
      {
        start: { offset: 0, carry: "" },
        read: async ({ offset, carry }) => {
          let chunk: string;
          try {
            ({ chunk, offset } = await readFrom(path, offset));
          } catch (e) {
            throw readError(`logs of workflow ${namespace}/${name}`, e);
          }
          const raws = (carry + chunk).split("\n");
          const rest = raws.pop() ?? "";
          const lines: LogLine[] = [];
          for (const raw of raws) {
            if (raw === "") continue;
            let line: LogLine;
            try {
              line = JSON.parse(raw) as LogLine;
            } catch {
              continue; // a line cut short by a crash
            }
            if (logLineMatches(line, query, sinceMs)) lines.push(line);
          }
          return { lines, cursor: { offset, carry: rest } };
        },
        getWorkflow: () => this.getWorkflow(namespace, name),
        isClosed: () => this.ctx.closed,
        waitForChange: (signal) => this.ctx.logWakeups.wait(this.ctx.pollIntervalMs, signal),
      },
      query,
    );
  }

  /** For `gc`: drops a name's logs once no archived run of it is left. */
  async deleteUnlessArchived(namespace: string, name: string): Promise<void> {
    const archived = await listNames(this.ctx.archiveDir(namespace, name));
    if (archived.length === 0) await removeFile(this.ctx.logPath(namespace, name), this.ctx.dirs);
  }

  /** For `gc`: drops a name's logs once neither a live workflow nor an archived run of it is left. */
  async deleteUnlessKept(namespace: string, name: string): Promise<void> {
    if ((await listNames(this.ctx.archiveDir(namespace, name))).length > 0) return;
    if (await statIfExists(this.ctx.workflowPath(namespace, name))) return;
    await removeFile(this.ctx.logPath(namespace, name), this.ctx.dirs);
  }
}

/** Reads what was appended to a file after `offset`. */
async function readFrom(path: string, offset: number): Promise<{ chunk: string; offset: number }> {
  let fh;
  try {
    fh = await open(path, "r");
  } catch (e) {
    if (errnoOf(e) === "ENOENT" || errnoOf(e) === "ENOTDIR") return { chunk: "", offset };
    throw e;
  }
  try {
    const { size } = await fh.stat();
    if (size <= offset) return { chunk: "", offset };
    const buf = Buffer.alloc(size - offset);
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    // Cut at the last newline so a multi-byte character is never split between two reads.
    const end = buf.lastIndexOf(0x0a, bytesRead - 1) + 1;
    return { chunk: buf.subarray(0, end).toString("utf8"), offset: offset + end };
  } finally {
    await fh.close();
  }
}
