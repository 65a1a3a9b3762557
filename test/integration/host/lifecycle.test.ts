import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HostExecutor } from "../../../runtime/executors/host/index.js";
import { groupAlive, ManualClock, SANDBOX_MODES, setup, stepRequest } from "./helpers.js";

/** Waits (in real time, for a real process) until `check` holds. */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.each(SANDBOX_MODES)("host executor lifecycle (sandbox %s)", (sandbox) => {
  let env: Awaited<ReturnType<typeof setup>>;
  let clock: ManualClock;
  beforeAll(async () => {
    clock = new ManualClock();
    env = await setup(sandbox, { clock });
  });
  afterAll(() => env.dispose());

  // Known once the supervisor has started them.
  const pids = (ex: unknown): number[] =>
    [...(ex as { steps: Map<string, { pod: { processes: Set<{ pid?: number }> } }> }).steps.values()].flatMap(
      (s) => [...s.pod.processes].flatMap((p) => (p.pid === undefined ? [] : [p.pid])),
    );

  it("kills the whole process group at the deadline, with Argo's message", async () => {
    const req = stepRequest(
      { name: "slow", container: { image: "alpine", command: ["sh", "-c", "sleep 60 & sleep 60 & wait"] } },
      { deadline: clock.now() + 5_000 },
    );
    const h = await env.executor.start(req);
    await until(() => pids(env.executor).length > 0, "the step to start");
    const [pgid] = pids(env.executor);
    await until(() => groupAlive(pgid!), "the group");
    clock.advance(5_000);
    const result = await env.executor.wait(h);
    expect(result.phase).toBe("Failed");
    expect(result.message).toBe("Pod was active on the node longer than the specified deadline");
    expect(groupAlive(pgid!)).toBe(false);
  });

  it("escalates to SIGKILL after the grace period when SIGTERM is ignored", async () => {
    const req = stepRequest({
      name: "stubborn",
      container: {
        image: "alpine",
        command: ["sh", "-c", "trap '' TERM; echo up; while :; do sleep 0.1; done"],
      },
    });
    const h = await env.executor.start(req);
    const lines: string[] = [];
    const logs = (async () => {
      for await (const l of env.executor.logs(h)) lines.push(l.text);
    })();
    await until(() => lines.includes("up"), "the trap to be set");
    const [pgid] = pids(env.executor);
    const killed = env.executor.kill(h, "Stopped with strategy 'Stop'");
    await new Promise((r) => setTimeout(r, 300));
    expect(groupAlive(pgid!)).toBe(true);
    clock.advance(2_000);
    await killed;
    await logs;
    const result = await env.executor.wait(h);
    expect(result.phase).toBe("Failed");
    expect(result.message).toBe("Stopped with strategy 'Stop'");
    expect(groupAlive(pgid!)).toBe(false);
  });

  it("runs init containers first, then main; an init failure is an Error", async () => {
    const ok = await env.run(
      {
        name: "init",
        initContainers: [
          { name: "prep", image: "alpine", command: ["sh", "-c", "echo prepared > /tmp/prep"] },
        ],
        container: { image: "alpine", command: ["cat", "/tmp/prep"] },
      },
      { captureResult: true },
    );
    expect(ok.result.phase).toBe("Succeeded");
    if (sandbox !== "none") expect(ok.result.outputs.result).toBe("prepared");
    expect(ok.result.containers?.map((c) => [c.name, c.phase])).toEqual([
      ["prep", "Succeeded"],
      ["main", "Succeeded"],
    ]);
    const bad = await env.run({
      name: "init",
      initContainers: [{ name: "prep", image: "alpine", command: ["sh", "-c", "exit 2"] }],
      container: { image: "alpine", command: ["sh", "-c", "echo never"] },
    });
    expect(bad.result.phase).toBe("Error");
    expect(bad.result.message).toBe("prep: Error (exit code 2)");
    expect(bad.logs.some((l) => l.text === "never")).toBe(false);
  });

  it("starts sidecars before main and kills them when main ends", async () => {
    const { result, logs } = await env.run({
      name: "side",
      sidecars: [
        { name: "helper", image: "alpine", command: ["sh", "-c", "echo sidecar-up; exec sleep 60"] },
      ],
      container: { image: "alpine", command: ["sh", "-c", "sleep 0.3; echo main-done"] },
    });
    expect(result.phase).toBe("Succeeded");
    const helper = result.containers?.find((c) => c.name === "helper");
    expect([137, 143]).toContain(helper?.exitCode);
    expect(logs.find((l) => l.text === "sidecar-up")?.container).toBe("helper");
  });

  it("runs containerSet containers in dependency order and reports each", async () => {
    const { result, logs } = await env.run(
      {
        name: "set",
        containerSet: {
          volumeMounts: [{ name: "workspace", mountPath: "/workspace" }],
          containers: [
            {
              name: "main",
              image: "alpine",
              command: ["sh", "-c", "echo main; cat /workspace/order 2>/dev/null || true"],
              dependencies: ["b"],
            },
            { name: "b", image: "alpine", command: ["sh", "-c", "echo b"], dependencies: ["a"] },
            { name: "a", image: "alpine", command: ["sh", "-c", "echo a"] },
          ],
        },
      },
      { captureResult: true },
    );
    expect(result.phase).toBe("Succeeded");
    expect(logs.filter((l) => l.stream === "stdout").map((l) => `${l.container}:${l.text}`)).toEqual([
      "a:a",
      "b:b",
      "main:main",
    ]);
    expect(result.outputs.result).toBe("main");
    expect(result.containers?.map((c) => c.name).sort()).toEqual(["a", "b", "main"]);
    const failed = await env.run({
      name: "set",
      containerSet: {
        containers: [
          { name: "a", image: "alpine", command: ["sh", "-c", "exit 5"] },
          { name: "main", image: "alpine", command: ["echo", "never"], dependencies: ["a"] },
        ],
      },
    });
    expect(failed.result.phase).toBe("Failed");
    expect(failed.result.message).toBe("a: Error (exit code 5)");
    expect(failed.result.containers?.find((c) => c.name === "main")?.exitCode).toBeNull();
  });

  it("throws a coded error at start for an unknown image without command, or a missing tool", async () => {
    await expect(
      env.executor.start(stepRequest({ name: "x", container: { image: "argoproj/argosay:v2" } })),
    ).rejects.toMatchObject({ code: "SKF-EXEC-001", hint: expect.stringContaining("images") });
    await expect(
      env.executor.start(
        stepRequest({ name: "x", container: { image: "alpine", command: ["no-such-tool-xyz"] } }),
      ),
    ).rejects.toMatchObject({ code: "SKF-EXEC-002" });
    await expect(
      env.executor.start(stepRequest({ name: "x", resource: { action: "create", manifest: "{}" } })),
    ).rejects.toMatchObject({ code: "SKF-EXEC-003" });
    const cyclic = {
      containers: [
        { name: "a", image: "alpine", command: ["true"], dependencies: ["b"] },
        { name: "b", image: "alpine", command: ["true"], dependencies: ["a"] },
      ],
    };
    await expect(env.executor.start(stepRequest({ name: "x", containerSet: cyclic }))).rejects.toMatchObject({
      code: "SKF-EXEC-007",
      message: expect.stringContaining("cycle"),
    });
  });

  it("runs an image's entrypoint from the images config, mapping tools onto host ones", async () => {
    const ex = await setup(sandbox, {
      images: {
        "example/say:v1": { entrypoint: ["/say"], cmd: ["hello"], host: { commands: { "/say": "echo" } } },
      },
    });
    try {
      const a = await ex.run(
        { name: "say", container: { image: "example/say:v1" } },
        { captureResult: true },
      );
      expect(a.result.outputs.result).toBe("hello");
      const b = await ex.run(
        { name: "say", container: { image: "example/say:v1", args: ["bye"] } },
        { captureResult: true },
      );
      expect(b.result.outputs.result).toBe("bye");
    } finally {
      await ex.dispose();
    }
  });
});

