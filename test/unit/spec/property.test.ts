import fc from "fast-check";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { SkiffError } from "../../../runtime/errors/index.js";
import { checkExpressionSyntax } from "../../../runtime/expr/index.js";
import { compile, Library, parseManifests, validate } from "../../../runtime/spec/index.js";

/**
 * Random and mutated documents must never crash the loader, the validator or the compiler: every failure is
 * a SkiffError with a code. Seeds come from Argo's examples (when present) and the invalid fixtures.
 */
const CORPUS = resolve(import.meta.dirname, "../../../../shared/conformance/argo-examples");
const FIXTURES = resolve(import.meta.dirname, "../../fixtures/invalid");

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

const seeds = [...yamlFiles(CORPUS), ...yamlFiles(FIXTURES)].map((f) => readFileSync(f, "utf8"));

/** Loads, validates and compiles; returns normally only if every failure was a coded SkiffError. */
function exercise(text: string): void {
  const loaded = parseManifests(text, "fuzz.yaml");
  for (const p of [...loaded.problems, ...loaded.notes]) expectCoded(p);
  const library = Library.from(loaded.manifests);
  for (const m of loaded.manifests) {
    for (const p of validate(m, library, { checkExpressionSyntax })) expectCoded(p);
    if (m.object.kind === "ConfigMap" || m.object.kind === "Secret") continue;
    try {
      const c = compile(m, library, { generateNameSuffix: () => "fuzzz", checkExpressionSyntax });
      expect(typeof c.workflow.metadata.name).toBe("string");
    } catch (e) {
      expectCoded(e);
    }
  }
}

function expectCoded(e: unknown): void {
  if (!(e instanceof SkiffError)) throw new Error(`not a SkiffError: ${String(e)}`, { cause: e });
  expect(e.code).toMatch(/^SKF-[A-Z]+-\d{3}$/);
  expect(e.code).not.toBe("SKF-CORE-001");
}

const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.string(),
    fc.integer(),
    fc.double({ noNaN: true }),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom(
      "{{inputs.parameters.x}}",
      "{{steps.a.outputs.result}}",
      "{{item}}",
      "a && b",
      "10s",
      "-",
    ),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie("value"), { maxKeys: 3 }),
  ),
})).value;

type Mutation =
  | { kind: "truncate"; at: number }
  | { kind: "deleteLine"; at: number }
  | { kind: "insert"; at: number; text: string }
  | { kind: "replaceValue"; at: number; value: unknown }
  | { kind: "deleteKey"; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("deleteLine" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    text: fc.oneof(
      fc.string(),
      fc.constantFrom(": ", "- ", "\t", "{", "]", "*a", "&a ", "'", '"', "\n  - - name: x\n"),
    ),
  }),
  fc.record({ kind: fc.constant("replaceValue" as const), at: fc.nat(), value: jsonValue }),
  fc.record({ kind: fc.constant("deleteKey" as const), at: fc.nat() }),
);

/** Every (container, key) pair of a parsed document, for structural mutations. */
function slots(value: unknown, out: [Record<string, unknown> | unknown[], string | number][] = []) {
  if (Array.isArray(value)) value.forEach((v, i) => (out.push([value, i]), slots(v, out)));
  else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      out.push([value as Record<string, unknown>, k]);
      slots(v, out);
    }
  }
  return out;
}

function mutate(text: string, m: Mutation): string {
  switch (m.kind) {
    case "truncate":
      return text.slice(0, m.at % (text.length + 1));
    case "deleteLine": {
      const lines = text.split("\n");
      lines.splice(m.at % lines.length, 1);
      return lines.join("\n");
    }
    case "insert": {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.text + text.slice(at);
    }
    case "replaceValue":
    case "deleteKey": {
      const docs = parseManifests(text, "seed.yaml", { strict: false }).manifests.map((d) =>
        structuredClone(d.object),
      );
      const doc = docs[0];
      if (!doc) return text;
      const all = slots(doc);
      const slot = all[m.at % Math.max(1, all.length)];
      if (!slot) return text;
      const [container, key] = slot;
      if (m.kind === "deleteKey") {
        if (Array.isArray(container)) container.splice(Number(key), 1);
        else delete container[key as string];
      } else if (Array.isArray(container)) container[Number(key)] = m.value;
      else container[key as string] = m.value;
      return stringify(doc);
    }
  }
}

describe("parseManifests + validate + compile never crash", () => {
  it("on mutated corpus documents", () => {
    expect(seeds.length).toBeGreaterThan(0);
    fc.assert(
      fc.property(
        fc.nat({ max: seeds.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (i, ms) => {
          let text = seeds[i] ?? "";
          for (const m of ms) text = mutate(text, m);
          exercise(text);
        },
      ),
      { numRuns: 2500 },
    );
  });

  it("on random YAML documents", () => {
    const doc = fc.record(
      {
        apiVersion: fc.constantFrom("argoproj.io/v1alpha1", "v1", "x"),
        kind: fc.constantFrom(
          "Workflow",
          "WorkflowTemplate",
          "ClusterWorkflowTemplate",
          "CronWorkflow",
          "ConfigMap",
          "Pod",
        ),
        metadata: fc.oneof(fc.record({ name: fc.string() }), jsonValue),
        spec: jsonValue,
      },
      { requiredKeys: ["apiVersion", "kind"] },
    );
    fc.assert(
      fc.property(fc.array(doc, { minLength: 1, maxLength: 3 }), (docs) => {
        exercise(docs.map((d) => stringify(d)).join("---\n"));
      }),
      { numRuns: 1500 },
    );
  });

  it("on arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        exercise(text);
      }),
      { numRuns: 1000 },
    );
  });
});
