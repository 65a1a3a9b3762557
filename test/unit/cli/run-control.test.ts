import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openEmbeddedStore } from "../../../runtime/store/index.js";
import type { Store } from "../../../runtime/interfaces/store.js";
import type { Workflow } from "../../../runtime/spec/types.js";
import {
  listRuns,
  readRun,
  sendCommand,
  watchCommands,
  type ControlCommand,
} from "../../../src/run/control.js";
import { claimWorkflow, leaseAlive, LEASE_TTL_MS, newOwnerId } from "../../../src/run/store.js";

const wf = (phase: string, name = "w1"): Workflow => ({
  apiVersion: "argoproj.io/v1alpha1",
  kind: "Workflow",
  metadata: { name, namespace: "default" },
  spec: {},
  status: { phase: phase as never },
});

const stores: Store[] = [];
async function store(): Promise<Store> {
  const s = await openEmbeddedStore({ dir: mkdtempSync(join(tmpdir(), "skiff-control-")), durable: false });
  stores.push(s);
  return s;
}
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

describe("commands through the store", () => {
  it("delivers each command once to the owning process and removes its record", async () => {
    const s = await store();
    await s.put(wf("Running"));
    await claimWorkflow(s, "default", "w1", newOwnerId());
    const got: ControlCommand[] = [];
    const delivered = new Promise<void>((resolve) => {
      const stop = watchCommands(s, "default", "w1", (c) => {
        got.push(c);
        if (got.length === 2) {
          stop();
          resolve();
        }
      });
    });
    await sendCommand(s, "default", "w1", { action: "suspend" });
    await sendCommand(s, "default", "w1", { action: "resume", nodeFieldSelector: "displayName=approve" });
    await delivered;
    expect(got).toEqual([
      { action: "suspend" },
      { action: "resume", nodeFieldSelector: "displayName=approve" },
    ]);
    // Command records are never listed as workflows, and are gone once applied.
    expect((await listRuns(s)).map((w) => w.metadata.name)).toEqual(["w1"]);
    await expect.poll(async () => (await s.list({ namespace: "skiff-commands" })).length).toBe(0);
  });

  it("refuses commands for unknown, finished or unowned workflows", async () => {
    const s = await store();
    await expect(sendCommand(s, "default", "nope", { action: "stop" })).rejects.toMatchObject({
      code: "SKF-RUN-003",
    });
    await s.put(wf("Succeeded"));
    await claimWorkflow(s, "default", "w1", newOwnerId());
    await expect(sendCommand(s, "default", "w1", { action: "stop" })).rejects.toMatchObject({
      code: "SKF-RUN-004",
    });
    await s.put(wf("Running", "w2"));
    await expect(sendCommand(s, "default", "w2", { action: "stop" })).rejects.toMatchObject({
      code: "SKF-RUN-004",
    });
    expect((await readRun(s, "default", "w2")).status?.phase).toBe("Running");
  });
});

describe("leases", () => {
  it("names the owner when another live process holds the workflow", async () => {
    const s = await store();
    // pid 1 is alive on every host: a lease held by it cannot be taken.
    const other = `${(await import("node:os")).hostname()}:1:abcd`;
    expect(await s.acquireLease("default", "w1", other, LEASE_TTL_MS, Date.now())).toBe(true);
    await expect(claimWorkflow(s, "default", "w1", newOwnerId())).rejects.toMatchObject({
      code: "SKF-RUN-005",
      message: expect.stringContaining("process 1 on"),
    });
  });

  it("takes over at once a lease whose process on this host is gone", async () => {
    const s = await store();
    const dead = `${(await import("node:os")).hostname()}:999999999:dead`;
    expect(await s.acquireLease("default", "w1", dead, LEASE_TTL_MS, Date.now())).toBe(true);
    expect(leaseAlive(await s.getLease("default", "w1"))).toBe(false);
    const me = newOwnerId();
    await claimWorkflow(s, "default", "w1", me);
    expect((await s.getLease("default", "w1"))?.owner).toBe(me);
  });

  it("treats a lease of another host as alive until it expires", () => {
    const now = 1_000_000;
    expect(leaseAlive({ owner: "elsewhere:12:ab", expiresAt: now + 1 }, now)).toBe(true);
    expect(leaseAlive({ owner: "elsewhere:12:ab", expiresAt: now - 1 }, now)).toBe(false);
    expect(leaseAlive(undefined, now)).toBe(false);
  });
});
