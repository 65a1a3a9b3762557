import { randomUUID } from "node:crypto";
import { constants, type BigIntStats } from "node:fs";
import { type FileHandle, mkdir, open, readdir, readFile, rename, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { SkiffError } from "../../errors/index.js";
import { STORE_CODES } from "../codes.js";
import { pause } from "../common.js";

/**
 * The store holds step logs and outputs, which may carry secrets: only its owner may read it. Folders are
 * made 0700 and files 0600 (less the umask), whatever the umask would have allowed.
 */
export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;

/**
 * File system primitives of the embedded store: durable atomic replacement (temp file, fsync, rename, fsync
 * of the folder), cross-process lock files, and the error mapping. Temp and lock files start with a dot,
 * which no encoded name does, so folder scans skip them.
 */

export function errnoOf(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e
    ? String((e as { code: unknown }).code)
    : undefined;
}

/**
 * Turns a name into one path segment: lower-case letters, digits and `-` stay, `.` stays except in front;
 * anything else becomes `_xx` (hex of the UTF-8 bytes), so case-insensitive file systems cannot merge two
 * names and no name can climb out of its folder.
 */
export function encodeSegment(s: string): string {
  let out = "";
  for (const ch of s) {
    if (/[a-z0-9-]/.test(ch) || (ch === "." && out !== "")) out += ch;
    else for (const b of Buffer.from(ch, "utf8")) out += "_" + b.toString(16).padStart(2, "0");
  }
  return out === "" ? "_" : out;
}

/**
 * What a write failure means to a user, by errno. `path` is the file that could not be written: a failed
 * `write` (ENOSPC, EIO) does not say which file it was, and the user needs to know which disk to look at.
 */
export function writeError(what: string, e: unknown, path?: string): SkiffError {
  if (e instanceof SkiffError) return e;
  const code = errnoOf(e);
  const message = e instanceof Error ? e.message : String(e);
  const detail = path && !message.includes(path) ? `${message} (${path})` : message;
  let hint: string | undefined;
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
    hint =
      "The store folder is read-only for this process. Make it writable (or point Skiff at another folder with --state-dir / SKIFF_STATE_DIR). The previous state is still readable.";
  } else if (code === "ENOSPC" || code === "EDQUOT") {
    hint =
      "The disk holding the store is full. Free some space and retry; the previous state is still readable.";
  } else if (code === "EIO") {
    hint =
      "The disk holding the store reported an I/O error. Check the disk (dmesg), then retry; the previous state is still readable.";
  }
  return new SkiffError(STORE_CODES["SKF-STORE-001"], `cannot save ${what}: ${detail}`, { cause: e, hint });
}

export function readError(what: string, e: unknown): SkiffError {
  if (e instanceof SkiffError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  return new SkiffError(STORE_CODES["SKF-STORE-003"], `cannot read ${what}: ${detail}`, { cause: e });
}

/** Reads a file, or undefined when it does not exist. */
export async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (e) {
    if (errnoOf(e) === "ENOENT" || errnoOf(e) === "ENOTDIR") return undefined;
    throw e;
  }
}

export async function statIfExists(path: string): Promise<BigIntStats | undefined> {
  try {
    return await stat(path, { bigint: true });
  } catch (e) {
    if (errnoOf(e) === "ENOENT" || errnoOf(e) === "ENOTDIR") return undefined;
    throw e;
  }
}

/**
 * Identifies one version of a file. Every write replaces the file by a new inode, and inode numbers may be
 * reused, so the change and modification times (ns) take part too.
 */
