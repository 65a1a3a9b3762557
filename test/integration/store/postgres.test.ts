import { Client } from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { SkiffError } from "../../../runtime/errors/index.js";
import type { Workflow } from "../../../runtime/spec/types.js";
import { createStore, type PostgresStore } from "../../../runtime/store/index.js";
import { openPostgresStore } from "../../../runtime/store/postgres/index.js";
import { describeStoreContract, makeWorkflow, type StoreContractHarness } from "./contract.js";
import { startPostgresServer } from "./postgres-server.js";

const server = await startPostgresServer();
const url = "url" in server ? server.url : "";
if ("skip" in server) console.warn(server.skip);

afterAll(async () => {
  if ("stop" in server) await server.stop();
});

let schemaCounter = 0;
function freshSchema(): string {
  return `t${process.pid}_${Date.now() % 100000}_${++schemaCounter}`;
}

/** Runs SQL as a separate client, the way an operator would. */
async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const harness: StoreContractHarness = {
  async createLocation() {
    const schema = freshSchema();
    return {
      open: (o) => openPostgresStore({ connectionString: url, schema, pollIntervalMs: 50, ...o }),
      cleanup: () => admin((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)).then(() => undefined),
    };
  },
  async writeDuringFailure(before: Workflow, after: Workflow) {
    const schema = freshSchema();
    const app = `skiff-failure-${schema}`;
    const store = await openPostgresStore({ connectionString: url, schema, applicationName: app });
    await store.put(before);
    const name = before.metadata.name!;
    // Hold the row so the next write is sure to be in flight, then kill its connection.
    const blocker = new Client({ connectionString: url });
    await blocker.connect();
    await blocker.query("BEGIN");
    await blocker.query(`SELECT 1 FROM ${schema}.workflows WHERE name = $1 FOR UPDATE`, [name]);
    const pending = store.put(after).then(
      () => undefined,
      (e: unknown) => e,
    );
    await admin(async (c) => {
      for (let i = 0; i < 500; i++) {
        const { rows } = await c.query(
          `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
          [app],
        );
        if (rows.length > 0) {
          await c.query("SELECT pg_terminate_backend($1)", [(rows[0] as { pid: number }).pid]);
          return;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error("the write never reached the database");
    });
    const error = await pending;
    await blocker.query("ROLLBACK");
    await blocker.end();
    const readBack = await store.get("default", name);
    await store.close();
    const reopened = await openPostgresStore({ connectionString: url, schema });
    const readAfterRecovery = await reopened.get("default", name);
    await reopened.close();
    await admin((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    return { error, readBack, readAfterRecovery };
  },
};

describe.skipIf("skip" in server)("PostgreSQL store", () => {
  describeStoreContract("postgres", () => harness);

  it("creates its schema once, with a migrations table, also when two processes start together", async () => {
    const schema = freshSchema();
    const stores = await Promise.all(
      [1, 2, 3].map(() => openPostgresStore({ connectionString: url, schema })),
    );
    const versions = await admin((c) => c.query(`SELECT version FROM ${schema}.migrations ORDER BY version`));
    expect(versions.rows).toEqual([{ version: 1 }, { version: 2 }]);
    await stores[0]!.put(makeWorkflow("w"));
    const stored = await admin((c) =>
      c.query(`SELECT doc->'metadata'->>'resourceVersion' AS rv FROM ${schema}.workflows`),
    );
    expect(stored.rows).toEqual([{ rv: "1" }]);
    for (const s of stores) await s.close();
    await admin((c) => c.query(`DROP SCHEMA ${schema} CASCADE`));
  });

  it("refuses a schema migrated by a newer Skiff", async () => {
    const schema = freshSchema();
    const store = await openPostgresStore({ connectionString: url, schema });
    await store.close();
    await admin((c) => c.query(`INSERT INTO ${schema}.migrations (version) VALUES (999)`));
    const e = await openPostgresStore({ connectionString: url, schema }).catch((err: unknown) => err);
    expect((e as SkiffError).code).toBe("SKF-STORE-010");
    await admin((c) => c.query(`DROP SCHEMA ${schema} CASCADE`));
  });

  it("keeps working after the server kills its idle connections", async () => {
    const schema = freshSchema();
    const app = `skiff-idle-${schema}`;
    const store = await openPostgresStore({ connectionString: url, schema, applicationName: app });
    await store.put(makeWorkflow("survivor"));
    await admin((c) =>
      c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [app]),
    );
    expect((await store.get("default", "survivor"))?.metadata.name).toBe("survivor");
    await store.put(makeWorkflow("survivor", { phase: "Succeeded" }));
    expect((await store.get("default", "survivor"))?.status?.phase).toBe("Succeeded");
    await store.close();
    await admin((c) => c.query(`DROP SCHEMA ${schema} CASCADE`));
  });

  it("is what createStore opens for a postgres:// URL", async () => {
    const schema = freshSchema();
    const store = (await createStore(url, { schema })) as PostgresStore;
    expect(store.schema).toBe(schema);
    await store.close();
    await admin((c) => c.query(`DROP SCHEMA ${schema} CASCADE`));
  });

  it("sends only the changed nodes of a put that names them, and patches the row", async () => {
    const schema = freshSchema();
    const store = await openPostgresStore({ connectionString: url, schema });
    const sent: number[] = [];
    // The pool all parts of the store share, in its context.
    const pool = (
      store as unknown as { ctx: { pool: { query: (sql: unknown, params?: unknown[]) => Promise<unknown> } } }
    ).ctx.pool;
    const query = pool.query.bind(pool);
    pool.query = (sql: unknown, params?: unknown[]) => {
      if (typeof sql === "string" && sql.includes("workflows AS w"))
        sent.push((params ?? []).reduce<number>((n, p) => n + String(p ?? "").length, 0));
      return query(sql, params);
    };
    const wf = makeWorkflow("wide");
    const root = wf.status!.nodes!.wide!;
    for (let i = 0; i < 2000; i++) {
      const id = `wide-${i}`;
      wf.status!.nodes![id] = { id, name: `wide(${i})`, displayName: id, type: "Pod", phase: "Succeeded" };
      (root.children ??= []).push(id);
    }
    await store.put(wf);
    for (let i = 0; i < 5; i++) {
      const id = `late-${i}`;
      wf.status!.nodes![id] = { id, name: `late(${i})`, displayName: id, type: "Pod", phase: "Running" };
      root.children!.push(id);
      await store.put(wf, { changedNodes: [id, root.id] });
    }
    expect(sent[0]).toBeGreaterThan(150_000);
    for (const bytes of sent.slice(1)) expect(bytes).toBeLessThan(2_000);
    const got = await store.get("default", "wide");
    expect(got?.status?.nodes?.wide?.children).toEqual(root.children);
    expect(Object.keys(got!.status!.nodes!).length).toBe(2006);
    expect(got?.metadata.resourceVersion).toBe("6");
    await store.close();
    await admin((c) => c.query(`DROP SCHEMA ${schema} CASCADE`));
  });

  it("reports an unreachable server as a coded error", async () => {
    const e = await openPostgresStore({ connectionString: "postgres://nobody@127.0.0.1:1/none" }).catch(
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(SkiffError);
    expect((e as SkiffError).code).toBe("SKF-STORE-009");
  });
});
