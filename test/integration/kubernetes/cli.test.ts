import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, cliSuite, ROOT, start, stored, type Trial } from "../durable/helpers.js";
import { KubeApiDouble } from "../../doubles/kube-api/server.js";
import { DOCKER_AVAILABLE, DOUBLE_IMAGE_MAP } from "./helpers.js";

/**
 * `skiff run --executor kubernetes` end to end, the CLI bundle against the API double: a run that ends on its
 * own, one killed with SIGKILL and resumed (no step's pod is created twice), one stopped with SIGTERM; each
 * leaves nothing on the cluster.
 */
const COUNTED = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: kube-counted}
spec:
  entrypoint: main
  templates:
    - name: main
      steps:
        - - {name: first, template: nap, arguments: {parameters: [{name: s, value: "1"}]}}
        - - {name: second, template: nap, arguments: {parameters: [{name: s, value: "3"}]}}
        - - {name: third, template: nap, arguments: {parameters: [{name: s, value: "1"}]}}
    - name: nap
      inputs: {parameters: [{name: s}]}
      container:
        image: busybox
        command: [sh, -c, "sleep {{inputs.parameters.s}}; echo -n done > /tmp/out"]
      outputs:
        parameters: [{name: out, valueFrom: {path: /tmp/out}}]
`;

describe.skipIf(!DOCKER_AVAILABLE)("skiff run --executor kubernetes", () => {
  const suite = cliSuite();
  const double = new KubeApiDouble({ imageMap: DOUBLE_IMAGE_MAP });
  let kubeconfig = "";

  beforeAll(async () => {
    await double.start();
    kubeconfig = double.writeKubeconfig();
  });
  afterAll(async () => {
    await double.stop();
  });

  const args = (t: Trial, file: string) => [
    "run",
    file,
    "--executor",
    "kubernetes",
    "--namespace",
    "ci",
    "--config",
    writeConfig(t),
  ];
  const writeConfig = (t: Trial): string => {
    const file = join(t.workspace, "skiff.yaml");
    writeFileSync(file, `kubernetes:\n  kubeconfig: ${kubeconfig}\n`);
    return file;
  };

  /** Pods of a phase whose node name ends with `.step`. */
  const podOf = (step: string, phase: string) =>
    double.store
      .list("pods", "ci")
      .find(
        (p) =>
          p.metadata?.annotations?.["workflows.argoproj.io/node-name"]?.endsWith(`.${step}`) &&
          (p.status as { phase?: string } | undefined)?.phase === phase,
      );

  it("runs the example through the API and leaves nothing behind", async () => {
    const t = suite.trial();
    const r = await cli(suite.path, t, [...args(t, join(ROOT, "examples/kubernetes/pods.yaml")), "--logs"]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/hello kubernetes: built/);
    expect(double.leftovers()).toEqual([]);
  }, 120_000);

  it("a run killed with SIGKILL is resumed: it re-attaches to its pod, no step runs twice, nothing is left", async () => {
    const t = suite.trial();
    const file = join(t.workspace, "counted.yaml");
    writeFileSync(file, COUNTED);
    const run = start(suite.path, t, args(t, file));
    for (let i = 0; i < 600 && !podOf("second", "Running"); i++) await new Promise((r) => setTimeout(r, 50));
    expect(podOf("second", "Running")).toBeDefined();
    run.child.kill("SIGKILL");
    await run.done;
    const resumed = await cli(suite.path, t, ["resume", "kube-counted"]);
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    const wf = await stored(suite.path, t, "kube-counted");
    expect(wf?.status?.phase).toBe("Succeeded");
    const counts = [...double.runner.startedByName].filter(([n]) => n.startsWith("kube-counted"));
    expect(counts.length).toBe(3);
    expect(
      counts.every(([, n]) => n === 1),
      JSON.stringify(counts),
    ).toBe(true);
    expect(double.leftovers()).toEqual([]);
  }, 180_000);

  it("a run stopped with SIGTERM deletes its pods", async () => {
    const t = suite.trial();
    const file = join(t.workspace, "counted.yaml");
    writeFileSync(file, COUNTED.replace("kube-counted", "kube-stopped"));
    const run = start(suite.path, t, args(t, file));
    for (let i = 0; i < 600 && !podOf("second", "Running"); i++) await new Promise((r) => setTimeout(r, 50));
    run.child.kill("SIGTERM");
    const r = await run.done;
    expect(r.code).not.toBe(0);
    expect(double.leftovers()).toEqual([]);
  }, 120_000);
});
