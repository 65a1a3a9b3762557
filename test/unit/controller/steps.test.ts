import { describe, expect, it } from "vitest";
import { harness, run } from "./helpers.js";

const HELLO = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: hello-world}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: busybox, command: [echo, hello]}
`;

const TWO_GROUPS = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: steps}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: hello1
        template: print
        arguments: {parameters: [{name: message, value: hello1}]}
    - - name: hello2a
        template: print
        arguments: {parameters: [{name: message, value: hello2a}]}
      - name: hello2b
        template: print
        arguments: {parameters: [{name: message, value: hello2b}]}
  - name: print
    inputs: {parameters: [{name: message}]}
    container: {image: busybox, command: [echo, "{{inputs.parameters.message}}"]}
`;

describe("single pod workflow", () => {
  it("runs the entry template as the root node, with Argo's status shape", async () => {
    const { wf, n, exec } = await run(HELLO);
    expect(wf.status?.phase).toBe("Succeeded");
    const root = n("hello-world");
    expect(root.id).toBe("hello-world");
    expect(root.type).toBe("Pod");
    expect(root.displayName).toBe("hello-world");
    expect(root.templateName).toBe("main");
    expect(root.templateScope).toBe("local/hello-world");
    expect(root.boundaryID).toBeUndefined();
    expect(root.progress).toBe("1/1");
    expect(root.outputs?.exitCode).toBe("0");
    expect(wf.status?.progress).toBe("1/1");
    expect(wf.status?.startedAt).toBe("2024-01-01T00:00:00Z");
    expect(wf.status?.finishedAt).toBeDefined();
    expect(wf.metadata.labels?.["workflows.argoproj.io/phase"]).toBe("Succeeded");
    expect(wf.metadata.labels?.["workflows.argoproj.io/completed"]).toBe("true");
    expect(exec.requests).toHaveLength(1);
    expect(exec.requests[0]?.podName).toBe("hello-world");
    expect(exec.requests[0]?.captureResult).toBe(false);
  });

  it("fails the workflow with the pod's message", async () => {
    const h = harness();
    h.exec.script("main", { exitCode: 1 });
    const { wf, n } = await run(HELLO, h);
    expect(wf.status?.phase).toBe("Failed");
    expect(wf.status?.message).toBe("main: Error (exit code 1)");
    expect(n("hello-world").phase).toBe("Failed");
    expect(wf.status?.progress).toBe("0/1");
  });

  it("marks a pod Error when the executor cannot start it", async () => {
    const h = harness();
    h.exec.script("main", { startError: "no such image" });
    const { wf, n } = await run(HELLO, h);
    expect(n("hello-world").phase).toBe("Error");
    expect(wf.status?.phase).toBe("Error");
    expect(wf.status?.message).toBe("no such image");
  });
});

