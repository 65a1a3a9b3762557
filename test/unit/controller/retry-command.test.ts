import { describe, expect, it } from "vitest";
import { resumeWorkflow } from "../../../runtime/controller/index.js";
import {
  formulateResubmitWorkflow,
  formulateRetryWorkflow,
  LABEL_RESUBMITTED_FROM,
  retryRefusal,
  WorkflowRetryError,
} from "../../../runtime/controller/workflow-retry.js";
import { nodeId } from "../../../runtime/spec/index.js";
import type { NodeStatus, Workflow } from "../../../runtime/spec/types.js";
import { FakeExecutor } from "../../../runtime/testing/fake-executor.js";
import { compileYaml, harness, nodeFinder, start } from "./helpers.js";

const NOW = "2030-01-01T00:00:00.000Z";

/** A hand-built status: nodes given as [name, type, phase, children names, boundary name]. */
function workflow(
  phase: NonNullable<Workflow["status"]>["phase"],
  rows: [string, NodeStatus["type"], NodeStatus["phase"], string[], string?, Partial<NodeStatus>?][],
): Workflow {
  const nodes: Record<string, NodeStatus> = {};
  for (const [name, type, p, children, boundary, extra] of rows) {
    const id = nodeId("wf", name);
    nodes[id] = {
      id,
      name,
      displayName: name.split(".").pop() ?? name,
      type,
      phase: p,
      startedAt: "2029-01-01T00:00:00Z",
      finishedAt: "2029-01-01T00:01:00Z",
      ...(p === "Failed" ? { message: "Error (exit code 1)" } : {}),
      ...(children.length ? { children: children.map((c) => nodeId("wf", c)) } : {}),
      ...(boundary ? { boundaryID: nodeId("wf", boundary) } : {}),
      ...extra,
    };
  }
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: {
      name: "wf",
      namespace: "default",
      labels: {
        "workflows.argoproj.io/phase": phase ?? "",
        "workflows.argoproj.io/completed": "true",
        team: "a",
        "workflows.argoproj.io/creator": "someone",
      },
      annotations: { note: "kept" },
    },
    spec: {
      entrypoint: "main",
      arguments: {
        parameters: [
          { name: "a", value: "1" },
          { name: "b", value: "2" },
        ],
      },
      shutdown: "Stop",
    },
    status: {
      phase,
      message: "child 'x' failed",
      startedAt: "2029-01-01T00:00:00Z",
      finishedAt: "2029-01-01T00:02:00Z",
      conditions: [{ type: "Completed", status: "True" }],
      nodes,
    },
  };
}

/** wf (Steps) -> wf[0] (StepGroup) -> a (Succeeded), b (Failed); wf.onExit (Pod). */
const STEPS = () =>
  workflow("Failed", [
    ["wf", "Steps", "Failed", ["wf[0]"]],
    ["wf[0]", "StepGroup", "Failed", ["wf[0].a", "wf[0].b"], "wf"],
    ["wf[0].a", "Pod", "Succeeded", [], "wf", { outputs: { result: "A" } }],
    ["wf[0].b", "Pod", "Failed", [], "wf"],
    ["wf.onExit", "Pod", "Succeeded", []],
  ]);

const ids = (wf: Workflow) =>
  Object.values(wf.status?.nodes ?? {})
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((n) => `${n.name}:${n.phase}`);

