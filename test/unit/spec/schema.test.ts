import { Ajv2020 } from "ajv/dist/2020.js";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  loadPaths,
  parseManifests,
  validateStructure,
  type LoadedManifest,
} from "../../../runtime/spec/index.js";

/**
 * Skiff writes Argo's structure checks in code (the schema may not ship in the bundle). These tests hold the
 * code to Argo's JSON Schema: on Argo's own examples and on structurally broken specs, Skiff and the schema
 * agree on what is acceptable.
 */
const SCHEMA = resolve(import.meta.dirname, "../../../../shared/contracts/argo-workflow.schema.json");
const CORPUS = resolve(import.meta.dirname, "../../../../shared/conformance/argo-examples");
const present = existsSync(SCHEMA) && existsSync(CORPUS);
if (!present) console.warn(`skipping schema agreement tests: ${SCHEMA} or ${CORPUS} not found`);

const STRUCTURAL = new Set(["SKF-SPEC-010", "SKF-SPEC-011", "SKF-SPEC-013"]);
const PREFIX = "io.argoproj.workflow.v1alpha1.";

type Schema = { $id: string; definitions: Record<string, Record<string, unknown>> };

/**
 * Kubernetes' IntOrString and Argo's AnyString are generated as plain strings in the schema, but Go decodes
 * integers into them (`activeDeadlineSeconds: 300`, `limit: 3`) and Argo, like Kubernetes, accepts those.
 * The schema is corrected for that known gap before comparing, and for one more: `ScriptTemplate.source` is
 * required by the generated schema (no omitempty in Go) but by neither Argo's validation nor its executor,
 * which runs the command on an empty script file; Hera emits such scripts.
 */
function loadSchema(fix: boolean): Schema {
  const schema = JSON.parse(readFileSync(SCHEMA, "utf8")) as Schema;
  if (fix) {
    schema.definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = { type: ["string", "integer"] };
    const param = schema.definitions[`${PREFIX}Parameter`]?.properties as Record<
      string,
      Record<string, unknown>
    >;
    for (const f of ["value", "default"]) if (param[f]) param[f] = { type: ["string", "number", "boolean"] };
    const script = schema.definitions[`${PREFIX}ScriptTemplate`] as { required?: string[] };
    script.required = script.required?.filter((f) => f !== "source");
  }
  return schema;
}

function validatorFor(schema: Schema) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, logger: false, validateFormats: false });
  ajv.addSchema(schema);
  return (kind: string) => {
    const v = ajv.getSchema(`${schema.$id}#/definitions/${PREFIX}${kind}`);
    if (!v) throw new Error(`no schema for ${kind}`);
    return v;
  };
}

function skiffStructuralProblems(m: LoadedManifest): string[] {
  return validateStructure(m)
    .filter((p) => STRUCTURAL.has(p.code))
    .map((p) => `${p.code} ${p.path ?? ""} ${p.message}`);
}

