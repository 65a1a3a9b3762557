import { describe, expect, it } from "vitest";
import { harness, run } from "./helpers.js";

/*
 * Argo behaviours found by running real-world workflows (issue 11), each with the smallest workflow that
 * shows it.
 */

describe("output parameters with a literal value (gap 2)", () => {
  it("exports a container template's literal output value to the next step", async () => {
    const { wf, n, exec } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: literal-out}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: produce}
    - - name: b
        template: consume
        arguments: {parameters: [{name: v, value: "{{steps.a.outputs.parameters.p}}"}]}
  - name: produce
    inputs: {parameters: [{name: x, default: hello}]}
    outputs: {parameters: [{name: p, value: "{{inputs.parameters.x}}-x"}]}
    container: {image: busybox, command: ["true"]}
  - name: consume
    inputs: {parameters: [{name: v}]}
    container: {image: busybox, command: [echo, "{{inputs.parameters.v}}"]}
`);
    expect(wf.status?.phase).toBe("Succeeded");
    expect(n("literal-out[0].a").phase).toBe("Succeeded");
    expect(n("literal-out[0].a").outputs?.parameters).toEqual([{ name: "p", value: "hello-x" }]);
    expect(n("literal-out[1].b").phase).toBe("Succeeded");
    expect(exec.requests[1]?.template.container?.command).toEqual(["echo", "hello-x"]);
  });

  it("aggregates a looped task's literal outputs as a JSON list", async () => {
    const { wf, n, exec } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: literal-loop}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - name: gen
        template: produce
        arguments: {parameters: [{name: x, value: "{{item}}"}]}
        withItems: [a, b]
      - name: use
        depends: gen
        template: consume
        arguments: {parameters: [{name: v, value: "{{tasks.gen.outputs.parameters.p}}"}]}
  - name: produce
    inputs: {parameters: [{name: x}]}
    outputs: {parameters: [{name: p, value: "v-{{inputs.parameters.x}}"}]}
    script: {image: python, command: [python], source: "pass"}
  - name: consume
    inputs: {parameters: [{name: v}]}
    container: {image: busybox, command: [echo, "{{inputs.parameters.v}}"]}
`);
    expect(wf.status?.phase).toBe("Succeeded");
    expect(n("literal-loop.gen(0:a)").outputs?.parameters?.[0]?.value).toBe("v-a");
    expect(n("literal-loop.use").phase).toBe("Succeeded");
    expect(exec.requests.at(-1)?.template.container?.command).toEqual(["echo", '["v-a","v-b"]']);
  });

  it("takes a retried task's literal output from its last attempt", async () => {
    const h = harness();
    h.exec.script("produce", (_req, call) => ({ exitCode: call === 0 ? 1 : 0 }));
    const { wf, n, exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: literal-retry}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: gen, template: produce}
      - name: use
        depends: gen
        template: consume
        arguments: {parameters: [{name: v, value: "{{tasks.gen.outputs.parameters.p}}"}]}
  - name: produce
    retryStrategy: {limit: "2"}
    outputs: {parameters: [{name: p, value: "attempt-{{retries}}"}]}
    container: {image: busybox, command: ["true"]}
  - name: consume
    inputs: {parameters: [{name: v}]}
    container: {image: busybox, command: [echo, "{{inputs.parameters.v}}"]}
`,
      h,
    );
    expect(wf.status?.phase).toBe("Succeeded");
    expect(n("literal-retry.gen").type).toBe("Retry");
    expect(n("literal-retry.gen(0)").phase).toBe("Failed");
    expect(n("literal-retry.gen(1)").phase).toBe("Succeeded");
    expect(n("literal-retry.gen").outputs?.parameters?.[0]?.value).toBe("attempt-1");
    expect(exec.requests.at(-1)?.template.container?.command).toEqual(["echo", "attempt-1"]);
  });
});

describe("literal outputs of looped, retried children (gap 2)", () => {
  it("aggregates each child's last attempt in loop order", async () => {
    const h = harness();
    // The first attempt of item b fails; its retry succeeds.
    h.exec.script("produce", (req) => ({ exitCode: req.nodeName.endsWith("(1:b)(0)") ? 1 : 0 }));
    const { wf, n, exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: loop-retry}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: gen
        template: produce
        arguments: {parameters: [{name: x, value: "{{item}}"}]}
        withItems: [a, b]
    - - name: use
        template: consume
        arguments: {parameters: [{name: v, value: "{{steps.gen.outputs.parameters.p}}"}]}
  - name: produce
    retryStrategy: {limit: "1"}
    inputs: {parameters: [{name: x}]}
    outputs: {parameters: [{name: p, value: "{{inputs.parameters.x}}{{retries}}"}]}
    container: {image: busybox, command: ["true"]}
  - name: consume
    inputs: {parameters: [{name: v}]}
    container: {image: busybox, command: [echo, "{{inputs.parameters.v}}"]}
`,
      h,
    );
    expect(wf.status?.phase).toBe("Succeeded");
    expect(n("loop-retry[0].gen(1:b)").type).toBe("Retry");
    expect(n("loop-retry[0].gen(1:b)(0)").phase).toBe("Failed");
    expect(n("loop-retry[0].gen(1:b)(1)").phase).toBe("Succeeded");
    expect(n("loop-retry[1].use").phase).toBe("Succeeded");
    expect(exec.requests.at(-1)?.template.container?.command).toEqual(["echo", '["a0","b1"]']);
  });
});

