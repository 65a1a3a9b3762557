import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHostExecutor } from "../../../runtime/executors/host/index.js";
import type { Executor, LogLine, StepRequest } from "../../../runtime/interfaces/executor.js";
import { groupAlive, SANDBOX_MODES } from "./helpers.js";

const FIXTURE = path.join(import.meta.dirname, "fixtures", "start-step.ts");

/** Waits (in real time, for real processes) until `check` holds. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.each(SANDBOX_MODES)("host executor attach after a killed controller (sandbox %s)", (sandbox) => {
  let dir: string;
  let workspace: string;
  let workDir: string;
  let recordsDir: string;
  const executors: Executor[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "skiff-attach-test-"));
    workspace = path.join(dir, "ws");
    workDir = path.join(dir, "work");
    recordsDir = path.join(dir, "records");
    mkdirSync(workspace);
  });
  afterAll(async () => {
    for (const e of executors) await e.cleanup();
    await rm(dir, { recursive: true, force: true });
    // Without a sandbox the steps' output files are the host's own /tmp paths.
    for (const id of ["asked", "away", "never", "running", "killed", "ended", "lost"])
      await rm(`/tmp/skiff-attach-${process.pid}-${sandbox}-${id}.txt`, { force: true });
  });

  /** A step that prints, waits for `go-<id>` in the workspace, writes an output file and exits 3. */
  const request = (id: string): StepRequest => {
    const out = `/tmp/skiff-attach-${process.pid}-${sandbox}-${id}.txt`;
    return {
      workflowName: "wf",
      namespace: "default",
      workflowUid: `uid-${sandbox}`,
      nodeId: `wf-${id}`,
      nodeName: `wf[0].${id}`,
      podName: `wf-waiter-${id}`,
      templateName: "waiter",
      template: {
        name: "waiter",
        container: {
          image: "alpine",
          command: [
            "sh",
            "-c",
            `echo started; while [ ! -f go-${id} ]; do sleep 0.05; done; echo finished; echo out-${id} > ${out}; exit 3`,
          ],
        },
        outputs: { parameters: [{ name: "p", valueFrom: { path: out } }] },
      },
      parameters: [],
      inputArtifacts: [],
      artifactKeyPrefix: `wf/wf-waiter-${id}`,
      captureResult: true,
      env: {},
      workspace,
      daemon: false,
      evaluate: () => undefined,
    };
  };
  const records = (req: StepRequest) => path.join(recordsDir, `wf-${req.workflowUid}`, req.nodeId);
  const statusLines = (req: StepRequest): Record<string, number>[] => {
    const file = path.join(records(req), "main.status");
    if (!existsSync(file)) return [];
    return readFileSync(file, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, number>);
  };

  /** Starts the step in a controller process, then SIGKILLs that process once the step has printed. */
  const startInKilledController = async (req: StepRequest): Promise<void> => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", FIXTURE, JSON.stringify({ sandbox, workDir, recordsDir }), JSON.stringify(req)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise((r) => child.on("exit", r));
    await until(() => out.includes("started\n"), "the controller to start the step");
    child.kill("SIGKILL");
    await exited;
  };

  const attach = async (req: StepRequest) => {
    const executor = createHostExecutor({ sandbox, workDir, recordsDir, killGracePeriodMs: 2000 });
    executors.push(executor);
    const handle = await executor.attach!(req);
    return { executor, handle };
  };

  const follow = async (executor: Executor, req: StepRequest, go?: string) => {
    const { handle } = { handle: await executor.attach!(req) };
    expect(handle).toBeDefined();
    const lines: LogLine[] = [];
    const reading = (async () => {
      for await (const l of executor.logs(handle!)) lines.push(l);
    })();
    if (go) writeFileSync(path.join(workspace, go), "");
    const result = await executor.wait(handle!);
    await reading;
    return { result, lines };
  };

  it("follows a step that still runs: its logs from the start, its end and its outputs", async () => {
    const req = request("running");
    await startInKilledController(req);
    const [started] = statusLines(req);
    expect(groupAlive(started!.pid!)).toBe(true);
    const executor = createHostExecutor({ sandbox, workDir, recordsDir, killGracePeriodMs: 2000 });
    executors.push(executor);
    const { result, lines } = await follow(executor, req, "go-running");
    expect(result.phase).toBe("Failed");
    expect(result.exitCode).toBe(3);
    expect(result.message).toBe("main: Error (exit code 3)");
    expect(result.outputs.result).toBe("started\nfinished");
    expect(result.outputs.parameters).toEqual([expect.objectContaining({ name: "p", value: "out-running" })]);
    expect(lines.map((l) => `${l.container} ${l.stream} ${l.text}`)).toEqual([
      "main stdout started",
      "main stdout finished",
    ]);
    expect(Date.parse(result.startedAt)).toBe(started!.startedAt);
    expect(groupAlive(started!.pid!)).toBe(false);
  });

  it("takes the recorded end of a step that finished while no controller ran", async () => {
    const req = request("away");
    await startInKilledController(req);
    writeFileSync(path.join(workspace, "go-away"), "");
    await until(() => statusLines(req).length === 2, "the step's end to be recorded");
    const executor = createHostExecutor({ sandbox, workDir, recordsDir, killGracePeriodMs: 2000 });
    executors.push(executor);
    const { result, lines } = await follow(executor, req);
    expect(result.phase).toBe("Failed");
    expect(result.exitCode).toBe(3);
    expect(result.outputs.exitCode).toBe("3");
    expect(result.outputs.result).toBe("started\nfinished");
    expect(result.outputs.parameters).toEqual([expect.objectContaining({ name: "p", value: "out-away" })]);
    expect(lines.map((l) => l.text)).toEqual(["started", "finished"]);
    expect(Date.parse(result.finishedAt)).toBeGreaterThanOrEqual(statusLines(req)[1]!.finishedAt!);
  });

  it("reports a step whose process is gone with no recorded end as an Error (a lost pod)", async () => {
    const req = request("lost");
    await startInKilledController(req);
    const [started] = statusLines(req);
    // The supervisor first, so that nothing records the step's end.
    process.kill(started!.supervisor!, "SIGKILL");
    try {
      process.kill(-started!.pid!, "SIGKILL");
    } catch {
      // gone with its supervisor (bwrap's --die-with-parent)
    }
    await until(() => !groupAlive(started!.pid!), "the step to be gone");
    const executor = createHostExecutor({ sandbox, workDir, recordsDir, killGracePeriodMs: 2000 });
    executors.push(executor);
    const { result, lines } = await follow(executor, req);
    expect(result.phase).toBe("Error");
    expect(result.message).toMatch(/^pod deleted: .*no exit status was recorded/);
    expect(lines.map((l) => l.text)).toEqual(["started"]);
  });

  it("starts a step that provably never started (issue 12 item 2), and can kill one it attached to", async () => {
    // Killed after the node was stored Running, before anything was asked of a supervisor: no records.
    const never = request("never");
    const first = await follow((await attach(never)).executor, never, "go-never");
    expect(first.result.phase).toBe("Failed");
    expect(first.result.message).toBe("main: Error (exit code 3)");
    expect(first.lines.map((l) => l.text)).toEqual(["started", "finished"]);
    // Killed with the start asked of a supervisor that died before it started the process.
    const asked = request("asked");
    const gone = spawnSync("true").pid;
    mkdirSync(path.dirname(records(asked)), { recursive: true });
    writeFileSync(`${records(asked)}.launch`, JSON.stringify({ supervisor: gone }));
    const second = await follow((await attach(asked)).executor, asked, "go-asked");
    expect(second.result.message).toBe("main: Error (exit code 3)");
    expect(statusLines(asked).at(-1)?.exitCode).toBe(3);

    const req = request("killed");
    await startInKilledController(req);
    const [started] = statusLines(req);
    const { executor, handle: h } = await attach(req);
    await executor.kill(h!, "Stopped with strategy 'Stop'");
    const result = await executor.wait(h!);
    expect(result.phase).toBe("Failed");
    expect(result.message).toBe("Stopped with strategy 'Stop'");
    expect(groupAlive(started!.pid!)).toBe(false);
  });
});
