import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expandSequence } from "../../../runtime/controller/loops.js";
import { SkiffError } from "../../../runtime/errors/index.js";
import { compile, Library, parseManifests, SPEC_LIMITS, validate } from "../../../runtime/spec/index.js";
import { countWork } from "./work.js";

/**
 * Hostile sizes (deep nesting, many keys, long chains of template calls, huge loops) end in success or a
 * coded SKF-SPEC error, never a crash, and in work bounded by the size of the input.
 */
const HEAD = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: fuzz-\n";
const LEAF = "  - name: c\n    container: {image: alpine}\n";

type Input =
  | { kind: "nesting"; depth: number; style: "flow-list" | "flow-map" | "block-list" | "block-map" }
  | { kind: "keys"; count: number; where: "labels" | "container" }
  | { kind: "chain"; hops: number; via: "steps" | "dag" }
  | { kind: "loop"; count: number; as: "count" | "end" | "string" };

const input: fc.Arbitrary<Input> = fc.oneof(
  fc.record({
    kind: fc.constant("nesting" as const),
    depth: fc.integer({ min: 1, max: 3000 }),
    style: fc.constantFrom(
      "flow-list" as const,
      "flow-map" as const,
      "block-list" as const,
      "block-map" as const,
    ),
  }),
  fc.record({
    kind: fc.constant("keys" as const),
    count: fc.integer({ min: 1, max: 3000 }),
    where: fc.constantFrom("labels" as const, "container" as const),
  }),
  fc.record({
    kind: fc.constant("chain" as const),
    hops: fc.integer({ min: 1, max: 300 }),
    via: fc.constantFrom("steps" as const, "dag" as const),
  }),
  fc.record({
    kind: fc.constant("loop" as const),
    count: fc.oneof(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 2_000_000_000 })),
    as: fc.constantFrom("count" as const, "end" as const, "string" as const),
  }),
);

function nested(depth: number, style: Extract<Input, { kind: "nesting" }>["style"]): string {
  switch (style) {
    case "flow-list":
      return ` ${"[".repeat(depth)}1${"]".repeat(depth)}`;
    case "flow-map":
      return ` ${"{a: ".repeat(depth)}1${"}".repeat(depth)}`;
    case "block-list":
      return `\n              ${"- ".repeat(depth)}1`;
    case "block-map":
      return Array.from({ length: depth }, (_, i) => `\n${" ".repeat(14 + i)}k:`).join("") + " 1";
  }
}

function render(i: Input): string {
  const workflow = (templates: string) =>
    `${HEAD}spec:\n  entrypoint: main\n  templates:\n${templates}${LEAF}`;
  switch (i.kind) {
    case "nesting":
      return workflow(
        `  - name: main\n    steps:\n    - - name: s\n        template: c\n        arguments:\n          parameters:\n          - name: p\n            value:${nested(i.depth, i.style)}\n`,
      );
    case "keys": {
      const keys = Array.from({ length: i.count }, (_, k) => `k${k}: v`);
      return i.where === "labels"
        ? `${HEAD}  labels:\n${keys.map((k) => `    ${k}\n`).join("")}spec:\n  entrypoint: c\n  templates:\n${LEAF}`
        : workflow(
            `  - name: main\n    container:\n      image: alpine\n${keys.map((k) => `      ${k}\n`).join("")}`,
          );
    }
    case "chain": {
      let text = `${HEAD}spec:\n  entrypoint: t0\n  templates:\n`;
      for (let h = 0; h < i.hops; h++)
        text +=
          i.via === "steps"
            ? `  - name: t${h}\n    steps:\n    - - name: s\n        template: t${h + 1}\n`
            : `  - name: t${h}\n    dag:\n      tasks:\n      - name: s\n        template: t${h + 1}\n`;
      return `${text}  - name: t${i.hops}\n    container: {image: alpine}\n`;
    }
    case "loop": {
      const seq =
        i.as === "count"
          ? `{count: ${i.count}}`
          : i.as === "end"
            ? `{start: 1, end: ${i.count}}`
            : `{count: "${i.count}"}`;
      return workflow(
        `  - name: main\n    steps:\n    - - name: s\n        template: c\n        withSequence: ${seq}\n`,
      );
    }
  }
}

/** The code a limit must produce for this input, if it passes one. */
function expectedLimit(i: Input): string | undefined {
  switch (i.kind) {
    case "nesting": {
      // The document, spec, templates, the template, steps, the group, the step, arguments, parameters and
      // the parameter hold the value.
      const depth = 10 + i.depth;
      return depth > SPEC_LIMITS.maxNestingDepth ? "SKF-SPEC-081" : undefined;
    }
    case "chain":
      return i.hops > SPEC_LIMITS.maxTemplateDepth ? "SKF-SPEC-083" : undefined;
    case "loop": {
      const width = i.as === "end" ? Math.abs(i.count - 1) + 1 : i.count;
      return width > SPEC_LIMITS.maxLoopWidth ? "SKF-SPEC-084" : undefined;
    }
    case "keys":
      return undefined;
  }
}

function codeOf(e: unknown): string {
  if (!(e instanceof SkiffError)) throw new Error(`not a SkiffError: ${String(e)}`, { cause: e });
  expect(e.code).toMatch(/^SKF-SPEC-\d{3}$/);
  return e.code;
}

function exercise(text: string): Set<string> {
  const codes = new Set<string>();
  const loaded = parseManifests(text, "fuzz.yaml");
  for (const p of loaded.problems) codes.add(codeOf(p));
  const library = Library.from(loaded.manifests);
  for (const m of loaded.manifests) {
    for (const p of validate(m, library)) codes.add(codeOf(p));
    try {
      compile(m, library, { generateNameSuffix: () => "fuzzz" });
    } catch (e) {
      codeOf(e);
    }
  }
  return codes;
}

describe("hostile sizes", () => {
  it("end in success or a coded error, in work bounded by the input", () => {
    fc.assert(
      fc.property(input, (i) => {
        const text = render(i);
        expect(text.length).toBeLessThan(SPEC_LIMITS.maxFileBytes);
        let codes = new Set<string>();
        const work = countWork(() => {
          codes = exercise(text);
        });
        const limit = expectedLimit(i);
        if (limit !== undefined) expect([...codes]).toContain(limit);
        else expect([...codes].filter((c) => c >= "SKF-SPEC-080")).toEqual([]);
        // A few hundred elementary operations per byte at most, whatever the shape.
        expect(work).toBeLessThan(400 * text.length + 50_000);
        if (i.kind === "loop") {
          const seq = i.as === "end" ? { start: "1", end: String(i.count) } : { count: String(i.count) };
          try {
            expect(expandSequence(seq).length).toBeLessThanOrEqual(SPEC_LIMITS.maxLoopWidth);
          } catch (e) {
            expect(codeOf(e)).toBe("SKF-SPEC-084");
          }
        }
      }),
      { numRuns: 60, seed: 12 },
    );
  }, 120_000);
});
