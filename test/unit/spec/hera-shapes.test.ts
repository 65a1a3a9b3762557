// Shapes real Argo accepts that Hera (the Python SDK) emits: each was refused by lint before.
import { describe, expect, it } from "vitest";
import { SkiffAggregateError } from "../../../runtime/errors/index.js";
import { checkExpressionSyntax } from "../../../runtime/expr/index.js";
import { compile, Library, parseManifests } from "../../../runtime/spec/index.js";

function compileText(text: string) {
  const r = parseManifests(text, "hera.yaml");
  expect(r.problems).toEqual([]);
  return compile(r.manifests[0]!, Library.from(r.manifests), {
    generateNameSuffix: () => "x1y2z",
    checkExpressionSyntax,
  });
}

function problemsOf(text: string): { code: string; message: string }[] {
  try {
    compileText(text);
  } catch (e) {
    expect(e).toBeInstanceOf(SkiffAggregateError);
    return (e as SkiffAggregateError).problems.map((p) => ({ code: p.code, message: p.message }));
  }
  return [];
}

describe("script templates without source (issue 11, gap 1)", () => {
  it("accepts a script with image and command but no source, as Argo does", () => {
    const wf = compileText(`apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: nosrc-}
spec:
  entrypoint: main
  templates:
  - name: main
    script: {image: alpine, command: [sh, -c, "echo hi"]}
`);
    expect(wf.workflow.spec.templates?.[0]?.script?.source).toBeUndefined();
  });

  it("accepts one whose image and command come from spec.templateDefaults", () => {
    expect(
      problemsOf(`apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: nosrc-}
spec:
  entrypoint: main
  templateDefaults:
    script: {image: alpine, command: [sh, -c, "echo defaults"]}
  templates:
  - name: main
    script: {image: alpine}
`),
    ).toEqual([]);
  });

  it("still requires the image", () => {
    expect(
      problemsOf(`apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: nosrc-}
spec:
  entrypoint: main
  templates:
  - name: main
    script: {command: [sh]}
`).map((p) => p.code),
    ).toContain("SKF-SPEC-011");
  });
});

describe("WorkflowTemplates named by generateName only (issue 11, gap 8)", () => {
  const WFT = `apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {generateName: hera-wft-}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: alpine, command: [echo, hi]}
`;

  it("is accepted and submitted under its prefix", () => {
    const wf = compileText(WFT);
    expect(wf.workflow.metadata.name).toBe("hera-wft-x1y2z");
    expect(wf.workflow.metadata.labels?.["workflows.argoproj.io/workflow-template"]).toBe("hera-wft");
  });

  it("still refuses a template with neither name nor generateName", () => {
    const problems = problemsOf(
      WFT.replace("metadata: {generateName: hera-wft-}", "metadata: {labels: {a: b}}"),
    );
    expect(problems).toContainEqual({
      code: "SKF-SPEC-020",
      message: "workflow template has no metadata.name or metadata.generateName",
    });
  });
});

describe("{{inputs.parameters}}, all inputs as JSON (issue 11, gap 7)", () => {
  const runner = (inputs: string) => `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: runner-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: run
        template: runner
        arguments: {parameters: [{name: a, value: "1"}, {name: b, value: '{"x": 2}'}]}
  - name: runner
    ${inputs}
    script:
      image: python:3.12
      command: [python]
      args: ["-m", "hera.workflows.runner", "-e", "mod:fn"]
      source: "{{inputs.parameters}}"
`;

  it("is valid in a template that declares input parameters (Hera's script runner)", () => {
    expect(problemsOf(runner("inputs: {parameters: [{name: a}, {name: b}]}"))).toEqual([]);
  });

  it("is refused, as by Argo's validateInputs, in a template without any", () => {
    const problems = problemsOf(runner("inputs: {}").replace(/ +arguments: .*\n/, ""));
    expect(problems.map((p) => p.code)).toEqual(["SKF-SPEC-042"]);
  });
});
