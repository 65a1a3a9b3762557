import type { LogLine } from "../../interfaces/executor.js";

/**
 * The lines one step wrote, kept for the step's lifetime so that every reader of `Executor.logs` sees them
 * from the start, however late it subscribes. Closed when the step ends; readers then drain and stop.
 */
export class LogStream {
  private readonly lines: LogLine[] = [];
  private closed = false;
  private waiters: (() => void)[] = [];

  push(line: LogLine): void {
    if (this.closed) return;
    this.lines.push(line);
    this.wake();
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Everything written so far (for tests and summaries). */
  snapshot(): readonly LogLine[] {
    return this.lines;
  }

  async *read(): AsyncGenerator<LogLine> {
    let i = 0;
    for (;;) {
      while (i < this.lines.length) yield this.lines[i++]!;
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
