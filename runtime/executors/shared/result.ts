import { constants } from "node:os";
import type { ContainerResult } from "../../interfaces/executor.js";

/** Argo keeps only the last 256 KiB of stdout as `outputs.result`. */
export const MAX_RESULT_BYTES = 256 * 1024;

/** Keeps the last `limit` bytes written to it. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number = MAX_RESULT_BYTES) {}

  write(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.limit) {
      this.size -= this.chunks.shift()!.length;
    }
  }

  /** The kept bytes as text, one trailing newline removed (Argo's `outputs.result`). */
  toResult(): string {
    let buf = Buffer.concat(this.chunks);
    if (buf.length > this.limit) buf = buf.subarray(buf.length - this.limit);
    return trimOneNewline(buf.toString("utf8"));
  }
}

/** Removes one trailing `\n`, as Argo does for `outputs.result` and `valueFrom.path` parameters. */
export function trimOneNewline(s: string): string {
  return s.endsWith("\n") ? s.slice(0, -1) : s;
}

/** A process's exit as a container runtime reports it: a signal `N` becomes exit code `128 + N`. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number | null {
  if (code !== null) return code;
  if (signal) {
    const n = (constants.signals as Record<string, number | undefined>)[signal];
    if (n !== undefined) return 128 + n;
  }
  return null;
}

/** Argo's text for a container that exited non-zero: `main: Error (exit code 1)`. */
export function containerFailureMessage(name: string, exitCode: number | null, detail?: string): string {
  let msg = `${name}: Error (exit code ${exitCode ?? "unknown"})`;
  if (detail) msg += `: ${detail}`;
  return msg;
}

/** A containerSet container node's phase from its exit code (§1.2: 0 Succeeded, 64 Error, else Failed). */
export function containerResultOf(
  name: string,
  exitCode: number | null,
  startedAt: string | undefined,
  finishedAt: string | undefined,
): ContainerResult {
  const r: ContainerResult = { name, exitCode, phase: "Succeeded" };
  if (startedAt) r.startedAt = startedAt;
  if (finishedAt) r.finishedAt = finishedAt;
  if (exitCode !== 0) {
    r.phase = exitCode === 64 ? "Error" : "Failed";
    r.message = containerFailureMessage(name, exitCode);
  }
  return r;
}

/** Argo's message for a step that ran past its `activeDeadlineSeconds` (kubelet's wording). */
export const DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline";

/** Sidecars killed when main ends exit with SIGKILL/SIGTERM codes; Argo ignores those. */
export function isIgnoredSidecarExit(exitCode: number | null): boolean {
  return exitCode === 137 || exitCode === 143;
}
