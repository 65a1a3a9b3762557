import { describe, expect, it } from "vitest";
import { SkiffAggregateError, type SkiffError } from "../../../runtime/errors/index.js";
import { expandSequence } from "../../../runtime/controller/loops.js";
import { compile, Library, parseManifests, SPEC_LIMITS, validate } from "../../../runtime/spec/index.js";

const HEAD = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: limits-\n";

/** A workflow whose entrypoint calls `hops` templates in a chain, each through a step (or a DAG task). */
function templateChain(hops: number, via: "steps" | "dag" = "steps"): string {
  let text = `${HEAD}spec:\n  entrypoint: t0\n  templates:\n`;
  for (let i = 0; i < hops; i++) {
    text +=
      via === "steps"
        ? `  - name: t${i}\n    steps:\n    - - name: s\n        template: t${i + 1}\n`
        : `  - name: t${i}\n    dag:\n      tasks:\n      - name: s\n        template: t${i + 1}\n`;
  }
  return `${text}  - name: t${hops}\n    container: {image: alpine}\n`;
}

function codes(errors: readonly SkiffError[]): string[] {
  return [...new Set(errors.map((e) => e.code))];
}

function compileProblems(text: string): SkiffError[] {
  const loaded = parseManifests(text, "wf.yaml");
  expect(loaded.problems).toEqual([]);
  const m = loaded.manifests[0];
  if (!m) throw new Error("no manifest");
  try {
    compile(m, Library.from(loaded.manifests));
    return [];
  } catch (e) {
    if (e instanceof SkiffAggregateError) return e.problems;
    throw e;
  }
}

describe("nesting limits", () => {
  it("refuses a thousand nested lists with a coded error at the first level past the limit", () => {
    const r = parseManifests(`x: ${"[".repeat(1000)}${"]".repeat(1000)}\n`, "deep.yaml");
    expect(codes(r.problems)).toEqual(["SKF-SPEC-081"]);
    expect(r.problems[0]?.position).toEqual({ file: "deep.yaml", line: 1, column: 103 });
  });

  it("refuses deep flow mappings and block lists the same way, even unterminated", () => {
    expect(codes(parseManifests(`x: ${"{a: ".repeat(5000)}`, "a.yaml").problems)).toEqual(["SKF-SPEC-081"]);
    expect(codes(parseManifests(`${"- ".repeat(5000)}x\n`, "b.yaml").problems)).toEqual(["SKF-SPEC-081"]);
    const closed = parseManifests(`x:\n  ${"- ".repeat(3000)}1\ny: 2\n`, "d.yaml").problems;
    expect(codes(closed)).toEqual(["SKF-SPEC-081"]);
    expect(closed[0]?.position).toEqual({ file: "d.yaml", line: 2, column: 1 });
    const block = Array.from({ length: 300 }, (_, i) => `${" ".repeat(i)}k:`).join("\n");
    expect(codes(parseManifests(block, "c.yaml").problems)).toEqual(["SKF-SPEC-081"]);
  });

  it("reads values nested up to the limit", () => {
    const r = parseManifests(
      `${HEAD}  annotations:\n    x: "1"\nspec:\n  arguments:\n    parameters:\n    - name: p\n      value: "1"\n  entrypoint: main\n  templates:\n  - name: main\n    container: {image: alpine}\n    metadata: {annotations: {a: "${"[".repeat(10)}"}}\nx: ${"[".repeat(98)}${"]".repeat(98)}\n`,
      "ok.yaml",
    );
    expect(r.problems).toEqual([]);
  });

  it("refuses a 1,000-hop chain of template calls with a coded error, in lint and at submit", () => {
    for (const via of ["steps", "dag"] as const) {
      const text = templateChain(1000, via);
      const loaded = parseManifests(text, "chain.yaml");
      const m = loaded.manifests[0];
      if (!m) throw new Error("no manifest");
      const problems = validate(m, Library.from(loaded.manifests));
      expect(codes(problems)).toEqual(["SKF-SPEC-083"]);
      expect(problems[0]?.position?.line).toBeGreaterThan(1);
      expect(codes(compileProblems(text))).toEqual(["SKF-SPEC-083"]);
    }
  });

  it("accepts a chain of template calls up to Argo's depth", () => {
    expect(compileProblems(templateChain(99))).toEqual([]);
  });
});

describe("size limits", () => {
  it("refuses a file over the size limit before parsing it", () => {
    const text = `${HEAD}  annotations:\n    big: "${"x".repeat(SPEC_LIMITS.maxFileBytes)}"\n`;
    const r = parseManifests(text, "big.yaml");
    expect(codes(r.problems)).toEqual(["SKF-SPEC-080"]);
    expect(r.problems[0]?.position).toEqual({ file: "big.yaml" });
  });

  it("refuses a file with more YAML nodes than the limit, naming where the limit was passed", () => {
    const r = parseManifests(`x: [${"1,".repeat(SPEC_LIMITS.maxNodes)}1]\n`, "many.yaml");
    expect(codes(r.problems)).toEqual(["SKF-SPEC-082"]);
    expect(r.problems[0]?.position?.line).toBe(1);
  });

  it("refuses a withSequence wider than the limit in lint, and when it is only known at run time", () => {
    const text = `${HEAD}spec:\n  entrypoint: main\n  templates:\n  - name: main\n    steps:\n    - - name: s\n        template: c\n        withSequence: {count: "100000000"}\n  - name: c\n    container: {image: alpine}\n`;
    const loaded = parseManifests(text, "wide.yaml");
    const m = loaded.manifests[0];
    if (!m) throw new Error("no manifest");
    const problems = validate(m, Library.from(loaded.manifests));
    expect(codes(problems)).toEqual(["SKF-SPEC-084"]);
    expect(problems[0]?.position).toEqual({ file: "wide.yaml", line: 12, column: 24 });
    expect(() => expandSequence({ count: "100000000" })).toThrow(
      expect.objectContaining({ code: "SKF-SPEC-084" }) as Error,
    );
    expect(() => expandSequence({ start: "-50000", end: "50000" })).toThrow(
      expect.objectContaining({ code: "SKF-SPEC-084" }) as Error,
    );
    expect(expandSequence({ count: String(SPEC_LIMITS.maxLoopWidth) })).toHaveLength(
      SPEC_LIMITS.maxLoopWidth,
    );
  });
});
