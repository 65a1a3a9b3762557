import { SkiffError } from "../../errors/index.js";
import type { MemoCache, MemoEntry } from "../../interfaces/memo.js";
import type { MemoStore } from "../../interfaces/store.js";
import { STORE_CODES } from "../codes.js";
import { closedError } from "../common.js";
import { memoCacheFor, type MemoEntries } from "../compose.js";
import type { EmbeddedContext } from "./context.js";
import { readError, readIfExists, writeError, writeFileAtomic } from "./files.js";

/** Memoized outputs of the embedded store: one file per entry (`memo/<ns>/<cache>/<key>.json`), replaced atomically. */
export class EmbeddedMemo implements MemoStore, MemoEntries {
  constructor(private readonly ctx: EmbeddedContext) {}

  memoCache(namespace?: string): MemoCache {
    return memoCacheFor(this, namespace);
  }

  async load(namespace: string, cacheName: string, key: string): Promise<MemoEntry | undefined> {
    this.ctx.assertOpen();
    const path = this.ctx.memoPath(namespace, cacheName, key);
    const data = await readIfExists(path).catch((e: unknown) => {
      throw readError(`memoization cache ${cacheName}`, e);
    });
    if (!data) return undefined;
    try {
      return JSON.parse(data.toString("utf8")) as MemoEntry;
    } catch (e) {
      throw new SkiffError(STORE_CODES["SKF-STORE-004"], `${path} is not valid JSON`, { cause: e });
    }
  }

  save(namespace: string, cacheName: string, key: string, entry: MemoEntry): Promise<void> {
    if (this.ctx.closed) return Promise.reject(closedError());
    const path = this.ctx.memoPath(namespace, cacheName, key);
    return this.ctx.track(
      writeFileAtomic(path, JSON.stringify(entry), this.ctx.writeOptions).then(
        () => undefined,
        (e: unknown) => {
          throw writeError(`memoization cache ${cacheName} entry ${key}`, e, path);
        },
      ),
    );
  }
}
