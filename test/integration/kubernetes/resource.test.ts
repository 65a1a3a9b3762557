import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeConfig } from "@kubernetes/client-node";
import { createLocalRepository } from "../../../runtime/artifacts/repository.js";
import { startWorkflow } from "../../../runtime/controller/index.js";
import { SystemClock } from "../../../runtime/interfaces/clock.js";
import { compile, Library, loadPaths } from "../../../runtime/spec/index.js";
import { CORPUS, CORPUS_PRESENT, SKIP_MESSAGE } from "../../conformance/corpus.js";
import type { KubeApiDouble } from "../../doubles/kube-api/server.js";
import { DOCKER_AVAILABLE, kubeExecutor, runWorkflow, startDouble } from "./helpers.js";

/** Argo's `resource` templates through the API: the four examples of Argo's corpus, conditions and outputs. */
const EXAMPLES = [
  "k8s-owner-reference.yaml",
  "k8s-patch-json-pod.yaml",
  "k8s-patch-merge-pod.yaml",
  "k8s-patch-pod.yaml",
];

if (!CORPUS_PRESENT) console.warn(SKIP_MESSAGE);

describe.skipIf(!DOCKER_AVAILABLE)("resource templates on the Kubernetes executor", () => {
  let double: KubeApiDouble;
  let config: KubeConfig;
  let dir: string;

  beforeAll(async () => {
    ({ double, config, dir } = await startDouble());
  });
  afterAll(async () => {
    await double.stop();
  });

  it.skipIf(!CORPUS_PRESENT).each(EXAMPLES)(
    "Argo's %s Succeeds and leaves nothing",
    async (file) => {
      const { manifests } = await loadPaths([join(CORPUS, file)]);
      const compiled = compile(manifests[0]!, Library.from(manifests));
      const executor = kubeExecutor(config, dir);
      let wf;
      try {
        wf = await startWorkflow(compiled, {
          executor,
          clock: new SystemClock(),
          artifactRepository: createLocalRepository(join(dir, "artifacts")),
          workspace: dir,
        }).done;
      } finally {
        await executor.cleanup();
      }
      const nodes = Object.values(wf.status?.nodes ?? {});
      expect(wf.status?.phase, JSON.stringify(nodes.map((n) => n.message))).toBe("Succeeded");
      expect(double.leftovers()).toEqual([]);
    },
    60_000,
  );

  it("create with a successCondition, outputs from jsonPath and jqFilter, then delete", async () => {
    const wf = await runWorkflow(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: res}
spec:
  entrypoint: main
  templates:
    - name: main
      steps:
        - - {name: make, template: make}
        - - name: remove
            template: remove
            arguments: {parameters: [{name: cm, value: "{{steps.make.outputs.parameters.name}}"}]}
    - name: make
      resource:
        action: create
        successCondition: data.ready == yes
        manifest: |
          apiVersion: v1
          kind: ConfigMap
          metadata: {generateName: made-}
          data: {ready: "yes", size: "3"}
      outputs:
        parameters:
          - {name: name, valueFrom: {jsonPath: "{.metadata.name}"}}
          - {name: size, valueFrom: {jqFilter: ".data.size"}}
    - name: remove
      inputs: {parameters: [{name: cm}]}
      resource:
        action: delete
        flags: [configmap, "{{inputs.parameters.cm}}"]
`,
      kubeExecutor(config, dir),
      dir,
    );
    const nodes = Object.values(wf.status?.nodes ?? {});
    expect(wf.status?.phase, JSON.stringify(nodes.map((n) => n.message))).toBe("Succeeded");
    const make = nodes.find((n) => n.displayName === "make");
    expect(make?.outputs?.parameters?.map((p) => p.value)).toEqual([expect.stringMatching(/^made-/), "3"]);
    expect(double.leftovers()).toEqual([]);
  }, 60_000);

  it("a failureCondition that matches fails the step; a manifest the schema rejects is an Error", async () => {
    const wf = await runWorkflow(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: res-fail}
spec:
  entrypoint: main
  templates:
    - name: main
      steps:
        - - {name: bad-cond, template: bad-cond}
          - {name: invalid, template: invalid}
    - name: bad-cond
      resource:
        action: create
        setOwnerReference: true
        failureCondition: data.state == broken
        manifest: |
          apiVersion: v1
          kind: ConfigMap
          metadata: {name: broken-one}
          data: {state: broken}
    - name: invalid
      resource:
        action: create
        manifest: |
          apiVersion: v1
          kind: Pod
          metadata: {name: no-containers}
          spec: {containers: "none"}
`,
      kubeExecutor(config, dir),
      dir,
    );
    const nodes = Object.values(wf.status?.nodes ?? {});
    const bad = nodes.find((n) => n.displayName === "bad-cond");
    expect(bad?.phase).toBe("Failed");
    expect(bad?.message).toBe("failed condition: data.state == broken");
    const invalid = nodes.find((n) => n.displayName === "invalid");
    expect(invalid?.phase).toBe("Error");
    expect(invalid?.message).toMatch(
      /SKF-KUBE-007: create: Pod "no-containers" is invalid: data\/spec\/containers must be array/,
    );
    // setOwnerReference: the object goes with the workflow.
    expect(double.leftovers()).toEqual([]);
  }, 60_000);
});
