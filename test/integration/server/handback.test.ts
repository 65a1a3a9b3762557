import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Workflow } from "../../../runtime/spec/types.js";
import { openRunStore } from "../../../src/run/store.js";
import { bundleCli } from "../durable/helpers.js";
import { eventually, shellWorkflowBody, testConfig, testServer } from "./harness.js";

/** A `skiff server` process on a free port of the given state folder. */
async function serverProcess(
  cli: string,
  state: string,
): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null> }> {
  const env: NodeJS.ProcessEnv = { ...process.env, SKIFF_STATE_DIR: state, SKIFF_EXECUTOR: "host" };
  delete env.SKIFF_STORE;
  const child = spawn(
    process.execPath,
    [cli, "server", "--auth-mode", "server", "--port", "0", "--sandbox", "none"],
    {
      cwd: state,
      env,
    },
  );
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  let stderr = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on("data", (c: Buffer) => {
      stderr += c.toString();
      const m = /listening on (\S+)/.exec(stderr);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`server exited (${code}): ${stderr}`)));
  });
  return { child, url, exited };
}

const json = async (url: string, init?: RequestInit) => (await fetch(url, init)).json() as Promise<Workflow>;

describe("skiff server: shutdown and several servers on one store", () => {
  let cli = "";
  const dirs: string[] = [];
  beforeAll(async () => {
    cli = await bundleCli();
  }, 60_000);
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    if (cli) rmSync(dirname(cli), { recursive: true, force: true });
  });

  it("hands a running workflow back on SIGTERM; the next server resumes it without running its step again", async () => {
    const state = mkdtempSync(join(tmpdir(), "skiff-server-handback-"));
    dirs.push(state);
    const marks = join(state, "marks.txt");
    const first = await serverProcess(cli, state);
    const created = await json(`${first.url}/api/v1/workflows/default`, {
      method: "POST",
      body: shellWorkflowBody("handed-back", `echo started >> ${marks}; sleep 3; echo done >> ${marks}`),
    });
    expect(created.metadata.name).toBe("handed-back");
    await eventually(async () => (existsSync(marks) ? true : undefined));

    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    const store = await openRunStore(testConfig(state));
    try {
      // The lease is released at once, not left to expire, and the workflow is still open.
      expect(await store.getLease("default", "handed-back")).toBeUndefined();
      expect((await store.get("default", "handed-back"))?.status?.phase).toBe("Running");
    } finally {
      await store.close();
    }

    const second = await serverProcess(cli, state);
    try {
      const done = await eventually(async () => {
        const wf = await json(`${second.url}/api/v1/workflows/default/handed-back`);
        return wf.status?.phase === "Succeeded" ? wf : undefined;
      });
      expect(done.status?.phase).toBe("Succeeded");
      expect(readFileSync(marks, "utf8").split("\n").filter(Boolean)).toEqual(["started", "done"]);
    } finally {
      second.child.kill("SIGTERM");
      await second.exited;
    }
  });

  it("two servers on one store run every workflow once", async () => {
    const state = mkdtempSync(join(tmpdir(), "skiff-server-two-"));
    dirs.push(state);
    const ran = join(state, "ran.txt");
    const a = await testServer({ state, config: testConfig(state, { host: { sandbox: "none" } }) });
    const b = await testServer({ state, config: testConfig(state, { host: { sandbox: "none" } }) });
    try {
      const names = Array.from({ length: 8 }, (_, i) => `shared-${i}`);
      await Promise.all(
        names.map((name, i) =>
          fetch(`${(i % 2 ? a : b).server.url}/api/v1/workflows/default`, {
            method: "POST",
            body: shellWorkflowBody(name, `echo ${name} >> ${ran}`),
          }),
        ),
      );
      for (const name of names)
        await eventually(async () => {
          const wf = await json(`${a.server.url}/api/v1/workflows/default/${name}`);
          return wf.status?.phase === "Succeeded" ? true : undefined;
        });
      const lines = readFileSync(ran, "utf8").split("\n").filter(Boolean).sort();
      expect(lines).toEqual([...names].sort());
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
