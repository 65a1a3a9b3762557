import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPaths, parseManifests } from "../../../runtime/spec/index.js";

const WF = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: hello-
spec:
  entrypoint: main
  templates:
    - name: main
      container:
        image: alpine
`;

describe("parseManifests", () => {
  it("keeps the line and column of every field", () => {
    const r = parseManifests(WF, "wf.yaml");
    expect(r.problems).toEqual([]);
    const m = r.manifests[0];
    expect(m?.object.kind).toBe("Workflow");
    expect(m?.positions.get(["spec", "entrypoint"])).toEqual({ file: "wf.yaml", line: 6, column: 3 });
    expect(m?.positions.get(["spec", "templates", 0])).toEqual({ file: "wf.yaml", line: 8, column: 7 });
    expect(m?.positions.get(["spec", "templates", 0, "container", "image"])).toEqual({
      file: "wf.yaml",
      line: 10,
      column: 9,
    });
    expect(m?.positions.get(["spec", "nope"])).toBeUndefined();
  });

  it("reads multi-document files with their document index and positions", () => {
    const text = `${WF}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: "1"\n`;
    const r = parseManifests(text, "multi.yaml");
    expect(r.manifests.map((m) => [m.object.kind, m.docIndex])).toEqual([
      ["Workflow", 0],
      ["ConfigMap", 1],
    ]);
    expect(r.manifests[1]?.positions.get(["data", "a"])?.line).toBe(17);
  });

  it("reads JSON with positions", () => {
    const text = JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "s" } }, null, 2);
    const r = parseManifests(text, "s.json");
    expect(r.manifests[0]?.object.kind).toBe("Secret");
    expect(r.manifests[0]?.positions.get(["metadata", "name"])?.line).toBe(5);
  });

  it("reports duplicate keys with their line, or notes them when not strict", () => {
    const text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n";
    const strict = parseManifests(text, "d.yaml", { strict: true });
    expect(strict.manifests).toEqual([]);
    expect(strict.problems.map((p) => [p.code, p.position?.line])).toEqual([["SKF-SPEC-002", 5]]);
    const lenient = parseManifests(text, "d.yaml");
    expect(lenient.manifests[0]?.object.metadata.name).toBe("b");
    expect(lenient.notes.map((p) => p.code)).toEqual(["SKF-SPEC-002"]);
  });

  it("reports tabs in indentation and bad YAML as coded problems with lines", () => {
    const tabs = parseManifests("apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: a\n", "t.yaml");
    expect(tabs.problems[0]?.code).toBe("SKF-SPEC-003");
    expect(tabs.problems[0]?.position?.line).toBe(4);
    const bad = parseManifests("apiVersion: v1\nkind: [ConfigMap\n", "b.yaml");
    expect(bad.problems[0]?.code).toBe("SKF-SPEC-001");
    expect(bad.problems[0]?.position?.line).toBeGreaterThanOrEqual(2);
  });

  it("accepts go-yaml's under-indented multi-line flow strings, as Argo's examples use them", () => {
    const text = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: x
spec:
  entrypoint: main
  templates:
  - name: main
    container:
      image: alpine
      args: ["
        echo \\"hi\\" &&
        echo there
      "]
`;
    const r = parseManifests(text, "x.yaml");
    expect(r.problems).toEqual([]);
    const wf = r.manifests[0]?.object as { spec: { templates: { container: { args: string[] } }[] } };
    expect(wf.spec.templates[0]?.container.args).toEqual([' echo "hi" && echo there ']);
  });

  it("reports unknown kinds and apiVersions as problems, or notes them when asked to ignore them", () => {
    const text =
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n---\napiVersion: argoproj.io/v1beta1\nkind: Workflow\n";
    const r = parseManifests(text, "k.yaml");
    expect(r.problems.map((p) => [p.code, p.position?.line])).toEqual([
      ["SKF-SPEC-005", 2],
      ["SKF-SPEC-006", 6],
    ]);
    const ignored = parseManifests("apiVersion: v1\nkind: Pod\n", "k.yaml", { ignoreUnknownKinds: true });
    expect(ignored.problems).toEqual([]);
    expect(ignored.notes.map((p) => p.code)).toEqual(["SKF-SPEC-008"]);
  });

  it("reports a document that is not an object", () => {
    const r = parseManifests("- a\n- b\n", "l.yaml");
    expect(r.problems.map((p) => p.code)).toEqual(["SKF-SPEC-004"]);
  });

  it("skips empty documents", () => {
    expect(parseManifests("---\n---\n", "e.yaml")).toEqual({ manifests: [], problems: [], notes: [] });
  });
});

describe("loadPaths", () => {
  it("walks directories recursively in a stable order and ignores other kinds there", async () => {
    const dir = await mkdtemp(join(tmpdir(), "skiff-spec-"));
    await mkdir(join(dir, "sub"));
    await writeFile(join(dir, "b.yaml"), WF.replace("hello-", "b-"));
    await writeFile(join(dir, "a.yml"), WF.replace("hello-", "a-"));
    await writeFile(
      join(dir, "sub", "c.json"),
      JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } }),
    );
    await writeFile(
      join(dir, "sub", "pvc.yaml"),
      "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: p\n",
    );
    await writeFile(join(dir, "README.md"), "# not yaml");
    const r = await loadPaths([dir]);
    expect(r.problems).toEqual([]);
    expect(r.manifests.map((m) => m.object.metadata.generateName ?? m.object.metadata.name)).toEqual([
      "a-",
      "b-",
      "c",
    ]);
    expect(r.notes.map((n) => n.code)).toEqual(["SKF-SPEC-008"]);
    expect(r.files).toHaveLength(4);
  });

  it("reports a path that does not exist", async () => {
    const r = await loadPaths(["/nonexistent/skiff/file.yaml"]);
    expect(r.problems.map((p) => p.code)).toEqual(["SKF-SPEC-007"]);
  });
});
