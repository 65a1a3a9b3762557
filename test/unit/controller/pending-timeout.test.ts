import { describe, expect, it } from "vitest";
import type { Clock } from "../../../runtime/interfaces/clock.js";
import type { StepHandle, StepRequest } from "../../../runtime/interfaces/executor.js";
import { FakeExecutor } from "../../../runtime/testing/fake-executor.js";
import { harness, run, until } from "./helpers.js";

/** An executor whose `start` takes `startDelay` of clock time for the named steps (an image pull, say). */
class SlowStartExecutor extends FakeExecutor {
  constructor(
    private readonly slowClock: Clock,
    private readonly slow: Record<string, number>,
  ) {
    super({ clock: slowClock });
  }

  override async start(step: StepRequest): Promise<StepHandle> {
    const name = step.nodeName.slice(step.nodeName.lastIndexOf(".") + 1);
    const delay = this.slow[name];
    if (delay !== undefined) await this.slowClock.sleep(delay);
    return super.start(step);
  }
}

function slowHarness(slow: Record<string, number>) {
  const h = harness();
  return { ...h, exec: new SlowStartExecutor(h.clock, slow) };
}

const ONE_STEP = (fields: string) => `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: pt}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: s, template: t}
  - name: t
    ${fields}
    container: {image: x}
`;

describe("pendingTimeout", () => {
  it("fails a node the executor has not started when pendingTimeout passes, and stops the late step", async () => {
    const h = slowHarness({ s: 60_000 });
    const { n, wf, exec } = await run(ONE_STEP("pendingTimeout: 20s"), h);
    expect(n("pt[0].s").phase).toBe("Failed");
    expect(n("pt[0].s").message).toBe("timeout");
    expect(n("pt[0].s").finishedAt).toBe("2024-01-01T00:00:20Z");
    expect(wf.status?.phase).toBe("Failed");
    // The step the executor started after all is killed rather than left running.
    await until(() => exec.kills.length > 0);
    expect(exec.kills).toEqual([{ nodeName: "pt[0].s", reason: "timeout" }]);
  });

  it("does not limit a step once it runs", async () => {
    const h = slowHarness({ s: 5_000 });
    h.exec.script("s", { duration: 120_000 });
    const { n, wf } = await run(ONE_STEP("pendingTimeout: 20s"), h);
    expect(n("pt[0].s").phase).toBe("Succeeded");
    expect(wf.status?.phase).toBe("Succeeded");
  });

  it("template timeout counts pending time too: a node not started in time fails with `timeout`", async () => {
    const h = slowHarness({ s: 60_000 });
    const { n } = await run(ONE_STEP("timeout: 30s"), h);
    expect(n("pt[0].s").phase).toBe("Failed");
    expect(n("pt[0].s").message).toBe("timeout");
    expect(n("pt[0].s").finishedAt).toBe("2024-01-01T00:00:30Z");
  });

  it("template timeout of a step that started kills it with the pod deadline message", async () => {
    const h = slowHarness({ s: 10_000 });
    h.exec.script("s", { duration: 120_000 });
    const { n } = await run(ONE_STEP("timeout: 30s"), h);
    expect(n("pt[0].s").phase).toBe("Failed");
    expect(n("pt[0].s").message).toBe("Pod was active on the node longer than the specified deadline");
  });

  it("fails a node waiting for its lock when pendingTimeout passes", async () => {
    const h = harness();
    h.exec.script("hold", { duration: 60_000 });
    const { n } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: pl}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: hold, template: hold}
      - {name: wait, template: wait}
  - name: hold
    synchronization: {mutexes: [{name: pm}]}
    container: {image: x}
  - name: wait
    pendingTimeout: 15s
    synchronization: {mutexes: [{name: pm}]}
    container: {image: x}
`,
      h,
    );
    expect(n("pl[0].wait").phase).toBe("Failed");
    expect(n("pl[0].wait").message).toBe("timeout");
    expect(n("pl[0].wait").finishedAt).toBe("2024-01-01T00:00:15Z");
    expect(n("pl[0].hold").phase).toBe("Succeeded");
  });

  it("fails a node that holds its lock but waits for a workflow parallelism slot", async () => {
    const h = harness();
    h.exec.script("busy", { duration: 60_000 });
    const { n, exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: pp}
spec:
  entrypoint: main
  parallelism: 1
  templates:
  - name: main
    steps:
    - - {name: busy, template: busy}
      - {name: late, template: late}
  - name: busy
    container: {image: x}
  - name: late
    pendingTimeout: 5s
    synchronization: {mutexes: [{name: free}]}
    container: {image: x}
`,
      h,
    );
    expect(n("pp[0].late").phase).toBe("Failed");
    expect(n("pp[0].late").message).toBe("timeout");
    expect(n("pp[0].late").finishedAt).toBe("2024-01-01T00:00:05Z");
    expect(exec.requests.map((r) => r.nodeName)).toEqual(["pp[0].busy"]);
  });

  it("a variable in pendingTimeout is substituted", async () => {
    const h = slowHarness({ s: 60_000 });
    const { n } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: pv}
spec:
  entrypoint: main
  arguments: {parameters: [{name: wait, value: 7s}]}
  templates:
  - name: main
    steps:
    - - {name: s, template: t}
  - name: t
    pendingTimeout: "{{workflow.parameters.wait}}"
    container: {image: x}
`,
      h,
    );
    expect(n("pv[0].s").message).toBe("timeout");
    expect(n("pv[0].s").finishedAt).toBe("2024-01-01T00:00:07Z");
  });
});
