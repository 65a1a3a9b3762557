import { describe, expect, it } from "vitest";
import { Library, parseManifests, validate } from "../../../runtime/spec/index.js";

const wf = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: mounts-
spec:
  entrypoint: main
  volumes:
    - name: v1
      emptyDir: {}
    - name: v2
      emptyDir: {}
  templates:
    - name: main
      inputs:
        artifacts:
          - name: src
            path: /work
            raw:
              data: hello
      container:
        image: alpine
        volumeMounts:
          - name: v1
            mountPath: /work
          - name: v2
            mountPath: /work
`;

describe("container paths", () => {
  it("reports a volume mount or input artifact path that is already mounted", () => {
    const loaded = parseManifests(wf, "w.yaml");
    const problems = validate(loaded.manifests[0]!, Library.from(loaded.manifests));
    expect(problems.map((p) => [p.code, p.message, p.path, p.position?.line])).toEqual([
      [
        "SKF-SPEC-069",
        "templates.main.container.volumeMounts[1].mountPath '/work' already mounted in container.volumeMounts.v1",
        "spec.templates[0].container.volumeMounts[1].mountPath",
        26,
      ],
      [
        "SKF-SPEC-069",
        "templates.main.inputs.artifacts[0].path '/work' already mounted in container.volumeMounts.v2",
        "spec.templates[0].inputs.artifacts[0].path",
        17,
      ],
    ]);
  });
});