describe("steps", () => {
  it("creates step groups and steps with Argo's names, IDs, boundaries and edges", async () => {
    const { wf, n, exec } = await run(TWO_GROUPS);
    expect(wf.status?.phase).toBe("Succeeded");
    const root = n("steps");
    const g0 = n("steps[0]");
    const g1 = n("steps[1]");
    const s1 = n("steps[0].hello1");
    const s2a = n("steps[1].hello2a");
    const s2b = n("steps[1].hello2b");
    expect(root.type).toBe("Steps");
    expect(g0.type).toBe("StepGroup");
    expect(g0.displayName).toBe("[0]");
    expect(g0.templateName).toBeUndefined();
    expect(g0.boundaryID).toBe("steps");
    expect(s1.displayName).toBe("hello1");
    expect(s1.templateName).toBe("print");
    expect(s1.boundaryID).toBe("steps");
    expect(s1.id).toMatch(/^steps-\d+$/);
    expect(root.children).toEqual([g0.id]);
    expect(g0.children).toEqual([s1.id]);
    expect(s1.children).toEqual([g1.id]);
    expect(g1.children).toEqual([s2a.id, s2b.id]);
    expect(root.outboundNodes).toEqual([s2a.id, s2b.id]);
    expect(s1.inputs?.parameters).toEqual([{ name: "message", value: "hello1" }]);
    expect(wf.status?.progress).toBe("3/3");
    expect(root.progress).toBe("3/3");
    expect(g1.progress).toBe("2/2");
    expect(exec.requests.map((r) => r.template.container?.command)).toEqual([
      ["echo", "hello1"],
      ["echo", "hello2a"],
      ["echo", "hello2b"],
    ]);
    expect(exec.requests[0]?.podName).toBe(`steps-print-${s1.id.slice("steps-".length)}`);
  });

  it("stops at a failed group: the group and steps node fail with `child '<id>' failed`", async () => {
    const h = harness();
    h.exec.script("hello1", { exitCode: 2 });
    const { wf, n } = await run(TWO_GROUPS, h);
    const s1 = n("steps[0].hello1");
    expect(s1.phase).toBe("Failed");
    expect(s1.message).toBe("main: Error (exit code 2)");
    expect(n("steps[0]").phase).toBe("Failed");
    expect(n("steps[0]").message).toBe(`child '${s1.id}' failed`);
    expect(n("steps").phase).toBe("Failed");
    expect(n("steps").message).toBe(`child '${s1.id}' failed`);
    expect(n.has("steps[1]")).toBe(false);
    expect(wf.status?.phase).toBe("Failed");
    expect(wf.status?.message).toBe(`child '${s1.id}' failed`);
  });

  it("continueOn.failed lets the group succeed", async () => {
    const h = harness();
    h.exec.script("a", { exitCode: 1 });
    const { wf, n } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: cont}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: t, continueOn: {failed: true}}
    - - {name: b, template: t}
  - name: t
    container: {image: x}
`,
      h,
    );
    expect(n("cont[0].a").phase).toBe("Failed");
    expect(n("cont[0]").phase).toBe("Succeeded");
    expect(n("cont[1].b").phase).toBe("Succeeded");
    expect(wf.status?.phase).toBe("Succeeded");
  });

  it("skips a step whose when is false, with Argo's message", async () => {
    const { wf, n, exec } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: when}
spec:
  entrypoint: main
  arguments: {parameters: [{name: coin, value: heads}]}
  templates:
  - name: main
    steps:
    - - {name: heads, template: t, when: "{{workflow.parameters.coin}} == heads"}
      - {name: tails, template: t, when: "{{workflow.parameters.coin}} == tails"}
  - name: t
    container: {image: x}
`);
    expect(wf.status?.phase).toBe("Succeeded");
    expect(n("when[0].heads").phase).toBe("Succeeded");
    const tails = n("when[0].tails");
    expect(tails.type).toBe("Skipped");
    expect(tails.phase).toBe("Skipped");
    expect(tails.message).toBe("when 'heads == tails' evaluated false");
    expect(tails.templateName).toBe("t");
    expect(exec.requests).toHaveLength(1);
    expect(n("when").outboundNodes).toEqual([n("when[0].heads").id, tails.id]);
  });

  it("a when that cannot be evaluated errors the step and fails the workflow", async () => {
    const { wf, n } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: badwhen}
spec:
  entrypoint: main
  arguments: {parameters: [{name: v, value: "my-val"}]}
  templates:
  - name: main
    steps:
    - - {name: a, template: t, when: "{{workflow.parameters.v}} == 1"}
  - name: t
    container: {image: x}
`);
    expect(n("badwhen[0].a").type).toBe("Skipped");
    expect(n("badwhen[0].a").phase).toBe("Error");
    expect(n("badwhen[0]").phase).toBe("Error");
    expect(n("badwhen").phase).toBe("Failed");
    expect(wf.status?.phase).toBe("Failed");
  });

  it("passes output parameters and results between steps", async () => {
    const h = harness();
    h.exec.script("gen", { stdout: "42\n", outputParameters: { p: "from-file" } });
    const { wf, n, exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: pass}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: gen, template: gen}
    - - name: use
        template: echo
        arguments:
          parameters:
          - {name: a, value: "{{steps.gen.outputs.result}}"}
          - {name: b, value: "{{steps.gen.outputs.parameters.p}}-{{steps.gen.exitCode}}"}
  - name: gen
    script: {image: x, source: echo 42}
    outputs: {parameters: [{name: p, valueFrom: {path: /tmp/p}}]}
  - name: echo
    inputs: {parameters: [{name: a}, {name: b}]}
    container: {image: x, args: ["{{inputs.parameters.a}}", "{{inputs.parameters.b}}"]}
`,
      h,
    );
    expect(wf.status?.phase).toBe("Succeeded");
    expect(exec.requests[0]?.captureResult).toBe(true);
    expect(exec.requests[1]?.captureResult).toBe(false);
    expect(exec.requests[1]?.template.container?.args).toEqual(["42", "from-file-0"]);
    expect(n("pass[0].gen").outputs?.result).toBe("42");
    expect(n("pass[0].gen").outputs?.parameters?.[0]?.value).toBe("from-file");
  });

  it("a steps consumer of a skipped producer's output without default fails the workflow", async () => {
    const { wf, n } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: missing}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: p, template: gen, when: "false"}
    - - {name: c, template: t, arguments: {parameters: [{name: x, value: "{{steps.p.outputs.parameters.o}}"}]}}
  - name: gen
    container: {image: x}
    outputs: {parameters: [{name: o, valueFrom: {path: /o}}]}
  - name: t
    inputs: {parameters: [{name: x}]}
    container: {image: x}
