import { describe, expect, it } from "vitest";
import { harness, run, start, until } from "./helpers.js";

describe("exit handlers", () => {
  it("runs the workflow onExit with the final workflow.status, outside the tree", async () => {
    const h = harness();
    h.exec.script("main", { exitCode: 1 });
    const { wf, n, exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: ex}
spec:
  entrypoint: main
  onExit: exit
  templates:
  - name: main
    container: {image: x}
  - name: exit
    container: {image: x, args: ["{{workflow.status}}", "{{workflow.failures}}"]}
`,
      h,
    );
    const exit = n("ex.onExit");
    expect(exit.type).toBe("Pod");
    expect(exit.boundaryID).toBeUndefined();
    expect(exit.displayName).toBe("ex.onExit");
    expect(exit.nodeFlag).toEqual({ hooked: true });
    expect(n("ex").children ?? []).not.toContain(exit.id);
    const args = exec.requests[1]?.template.container?.args ?? [];
    expect(args[0]).toBe("Failed");
    const failures = JSON.parse(JSON.parse(args[1] ?? "null") as string) as {
      displayName: string;
      phase: string;
    }[];
    expect(failures).toEqual([
      expect.objectContaining({ displayName: "ex", phase: "Failed", message: "main: Error (exit code 1)" }),
    ]);
    expect(wf.status?.phase).toBe("Failed");
  });

  it("a failing exit handler fails a successful workflow with its message", async () => {
    const h = harness();
    h.exec.script("exit", { exitCode: 3 });
    const { wf } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: ex2}
spec:
  entrypoint: main
  hooks: {exit: {template: exit}}
  templates:
  - name: main
    container: {image: x}
  - name: exit
    container: {image: x}
`,
      h,
    );
    expect(wf.status?.phase).toBe("Failed");
    expect(wf.status?.message).toBe("main: Error (exit code 3)");
  });

  it("runs step-level onExit as a child of the step, and the group waits for it", async () => {
    const h = harness();
    h.exec.script("a", { exitCode: 1 });
    const { wf, n, exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: sx}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: t, onExit: cleanup, continueOn: {failed: true}}
    - - {name: b, template: t, hooks: {exit: {template: cleanup, arguments: {parameters: [{name: s, value: "{{steps.b.status}}"}]}}}}
  - name: t
    container: {image: x}
  - name: cleanup
    inputs: {parameters: [{name: s, default: none}]}
    container: {image: x, args: ["{{inputs.parameters.s}}"]}
`,
      h,
    );
    const a = n("sx[0].a");
    const ax = n("sx[0].a.onExit");
    expect(ax.displayName).toBe("a.onExit");
    expect(ax.boundaryID).toBe("sx");
    expect(a.children).toContain(ax.id);
    expect(exec.requests.map((r) => r.nodeName)).toEqual([
      "sx[0].a",
      "sx[0].a.onExit",
      "sx[1].b",
      "sx[1].b.onExit",
    ]);
    expect(exec.requests[3]?.template.container?.args).toEqual(["Succeeded"]);
    expect(wf.status?.phase).toBe("Succeeded");
  });

  it("runs lifecycle hooks whose expression becomes true", async () => {
    const { n, wf } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: lh}
spec:
  entrypoint: main
  hooks:
    running: {template: note, expression: workflow.status == "Running"}
  templates:
  - name: main
    steps:
    - - name: a
        template: t
        hooks:
          ok: {template: note, expression: steps.a.status == "Succeeded"}
          bad: {template: note, expression: steps.a.status == "Failed"}
  - name: t
    container: {image: x}
  - name: note
    container: {image: x}
`);
    expect(wf.status?.phase).toBe("Succeeded");
    expect(n("lh[0].a.hooks.ok").phase).toBe("Succeeded");
    expect(n.has("lh[0].a.hooks.bad")).toBe(false);
    expect(n("lh.hooks.running").phase).toBe("Succeeded");
    expect(n("lh").children).toContain(n("lh.hooks.running").id);
  });
});

describe("suspend", () => {
  const SUSPEND = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: sus}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: approve, template: approve}
    - - {name: after, template: t, arguments: {parameters: [{name: v, value: "{{steps.approve.outputs.parameters.answer}}"}]}}
  - name: approve
    suspend: {}
    outputs: {parameters: [{name: answer, valueFrom: {supplied: {}, default: "no"}}]}
  - name: t
    inputs: {parameters: [{name: v}]}
    container: {image: x, args: ["{{inputs.parameters.v}}"]}
