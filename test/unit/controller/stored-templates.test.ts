import { describe, expect, it } from "vitest";
import { resumeWorkflow, storedTemplateKey } from "../../../runtime/controller/index.js";
import type { CompiledWorkflow } from "../../../runtime/spec/compiled.js";
import type { Workflow } from "../../../runtime/spec/types.js";
import { compileYaml, harness, nodeFinder, run, start } from "./helpers.js";

const WFT = (image: string) => `
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: lib}
spec:
  templates:
  - name: outer
    steps:
    - - {name: in, template: inner}
  - name: inner
    container: {image: ${image}}
---
apiVersion: argoproj.io/v1alpha1
kind: ClusterWorkflowTemplate
metadata: {name: clib}
spec:
  templates:
  - name: c
    container: {image: ${image}}
`;

const USES_REFS = (image: string) => `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: st}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, templateRef: {name: lib, template: outer}}
    - - {name: b, templateRef: {name: clib, template: c, clusterScope: true}}
    - - {name: c, template: own}
  - name: own
    container: {image: local}
---${WFT(image)}`;

/** Runs until the first step has started, then takes what a store would hold, as if the controller died. */
async function persistedAfterFirstStep(compiled: CompiledWorkflow): Promise<Workflow> {
  const h = harness({ auto: false });
  h.exec.script("in", { duration: 10_000 });
  const first = start(compiled, h);
  for (let i = 0; i < 50 && h.exec.requests.length < 1; i++) {
    h.clock.advance(0);
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setImmediate(r));
  const persisted = first.snapshot();
  first.stop("Terminate");
  await first.done;
  return persisted;
}

describe("status.storedTemplates", () => {
  it("freezes templates reached through templateRef, keyed as Argo keys them", async () => {
    const { wf } = await run(USES_REFS("v1"));
    expect(wf.status?.phase).toBe("Succeeded");
    const stored = wf.status?.storedTemplates ?? {};
    expect(Object.keys(stored).sort()).toEqual([
      "cluster/clib/c",
      "namespaced/lib/inner",
      "namespaced/lib/outer",
    ]);
    expect(stored["namespaced/lib/inner"]?.container?.image).toBe("v1");
    expect(stored["cluster/clib/c"]?.name).toBe("c");
    // The workflow's own templates are not stored, nor is the spec of a run without workflowTemplateRef.
    expect(wf.status?.storedWorkflowTemplateSpec).toBeUndefined();
  });

  it("a resumed run uses the stored copies, not the library it is compiled with again", async () => {
    const persisted = await persistedAfterFirstStep(compileYaml(USES_REFS("v1")));
    expect(Object.keys(persisted.status?.storedTemplates ?? {}).sort()).toEqual([
      "namespaced/lib/inner",
      "namespaced/lib/outer",
    ]);
    // The library changed in between: `inner` now runs v2, and `clib` (not used yet) too.
    const h = harness();
    const wf = await resumeWorkflow(compileYaml(USES_REFS("v2")), persisted, {
      executor: h.exec,
      clock: h.clock,
    }).done;
    expect(wf.status?.phase).toBe("Succeeded");
    const images = Object.fromEntries(
      h.exec.requests.map((r) => [r.nodeName, r.template.container?.image ?? ""]),
    );
    expect(images["st[0].a[0].in"]).toBe("v1");
    // First used after the restart: taken from the library of that time, then frozen.
    expect(images["st[1].b"]).toBe("v2");
    expect(wf.status?.storedTemplates?.["cluster/clib/c"]?.container?.image).toBe("v2");
  });
});

const WFT_REF = (image: string) => `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wr}
spec:
  workflowTemplateRef: {name: whole}
  arguments: {parameters: [{name: p, value: mine}]}
---
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: whole}
spec:
  entrypoint: main
  arguments: {parameters: [{name: p, value: theirs}, {name: q, value: q1}]}
  templates:
  - name: main
    steps:
    - - {name: in, template: inner}
    - - {name: last, template: inner}
  - name: inner
    container: {image: ${image}, args: ["{{workflow.parameters.p}}"]}
`;

describe("status.storedWorkflowTemplateSpec", () => {
  it("holds the merged spec of a workflowTemplateRef run", async () => {
    const { wf } = await run(WFT_REF("v1"));
    expect(wf.status?.phase).toBe("Succeeded");
    const spec = wf.status?.storedWorkflowTemplateSpec;
    expect(spec?.entrypoint).toBe("main");
    expect(spec?.templates?.map((t) => t.name)).toEqual(["main", "inner"]);
    expect(spec?.arguments?.parameters).toEqual([
      { name: "p", value: "mine" },
      { name: "q", value: "q1" },
    ]);
  });

  it("a resumed run executes the stored spec", async () => {
    const compiled = compileYaml(WFT_REF("v1"));
    const h0 = harness({ auto: false });
    h0.exec.script("in", { duration: 10_000 });
    const first = start(compiled, h0);
    for (let i = 0; i < 50 && h0.exec.requests.length < 1; i++) {
      h0.clock.advance(0);
      await new Promise((r) => setImmediate(r));
    }
    const persisted = first.snapshot();
    first.stop("Terminate");
    await first.done;
    expect(nodeFinder(persisted)("wr[0].in").phase).toBe("Running");

    const h = harness();
    const wf = await resumeWorkflow(compileYaml(WFT_REF("v2")), persisted, {
      executor: h.exec,
      clock: h.clock,
    }).done;
    expect(wf.status?.phase).toBe("Succeeded");
    expect(h.exec.requests.map((r) => [r.nodeName, r.template.container?.image])).toEqual([
      ["wr[0].in", "v1"],
      ["wr[1].last", "v1"],
    ]);
  });
});

describe("storedTemplateKey", () => {
  const root = { id: "", kind: "Workflow", name: "wf" } as const;
  const wft = { id: "namespaced/lib", kind: "WorkflowTemplate", name: "lib" } as const;
  it("keys templateRefs and names used inside WorkflowTemplates, not the workflow's own or inline ones", () => {
    expect(storedTemplateKey({ templateRef: { name: "lib", template: "t" } }, root)).toBe("namespaced/lib/t");
    expect(storedTemplateKey({ templateRef: { name: "c", template: "t", clusterScope: true } }, wft)).toBe(
      "cluster/c/t",
    );
    expect(storedTemplateKey({ template: "inner" }, wft)).toBe("namespaced/lib/inner");
    expect(storedTemplateKey({ template: "own" }, root)).toBeUndefined();
    expect(storedTemplateKey({ inline: { container: { image: "x" } } }, wft)).toBeUndefined();
  });
});
