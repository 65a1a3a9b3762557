import { describe, expect, it } from "vitest";
import { harness, run, start, until } from "./helpers.js";

describe("template references", () => {
  it("records templateRef and the WorkflowTemplate's scope on nodes", async () => {
    const { wf, n, exec } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: lib}
spec:
  templates:
  - name: greet
    inputs: {parameters: [{name: who}]}
    steps:
    - - {name: say, template: say, arguments: {parameters: [{name: who, value: "{{inputs.parameters.who}}"}]}}
  - name: say
    inputs: {parameters: [{name: who}]}
    container: {image: x, args: ["hi {{inputs.parameters.who}}"]}
---
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: refs}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: call
        templateRef: {name: lib, template: greet}
        arguments: {parameters: [{name: who, value: bob}]}
`);
    expect(wf.status?.phase).toBe("Succeeded");
    const call = n("refs[0].call");
    expect(call.templateRef).toEqual({ name: "lib", template: "greet" });
    expect(call.templateName).toBeUndefined();
    expect(call.templateScope).toBe("local/refs");
    const say = n("refs[0].call[0].say");
    expect(say.templateName).toBe("say");
    expect(say.templateScope).toBe("namespaced/lib");
    expect(exec.requests[0]?.template.container?.args).toEqual(["hi bob"]);
  });

  it("honours the display-name annotation", async () => {
    const { n } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: dn}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: t}
  - name: t
    metadata: {annotations: {workflows.argoproj.io/display-name: nice-name}}
    container: {image: x}
`);
    expect(n("dn[0].a").displayName).toBe("nice-name");
  });
});

describe("dag extras", () => {
  it("task-level exit handlers and hooks hang off the task node", async () => {
    const h = harness();
    h.exec.script("dx.A", { exitCode: 1 });
    const { wf, n } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: dx}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - name: A
        template: t
        hooks:
          exit: {template: t}
          failed: {template: t, expression: tasks.A.status == "Failed"}
  - name: t
    container: {image: x}
`,
      h,
    );
    const a = n("dx.A");
    expect(a.children).toEqual(expect.arrayContaining([n("dx.A.onExit").id, n("dx.A.hooks.failed").id]));
    expect(n("dx.A.onExit").boundaryID).toBe("dx");
    expect(n("dx.A.onExit").phase).toBe("Succeeded");
    expect(wf.status?.phase).toBe("Failed");
    expect(n("dx").outboundNodes).toEqual([a.id]);
  });

  it("a task depending on a daemon starts once the daemon is ready; the daemon is killed at the end", async () => {
    const h = harness();
    h.exec.script("db", { daemon: { ip: "1.2.3.4", readyAfter: 500 } });
    const { wf, n, exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: dd}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: db, template: db}
      - {name: client, template: t, depends: db, arguments: {parameters: [{name: ip, value: "{{tasks.db.ip}}"}]}}
  - name: db
    daemon: true
    container: {image: x}
  - name: t
    inputs: {parameters: [{name: ip}]}
    container: {image: x, args: ["{{inputs.parameters.ip}}"]}
`,
      h,
    );
    expect(wf.status?.phase).toBe("Succeeded");
    expect(exec.requests[1]?.template.container?.args).toEqual(["1.2.3.4"]);
    expect(n("dd.db").daemoned).toBe(true);
    expect(n("dd.db").phase).toBe("Succeeded");
    expect(n("dd.client").startedAt).toBe("2024-01-01T00:00:00Z");
  });

  it("nested DAG progress sums descendants", async () => {
    const { wf, n } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: np}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: inner, template: inner}
      - {name: last, template: t, depends: inner}
  - name: inner
    dag:
      tasks:
      - {name: x, template: t}
      - {name: y, template: t}
  - name: t
    container: {image: x}
`);
    expect(wf.status?.progress).toBe("3/3");
    expect(n("np.inner").progress).toBe("3/3");
    expect(n("np.inner").outboundNodes).toEqual([n("np.inner.x").id, n("np.inner.y").id]);
    expect(n("np.inner.x").children).toEqual([n("np.last").id]);
    expect(n("np.last").progress).toBe("1/1");
  });
});

describe("retry extras", () => {
  it("stops with `Backoff would exceed max duration limit`", async () => {
    const h = harness();
    h.exec.script("t", { exitCode: 1, duration: 1000 });
    const { n } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: rmax}
spec:
  entrypoint: t
  templates:
  - name: t
    retryStrategy: {limit: 10, backoff: {duration: 5s, maxDuration: 4s}}
    container: {image: x}
`,
      h,
    );
    expect(n("rmax").message).toBe("Backoff would exceed max duration limit");
    expect(n("rmax").phase).toBe("Failed");
    expect(n.has("rmax(1)")).toBe(false);
  });

  it("the workflow deadline ends a retrying node", async () => {
    const h = harness();
    h.exec.script("t", { exitCode: 1, duration: 1000 });
    const { n, wf } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: rdl}
spec:
  entrypoint: t
  activeDeadlineSeconds: 5
  templates:
  - name: t
    retryStrategy: {limit: 10, backoff: {duration: 10s}}
    container: {image: x}
`,
      h,
    );
    expect(n("rdl").message).toBe("retry exceeded workflow deadline 2024-01-01 00:00:05 +0000 UTC");
    expect(wf.status?.phase).toBe("Failed");
  });
});

describe("suspend and stop extras", () => {
  it("the workflow deadline fails an active suspend node", async () => {
    const { n, wf } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: sdl}
spec:
  entrypoint: wait
  activeDeadlineSeconds: 30
  templates:
  - name: wait
    suspend: {}
`);
    expect(n("sdl").type).toBe("Suspend");
    expect(n("sdl").phase).toBe("Failed");
    expect(n("sdl").message).toBe("Step exceeded its deadline");
    expect(wf.status?.phase).toBe("Failed");
  });

  it("Stop fails nodes waiting for a lock with `Stopped with strategy 'Stop'`", async () => {
    const h = harness({ auto: false });
    h.exec.script("t", { duration: 100_000 });
    const yaml = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: lk}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: t}
      - {name: b, template: t}
  - name: t
    synchronization: {mutexes: [{name: one}]}
    container: {image: x}
