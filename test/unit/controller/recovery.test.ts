import { describe, expect, it } from "vitest";
import { resumeWorkflow } from "../../../runtime/controller/index.js";
import { SkiffError } from "../../../runtime/errors/index.js";
import type { StepHandle, StepRequest } from "../../../runtime/interfaces/executor.js";
import type { CompiledWorkflow } from "../../../runtime/spec/compiled.js";
import { podName } from "../../../runtime/spec/index.js";
import type { Workflow } from "../../../runtime/spec/types.js";
import { FakeExecutor } from "../../../runtime/testing/fake-executor.js";
import { compileYaml, harness, nodeFinder, start, type Harness } from "./helpers.js";

/**
 * A fake executor that can re-attach: `found` says whether the step of a request still runs. A found step
 * is followed through the fake's own run, so its scripted result is what the controller sees.
 */
class AttachingExecutor extends FakeExecutor {
  readonly started: string[] = [];
  readonly attached: StepRequest[] = [];
  found: (request: StepRequest) => boolean | Error = () => true;

  override start(step: StepRequest): Promise<StepHandle> {
    this.started.push(step.nodeName);
    return super.start(step);
  }

  async attach(step: StepRequest): Promise<StepHandle | undefined> {
    this.attached.push(step);
    const found = this.found(step);
    if (found instanceof Error) throw found;
    return found ? super.start(step) : undefined;
  }
}

function attaching(): Harness & { exec: AttachingExecutor } {
  const h = harness();
  const exec = new AttachingExecutor({ clock: h.clock, defaultScript: { outputParameters: { out: "x" } } });
  return { ...h, exec };
}

const DAG = (retry: string) => `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: ra}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: A, template: a}
      - {name: B, template: t, depends: A}
      - {name: C, template: echo, depends: B, arguments: {parameters: [{name: v, value: "{{tasks.B.outputs.parameters.out}}"}]}}
  - name: t
    ${retry}
    container: {image: x}
    outputs: {parameters: [{name: out, valueFrom: {path: /tmp/out}}]}
  - name: a
    container: {image: x}
  - name: echo
    inputs: {parameters: [{name: v}]}
    container: {image: x, args: ["{{inputs.parameters.v}}"]}
`;

/** Runs until B's step has started, then takes what a store would hold, as if the controller died then. */
async function persistedWhileRunning(compiled: CompiledWorkflow, bNode: string): Promise<Workflow> {
  const h = harness({ auto: false });
  h.exec.script("t", { duration: 10_000, outputParameters: { out: "first" } });
  const first = start(compiled, h);
  for (let i = 0; i < 50 && h.exec.requests.length < 2; i++) {
    h.clock.advance(0);
    await new Promise((r) => setImmediate(r));
  }
  expect(h.exec.requests.map((r) => r.nodeName)).toEqual(["ra.A", bNode]);
  const persisted = first.snapshot();
  expect(nodeFinder(persisted)(bNode).phase).toBe("Running");
  first.stop("Terminate");
  await first.done;
  return persisted;
}

