import { describe, expect, it } from "vitest";
import { harness, run } from "./helpers.js";

const DIAMOND = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: diamond}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: A, template: t}
      - {name: B, template: t, dependencies: [A]}
      - {name: C, template: t, dependencies: [A]}
      - {name: D, template: t, dependencies: [B, C]}
  - name: t
    container: {image: x}
`;

describe("dag", () => {
  it("runs a diamond with Argo's node names and edges", async () => {
    const { wf, n, exec } = await run(DIAMOND);
    expect(wf.status?.phase).toBe("Succeeded");
    const root = n("diamond");
    const [a, b, c, d] = ["A", "B", "C", "D"].map((x) => n(`diamond.${x}`));
    expect(root.type).toBe("DAG");
    expect(a?.displayName).toBe("A");
    expect(a?.boundaryID).toBe("diamond");
    expect(root.children).toEqual([a?.id]);
    expect(a?.children).toEqual([b?.id, c?.id]);
    expect(b?.children).toEqual([d?.id]);
    expect(c?.children).toEqual([d?.id]);
    expect(root.outboundNodes).toEqual([d?.id]);
    expect(exec.requests.map((r) => r.nodeName)).toEqual([
      "diamond.A",
      "diamond.B",
      "diamond.C",
      "diamond.D",
    ]);
    expect(wf.status?.progress).toBe("4/4");
  });

  it("omits dependents of a failed task and fails the DAG without a message", async () => {
    const h = harness();
    h.exec.script("diamond.B", { exitCode: 1 });
    const { wf, n } = await run(DIAMOND, h);
    expect(n("diamond.B").phase).toBe("Failed");
    expect(n("diamond.C").phase).toBe("Succeeded");
    const d = n("diamond.D");
    expect(d.type).toBe("Skipped");
    expect(d.phase).toBe("Omitted");
    expect(d.message).toBe("omitted: depends condition not met");
    expect(n("diamond").phase).toBe("Failed");
    expect(n("diamond").message).toBeUndefined();
    expect(wf.status?.phase).toBe("Failed");
    expect(wf.status?.message).toBeUndefined();
  });

  it("enhanced depends runs a cleanup task on failure", async () => {
    const h = harness();
    h.exec.script("diamond.A", { exitCode: 1 });
    const { wf, n } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: diamond}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: A, template: t}
      - {name: ok, template: t, depends: "A.Succeeded"}
      - {name: cleanup, template: t, depends: "A.Failed || A.Errored"}
  - name: t
    container: {image: x}
`,
      h,
    );
    expect(n("diamond.ok").phase).toBe("Omitted");
    expect(n("diamond.cleanup").phase).toBe("Succeeded");
    // Targets are cleanup and ok: ok's branch carries A's failure.
    expect(wf.status?.phase).toBe("Failed");
  });

  it("continueOn on a task lets its dependents run", async () => {
    const h = harness();
    h.exec.script("diamond.A", { exitCode: 1 });
    const { wf, n } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: diamond}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: A, template: t, continueOn: {failed: true}}
      - {name: B, template: t, dependencies: [A]}
  - name: t
    container: {image: x}
`,
      h,
    );
    expect(n("diamond.B").phase).toBe("Succeeded");
    expect(wf.status?.phase).toBe("Succeeded");
  });

  it("only runs targets and their ancestors", async () => {
    const { n, exec } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: target}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      target: B
      tasks:
      - {name: A, template: t}
      - {name: B, template: t, dependencies: [A]}
      - {name: C, template: t, dependencies: [A]}
  - name: t
    container: {image: x}
`);
    expect(exec.requests.map((r) => r.nodeName)).toEqual(["target.A", "target.B"]);
    expect(n.has("target.C")).toBe(false);
    expect(n("target").outboundNodes).toEqual([n("target.B").id]);
  });

  it("expands loops into a TaskGroup", async () => {
    const { wf, n } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: dl}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: A, template: t, withItems: [foo, bar]}
      - {name: B, template: t, depends: A}
  - name: t
    container: {image: x}
`);
    expect(wf.status?.phase).toBe("Succeeded");
    const tg = n("dl.A");
    expect(tg.type).toBe("TaskGroup");
    const c0 = n("dl.A(0:foo)");
    const c1 = n("dl.A(1:bar)");
    expect(c0.displayName).toBe("A(0:foo)");
    expect(tg.children).toEqual([c0.id, c1.id]);
    expect(c0.children).toEqual([n("dl.B").id]);
    expect(c1.children).toEqual([n("dl.B").id]);
  });

  it("passes task outputs through tasks.X references and DAG template outputs", async () => {
    const h = harness();
    h.exec.script("gen", { outputParameters: { p: "hello" } });
    const { wf, exec, n } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: dout}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: gen, template: gen}
      - name: use
        template: use
        depends: gen
        arguments: {parameters: [{name: v, value: "{{tasks.gen.outputs.parameters.p}}"}]}
    outputs:
      parameters:
      - {name: o, valueFrom: {parameter: "{{tasks.gen.outputs.parameters.p}}"}}
      - {name: e, valueFrom: {expression: "tasks.gen.outputs.parameters.p + '!'"}}
  - name: gen
    container: {image: x}
    outputs: {parameters: [{name: p, valueFrom: {path: /p}}]}
  - name: use
    inputs: {parameters: [{name: v}]}
    container: {image: x, args: ["{{inputs.parameters.v}}"]}
`,
      h,
    );
    expect(wf.status?.phase).toBe("Succeeded");
    expect(exec.requests[1]?.template.container?.args).toEqual(["hello"]);
    expect(n("dout").outputs?.parameters?.map((p) => p.value)).toEqual(["hello", "hello!"]);
  });

  it("a DAG consumer of a skipped producer's output without default errors the workflow", async () => {
    const { wf, n } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: absent}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: p, template: gen, when: "false"}
      - name: c
        template: use
        depends: p
        arguments: {parameters: [{name: v, value: "{{tasks.p.outputs.parameters.x}}"}]}
  - name: gen
    container: {image: x}
    outputs: {parameters: [{name: x, valueFrom: {path: /x}}]}
  - name: use
    inputs: {parameters: [{name: v}]}
    container: {image: x}
`);
    expect(n("absent.p").phase).toBe("Skipped");
    expect(n("absent.c").phase).toBe("Error");
    expect(n("absent.c").message).toMatch(/^task 'absent\.c' errored: .*absent optional/);
    expect(wf.status?.phase).toBe("Error");
  });
});