`;
    const wf = start(yaml, h);
    await until(() => h.exec.requests.length === 1);
    await until(() => Object.values(wf.snapshot().status?.nodes ?? {}).some((x) => x.synchronizationStatus));
    wf.stop("Stop");
    const final = await wf.done;
    const nodes = Object.values(final.status?.nodes ?? {});
    const b = nodes.find((x) => x.name === "lk[0].b");
    expect(b?.phase).toBe("Failed");
    expect(b?.message).toBe("Stopped with strategy 'Stop'");
    expect(final.status?.phase).toBe("Failed");
  });
});

describe("data and artifacts", () => {
  it("data templates are Pod nodes whose result is captured", async () => {
    const h = harness();
    h.exec.script("d", { stdout: '["a","b"]' });
    const { n, exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: data}
spec:
  entrypoint: d
  templates:
  - name: d
    data:
      source: {artifactPaths: {name: files, s3: {key: x}}}
      transformation: [{expression: "filter(data, {# endsWith '.csv'})"}]
`,
      h,
    );
    expect(n("data").type).toBe("Pod");
    expect(exec.requests[0]?.captureResult).toBe(true);
    expect(n("data").outputs?.result).toBe('["a","b"]');
  });

  it("exports global output artifacts to status.outputs.artifacts", async () => {
    const { wf } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: ga}
spec:
  entrypoint: t
  templates:
  - name: t
    container: {image: x}
    outputs: {artifacts: [{name: out, path: /o, globalName: report}]}
`);
    expect(wf.status?.outputs?.artifacts).toEqual([
      { name: "report", path: "/o", local: { key: "ga/ga/out.tgz" } },
    ]);
  });
});

describe("artifact outputs of steps and DAG templates", () => {
  it("resolves output artifacts by from and fromExpression, and global artifacts by name", async () => {
    const h = harness();
    const { wf, n, exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: ao}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: sub, template: sub}
    - - name: use
        template: use
        arguments:
          artifacts:
          - {name: a, from: "{{steps.sub.outputs.artifacts.first}}"}
          - {name: b, from: "{{workflow.outputs.artifacts.shared}}"}
  - name: sub
    dag:
      tasks:
      - {name: gen, template: gen}
    outputs:
      artifacts:
      - {name: first, from: "{{tasks.gen.outputs.artifacts.out}}"}
      - {name: second, fromExpression: "tasks.gen.outputs.artifacts.out"}
  - name: gen
    container: {image: x}
    outputs: {artifacts: [{name: out, path: /o, globalName: shared}]}
  - name: use
    inputs: {artifacts: [{name: a, path: /a}, {name: b, path: /b}]}
    container: {image: x}
`,
      h,
    );
    expect(wf.status?.phase).toBe("Succeeded");
    const key = `ao/${exec.requests[0]?.podName}/out.tgz`;
    expect(n("ao[0].sub").outputs?.artifacts).toEqual([
      { name: "first", local: { key } },
      { name: "second", local: { key } },
    ]);
    expect(exec.requests[1]?.inputArtifacts).toEqual([
      { name: "a", path: "/a", local: { key } },
      { name: "b", path: "/b", local: { key } },
    ]);
  });

  it("an optional input artifact whose producer has none is dropped; a required one errors", async () => {
    const h = harness();
    h.exec.script("gen", { outputArtifacts: { out: null } });
    const { n, exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: oa}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: gen, template: gen}
    - - name: use
        template: use
        arguments: {artifacts: [{name: a, from: "{{steps.gen.outputs.artifacts.out}}", optional: true}]}
  - name: gen
    container: {image: x}
    outputs: {artifacts: [{name: out, path: /o, optional: true}]}
  - name: use
    inputs: {artifacts: [{name: a, path: /a, optional: true}]}
    container: {image: x}
`,
      h,
    );
    expect(n("oa[1].use").phase).toBe("Succeeded");
    expect(exec.requests[1]?.inputArtifacts).toEqual([]);
  });
});