`);
    expect(n("missing[0].p").phase).toBe("Skipped");
    expect(n("missing[1].c").phase).toBe("Error");
    expect(n("missing[1].c").message).toContain("absent optional");
    expect(n("missing[1]").phase).toBe("Error");
    expect(wf.status?.phase).toBe("Failed");
    expect(wf.status?.message).toMatch(
      /^step group deemed errored due to child missing\[1\]\.c error: .*absent optional/,
    );
  });

  it("a skipped producer's output default is used", async () => {
    const { wf, exec } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: dflt}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: p, template: gen, when: "false"}
    - - {name: c, template: t, arguments: {parameters: [{name: x, value: "{{steps.p.outputs.parameters.o}}"}]}}
  - name: gen
    container: {image: x}
    outputs: {parameters: [{name: o, valueFrom: {path: /o, default: fallback}}]}
  - name: t
    inputs: {parameters: [{name: x}]}
    container: {image: x}
`);
    expect(wf.status?.phase).toBe("Succeeded");
    expect(exec.requests[0]?.parameters).toEqual([{ name: "x", value: "fallback" }]);
  });

  it("uses input defaults, configMap values and the workflow's globals", async () => {
    const { wf, exec } = await run(`
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {greeting: hi}
---
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: globals, labels: {team: a}}
spec:
  entrypoint: t
  arguments: {parameters: [{name: g, value: gv}]}
  templates:
  - name: t
    inputs:
      parameters:
      - {name: d, default: dv}
      - {name: c, valueFrom: {configMapKeyRef: {name: cfg, key: greeting}}}
    container:
      image: x
      args: ["{{inputs.parameters.d}}", "{{inputs.parameters.c}}", "{{workflow.name}}", "{{workflow.parameters.g}}",
             "{{workflow.labels.team}}", "{{workflow.creationTimestamp.Y}}", "{{pod.name}}", "{{node.name}}", "{{custom.x}}"]
`);
    expect(wf.status?.phase).toBe("Succeeded");
    expect(exec.requests[0]?.template.container?.args).toEqual([
      "dv",
      "hi",
      "globals",
      "gv",
      "a",
      "2024",
      "globals",
      "globals",
      "{{custom.x}}",
    ]);
  });

  it("exports globalName outputs to status.outputs and workflow.outputs", async () => {
    const h = harness();
    h.exec.script("gen", { outputParameters: { p: "v1" } });
    const { wf, exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: glob}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: gen, template: gen}
    - - {name: use, template: use}
  - name: gen
    container: {image: x}
    outputs: {parameters: [{name: p, globalName: exported, valueFrom: {path: /p}}]}
  - name: use
    container: {image: x, args: ["{{workflow.outputs.parameters.exported}}"]}
`,
      h,
    );
    expect(wf.status?.outputs?.parameters).toEqual([{ name: "exported", value: "v1" }]);
    expect(exec.requests[1]?.template.container?.args).toEqual(["v1"]);
  });

  it("computes steps template outputs from valueFrom.parameter", async () => {
    const h = harness();
    h.exec.script("gen", { outputParameters: { p: "inner" } });
    const { wf, n } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: nested}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: sub, template: sub}
    - - {name: use, template: use, arguments: {parameters: [{name: v, value: "{{steps.sub.outputs.parameters.out}}"}]}}
  - name: sub
    steps:
    - - {name: gen, template: gen}
    outputs: {parameters: [{name: out, valueFrom: {parameter: "{{steps.gen.outputs.parameters.p}}"}}]}
  - name: gen
    container: {image: x}
    outputs: {parameters: [{name: p, valueFrom: {path: /p}}]}
  - name: use
    inputs: {parameters: [{name: v}]}
    container: {image: x}
`,
      h,
    );
    expect(wf.status?.phase).toBe("Succeeded");
    const sub = n("nested[0].sub");
    expect(sub.type).toBe("Steps");
    expect(sub.outputs?.parameters?.[0]?.value).toBe("inner");
    expect(n("nested[0].sub[0].gen").boundaryID).toBe(sub.id);
    expect(n("nested[0].sub[0].gen").displayName).toBe("gen");
    expect(n("nested[1].use").inputs?.parameters?.[0]?.value).toBe("inner");
  });
});

