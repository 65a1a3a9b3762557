import { afterEach, describe, expect, it } from "vitest";
import { SkiffError } from "../../../runtime/errors/index.js";
import type { LogLine } from "../../../runtime/interfaces/executor.js";
import type { Store, StoreEvent } from "../../../runtime/interfaces/store.js";
import type { TTLStrategy, Workflow, WorkflowPhase } from "../../../runtime/spec/types.js";

/** Options a contract test passes when opening a store. */
export interface ContractStoreOptions {
  archiveTTLMs?: number;
}

/** One storage location (a folder, a database schema) that several stores can open, one after another or at once. */
export interface StoreLocation {
  open(options?: ContractStoreOptions): Promise<Store>;
  cleanup?(): Promise<void>;
  /**
   * Leaves what a crash in the middle of writing one more version of the workflow leaves (part of a record);
   * absent where a write cannot be torn (a database transaction).
   */
  tearTail?(namespace: string, name: string): Promise<void>;
}

/** What a write that failed, and a read made while the backend was still broken, produced. */
export interface WriteFailureOutcome {
  error: unknown;
  readBack: Workflow | undefined;
  /** What a store opened after the failure ended reads. */
  readAfterRecovery: Workflow | undefined;
}

/** How the contract suite reaches one store implementation. */
export interface StoreContractHarness {
  /** A fresh, empty location. */
  createLocation(): Promise<StoreLocation>;
  /**
   * Puts `before`, makes the backend fail as in real life (read-only folder, killed database connection),
   * tries to put `after` and reads the workflow back.
   */
  writeDuringFailure(before: Workflow, after: Workflow): Promise<WriteFailureOutcome>;
}

export interface WorkflowFixture {
  namespace?: string;
  phase?: WorkflowPhase;
  labels?: Record<string, string>;
  finishedAt?: string;
  ttlStrategy?: TTLStrategy;
  uid?: string;
  message?: string;
}

/** A small but realistic workflow object. */
export function makeWorkflow(name: string, f: WorkflowFixture = {}): Workflow {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: {
      name,
      ...(f.namespace !== undefined ? { namespace: f.namespace } : {}),
      uid: f.uid ?? `uid-${name}`,
      labels: f.labels ?? {},
    },
    spec: {
      entrypoint: "main",
      templates: [{ name: "main", container: { image: "alpine", command: ["echo", name] } }],
      ...(f.ttlStrategy ? { ttlStrategy: f.ttlStrategy } : {}),
    },
    status: {
      phase: f.phase ?? "Running",
      startedAt: "2024-01-01T00:00:00Z",
      ...(f.finishedAt ? { finishedAt: f.finishedAt } : {}),
      ...(f.message ? { message: f.message } : {}),
      nodes: {
        [name]: { id: name, name, displayName: name, type: "Pod", phase: "Running", templateName: "main" },
      },
    },
  };
}

function logLine(nodeId: string, text: string, time: string, container = "main"): LogLine {
  return { nodeId, container, stream: "stdout", time, text };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function expectCode(p: Promise<unknown>, code: string): Promise<SkiffError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, `expected a rejection with ${code}`).toBeInstanceOf(SkiffError);
  expect((e as SkiffError).code).toBe(code);
  expect((e as SkiffError).hint).toBeTruthy();
  return e as SkiffError;
}

