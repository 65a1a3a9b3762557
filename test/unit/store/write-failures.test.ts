import { readFile, rm, mkdtemp } from "node:fs/promises";
import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SkiffError } from "../../../runtime/errors/index.js";
import type { Workflow } from "../../../runtime/spec/types.js";
import { openEmbeddedStore, type EmbeddedStore } from "../../../runtime/store/embedded/index.js";

/**
 * The embedded store on a file system that fails writes (issue 12, item 3), injected under `node:fs/promises`:
 * once `failing` is set, a write to an opened file takes part of its data and then fails with ENOSPC, as a
 * disk that fills does. Every failure must reach the caller as SKF-STORE-001 naming the file, and nothing
 * half-written may stay behind.
 */
const disk = vi.hoisted(() => ({ failing: false }));

vi.mock("node:fs/promises", async (importOriginal) => {
  const real = await importOriginal<typeof fsp>();
  const open: typeof real.open = async (...args) => {
    const fh = await real.open(...args);
    const write = fh.write.bind(fh) as (...a: unknown[]) => Promise<{ bytesWritten: number }>;
    let cut = false;
    (fh as unknown as { write: unknown }).write = async (...a: unknown[]) => {
      if (!disk.failing) return write(...a);
      const buf = a[0];
      if (!cut && Buffer.isBuffer(buf) && buf.length > 1) {
        // The first write takes half of what it was given, silently; the next one fails.
        cut = true;
        return write(buf, 0, Math.floor(buf.length / 2));
      }
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), {
        code: "ENOSPC",
        errno: -28,
        syscall: "write",
      });
    };
    return fh;
  };
  return { ...real, open, default: { ...real, open } };
});

function workflow(phase: string, nodes: number): Workflow {
  const status: NonNullable<Workflow["status"]> = { phase: phase as "Running", nodes: {} };
  for (let i = 0; i < nodes; i++)
    status.nodes![`w-${i}`] = {
      id: `w-${i}`,
      name: `w[${i}]`,
      displayName: `w[${i}]`,
      type: "Pod",
      phase: "Running",
    };
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: { name: "w", namespace: "default", uid: "u1" },
    spec: { entrypoint: "main", templates: [] },
    status,
  } as unknown as Workflow;
}

describe("the embedded store when writes fail", () => {
  let dir: string;
  let store: EmbeddedStore;
  beforeEach(async () => {
    disk.failing = false;
    dir = await mkdtemp(join(tmpdir(), "skiff-write-failures-"));
    store = await openEmbeddedStore({ dir: join(dir, "store") });
  });
  afterEach(async () => {
    disk.failing = false;
    await store.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it("appendLogs fails with SKF-STORE-001 naming the log file, and keeps only whole lines", async () => {
    const line = (n: number) => ({
      nodeId: "w-1",
      container: "main",
      stream: "stdout" as const,
      text: `line ${n}`,
      time: "t",
    });
    await store.appendLogs("default", "w", [line(1), line(2)]);
    const file = join(dir, "store", "logs", "default", "w.jsonl");
    const before = await readFile(file, "utf8");
    disk.failing = true;
    const e = await store.appendLogs("default", "w", [line(3), line(4)]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SkiffError);
    expect((e as SkiffError).code).toBe("SKF-STORE-001");
    expect((e as SkiffError).message).toContain(file);
    expect((e as SkiffError).hint).toMatch(/full/);
    // The half line the first write took is taken back.
    expect(await readFile(file, "utf8")).toBe(before);
    disk.failing = false;
    await store.appendLogs("default", "w", [line(5)]);
    const texts: string[] = [];
    for await (const l of store.readLogs("default", "w")) texts.push(l.text);
    expect(texts).toEqual(["line 1", "line 2", "line 5"]);
  });

  it("put fails with SKF-STORE-001 naming the journal, and the stored workflow keeps its last saved state", async () => {
    await store.put(workflow("Running", 3));
    const journal = join(dir, "store", "workflows", "default", "w.jsonl");
    const before = await fsp.readFile(journal, "utf8");
    disk.failing = true;
    const done = workflow("Succeeded", 3);
    const e = await store.put(done, { changedNodes: ["w-0"] }).catch((x: unknown) => x);
    expect((e as SkiffError).code).toBe("SKF-STORE-001");
    expect((e as SkiffError).message).toContain(journal);
    expect(await fsp.readFile(journal, "utf8")).toBe(before);
    disk.failing = false;
    expect((await store.get("default", "w"))?.status?.phase).toBe("Running");
  });
});
