import { defineErrorCodes } from "../errors/index.js";

/** Error codes of the workflow stores (`SKF-STORE-`). */
export const STORE_CODES = defineErrorCodes({
  "SKF-STORE-001": {
    title: "Store write failed",
    hint: "The store could not save the change; the previous state is still there. Check that the store folder is writable and the disk has free space, or that the database is reachable, then retry.",
  },
  "SKF-STORE-002": {
    title: "Workflow changed concurrently",
    hint: "Someone else updated the workflow since you read it (its resourceVersion moved on). Read it again, reapply your change and retry.",
  },
  "SKF-STORE-003": {
    title: "Store not readable",
    hint: "The store folder or database could not be read. Check the path or URL, the permissions, and that the database is running.",
  },
  "SKF-STORE-004": {
    title: "Stored data is corrupt",
    hint: "A stored file could not be parsed. Restore it from a backup or delete it; Skiff never writes partial files, so something else changed it.",
  },
  "SKF-STORE-005": {
    title: "Store is closed",
    hint: "The store was used after `close()`. Open a new one.",
  },
  "SKF-STORE-006": {
    title: "Unsupported store URL",
    hint: "Use `postgres://user:password@host:port/database` for PostgreSQL, or a folder path (or `file:///path`) for the embedded store.",
  },
  "SKF-STORE-007": {
    title: "Store busy",
    hint: "Another process held a lock of the store for too long. If no other Skiff process is running, delete the stale `*.lock` file named in the message.",
  },
  "SKF-STORE-008": {
    title: "Invalid workflow for the store",
    hint: "A stored workflow needs `metadata.name`; `metadata.namespace` defaults to `default`.",
  },
  "SKF-STORE-009": {
    title: "Database connection failed",
    hint: "Skiff could not reach PostgreSQL. Check the URL, that the server runs and accepts connections from this host, and the credentials.",
  },
  "SKF-STORE-010": {
    title: "Database schema is newer than this Skiff",
    hint: "The database was migrated by a newer Skiff version. Upgrade Skiff, or point it at another schema.",
  },
});
