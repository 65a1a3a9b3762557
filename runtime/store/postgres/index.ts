import { PostgresStore, type PostgresStoreOptions } from "./postgres.js";

export { PostgresStore, type PostgresStoreOptions } from "./postgres.js";

/** Connects to PostgreSQL and creates or migrates Skiff's schema before resolving. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const store = new PostgresStore(options);
  await store.init();
  return store;
}
