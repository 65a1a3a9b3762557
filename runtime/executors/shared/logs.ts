import type { LogLine } from "../../interfaces/executor.js";

/** How many bytes of lines a step keeps for late readers before dropping the oldest. */
export const DEFAULT_LOG_RETENTION_BYTES = 64 * 1024 * 1024;

/**
 * The lines one step wrote, kept for the step's lifetime so that every reader of `Executor.logs` sees them
 * from the start, however late it subscribes. Beyond `retentionBytes` the oldest lines are dropped (a step
 * printing gigabytes must not exhaust memory); a reader that fell behind continues at the oldest kept line.
 * Closed when the step ends; readers then drain and stop.
 */
export class LogStream {
  private lines: LogLine[] = [];
  /** Absolute index of `lines[0]`. */
  private base = 0;
  private bytes = 0;
  private closed = false;
  private waiters: (() => void)[] = [];

  constructor(private readonly retentionBytes: number = DEFAULT_LOG_RETENTION_BYTES) {}

  push(line: LogLine): void {
    if (this.closed) return;
    this.lines.push(line);
    this.bytes += line.text.length;
    if (this.bytes > this.retentionBytes) {
      let drop = 0;
      while (drop < this.lines.length - 1 && this.bytes > this.retentionBytes) {
        this.bytes -= this.lines[drop]!.text.length;
        drop++;
      }
      this.lines = this.lines.slice(drop);
      this.base += drop;
    }
    this.wake();
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The lines kept so far (for tests and summaries). */
  snapshot(): readonly LogLine[] {
    return this.lines;
  }

  async *read(): AsyncGenerator<LogLine> {
    let i = this.base;
    for (;;) {
      if (i < this.base) i = this.base;
      if (i < this.base + this.lines.length) {
        // Re-checked after every yield: lines may have been dropped while the reader was away.
        yield this.lines[i - this.base]!;
        i++;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/**
 * Splits a byte stream into lines. A line is stamped with the time its last chunk arrived; an unfinished last
 * line is flushed by `end`. Decoding is per line, so multi-byte characters split across chunks stay whole.
 */
export class LineSplitter {
  private pending: Buffer[] = [];

  constructor(private readonly emit: (text: string) => void) {}

  write(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      const part = chunk.subarray(start, nl);
      const line = this.pending.length ? Buffer.concat([...this.pending, part]) : part;
      this.pending = [];
      this.emit(stripCR(line.toString("utf8")));
      start = nl + 1;
    }
    if (start < chunk.length) this.pending.push(Buffer.from(chunk.subarray(start)));
  }

  end(): void {
    if (this.pending.length) {
      this.emit(stripCR(Buffer.concat(this.pending).toString("utf8")));
      this.pending = [];
    }
  }
}

function stripCR(s: string): string {
  return s.endsWith("\r") ? s.slice(0, -1) : s;
}
