import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABELS } from "../../../runtime/executors/docker/index.js";
import type { Workflow } from "../../../runtime/spec/types.js";
import { DOCKER_AVAILABLE } from "../docker/helpers.js";
import { bundleCli, cli, newTrial, processesWith, ROOT, start, stored, type Trial } from "./helpers.js";

const FIXTURE = join(ROOT, "test/integration/durable/fixtures/long-step.yaml");
const docker = new Docker();

/** One executor the fault is tried with: its config, and what of the long step is still running. */
interface ExecutorCase {
  name: string;
  available: boolean;
  config: string;
  /** How long the long step sleeps: unique per case, so `ps` finds its step only. */
  seconds: string;
  /** What of the workflow's steps still runs (`wf` unknown) or is still there (`wf` given). */
  leftovers(wf?: Workflow): Promise<string[]>;
}

const CASES: ExecutorCase[] = [
  {
    name: "docker",
    available: DOCKER_AVAILABLE,
    config: "executor: docker\nimageMap:\n  busybox: skiff-test/busybox:latest\n",
    seconds: "8",
    async leftovers(wf) {
      const label = wf ? `${LABELS.workflowUid}=${wf.metadata.uid ?? ""}` : `${LABELS.workflow}=long-step`;
      const list = await docker.listContainers({ all: !!wf, filters: JSON.stringify({ label: [label] }) });
      return list.map((c) => c.Names.join(","));
    },
  },
  {
    name: "host",
    available: true,
    config: "executor: host\n",
    seconds: `8.${String(process.pid % 1000).padStart(3, "0")}7`,
    leftovers() {
      return processesWith(`sleep ${this.seconds}`);
    },
  },
];

let cliPath = "";
const trials: Trial[] = [];
beforeAll(async () => {
  if (CASES.some((c) => c.available)) cliPath = await bundleCli();
}, 60_000);
afterAll(() => {
  for (const t of trials) rmSync(t.state, { recursive: true, force: true });
  if (cliPath) rmSync(dirname(cliPath), { recursive: true, force: true });
});

/** Lines of runs.txt: `start` and `end` once per run of the long step. */
function runs(t: Trial): string[] {
  const file = join(t.workspace, "runs.txt");
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}

describe.each(CASES)("skiff run killed while a step runs ($name), then skiff resume", (c) => {
  it.skipIf(!c.available)(
    "re-attaches the running step: it runs exactly once, its logs are stored once, nothing is left",
    async () => {
      const t = newTrial();
      mkdirSync(t.workspace, { recursive: true });
      trials.push(t);
      const config = join(t.state, "skiff.yaml");
      writeFileSync(config, c.config);

      const run = start(cliPath, t, ["run", FIXTURE, "--config", config, "-p", `seconds=${c.seconds}`]);
      for (let i = 0; i < 600 && !runs(t).includes("start"); i++) await new Promise((r) => setTimeout(r, 50));
      expect(runs(t), "the long step started").toEqual(["start"]);
      // Let the store take the Running phase and the first log line.
      await new Promise((r) => setTimeout(r, 300));
      run.child.kill("SIGKILL");
      await run.done;
      // The killed run left its step running.
      expect(await c.leftovers()).not.toEqual([]);

      const atKill = (await stored(cliPath, t, "long-step"))!;
      const long = Object.values(atKill.status?.nodes ?? {}).find((n) => n.displayName === "long");
      expect(long?.phase).toBe("Running");

      const resumed = await cli(cliPath, t, ["resume", "long-step", "--config", config]);
      expect(resumed.code, resumed.stderr + resumed.stdout.slice(-2000)).toBe(0);
      const final = (await stored(cliPath, t, "long-step"))!;
      expect(final.status?.phase).toBe("Succeeded");
      expect(runs(t)).toEqual(["start", "end"]);
      const nodes = Object.values(final.status?.nodes ?? {});
      expect(nodes.find((n) => n.displayName === "long")?.outputs?.result).toBe("long-begin\nlong-end");
      const after = nodes.find((n) => n.displayName === "after");
      expect(after?.phase).toBe("Succeeded");
      expect(after?.inputs?.parameters?.[0]?.value).toBe("long-begin\nlong-end");
      const logs = await cli(cliPath, t, ["logs", "long-step", "--node", "long"]);
      expect(logs.stdout.match(/long-begin/g)).toHaveLength(1);
      expect(logs.stdout.match(/long-end/g)).toHaveLength(1);
      expect(await c.leftovers(final)).toEqual([]);
    },
    180_000,
  );
});
