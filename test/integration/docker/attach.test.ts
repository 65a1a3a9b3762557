import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABELS } from "../../../runtime/executors/docker/index.js";
import type { LogLine, StepHandle, StepRequest } from "../../../runtime/interfaces/executor.js";
import type { Template } from "../../../runtime/spec/types.js";
import { BUSYBOX, docker, DOCKER_AVAILABLE, setup, stepRequest } from "./helpers.js";

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), "attach-child.ts");

/** Starts the requests in a separate process, waits until their main containers started, then SIGKILLs it. */
async function startAndKillController(requests: StepRequest[], workDir: string): Promise<void> {
  const plain = requests.map(({ evaluate: _e, artifactRepository: _r, ...r }) => r);
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, JSON.stringify(plain), workDir], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("ready")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`controller stand-in exited early (${code})`)));
  });
  child.kill("SIGKILL");
  await exited;
}

/** The step's containers on the engine, as `name-label:state`. */
async function stepContainers(r: StepRequest): Promise<string[]> {
  const filters = JSON.stringify({
    label: [`${LABELS.workflowUid}=${r.workflowUid}`, `${LABELS.node}=${r.nodeId}`],
  });
  const list = await docker.listContainers({ all: true, filters });
  return list.map((c) => `${c.Labels[LABELS.container]}:${c.State}`).sort();
}

async function follow(executor: { logs(h: StepHandle): AsyncIterable<LogLine> }, h: StepHandle) {
  const lines: LogLine[] = [];
  for await (const l of executor.logs(h)) lines.push(l);
  return lines;
}