describe("parameters in input artifact locations (gap 3)", () => {
  it("substitutes input and global parameters into http.url and s3.key", async () => {
    const { wf, n, exec } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: art-loc}
spec:
  entrypoint: main
  arguments: {parameters: [{name: bucket-key, value: data/in.txt}]}
  templates:
  - name: main
    steps:
    - - name: fetch
        template: fetch
        arguments: {parameters: [{name: host, value: "http://example.test"}]}
  - name: fetch
    inputs:
      parameters: [{name: host}]
      artifacts:
      - {name: page, path: /tmp/page, http: {url: "{{inputs.parameters.host}}/index.html"}}
      - {name: obj, path: /tmp/obj, s3: {bucket: b, key: "{{workflow.parameters.bucket-key}}"}}
    container: {image: busybox, command: [cat, /tmp/page]}
`);
    expect(wf.status?.phase).toBe("Succeeded");
    expect(n("art-loc[0].fetch").phase).toBe("Succeeded");
    const arts = exec.requests[0]?.inputArtifacts ?? [];
    expect(arts.find((a) => a.name === "page")?.http?.url).toBe("http://example.test/index.html");
    expect(arts.find((a) => a.name === "obj")?.s3?.key).toBe("data/in.txt");
  });
});

describe("optional input artifacts (gap 4)", () => {
  it("skips an optional input artifact whose location is empty", async () => {
    const { wf, n, exec } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: opt-empty}
spec:
  entrypoint: main
  templates:
  - name: main
    inputs:
      artifacts:
      - {name: maybe, path: /tmp/maybe, optional: true, http: {url: ""}}
    container: {image: busybox, command: ["true"]}
`);
    expect(wf.status?.phase).toBe("Succeeded");
    expect(n("opt-empty").phase).toBe("Succeeded");
    expect(exec.requests[0]?.inputArtifacts).toEqual([]);
  });

  it("accepts `from:` an output artifact the producer did not save when the input is optional", async () => {
    const h = harness();
    h.exec.script("produce", { outputArtifacts: { out: null } });
    const { wf, n, exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: opt-from}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: produce}
    - - name: b
        template: consume
        arguments: {artifacts: [{name: in, from: "{{steps.a.outputs.artifacts.out}}"}]}
  - name: produce
    outputs: {artifacts: [{name: out, path: /tmp/out, optional: true}]}
    container: {image: busybox, command: ["true"]}
  - name: consume
    inputs: {artifacts: [{name: in, path: /tmp/in, optional: true}]}
    container: {image: busybox, command: ["true"]}
`,
      h,
    );
    expect(wf.status?.phase).toBe("Succeeded");
    expect(n("opt-from[0].a").phase).toBe("Succeeded");
    expect(n("opt-from[1].b").phase).toBe("Succeeded");
    expect(exec.requests[1]?.inputArtifacts).toEqual([]);
  });
});

describe("`when` before arguments (gap 5)", () => {
  it("skips a DAG task whose when is false without evaluating its arguments", async () => {
    const { wf, n } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: when-first}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, template: produce, when: "false"}
      - name: b
        depends: a
        when: "{{tasks.a.status}} == Succeeded"
        template: consume
        arguments: {parameters: [{name: v, value: "{{=jsonpath(tasks.a.outputs.result, '$.k')}}"}]}
  - name: produce
    script: {image: python, command: [python], source: "print('{}')"}
  - name: consume
    inputs: {parameters: [{name: v}]}
    container: {image: busybox, command: [echo, "{{inputs.parameters.v}}"]}
`);
    expect(wf.status?.phase).toBe("Succeeded");
    expect(n("when-first.a").phase).toBe("Skipped");
    expect(n("when-first.b").phase).toBe("Skipped");
    expect(n("when-first.b").message).toBe("when 'Skipped == Succeeded' evaluated false");
  });

  it("skips a looped step whose when is false without evaluating withParam", async () => {
    const { wf, n } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: when-loop}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: produce, when: "false"}
    - - name: b
        when: "{{steps.a.status}} == Succeeded"
        template: consume
        arguments: {parameters: [{name: v, value: "{{item}}"}]}
        withParam: "{{=jsonpath(steps.a.outputs.result, '$.list')}}"
  - name: produce
    script: {image: python, command: [python], source: "print('{}')"}
  - name: consume
    inputs: {parameters: [{name: v}]}
    container: {image: busybox, command: [echo, "{{inputs.parameters.v}}"]}
