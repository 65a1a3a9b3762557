import { execFile } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cliSuite, start } from "../durable/helpers.js";

/** Step processes of this test: `sleep` with the test's own duration as argument. */
const MARK = `600.${process.pid}`;

function stepProcesses(): Promise<number> {
  return new Promise((done, fail) =>
    execFile("ps", ["-eo", "comm=,args="], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      if (err) return fail(err);
      done(stdout.split("\n").filter((l) => l.startsWith("sleep ") && l.includes(` ${MARK}`)).length);
    }),
  );
}

const WIDE = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: wide-
spec:
  entrypoint: main
  parallelism: 500
  templates:
    - name: main
      steps:
        - - name: s
            template: sleep
            withSequence: { count: "2000" }
    - name: sleep
      container:
        image: alpine
        command: [sh, -c, 'echo s >> started.log; exec sleep ${MARK}']
`;

describe("stopping a wide loop on the host executor (issue 11 gap 10)", () => {
  const suite = cliSuite();

  it("SIGTERM stops every step, starts no new one, and the CLI exits", async () => {
    const t = suite.trial();
    writeFileSync(join(t.workspace, "wide.yaml"), WIDE);
    const run = start(suite.path, t, ["run", "wide.yaml", "--executor", "host"]);
    let running = 0;
    for (let i = 0; i < 600 && running < 300; i++) {
      await new Promise((r) => setTimeout(r, 200));
      running = await stepProcesses();
    }
    expect(running).toBeGreaterThanOrEqual(300);
    const started = (): number => {
      const file = join(t.workspace, "started.log");
      return existsSync(file) ? readFileSync(file, "utf8").split("\n").length - 1 : 0;
    };
    run.child.kill("SIGTERM");
    const startedAtSignal = started();
    const atSignal = await stepProcesses();
    let exited = false;
    void run.done.then(() => (exited = true));
    let most = atSignal;
    while (!exited) {
      most = Math.max(most, await stepProcesses());
      await new Promise((r) => setTimeout(r, 100));
    }
    const result = await run.done;
    // Steps already handed to the step supervisor may still start (a few); none queued behind them does.
    expect(started() - startedAtSignal).toBeLessThanOrEqual(40);
    expect(most - atSignal).toBeLessThanOrEqual(40);
    expect(await stepProcesses()).toBe(0);
    expect(result.stdout + result.stderr).toMatch(/workflow shutdown with strategy: Stop/);
  }, 300_000);
});
