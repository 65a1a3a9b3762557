import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { convertFile } from "../../../src/cli/commands/convert.js";
import { parsePipelineFile } from "../../../src/pipelines/discover.js";
import { matrixProduct } from "../../../src/pipelines/convert.js";
import { Library, compile } from "../../../runtime/spec/index.js";
import { SkiffAggregateError } from "../../../runtime/errors/index.js";
import type { Workflow } from "../../../runtime/spec/types.js";

const FIXTURES = resolve(import.meta.dirname, "../../fixtures/pipelines");
const ARGO_SCHEMA = resolve(import.meta.dirname, "../../../../shared/contracts/argo-workflow.schema.json");

function convertText(text: string, file = "pipeline.yaml") {
  return parsePipelineFile(text, file);
}

describe("kind: Pipeline -> Argo Workflow", () => {
  it("converts every field of the format into a DAG workflow", async () => {
    const { workflows, problems } = await convertFile(resolve(FIXTURES, "ci.yaml"));
    expect(problems.map((p) => `${p.code} ${p.message}`)).toEqual([]);
    expect(workflows).toHaveLength(1);
    const wf = workflows[0]!;
    expect(wf.metadata.generateName).toBe("ci-");
    expect(wf.metadata.labels).toEqual({ "skiff.dev/pipeline": "ci" });
    expect(wf.metadata.annotations).toEqual({
      "skiff.dev/on-event": "push, pull_request",
      "skiff.dev/on-target-branch": "main, release/*",
      "skiff.dev/on-path-change": "src/**, package.json",
      "skiff.dev/on-path-change-ignore": "**/*.md",
    });
    expect(wf.spec.entrypoint).toBe("main");
    expect(wf.spec.activeDeadlineSeconds).toBe(1800);
    expect(wf.spec.arguments?.parameters).toEqual([
      { name: "greeting", value: "hello" },
      { name: "git-sha", value: "" },
      { name: "git-branch", value: "" },
    ]);
    const dag = wf.spec.templates![0]!.dag!.tasks;
    expect(dag.map((t) => [t.name, t.dependencies ?? []])).toEqual([
      ["lint", []],
      ["build", []],
      ["test", ["build"]],
      ["deploy", ["lint", "test"]],
    ]);
    const test = dag[2]!;
    expect(test.withItems).toEqual([
      { node: 20, shard: 1 },
      { node: 20, shard: 2 },
      { node: 22, shard: 1 },
      { node: 22, shard: 2 },
    ]);
    expect(test.arguments).toEqual({
      parameters: [
        { name: "node", value: "{{item.node}}" },
        { name: "shard", value: "{{item.shard}}" },
      ],
      artifacts: [{ name: "dist", from: "{{tasks.build.outputs.artifacts.dist}}" }],
    });
    const testTemplate = wf.spec.templates!.find((t) => t.name === "test")!;
    expect(testTemplate.script).toEqual({
      image: "node:{{inputs.parameters.node}}",
      command: ["sh", "-e"],
      source: "npm test -- --shard={{inputs.parameters.shard}}/2",
      env: [
        { name: "CI", value: "true" },
        { name: "SHARD", value: "{{inputs.parameters.shard}}" },
      ],
    });
    expect(testTemplate.inputs?.artifacts).toEqual([{ name: "dist", path: "dist" }]);
    expect(testTemplate.retryStrategy).toEqual({ limit: "2", retryPolicy: "Always" });
    expect(testTemplate.activeDeadlineSeconds).toBe("600");
    const deploy = wf.spec.templates!.find((t) => t.name === "deploy")!;
    expect(deploy.script?.command).toEqual(["bash", "-e"]);
    expect(deploy.retryStrategy).toEqual({
      limit: "3",
      retryPolicy: "OnError",
      backoff: { duration: "5s", factor: "2", maxDuration: "60s" },
    });
    expect(dag[3]!.when).toBe("{{workflow.parameters.git-branch}} == main");
    expect(dag[3]!.continueOn).toEqual({ failed: true, error: true });
    expect(wf.spec.templates!.find((t) => t.name === "build")!.outputs).toEqual({
      artifacts: [{ name: "dist", path: "dist" }],
    });
  });

  it("compiles, and keeps the pipeline's lines for templates and tasks", () => {
    const file = resolve(FIXTURES, "ci.yaml");
    const loaded = convertText(readFileSync(file, "utf8"), file);
    const compiled = compile(loaded.manifests[0]!, Library.from(loaded.manifests), {
      parameters: { "git-branch": "main", "git-sha": "abc" },
    });
    const lines = readFileSync(file, "utf8").split("\n");
    const lineOf = (text: string) => lines.findIndex((l) => l === text) + 1;
    expect(compiled.templatePosition("deploy", compiled.rootScope)?.line).toBe(lineOf("  deploy:"));
    expect(compiled.templatePosition("build", compiled.rootScope)?.line).toBe(lineOf("  build:"));
    const i = compiled.workflow.spec.templates!.findIndex((t) => t.name === "test");
    expect(compiled.positionOf(["spec", "templates", i, "script", "source"])?.line).toBe(
      lineOf("    run: npm test -- --shard={{matrix.shard}}/2"),
    );
    expect(compiled.positionOf(["spec", "templates", 0, "dag", "tasks", 2, "dependencies"])?.line).toBe(
      lineOf("    needs: [build]"),
    );
  });

  it.skipIf(!existsSync(ARGO_SCHEMA))("passes Argo's JSON Schema (skipped without ../shared)", async () => {
    const schema = JSON.parse(readFileSync(ARGO_SCHEMA, "utf8")) as object;
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    addFormats.default(ajv);
    ajv.addSchema(schema, "argo");
    // The root is a oneOf over kinds that share a shape; a converted pipeline must be a valid Workflow.
    const check = ajv.compile({ $ref: "argo#/definitions/io.argoproj.workflow.v1alpha1.Workflow" });
    for (const name of ["ci.yaml", "minimal.yaml"]) {
      const file = resolve(FIXTURES, name);
      if (!existsSync(file)) continue;
      const { workflows, problems } = await convertFile(file);
      expect(problems).toEqual([]);
      for (const wf of workflows) {
        const ok = check(JSON.parse(JSON.stringify(wf)) as Workflow);
        expect(check.errors ?? []).toEqual([]);
        expect(ok).toBe(true);
      }
    }
  });

  it("reports every schema problem at its line", async () => {
    const { problems } = await convertFile(resolve(FIXTURES, "invalid.yaml"));
    expect(problems.map((p) => `${p.position?.line} ${p.code} ${p.message}`)).toEqual([
      "8 SKF-PIPE-002 tasks.test needs run",
      "9 SKF-PIPE-002 tasks.test has an unknown field runs",
      '10 SKF-PIPE-002 tasks: Bad_Name is not a valid name (must match pattern "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")',
      "14 SKF-PIPE-002 tasks.package.timeout has the wrong shape",
    ]);
    expect(problems.every((p) => p.position?.file?.endsWith("invalid.yaml"))).toBe(true);
  });

  it("reports unknown needs, cycles and bad artifact inputs with their lines", async () => {
    const { problems } = await convertFile(resolve(FIXTURES, "cycle.yaml"));
    expect(problems.map((p) => `${p.position?.line} ${p.code} ${p.message}`)).toEqual([
      "6 SKF-PIPE-004 tasks need each other in a cycle: a -> c -> b -> a",
    ]);
    const text = [
      "kind: Pipeline",
      "metadata: {name: p}",
      "tasks:",
      "  build:",
      "    run: make",
      "    needs: [compile]",
      "  test:",
      "    run: make test",
      "    inputs:",
      "      bin: {from: build.bin}",
    ].join("\n");
    const r = convertText(text);
    expect(r.manifests).toEqual([]);
    expect(r.problems.map((p) => `${p.position?.line} ${p.code} ${p.message}`)).toEqual([
      "6 SKF-PIPE-003 task build needs compile, which is not a task",
      "10 SKF-PIPE-006 input bin of task test comes from build.bin, which no task produces",
    ]);
  });

  it("requires the producer of an artifact to be needed", () => {
    const r = convertText(
      "kind: Pipeline\nmetadata: {name: p}\ntasks:\n  a: {run: make, artifacts: {bin: out}}\n  b:\n    run: ls\n    inputs: {bin: {from: a.bin, path: in}}\n",
    );
    expect(r.problems.map((p) => `${p.position?.line} ${p.message}`)).toEqual([
      "7 task b takes a.bin but does not need a",
    ]);
  });

  it("reads on: as a single event or a list", () => {
    const one = convertText("kind: Pipeline\nmetadata: {name: p}\non: push\ntasks: {a: {run: x}}\n");
    expect(one.manifests[0]!.object.metadata?.annotations).toEqual({ "skiff.dev/on-event": "push" });
    const list = convertText(
      "kind: Pipeline\nmetadata: {name: p}\non: [push, issue_comment]\ntasks: {a: {run: x}}\n",
    );
    expect(list.manifests[0]!.object.metadata?.annotations).toEqual({
      "skiff.dev/on-event": "push, issue_comment",
    });
    const comment = convertText(
      "kind: Pipeline\nmetadata: {name: p}\non: {comment: '^/retest'}\ntasks: {a: {run: x}}\n",
    );
    expect(comment.manifests[0]!.object.metadata?.annotations).toEqual({
      "skiff.dev/on-comment": "^/retest",
    });
  });

  it("keeps Argo objects beside pipelines and names the DAG so it never clashes with a task", () => {
    const r = convertText(
      [
        "apiVersion: argoproj.io/v1alpha1",
        "kind: WorkflowTemplate",
        "metadata: {name: shared}",
        "spec: {templates: [{name: t, container: {image: alpine}}]}",
        "---",
        "kind: Pipeline",
        "metadata: {name: p}",
        "tasks: {main: {run: x}}",
      ].join("\n"),
    );
    expect(r.problems).toEqual([]);
    expect(r.notes).toEqual([]);
    expect(r.manifests.map((m) => m.object.kind)).toEqual(["WorkflowTemplate", "Workflow"]);
    expect((r.manifests[1]!.object as Workflow).spec.entrypoint).toBe("main-2");
  });

  it("reports the problems of an invalid pipeline as one aggregate when converting directly", async () => {
    const { convertPipeline } = await import("../../../src/pipelines/convert.js");
    expect(() =>
      convertPipeline({ kind: "Pipeline", metadata: { name: "x" } }, { get: () => undefined }),
    ).toThrow(SkiffAggregateError);
  });

  it("multiplies matrix values in written order", () => {
    expect(matrixProduct({ a: [1, 2], b: ["x"] })).toEqual([
      { a: 1, b: "x" },
      { a: 2, b: "x" },
    ]);
  });
});

