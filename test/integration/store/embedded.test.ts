import { execFileSync, spawn } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { chmod, chown, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SkiffError } from "../../../runtime/errors/index.js";
import type { Workflow } from "../../../runtime/spec/types.js";
import { openEmbeddedStore } from "../../../runtime/store/embedded/index.js";
import { describeStoreContract, makeWorkflow, type StoreContractHarness } from "./contract.js";

const CHILD = resolve(import.meta.dirname, "embedded-child.ts");
const REPO = resolve(import.meta.dirname, "../../..");
const NOBODY = 65534;

/**
 * Distinct Node binaries to run children on: this one, the `node@24` devDependency, and the system's Node
 * (Node 20 on developer machines), so both supported majors meet on one store.
 */
function nodeBinaries(): string[] {
  const candidates = [
    process.execPath,
    resolve(REPO, "node_modules/node/bin/node"),
    ...(process.env.PATH ?? "")
      .split(delimiter)
      .filter((d) => d && !d.includes("node_modules"))
      .map((d) => join(d, "node")),
  ];
  const seen = new Map<string, string>();
  for (const c of candidates) {
    if (!existsSync(c)) continue;
    const real = realpathSync(c);
    if (seen.has(real)) continue;
    try {
      const version = execFileSync(c, ["--version"]).toString().trim();
      if (![...seen.values()].includes(version)) seen.set(real, version);
    } catch {
      // not runnable
    }
  }
  return [...seen.keys()];
}
const temps: string[] = [];

/** What a crash in the middle of appending a delta leaves: the record's start, no newline. */
async function tearJournal(dir: string, namespace: string, name: string): Promise<void> {
  const { appendFile } = await import("node:fs/promises");
  await appendFile(
    join(dir, "workflows", namespace, `${name}.jsonl`),
    '{"$delta":1,"head":{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","metadata":{"name":"',
  );
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "skiff-store-"));
  temps.push(dir);
  return dir;
}

afterAll(async () => {
  for (const d of temps) {
    await restoreWritable(d).catch(() => undefined);
    await rm(d, { recursive: true, force: true });
  }
});

async function restoreWritable(path: string): Promise<void> {
  const st = await stat(path);
  if (st.isDirectory()) {
    await chmod(path, 0o755);
    for (const e of await readdir(path)) await restoreWritable(join(path, e));
  } else await chmod(path, 0o644);
}

async function chownTree(path: string, uid: number): Promise<void> {
  await chown(path, uid, uid);
  const st = await stat(path);
  if (st.isDirectory()) for (const e of await readdir(path)) await chownTree(join(path, e), uid);
}

interface ChildRun {
  lines: string[];
  write(s: string): void;
  done: Promise<void>;
  firstLine: Promise<string>;
}

