import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
import { afterAll, describe, expect, it } from "vitest";
import type { SkiffError } from "../../../runtime/errors/index.js";
import type { Store } from "../../../runtime/interfaces/store.js";
import type { CronWorkflow, WorkflowTemplate } from "../../../runtime/spec/types.js";
import { openEmbeddedStore } from "../../../runtime/store/embedded/index.js";
import { openPostgresStore } from "../../../runtime/store/postgres/index.js";
import { startPostgresServer } from "../store/postgres-server.js";

const server = await startPostgresServer();
if ("skip" in server) console.warn(server.skip);
afterAll(async () => {
  if ("stop" in server) await server.stop();
});

function template(name: string, namespace?: string): WorkflowTemplate {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "WorkflowTemplate",
    metadata: { name, ...(namespace ? { namespace } : {}) },
    spec: { templates: [{ name: "main", container: { image: "busybox" } }] },
  };
}

/** The registry part of the store contract, run against each backend. */
function describeRegistry(name: string, open: () => Promise<{ store: Store; cleanup: () => Promise<void> }>) {
  describe(`${name} registry`, () => {
    it("sets uid, creationTimestamp and a resourceVersion that counts up, keeping uid on update", async () => {
      const { store, cleanup } = await open();
      try {
        const first = await store.putRegistered(template("build"));
        expect(first.metadata).toMatchObject({ name: "build", namespace: "default", resourceVersion: "1" });
        expect(first.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
        expect(first.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        const second = await store.putRegistered(template("build"), { expectedResourceVersion: "1" });
        expect(second.metadata.resourceVersion).toBe("2");
        expect(second.metadata.uid).toBe(first.metadata.uid);
        expect(second.metadata.creationTimestamp).toBe(first.metadata.creationTimestamp);
        expect(await store.getRegistered("WorkflowTemplate", "default", "build")).toEqual(second);
      } finally {
        await cleanup();
      }
    });

    it("answers SKF-REG-001 to a stale update and to a create of an existing name", async () => {
      const { store, cleanup } = await open();
      try {
        await store.putRegistered(template("build"), { expectedResourceVersion: "" });
        await store.putRegistered(template("build"));
        const stale = await store
          .putRegistered(template("build"), { expectedResourceVersion: "1" })
          .catch((e: unknown) => e);
        expect((stale as SkiffError).code).toBe("SKF-REG-001");
        expect((stale as SkiffError).message).toContain("resourceVersion is 2, not 1");
        const again = await store
          .putRegistered(template("build"), { expectedResourceVersion: "" })
          .catch((e: unknown) => e);
        expect((again as SkiffError).code).toBe("SKF-REG-001");
        expect((again as SkiffError).message).toContain("already exists");
      } finally {
        await cleanup();
      }
    });

    it("lets one of several concurrent creates win", async () => {
      const { store, cleanup } = await open();
      try {
        const results = await Promise.allSettled(
          [1, 2, 3, 4].map(() => store.putRegistered(template("race"), { expectedResourceVersion: "" })),
        );
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      } finally {
        await cleanup();
      }
    });

    it("keeps kinds and namespaces apart, lists sorted, and deletes", async () => {
      const { store, cleanup } = await open();
      try {
        await store.putRegistered(template("b", "team-a"));
        await store.putRegistered(template("a", "team-b"));
        await store.putRegistered(template("a", "team-a"));
        await store.putRegistered({
          ...template("shared", "ignored"),
          kind: "ClusterWorkflowTemplate",
        });
        const cron: CronWorkflow = {
          apiVersion: "argoproj.io/v1alpha1",
          kind: "CronWorkflow",
          metadata: { name: "a", namespace: "team-a" },
          spec: { schedules: ["* * * * *"], workflowSpec: { entrypoint: "main" } },
        };
        await store.putRegistered(cron);
        const names = (objects: { metadata: { namespace?: string; name?: string } }[]) =>
          objects.map((o) => `${o.metadata.namespace ?? ""}/${o.metadata.name}`);
        expect(names(await store.listRegistered("WorkflowTemplate"))).toEqual([
          "team-a/a",
          "team-a/b",
          "team-b/a",
        ]);
        expect(names(await store.listRegistered("WorkflowTemplate", "team-a"))).toEqual([
          "team-a/a",
          "team-a/b",
        ]);
        expect(names(await store.listRegistered("ClusterWorkflowTemplate"))).toEqual(["/shared"]);
        expect(await store.getRegistered("ClusterWorkflowTemplate", "any", "shared")).toBeDefined();
        expect(names(await store.listRegistered("CronWorkflow"))).toEqual(["team-a/a"]);
        expect(await store.deleteRegistered("WorkflowTemplate", "team-a", "a")).toBe(true);
        expect(await store.deleteRegistered("WorkflowTemplate", "team-a", "a")).toBe(false);
        expect(await store.getRegistered("WorkflowTemplate", "team-a", "a")).toBeUndefined();
        expect(await store.getRegistered("CronWorkflow", "team-a", "a")).toBeDefined();
      } finally {
        await cleanup();
      }
    });

    it("refuses an object without a name with SKF-REG-002", async () => {
      const { store, cleanup } = await open();
      try {
        const e = await store.putRegistered({ ...template("x"), metadata: {} }).catch((err: unknown) => err);
        expect((e as SkiffError).code).toBe("SKF-REG-002");
      } finally {
        await cleanup();
      }
    });
  });
}

describeRegistry("embedded", async () => {
  const dir = await mkdtemp(join(tmpdir(), "skiff-registry-"));
  const store = await openEmbeddedStore({ dir, durable: false });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

let schemas = 0;
describe.skipIf("skip" in server)("PostgreSQL", () => {
  describeRegistry("postgres", async () => {
    const url = "url" in server ? server.url : "";
    const schema = `reg${process.pid}_${++schemas}`;
    const store = await openPostgresStore({ connectionString: url, schema });
    return {
      store,
      cleanup: async () => {
        await store.close();
        const c = new Client({ connectionString: url });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await c.end();
      },
    };
  });
});