describe("formulateRetryWorkflow (argo retry)", () => {
  it("deletes failed steps, resets their ancestors to Running and keeps succeeded steps", () => {
    const before = STEPS();
    const wf = formulateRetryWorkflow(before, { now: NOW });
    expect(ids(wf)).toEqual(["wf:Running", "wf[0]:Running", "wf[0].a:Succeeded"]);
    const n = (name: string) => wf.status!.nodes![nodeId("wf", name)]!;
    expect(n("wf[0]").children).toEqual([nodeId("wf", "wf[0].a")]);
    expect(n("wf[0]").message).toBeUndefined();
    expect(n("wf[0]").startedAt).toBe(NOW);
    expect(n("wf[0]").finishedAt).toBeUndefined();
    expect(n("wf[0].a")).toEqual(before.status!.nodes![nodeId("wf", "wf[0].a")]);
    expect(wf.status?.phase).toBe("Running");
    expect(wf.status?.message).toBeUndefined();
    expect(wf.status?.finishedAt).toBeUndefined();
    expect(wf.status?.startedAt).toBe(NOW);
    expect(wf.status?.conditions).toEqual([{ type: "Completed", status: "False" }]);
    expect(wf.spec.shutdown).toBeUndefined();
    expect(wf.metadata.labels?.["workflows.argoproj.io/completed"]).toBeUndefined();
    expect(wf.metadata.labels?.["workflows.argoproj.io/phase"]).toBe("Running");
    // The input is not changed.
    expect(before.status?.phase).toBe("Failed");
    expect(Object.keys(before.status!.nodes!)).toHaveLength(5);
  });

  it("refuses running and pending workflows, and succeeded ones without restartSuccessful and a selector", () => {
    const running = STEPS();
    running.status!.phase = "Running";
    expect(() => formulateRetryWorkflow(running, { now: NOW })).toThrow(
      new WorkflowRetryError("Cannot retry a workflow in phase Running"),
    );
    const succeeded = STEPS();
    succeeded.status!.phase = "Succeeded";
    const why = "To retry a succeeded workflow, set the options restartSuccessful and nodeFieldSelector";
    expect(retryRefusal(succeeded, {})).toBe(why);
    expect(retryRefusal(succeeded, { restartSuccessful: true })).toBe(why);
    expect(retryRefusal(succeeded, { nodeFieldSelector: "displayName=a" })).toBe(why);
    expect(retryRefusal(succeeded, { restartSuccessful: true, nodeFieldSelector: "displayName=a" })).toBe(
      undefined,
    );
    expect(retryRefusal({ ...STEPS(), status: { phase: "Error" } }, {})).toBeUndefined();
  });

  it("restarts succeeded nodes the selector matches only with restartSuccessful", () => {
    const selected = formulateRetryWorkflow(STEPS(), {
      now: NOW,
      restartSuccessful: true,
      nodeFieldSelector: "displayName=a",
    });
    expect(ids(selected)).toEqual(["wf:Running", "wf[0]:Running"]);
    const ignored = formulateRetryWorkflow(STEPS(), { now: NOW, nodeFieldSelector: "displayName=a" });
    expect(ids(ignored)).toContain("wf[0].a:Succeeded");
  });

  it("a retried step whose last attempt failed is reset with every failed attempt deleted", () => {
    const wf = workflow("Failed", [
      ["wf", "Steps", "Failed", ["wf[0]"]],
      ["wf[0]", "StepGroup", "Failed", ["wf[0].r"], "wf"],
      ["wf[0].r", "Retry", "Failed", ["wf[0].r(0)", "wf[0].r(1)"], "wf"],
      ["wf[0].r(0)", "Pod", "Failed", [], "wf", { nodeFlag: { retried: true } }],
      ["wf[0].r(1)", "Pod", "Error", [], "wf", { nodeFlag: { retried: true } }],
    ]);
    const out = formulateRetryWorkflow(wf, { now: NOW });
    expect(ids(out)).toEqual(["wf:Running", "wf[0]:Running", "wf[0].r:Running"]);
    expect(out.status!.nodes![nodeId("wf", "wf[0].r")]!.children).toBeUndefined();
  });

  it("keeps the failed attempts of a retried step that succeeded in the end", () => {
    const wf = workflow("Failed", [
      ["wf", "Steps", "Failed", ["wf[0]", "wf[1]"]],
      ["wf[0]", "StepGroup", "Succeeded", ["wf[0].r"], "wf"],
      ["wf[0].r", "Retry", "Succeeded", ["wf[0].r(0)", "wf[0].r(1)"], "wf"],
      ["wf[0].r(0)", "Pod", "Failed", [], "wf", { nodeFlag: { retried: true } }],
      ["wf[0].r(1)", "Pod", "Succeeded", ["wf[1]"], "wf", { nodeFlag: { retried: true } }],
      ["wf[1]", "StepGroup", "Failed", ["wf[1].c"], "wf"],
      ["wf[1].c", "Pod", "Failed", [], "wf"],
    ]);
    // Argo's steps chain groups through the last group's outbound nodes: wf[1] hangs under r(1).
    const out = formulateRetryWorkflow(wf, { now: NOW });
    expect(ids(out)).toContain("wf[0].r(0):Failed");
    expect(ids(out)).toContain("wf[0].r(1):Succeeded");
    expect(ids(out)).toContain("wf[1]:Running");
    expect(ids(out)).not.toContain("wf[1].c:Failed");
  });

  it("DAG: the failed task goes, the DAG is reset, a task that succeeded stays", () => {
    const wf = workflow("Failed", [
      ["wf", "DAG", "Failed", ["wf.a", "wf.b"]],
      ["wf.a", "Pod", "Succeeded", [], "wf"],
      ["wf.b", "Pod", "Failed", [], "wf"],
    ]);
    expect(ids(formulateRetryWorkflow(wf, { now: NOW }))).toEqual(["wf:Running", "wf.a:Succeeded"]);
  });

  it("a nested template: the boundary and its groups up to the root are reset", () => {
    const wf = workflow("Failed", [
      ["wf", "Steps", "Failed", ["wf[0]"]],
      ["wf[0]", "StepGroup", "Failed", ["wf[0].inner", "wf[0].ok"], "wf"],
      ["wf[0].ok", "Pod", "Succeeded", [], "wf"],
      ["wf[0].inner", "Steps", "Failed", ["wf[0].inner[0]"], "wf"],
      ["wf[0].inner[0]", "StepGroup", "Failed", ["wf[0].inner[0].x"], "wf[0].inner"],
      ["wf[0].inner[0].x", "Pod", "Failed", [], "wf[0].inner"],
    ]);
    expect(ids(formulateRetryWorkflow(wf, { now: NOW }))).toEqual([
      "wf:Running",
      "wf[0]:Running",
      "wf[0].inner:Running",
      "wf[0].inner[0]:Running",
      "wf[0].ok:Succeeded",
    ]);
  });

  it("parameters: given ones first; groups being reset are expanded again", () => {
    const out = formulateRetryWorkflow(STEPS(), { now: NOW, parameters: [["b", "9"]] });
    expect(out.spec.arguments?.parameters).toEqual([
      { name: "b", value: "9" },
      { name: "a", value: "1" },
    ]);
    expect(ids(out)).toEqual(["wf:Running", "wf[0]:Running"]);
  });

  it("a workflow that failed before creating any node is simply run again", () => {
    const wf = STEPS();
    wf.status!.nodes = {};
    expect(formulateRetryWorkflow(wf, { now: NOW }).status).toMatchObject({ phase: "Running", nodes: {} });
  });

  it("a node without a parent is refused as Argo does", () => {
    const wf = STEPS();
    const stray = nodeId("wf", "stray");
    wf.status!.nodes![stray] = {
      id: stray,
      name: "stray",
      displayName: "stray",
      type: "Pod",
      phase: "Failed",
    };
    expect(() => formulateRetryWorkflow(wf, { now: NOW })).toThrow(`couldn't find parent node for ${stray}`);
  });

  it("the controller continues a retried workflow: only the failed step runs again", async () => {
    const yaml = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  onExit: bye
  templates:
  - name: main
    steps:
    - - {name: a, template: t}
      - {name: b, template: t}
    - - {name: c, template: t}
  - name: t
    container: {image: alpine}
  - name: bye
    container: {image: alpine}
`;
    const h = harness();
    h.exec.script("b", { exitCode: 1 });
    const failed = await start(yaml, h).done;
    expect(failed.status?.phase).toBe("Failed");
    expect(nodeFinder(failed).has("wf[1].c")).toBe(false);

    const retried = formulateRetryWorkflow(failed, { now: new Date(h.clock.now()).toISOString() });
    const exec = new FakeExecutor({ clock: h.clock });
    const done = await resumeWorkflow(compileYaml(yaml), retried, { executor: exec, clock: h.clock }).done;
    expect(done.status?.phase).toBe("Succeeded");
    expect(exec.requests.map((r) => r.nodeName).sort()).toEqual(["wf.onExit", "wf[0].b", "wf[1].c"]);
    expect(nodeFinder(done)("wf[0].a").finishedAt).toBe(nodeFinder(failed)("wf[0].a").finishedAt);
  });
});

describe("formulateResubmitWorkflow (argo resubmit)", () => {
  it("a new workflow from the same spec, labels carried over but the phase ones", () => {
    const out = formulateResubmitWorkflow(STEPS(), { name: "wf-x1", now: NOW, parameters: [["a", "7"]] });
    expect(out.metadata.name).toBe("wf-x1");
    expect(out.metadata.generateName).toBe("wf-");
    expect(out.metadata.labels).toEqual({ team: "a", [LABEL_RESUBMITTED_FROM]: "wf" });
    expect(out.metadata.annotations).toEqual({ note: "kept" });
    expect(out.spec.shutdown).toBeUndefined();
    expect(out.spec.arguments?.parameters).toEqual([
      { name: "a", value: "7" },
      { name: "b", value: "2" },
    ]);
    expect(out.status).toBeUndefined();
  });

  it("memoized: succeeded pods become Skipped with their outputs, the rest is Pending, exit nodes go", () => {
    const out = formulateResubmitWorkflow(STEPS(), { name: "wf-x1", memoized: true, now: NOW });
    const n = (name: string) => out.status!.nodes![nodeId("wf-x1", name)]!;
    expect(
      Object.values(out.status!.nodes!)
        .map((x) => x.name)
        .sort(),
    ).toEqual(["wf-x1", "wf-x1[0]", "wf-x1[0].a", "wf-x1[0].b"]);
    expect(n("wf-x1[0].a")).toMatchObject({
      type: "Skipped",
      phase: "Skipped",
      message: `original pod: ${nodeId("wf", "wf[0].a")}`,
      outputs: { result: "A" },
      startedAt: NOW,
      boundaryID: "wf-x1",
    });
    expect(n("wf-x1[0].b")).toMatchObject({ type: "Pod", phase: "Pending" });
    expect(n("wf-x1[0].b").startedAt).toBeUndefined();
    expect(n("wf-x1[0].b").message).toBeUndefined();
    expect(n("wf-x1[0]").children).toEqual([nodeId("wf-x1", "wf-x1[0].a"), nodeId("wf-x1", "wf-x1[0].b")]);
    expect(n("wf-x1").phase).toBe("Pending");
    expect(out.status?.phase).toBe("");
  });

  it("memoized needs a Failed or Error workflow", () => {
    const ok = STEPS();
    ok.status!.phase = "Succeeded";
    expect(() => formulateResubmitWorkflow(ok, { name: "n", memoized: true, now: NOW })).toThrow(
      "workflow must be Failed/Error to resubmit in memoized mode",
    );
    expect(formulateResubmitWorkflow(ok, { name: "n", now: NOW }).metadata.name).toBe("n");
  });

  it("the controller runs a memoized resubmit without running succeeded steps again", async () => {
    const yaml = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: t}
    - - {name: b, template: use, arguments: {parameters: [{name: v, value: "{{steps.a.outputs.result}}"}]}}
  - name: t
    script: {image: alpine, source: echo A}
  - name: use
    inputs: {parameters: [{name: v}]}
    container: {image: alpine, args: ["{{inputs.parameters.v}}"]}
`;
    const h = harness();
    h.exec.script("a", { stdout: "from-a" });
    h.exec.script("b", { exitCode: 1 });
    const failed = await start(yaml, h).done;
    expect(failed.status?.phase).toBe("Failed");
    const next = formulateResubmitWorkflow(failed, { name: "wf-2", memoized: true, now: NOW });
    const exec = new FakeExecutor({ clock: h.clock });
    const compiled = compileYaml(yaml);
    compiled.workflow.metadata.name = "wf-2";
    const done = await resumeWorkflow(compiled, next, { executor: exec, clock: h.clock }).done;
    expect(done.status?.phase).toBe("Succeeded");
    expect(exec.requests.map((r) => r.nodeName)).toEqual(["wf-2[1].b"]);
    expect(nodeFinder(done)("wf-2[1].b").inputs?.parameters?.[0]?.value).toBe("from-a");
  });
});
