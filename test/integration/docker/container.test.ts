import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SkiffError } from "../../../runtime/errors/index.js";
import { DOCKER_AVAILABLE, ENTRYPOINT_IMAGE, setup, workflowContainers } from "./helpers.js";

describe.skipIf(!DOCKER_AVAILABLE)("Docker executor: containers", () => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    env = await setup();
  });
  afterAll(() => env?.dispose());
  afterEach(async () => {
    // Nothing of a finished step stays on the engine.
    expect(await workflowContainers(env.executor)).toEqual([]);
  });

  it("runs a container, streams its lines and captures outputs.result", async () => {
    const { result, logs } = await env.run(
      {
        name: "hello",
        container: { image: "busybox", command: ["sh", "-c", "echo hello; echo oops >&2; echo world"] },
      },
      { captureResult: true },
    );
    expect(result.phase).toBe("Succeeded");
    expect(result.exitCode).toBe(0);
    expect(result.message).toBeUndefined();
    expect(result.outputs).toEqual({ result: "hello\nworld", exitCode: "0" });
    expect(logs.filter((l) => l.stream === "stdout").map((l) => l.text)).toEqual(["hello", "world"]);
    expect(logs.filter((l) => l.stream === "stderr").map((l) => l.text)).toEqual(["oops"]);
    expect(logs.every((l) => l.container === "main" && !Number.isNaN(Date.parse(l.time)))).toBe(true);
  });

  it.each([
    ["neither: the image's ENTRYPOINT and CMD", {}, "entrypoint image-cmd"],
    ["args replace CMD only", { args: ["a", "b"] }, "entrypoint a b"],
    ["command replaces ENTRYPOINT and drops CMD", { command: ["echo"] }, ""],
    ["command and args", { command: ["echo"], args: ["x", "y"] }, "x y"],
  ])("follows Kubernetes for command/args: %s", async (_n, fields, expected) => {
    const { result } = await env.run(
      { name: "ep", container: { image: ENTRYPOINT_IMAGE, ...fields } },
      { captureResult: true },
    );
    expect(result.phase).toBe("Succeeded");
    expect(result.outputs.result).toBe(expected);
  });

  it("uses the images: config's entrypoint for containers without command", async () => {
    const local = await setup({ images: { busybox: { entrypoint: ["echo", "from-config"] } } });
    try {
      const { result } = await local.run(
        { name: "cfg", container: { image: "busybox", args: ["arg"] } },
        { captureResult: true },
      );
      expect(result.outputs.result).toBe("from-config arg");
    } finally {
      await local.dispose();
    }
  });

  it("sets env (request env, container env, envFrom, valueFrom) and workingDir over the image's", async () => {
    const { result } = await env.run(
      {
        name: "env",
        container: {
          image: ENTRYPOINT_IMAGE,
          command: ["sh", "-c", 'echo "$ARGO_X|$A|$IMAGE_VAR|$CM_K|$S|$(pwd)"'],
          workingDir: "/work/here",
          env: [
            { name: "A", value: "a-value" },
            { name: "S", valueFrom: { secretKeyRef: { name: "sec", key: "token" } } },
          ],
          envFrom: [{ configMapRef: { name: "cm" }, prefix: "CM_" }],
        },
      },
      {
        captureResult: true,
        env: { ARGO_X: "argo" },
        configMaps: new Map([
          ["cm", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm" }, data: { K: "v" } }],
        ]),
        secrets: new Map([
          [
            "sec",
            {
              apiVersion: "v1",
              kind: "Secret",
              metadata: { name: "sec" },
              data: { token: Buffer.from("t0k").toString("base64") },
            },
          ],
        ]),
      },
    );
    expect(result.phase).toBe("Succeeded");
    expect(result.outputs.result).toBe("argo|a-value|from-image|v|t0k|/work/here");
  });

  it("starts in the image's WORKDIR without workingDir and workspace", async () => {
    const { result } = await env.run(
      { name: "wd", container: { image: ENTRYPOINT_IMAGE, command: ["pwd"] } },
      { captureResult: true },
    );
    expect(result.outputs.result).toBe("/tmp");
  });

  it.each([
    [1, "Failed", "main: Error (exit code 1)"],
    [3, "Failed", "main: Error (exit code 3)"],
  ])("exit code %d ends the step %s with Argo's message", async (code, phase, message) => {
    const { result } = await env.run({
      name: "exit",
      container: { image: "busybox", command: ["sh", "-c", `exit ${code}`] },
    });
    expect(result.phase).toBe(phase);
    expect(result.message).toBe(message);
    expect(result.exitCode).toBe(code);
    expect(result.outputs.exitCode).toBe(String(code));
  });

  it("reports a command missing from the image as a failed main container", async () => {
    const { result } = await env.run({
      name: "nocmd",
      container: { image: "busybox", command: ["/no/such"] },
    });
    expect(result.phase).toBe("Failed");
    expect(result.message).toMatch(/^main: Error \(exit code 12[678]\)/);
  });

  it("maps a registry image name onto a local image (image map), exact names first", async () => {
    const { result } = await env.run(
      {
        name: "map",
        container: { image: "docker.io/library/busybox:1.36", command: ["sh", "-c", "echo mapped"] },
      },
      { captureResult: true },
    );
    expect(result.outputs.result).toBe("mapped");
  });

  it("fails start clearly when an image is missing and the policy forbids or cannot pull", async () => {
    const never = env.executor.start(
      (await import("./helpers.js")).stepRequest({
        name: "never",
        container: { image: "skiff-test/missing:1", imagePullPolicy: "Never", command: ["true"] },
      }),
    );
    await expect(never).rejects.toMatchObject({ code: "SKF-DOCKER-002" });
    await expect(never).rejects.toThrow(/not present and its imagePullPolicy is Never/);
    const always = env.executor.start(
      (await import("./helpers.js")).stepRequest({
        name: "always",
        container: { image: "skiff-test/missing:2", imagePullPolicy: "Always", command: ["true"] },
      }),
    );
    await expect(always).rejects.toBeInstanceOf(SkiffError);
    await expect(always).rejects.toThrow(
      /failed to pull image 'skiff-test\/missing:2' \(imagePullPolicy Always\)/,
    );
    // The node's message is the error's message: it carries the code and what to do (issue 12 item 22).
    const message = await always.catch((e: Error) => e.message);
    expect(message).toMatch(/^SKF-DOCKER-002 ErrImagePull: /);
    expect(message).toMatch(/registry/);
    expect(message).toMatch(/`imageMap` in the Skiff config/);
    expect(message).toMatch(/--executor host/);
    const never2 = await env.executor
      .start(
        (await import("./helpers.js")).stepRequest({
          name: "never",
          container: { image: "skiff-test/missing:1", imagePullPolicy: "Never", command: ["true"] },
        }),
      )
      .catch((e: Error) => e.message);
    expect(never2).toMatch(/^SKF-DOCKER-002 ErrImageNeverPull: .*--executor host/s);
  });

  it("gives a tty: true container a terminal, its output one stream (issue 11 gap 12)", async () => {
    const { result } = await env.run(
      {
        name: "tty",
        container: {
          image: "busybox",
          command: ["sh", "-c", "[ -t 1 ] && echo tty || echo notty; echo err >&2"],
          tty: true,
        },
      },
      { captureResult: true },
    );
    expect(result.phase).toBe("Succeeded");
    // A terminal turns each newline into CRLF, as in a pod's logs.
    expect(result.outputs.result?.replace(/\r/g, "")).toBe("tty\nerr");
  });

  it("applies resource limits and securityContext", async () => {
    const { result } = await env.run(
      {
        name: "limits",
        container: {
          image: "busybox",
          command: [
            "sh",
            "-c",
            "id -u; id -g; cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; " +
              "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d' ' -f1 /sys/fs/cgroup/cpu.max",
          ],
          resources: { limits: { cpu: "500m", memory: "64Mi" } },
          securityContext: { runAsUser: 1234, runAsGroup: 2345, privileged: false },
        },
      },
      { captureResult: true },
    );
    expect(result.phase).toBe("Succeeded");
    expect(result.outputs.result?.split("\n")).toEqual(["1234", "2345", String(64 * 1024 * 1024), "50000"]);
  });

  it("reports a container killed for memory as OOMKilled", async () => {
    const { result } = await env.run({
      name: "oom",
      container: {
        image: "busybox",
        // A shell variable doubling past the limit: the kernel's OOM killer ends the container.
        command: ["sh", "-c", "x=0123456789abcdef; while :; do x=$x$x; done"],
        resources: { limits: { memory: "16Mi" } },
      },
    });
    expect(result.phase).toBe("Failed");
    expect(result.message).toBe("main: OOMKilled (exit code 137)");
  });

  it("rejects a resource quantity that is not Kubernetes' with SKF-DOCKER-004", async () => {
    const { result } = await env.run({
      name: "badq",
      container: { image: "busybox", command: ["true"], resources: { limits: { memory: "lots" } } },
    });
    expect(result.phase).toBe("Error");
    expect(result.message).toContain("resources.limits.memory: 'lots' is not a Kubernetes quantity");
  });
});
