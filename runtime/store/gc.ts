import { SkiffError } from "../errors/index.js";
import type { GcResult } from "../interfaces/store.js";
import { STORE_CODES } from "./codes.js";

/** A completed live workflow whose `ttlStrategy` has expired, at the version that was looked at. */
export interface ExpiredWorkflow {
  namespace: string;
  name: string;
  resourceVersion: string;
}

/** What `collectGarbage` asks of each part of one backend. */
export interface RetentionParts {
  workflows: {
    /** Completed workflows whose `ttlStrategy` expired at `now`, sorted by namespace and name. */
    expired(now: number): AsyncIterable<ExpiredWorkflow>;
    /** Deletes that version only; rejects with `SKF-STORE-002` when the workflow was put again meanwhile. */
    deleteVersion(namespace: string, name: string, resourceVersion: string): Promise<void>;
  };
  archive: {
    /** Deletes archived runs finished at or before `cutoff` (ms since the epoch); resolves with them. */
    deleteFinishedBefore(cutoff: number): Promise<GcResult["archiveDeleted"]>;
  };
  logs: {
    /** Deletes a name's logs unless an archived run of that name still needs them. */
    deleteUnlessArchived(namespace: string, name: string): Promise<void>;
    /** Deletes a name's logs unless a live workflow or an archived run of that name still needs them. */
    deleteUnlessKept(namespace: string, name: string): Promise<void>;
  };
  leases: {
    /** Deletes leases that expired at `now`. */
    deleteExpired(now: number): Promise<void>;
  };
}

/**
 * `Store.gc` for every backend: live workflows past their `ttlStrategy` (as Argo's TTL controller deletes
 * them; their archived runs stay), archived runs past the archive TTL, the logs nothing refers to any more,
 * and expired leases. A workflow put again while gc looked at it stays.
 */
export async function collectGarbage(
  parts: RetentionParts,
  now: number,
  archiveTTLMs: number | undefined,
): Promise<GcResult> {
  const result: GcResult = { deleted: [], archiveDeleted: [] };
  for await (const { namespace, name, resourceVersion } of parts.workflows.expired(now)) {
    try {
      await parts.workflows.deleteVersion(namespace, name, resourceVersion);
    } catch (e) {
      if (e instanceof SkiffError && e.code === STORE_CODES["SKF-STORE-002"]) continue;
      throw e;
    }
    result.deleted.push({ namespace, name });
    await parts.logs.deleteUnlessArchived(namespace, name);
  }
  if (archiveTTLMs !== undefined) {
    result.archiveDeleted = await parts.archive.deleteFinishedBefore(now - archiveTTLMs);
    const names = new Map(result.archiveDeleted.map((d) => [`${d.namespace}\u0000${d.name}`, d]));
    for (const { namespace, name } of names.values()) await parts.logs.deleteUnlessKept(namespace, name);
  }
  await parts.leases.deleteExpired(now);
  return result;
}
