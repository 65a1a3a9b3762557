import type { Outputs } from "../spec/types.js";

/** One saved result of a memoized template (Argo keeps this JSON in a Cache ConfigMap). */
export interface MemoEntry {
  nodeID: string;
  outputs: Outputs;
  /** RFC3339. */
  creationTimestamp: string;
  /** RFC3339. */
  lastHitTimestamp: string;
}

/**
 * Where memoized outputs live, by cache name (Argo's `memoize.cache.configMap.name`) and key. The controller's
 * default keeps them in memory; a persistent implementation can back them with the Store.
 */
export interface MemoCache {
  load(cacheName: string, key: string): Promise<MemoEntry | undefined>;
  save(cacheName: string, key: string, entry: MemoEntry): Promise<void>;
}