describe.skipIf(!present)("structure checks agree with Argo's JSON Schema", () => {
  it("on Argo's examples: both accept every object (after the IntOrString correction)", async () => {
    const loaded = await loadPaths([CORPUS], { strict: false });
    const schemaFor = validatorFor(loadSchema(true));
    const disagreements: string[] = [];
    let checked = 0;
    for (const m of loaded.manifests) {
      if (m.object.kind === "ConfigMap" || m.object.kind === "Secret") continue;
      const v = schemaFor(m.object.kind);
      const schemaOk = v(m.object) === true;
      const skiff = skiffStructuralProblems(m);
      checked++;
      if (schemaOk !== (skiff.length === 0)) {
        disagreements.push(
          `${m.file}: schema ${schemaOk ? "accepts" : "rejects"}, Skiff says ${skiff.join("; ") || "ok"}`,
        );
      }
    }
    expect(disagreements).toEqual([]);
    expect(checked).toBeGreaterThan(200);
  });

  it("the uncorrected schema rejects examples only for integers in IntOrString fields", async () => {
    const loaded = await loadPaths([CORPUS], { strict: false });
    const schemaFor = validatorFor(loadSchema(false));
    const paths = new Set<string>();
    for (const m of loaded.manifests) {
      if (m.object.kind === "ConfigMap" || m.object.kind === "Secret") continue;
      const v = schemaFor(m.object.kind);
      if (v(m.object)) continue;
      for (const e of v.errors ?? [])
        paths.add(e.instancePath.replace(/\/\d+/g, "/N").split("/").pop() ?? "");
    }
    // Every rejected field is one Kubernetes/Argo declare as IntOrString.
    expect([...paths].sort()).toEqual(["activeDeadlineSeconds", "limit", "minAvailable", "port"]);
  });

  it("on broken specs: both reject wrong types and missing required fields", () => {
    const schemaFor = validatorFor(loadSchema(true));
    const cases: [string, string][] = [
      ["a string where a number belongs", "  parallelism: two\n"],
      ["a mapping where a list belongs", "  templates:\n    name: main\n"],
      ["a number where a string belongs", "  entrypoint: 5\n"],
      [
        "a step without name fields of the right type",
        "  templates:\n    - name: main\n      steps: [[{name: 3, template: x}]]\n",
      ],
      ["a DAG without tasks", "  templates:\n    - name: main\n      dag: {target: x}\n"],
      ["a parameter without name", "  arguments:\n    parameters:\n      - value: x\n"],
      ["a boolean given as text", "  suspend: sometimes\n"],
      [
        "an artifact without name",
        "  templates:\n    - name: main\n      inputs:\n        artifacts: [{path: /tmp}]\n      container: {image: a}\n",
      ],
      [
        "a resource template without action",
        "  templates:\n    - name: main\n      resource: {manifest: x}\n",
      ],
    ];
    for (const [what, body] of cases) {
      const text = `apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  name: w\nspec:\n${body}`;
      const loaded = parseManifests(text, `${what}.yaml`);
      const m = loaded.manifests[0];
      if (!m) throw new Error(`${what}: did not load`);
      const schemaOk = schemaFor("Workflow")(m.object) === true;
      const skiff = skiffStructuralProblems(m);
      expect({ what, schemaOk, skiffOk: skiff.length === 0 }).toEqual({
        what,
        schemaOk: false,
        skiffOk: false,
      });
    }
  });

  it("on mutated examples: a value of the wrong type in a spec, template, step or task field is rejected by both or neither", async () => {
    const loaded = await loadPaths([CORPUS], { strict: false });
    const workflows = loaded.manifests.filter((m) => m.object.kind === "Workflow");
    const schemaFor = validatorFor(loadSchema(true));
    const replacement = fc.constantFrom<unknown>("s", 7, 1.5, true, [], {}, ["x"], { k: "v" });
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.nat(), replacement, (wi, si, fi, value) => {
        const source = workflows[wi % workflows.length]!;
        const object = structuredClone(source.object) as { spec: Record<string, unknown> };
        // Field holders of Argo's own types: the spec, its templates, their steps and DAG tasks.
        const holders: Record<string, unknown>[] = [object.spec];
        for (const t of (object.spec.templates as Record<string, unknown>[] | undefined) ?? []) {
          holders.push(t);
          for (const g of (t.steps as Record<string, unknown>[][] | undefined) ?? []) holders.push(...g);
          holders.push(...((t.dag as { tasks?: Record<string, unknown>[] } | undefined)?.tasks ?? []));
        }
        const holder = holders[si % holders.length]!;
        const fields = Object.keys(holder);
        if (fields.length === 0) return;
        holder[fields[fi % fields.length]!] = value;
        const mutated: LoadedManifest = { ...source, object: object as LoadedManifest["object"] };
        const schemaOk = schemaFor("Workflow")(mutated.object) === true;
        // The schema requires container.image; Argo accepts a container without one when templateDefaults
        // supplies it, so Skiff checks the image in validate() (SKF-SPEC-011), not in the shape check.
        if (fields[fi % fields.length] === "container" && typeof value === "object" && !Array.isArray(value))
          return;
        const skiff = skiffStructuralProblems(mutated);
        expect({ field: fields[fi % fields.length], value, skiffOk: skiff.length === 0 }).toEqual({
          field: fields[fi % fields.length],
          value,
          skiffOk: schemaOk,
        });
      }),
      { numRuns: 1500 },
    );
  });
});