describe.each(SANDBOX_MODES)("host executor daemons (sandbox %s)", (sandbox) => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    env = await setup(sandbox, { readinessPollMs: 50 });
  });
  afterAll(() => env.dispose());

  it("is ready once its readinessProbe passes, at 127.0.0.1, and is killed on request", async () => {
    const port = 20000 + (process.pid % 20000) + (sandbox === "none" ? 0 : 1);
    const server = `require('http').createServer((q,s)=>s.end('ok')).listen(${port},()=>console.log('listening'))`;
    const req = stepRequest(
      {
        name: "daemon",
        daemon: true,
        container: {
          image: "node",
          command: ["node", "-e", `setTimeout(()=>{${server}}, 300)`],
          readinessProbe: { httpGet: { path: "/", port } },
        },
      },
      { daemon: true },
    );
    const h = await env.executor.start(req);
    const ready = await env.executor.ready(h);
    expect(ready.ip).toBe("127.0.0.1");
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(await res.text()).toBe("ok");
    await env.executor.kill(h, "daemon no longer needed");
    const result = await env.executor.wait(h);
    expect(result.phase).toBe("Failed");
    expect(result.message).toBe("daemon no longer needed");
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });

  it("returns a handle at once, so a daemon that never gets ready can be killed", async () => {
    const req = stepRequest(
      {
        name: "daemon",
        daemon: true,
        container: {
          image: "alpine",
          command: ["sleep", "600"],
          readinessProbe: { exec: { command: ["false"] } },
        },
      },
      { daemon: true },
    );
    const h = await env.executor.start(req);
    const ready = env.executor.ready(h);
    await env.executor.kill(h, "stopped");
    await expect(ready).rejects.toMatchObject({ code: "SKF-EXEC-008" });
    expect(await env.executor.wait(h)).toMatchObject({ phase: "Failed", message: "stopped" });
  });

  it("rejects ready() when the daemon exits before it is ready", async () => {
    const req = stepRequest(
      {
        name: "daemon",
        daemon: true,
        container: {
          image: "alpine",
          command: ["sh", "-c", "exit 1"],
          readinessProbe: { exec: { command: ["false"] } },
        },
      },
      { daemon: true },
    );
    const h = await env.executor.start(req);
    await expect(env.executor.ready(h)).rejects.toMatchObject({ code: "SKF-EXEC-008" });
    expect((await env.executor.wait(h)).phase).toBe("Failed");
  });
});

export type { HostExecutor };