describe("input parameters from ConfigMaps", () => {
  const yaml = (cm: string) => `
${cm}
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: cmp}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: a
        template: t
        arguments: {parameters: [{name: x, valueFrom: {configMapKeyRef: {name: cfg, key: k}}}]}
  - name: t
    inputs: {parameters: [{name: x}]}
    container: {image: x, args: ["{{inputs.parameters.x}}"]}
`;

  it("reads an argument's configMapKeyRef", async () => {
    const { wf, exec } = await run(
      yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {k: from-cm}\n---"),
    );
    expect(wf.status?.phase).toBe("Succeeded");
    expect(exec.requests[0]?.template.container?.args).toEqual(["from-cm"]);
  });

  it("errors the step group when the ConfigMap is missing", async () => {
    const { wf, n } = await run(yaml(""));
    expect(n("cmp[0].a").phase).toBe("Error");
    expect(n("cmp[0].a").message).toBe(
      "unable to retrieve inputs.parameters.x from ConfigMap: ConfigMap 'cfg' does not exist",
    );
    expect(wf.status?.phase).toBe("Failed");
  });
});

describe("workflow-level errors", () => {
  it("an entry template that cannot be set up errors the workflow with Argo's wrapper", async () => {
    const { wf, n } = await run(`
apiVersion: v1
kind: ConfigMap
metadata: {name: other}
data: {}
---
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: entry}
spec:
  entrypoint: t
  templates:
  - name: t
    inputs: {parameters: [{name: x, valueFrom: {configMapKeyRef: {name: other, key: missing}}}]}
    container: {image: x}
`);
    expect(n("entry").phase).toBe("Error");
    expect(wf.status?.phase).toBe("Error");
    expect(wf.status?.message).toBe(
      "error in entry template execution: unable to retrieve inputs.parameters.x from ConfigMap: ConfigMap 'other' does not have the key 'missing'",
    );
  });

  it("a workflow semaphore without its ConfigMap fails the workflow", async () => {
    const { wf } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: nosem}
spec:
  entrypoint: t
  synchronization: {semaphores: [{configMapKeyRef: {name: absent, key: k}}]}
  templates:
  - name: t
    container: {image: x}
`);
    expect(wf.status?.phase).toBe("Failed");
    expect(wf.status?.message).toMatch(/^Failed to acquire the synchronization lock\. /);
  });
});

describe("global parameters from ConfigMaps", () => {
  it("fails the workflow when the ConfigMap is missing, as Argo words it", async () => {
    const { wf, n } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: gp}
spec:
  entrypoint: t
  arguments: {parameters: [{name: msg, valueFrom: {configMapKeyRef: {name: cfg, key: msg}}}]}
  templates:
  - name: t
    container: {image: x}
`);
    expect(wf.status?.phase).toBe("Failed");
    expect(wf.status?.message).toBe(
      "failed to set global parameters: failed to set global parameter msg from configmap with name cfg and key msg: ConfigMap 'cfg' does not exist",
    );
    expect(n.count()).toBe(0);
  });
});
