import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NodeStatus, Workflow } from "../../../runtime/spec/types.js";
import type { KubeApiDouble } from "../../doubles/kube-api/server.js";
import { DOCKER_AVAILABLE, kubeExecutor, runWorkflow, startDouble } from "./helpers.js";

/** Pod failures as Argo reports them: image pulls, config errors, OOMKilled, eviction, deletion, deadlines. */
describe.skipIf(!DOCKER_AVAILABLE)("Kubernetes pod failures", () => {
  let double: KubeApiDouble;
  let config: KubeConfig;
  let dir: string;

  beforeAll(async () => {
    ({ double, config, dir } = await startDouble());
  });
  afterAll(async () => {
    await double.stop();
  });

  const workflow = (name: string, template: string, extra = "") => `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: ${name}}
spec:
  entrypoint: main
  templates:
    - name: main
${extra}
${template
  .split("\n")
  .map((l) => `      ${l}`)
  .join("\n")}
`;
  const pods = (wf: Workflow): NodeStatus[] =>
    Object.values(wf.status?.nodes ?? {}).filter((n) => n.type === "Pod");
  const run = async (yaml: string, pendingTimeoutMs = 60_000): Promise<Workflow> => {
    const wf = await runWorkflow(yaml, kubeExecutor(config, dir, { pendingTimeoutMs }), dir);
    expect(double.leftovers().filter((o) => !/\/(creds|settings)$/.test(o))).toEqual([]);
    return wf;
  };

  it("an image that cannot be pulled: Error with the kubelet's ImagePullBackOff once the pending timeout passes", async () => {
    const wf = await run(
      workflow("pull", "container: {image: 'registry.invalid/none:1', command: ['true']}"),
      1500,
    );
    expect(wf.status?.phase).toBe("Error");
    expect(pods(wf)[0]?.message).toMatch(
      /^ImagePullBackOff: Back-off pulling image "registry.invalid\/none:1"/,
    );
  }, 60_000);

  it("a secretKeyRef to a missing Secret: Error CreateContainerConfigError at once", async () => {
    const wf = await run(
      workflow(
        "config",
        `container:
  image: busybox
  command: ['true']
  env: [{name: TOKEN, valueFrom: {secretKeyRef: {name: nope, key: token}}}]`,
      ),
    );
    expect(wf.status?.phase).toBe("Error");
    expect(pods(wf)[0]?.message).toBe('CreateContainerConfigError: secret "nope" not found');
  }, 60_000);

  it("Secrets and ConfigMaps come from the cluster", async () => {
    const core = config.makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({
      namespace: "default",
      body: { metadata: { name: "creds" }, stringData: { token: "s3cr3t" } },
    });
    await core.createNamespacedConfigMap({
      namespace: "default",
      body: { metadata: { name: "settings" }, data: { mode: "fast" } },
    });
    try {
      const wf = await run(
        workflow(
          "from-cluster",
          `container:
  image: busybox
  command: [sh, -c, 'test "$TOKEN" = s3cr3t && test "$(cat /etc/settings/mode)" = fast']
  env: [{name: TOKEN, valueFrom: {secretKeyRef: {name: creds, key: token}}}]
  volumeMounts: [{name: settings, mountPath: /etc/settings}]
volumes: [{name: settings, configMap: {name: settings}}]`,
        ),
      );
      expect(wf.status?.phase, JSON.stringify(pods(wf).map((p) => p.message))).toBe("Succeeded");
    } finally {
      await core.deleteNamespacedSecret({ namespace: "default", name: "creds" });
      await core.deleteNamespacedConfigMap({ namespace: "default", name: "settings" });
    }
  }, 60_000);

  it("OOMKilled: Failed with Argo's message, exit code 137", async () => {
    double.scriptFailure("oom", { kind: "OOMKilled", container: "main", afterMs: 300 });
    const wf = await run(workflow("oom", "container: {image: busybox, command: [sleep, '30']}"));
    expect(wf.status?.phase).toBe("Failed");
    expect(pods(wf)[0]?.message).toBe("main: OOMKilled (exit code 137)");
  }, 60_000);

  it("an evicted pod is an Error, which retryPolicy OnError retries", async () => {
    double.scriptFailure("evict", { kind: "Evicted", afterMs: 500 }, { once: true });
    const wf = await run(
      workflow(
        "evict",
        `retryStrategy: {limit: 2, retryPolicy: OnError}
container: {image: busybox, command: [sh, -c, 'sleep 2']}`,
      ),
    );
    expect(wf.status?.phase).toBe("Succeeded");
    const attempts = pods(wf).sort((a, b) => a.name.localeCompare(b.name));
    expect(attempts.map((p) => p.phase)).toEqual(["Error", "Succeeded"]);
    expect(attempts[0]?.message).toMatch(/^pod deleted: Evicted: The node was low on resource: memory/);
  }, 60_000);

  it("an unschedulable pod (nodeSelector no node has) ends in Error after the pending timeout", async () => {
    const wf = await run(
      workflow(
        "unsched",
        `nodeSelector: {disktype: ssd}
container: {image: busybox, command: ['true']}`,
      ),
      1500,
    );
    expect(wf.status?.phase).toBe("Error");
    expect(pods(wf)[0]?.message).toMatch(/^Unschedulable: 0\/1 nodes are available/);
  }, 60_000);

  it("a pod deleted by someone else is an Error (pod deleted)", async () => {
    const core = config.makeApiClient(CoreV1Api);
    const deleter = (async () => {
      for (let i = 0; i < 400; i++) {
        const p = double.store
          .list("pods", "default")
          .find(
            (x) =>
              x.metadata?.name?.startsWith("gone") && (x.status as { phase?: string }).phase === "Running",
          );
        if (p) {
          await core.deleteNamespacedPod({
            namespace: "default",
            name: p.metadata!.name!,
            gracePeriodSeconds: 0,
          });
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const wf = await run(workflow("gone", "container: {image: busybox, command: [sleep, '30']}"));
    await deleter;
    expect(wf.status?.phase).toBe("Error");
    expect(pods(wf)[0]?.message).toMatch(/^pod deleted/);
  }, 60_000);

  it("activeDeadlineSeconds: Failed with the kubelet's deadline message", async () => {
    const wf = await run(
      workflow(
        "deadline",
        `activeDeadlineSeconds: 2
container: {image: busybox, command: [sleep, '60']}`,
      ),
    );
    expect(wf.status?.phase).toBe("Failed");
    expect(pods(wf)[0]?.message).toBe("Pod was active on the node longer than the specified deadline");
  }, 60_000);
});
