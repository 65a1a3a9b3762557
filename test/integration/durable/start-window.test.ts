import { rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, cliSuite, processesWith, start, stored } from "./helpers.js";

const MARK = `0.3${process.pid}`;
const INPUT = `/tmp/skiff-window-${process.pid}`;

describe("skiff run killed between storing a node Running and starting its process (issue 12 item 2)", () => {
  const suite = cliSuite();
  let server: Server;
  let port = 0;
  let requests = 0;
  beforeAll(async () => {
    // The first download of the step's input hangs: the step is Running, its process not started yet.
    server = createServer((_req, res) => {
      if (++requests === 1) return;
      res.end("payload\n");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(INPUT, { recursive: true, force: true });
  });

  it("starts the step on resume instead of losing it", async () => {
    const t = suite.trial();
    writeFileSync(
      join(t.workspace, "wf.yaml"),
      `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: window
spec:
  entrypoint: main
  templates:
    - name: main
      inputs:
        artifacts:
          - name: in
            path: ${INPUT}/in.txt
            http: { url: "http://127.0.0.1:${port}/in" }
      container:
        image: alpine
        command: [sh, -c, "sleep ${MARK}; cat ${INPUT}/in.txt"]
`,
    );
    const run = start(suite.path, t, ["run", "wf.yaml", "--executor", "host"]);
    let phase: string | undefined;
    for (let i = 0; i < 300 && phase !== "Running"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const wf = await stored(suite.path, t, "window");
      phase = Object.values(wf?.status?.nodes ?? {}).find((n) => n.type === "Pod")?.phase;
    }
    expect(phase).toBe("Running");
    expect(requests).toBe(1);
    expect(await processesWith(`sleep ${MARK}`)).toEqual([]);
    run.child.kill("SIGKILL");
    await run.done;

    const resumed = await cli(suite.path, t, ["resume", "window"]);
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    const wf = await stored(suite.path, t, "window");
    expect(wf?.status?.phase).toBe("Succeeded");
    expect(requests).toBe(2);
  }, 120_000);
});
