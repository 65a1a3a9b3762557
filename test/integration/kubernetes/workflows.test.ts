import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeConfig } from "@kubernetes/client-node";
import type { KubeApiDouble } from "../../doubles/kube-api/server.js";
import { DOCKER_AVAILABLE, kubeExecutor, runWorkflow, startDouble } from "./helpers.js";

/** Workflows through the controller and the Kubernetes executor, against the API double's Docker-backed pods. */
describe.skipIf(!DOCKER_AVAILABLE)("the Kubernetes executor runs workflows", () => {
  let double: KubeApiDouble;
  let config: KubeConfig;
  let dir: string;

  beforeAll(async () => {
    ({ double, config, dir } = await startDouble());
  });
  afterAll(async () => {
    await double.stop();
  });

  it("runs a container step with an output parameter, its logs and result, and leaves nothing", async () => {
    const wf = await runWorkflow(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: hello}
spec:
  entrypoint: main
  templates:
    - name: main
      steps:
        - - name: say
            template: say
        - - name: show
            template: show
            arguments: {parameters: [{name: v, value: "{{steps.say.outputs.parameters.v}}"}]}
        - - name: echo
            template: show
            arguments: {parameters: [{name: v, value: "{{steps.show.outputs.result}}"}]}
    - name: say
      container:
        image: busybox
        command: [sh, -c, "echo hello; echo -n world > /tmp/v"]
      outputs:
        parameters: [{name: v, valueFrom: {path: /tmp/v}}]
    - name: show
      inputs: {parameters: [{name: v}]}
      script:
        image: busybox
        command: [sh]
        source: |
          echo "got {{inputs.parameters.v}}"
`,
      kubeExecutor(config, dir),
      dir,
    );
    const nodes = Object.values(wf.status?.nodes ?? {});
    expect(wf.status?.phase, JSON.stringify(nodes.map((n) => [n.displayName, n.phase, n.message]))).toBe(
      "Succeeded",
    );
    const show = nodes.find((n) => n.displayName === "show");
    expect(show?.outputs?.result).toBe("got world");
    const say = nodes.find((n) => n.displayName === "say");
    expect(say?.outputs?.parameters?.[0]?.value).toBe("world");
    expect(double.leftovers()).toEqual([]);
    expect(double.store.stats.rejected).toEqual({});
  });
});