export function fingerprint(st: BigIntStats): string {
  return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** Syncs folders, batching requests: every caller waits for one fsync that started after it asked. */
export class DirSyncer {
  private readonly dirs = new Map<
    string,
    { running: boolean; waiters: { resolve(): void; reject(e: unknown): void }[] }
  >();

  constructor(private readonly enabled: boolean) {}

  sync(dir: string): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    let state = this.dirs.get(dir);
    if (!state) {
      state = { running: false, waiters: [] };
      this.dirs.set(dir, state);
    }
    const s = state;
    return new Promise((resolve, reject) => {
      s.waiters.push({ resolve, reject });
      if (!s.running) this.run(dir, s);
    });
  }

  private run(
    dir: string,
    s: { running: boolean; waiters: { resolve(): void; reject(e: unknown): void }[] },
  ): void {
    s.running = true;
    const batch = s.waiters;
    s.waiters = [];
    fsyncDir(dir).then(
      () => {
        for (const w of batch) w.resolve();
        this.next(dir, s);
      },
      (e: unknown) => {
        for (const w of batch) w.reject(e);
        this.next(dir, s);
      },
    );
  }

  private next(
    dir: string,
    s: { running: boolean; waiters: { resolve(): void; reject(e: unknown): void }[] },
  ): void {
    s.running = false;
    if (s.waiters.length > 0) this.run(dir, s);
    else this.dirs.delete(dir);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, constants.O_RDONLY);
  } catch (e) {
    // Windows cannot open folders; renames there are durable through the file's own flush.
    if (process.platform === "win32") return;
    throw e;
  }
  try {
    await fh.sync();
  } catch (e) {
    if (!["EINVAL", "EISDIR", "EPERM", "ENOTSUP", "EBADF"].includes(errnoOf(e) ?? "")) throw e;
  } finally {
    await fh.close();
  }
}

let tempCounter = 0;

/**
 * Replaces `path` by `data` so that a reader (in any process) sees the old or the new content and a crash
 * leaves one of them: write a temp file beside it, flush it, rename it over, flush the folder.
 * Returns the new file's stats.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Buffer,
  options: { durable: boolean; dirs: DirSyncer },
): Promise<BigIntStats> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${++tempCounter}.tmp`);
  let fh;
  try {
    fh = await open(tmp, "w", PRIVATE_FILE);
  } catch (e) {
    if (errnoOf(e) !== "ENOENT") throw e;
    await mkdir(dir, { recursive: true, mode: PRIVATE_DIR });
    await options.dirs.sync(dirname(dir));
    fh = await open(tmp, "w", PRIVATE_FILE);
  }
  let st: BigIntStats;
  try {
    await fh.writeFile(data);
    if (options.durable) await fh.sync();
    st = await fh.stat({ bigint: true });
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await options.dirs.sync(dir);
  return st;
}

/** Removes a file durably; false when it was not there. */
export async function removeFile(path: string, dirs: DirSyncer): Promise<boolean> {
  try {
    await unlink(path);
  } catch (e) {
    if (errnoOf(e) === "ENOENT" || errnoOf(e) === "ENOTDIR") return false;
    throw e;
  }
  await dirs.sync(dirname(path));
  return true;
}

export interface LockOptions {
  /** Give up after this long (ms). */
  timeoutMs: number;
  /** A lock older than this (ms) is considered abandoned, even when its process seems alive. */
  staleMs: number;
}

const HOST = hostname();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoOf(e) === "EPERM";
  }
}

/**
 * Breaks a lock whose holder is gone: its process died on this host, or it is older than `staleMs`. The lock
 * is renamed away first so that two breakers cannot both remove a fresh lock taken in between.
 */
async function breakIfStale(lockPath: string, staleMs: number): Promise<boolean> {
  let st;
  let content;
  try {
    st = await stat(lockPath);
    content = await readFile(lockPath, "utf8");
  } catch (e) {
    if (errnoOf(e) === "ENOENT") return true;
    throw e;
  }
  const [holder = ""] = content.split(" ");
  const [pidText, host] = holder.split("@");
  const pid = Number(pidText);
  const dead = host === HOST && Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid);
  const old = Date.now() - st.mtimeMs > staleMs;
  if (!dead && !old) return false;
  const aside = `${lockPath}.${randomUUID()}.stale`;
  try {
    await rename(lockPath, aside);
  } catch (e) {
    if (errnoOf(e) === "ENOENT") return true;
    throw e;
  }
  // If a fresh lock was taken between the read and the rename, it is removed here too; its holder's critical
  // section is a few file operations, far shorter than `staleMs`, so this needs a crash and a race at once.
  await unlink(aside).catch(() => undefined);
  return true;
}

