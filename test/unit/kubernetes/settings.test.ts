import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { createKubernetesExecutor } from "../../../runtime/executors/kubernetes/index.js";
import {
  applyPodSpecPatch,
  buildPod,
  type KubeContainer,
} from "../../../runtime/executors/kubernetes/spec.js";
import { loadConfig } from "../../../src/config/index.js";
import { leafRequest } from "../../integration/executors/helpers.js";

/** Bad Kubernetes settings and templates get coded errors naming what is wrong, before anything runs. */
const dir = mkdtempSync(join(tmpdir(), "skiff-kube-unit-"));
const config = (text: string) => {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  return file;
};
const kubeconfig = () => {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server: "http://127.0.0.1:1", skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "ctx", cluster: "c", user: "u" }],
    currentContext: "ctx",
  });
  return kc;
};

describe("the kubernetes config section", () => {
  it("reads its fields, resolving the kubeconfig against the config file's folder", async () => {
    const c = await loadConfig(config("kubernetes:\n  kubeconfig: kube.yaml\n  namespace: ci\n  qps: 5\n"));
    expect(c.kubernetes).toEqual({ kubeconfig: join(dir, "kube.yaml"), namespace: "ci", qps: 5 });
  });

  it("names the line of a bad or unknown field (SKF-CFG-002)", async () => {
    await expect(
      loadConfig(config("executor: kubernetes\nkubernetes:\n  qps: fast\n")),
    ).rejects.toMatchObject({
      code: "SKF-CFG-002",
      message: expect.stringContaining("kubernetes.qps must be a positive number"),
      position: { line: 3 },
    });
    await expect(loadConfig(config("kubernetes:\n  cluster: x\n"))).rejects.toMatchObject({
      code: "SKF-CFG-002",
      message: expect.stringContaining('unknown field "cluster" in kubernetes'),
    });
  });
});

describe("createKubernetesExecutor", () => {
  it("SKF-KUBE-001 for an unreadable kubeconfig or a context it does not have", () => {
    expect(() => createKubernetesExecutor({ kubeconfig: join(dir, "missing.yaml") })).toThrow(
      expect.objectContaining({ code: "SKF-KUBE-001" }),
    );
    const file = join(dir, "kc.json");
    writeFileSync(file, kubeconfig().exportConfig());
    expect(() => createKubernetesExecutor({ kubeconfig: file, context: "prod" })).toThrow(
      /SKF-KUBE-001.*no context 'prod' \(it has: ctx\)|no context 'prod' \(it has: ctx\)/,
    );
  });

  it("SKF-KUBE-006 for a limit that is not positive", () => {
    expect(() => createKubernetesExecutor({ config: kubeconfig(), qps: 0 })).toThrow(
      expect.objectContaining({ code: "SKF-KUBE-006" }),
    );
  });

  it("SKF-KUBE-003 when main has outputs to collect and no known command", () => {
    const executor = createKubernetesExecutor({ config: kubeconfig() });
    const request = leafRequest({
      name: "t",
      container: { image: "my/tool:1" },
      outputs: { parameters: [{ name: "p", valueFrom: { path: "/tmp/p" } }] },
    });
    expect(() =>
      executor.kube.planContainer(request, {
        spec: request.template.container!,
        name: "main",
        role: "main",
        extraArgs: [],
        dependencies: [],
      }),
    ).toThrow(/has no command and the entrypoint of image 'my\/tool:1' is unknown/);
  });
});

describe("the pod a step gets", () => {
  const plan = (name: string, role: KubeContainer["role"], command?: string[]): KubeContainer => ({
    name,
    role,
    spec: { image: "busybox" },
    dependencies: [],
    command,
    args: [],
    container: { name, image: "busybox" },
  });
  const settings = {
    namespace: "ci",
    executorImage: "busybox:1.36",
    instanceId: "abc",
    inputs: [],
    volumes: [],
    inputsConfigMap: false,
    terminationGracePeriodSeconds: 10,
  };

  it("has Argo's labels and annotations, init first and main wrapped, workflow pod fields", () => {
    const request = leafRequest(
      {
        name: "t",
        container: { image: "busybox", command: ["true"] },
        nodeSelector: { disk: "ssd" },
      } as never,
      {
        workflowSpec: {
          tolerations: [{ key: "gpu", operator: "Exists" }],
          podMetadata: { labels: { team: "a" } },
          arguments: { parameters: [{ name: "mem", value: "64Mi" }] },
          podSpecPatch:
            "containers: [{name: main, resources: {limits: {memory: '{{workflow.parameters.mem}}'}}}]",
        },
      },
    );
    const pod = buildPod(request, [plan("main", "main", ["true"])], settings) as {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: Record<string, unknown> & {
        initContainers: { name: string }[];
        containers: { name: string; command: string[]; resources?: unknown }[];
      };
    };
    expect(pod.metadata.labels).toMatchObject({ "workflows.argoproj.io/workflow": "wf", team: "a" });
    expect(pod.metadata.annotations["workflows.argoproj.io/node-id"]).toBe(request.nodeId);
    expect(pod.spec.initContainers.map((c) => c.name)).toEqual(["init"]);
    expect(pod.spec.containers[0]!.command.slice(0, 2)).toEqual(["/var/run/skiff/bin/busybox", "sh"]);
    expect(pod.spec.containers[0]!.command.slice(-2)).toEqual(["--", "true"]);
    expect(pod.spec.nodeSelector).toEqual({ disk: "ssd" });
    expect(pod.spec.tolerations).toEqual([{ key: "gpu", operator: "Exists" }]);
    expect(pod.spec.restartPolicy).toBe("Never");
    expect(pod.spec.containers[0]!.resources).toEqual({ limits: { memory: "64Mi" } });
  });

  it("SKF-KUBE-005 for a podSpecPatch that is not an object of PodSpec fields", () => {
    const request = leafRequest({ name: "t", container: { image: "busybox" } });
    expect(() => applyPodSpecPatch({}, "- just\n- a list", request)).toThrow(
      expect.objectContaining({ code: "SKF-KUBE-005" }),
    );
    expect(() => applyPodSpecPatch({}, "{containers: [", request)).toThrow(
      /podSpecPatch of template 't' does not parse/,
    );
  });
});