/** Runs embedded-child.ts in its own Node process (as `nobody` when we are root, so permissions apply). */
function runChild(
  mode: string,
  args: unknown,
  options: { node?: string; asNobody?: boolean } = {},
): ChildRun {
  const asNobody = options.asNobody && process.getuid?.() === 0;
  const child = spawn(
    options.node ?? process.execPath,
    ["--import", "tsx", CHILD, mode, JSON.stringify(args)],
    {
      cwd: REPO,
      stdio: ["pipe", "pipe", "pipe"],
      ...(asNobody ? { uid: NOBODY, gid: NOBODY, env: { ...process.env, HOME: tmpdir() } } : {}),
    },
  );
  const lines: string[] = [];
  let stderr = "";
  let buffered = "";
  let resolveFirst: (s: string) => void = () => undefined;
  const firstLine = new Promise<string>((r) => (resolveFirst = r));
  child.stdout.on("data", (d: Buffer) => {
    buffered += d.toString();
    let i;
    while ((i = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      if (lines.length === 0) resolveFirst(line);
      lines.push(line);
    }
  });
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<void>((res, rej) => {
    child.on("error", rej);
    child.on("exit", (code) =>
      code === 0 ? res() : rej(new Error(`child ${mode} exited ${code}: ${stderr}`)),
    );
  });
  return { lines, write: (s) => child.stdin.write(s), done, firstLine };
}

/** What the other kinds of writes reported in the last read-only run. */
let lastReadOnlyOthers: Record<string, string> = {};

const harness: StoreContractHarness = {
  async createLocation() {
    const dir = await tempDir();
    return {
      open: (o) => openEmbeddedStore({ dir, pollIntervalMs: 50, ...o }),
      tearTail: (namespace, name) => tearJournal(dir, namespace, name),
    };
  },
  async writeDuringFailure(before: Workflow, after: Workflow) {
    const dir = await tempDir();
    if (process.getuid?.() === 0) await chownTree(dir, NOBODY);
    const child = runChild("readonly", { dir, before, after }, { asNobody: true });
    await child.done;
    const out = JSON.parse(child.lines[child.lines.length - 1]!) as {
      error: { skiff: boolean; code?: string; message: string; hint?: string } | null;
      readBack: Workflow | undefined;
      others: Record<string, string>;
    };
    lastReadOnlyOthers = out.others;
    const error =
      out.error === null
        ? undefined
        : out.error.skiff
          ? new SkiffError(out.error.code!, out.error.message, { hint: out.error.hint })
          : new Error(out.error.message);
    await restoreWritable(dir);
    const healed = await openEmbeddedStore({ dir });
    const readAfterRecovery = await healed.get("default", before.metadata.name!);
    await healed.close();
    return { error, readBack: out.readBack, readAfterRecovery };
  },
};

describeStoreContract("embedded", () => harness);
// Again with a cache of two entries, so reads and writes go through the journal-reading paths.
describeStoreContract("embedded with a tiny cache", () => ({
  ...harness,
  async createLocation() {
    const dir = await tempDir();
    return {
      open: (o) => openEmbeddedStore({ dir, pollIntervalMs: 50, cacheEntries: 2, ...o }),
      tearTail: (namespace, name) => tearJournal(dir, namespace, name),
    };
  },
}));

describe("embedded store", () => {
  it("names the read-only folder in its hint", async () => {
    const outcome = await harness.writeDuringFailure(
      makeWorkflow("ro"),
      makeWorkflow("ro", { phase: "Failed" }),
    );
    expect((outcome.error as SkiffError).hint).toMatch(/read-only/);
    expect(lastReadOnlyOthers).toEqual({
      logs: "SKF-STORE-001",
      memo: "SKF-STORE-001",
      lease: "SKF-STORE-001",
    });
  });

  it("lets exactly one of two Node processes win each lease (on two Node majors when present)", async () => {
    const dir = await tempDir();
    const go = join(dir, "go");
    const count = 60;
    const T0 = Date.parse("2024-03-01T12:00:00Z");
    const nodes = nodeBinaries();
    const common = { dir, go, count, ttlMs: 10_000, now: T0 };
    const a = runChild("lease-race", { ...common, owner: "process-a" }, { node: nodes[0] });
    const b = runChild("lease-race", { ...common, owner: "process-b" }, { node: nodes[nodes.length - 1] });
    await Promise.all([a.firstLine, b.firstLine]);
    await writeFile(go, "");
    await Promise.all([a.done, b.done]);
    const outA = JSON.parse(a.lines[1]!) as { won: number[]; node: string };
    const outB = JSON.parse(b.lines[1]!) as { won: number[]; node: string };
    if (nodes.length > 1) expect(outA.node).not.toBe(outB.node);
    const wonA = outA.won;
    const wonB = outB.won;
    expect([...wonA, ...wonB].sort((x, y) => x - y)).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(wonA.filter((i) => wonB.includes(i))).toEqual([]);

    const store = await openEmbeddedStore({ dir });
    const holder = wonA.includes(0) ? "process-a" : "process-b";
    expect((await store.getLease("default", "wf-0"))?.owner).toBe(holder);
    expect(await store.acquireLease("default", "wf-0", "late", 10_000, T0 + 9_999)).toBe(false);
    expect(await store.acquireLease("default", "wf-0", "late", 10_000, T0 + 10_000)).toBe(true);
    await store.close();
  });

  it("keeps everything it writes private to its owner: folders 0700, files 0600", async () => {
    const parent = await tempDir();
    const dir = join(parent, "store");
    const store = await openEmbeddedStore({ dir });
    await store.put(makeWorkflow("secret"));
    await store.put(makeWorkflow("secret", { phase: "Succeeded" }));
    await store.appendLogs("default", "secret", [
      {
        nodeId: "n",
        container: "main",
        stream: "stdout",
        time: "2024-01-01T00:00:00Z",
        text: "token=hunter2",
      },
    ]);
    const now = new Date().toISOString();
    await store
      .memoCache("default")
      .save("cache", "key", { nodeID: "n", outputs: {}, creationTimestamp: now, lastHitTimestamp: now });
    await store.acquireLease("default", "secret", "me", 10_000, Date.now());
    await store.close();
    const open: string[] = [];
    const walk = async (p: string): Promise<void> => {
      const st = await stat(p);
      if ((st.mode & 0o077) !== 0) open.push(`${p} ${(st.mode & 0o777).toString(8)}`);
      if (st.isDirectory()) for (const n of await readdir(p)) await walk(join(p, n));
    };
    await walk(dir);
    expect(open).toEqual([]);
  });

  it("closes a store folder an older version left readable by every local user", async () => {
    const dir = await tempDir();
    await chmod(dir, 0o755);
    const store = await openEmbeddedStore({ dir });
    await store.close();
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it("recovers from a lock file left by a killed process", async () => {
    const dir = await tempDir();
    const store = await openEmbeddedStore({ dir, lockTimeoutMs: 5_000 });
    await store.put(makeWorkflow("locked"));
    // A dead process (pid far beyond pid_max) on this host holds the workflow's lock.
    const { hostname } = await import("node:os");
    await writeFile(join(dir, "workflows", "default", ".locked.lock"), `99999999@${hostname()} token`);
    await store.put(makeWorkflow("locked", { phase: "Succeeded" }));
    expect((await store.get("default", "locked"))?.status?.phase).toBe("Succeeded");
    await store.close();
  });

  it("reads the previous version when the newest record was cut short by a crash", async () => {
    const dir = await tempDir();
    const store = await openEmbeddedStore({ dir });
    await store.put(makeWorkflow("torn", { message: "v1" }));
    await store.close();
    const { appendFile } = await import("node:fs/promises");
    const journal = join(dir, "workflows", "default", "torn.jsonl");
    await appendFile(journal, '{"apiVersion":"argoproj.io/v1alpha1","kind":"Workf');
    const reopened = await openEmbeddedStore({ dir });
    expect((await reopened.get("default", "torn"))?.status?.message).toBe("v1");
    await reopened.put(makeWorkflow("torn", { message: "v2" }));
    await reopened.close();
    const third = await openEmbeddedStore({ dir });
    const got = await third.get("default", "torn");
    expect(got?.status?.message).toBe("v2");
    expect(got?.metadata.resourceVersion).toBe("2");
    await third.close();
  });

  it("compacts a workflow's journal while keeping the newest version", async () => {
    const dir = await tempDir();
    const store = await openEmbeddedStore({ dir });
    const journal = join(dir, "workflows", "default", "long.jsonl");
    const wf = makeWorkflow("long");
    wf.spec.arguments = { parameters: [{ name: "pad", value: "x".repeat(20_000) }] };
    for (let i = 1; i <= 40; i++) await store.put({ ...wf, status: { ...wf.status, message: String(i) } });
    // 40 records of ~20 KB would be ~800 KB without compaction.
    expect((await stat(journal)).size).toBeLessThan(300 * 1024);
    await store.close();
    const again = await openEmbeddedStore({ dir });
    const got = await again.get("default", "long");
    expect(got?.status?.message).toBe("40");
    expect(got?.metadata.resourceVersion).toBe("40");
    await again.close();
  });

  it("appends deltas for puts with changed nodes and bounds the journal by snapshots", async () => {
    const dir = await tempDir();
    const store = await openEmbeddedStore({ dir });
    const journal = join(dir, "workflows", "default", "big.jsonl");
    const wf = makeWorkflow("big");
    const root = wf.status!.nodes!.big!;
    for (let i = 0; i < 2000; i++) {
      const id = `big-${i}`;
      wf.status!.nodes![id] = { id, name: `big(${i})`, displayName: id, type: "Pod", phase: "Succeeded" };
      (root.children ??= []).push(id);
    }
    await store.put(wf);
    const snapshotBytes = (await stat(journal)).size;
    expect(snapshotBytes).toBeGreaterThan(200_000);
    for (let i = 0; i < 300; i++) {
      const id = `late-${i}`;
      wf.status!.nodes![id] = { id, name: `late(${i})`, displayName: id, type: "Pod", phase: "Running" };
      root.children!.push(id);
      await store.put(wf, { changedNodes: [id, root.id] });
      const size = (await stat(journal)).size;
      // Whole documents would add ~200 KB a put; deltas of a few hundred bytes, and a snapshot now and then.
      expect(size).toBeLessThan(5 * snapshotBytes);
    }
    const { readFile } = await import("node:fs/promises");
    const lines = (await readFile(journal, "utf8")).trimEnd().split("\n");
    expect(lines.filter((l) => l.startsWith('{"$delta":1,')).length).toBeGreaterThan(100);
    await store.close();
    const reopened = await openEmbeddedStore({ dir });
    const got = await reopened.get("default", "big");
    expect(got?.status?.nodes?.big?.children).toEqual(root.children);
    expect(Object.keys(got!.status!.nodes!).length).toBe(2301);
    expect(got?.metadata.resourceVersion).toBe("301");
    await reopened.close();
  });

  it("upgrades a format 1 folder and reads its journals", async () => {
    const dir = await tempDir();
    const { mkdir, readFile } = await import("node:fs/promises");
    await mkdir(join(dir, "workflows", "default"), { recursive: true });
    await writeFile(join(dir, "format.json"), '{"format":"skiff-embedded-store","version":1}\n');
    const old = {
      ...makeWorkflow("old", { message: "v1" }),
      metadata: { name: "old", resourceVersion: "4" },
    };
    await writeFile(join(dir, "workflows", "default", "old.jsonl"), JSON.stringify(old) + "\n");
    const store = await openEmbeddedStore({ dir });
    expect((await store.get("default", "old"))?.status?.message).toBe("v1");
    expect(JSON.parse(await readFile(join(dir, "format.json"), "utf8"))).toMatchObject({ version: 2 });
    await store.close();
  });

  it("bundles with esbuild and runs the bundle on every Node major present (20 and 24 here)", async () => {
    const { build } = await import("esbuild");
    const dir = await tempDir();
    const entry = join(dir, "entry.ts");
    await writeFile(
      entry,
      [
        `import { createStore } from ${JSON.stringify(resolve(REPO, "runtime/store/index.ts"))};`,
        "const store = await createStore(process.argv[2]);",
        'await store.put({ apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", metadata: { name: "b" }, spec: {} });',
        'const got = await store.get("default", "b");',
        "await store.close();",
        "console.log(got.metadata.resourceVersion);",
      ].join("\n"),
    );
    const out = join(dir, "bundle.mjs");
    const result = await build({
      entryPoints: [entry],
      outfile: out,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "silent",
      banner: {
        js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);',
      },
    });
    expect(result.errors).toEqual([]);
    for (const [i, node] of nodeBinaries().entries()) {
      const output = execFileSync(node, [out, join(dir, "store")])
        .toString()
        .trim();
      expect(output).toBe(String(i + 1));
    }
  });

  it("skips a log line cut short by a crash and keeps appending after it", async () => {
    const dir = await tempDir();
    const store = await openEmbeddedStore({ dir });
    const line = { nodeId: "n", container: "main", stream: "stdout" as const, time: "2024-01-01T00:00:00Z" };
    await store.appendLogs("default", "wf", [{ ...line, text: "before" }]);
    const { appendFile } = await import("node:fs/promises");
    await appendFile(join(dir, "logs", "default", "wf.jsonl"), '{"nodeId":"n","text":"tor');
    await store.appendLogs("default", "wf", [{ ...line, text: "after" }]);
    const texts: string[] = [];
    for await (const l of store.readLogs("default", "wf")) texts.push(l.text);
    expect(texts).toEqual(["before", "after"]);
    await store.close();
  });

  it("keeps names that are not file-name safe apart and inside the folder", async () => {
    const dir = await tempDir();
    const store = await openEmbeddedStore({ dir });
    for (const name of ["../escape", "Upper", "upper", ".hidden", "a/b"]) {
      await store.put(makeWorkflow(name, { namespace: "../ns" }));
    }
    expect((await store.list({ namespace: "../ns" })).map((w) => w.metadata.name)).toEqual([
      "../escape",
      ".hidden",
      "Upper",
      "a/b",
      "upper",
    ]);
    expect(await readdir(dir)).not.toContain("escape.json");
    await store.close();
  });

  it("removes temp files of crashed writes on gc once they are an hour old", async () => {
    const dir = await tempDir();
    const store = await openEmbeddedStore({ dir });
    await store.put(makeWorkflow("w"));
    const leftover = join(dir, "workflows", "default", ".w.jsonl.4242.1.tmp");
    await writeFile(leftover, "half a workflow");
    const { utimes } = await import("node:fs/promises");
    const mtime = Date.parse("2024-01-01T00:00:00Z");
    await utimes(leftover, mtime / 1000, mtime / 1000);
    await store.gc(mtime + 3_599_000);
    expect(existsSync(leftover)).toBe(true);
    await store.gc(mtime + 3_601_000);
    expect(existsSync(leftover)).toBe(false);
    expect((await store.get("default", "w"))?.metadata.name).toBe("w");
    await store.close();
  });

  it("refuses a folder written by a newer format", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "format.json"), JSON.stringify({ version: 99 }));
    const e = await openEmbeddedStore({ dir }).catch((err: unknown) => err);
    expect((e as SkiffError).code).toBe("SKF-STORE-010");
  });
});
