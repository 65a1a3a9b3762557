import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HostExecutor } from "../../../runtime/executors/host/index.js";
import type { LogLine } from "../../../runtime/interfaces/executor.js";
import type { Template } from "../../../runtime/spec/types.js";
import { BWRAP_AVAILABLE, SANDBOX_MODES, setup, stepRequest } from "./helpers.js";

const echo = (text: string): Template => ({
  name: "echo",
  container: { image: "alpine", command: ["echo", text] },
});

describe.each(SANDBOX_MODES)("host executor memory per step (sandbox %s)", (sandbox) => {
  let env: Awaited<ReturnType<typeof setup>>;
  let executor: HostExecutor;
  beforeAll(async () => {
    env = await setup(sandbox);
    executor = env.executor as HostExecutor;
  });
  afterAll(() => env.dispose());

  it("holds a step only until its result is taken, however many steps ran", async () => {
    const n = sandbox === "none" ? 200 : 40;
    for (let i = 0; i < n; i += 2) {
      // Two at a time, one with its logs read to the end and one whose logs are never taken.
      const read = await executor.start(stepRequest(echo(`read-${i}`)));
      const unread = await executor.start(stepRequest(echo(`unread-${i}`)));
      expect(executor.liveSteps).toBe(2);
      const lines: LogLine[] = [];
      for await (const l of executor.logs(read)) lines.push(l);
      expect(lines.map((l) => l.text)).toEqual([`read-${i}`]);
      await Promise.all([executor.wait(read), executor.wait(unread)]);
      expect(executor.liveSteps).toBe(0);
    }
  });

  it("lets a reader taken before the end drain every line after the step is forgotten", async () => {
    const h = await executor.start(
      stepRequest({
        name: "lines",
        container: { image: "alpine", command: ["sh", "-c", "for i in 1 2 3; do echo $i; done"] },
      }),
    );
    const reader = executor.logs(h)[Symbol.asyncIterator]();
    expect((await executor.wait(h)).phase).toBe("Succeeded");
    expect(executor.liveSteps).toBe(0);
    const texts: string[] = [];
    for (let r = await reader.next(); !r.done; r = await reader.next()) texts.push(r.value.text);
    expect(texts).toEqual(["1", "2", "3"]);
  });

  it("forgets a step once waited for: kill is a no-op and wait again is SKF-EXEC-005", async () => {
    const h = await executor.start(stepRequest(echo("once")));
    expect((await executor.wait(h)).phase).toBe("Succeeded");
    await expect(executor.kill(h, "late")).resolves.toBeUndefined();
    await expect(executor.wait(h)).rejects.toMatchObject({ code: "SKF-EXEC-005" });
    expect(executor.liveSteps).toBe(0);
  });

  it("still holds a running step for kill, then forgets it", async () => {
    const h = await executor.start(
      stepRequest({ name: "long", container: { image: "alpine", command: ["sleep", "600"] } }),
    );
    expect(executor.liveSteps).toBe(1);
    await executor.kill(h, "enough");
    expect(await executor.wait(h)).toMatchObject({ phase: "Failed", message: "enough" });
    expect(executor.liveSteps).toBe(0);
  });
});

describe.skipIf(!BWRAP_AVAILABLE)("host executor sandbox root folders (layoutDir)", () => {
  it("makes each sandbox's root in layoutDir, where new files outside /tmp land, and removes it", async () => {
    const base = await mkdtemp(path.join(tmpdir(), "skiff-layout-"));
    const layoutDir = path.join(base, "layouts");
    await mkdir(layoutDir);
    // The folder of a process that died without cleaning up: the next executor removes it.
    const dead = spawnSync("true").pid!;
    await mkdir(path.join(layoutDir, `skiff-${dead}-stale`, "fs-x"), { recursive: true });
    const env = await setup("bwrap", { layoutDir });
    try {
      const h = await env.executor.start(
        stepRequest({
          name: "writer",
          container: {
            image: "alpine",
            command: ["sh", "-c", "mkdir -p /out && echo x > /out/f && sleep 600"],
          },
        }),
      );
      // Named after the executor's step supervisor, which outlives a killed controller.
      const root = await until(async () => {
        const own = (await readdir(layoutDir)).find((n) => n.startsWith("skiff-") && !n.endsWith("-stale"));
        if (!own) return undefined;
        const roots = await readdir(path.join(layoutDir, own));
        const f = roots.length === 1 ? path.join(layoutDir, own, roots[0]!, "out", "f") : "";
        return f && existsSync(f) ? roots[0] : undefined;
      });
      expect(root).toMatch(/^fs-/);
      await env.executor.kill(h, "done");
      await env.executor.wait(h);
      await env.executor.cleanup();
      expect(await readdir(layoutDir)).toEqual([]);
    } finally {
      await env.dispose();
      await rm(base, { recursive: true, force: true });
    }
  });
});

/** Polls (without timing assertions) until `f` gives a value. */
async function until<T>(f: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setImmediate(r));
  }
}

describe.skipIf(!BWRAP_AVAILABLE)("host executor step folders kept for reuse", () => {
  it("never shows a step what an earlier one left in /tmp or /var/tmp, and keeps few folders", async () => {
    const env = await setup("bwrap");
    try {
      const sh = (script: string) => ({
        name: "t",
        container: { image: "alpine", command: ["sh", "-c", script] },
      });
      const list = "ls -A /tmp /var/tmp | tr -d '\\n'";
      for (let i = 0; i < 6; i++) {
        const dirty = await env.run(sh(`${list}; touch /tmp/left-${i} /var/tmp/left-${i}`), {
          captureResult: true,
        });
        expect(dirty.result.outputs.result).toBe("/tmp:/var/tmp:");
        const clean = await env.run(sh(list), { captureResult: true });
        expect(clean.result.outputs.result).toBe("/tmp:/var/tmp:");
      }
      const [root] = await readdir(path.join(env.dir, "work"));
      expect((await readdir(path.join(env.dir, "work", root!))).length).toBeLessThanOrEqual(4 + 4);
    } finally {
      await env.dispose();
    }
  });
});
