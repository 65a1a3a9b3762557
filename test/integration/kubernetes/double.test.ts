import { CoreV1Api, KubeConfig, Log, Watch } from "@kubernetes/client-node";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeApiDouble } from "../../doubles/kube-api/server.js";
import { DOCKER_AVAILABLE } from "../docker/helpers.js";

/** The Kubernetes API double, through the real client: schema checks, Status bodies, watch, logs, pods on Docker. */
describe.skipIf(!DOCKER_AVAILABLE)("the Kubernetes API double", () => {
  const double = new KubeApiDouble({ imageMap: { busybox: "skiff-test/busybox:latest" } });
  const kc = new KubeConfig();
  let core: CoreV1Api;

  beforeAll(async () => {
    await double.start();
    kc.loadFromFile(double.writeKubeconfig());
    core = kc.makeApiClient(CoreV1Api);
  });
  afterAll(async () => {
    await double.stop();
  });

  it("rejects objects the schema rejects with 422 Invalid, and answers 404/409 with a Status", async () => {
    const bad = core.createNamespacedPod({
      namespace: "default",
      body: {
        metadata: { name: "bad" },
        spec: { containers: [{ name: "m", image: 3 as unknown as string }] },
      },
    });
    await expect(bad).rejects.toMatchObject({ code: 422 });
    await expect(core.readNamespacedConfigMap({ namespace: "default", name: "nope" })).rejects.toMatchObject({
      code: 404,
    });
    await core.createNamespacedConfigMap({
      namespace: "default",
      body: { metadata: { name: "c1" }, data: { a: "1" } },
    });
    await expect(
      core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "c1" } } }),
    ).rejects.toMatchObject({ code: 409 });
    await core.deleteNamespacedConfigMap({ namespace: "default", name: "c1" });
    expect(double.store.stats.rejected.Pod).toBe(1);
  });

  it("runs a pod's init container and containers on Docker with a shared emptyDir; logs and watch follow it", async () => {
    const events: string[] = [];
    const watch = await new Watch(kc).watch(
      "/api/v1/namespaces/default/pods",
      { labelSelector: "app=t" },
      (type, obj: { status?: { phase?: string } }) => events.push(`${type} ${obj.status?.phase ?? ""}`),
      () => undefined,
    );
    await core.createNamespacedPod({
      namespace: "default",
      body: {
        metadata: { name: "p1", labels: { app: "t" } },
        spec: {
          restartPolicy: "Never",
          volumes: [{ name: "shared", emptyDir: {} }],
          initContainers: [
            {
              name: "init",
              image: "busybox",
              command: ["sh", "-c", "echo hi > /s/f"],
              volumeMounts: [{ name: "shared", mountPath: "/s" }],
            },
          ],
          containers: [
            {
              name: "main",
              image: "busybox",
              command: ["sh", "-c", "cat /s/f; echo out; exit 3"],
              volumeMounts: [{ name: "shared", mountPath: "/s" }],
            },
          ],
        },
      },
    });
    let pod = await core.readNamespacedPod({ namespace: "default", name: "p1" });
    for (let i = 0; i < 200 && !["Succeeded", "Failed"].includes(pod.status?.phase ?? ""); i++) {
      await new Promise((r) => setTimeout(r, 100));
      pod = await core.readNamespacedPod({ namespace: "default", name: "p1" });
    }
    expect(pod.status?.phase).toBe("Failed");
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(3);
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on("data", (c: Buffer) => chunks.push(c));
    await new Log(kc).log("default", "p1", "main", out, { follow: true });
    await new Promise((r) => out.on("end", r));
    expect(Buffer.concat(chunks).toString()).toBe("hi\nout\n");
    watch.abort();
    expect(events[0]).toBe("ADDED Pending");
    expect(events).toContain("MODIFIED Running");
    await core.deleteNamespacedPod({ namespace: "default", name: "p1", gracePeriodSeconds: 0 });
    for (let i = 0; i < 50 && double.leftovers().length > 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(double.leftovers()).toEqual([]);
  });
});
