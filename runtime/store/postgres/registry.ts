import type {
  RegisteredObject,
  RegistryKind,
  RegistryPutOptions,
  RegistryStore,
} from "../../interfaces/store.js";
import { nextRegistered, registryKey, registryNamespace } from "../registry/index.js";
import { writeError, type PostgresContext } from "./context.js";

/** SQLSTATE of a unique-key violation: another process created the same object meanwhile. */
const UNIQUE_VIOLATION = "23505";

/**
 * The registry of the PostgreSQL store: one row per object in `registry`, read `FOR UPDATE` and written in one
 * transaction, so that of two processes changing one object the second sees the first's resourceVersion.
 */
export class PostgresRegistry implements RegistryStore {
  constructor(private readonly ctx: PostgresContext) {}

  async putRegistered<T extends RegisteredObject>(object: T, options?: RegistryPutOptions): Promise<T> {
    this.ctx.assertOpen();
    const { kind, namespace, name } = registryKey(object);
    const client = await this.ctx.track(this.ctx.pool.connect()).catch((e: unknown) => {
      throw writeError(`${kind} ${name}`, e);
    });
    try {
      await client.query("BEGIN");
      const { rows } = await client.query<{ doc: RegisteredObject }>(
        `SELECT doc FROM ${this.ctx.s}.registry WHERE kind = $1 AND namespace = $2 AND name = $3 FOR UPDATE`,
        [kind, namespace, name],
      );
      const current = rows[0]?.doc;
      let stored: T;
      try {
        stored = nextRegistered(object, current, options);
      } catch (e) {
        await client.query("ROLLBACK");
        throw e;
      }
      await client.query(
        current
          ? `UPDATE ${this.ctx.s}.registry SET resource_version = $4, doc = $5 WHERE kind = $1 AND namespace = $2 AND name = $3`
          : `INSERT INTO ${this.ctx.s}.registry (kind, namespace, name, resource_version, doc) VALUES ($1, $2, $3, $4, $5)`,
        [kind, namespace, name, Number(stored.metadata.resourceVersion), JSON.stringify(stored)],
      );
      await client.query("COMMIT");
      return stored;
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined);
      if (typeof e === "object" && e !== null && (e as { code?: unknown }).code === UNIQUE_VIOLATION) {
        // Two creates raced; the loser retries once and then sees the winner's version.
        return this.putRegistered(object, options);
      }
      throw writeError(`${kind} ${name}`, e);
    } finally {
      client.release();
    }
  }

  async getRegistered(
    kind: RegistryKind,
    namespace: string,
    name: string,
  ): Promise<RegisteredObject | undefined> {
    const rows = await this.ctx.read<{ doc: RegisteredObject }>(
      `SELECT doc FROM ${this.ctx.s}.registry WHERE kind = $1 AND namespace = $2 AND name = $3`,
      [kind, registryNamespace(kind, namespace), name],
      `${kind} ${name}`,
    );
    return rows[0]?.doc;
  }

  async listRegistered(kind: RegistryKind, namespace?: string): Promise<RegisteredObject[]> {
    const params: unknown[] = [kind];
    let where = "kind = $1";
    if (namespace !== undefined) {
      params.push(registryNamespace(kind, namespace));
      where += " AND namespace = $2";
    }
    const rows = await this.ctx.read<{ doc: RegisteredObject }>(
      `SELECT doc FROM ${this.ctx.s}.registry WHERE ${where} ORDER BY namespace, name`,
      params,
      `the ${kind}s`,
    );
    return rows.map((r) => r.doc);
  }

  async deleteRegistered(kind: RegistryKind, namespace: string, name: string): Promise<boolean> {
    this.ctx.assertOpen();
    try {
      const { rowCount } = await this.ctx.track(
        this.ctx.pool.query(
          `DELETE FROM ${this.ctx.s}.registry WHERE kind = $1 AND namespace = $2 AND name = $3`,
          [kind, registryNamespace(kind, namespace), name],
        ),
      );
      return (rowCount ?? 0) > 0;
    } catch (e) {
      throw writeError(`${kind} ${name}`, e);
    }
  }
}