/**
 * Runs `fn` while holding a lock file created with O_EXCL, which works across processes on one machine and
 * on network file systems that honour exclusive create. Locks are held for a few file operations only.
 */
export async function withFileLock<T>(
  lockPath: string,
  options: LockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const token = `${process.pid}@${HOST} ${randomUUID()}`;
  const start = Date.now();
  let delay = 1;
  for (;;) {
    try {
      const fh = await open(
        lockPath,
        constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY,
        PRIVATE_FILE,
      );
      try {
        await fh.writeFile(token);
      } finally {
        await fh.close();
      }
      break;
    } catch (e) {
      const code = errnoOf(e);
      if (code === "ENOENT") {
        await mkdir(dirname(lockPath), { recursive: true, mode: PRIVATE_DIR });
        continue;
      }
      if (code !== "EEXIST") throw e;
      if (await breakIfStale(lockPath, options.staleMs)) continue;
      if (Date.now() - start > options.timeoutMs) {
        throw new SkiffError(STORE_CODES["SKF-STORE-007"], `lock ${lockPath} is held by another process`);
      }
      await pause(delay);
      delay = Math.min(delay * 2, 25);
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lockPath).catch(() => undefined);
  }
}

/** Entries of a folder that are not temp or lock files; none when the folder does not exist. */
export async function listNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => !n.startsWith(".")).sort();
  } catch (e) {
    if (errnoOf(e) === "ENOENT" || errnoOf(e) === "ENOTDIR") return [];
    throw e;
  }
}

/** A JSON file's content, or undefined when it does not exist; `SKF-STORE-004` when it is not JSON. */
export async function readJson<T>(path: string): Promise<T | undefined> {
  const data = await readIfExists(path);
  if (!data) return undefined;
  try {
    return JSON.parse(data.toString("utf8")) as T;
  } catch (e) {
    throw new SkiffError(STORE_CODES["SKF-STORE-004"], `${path} is not valid JSON`, { cause: e });
  }
}

/**
 * Writes all of `data` at the end of an append-mode file. One `write` may take only part of it (a disk that
 * fills takes what fits and reports nothing); the next one then fails with the reason.
 */
export async function writeAll(fh: FileHandle, data: string | Buffer): Promise<void> {
  let buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  while (buf.length > 0) {
    const { bytesWritten } = await fh.write(buf, 0, buf.length);
    if (bytesWritten <= 0) throw Object.assign(new Error("no bytes were written"), { code: "EIO" });
    buf = buf.subarray(bytesWritten);
  }
}

/** Appends `chunk` to a file (creating it and its folder when missing) and flushes it when `durable`. */
export async function appendDurable(
  path: string,
  chunk: string,
  options: { durable: boolean; dirs: DirSyncer },
): Promise<void> {
  let fh;
  try {
    fh = await open(path, "a+", PRIVATE_FILE);
  } catch (e) {
    if (errnoOf(e) !== "ENOENT") throw e;
    await mkdir(dirname(path), { recursive: true, mode: PRIVATE_DIR });
    await options.dirs.sync(dirname(dirname(path)));
    fh = await open(path, "a+", PRIVATE_FILE);
  }
  try {
    const { size } = await fh.stat();
    let data = chunk;
    if (size > 0) {
      // A crash may have cut the last line short; start on a fresh line so the next one parses.
      const last = Buffer.alloc(1);
      await fh.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) data = "\n" + data;
    }
    try {
      await writeAll(fh, data);
      if (options.durable) await fh.datasync();
    } catch (e) {
      // A write cut short by a full disk leaves part of a line: take it back, so the file holds only what
      // was written whole (and the space it took is free again).
      await fh.truncate(size).catch(() => undefined);
      throw e;
    }
    if (size === 0) await options.dirs.sync(dirname(path));
  } finally {
    await fh.close();
  }
}
