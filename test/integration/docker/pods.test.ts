import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LABELS } from "../../../runtime/executors/docker/index.js";
import type { Template } from "../../../runtime/spec/types.js";
import { docker, DOCKER_AVAILABLE, leftovers, setup, stepRequest, workflowContainers } from "./helpers.js";

describe.skipIf(!DOCKER_AVAILABLE)("Docker executor: scripts, files and pods", () => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    env = await setup();
  });
  afterAll(() => env?.dispose());
  afterEach(async () => {
    expect(await workflowContainers(env.executor)).toEqual([]);
  });

  it("runs a script from /argo/staging/script with the source file as last argument", async () => {
    const { result } = await env.run(
      {
        name: "s",
        script: {
          image: "busybox",
          command: ["sh"],
          source: 'echo "from $0"\nls -l /tmp | head -1 >/dev/null',
        },
      },
      { captureResult: true },
    );
    expect(result.phase).toBe("Succeeded");
    expect(result.outputs.result).toBe("from /argo/staging/script");
  });

  it("reads output parameters (one newline trimmed, defaults) and Errors on a missing one", async () => {
    const ok = await env.run({
      name: "p",
      container: { image: "busybox", command: ["sh", "-c", "printf 'hello\\n\\n' > /tmp/out.txt"] },
      outputs: {
        parameters: [
          { name: "hello", valueFrom: { path: "/tmp/out.txt" } },
          { name: "missing", valueFrom: { path: "/tmp/nope/missing.txt", default: "dflt" } },
        ],
      },
    });
    expect(ok.result.phase).toBe("Succeeded");
    expect(ok.result.outputs.parameters?.map((p) => [p.name, p.value])).toEqual([
      ["hello", "hello\n"],
      ["missing", "dflt"],
    ]);
    const missing = await env.run({
      name: "p",
      container: { image: "busybox", command: ["true"] },
      outputs: { parameters: [{ name: "x", valueFrom: { path: "/tmp/nope/x" } }] },
    });
    expect(missing.result.phase).toBe("Error");
    expect(missing.result.message).toBe(
      "failed to get output parameter 'x': open /tmp/nope/x: no such file or directory",
    );
  });

  it("saves output artifacts (file and folder) and loads them as inputs of another step, /tmp keeping its mode", async () => {
    const produced = await env.run({
      name: "produce",
      container: {
        image: "busybox",
        command: [
          "sh",
          "-c",
          "mkdir -p /out/dir/sub && echo one > /out/dir/sub/a.txt && echo file > /out/f.txt",
        ],
      },
      outputs: {
        artifacts: [
          { name: "dir", path: "/out/dir" },
          { name: "file", path: "/out/f.txt", archive: { none: {} } },
          { name: "opt", path: "/out/none", optional: true },
        ],
      },
    });
    expect(produced.result.phase).toBe("Succeeded");
    const arts = produced.result.outputs.artifacts ?? [];
    expect(arts.map((a) => a.name)).toEqual(["dir", "file"]);
    const consumed = await env.run(
      {
        name: "consume",
        inputs: {
          artifacts: [
            { name: "dir", path: "/tmp/in/dir" },
            { name: "file", path: "/tmp/f.txt" },
          ],
        },
        container: {
          image: "busybox",
          command: ["sh", "-c", "cat /tmp/in/dir/sub/a.txt /tmp/f.txt; stat -c %a /tmp"],
        },
      },
      {
        captureResult: true,
        inputArtifacts: [
          { ...arts[0]!, path: "/tmp/in/dir" },
          { ...arts[1]!, path: "/tmp/f.txt" },
        ],
      },
    );
    expect(consumed.result.phase).toBe("Succeeded");
    expect(consumed.result.outputs.result).toBe("one\nfile\n1777");
  });

  it("follows output symlinks inside the container, never to the host's files", async () => {
    const { result } = await env.run({
      name: "links",
      container: {
        image: "busybox",
        command: [
          "sh",
          "-c",
          "echo container-passwd > /tmp/passwd-copy && ln -s /tmp/passwd-copy /tmp/p1 && ln -s p1 /tmp/p2 && " +
            "ln -s /etc/passwd /tmp/etc-link && mkdir -p /out && ln -s ../tmp/p2 /out/rel",
        ],
      },
      outputs: {
        parameters: [
          { name: "abs", valueFrom: { path: "/tmp/p2" } },
          { name: "etc", valueFrom: { path: "/tmp/etc-link" } },
          { name: "rel", valueFrom: { path: "/out/rel" } },
        ],
      },
    });
    expect(result.message).toBeUndefined();
    const values = Object.fromEntries((result.outputs.parameters ?? []).map((p) => [p.name, p.value]));
    expect(values.abs).toBe("container-passwd");
    expect(values.rel).toBe("container-passwd");
    // The image's /etc/passwd (root and nobody only), not the host's.
    expect(values.etc?.split("\n").map((l) => l.split(":")[0])).toEqual(["root", "nobody"]);
  });

  it("ends in Error naming the artifact when a required input has no location", async () => {
    const { result } = await env.run(
      { name: "noin", container: { image: "busybox", command: ["true"] } },
      { inputArtifacts: [{ name: "x", path: "/tmp/x" }] },
    );
    expect(result.phase).toBe("Error");
    expect(result.message).toContain("inputs.artifacts.x was not supplied");
  });

  it("runs init containers first and sidecars beside main, sharing localhost and emptyDir volumes", async () => {
    const { result, logs } = await env.run(
      {
        name: "pod",
        volumes: [{ name: "shared", emptyDir: {} }],
        initContainers: [
          {
            name: "init-web",
            image: "busybox",
            command: ["sh", "-c", "mkdir -p /shared/www && echo served-by-sidecar > /shared/www/index.html"],
            volumeMounts: [{ name: "shared", mountPath: "/shared" }],
          },
        ],
        sidecars: [
          {
            name: "web",
            image: "busybox",
            command: ["httpd", "-f", "-p", "8080", "-h", "/shared/www"],
            volumeMounts: [{ name: "shared", mountPath: "/shared" }],
          },
        ],
        container: {
          image: "busybox",
          command: [
            "sh",
            "-c",
            "for i in $(seq 1 50); do wget -q -O- http://localhost:8080/index.html && exit 0; sleep 0.1; done; exit 1",
          ],
        },
      },
      { captureResult: true, volumes: [{ name: "shared", emptyDir: {} }] },
    );
    expect(result.phase).toBe("Succeeded");
    expect(result.outputs.result).toBe("served-by-sidecar");
    expect(result.containers?.map((c) => [c.name, c.phase])).toEqual([
      ["init-web", "Succeeded"],
      ["main", "Succeeded"],
      ["web", "Failed"],
    ]);
    expect(logs.some((l) => l.container === "main")).toBe(true);
  });

  it("ends in Error when an init container fails, without running main", async () => {
    const { result, logs } = await env.run({
      name: "initfail",
      initContainers: [{ name: "prep", image: "busybox", command: ["sh", "-c", "exit 2"] }],
      container: { image: "busybox", command: ["echo", "main-ran"] },
    });
    expect(result.phase).toBe("Error");
    expect(result.message).toBe("prep: Error (exit code 2)");
    expect(logs.some((l) => l.text === "main-ran")).toBe(false);
  });

  it("starts a daemon, resolves ready() after its readinessProbe, and another step reaches it at its ip", async () => {
    const daemon: Template = {
      name: "server",
      daemon: true,
      container: {
        image: "busybox",
        command: [
          "sh",
          "-c",
          "sleep 1; mkdir -p /www && echo daemon-up > /www/index.html && exec httpd -f -p 8080 -h /www",
        ],
        readinessProbe: { httpGet: { path: "/index.html", port: 8080 }, periodSeconds: 1 },
      },
    };
    const req = stepRequest(daemon, { daemon: true });
    const h = await env.executor.start(req);
    const { ip } = await env.executor.ready(h);
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(ip).not.toBe("127.0.0.1");
    const client = await env.run(
      {
        name: "client",
        container: { image: "busybox", command: ["wget", "-q", "-O-", `http://${ip}:8080/index.html`] },
      },
      { captureResult: true },
    );
    expect(client.result.outputs.result).toBe("daemon-up");
    await env.executor.kill(h, "daemon stopped");
    const r = await env.executor.wait(h);
    expect(r.phase).toBe("Failed");
    expect(r.message).toBe("daemon stopped");
  });

  it.each([
    ["exec", { exec: { command: ["test", "-f", "/tmp/ready"] } }],
    ["tcpSocket", { tcpSocket: { port: 9000 } }],
  ])("resolves ready() once an %s readinessProbe passes", async (_kind, probe) => {
    const req = stepRequest(
      {
        name: "probed",
        daemon: true,
        container: {
          image: "busybox",
          command: ["sh", "-c", "sleep 1; touch /tmp/ready; exec nc -l -p 9000"],
          readinessProbe: probe,
        },
      },
      { daemon: true },
    );
    const h = await env.executor.start(req);
    const { ip } = await env.executor.ready(h);
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    // Ready only after the file exists / the port listens: the container is still running now.
    const info = await docker.listContainers({
      filters: JSON.stringify({ label: [`${LABELS.node}=${req.nodeId}`] }),
    });
    expect(info.map((c) => c.State)).toEqual(["running"]);
    await env.executor.kill(h, "done");
    expect((await env.executor.wait(h)).message).toBe("done");
  });

  it("rejects ready() for a daemon that exits before its probe passes", async () => {
    const req = stepRequest(
      {
        name: "dies",
        daemon: true,
        container: {
          image: "busybox",
          command: ["sh", "-c", "exit 3"],
          readinessProbe: { exec: { command: ["false"] } },
        },
      },
      { daemon: true },
    );
    const h = await env.executor.start(req);
    await expect(env.executor.ready(h)).rejects.toMatchObject({ code: "SKF-EXEC-008" });
    expect((await env.executor.wait(h)).message).toBe("main: Error (exit code 3)");
  });

  it("runs a containerSet in dependency order sharing its volumes, and reports each container", async () => {
    const { result } = await env.run(
      {
        name: "set",
        volumes: [{ name: "ws", emptyDir: {} }],
        containerSet: {
          volumeMounts: [{ name: "ws", mountPath: "/ws" }],
          containers: [
            {
              name: "main",
              image: "busybox",
              command: ["sh", "-c", "echo main >> /ws/order; cat /ws/order"],
              dependencies: ["b"],
            },
            {
              name: "b",
              image: "busybox",
              command: ["sh", "-c", "echo b >> /ws/order"],
              dependencies: ["a"],
            },
            { name: "a", image: "busybox", command: ["sh", "-c", "sleep 0.3; echo a >> /ws/order"] },
          ],
        },
        outputs: { parameters: [{ name: "order", valueFrom: { path: "/ws/order" } }] },
      },
      { captureResult: true, volumes: [{ name: "ws", emptyDir: {} }] },
    );
    expect(result.phase).toBe("Succeeded");
    expect(result.outputs.result).toBe("a\nb\nmain");
    expect(result.outputs.parameters?.[0]?.value).toBe("a\nb\nmain");
    expect(result.containers?.map((c) => [c.name, c.phase])).toEqual([
      ["main", "Succeeded"],
      ["b", "Succeeded"],
      ["a", "Succeeded"],
    ]);
  });

  it("fails a containerSet whose container fails and does not start its dependants", async () => {
    const { result } = await env.run({
      name: "setfail",
      containerSet: {
        containers: [
          { name: "a", image: "busybox", command: ["sh", "-c", "exit 5"] },
          { name: "main", image: "busybox", command: ["true"], dependencies: ["a"] },
        ],
      },
    });
    expect(result.phase).toBe("Failed");
    expect(result.message).toBe("a: Error (exit code 5)");
    expect(result.containers?.find((c) => c.name === "main")?.message).toBe(
      "Pod failed before main container starts",
    );
  });

  it("kills a step at its deadline with Argo's message and removes its containers", async () => {
    const started = Date.now();
    const { result } = await env.run(
      { name: "slow", container: { image: "busybox", command: ["sleep", "60"] } },
      { deadline: Date.now() + 1500 },
    );
    expect(result.phase).toBe("Failed");
    expect(result.message).toBe("Pod was active on the node longer than the specified deadline");
    // sleep ends on SIGTERM through the init process; the 60 s would show here otherwise.
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it("kill() stops a running step, sidecars included, and wait() then resolves", async () => {
    const req = stepRequest({
      name: "killme",
      sidecars: [{ name: "side", image: "busybox", command: ["sleep", "60"] }],
      container: { image: "busybox", command: ["sh", "-c", "echo started; sleep 60"] },
    });
    const h = await env.executor.start(req);
    for await (const l of env.executor.logs(h)) if (l.text === "started") break;
    await env.executor.kill(h, "stopped by user");
    const r = await env.executor.wait(h);
    expect(r.phase).toBe("Failed");
    expect(r.message).toBe("stopped by user");
  });

  it("binds the workspace at its path; starts in the image's WORKDIR, or the workspace when asked", async () => {
    const ws = await mkdtemp(path.join(tmpdir(), "skiff-docker-ws-"));
    const inWs = await setup({ workspaceAsWorkingDir: true });
    try {
      await writeFile(path.join(ws, "in.txt"), "checkout");
      const step = {
        name: "ws",
        container: {
          image: "busybox",
          command: [
            "sh",
            "-c",
            'cat "$SKIFF_WORKSPACE/in.txt"; pwd > "$SKIFF_WORKSPACE/out.txt"; echo " $SKIFF_WORKSPACE"',
          ],
        },
      };
      const plain = await env.run(step, { captureResult: true, workspace: ws });
      expect(plain.result.outputs.result).toBe(`checkout ${ws}`);
      expect(await readFile(path.join(ws, "out.txt"), "utf8")).toBe("/\n");
      await inWs.run(step, { captureResult: true, workspace: ws });
      expect(await readFile(path.join(ws, "out.txt"), "utf8")).toBe(`${ws}\n`);
    } finally {
      await inWs.dispose();
      await rm(ws, { recursive: true, force: true });
    }
  });

  it("keeps a volumeClaimTemplate's claim for the workflow and removes it at cleanup()", async () => {
    const local = await setup();
    const claim = [{ name: "data", persistentVolumeClaim: { claimName: "wf-docker-data" } }];
    const mounts = [{ name: "data", mountPath: "/data" }];
    try {
      await local.run(
        {
          name: "w",
          container: { image: "busybox", command: ["sh", "-c", "echo kept > /data/f"], volumeMounts: mounts },
        },
        { volumes: claim },
      );
      const read = await local.run(
        { name: "r", container: { image: "busybox", command: ["cat", "/data/f"], volumeMounts: mounts } },
        { volumes: claim, captureResult: true },
      );
      expect(read.result.outputs.result).toBe("kept");
    } finally {
      await local.executor.cleanup();
    }
    expect(await leftovers(`${LABELS.executor}=${local.executor.instanceId}`)).toEqual({
      containers: [],
      volumes: [],
    });
    await local.dispose();
  });

  it("cleanup() removes the containers of steps still running", async () => {
    const local = await setup();
    const h = await local.executor.start(
      stepRequest({ name: "left", container: { image: "busybox", command: ["sleep", "60"] } }),
    );
    for (let i = 0; i < 50 && (await workflowContainers(local.executor)).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await workflowContainers(local.executor)).length).toBeGreaterThan(0);
    const waiting = local.executor.wait(h);
    await local.dispose();
    expect((await waiting).message).toBe("executor cleaned up");
    expect(await workflowContainers(local.executor)).toEqual([]);
  });
});
