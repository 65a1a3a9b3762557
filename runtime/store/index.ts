import { fileURLToPath } from "node:url";
import { SkiffError } from "../errors/index.js";
import type { Store } from "../interfaces/store.js";
import { STORE_CODES } from "./codes.js";
import { openEmbeddedStore, type EmbeddedStoreOptions } from "./embedded/index.js";
import type { PostgresStoreOptions } from "./postgres/index.js";

export { STORE_CODES } from "./codes.js";
export { REGISTRY_CODES, REGISTRY_KINDS } from "./registry/index.js";
export { EmbeddedStore, openEmbeddedStore, type EmbeddedStoreOptions } from "./embedded/index.js";
export type { PostgresStore, PostgresStoreOptions } from "./postgres/index.js";

/** Options that apply to every store `createStore` can open. */
export type CreateStoreOptions = Omit<EmbeddedStoreOptions, "dir"> &
  Omit<PostgresStoreOptions, "connectionString">;

/**
 * Opens the store a URL names: `postgres://` or `postgresql://` -> PostgreSQL; a folder path or a `file:` URL
 * -> the embedded store. The PostgreSQL driver is only loaded when asked for.
 */
export async function createStore(url: string, options: CreateStoreOptions = {}): Promise<Store> {
  if (/^postgres(ql)?:\/\//i.test(url)) {
    const { openPostgresStore } = await import("./postgres/index.js");
    return openPostgresStore({ ...options, connectionString: url });
  }
  let dir = url;
  if (/^file:/i.test(url)) {
    try {
      dir = fileURLToPath(url);
    } catch (e) {
      throw new SkiffError(STORE_CODES["SKF-STORE-006"], `not a valid file URL: ${url}`, { cause: e });
    }
  } else if (/^[a-z][a-z0-9+.-]+:\/\//i.test(url)) {
    throw new SkiffError(STORE_CODES["SKF-STORE-006"], `unsupported store URL: ${url}`);
  }
  if (dir === "") throw new SkiffError(STORE_CODES["SKF-STORE-006"], "the store location is empty");
  return openEmbeddedStore({ ...options, dir });
}
