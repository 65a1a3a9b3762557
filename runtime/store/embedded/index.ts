import { EmbeddedStore, type EmbeddedStoreOptions } from "./embedded.js";

export { EmbeddedStore, EMBEDDED_FORMAT_VERSION, type EmbeddedStoreOptions } from "./embedded.js";

/**
 * Opens (creating when missing) the embedded store in `options.dir`. Several processes may open the same
 * folder: writes and leases are coordinated through lock files.
 */
export async function openEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  const store = new EmbeddedStore(options);
  await store.init();
  return store;
}
