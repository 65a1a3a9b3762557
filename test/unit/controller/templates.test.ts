import { describe, expect, it } from "vitest";
import { resumeWorkflow } from "../../../runtime/controller/index.js";
import type { Store } from "../../../runtime/interfaces/store.js";
import type { Workflow } from "../../../runtime/spec/types.js";
import { compileYaml, harness, run, start } from "./helpers.js";

describe("special templates", () => {
  it("daemon steps become daemoned, expose .ip, and are killed when the steps template ends", async () => {
    const h = harness();
    h.exec.script("server", { daemon: { ip: "10.1.2.3" } });
    const { wf, n, exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: dmn}
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
`,
      h,
    );
    expect(wf.status?.phase).toBe("Succeeded");
    const server = n("dmn[0].server");
    expect(server.daemoned).toBe(true);
    expect(server.podIP).toBe("10.1.2.3");
    expect(server.phase).toBe("Succeeded");
    expect(exec.requests[0]?.daemon).toBe(true);
    expect(exec.requests[1]?.template.container?.args).toEqual(["10.1.2.3"]);
    expect(exec.kills.map((k) => k.nodeName)).toEqual(["dmn[0].server"]);
  });

  it("containerSet pods get Container child nodes wired by dependencies", async () => {
    const h = harness();
    h.exec.script("cs", { containers: { b: 1 } });
    const { wf, n } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: cs}
spec:
  entrypoint: cs
  templates:
  - name: cs
    containerSet:
      containers:
      - {name: a, image: x}
      - {name: b, image: x, dependencies: [a]}
      - {name: main, image: x, dependencies: [a]}
`,
      h,
    );
    const pod = n("cs");
    const a = n("cs.a");
    const b = n("cs.b");
    const m = n("cs.main");
    expect(a.type).toBe("Container");
    expect(a.boundaryID).toBe("cs");
    expect(a.templateName).toBeUndefined();
    expect(pod.children).toEqual([a.id]);
    expect(a.children).toEqual([b.id, m.id]);
    expect(a.phase).toBe("Succeeded");
    expect(b.phase).toBe("Failed");
    expect(b.message).toBe("b: Error (exit code 1)");
    expect(pod.phase).toBe("Failed");
    expect(wf.status?.progress).toBe("2/4");
  });

  it("a resource template on an executor without Kubernetes errors with a coded message", async () => {
    const { wf, n } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: res}
spec:
  entrypoint: r
  templates:
  - name: r
    resource: {action: create, manifest: "kind: ConfigMap"}
`);
    expect(n("res").phase).toBe("Error");
    expect(n("res").message).toContain("SKF-CTRL-002");
    expect(wf.status?.phase).toBe("Error");
  });

  it("runs http and data templates through the executor with an evaluator, capturing the result", async () => {
    const h = harness();
    h.exec.script("call", { stdout: "body" });
    const { wf, n, exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: web}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: call, template: call}
  - name: call
    http: {url: "https://example.com/{{workflow.name}}"}
`,
      h,
    );
    expect(wf.status?.phase).toBe("Succeeded");
    expect(n("web[0].call").type).toBe("HTTP");
    expect(n("web[0].call").outputs?.result).toBe("body");
    expect(exec.requests[0]?.template.http?.url).toBe("https://example.com/web");
    expect(String(exec.requests[0]?.evaluate("1 + 2", {}))).toBe("3");
  });

  it("stops runaway recursion at depth 100", async () => {
    const { wf } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: rec}
spec:
  entrypoint: loop
  templates:
  - name: loop
    steps:
    - - {name: again, template: loop}
`);
    expect(wf.status?.phase).toBe("Failed");
    const errors = Object.values(wf.status?.nodes ?? {}).filter(
      (x) => x.phase === "Error" && x.type === "Skipped",
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/^Maximum recursion depth exceeded/);
  });

  it("passes artifacts by from to the consumer", async () => {
    const h = harness();
    const { wf, exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: art}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: gen, template: gen}
    - - name: use
        template: use
        arguments: {artifacts: [{name: in, from: "{{steps.gen.outputs.artifacts.out}}"}]}
  - name: gen
    container: {image: x}
    outputs: {artifacts: [{name: out, path: /tmp/out}]}
  - name: use
    inputs: {artifacts: [{name: in, path: /tmp/in}]}
    container: {image: x}
`,
      h,
    );
    expect(wf.status?.phase).toBe("Succeeded");
    const use = exec.requests[1];
    expect(use?.inputArtifacts).toEqual([
      { name: "in", path: "/tmp/in", local: { key: `art/${exec.requests[0]?.podName}/out.tgz` } },
    ]);
  });
});

describe("events, store and recovery", () => {
  const YAML = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: ev}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: t}
    - - {name: b, template: t}
  - name: t
    container: {image: x}
