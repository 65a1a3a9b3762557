/**
 * Loading and linting do work proportional to the file: doubling the input at most about doubles a
 * deterministic count of elementary operations (set and map insertions and lookups, array searches).
 */
import { describe, expect, it } from "vitest";
import { Library, parseManifests, validate } from "../../../runtime/spec/index.js";
import { countWork } from "./work.js";

const HEAD = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: linear-\n";

function lintWork(text: string): number {
  return countWork(() => {
    const loaded = parseManifests(text, "wf.yaml");
    const library = Library.from(loaded.manifests);
    for (const m of loaded.manifests) validate(m, library);
  });
}

const INPUTS: Record<string, (n: number) => string> = {
  labels: (n) =>
    `${HEAD}  labels:\n${Array.from({ length: n }, (_, i) => `    l${i}: v\n`).join("")}spec:\n  entrypoint: main\n  templates:\n  - name: main\n    container: {image: alpine}\n`,
  "unknown fields, each reported with its position": (n) =>
    `${HEAD}spec:\n  entrypoint: main\n  templates:\n  - name: main\n    container:\n      image: alpine\n${Array.from({ length: n }, (_, i) => `      f${i}: 1\n`).join("")}`,
  "steps, each calling its own template": (n) =>
    `${HEAD}spec:\n  entrypoint: main\n  templates:\n  - name: main\n    steps:\n${Array.from({ length: n }, (_, i) => `    - - name: s${i}\n        template: t${i}\n`).join("")}${Array.from({ length: n }, (_, i) => `  - name: t${i}\n    container: {image: alpine}\n`).join("")}`,
  "a chain of DAG tasks": (n) =>
    `${HEAD}spec:\n  entrypoint: main\n  templates:\n  - name: c\n    container: {image: alpine}\n  - name: main\n    dag:\n      tasks:\n${Array.from({ length: n }, (_, i) => `      - name: s${i}\n        template: c\n${i > 0 ? `        depends: s${i - 1}\n` : ""}`).join("")}`,
};

describe("linear work", () => {
  for (const [name, make] of Object.entries(INPUTS)) {
    it(`lints ${name} in work proportional to their number`, () => {
      const small = lintWork(make(1000));
      const large = lintWork(make(2000));
      expect(large / small).toBeLessThan(2.5);
    });
  }
});