describe("recovery re-attaches running steps", () => {
  it("follows a step that still runs instead of starting it again, and uses its result", async () => {
    const compiled = compileYaml(DAG(""));
    const persisted = await persistedWhileRunning(compiled, "ra.B");
    const startedAt = nodeFinder(persisted)("ra.B").startedAt;
    const h = attaching();
    h.exec.script("t", { outputParameters: { out: "attached" } });
    const wf = await resumeWorkflow(compiled, persisted, { executor: h.exec, clock: h.clock }).done;
    const n = nodeFinder(wf);
    expect(wf.status?.phase).toBe("Succeeded");
    expect(h.exec.attached.map((r) => r.nodeName)).toEqual(["ra.B"]);
    expect(h.exec.started).toEqual(["ra.C"]);
    // The same request the first controller started: same pod, node and workflow uid.
    const b = h.exec.attached[0];
    expect(b?.nodeId).toBe(n.id("ra.B"));
    expect(b?.podName).toBe(podName("ra", "ra.B", "t"));
    expect(b?.workflowUid).toBe(persisted.metadata.uid);
    expect(n("ra.B").outputs?.parameters?.[0]?.value).toBe("attached");
    expect(n("ra.B").startedAt).toBe(startedAt);
    expect(h.exec.requests.find((r) => r.nodeName === "ra.C")?.template.container?.args).toEqual([
      "attached",
    ]);
  });

  it("errors a Running node whose step is gone with Argo's `pod deleted`, then retries it", async () => {
    const compiled = compileYaml(DAG("retryStrategy: {limit: 2, retryPolicy: Always}"));
    const persisted = await persistedWhileRunning(compiled, "ra.B(0)");
    const h = attaching();
    h.exec.found = () => false;
    h.exec.script("t", { outputParameters: { out: "again" } });
    const wf = await resumeWorkflow(compiled, persisted, { executor: h.exec, clock: h.clock }).done;
    const n = nodeFinder(wf);
    expect(wf.status?.phase).toBe("Succeeded");
    expect(h.exec.attached.map((r) => r.nodeName)).toEqual(["ra.B(0)"]);
    expect(n("ra.B(0)").phase).toBe("Error");
    expect(n("ra.B(0)").message).toBe("pod deleted");
    expect(h.exec.started).toEqual(["ra.B(1)", "ra.C"]);
    expect(n("ra.B").children).toEqual([n.id("ra.B(0)"), n.id("ra.B(1)")]);
    expect(n("ra.B").outputs?.parameters?.[0]?.value).toBe("again");
  });

  it("leaves a lost step an Error when its retryStrategy does not retry errors", async () => {
    const compiled = compileYaml(DAG("retryStrategy: {limit: 2}"));
    const persisted = await persistedWhileRunning(compiled, "ra.B(0)");
    const h = attaching();
    h.exec.found = () => false;
    const wf = await resumeWorkflow(compiled, persisted, { executor: h.exec, clock: h.clock }).done;
    const n = nodeFinder(wf);
    expect(wf.status?.phase).toBe("Error");
    expect(n("ra.B").phase).toBe("Error");
    expect(n("ra.B").message).toBe("pod deleted");
    expect(h.exec.started).toEqual([]);
    expect(n("ra.C").phase).toBe("Omitted");
  });

  it("starts a Pending node that has nothing to attach to (it may never have been started)", async () => {
    const compiled = compileYaml(DAG(""));
    const persisted = await persistedWhileRunning(compiled, "ra.B");
    const b = persisted.status?.nodes?.[nodeFinder(persisted).id("ra.B")];
    if (b) b.phase = "Pending";
    const h = attaching();
    h.exec.found = () => false;
    const wf = await resumeWorkflow(compiled, persisted, { executor: h.exec, clock: h.clock }).done;
    expect(wf.status?.phase).toBe("Succeeded");
    expect(h.exec.attached.map((r) => r.nodeName)).toEqual(["ra.B"]);
    expect(h.exec.started).toEqual(["ra.B", "ra.C"]);
  });

  it("errors the node with SKF-CTRL-014 when the executor cannot tell whether the step runs", async () => {
    const compiled = compileYaml(DAG(""));
    const persisted = await persistedWhileRunning(compiled, "ra.B");
    const h = attaching();
    h.exec.found = () => new SkiffError("SKF-CORE-001", "engine not answering");
    const wf = await resumeWorkflow(compiled, persisted, { executor: h.exec, clock: h.clock }).done;
    const n = nodeFinder(wf);
    expect(wf.status?.phase).toBe("Error");
    expect(n("ra.B").phase).toBe("Error");
    expect(n("ra.B").message).toBe("SKF-CTRL-014: engine not answering");
    expect(h.exec.started).toEqual([]);
  });

  it("starts a Running node again when the executor cannot attach", async () => {
    const compiled = compileYaml(DAG(""));
    const persisted = await persistedWhileRunning(compiled, "ra.B");
    const h = harness();
    h.exec.script("t", { outputParameters: { out: "restarted" } });
    const wf = await resumeWorkflow(compiled, persisted, { executor: h.exec, clock: h.clock }).done;
    const n = nodeFinder(wf);
    expect(wf.status?.phase).toBe("Succeeded");
    expect(h.exec.requests.map((r) => r.nodeName)).toEqual(["ra.B", "ra.C"]);
    expect(n("ra.B").outputs?.parameters?.[0]?.value).toBe("restarted");
  });

  it("re-attaches a daemon: it is not started again, still serves its IP, and is killed at the end", async () => {
    const compiled = compileYaml(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: rd}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: server, template: server}
    - - {name: client, template: client, arguments: {parameters: [{name: ip, value: "{{steps.server.ip}}"}]}}
  - name: server
    daemon: true
    container: {image: nginx}
  - name: client
    inputs: {parameters: [{name: ip}]}
    container: {image: x, args: ["{{inputs.parameters.ip}}"]}
`);
    const h1 = harness({ auto: false });
    h1.exec.script("server", { daemon: { ip: "10.9.9.9" } });
    h1.exec.script("client", { duration: 10_000 });
    const first = start(compiled, h1);
    for (let i = 0; i < 50 && h1.exec.requests.length < 2; i++) {
      h1.clock.advance(0);
      await new Promise((r) => setImmediate(r));
    }
    const persisted = first.snapshot();
    expect(nodeFinder(persisted)("rd[0].server").daemoned).toBe(true);
    first.stop("Terminate");
    await first.done;
    const h = attaching();
    h.exec.script("server", { daemon: { ip: "10.9.9.9" } });
    const wf = await resumeWorkflow(compiled, persisted, { executor: h.exec, clock: h.clock }).done;
    const n = nodeFinder(wf);
    expect(wf.status?.phase).toBe("Succeeded");
    expect(h.exec.attached.map((r) => r.nodeName)).toEqual(["rd[0].server", "rd[1].client"]);
    expect(h.exec.started).toEqual([]);
    expect(n("rd[0].server").phase).toBe("Succeeded");
    expect(n("rd[0].server").podIP).toBe("10.9.9.9");
    expect(h.exec.kills.map((k) => k.nodeName)).toEqual(["rd[0].server"]);
  });

  it("does not attach nodes of a fresh run or nodes that finished before the crash", async () => {
    const compiled = compileYaml(DAG(""));
    const persisted = await persistedWhileRunning(compiled, "ra.B");
    const h = attaching();
    await resumeWorkflow(compiled, persisted, { executor: h.exec, clock: h.clock }).done;
    expect(h.exec.attached.map((r) => r.nodeName)).toEqual(["ra.B"]);
    const fresh = attaching();
    const wf = await start(compiled, fresh).done;
    expect(wf.status?.phase).toBe("Succeeded");
    expect(fresh.exec.attached).toEqual([]);
    expect(fresh.exec.started).toEqual(["ra.A", "ra.B", "ra.C"]);
  });
});