`;

  it("emits workflow and node events and forwards logs", async () => {
    const h = harness();
    h.exec.script("a", { logs: ["line 1", "line 2"] });
    const { events } = await run(YAML, h);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe("workflow-started");
    expect(types[types.length - 1]).toBe("workflow-finished");
    const logs = events.flatMap((e) => (e.type === "log" ? [e.line.text] : []));
    expect(logs).toEqual(["line 1", "line 2"]);
    const phases = events.flatMap((e) =>
      e.type === "node-updated" && e.node.name === "ev[0].a" ? [e.node.phase] : [],
    );
    expect(phases.length).toBeGreaterThanOrEqual(2);
    expect(events.some((e) => e.type === "node-updated" && e.previousPhase === "Running")).toBe(true);
  });

  it("puts the workflow to the store after transitions, ending with the final state", async () => {
    const h = harness();
    const puts: Workflow[] = [];
    const store = {
      put: (wf: Workflow) => {
        puts.push(structuredClone(wf));
        return Promise.resolve();
      },
    } as unknown as Store;
    await run(YAML, h, { store });
    expect(puts.length).toBeGreaterThan(1);
    expect(puts[puts.length - 1]?.status?.phase).toBe("Succeeded");
  });

  it("resumeWorkflow keeps finished nodes and does not re-run them", async () => {
    const h = harness();
    const compiled = compileYaml(YAML);
    const first = start(compiled, h);
    const final = await first.done;
    const persisted = structuredClone(final);
    // Pretend the controller died after step a: forget b and the completion.
    const nodes = persisted.status?.nodes ?? {};
    for (const [id, node] of Object.entries(nodes)) {
      if (node.name.startsWith("ev[1]")) delete nodes[id];
    }
    for (const node of Object.values(nodes)) {
      if (node.name === "ev" || node.name === "ev[0]") {
        node.phase = node.name === "ev" ? "Running" : node.phase;
        delete node.finishedAt;
      }
      node.children = node.children?.filter((c) => nodes[c]);
    }
    if (persisted.status) {
      persisted.status.phase = "Running";
      delete persisted.status.finishedAt;
    }
    const h2 = harness();
    const resumed = await resumeWorkflow(compiled, persisted, { executor: h2.exec, clock: h2.clock }).done;
    expect(resumed.status?.phase).toBe("Succeeded");
    expect(h2.exec.requests.map((r) => r.nodeName)).toEqual(["ev[1].b"]);
  });
});

describe("recovery of a DAG", () => {
  it("resumes a DAG without re-running finished tasks, re-running the one that was running", async () => {
    const yaml = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: rd}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: A, template: t}
      - {name: B, template: t, depends: A}
      - {name: C, template: t, depends: B}
  - name: t
    container: {image: x}
`;
    const compiled = compileYaml(yaml);
    const h = harness({ auto: false });
    h.exec.script("rd.B", { duration: 10_000 });
    const first = start(compiled, h);
    await new Promise((r) => setImmediate(r));
    h.clock.advance(0);
    for (let i = 0; i < 20 && h.exec.requests.length < 2; i++) await new Promise((r) => setImmediate(r));
    expect(h.exec.requests.map((r) => r.nodeName)).toEqual(["rd.A", "rd.B"]);
    // The controller "dies" here: take what a store would hold and start again.
    const persisted = first.snapshot();
    first.stop("Terminate");
    await first.done;
    const h2 = harness();
    const resumed = await resumeWorkflow(compiled, persisted, { executor: h2.exec, clock: h2.clock }).done;
    expect(resumed.status?.phase).toBe("Succeeded");
    expect(h2.exec.requests.map((r) => r.nodeName)).toEqual(["rd.B", "rd.C"]);
    const nodes = Object.values(resumed.status?.nodes ?? {});
    expect(nodes.find((x) => x.name === "rd.A")?.children).toEqual([
      nodes.find((x) => x.name === "rd.B")?.id,
    ]);
  });
});

describe("persistence under a slow store", () => {
  it("never queues more than one put behind the one in flight, and the last put has the final state", async () => {
    const h = harness();
    let inFlight = 0;
    let maxInFlight = 0;
    const phases: (string | undefined)[] = [];
    const store = {
      put: async (wf: Workflow) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
        phases.push(wf.status?.phase);
        inFlight--;
      },
    } as unknown as Store;
    const { wf } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: slow}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: s, template: t, withSequence: {count: "30"}}
  - name: t
    container: {image: x}
`,
      h,
      { store },
    );
    expect(wf.status?.phase).toBe("Succeeded");
    expect(maxInFlight).toBe(1);
    expect(phases[phases.length - 1]).toBe("Succeeded");
    expect(phases.length).toBeLessThan(30);
  });
});