`);
    expect(wf.status?.phase).toBe("Succeeded");
    expect(n("when-loop[0].a").phase).toBe("Skipped");
    expect(n("when-loop[1].b").phase).toBe("Skipped");
    expect(n("when-loop[1].b").message).toBe("when 'Skipped == Succeeded' evaluated false");
  });
  it("skips a looped DAG task whose when is false without evaluating withParam", async () => {
    const { wf, n } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: when-dag-loop}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, template: produce, when: "false"}
      - name: b
        depends: a
        when: "{{tasks.a.status}} == Succeeded"
        template: consume
        arguments: {parameters: [{name: v, value: "{{item}}"}]}
        withParam: "{{=jsonpath(tasks.a.outputs.result, '$.list')}}"
  - name: produce
    script: {image: python, command: [python], source: "print('{}')"}
  - name: consume
    inputs: {parameters: [{name: v}]}
    container: {image: busybox, command: [echo, "{{inputs.parameters.v}}"]}
`);
    expect(wf.status?.phase).toBe("Succeeded");
    expect(n("when-dag-loop.a").phase).toBe("Skipped");
    expect(n("when-dag-loop.b").phase).toBe("Skipped");
    expect(n("when-dag-loop.b").message).toBe("when 'Skipped == Succeeded' evaluated false");
  });
});

describe("expression defaults of input parameters (gap 6)", () => {
  it("an expression sees an input parameter whose default is an expression evaluated", async () => {
    const { wf, n, exec } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: expr-default}
spec:
  entrypoint: main
  templates:
  - name: main
    inputs:
      parameters:
      - {name: n, default: "2"}
      - {name: list, default: "{{=toJson(map(1..asInt(inputs.parameters.n), {# * 10}))}}"}
    container: {image: busybox, command: [echo, "{{=fromJSON(inputs.parameters.list)[1]}}", "{{inputs.parameters.list}}"]}
`);
    expect(wf.status?.phase).toBe("Succeeded");
    expect(n("expr-default").inputs?.parameters?.[1]?.value).toBe("[10,20]");
    expect(exec.requests[0]?.template.container?.command).toEqual(["echo", "20", "[10,20]"]);
  });
});

describe("workflow-level exit hook arguments (gap 9)", () => {
  it("substitutes workflow.name and workflow.status into hooks.exit arguments", async () => {
    const h = harness();
    h.exec.script("main", { exitCode: 1 });
    const { wf, n, exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: exit-args}
spec:
  entrypoint: main
  hooks:
    exit:
      template: notify
      arguments: {parameters: [{name: msg, value: "{{workflow.name}} {{workflow.status}}"}]}
  templates:
  - name: main
    container: {image: busybox, command: ["false"]}
  - name: notify
    inputs: {parameters: [{name: msg}]}
    container: {image: busybox, command: [echo, "{{inputs.parameters.msg}}"]}
`,
      h,
    );
    expect(wf.status?.phase).toBe("Failed");
    expect(n("exit-args.onExit").phase).toBe("Succeeded");
    expect(n("exit-args.onExit").inputs?.parameters?.[0]?.value).toBe("exit-args Failed");
    expect(exec.requests[1]?.template.container?.command).toEqual(["echo", "exit-args Failed"]);
  });
});
