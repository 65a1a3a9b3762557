import { describe, expect, it } from "vitest";
import { checkExpressionSyntax } from "../../../runtime/expr/index.js";
import { compile, Library, parseManifests } from "../../../runtime/spec/index.js";

const wf = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: w
  labels: { team: a }
spec:
  entrypoint: main
  parallelism: 3
  arguments:
    parameters: [{ name: x, value: mine }]
  templates:
    - name: main
      container: { image: alpine, command: [echo, hi] }
`;

describe("workflowDefaults (Argo's controller setting)", () => {
  it("fills what the workflow leaves unset; the workflow wins", () => {
    const loaded = parseManifests(wf, "w.yaml");
    const c = compile(loaded.manifests[0]!, Library.from(loaded.manifests), {
      checkExpressionSyntax,
      workflowDefaults: {
        metadata: { labels: { team: "default", owner: "ci" } },
        spec: {
          parallelism: 10,
          activeDeadlineSeconds: 600,
          hostAliases: [{ ip: "127.0.0.1", hostnames: ["mirror.example"] }],
          arguments: {
            parameters: [
              { name: "x", value: "default" },
              { name: "y", value: "2" },
            ],
          },
        },
      },
    });
    const spec = c.workflow.spec;
    expect(spec.parallelism).toBe(3);
    expect(spec.activeDeadlineSeconds).toBe(600);
    expect(spec.hostAliases).toEqual([{ ip: "127.0.0.1", hostnames: ["mirror.example"] }]);
    expect(spec.arguments?.parameters).toEqual([
      { name: "x", value: "mine" },
      { name: "y", value: "2" },
    ]);
    expect(c.workflow.metadata.labels).toMatchObject({ team: "a", owner: "ci" });
  });
});