describe("skiff convert", () => {
  it("prints the Workflow and exits 0, or the problems with their lines and exits 2", async () => {
    const { main } = await import("../../../src/cli/main.js");
    const { parse } = await import("yaml");
    let out = "";
    let err = "";
    const write = process.stdout.write.bind(process.stdout);
    const writeErr = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
    try {
      expect(await main(["convert", resolve(FIXTURES, "minimal.yaml")])).toBe(0);
      expect(await main(["convert", resolve(FIXTURES, "cycle.yaml")])).toBe(2);
    } finally {
      process.stdout.write = write;
      process.stderr.write = writeErr;
    }
    expect(parse(out)).toMatchObject({
      kind: "Workflow",
      metadata: { generateName: "minimal-" },
      spec: {
        entrypoint: "main",
        templates: [{ name: "main" }, { name: "hello", script: { source: "echo hello" } }],
      },
    });
    expect(err).toContain("cycle.yaml:6:5: SKF-PIPE-004 tasks need each other in a cycle: a -> c -> b -> a");
  });

  it("prints Workflows that skiff lint accepts", async () => {
    const { lintPaths } = await import("../../../runtime/spec/lint.js");
    const { stringify } = await import("yaml");
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(resolve(tmpdir(), "skiff-convert-"));
    for (const name of ["ci.yaml", "minimal.yaml"]) {
      const { workflows } = await convertFile(resolve(FIXTURES, name));
      writeFileSync(resolve(dir, name), workflows.map((w) => stringify(w)).join("---\n"));
    }
    const result = await lintPaths([dir]);
    expect(result.problems.map((p) => `${p.location} ${p.code} ${p.message}`)).toEqual([]);
    expect(result.kinds).toEqual({ Workflow: 2 });
  });
});