describe.skipIf(!DOCKER_AVAILABLE)("Docker executor: re-attach after the controller died", () => {
  let env: Awaited<ReturnType<typeof setup>>;
  const uid = `attach-${randomBytes(4).toString("hex")}`;
  const request = (template: Template, extra: Partial<StepRequest> = {}) =>
    stepRequest(template, { workflowUid: uid, artifactRepository: env.repository, ...extra });
  beforeAll(async () => {
    env = await setup();
  });
  afterAll(() => env?.dispose());

  it("follows a step that still runs: logs from its start, its exit, outputs; then removes it", async () => {
    const r = request(
      {
        name: "long",
        container: {
          image: "busybox",
          command: ["sh", "-c", "echo before; sleep 3; echo after; echo -n 42 > /tmp/out"],
        },
        outputs: { parameters: [{ name: "out", valueFrom: { path: "/tmp/out" } }] },
      },
      { captureResult: true },
    );
    await startAndKillController([r], env.dir);
    // A SIGKILLed controller leaves its containers running: nothing removes them automatically.
    expect(await stepContainers(r)).toEqual(["main:running"]);
    const h = await env.executor.attach(r);
    expect(h).toBeDefined();
    const logs = follow(env.executor, h!);
    const result = await env.executor.wait(h!);
    expect(result.phase).toBe("Succeeded");
    expect(result.exitCode).toBe(0);
    expect(result.outputs.parameters?.[0]?.value).toBe("42");
    expect(result.outputs.result).toBe("before\nafter");
    expect((await logs).map((l) => l.text)).toEqual(["before", "after"]);
    expect(Date.parse(result.startedAt)).toBeLessThan(Date.parse(result.finishedAt));
    expect(await stepContainers(r)).toEqual([]);
  });

  it("takes the exit code, outputs and logs of a step that ended while no controller ran", async () => {
    const ok = request({
      name: "quick",
      container: { image: "busybox", command: ["sh", "-c", "sleep 1; echo -n done > /tmp/out; echo wrote"] },
      outputs: { parameters: [{ name: "out", valueFrom: { path: "/tmp/out" } }] },
    });
    const bad = request({
      name: "bad",
      container: { image: "busybox", command: ["sh", "-c", "sleep 1; echo failing >&2; exit 3"] },
    });
    await startAndKillController([ok, bad], env.dir);
    for (const r of [ok, bad]) {
      const [c] = await docker.listContainers({
        all: true,
        filters: JSON.stringify({ label: [`${LABELS.workflowUid}=${uid}`, `${LABELS.node}=${r.nodeId}`] }),
      });
      await docker.getContainer(c!.Id).wait({ condition: "not-running" });
      expect(await stepContainers(r)).toEqual(["main:exited"]);
    }
    const h1 = (await env.executor.attach(ok))!;
    const logs1 = follow(env.executor, h1);
    const r1 = await env.executor.wait(h1);
    expect(r1.phase).toBe("Succeeded");
    expect(r1.outputs.parameters?.[0]?.value).toBe("done");
    expect((await logs1).map((l) => `${l.stream}:${l.text}`)).toEqual(["stdout:wrote"]);
    const h2 = (await env.executor.attach(bad))!;
    const logs2 = follow(env.executor, h2);
    const r2 = await env.executor.wait(h2);
    expect(r2.phase).toBe("Failed");
    expect(r2.exitCode).toBe(3);
    expect(r2.message).toBe("main: Error (exit code 3)");
    expect((await logs2).map((l) => `${l.stream}:${l.text}`)).toEqual(["stderr:failing"]);
    expect(await stepContainers(ok)).toEqual([]);
    expect(await stepContainers(bad)).toEqual([]);
  });

  it("kills an attached step like one it started", async () => {
    const r = request({ name: "forever", container: { image: "busybox", command: ["sleep", "600"] } });
    await startAndKillController([r], env.dir);
    const h = (await env.executor.attach(r))!;
    await env.executor.kill(h, "workflow shutdown with strategy:  Terminate");
    const result = await env.executor.wait(h);
    expect(result.phase).toBe("Failed");
    expect(result.message).toBe("workflow shutdown with strategy:  Terminate");
    expect(await stepContainers(r)).toEqual([]);
  });

  it("follows a step with a sidecar: main's result, the sidecar stopped when main ends", async () => {
    const r = request({
      name: "withsidecar",
      container: { image: "busybox", command: ["sh", "-c", "sleep 2; echo main-done"] },
      sidecars: [{ name: "side", image: "busybox", command: ["sleep", "600"] }],
    });
    await startAndKillController([r], env.dir);
    expect(await stepContainers(r)).toEqual(["main:running", "pause:running", "side:running"]);
    const h = (await env.executor.attach(r))!;
    const result = await env.executor.wait(h);
    expect(result.phase).toBe("Succeeded");
    expect(result.containers?.map((c) => c.name)).toEqual(["main", "side"]);
    expect(await stepContainers(r)).toEqual([]);
  });

  it("starts afresh a step caught before its main container started", async () => {
    const r = request(
      { name: "fresh", container: { image: "busybox", command: ["sh", "-c", "echo ran"] } },
      { captureResult: true },
    );
    // What a process killed between creating main and starting it leaves.
    await docker.createContainer({
      Image: BUSYBOX,
      Cmd: ["sh", "-c", "echo stale"],
      Labels: {
        [LABELS.workflow]: r.workflowName,
        [LABELS.workflowUid]: r.workflowUid,
        [LABELS.node]: r.nodeId,
        [LABELS.container]: "main",
        [LABELS.executor]: "dead-process",
      },
    });
    expect(await stepContainers(r)).toEqual(["main:created"]);
    const h = (await env.executor.attach(r))!;
    const result = await env.executor.wait(h);
    expect(result.phase).toBe("Succeeded");
    expect(result.outputs.result).toBe("ran");
    expect(await stepContainers(r)).toEqual([]);
  });

  it("finds nothing to attach to for a step that never started a container", async () => {
    const r = request({ name: "never", container: { image: "busybox", command: ["true"] } });
    expect(await env.executor.attach(r)).toBeUndefined();
  });

  it("cleanup removes what a dead controller left of a recovered workflow", async () => {
    const local = await setup();
    const leftUid = `attach-left-${randomBytes(4).toString("hex")}`;
    try {
      const left = stepRequest(
        { name: "left", container: { image: "busybox", command: ["sleep", "600"] } },
        { workflowUid: leftUid },
      );
      const other = stepRequest(
        { name: "other", container: { image: "busybox", command: ["sleep", "600"] } },
        { workflowUid: leftUid },
      );
      const work = path.join(local.dir, "work");
      await startAndKillController([left, other], work);
      expect((await readdir(work)).filter((n) => n.startsWith("skiff-docker-"))).toHaveLength(1);
      const h = (await local.executor.attach(left))!;
      await local.executor.kill(h, "stop");
      await local.executor.wait(h);
      // `other` was not attached (its node had finished, say), yet it belongs to the recovered workflow.
      expect(await stepContainers(other)).toEqual(["main:running"]);
      await local.executor.cleanup();
      const all = await docker.listContainers({
        all: true,
        filters: JSON.stringify({ label: [`${LABELS.workflowUid}=${leftUid}`] }),
      });
      expect(all).toEqual([]);
      // The killed process's step folders go too.
      expect((await readdir(work)).filter((n) => n.startsWith("skiff-docker-"))).toEqual([]);
    } finally {
      await local.dispose();
    }
  });
});