`;

  it("waits indefinitely until resumed, then continues", async () => {
    const h = harness({ auto: false });
    const wf = start(SUSPEND, h);
    await until(() =>
      Object.values(wf.snapshot().status?.nodes ?? {}).some(
        (x) => x.type === "Suspend" && x.phase === "Running",
      ),
    );
    expect(h.exec.requests).toHaveLength(0);
    wf.setOutputParameters("displayName=approve", { answer: "yes" });
    wf.resume();
    await until(() => h.exec.requests.length === 1);
    h.clock.advance(0);
    const final = await wf.done;
    expect(final.status?.phase).toBe("Succeeded");
    expect(h.exec.requests[0]?.template.container?.args).toEqual(["yes"]);
    const node = Object.values(final.status?.nodes ?? {}).find((x) => x.type === "Suspend");
    expect(node?.progress).toBe("1/1");
    expect(node?.outputs?.parameters?.[0]).toEqual({ name: "answer", value: "yes" });
  });

  it("auto-resumes after duration, using the supplied default", async () => {
    const h = harness();
    const yaml = SUSPEND.replace("suspend: {}", "suspend: {duration: 20s}");
    const { wf, n, exec } = await run(yaml, h);
    expect(wf.status?.phase).toBe("Succeeded");
    expect(n("sus[0].approve").finishedAt).toBe("2024-01-01T00:00:20Z");
    expect(exec.requests[0]?.template.container?.args).toEqual(["no"]);
  });

  it("suspend() holds new nodes back until resume()", async () => {
    const h = harness({ auto: false });
    h.exec.script("a", { duration: 1000 });
    const wf = start(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: ws}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: t}
    - - {name: b, template: t}
  - name: t
    container: {image: x}
`,
      h,
    );
    await until(() => h.exec.requests.length === 1);
    wf.suspend();
    h.clock.advance(1000);
    await until(() => true, 30);
    expect(h.exec.requests).toHaveLength(1);
    expect(wf.snapshot().spec.suspend).toBe(true);
    wf.resume();
    await until(() => h.exec.requests.length === 2);
    h.clock.advance(0);
    expect((await wf.done).status?.phase).toBe("Succeeded");
  });
});

describe("exit handler arguments", () => {
  it("pass the step's own output parameters and artifacts to its exit handler", async () => {
    const h = harness();
    h.exec.script("gen", { outputParameters: { p: "val" } });
    const { wf, exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: exa}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: gen
        template: gen
        hooks:
          exit:
            template: report
            arguments:
              parameters: [{name: v, value: "{{steps.gen.outputs.parameters.p}}"}]
              artifacts: [{name: a, from: "{{steps.gen.outputs.artifacts.out}}"}]
  - name: gen
    container: {image: x}
    outputs:
      parameters: [{name: p, valueFrom: {path: /p}}]
      artifacts: [{name: out, path: /o}]
  - name: report
    inputs:
      parameters: [{name: v}]
      artifacts: [{name: a, path: /in}]
    container: {image: x}
`,
      h,
    );
    expect(wf.status?.phase).toBe("Succeeded");
    const report = exec.requests.find((r) => r.templateName === "report");
    expect(report?.parameters).toEqual([{ name: "v", value: "val" }]);
    expect(report?.inputArtifacts[0]?.local?.key).toMatch(/^exa\/exa-gen-\d+\/out\.tgz$/);
  });
});

describe("workflow-level hooks on the final status", () => {
  it("fires a hook on workflow.status == Succeeded before the exit handler", async () => {
    const { wf, n, exec } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wh}
spec:
  entrypoint: t
  hooks:
    exit: {template: t}
    done: {template: t, expression: workflow.status == "Succeeded"}
    failed: {template: t, expression: workflow.status == "Failed"}
  templates:
  - name: t
    container: {image: x}
`);
    expect(wf.status?.phase).toBe("Succeeded");
    expect(n("wh.hooks.done").phase).toBe("Succeeded");
    expect(n.has("wh.hooks.failed")).toBe(false);
    expect(exec.requests.map((r) => r.nodeName)).toEqual(["wh", "wh.hooks.done", "wh.onExit"]);
  });
});

describe("lifecycle hooks while a step runs", () => {
  it("fires a hook on status == Running while the step is still running", async () => {
    const h = harness();
    h.exec.script("step-1", { duration: 5000 });
    const { n, wf } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: lr}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: step-1
        template: t
        hooks:
          running: {template: note, expression: 'steps["step-1"].status == "Running"'}
          success: {template: note, expression: 'steps["step-1"].status == "Succeeded"'}
    - - name: t2
        template: main2
  - name: main2
    dag:
      tasks:
      - name: d
        template: t
        hooks:
          running: {template: note, expression: 'tasks.d.status == "Running"'}
  - name: t
    container: {image: x}
  - name: note
    container: {image: x}
`,
      h,
    );
    expect(wf.status?.phase).toBe("Succeeded");
    const running = n("lr[0].step-1.hooks.running");
    expect(running.startedAt).toBe("2024-01-01T00:00:00Z");
    expect(n("lr[0].step-1.hooks.success").phase).toBe("Succeeded");
    expect(n("lr[0].step-1").children).toEqual(
      expect.arrayContaining([running.id, n("lr[0].step-1.hooks.success").id]),
    );
    expect(n("lr[1].t2.d.hooks.running").phase).toBe("Succeeded");
  });
});
