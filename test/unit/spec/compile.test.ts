import { describe, expect, it } from "vitest";
import { SkiffAggregateError } from "../../../runtime/errors/index.js";
import { checkExpressionSyntax } from "../../../runtime/expr/index.js";
import {
  compile,
  Library,
  parseManifests,
  validate,
  type LoadedManifest,
  type Template,
} from "../../../runtime/spec/index.js";

function load(...files: [string, string][]): LoadedManifest[] {
  const out: LoadedManifest[] = [];
  for (const [file, text] of files) {
    const r = parseManifests(text, file);
    expect(r.problems).toEqual([]);
    out.push(...r.manifests);
  }
  return out;
}

function compileFirst(manifests: LoadedManifest[], options: Parameters<typeof compile>[2] = {}) {
  const first = manifests[0];
  if (!first) throw new Error("no manifest");
  return compile(first, Library.from(manifests), {
    generateNameSuffix: () => "x1y2z",
    checkExpressionSyntax,
    ...options,
  });
}

function problemsOf(fn: () => unknown): { code: string; line: number | undefined; message: string }[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SkiffAggregateError);
    return (e as SkiffAggregateError).problems.map((p) => ({
      code: p.code,
      line: p.position?.line,
      message: p.message,
    }));
  }
  throw new Error("expected compile to fail");
}

const WFT = `apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  name: shared
spec:
  entrypoint: main
  arguments:
    parameters:
      - name: message
        value: from-template
      - name: level
        value: 1
  templates:
    - name: main
      steps:
        - - name: hello
            template: print
    - name: print
      container:
        image: alpine
        command: [echo, "{{workflow.parameters.message}}"]
`;

