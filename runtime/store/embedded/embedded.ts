import { chmod, mkdir, readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { SkiffError } from "../../errors/index.js";
import type { GcResult } from "../../interfaces/store.js";
import { STORE_CODES } from "../codes.js";
import { ComposedStore } from "../compose.js";
import { collectGarbage } from "../gc.js";
import { EmbeddedArchive } from "./archive.js";
import { EmbeddedContext, type EmbeddedStoreOptions } from "./context.js";
import {
  errnoOf,
  PRIVATE_DIR,
  readError,
  readIfExists,
  statIfExists,
  writeError,
  writeFileAtomic,
} from "./files.js";
import { EmbeddedLeases } from "./leases.js";
import { EmbeddedLogs } from "./logs.js";
import { EmbeddedMemo } from "./memo.js";
import { EmbeddedRegistry } from "./registry.js";
import { EmbeddedWorkflows } from "./workflows.js";

export type { EmbeddedStoreOptions } from "./context.js";

interface EmbeddedParts {
  workflows: EmbeddedWorkflows;
  logs: EmbeddedLogs;
  memo: EmbeddedMemo;
  archive: EmbeddedArchive;
  leases: EmbeddedLeases;
  registry: EmbeddedRegistry;
}

/**
 * On-disk layout version, in `<dir>/format.json`. 2: journals may hold snapshot and delta records
 * (`../journal.ts`), which a version-1 reader would take for whole workflows.
 */
export const EMBEDDED_FORMAT_VERSION = 2;

/**
 * The default store: a folder of JSON files, one journal per workflow appended and flushed before a write
 * resolves; step logs as append-only JSON-lines files; completed runs, memo entries and leases as files
 * replaced atomically; cross-process locks as O_EXCL lock files. Each part lives in its own file
 * (`workflows.ts`, `logs.ts`, `memo.ts`, `archive.ts`, `leases.ts`, `registry.ts`); this class opens the folder and runs
 * `gc` and `close` across them. See `docs/decisions/0004-embedded-store.md` for why it is plain files.
 */
export class EmbeddedStore extends ComposedStore<EmbeddedContext, EmbeddedParts> {
  constructor(options: EmbeddedStoreOptions) {
    const ctx = new EmbeddedContext(options);
    const workflows = new EmbeddedWorkflows(ctx);
    const logs = new EmbeddedLogs(ctx, (namespace, name) => workflows.get(namespace, name));
    const leases = new EmbeddedLeases(ctx);
    super(ctx, {
      workflows,
      logs,
      memo: new EmbeddedMemo(ctx),
      archive: new EmbeddedArchive(ctx),
      leases,
      registry: new EmbeddedRegistry(ctx),
    });
  }

  /** The store folder. */
  get dir(): string {
    return this.ctx.dir;
  }

  /** Creates the folder layout (when writable) and checks the format version. */
  async init(): Promise<void> {
    const formatPath = join(this.dir, "format.json");
    // A folder made by an older Skiff, or by hand, may be readable by every local user: its contents are
    // reachable only through it, so taking the group's and others' bits off the folder closes them (the
    // owner's bits stay: a read-only store stays read-only). Best effort: a foreign folder is still read.
    const folder = await statIfExists(this.dir).catch(() => undefined);
    const mode = folder ? Number(folder.mode) : 0;
    if ((mode & 0o077) !== 0) await chmod(this.dir, mode & 0o700).catch(() => undefined);
    const existing = await readIfExists(formatPath).catch((e: unknown) => {
      throw readError(`store folder ${this.dir}`, e);
    });
    if (existing) {
      let version: unknown;
      try {
        version = (JSON.parse(existing.toString("utf8")) as { version?: unknown }).version;
      } catch (e) {
        throw new SkiffError(STORE_CODES["SKF-STORE-004"], `${formatPath} is not valid JSON`, { cause: e });
      }
      if (typeof version !== "number" || version > EMBEDDED_FORMAT_VERSION) {
        throw new SkiffError(
          STORE_CODES["SKF-STORE-010"],
          `store folder ${this.dir} has format version ${String(version)}; this Skiff reads up to ${EMBEDDED_FORMAT_VERSION}`,
        );
      }
      // A version-1 folder is upgraded in place: its journals are valid version-2 journals.
      if (version === EMBEDDED_FORMAT_VERSION) return;
    }
    try {
      await mkdir(this.dir, { recursive: true, mode: PRIVATE_DIR });
      await writeFileAtomic(
        formatPath,
        JSON.stringify({ format: "skiff-embedded-store", version: EMBEDDED_FORMAT_VERSION }) + "\n",
        this.ctx.writeOptions,
      );
    } catch (e) {
      // A read-only store can still be read (e.g. `skiff get` on a mounted snapshot); writes will fail.
      if (!["EACCES", "EPERM", "EROFS"].includes(errnoOf(e) ?? ""))
        throw writeError(`store folder ${this.dir}`, e);
    }
  }

  async gc(now: number): Promise<GcResult> {
    this.ctx.assertOpen();
    try {
      const result = await collectGarbage(this.parts, now, this.ctx.archiveTTLMs);
      await removeLeftovers(this.dir, now - LEFTOVER_AGE_MS, 4);
      return result;
    } catch (e) {
      throw writeError("garbage collection", e);
    }
  }

  async close(): Promise<void> {
    if (this.ctx.closed) return;
    this.ctx.closed = true;
    this.parts.workflows.watcher.close();
    await this.ctx.settle();
    this.ctx.logWakeups.wakeAll();
  }
}

/** Temp files of a write that crashed are removed by `gc` once they are this old. */
const LEFTOVER_AGE_MS = 3_600_000;

/** Removes temp files (and locks moved aside when broken) last changed before `before`. */
async function removeLeftovers(dir: string, before: number, depth: number): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if (errnoOf(e) === "ENOENT" || errnoOf(e) === "ENOTDIR") return;
    throw e;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (depth > 0) await removeLeftovers(path, before, depth - 1);
    } else if (e.name.startsWith(".") && (e.name.endsWith(".tmp") || e.name.endsWith(".stale"))) {
      const st = await statIfExists(path);
      if (st && Number(st.mtimeMs) < before) await unlink(path).catch(() => undefined);
    }
  }
}
