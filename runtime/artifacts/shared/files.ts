import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { lstat, mkdir, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { pipeline } from "node:stream/promises";
import { SkiffError } from "../../errors/index.js";
import { ARTD_CODES } from "./codes.js";

/** Default bound on what one artifact may hold when loaded (bytes), the same as the unpack bound. */
export const DEFAULT_MAX_LOAD_BYTES = 10 * 1024 ** 3;

/** What the SDKs hand back as an object's content. */
export type Body = Readable | AsyncIterable<Uint8Array> | WebReadableStream<Uint8Array>;

/** A name beside `target` that readers never take for the finished file. */
export function partialPath(target: string): string {
  return `${target}.partial-${randomUUID()}`;
}

/** Refuses a load whose declared size is over the bound before any byte is read. */
export function checkDeclaredSize(size: number | undefined, maxBytes: number, where: string): void {
  if (size !== undefined && size > maxBytes) throw tooLarge(where, maxBytes);
}

function tooLarge(where: string, maxBytes: number): SkiffError {
  return new SkiffError(
    ARTD_CODES["SKF-ARTD-003"],
    `${where} is larger than the load bound of ${maxBytes} bytes`,
  );
}

/** Releases a body that will not be read, so its connection goes back to the pool (or is closed). */
export async function discardBody(body: Body): Promise<void> {
  if (body instanceof Readable) body.destroy();
  else if (typeof (body as WebReadableStream<Uint8Array>).cancel === "function") {
    await (body as WebReadableStream<Uint8Array>).cancel().catch(() => undefined);
  } else await (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]().return?.();
}

function toReadable(body: Body): Readable {
  if (body instanceof Readable) return body;
  if (typeof (body as WebReadableStream<Uint8Array>).getReader === "function") {
    return Readable.fromWeb(body as WebReadableStream<Uint8Array>);
  }
  return Readable.from(body as AsyncIterable<Uint8Array>);
}

/**
 * Streams `body` into `dest` (its folder is created), counting bytes: more than `maxBytes` aborts the
 * transfer. The bytes go to a temporary name first, so `dest` only ever holds a whole artifact. Returns the
 * number of bytes written.
 */
export async function writeBody(body: Body, dest: string, maxBytes: number, where: string): Promise<number> {
  await mkdir(path.dirname(dest), { recursive: true });
  const partial = partialPath(dest);
  let written = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      written += chunk.length;
      if (written > maxBytes) done(tooLarge(where, maxBytes));
      else done(null, chunk);
    },
  });
  try {
    await pipeline(toReadable(body), counter, createWriteStream(partial));
    await rename(partial, dest);
    return written;
  } catch (e) {
    await rm(partial, { force: true });
    throw e;
  }
}

/** Regular files under `dir`, as `/`-separated paths relative to it, sorted. Links are not followed. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      const child = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(child);
      else if (e.isFile()) out.push(child);
    }
  };
  await walk("");
  return out.sort();
}

/** Whether `p` is a folder (false for files and for paths that do not exist). */
export async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await lstat(p)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Joins an object name below `root`, refusing names that would leave it: stores allow any key, and a key
 * such as `a/../../etc/passwd` must not write outside the target folder.
 */
export function safeJoin(root: string, rel: string, where: string): string {
  const parts = rel.split("/");
  if (rel.startsWith("/") || rel.includes("\\") || parts.includes("..") || parts.includes(".")) {
    throw new SkiffError(
      ARTD_CODES["SKF-ARTD-009"],
      `${where}: object '${rel}' would be written outside the target folder`,
    );
  }
  return path.join(root, ...parts.filter((p) => p !== ""));
}

/** Runs `work` over `items` with at most `limit` at a time; the first failure rejects. */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
