import { describe, expect, it } from "vitest";
import type { Workflow } from "../../../runtime/spec/types.js";
import {
  checkExpectedVersion,
  matchesQuery,
  shouldArchive,
  summarize,
  ttlExpiresAt,
  workflowKey,
} from "../../../runtime/store/common.js";
import { encodeSegment } from "../../../runtime/store/embedded/files.js";
import { KeyedWriteQueue } from "../../../runtime/store/queue.js";
import { SkiffError } from "../../../runtime/errors/index.js";

function wf(
  phase: string,
  extra: Partial<Workflow["spec"]> = {},
  finishedAt = "2024-01-01T00:00:00Z",
): Workflow {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: { name: "w", labels: { team: "a" } },
    spec: { ...extra },
    status: { phase: phase as never, finishedAt },
  };
}
const F = Date.parse("2024-01-01T00:00:00Z");

describe("ttlExpiresAt (Argo's TTL controller)", () => {
  const ttl = { secondsAfterSuccess: 1, secondsAfterFailure: 2, secondsAfterCompletion: 3 };
  it("picks the phase's own TTL, else secondsAfterCompletion", () => {
    expect(ttlExpiresAt(wf("Succeeded", { ttlStrategy: ttl }))).toBe(F + 1000);
    expect(ttlExpiresAt(wf("Failed", { ttlStrategy: ttl }))).toBe(F + 2000);
    // Argo's Failed() is the Failed phase only: an Error run falls through to secondsAfterCompletion.
    expect(ttlExpiresAt(wf("Error", { ttlStrategy: ttl }))).toBe(F + 3000);
    expect(
      ttlExpiresAt(wf("Succeeded", { ttlStrategy: { secondsAfterFailure: 2, secondsAfterCompletion: 3 } })),
    ).toBe(F + 3000);
    expect(ttlExpiresAt(wf("Failed", { ttlStrategy: { secondsAfterSuccess: 1 } }))).toBeUndefined();
  });
  it("keeps running, TTL-less and unfinished workflows", () => {
    expect(ttlExpiresAt(wf("Running", { ttlStrategy: ttl }))).toBeUndefined();
    expect(ttlExpiresAt(wf("Succeeded"))).toBeUndefined();
    expect(ttlExpiresAt(wf("Succeeded", { ttlStrategy: ttl }, ""))).toBeUndefined();
  });
  it("honours a zero TTL", () => {
    expect(ttlExpiresAt(wf("Succeeded", { ttlStrategy: { secondsAfterSuccess: 0 } }))).toBe(F);
  });
});

describe("store helpers", () => {
  it("archives completed runs unless labelled out", () => {
    expect(shouldArchive(wf("Succeeded"))).toBe(true);
    expect(shouldArchive(wf("Running"))).toBe(false);
    const out = wf("Failed");
    out.metadata.labels = { "workflows.argoproj.io/archive-strategy": "false" };
    expect(shouldArchive(out)).toBe(false);
  });

  it("matches queries on every filter", () => {
    const s = summarize(wf("Running"));
    expect(s.namespace).toBe("default");
    expect(matchesQuery(s, { phases: ["Running"], labelSelector: { team: "a" }, namePrefix: "w" })).toBe(
      true,
    );
    expect(matchesQuery(s, { phases: [] })).toBe(true);
    expect(matchesQuery(s, { labelSelector: { team: "b" } })).toBe(false);
    expect(matchesQuery(s, { namespace: "ci" })).toBe(false);
    expect(matchesQuery(s, { namePrefix: "x" })).toBe(false);
  });

  it("requires a name and checks resource versions", () => {
    const nameless = wf("Running");
    delete nameless.metadata.name;
    expect(() => workflowKey(nameless)).toThrow(SkiffError);
    expect(() => checkExpectedVersion({ namespace: "d", name: "n" }, "", undefined)).not.toThrow();
    expect(() => checkExpectedVersion({ namespace: "d", name: "n" }, "", "1")).toThrow(/resourceVersion 1/);
    expect(() => checkExpectedVersion({ namespace: "d", name: "n" }, "2", "2")).not.toThrow();
  });

  it("encodes names into safe, distinct path segments", () => {
    expect(encodeSegment("my-wf.v2")).toBe("my-wf.v2");
    expect(encodeSegment("..")).toBe("_2e.");
    expect(encodeSegment("a/b")).toBe("a_2fb");
    expect(encodeSegment("A")).not.toBe(encodeSegment("a"));
    expect(encodeSegment("")).toBe("_");
    expect(encodeSegment("ü")).toBe("_c3_bc");
  });
});

describe("KeyedWriteQueue", () => {
  it("runs one key's writes in order and coalesces those waiting together", async () => {
    const written: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const q = new KeyedWriteQueue<string>(async (_k, p) => {
      written.push(p);
      if (p === "1") await gate;
    });
    const first = q.push("k", "1", true);
    const rest = ["2", "3", "4"].map((p) => q.push("k", p, true));
    const conditional = q.push("k", "5", false);
    const after = q.push("k", "6", true);
    release();
    await Promise.all([first, ...rest, conditional, after]);
    expect(written).toEqual(["1", "4", "5", "6"]);
  });

  it("rejects every caller of a failed write, and goes on with the next", async () => {
    const q = new KeyedWriteQueue<string>((_k, p) =>
      p === "bad" ? Promise.reject(new Error("boom")) : Promise.resolve(),
    );
    const bad = q.push("k", "bad", false);
    const good = q.push("k", "good", false);
    await expect(bad).rejects.toThrow("boom");
    await expect(good).resolves.toBeUndefined();
  });

  it("merges payloads when asked", async () => {
    const written: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const q = new KeyedWriteQueue<string>(
      async (_k, p) => {
        written.push(p);
        await gate;
      },
      (a, b) => a + b,
    );
    const all = [q.push("k", "a", true), q.push("k", "b", true), q.push("k", "c", true)];
    release();
    await Promise.all(all);
    expect(written).toEqual(["a", "bc"]);
  });
});