describe("compile", () => {
  it("names a generateName workflow, sets the namespace and keeps positions", () => {
    const [wf] = load([
      "wf.yaml",
      `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: hello-
spec:
  entrypoint: main
  templates:
    - name: main
      container:
        image: alpine
`,
    ]);
    const c = compileFirst([wf!]);
    expect(c.workflow.metadata.name).toBe("hello-x1y2z");
    expect(c.workflow.metadata.namespace).toBe("default");
    expect(c.entrypoint).toBe("main");
    expect(c.rootScope).toEqual({ id: "", kind: "Workflow", name: "hello-x1y2z" });
    expect(c.positionOf(["spec", "templates", 0, "container", "image"])).toEqual({
      file: "wf.yaml",
      line: 10,
      column: 9,
    });
    expect(c.templatePosition("main", c.rootScope)).toEqual({ file: "wf.yaml", line: 8, column: 7 });
    const named = compileFirst([wf!], { name: "explicit", namespace: "ci" });
    expect(named.workflow.metadata).toMatchObject({ name: "explicit", namespace: "ci" });
  });

  it("generates a 5 character [a-z0-9] suffix by default", () => {
    const [wf] = load([
      "wf.yaml",
      "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: g-\nspec:\n  entrypoint: m\n  templates:\n  - name: m\n    suspend: {}\n",
    ]);
    const c = compile(wf!, Library.from([wf!]), { checkExpressionSyntax });
    expect(c.workflow.metadata.name).toMatch(/^g-[a-z0-9]{5}$/);
  });

  it("merges workflowTemplateRef: Workflow wins, arguments merge per name, templates come from the template file", () => {
    const manifests = load(
      [
        "wf.yaml",
        `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: run
spec:
  workflowTemplateRef:
    name: shared
  arguments:
    parameters:
      - name: message
        value: from-workflow
`,
      ],
      ["wft.yaml", WFT],
    );
    const c = compileFirst(manifests);
    expect(c.entrypoint).toBe("main");
    expect(c.workflow.spec.arguments?.parameters).toEqual([
      { name: "message", value: "from-workflow" },
      { name: "level", value: "1" },
    ]);
    expect(c.workflow.spec.templates?.map((t) => t.name)).toEqual(["main", "print"]);
    expect(c.getTemplate("print", c.rootScope)?.container?.image).toBe("alpine");
    // Templates came from the WorkflowTemplate's file; the arguments override from the Workflow's.
    expect(c.positionOf(["spec", "templates", 1, "container"])).toEqual({
      file: "wft.yaml",
      line: 19,
      column: 7,
    });
    expect(c.positionOf(["spec", "arguments", "parameters", 0, "value"])?.file).toBe("wf.yaml");
    expect(c.positionOf(["spec", "entrypoint"])).toEqual({ file: "wft.yaml", line: 6, column: 3 });
  });

  it("refuses a Workflow that defines templates beside workflowTemplateRef, and a missing template", () => {
    const text = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: run
spec:
  workflowTemplateRef:
    name: missing
`;
    expect(problemsOf(() => compileFirst(load(["wf.yaml", text])))).toContainEqual({
      code: "SKF-SPEC-032",
      line: 7,
      message: "workflow template missing not found",
    });
    const both = text.replace("missing", "shared") + "  templates:\n    - name: extra\n      suspend: {}\n";
    expect(problemsOf(() => compileFirst(load(["wf.yaml", both], ["wft.yaml", WFT])))[0]).toMatchObject({
      code: "SKF-SPEC-033",
      line: 8,
    });
  });

  it("compiles a WorkflowTemplate submitted directly, like argo submit --from workflowtemplate/x", () => {
    const [wft] = load(["wft.yaml", WFT]);
    const c = compileFirst([wft!], { parameters: { message: "cli" } });
    expect(c.workflow.metadata.name).toBe("shared-x1y2z");
    expect(c.workflow.metadata.labels).toEqual({ "workflows.argoproj.io/workflow-template": "shared" });
    expect(c.workflow.spec.workflowTemplateRef).toEqual({ name: "shared" });
    expect(c.workflow.spec.arguments?.parameters?.[0]).toEqual({ name: "message", value: "cli" });
    expect(c.positionOf(["spec", "templates", 0, "steps"])).toEqual({
      file: "wft.yaml",
      line: 15,
      column: 7,
    });
  });

  it("compiles a CronWorkflow into its workflowSpec", () => {
    const [cron] = load([
      "cron.yaml",
      `apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata:
  name: nightly
spec:
  schedule: "0 0 * * *"
  workflowMetadata:
    labels:
      team: a
  workflowSpec:
    entrypoint: main
    templates:
      - name: main
        container:
          image: alpine
`,
    ]);
    const c = compileFirst([cron!]);
    expect(c.workflow.kind).toBe("Workflow");
    expect(c.workflow.metadata).toMatchObject({
      name: "nightly-x1y2z",
      labels: { team: "a", "workflows.argoproj.io/cron-workflow": "nightly" },
    });
    expect(c.positionOf(["spec", "templates", 0, "container", "image"])).toEqual({
      file: "cron.yaml",
      line: 15,
      column: 11,
    });
  });

  it("resolves templateRef (namespaced and clusterScope) and names inside the template's own scope", () => {
    const manifests = load(
      [
        "wf.yaml",
        `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: run
spec:
  entrypoint: main
  arguments:
    parameters: [{ name: message, value: hi }]
  templates:
    - name: main
      steps:
        - - name: a
            templateRef: {name: shared, template: main}
          - name: b
            templateRef: {name: cluster-lib, template: say, clusterScope: true}
    - name: print
      container:
        image: wrong-scope
`,
      ],
      ["wft.yaml", WFT],
      [
        "cwft.yaml",
        `apiVersion: argoproj.io/v1alpha1
kind: ClusterWorkflowTemplate
metadata:
  name: cluster-lib
spec:
  templates:
    - name: say
      script:
        image: python
        source: print(1)
`,
      ],
    );
    const c = compileFirst(manifests);
    const main = c.getTemplate("main", c.rootScope);
    const [a, b] = main?.steps?.[0] ?? [];
    const ra = c.resolveTemplate(a!, c.rootScope);
    expect(ra.scope).toEqual({ id: "namespaced/shared", kind: "WorkflowTemplate", name: "shared" });
    expect(ra.templateRef).toEqual({ name: "shared", template: "main" });
    // "print" inside the WorkflowTemplate resolves there, not to the workflow's own "print".
    const inner = c.resolveTemplate(ra.template.steps![0]![0]!, ra.scope);
    expect(inner.template.container?.image).toBe("alpine");
    expect(inner.scope.id).toBe("namespaced/shared");
    expect(c.templatePosition("print", ra.scope)).toEqual({ file: "wft.yaml", line: 18, column: 7 });
    const rb = c.resolveTemplate(b!, c.rootScope);
    expect(rb.scope).toEqual({
      id: "cluster/cluster-lib",
      kind: "ClusterWorkflowTemplate",
      name: "cluster-lib",
    });
    expect(rb.template.script?.source).toBe("print(1)");
    expect(c.positionOf(["spec", "templates", 0, "script", "source"], rb.scope)?.file).toBe("cwft.yaml");
    expect(() => c.resolveTemplate({ templateRef: { name: "nope", template: "x" } }, c.rootScope)).toThrow(
      "workflow template nope not found",
    );
    expect(() => c.resolveTemplate({ templateRef: { name: "shared", template: "x" } }, c.rootScope)).toThrow(
      "template x not found in workflow template shared",
    );
    expect(() => c.resolveTemplate({ template: "zzz" }, c.rootScope)).toThrow("template zzz not found");
    const inline: Template = { container: { image: "busybox" } };
    expect(c.resolveTemplate({ inline }, c.rootScope).template.container?.image).toBe("busybox");
  });

  it("applies templateDefaults: the template wins, type blocks only for that type", () => {
    const [wf] = load([
      "wf.yaml",
      `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: d
spec:
  entrypoint: main
  templateDefaults:
    timeout: 30s
    retryStrategy: {limit: 2}
    container:
      imagePullPolicy: IfNotPresent
      env: [{name: A, value: default}, {name: B, value: default}]
  templates:
    - name: main
      timeout: 10s
      container:
        image: alpine
        env: [{name: A, value: own}]
    - name: s
      script:
        image: python
        source: print(1)
`,
    ]);
    const c = compileFirst([wf!]);
    const main = c.getTemplate("main", c.rootScope);
    expect(main?.timeout).toBe("10s");
    expect(main?.retryStrategy).toEqual({ limit: 2 });
    expect(main?.container).toEqual({
      image: "alpine",
      imagePullPolicy: "IfNotPresent",
      env: [
        { name: "A", value: "own" },
        { name: "B", value: "default" },
      ],
    });
    const s = c.getTemplate("s", c.rootScope);
    expect(s?.container).toBeUndefined();
    expect(s?.timeout).toBe("30s");
    expect(c.workflow.spec.templates?.[1]?.container).toBeUndefined();
  });

  it("applies -p overrides first, as Argo does, and the --entrypoint override", () => {
    const [wf] = load([
      "wf.yaml",
      `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: p
spec:
  entrypoint: a
  arguments:
    parameters:
      - name: x
        value: 1
      - name: y
        valueFrom: {configMapKeyRef: {name: c, key: k}}
  templates:
    - name: a
      suspend: {}
    - name: b
      suspend: {}
`,
    ]);
    const c = compileFirst([wf!], { parameters: { y: "why" }, entrypoint: "b" });
    expect(c.entrypoint).toBe("b");
    expect(c.workflow.spec.entrypoint).toBe("b");
    expect(c.workflow.spec.arguments?.parameters).toEqual([
      { name: "y", value: "why" },
      { name: "x", value: "1" },
    ]);
  });

  it("fails with a coded error when the entrypoint is missing or unknown", () => {
    const text =
      "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  name: e\nspec:\n  templates:\n  - name: m\n    suspend: {}\n";
    expect(problemsOf(() => compileFirst(load(["wf.yaml", text])))).toEqual([
      { code: "SKF-SPEC-030", line: 5, message: "spec.entrypoint is required" },
    ]);
    expect(problemsOf(() => compileFirst(load(["wf.yaml", text]), { entrypoint: "zz" }))[0]?.code).toBe(
      "SKF-SPEC-031",
    );
  });

  it("lints a WorkflowTemplate on its own leniently, but requires its inputs when it is submitted", () => {
    const text = `apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  name: greet
spec:
  entrypoint: main
  templates:
    - name: main
      inputs:
        parameters:
          - name: who
      container:
        image: alpine
        args: ["{{inputs.parameters.who}} {{workflow.parameters.extra}}"]
`;
    const [wft] = load(["wft.yaml", text]);
    const library = Library.from([wft!]);
    expect(validate(wft!, library, { checkExpressionSyntax })).toEqual([]);
    expect(problemsOf(() => compileFirst([wft!]))).toEqual([
      { code: "SKF-SPEC-040", line: 6, message: "inputs.parameters.who was not supplied" },
      {
        code: "SKF-SPEC-042",
        line: 14,
        message: "templates.main: failed to resolve {{workflow.parameters.extra}}",
      },
    ]);
    const c = compileFirst([wft!], { parameters: { who: "you", extra: "!" } });
    expect(c.workflow.spec.arguments?.parameters?.map((p) => p.name)).toEqual(["who", "extra"]);
  });

  it("throws a coded error, not a crash, for kinds that are not workflows", () => {
    const r = parseManifests("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n", "cm.yaml");
    expect(() => compile(r.manifests[0]!, Library.from(r.manifests), { checkExpressionSyntax })).toThrow(
      expect.objectContaining({ code: "SKF-SPEC-005" }),
    );
  });
});