/** Resolves once `check` returns true, polling; fails after `ms` of real time. */
async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const T0 = Date.parse("2024-03-01T12:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The behaviour every `Store` implementation shares. `getHarness` is called inside the tests, so it may
 * depend on a server started by the caller's `beforeAll`.
 */
export function describeStoreContract(name: string, getHarness: () => StoreContractHarness): void {
  describe(`Store contract: ${name}`, () => {
    const opened: Store[] = [];
    const locations: StoreLocation[] = [];

    async function location(): Promise<StoreLocation> {
      const loc = await getHarness().createLocation();
      locations.push(loc);
      return {
        open: async (o) => {
          const s = await loc.open(o);
          opened.push(s);
          return s;
        },
        ...(loc.tearTail ? { tearTail: loc.tearTail.bind(loc) } : {}),
      };
    }

    async function freshStore(o?: ContractStoreOptions): Promise<Store> {
      return (await location()).open(o);
    }

    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      for (const l of locations.splice(0)) await l.cleanup?.();
    });

    describe("workflows", () => {
      it("puts, gets, replaces and deletes a workflow", async () => {
        const store = await freshStore();
        const wf = makeWorkflow("hello");
        await store.put(wf);
        const got = await store.get("default", "hello");
        expect(got?.metadata.namespace).toBe("default");
        expect(got?.metadata.resourceVersion).toBe("1");
        expect(got?.spec).toEqual(wf.spec);
        expect(got?.status).toEqual(wf.status);
        // The caller's object is left alone.
        expect(wf.metadata.resourceVersion).toBeUndefined();
        expect(wf.metadata.namespace).toBeUndefined();

        await store.put(makeWorkflow("hello", { phase: "Succeeded", finishedAt: iso(T0) }));
        const replaced = await store.get("default", "hello");
        expect(replaced?.status?.phase).toBe("Succeeded");
        expect(replaced?.metadata.resourceVersion).toBe("2");

        expect(await store.get("default", "other")).toBeUndefined();
        expect(await store.get("elsewhere", "hello")).toBeUndefined();

        expect(await store.acquireLease("default", "hello", "controller", 60_000, T0)).toBe(true);
        await store.delete("default", "hello");
        expect(await store.get("default", "hello")).toBeUndefined();
        expect(await store.getLease("default", "hello")).toBeUndefined();
        await store.delete("default", "hello"); // deleting twice is fine
      });

      it("returns copies: changing a result does not change the store", async () => {
        const store = await freshStore();
        await store.put(makeWorkflow("a"));
        const got = await store.get("default", "a");
        got!.status!.phase = "Failed";
        expect((await store.get("default", "a"))?.status?.phase).toBe("Running");
      });

      it("keeps the state the caller had when put was called", async () => {
        const store = await freshStore();
        const wf = makeWorkflow("snap");
        const pending = store.put(wf);
        wf.status!.phase = "Failed";
        await pending;
        expect((await store.get("default", "snap"))?.status?.phase).toBe("Running");
      });

      it("rejects a workflow without a name with a coded error", async () => {
        const store = await freshStore();
        const wf = makeWorkflow("x");
        delete wf.metadata.name;
        await expectCode(store.put(wf), "SKF-STORE-008");
      });

      it("lists with namespace, phase, label, name-prefix filters and a limit, sorted", async () => {
        const store = await freshStore();
        await store.put(
          makeWorkflow("build-2", { namespace: "ci", phase: "Succeeded", labels: { team: "a" } }),
        );
        await store.put(makeWorkflow("build-1", { namespace: "ci", phase: "Failed", labels: { team: "b" } }));
        await store.put(
          makeWorkflow("deploy", { namespace: "ci", phase: "Running", labels: { team: "a", env: "prod" } }),
        );
        await store.put(
          makeWorkflow("build-3", { namespace: "dev", phase: "Running", labels: { team: "a" } }),
        );
        await store.put(makeWorkflow("nightly", { phase: "Pending" }));
        const names = (wfs: Workflow[]) => wfs.map((w) => `${w.metadata.namespace}/${w.metadata.name}`);

        expect(names(await store.list())).toEqual([
          "ci/build-1",
          "ci/build-2",
          "ci/deploy",
          "default/nightly",
          "dev/build-3",
        ]);
        expect(names(await store.list({ namespace: "ci" }))).toEqual([
          "ci/build-1",
          "ci/build-2",
          "ci/deploy",
        ]);
        expect(names(await store.list({ namespace: "nowhere" }))).toEqual([]);
        expect(names(await store.list({ phases: ["Running", "Pending"] }))).toEqual([
          "ci/deploy",
          "default/nightly",
          "dev/build-3",
        ]);
        expect(names(await store.list({ labelSelector: { team: "a" } }))).toEqual([
          "ci/build-2",
          "ci/deploy",
          "dev/build-3",
        ]);
        expect(names(await store.list({ labelSelector: { team: "a", env: "prod" } }))).toEqual(["ci/deploy"]);
        expect(names(await store.list({ namePrefix: "build-" }))).toEqual([
          "ci/build-1",
          "ci/build-2",
          "dev/build-3",
        ]);
        expect(names(await store.list({ namePrefix: "build-", limit: 2 }))).toEqual([
          "ci/build-1",
          "ci/build-2",
        ]);
        expect(
          names(await store.list({ namespace: "ci", phases: ["Running"], labelSelector: { team: "a" } })),
        ).toEqual(["ci/deploy"]);
        expect((await store.list({ namespace: "ci" }))[0]?.status?.nodes?.["build-1"]?.templateName).toBe(
          "main",
        );
      });

      it("checks resourceVersion when asked (optimistic concurrency)", async () => {
        const store = await freshStore();
        await store.put(makeWorkflow("occ"), { expectedResourceVersion: "" });
        await expectCode(store.put(makeWorkflow("occ"), { expectedResourceVersion: "" }), "SKF-STORE-002");
        const current = await store.get("default", "occ");
        await store.put(makeWorkflow("occ", { message: "mine" }), {
          expectedResourceVersion: current!.metadata.resourceVersion!,
        });
        await expectCode(
          store.put(makeWorkflow("occ", { message: "stale" }), {
            expectedResourceVersion: current!.metadata.resourceVersion!,
          }),
          "SKF-STORE-002",
        );
        await expectCode(
          store.put(makeWorkflow("missing"), { expectedResourceVersion: "3" }),
          "SKF-STORE-002",
        );
        const after = await store.get("default", "occ");
        expect(after?.status?.message).toBe("mine");
        expect(after?.metadata.resourceVersion).toBe("2");
      });

      it("lets exactly one of two stores win a conditional update", async () => {
        const loc = await location();
        const a = await loc.open();
        const b = await loc.open();
        await a.put(makeWorkflow("race"));
        const rv = (await a.get("default", "race"))!.metadata.resourceVersion!;
        const results = await Promise.allSettled([
          a.put(makeWorkflow("race", { message: "a" }), { expectedResourceVersion: rv }),
          b.put(makeWorkflow("race", { message: "b" }), { expectedResourceVersion: rv }),
        ]);
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        const loser = results.find((r) => r.status === "rejected");
        expect((loser?.reason as SkiffError).code).toBe("SKF-STORE-002");
      });
    });

    describe("watch", () => {
      it("tells listeners about puts and deletes in order, until unsubscribed", async () => {
        const store = await freshStore();
        const events: StoreEvent[] = [];
        const stop = store.watch((e) => events.push(e));
        await store.put(makeWorkflow("w", { phase: "Running" }));
        await store.put(makeWorkflow("w", { phase: "Succeeded", finishedAt: iso(T0) }));
        await store.delete("default", "w");
        await eventually(() => events.length >= 3, "three events");
        expect(
          events.map((e) => `${e.type}:${e.workflow.metadata.name}:${e.workflow.status?.phase}`),
        ).toEqual(["put:w:Running", "put:w:Succeeded", "delete:w:Succeeded"]);
        stop();
        await store.put(makeWorkflow("after-stop"));
        // Let any (wrongly) pending notification arrive before asserting there is none.
        await new Promise((r) => setTimeout(r, 300));
        expect(events).toHaveLength(3);
      });

      it("sees changes made through another store on the same location", async () => {
        const loc = await location();
        const writer = await loc.open();
        const reader = await loc.open();
        const seen: string[] = [];
        reader.watch((e) =>
          seen.push(`${e.type}:${e.workflow.metadata.name}:${e.workflow.status?.phase ?? ""}`),
        );
        // Give the watcher time to start listening before the writes it must see.
        await new Promise((r) => setTimeout(r, 200));
        await writer.put(makeWorkflow("remote", { phase: "Running" }));
        await eventually(() => seen.includes("put:remote:Running"), "the remote put");
        await writer.put(makeWorkflow("remote", { phase: "Failed", finishedAt: iso(T0) }));
        await eventually(() => seen.includes("put:remote:Failed"), "the second remote put");
        await writer.delete("default", "remote");
        await eventually(() => seen.some((s) => s.startsWith("delete:remote")), "the remote delete");
        expect(seen.indexOf("put:remote:Running")).toBeLessThan(seen.indexOf("put:remote:Failed"));
      });
    });

    describe("logs", () => {
      it("appends and reads lines in order, filtered by node, container and time", async () => {
        const store = await freshStore();
        await store.appendLogs("default", "wf", [
          logLine("n1", "one", iso(T0)),
          logLine("n2", "two", iso(T0 + 1000)),
        ]);
        await store.appendLogs("default", "wf", [
          logLine("n1", "three", iso(T0 + 2000)),
          logLine("n1", "init says ✓ ünïcode", iso(T0 + 3000), "init"),
        ]);
        await store.appendLogs("default", "other", [logLine("n1", "not mine", iso(T0))]);
        await store.appendLogs("default", "wf", []);

        const texts = async (q?: Parameters<Store["readLogs"]>[2]) =>
          (await collect(store.readLogs("default", "wf", q))).map((l) => l.text);
        expect(await texts()).toEqual(["one", "two", "three", "init says ✓ ünïcode"]);
        expect(await texts({ nodeId: "n1" })).toEqual(["one", "three", "init says ✓ ünïcode"]);
        expect(await texts({ nodeId: "n1", container: "main" })).toEqual(["one", "three"]);
        expect(await texts({ since: iso(T0 + 1000) })).toEqual(["two", "three", "init says ✓ ünïcode"]);
        expect(await texts({ since: iso(T0 + 60_000) })).toEqual([]);
        expect(await collect(store.readLogs("default", "nothing"))).toEqual([]);
        const full = (await collect(store.readLogs("default", "wf")))[1];
        expect(full).toEqual(logLine("n2", "two", iso(T0 + 1000)));
      });

      it("follows new lines until the workflow completes", async () => {
        const store = await freshStore();
        await store.put(makeWorkflow("f", { phase: "Running" }));
        await store.appendLogs("default", "f", [logLine("n", "first", iso(T0))]);
        const received: string[] = [];
        const done = (async () => {
          for await (const l of store.readLogs("default", "f", { follow: true })) received.push(l.text);
        })();
        await eventually(() => received.length === 1, "the first line");
        await store.appendLogs("default", "f", [logLine("n", "second", iso(T0 + 1))]);
        await eventually(() => received.length === 2, "the followed line");
        await store.appendLogs("default", "f", [logLine("n", "last", iso(T0 + 2))]);
        await store.put(makeWorkflow("f", { phase: "Succeeded", finishedAt: iso(T0 + 3) }));
        await done;
        expect(received).toEqual(["first", "second", "last"]);
      });

      it("stops following when aborted", async () => {
        const store = await freshStore();
        await store.put(makeWorkflow("g", { phase: "Running" }));
        await store.appendLogs("default", "g", [logLine("n", "only", iso(T0))]);
        const ac = new AbortController();
        const received: string[] = [];
        const done = (async () => {
          for await (const l of store.readLogs("default", "g", { follow: true, signal: ac.signal })) {
            received.push(l.text);
          }
        })();
        await eventually(() => received.length === 1, "the line");
        ac.abort();
        await done;
        expect(received).toEqual(["only"]);
      });
    });

    describe("memoization cache", () => {
      it("saves and loads entries per namespace and cache", async () => {
        const loc = await location();
        const store = await loc.open();
        const entry = {
          nodeID: "wf-123",
          outputs: { parameters: [{ name: "out", value: "42" }] },
          creationTimestamp: iso(T0),
          lastHitTimestamp: iso(T0),
        };
        const memo = store.memoCache("ci");
        expect(await memo.load("my-cache", "key-1")).toBeUndefined();
        await memo.save("my-cache", "key-1", entry);
        expect(await memo.load("my-cache", "key-1")).toEqual(entry);
        expect(await memo.load("other-cache", "key-1")).toBeUndefined();
        expect(await store.memoCache("dev").load("my-cache", "key-1")).toBeUndefined();
        await memo.save("my-cache", "key-1", { ...entry, lastHitTimestamp: iso(T0 + 5000) });
        await store.close();
        const again = await loc.open();
        expect((await again.memoCache("ci").load("my-cache", "key-1"))?.lastHitTimestamp).toBe(
          iso(T0 + 5000),
        );
        expect(await again.memoCache().load("my-cache", "key-1")).toBeUndefined();
      });
    });

    describe("archive and retention", () => {
      it("archives completed runs, unless their archive strategy says no", async () => {
        const store = await freshStore();
        await store.put(makeWorkflow("run", { phase: "Running" }));
        expect(await store.archiveList()).toEqual([]);
        await store.put(makeWorkflow("run", { phase: "Succeeded", finishedAt: iso(T0) }));
        await store.put(
          makeWorkflow("run", {
            phase: "Failed",
            finishedAt: iso(T0 + 60_000),
            uid: "uid-second",
            namespace: "default",
          }),
        );
        await store.put(
          makeWorkflow("other", { namespace: "ci", phase: "Error", finishedAt: iso(T0 + 1000) }),
        );
        await store.put(
          makeWorkflow("private", {
            phase: "Succeeded",
            finishedAt: iso(T0),
            labels: { "workflows.argoproj.io/archive-strategy": "false" },
          }),
        );
        const all = await store.archiveList();
        expect(all.map((w) => `${w.metadata.name}:${w.metadata.uid}`)).toEqual([
          "run:uid-second",
          "other:uid-other",
          "run:uid-run",
        ]);
        expect((await store.archiveList({ namespace: "ci" })).map((w) => w.metadata.name)).toEqual(["other"]);
        expect((await store.archiveList({ phases: ["Succeeded"] })).map((w) => w.metadata.uid)).toEqual([
          "uid-run",
        ]);
        expect(await store.archiveList({ limit: 1 })).toHaveLength(1);
        expect((await store.archiveGet("default", "run"))?.metadata.uid).toBe("uid-second");
        expect((await store.archiveGet("default", "run", "uid-run"))?.status?.phase).toBe("Succeeded");
        expect(await store.archiveGet("default", "private")).toBeUndefined();
        expect(await store.archiveGet("default", "run", "nope")).toBeUndefined();
      });

      it("deletes live workflows when their ttlStrategy expires, as Argo's TTL controller does", async () => {
        const store = await freshStore();
        const ttl = { secondsAfterSuccess: 10, secondsAfterFailure: 100, secondsAfterCompletion: 1000 };
        await store.put(makeWorkflow("ok", { phase: "Succeeded", finishedAt: iso(T0), ttlStrategy: ttl }));
        await store.put(makeWorkflow("bad", { phase: "Failed", finishedAt: iso(T0), ttlStrategy: ttl }));
        await store.put(makeWorkflow("err", { phase: "Error", finishedAt: iso(T0), ttlStrategy: ttl }));
        await store.put(makeWorkflow("busy", { phase: "Running", ttlStrategy: ttl }));
        await store.put(makeWorkflow("forever", { phase: "Succeeded", finishedAt: iso(T0) }));
        await store.appendLogs("default", "ok", [logLine("n", "kept", iso(T0))]);

        expect(await store.gc(T0 + 9_999)).toEqual({ deleted: [], archiveDeleted: [] });
        expect((await store.gc(T0 + 10_000)).deleted).toEqual([{ namespace: "default", name: "ok" }]);
        expect(await store.get("default", "ok")).toBeUndefined();
        // Still archived, logs still there.
        expect((await store.archiveGet("default", "ok"))?.status?.phase).toBe("Succeeded");
        expect((await collect(store.readLogs("default", "ok"))).map((l) => l.text)).toEqual(["kept"]);

        expect((await store.gc(T0 + 100_000)).deleted).toEqual([{ namespace: "default", name: "bad" }]);
        expect((await store.gc(T0 + 1_000_000)).deleted).toEqual([{ namespace: "default", name: "err" }]);
        expect((await store.list()).map((w) => w.metadata.name)).toEqual(["busy", "forever"]);
      });

      it("drops archived runs and their logs after the archive TTL", async () => {
        const hour = 3_600_000;
        const store = await freshStore({ archiveTTLMs: hour });
        await store.put(makeWorkflow("old", { phase: "Succeeded", finishedAt: iso(T0) }));
        await store.put(makeWorkflow("new", { phase: "Succeeded", finishedAt: iso(T0 + hour) }));
        await store.appendLogs("default", "old", [logLine("n", "old line", iso(T0))]);
        await store.delete("default", "old");
        expect((await collect(store.readLogs("default", "old"))).length).toBe(1);

        expect((await store.gc(T0 + hour - 1)).archiveDeleted).toEqual([]);
        const r = await store.gc(T0 + hour);
        expect(r.archiveDeleted).toEqual([{ namespace: "default", name: "old", uid: "uid-old" }]);
        expect(await store.archiveGet("default", "old")).toBeUndefined();
        expect(await collect(store.readLogs("default", "old"))).toEqual([]);
        expect((await store.archiveList()).map((w) => w.metadata.name)).toEqual(["new"]);
        // A live workflow is not touched by the archive TTL.
        expect((await store.get("default", "new"))?.status?.phase).toBe("Succeeded");
      });
    });

    describe("leases", () => {
      it("gives a workflow to one owner until the lease expires, with renewal and release", async () => {
        const store = await freshStore();
        expect(await store.getLease("default", "wf")).toBeUndefined();
        expect(await store.acquireLease("default", "wf", "a", 1000, T0)).toBe(true);
        expect(await store.acquireLease("default", "wf", "b", 1000, T0 + 10)).toBe(false);
        expect(await store.acquireLease("default", "wf", "a", 1000, T0 + 500)).toBe(true); // re-acquire extends
        expect(await store.getLease("default", "wf")).toEqual({ owner: "a", expiresAt: T0 + 1500 });
        expect(await store.renewLease("default", "wf", "a", 1000, T0 + 1000)).toBe(true);
        expect(await store.renewLease("default", "wf", "b", 1000, T0 + 1000)).toBe(false);
        expect(await store.acquireLease("default", "wf", "b", 1000, T0 + 1999)).toBe(false);
        expect(await store.acquireLease("default", "wf", "b", 1000, T0 + 2000)).toBe(true); // a's expired
        expect(await store.renewLease("default", "wf", "a", 1000, T0 + 2001)).toBe(false); // a lost it
        await store.releaseLease("default", "wf", "a"); // not a's: no effect
        expect((await store.getLease("default", "wf"))?.owner).toBe("b");
        await store.releaseLease("default", "wf", "b");
        expect(await store.getLease("default", "wf")).toBeUndefined();
        expect(await store.acquireLease("default", "wf", "a", 1000, T0 + 2002)).toBe(true);
        // Other workflows have their own leases.
        expect(await store.acquireLease("ci", "wf", "b", 1000, T0 + 2002)).toBe(true);
        await expectCode(store.acquireLease("default", "x", "", 1000, T0), "SKF-STORE-008");
      });

      it("lets exactly one of many concurrent contenders win, across two stores", async () => {
        const loc = await location();
        const a = await loc.open();
        const b = await loc.open();
        for (let round = 0; round < 5; round++) {
          const name = `contended-${round}`;
          const attempts = Array.from({ length: 10 }, (_, i) =>
            (i % 2 === 0 ? a : b).acquireLease("default", name, `owner-${i}`, 5000, T0),
          );
          const won = (await Promise.all(attempts)).filter(Boolean);
          expect(won).toHaveLength(1);
        }
      });

      it("removes expired leases on gc", async () => {
        const store = await freshStore();
        await store.acquireLease("default", "l1", "a", 1000, T0);
        await store.acquireLease("default", "l2", "a", 5000, T0);
        await store.gc(T0 + 1000);
        expect(await store.getLease("default", "l1")).toBeUndefined();
        expect(await store.getLease("default", "l2")).toEqual({ owner: "a", expiresAt: T0 + 5000 });
      });
    });

    describe("atomicity", () => {
      it("never shows a reader a torn workflow while two stores write concurrently", async () => {
        const loc = await location();
        const a = await loc.open();
        const b = await loc.open();
        const reader = await loc.open();
        const versioned = (writer: string, n: number): Workflow => {
          const wf = makeWorkflow("big", { message: `${writer}-${n}` });
          // Big enough that a torn write would be visible: every node carries the version.
          wf.status!.nodes = Object.fromEntries(
            Array.from({ length: 300 }, (_, i) => [
              `node-${i}`,
              {
                id: `node-${i}`,
                name: `node-${i}`,
                displayName: `${writer}-${n}`,
                type: "Pod",
                phase: "Running",
              },
            ]),
          );
          return wf;
        };
        await a.put(versioned("a", 0));
        let stop = false;
        let reads = 0;
        const readLoop = (async () => {
          while (!stop) {
            const wf = await reader.get("default", "big");
            const version = wf?.status?.message;
            expect(version).toBeDefined();
            const nodes = Object.values(wf!.status!.nodes!);
            expect(nodes).toHaveLength(300);
            expect(nodes.every((n) => n.displayName === version)).toBe(true);
            reads++;
          }
        })();
        const writes: Promise<void>[] = [];
        for (let n = 1; n <= 30; n++) {
          writes.push(a.put(versioned("a", n)));
          writes.push(b.put(versioned("b", n)));
        }
        await Promise.all(writes);
        stop = true;
        await readLoop;
        expect(reads).toBeGreaterThan(0);
        const final = await reader.get("default", "big");
        expect(["a-30", "b-30"]).toContain(final?.status?.message);
        // Every write bumped the version; coalesced puts share one.
        expect(Number(final?.metadata.resourceVersion)).toBeGreaterThanOrEqual(3);
      });

      it("applies puts of one store in call order", async () => {
        const store = await freshStore();
        const puts = Array.from({ length: 50 }, (_, i) =>
          store.put(makeWorkflow("seq", { message: String(i) })),
        );
        await Promise.all(puts);
        expect((await store.get("default", "seq"))?.status?.message).toBe("49");
      });
    });

    describe("node deltas", () => {
      /** Many puts that each name the nodes they changed: new nodes, a parent gaining children, edits, removals. */
      async function putDeltas(store: Store, wf: Workflow, puts: number, seed: number): Promise<void> {
        let rnd = seed;
        const next = (n: number) => {
          rnd = (rnd * 1103515245 + 12345) % 2147483648;
          return rnd % n;
        };
        const nodes = wf.status!.nodes!;
        const root = nodes[wf.metadata.name!]!;
        for (let p = 0; p < puts; p++) {
          const changed = new Set<string>();
          for (let k = 0; k < 3; k++) {
            const id = `${wf.metadata.name}-${p}-${k}`;
            nodes[id] = {
              id,
              name: `${wf.metadata.name}(${p}:${k})`,
              displayName: id,
              type: "Pod",
              phase: "Pending",
            };
            (root.children ??= []).push(id);
            changed.add(id).add(root.id);
          }
          const ids = Object.keys(nodes).filter((id) => id !== root.id);
          const edited = nodes[ids[next(ids.length)]!]!;
          edited.phase = "Succeeded";
          edited.outputs = { parameters: [{ name: "p", value: `v${p}` }] };
          changed.add(edited.id);
          if (p % 7 === 3) {
            const gone = ids[next(ids.length)]!;
            delete nodes[gone];
            root.children = root.children!.filter((c) => c !== gone);
            changed.add(gone);
          }
          if (p % 11 === 5) wf.spec.arguments = { parameters: [{ name: "round", value: String(p) }] };
          wf.status!.message = `put ${p}`;
          wf.status!.progress = `${p}/${puts}`;
          await store.put(wf, { changedNodes: [...changed] });
        }
      }

      const withoutVersion = (w: Workflow | undefined) =>
        w && { ...w, metadata: { ...w.metadata, resourceVersion: undefined, namespace: undefined } };

      it("stores what puts with changed nodes describe, for readers, watchers and after a re-open", async () => {
        const loc = await location();
        const writer = await loc.open();
        const reader = await loc.open();
        const wf = makeWorkflow("deltas");
        const events: StoreEvent[] = [];
        writer.watch((e) => events.push(e));
        await writer.put(wf);
        await putDeltas(writer, wf, 120, 7);
        const expected = withoutVersion(structuredClone(wf));
        expect(withoutVersion(await writer.get("default", "deltas"))).toEqual(expected);
        expect(withoutVersion(await reader.get("default", "deltas"))).toEqual(expected);
        expect(withoutVersion((await reader.list({ namePrefix: "deltas" }))[0])).toEqual(expected);
        await eventually(
          () => events.some((e) => e.workflow.status?.message === "put 119"),
          "the last put's event",
        );
        const last = events.find((e) => e.workflow.status?.message === "put 119")!;
        expect(withoutVersion(JSON.parse(JSON.stringify(last.workflow)) as Workflow)).toEqual(expected);
        await writer.close();
        const reopened = await loc.open();
        const got = await reopened.get("default", "deltas");
        expect(withoutVersion(got)).toEqual(expected);
        expect(Number(got?.metadata.resourceVersion)).toBeGreaterThanOrEqual(2);
        // The next writer starts from what it reads: its own puts build on the stored version.
        await reopened.put(got!);
        await putDeltas(reopened, got!, 30, 11);
        expect(withoutVersion(await reader.get("default", "deltas"))).toEqual(withoutVersion(got));
      });

      it("takes a put whole when it has nothing to apply the changed nodes to", async () => {
        const loc = await location();
        const first = await loc.open();
        const wf = makeWorkflow("first-delta");
        wf.status!.nodes!.extra = {
          id: "extra",
          name: "extra",
          displayName: "extra",
          type: "Pod",
          phase: "Running",
        };
        // A caller that names only one node on its first put still stores every node.
        await first.put(wf, { changedNodes: ["extra"] });
        expect(Object.keys((await first.get("default", "first-delta"))!.status!.nodes!).sort()).toEqual([
          "extra",
          "first-delta",
        ]);
        // Another run of the same name (another uid) does not build on the previous run's nodes.
        const rerun = makeWorkflow("first-delta", { uid: "uid-2" });
        await first.put(rerun, { changedNodes: [] });
        expect(Object.keys((await first.get("default", "first-delta"))!.status!.nodes!)).toEqual([
          "first-delta",
        ]);
        // A second store on the location has no base of its own either.
        const second = await loc.open();
        wf.status!.message = "from the second store";
        await second.put(wf, { changedNodes: [] });
        const got = await first.get("default", "first-delta");
        expect(got?.metadata.uid).toBe("uid-first-delta");
        expect(got?.status?.message).toBe("from the second store");
        expect(Object.keys(got!.status!.nodes!).sort()).toEqual(["extra", "first-delta"]);
      });

      it("reads the last complete put when the newest write was torn by a crash", async () => {
        const loc = await location();
        if (!loc.tearTail) return;
        const store = await loc.open();
        const wf = makeWorkflow("torn-delta");
        await store.put(wf);
        await putDeltas(store, wf, 25, 3);
        const expected = withoutVersion(structuredClone(wf));
        await store.close();
        await loc.tearTail("default", "torn-delta");
        const reopened = await loc.open();
        const got = await reopened.get("default", "torn-delta");
        expect(withoutVersion(got)).toEqual(expected);
        expect((await reopened.list()).map((w) => w.status?.message)).toEqual(["put 24"]);
        // Writing goes on from there, and the torn record stays ignored.
        await reopened.put(got!);
        await putDeltas(reopened, got!, 10, 5);
        await reopened.close();
        const third = await loc.open();
        expect(withoutVersion(await third.get("default", "torn-delta"))).toEqual(withoutVersion(got));
      });
    });

    describe("durability", () => {
      it("keeps everything across close and re-open", async () => {
        const loc = await location();
        const first = await loc.open();
        await first.put(makeWorkflow("kept", { phase: "Running", namespace: "ci" }));
        await first.put(makeWorkflow("done", { phase: "Succeeded", finishedAt: iso(T0) }));
        await first.appendLogs("ci", "kept", [logLine("n", "line", iso(T0))]);
        await first.memoCache().save("c", "k", {
          nodeID: "n",
          outputs: {},
          creationTimestamp: iso(T0),
          lastHitTimestamp: iso(T0),
        });
        expect(await first.acquireLease("ci", "kept", "controller-1", 60_000, T0)).toBe(true);
        await first.close();

        const second = await loc.open();
        expect((await second.get("ci", "kept"))?.status?.phase).toBe("Running");
        expect((await second.list()).map((w) => w.metadata.name)).toEqual(["kept", "done"]);
        expect((await collect(second.readLogs("ci", "kept"))).map((l) => l.text)).toEqual(["line"]);
        expect((await second.memoCache().load("c", "k"))?.nodeID).toBe("n");
        expect((await second.archiveGet("default", "done"))?.status?.phase).toBe("Succeeded");
        expect(await second.acquireLease("ci", "kept", "controller-2", 60_000, T0 + 1)).toBe(false);
        await second.put(makeWorkflow("kept", { phase: "Succeeded", namespace: "ci", finishedAt: iso(T0) }));
        expect((await second.get("ci", "kept"))?.metadata.resourceVersion).toBe("2");
      });

      it("refuses to work after close", async () => {
        const store = await freshStore();
        await store.close();
        await expectCode(store.put(makeWorkflow("late")), "SKF-STORE-005");
      });

      it("reports a failed write as a coded error and keeps the last good state readable", async () => {
        const before = makeWorkflow("precious", { phase: "Running", message: "before" });
        const after = makeWorkflow("precious", { phase: "Succeeded", message: "after", finishedAt: iso(T0) });
        const outcome = await getHarness().writeDuringFailure(before, after);
        expect(outcome.error).toBeInstanceOf(SkiffError);
        const e = outcome.error as SkiffError;
        expect(e.code).toBe("SKF-STORE-001");
        expect(e.hint).toBeTruthy();
        expect(e.message).toContain("precious");
        expect(outcome.readBack?.status?.message).toBe("before");
        expect(outcome.readAfterRecovery?.status?.message).toBe("before");
      });
    });
  });
}
