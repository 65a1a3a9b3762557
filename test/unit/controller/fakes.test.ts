import { describe, expect, it } from "vitest";
import { FakeClock } from "../../../runtime/testing/fake-clock.js";
import { FakeExecutor } from "../../../runtime/testing/fake-executor.js";
import type { StepRequest } from "../../../runtime/interfaces/executor.js";
import { harness, run } from "./helpers.js";

describe("FakeClock", () => {
  it("fires timers in time order on advance, and only those due", () => {
    const clock = new FakeClock({ start: 0 });
    const fired: string[] = [];
    clock.setTimer(30, () => fired.push("c"));
    clock.setTimer(10, () => fired.push("a"));
    const h = clock.setTimer(20, () => fired.push("b"));
    clock.clearTimer(h);
    clock.advance(15);
    expect(fired).toEqual(["a"]);
    expect(clock.now()).toBe(15);
    clock.advance(100);
    expect(fired).toEqual(["a", "c"]);
    expect(clock.now()).toBe(115);
  });

  it("auto-advance jumps to the next timer when idle", async () => {
    const clock = new FakeClock({ start: 0, autoAdvance: true });
    await clock.sleep(60_000);
    expect(clock.now()).toBe(60_000);
  });

  it("sleep rejects when aborted", async () => {
    const clock = new FakeClock({ start: 0 });
    const ac = new AbortController();
    const p = clock.sleep(1000, ac.signal);
    ac.abort(new Error("stop"));
    await expect(p).rejects.toThrow("stop");
    expect(clock.pendingTimers).toBe(0);
  });
});

describe("FakeExecutor", () => {
  const request = (over: Partial<StepRequest> = {}): StepRequest =>
    ({
      workflowName: "wf",
      namespace: "default",
      workflowUid: "u",
      nodeId: "wf-1",
      nodeName: "wf[0].build(1)",
      podName: "wf-t-1",
      templateName: "t",
      template: { name: "t", container: { image: "x" } },
      parameters: [],
      inputArtifacts: [],
      artifactKeyPrefix: "wf/wf-t-1",
      captureResult: true,
      env: {},
      daemon: false,
      evaluate: () => undefined,
      ...over,
    }) as StepRequest;

  it("matches scripts by step name, finishes after the scripted duration, and records requests", async () => {
    const clock = new FakeClock({ start: 0 });
    const exec = new FakeExecutor({ clock }).script("build", { exitCode: 3, stdout: "out\n", duration: 500 });
    const handle = await exec.start(request());
    expect(exec.concurrency).toBe(1);
    const result = exec.wait(handle);
    clock.advance(500);
    const r = await result;
    expect(r.phase).toBe("Failed");
    expect(r.message).toBe("main: Error (exit code 3)");
    expect(r.outputs.result).toBe("out");
    expect(r.finishedAt).toBe("1970-01-01T00:00:00Z");
    expect(exec.requests).toHaveLength(1);
    expect(exec.concurrency).toBe(0);
  });

  it("fails output parameters without a value or default with an Error", async () => {
    const clock = new FakeClock({ start: 0 });
    const exec = new FakeExecutor({ clock });
    const h = await exec.start(
      request({
        template: {
          name: "t",
          container: { image: "x" },
          outputs: { parameters: [{ name: "p", valueFrom: { path: "/p" } }] },
        },
      }),
    );
    clock.advance(0);
    const r = await exec.wait(h);
    expect(r.phase).toBe("Error");
    expect(r.message).toBe("open /p: no such file or directory");
  });
});

describe("more DAG semantics", () => {
  it("a retried task's dependents hang off its last attempt", async () => {
    const h = harness();
    h.exec.script("A", (_r, call) => ({ exitCode: call === 0 ? 1 : 0 }));
    const { wf, n } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: dr}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: A, template: flaky}
      - {name: B, template: t, depends: A}
  - name: flaky
    retryStrategy: {limit: 2}
    container: {image: x}
  - name: t
    container: {image: x}
`,
      h,
    );
    expect(wf.status?.phase).toBe("Succeeded");
    expect(n("dr.A").type).toBe("Retry");
    expect(n("dr.A(0)").children ?? []).toEqual([]);
    expect(n("dr.A(1)").children).toEqual([n("dr.B").id]);
    expect(n("dr.A(1)").displayName).toBe("A(1)");
  });

  it("dag.failFast: false still fails the DAG once every branch is done", async () => {
    const h = harness();
    h.exec.script("ff.a", { exitCode: 1 });
    h.exec.script("ff.b", { duration: 5000 });
    const { wf, n } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: ff}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      failFast: false
      tasks:
      - {name: a, template: t}
      - {name: b, template: t}
  - name: t
    container: {image: x}
`,
      h,
    );
    expect(n("ff.b").phase).toBe("Succeeded");
    expect(n("ff").phase).toBe("Failed");
    expect(wf.status?.phase).toBe("Failed");
  });
});
