import { describe, expect, it } from "vitest";
import { createDockerExecutor } from "../../../runtime/executors/docker/index.js";
import {
  dockerName,
  entrypointAndCmd,
  parseQuantity,
  pullPolicyOf,
  resolveImage,
  resourceLimits,
  securitySettings,
} from "../../../runtime/executors/docker/spec.js";
import { stepRequest } from "./helpers.js";

// These need no engine: the translation of Kubernetes containers into Docker's create call.
describe("Docker executor: container translation", () => {
  it("maps images exactly, then without tag/digest, then without docker.io/library", () => {
    const map = { busybox: "local/bb", "busybox:1.36": "local/bb136", "ghcr.io/a/b": "local/b" };
    expect(resolveImage(map, "busybox:1.36")).toBe("local/bb136");
    expect(resolveImage(map, "busybox:1.35")).toBe("local/bb");
    expect(resolveImage(map, "docker.io/library/busybox@sha256:abc")).toBe("local/bb");
    expect(resolveImage(map, "ghcr.io/a/b:v1")).toBe("local/b");
    expect(resolveImage(map, "alpine:3")).toBe("alpine:3");
  });

  it("defaults imagePullPolicy to IfNotPresent and keeps Always/Never", () => {
    expect(pullPolicyOf({ image: "x:latest" })).toBe("IfNotPresent");
    expect(pullPolicyOf({ image: "x", imagePullPolicy: "Always" })).toBe("Always");
    expect(pullPolicyOf({ image: "x", imagePullPolicy: "Never" })).toBe("Never");
  });

  it("sets Entrypoint/Cmd by Kubernetes' rules and the images: config", () => {
    const images = { argosay: { entrypoint: ["/argosay"], cmd: ["echo"] } };
    expect(entrypointAndCmd({ image: "x" }, images)).toEqual({});
    expect(entrypointAndCmd({ image: "x", args: ["a"] }, images)).toEqual({ Cmd: ["a"] });
    expect(entrypointAndCmd({ image: "x", command: ["sh"] }, images)).toEqual({
      Entrypoint: ["sh"],
      Cmd: [],
    });
    expect(entrypointAndCmd({ image: "x", command: ["python"] }, images, ["/argo/staging/script"])).toEqual({
      Entrypoint: ["python"],
      Cmd: ["/argo/staging/script"],
    });
    expect(entrypointAndCmd({ image: "argosay:v2" }, images)).toEqual({
      Entrypoint: ["/argosay"],
      Cmd: ["echo"],
    });
    expect(entrypointAndCmd({ image: "argosay:v2", args: ["exit", "1"] }, images)).toEqual({
      Entrypoint: ["/argosay"],
      Cmd: ["exit", "1"],
    });
  });

  it.each([
    ["500m", 0.5],
    ["1.5", 1.5],
    ["2", 2],
    ["64Mi", 64 * 2 ** 20],
    ["1Gi", 2 ** 30],
    ["1G", 1e9],
    ["128974848", 128974848],
    ["1e3", 1000],
  ])("parses the quantity %s", (q, n) => {
    expect(parseQuantity(q, "f")).toBeCloseTo(n);
  });

  it.each(["lots", "1.5.5", "10XB", "1e3Mi", ""])("rejects %j with SKF-DOCKER-004", (q) => {
    expect(() => parseQuantity(q, "limits.memory")).toThrow(
      expect.objectContaining({ code: "SKF-DOCKER-004" }),
    );
  });

  it("turns limits into NanoCpus and Memory, ignoring requests", () => {
    expect(
      resourceLimits(
        { resources: { limits: { cpu: "250m", memory: "1Gi" }, requests: { cpu: "4" } } },
        "main",
      ),
    ).toEqual({ NanoCpus: 250_000_000, Memory: 2 ** 30, MemorySwap: 2 ** 30 });
    expect(resourceLimits({ resources: { requests: { cpu: "1" } } }, "main")).toEqual({});
  });

  it("reads securityContext, the container's over the template's", () => {
    expect(securitySettings({ runAsUser: 1000 }, { runAsUser: 5, runAsGroup: 7 })).toEqual({
      User: "1000:7",
    });
    expect(securitySettings(undefined, { runAsGroup: 7 })).toEqual({ User: "0:7" });
    expect(
      securitySettings(
        {
          privileged: false,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { add: ["NET_ADMIN"], drop: ["ALL"] },
        },
        undefined,
      ),
    ).toEqual({
      ReadonlyRootfs: true,
      SecurityOpt: ["no-new-privileges"],
      CapAdd: ["NET_ADMIN"],
      CapDrop: ["ALL"],
    });
    expect(securitySettings({ privileged: true }, undefined)).toEqual({ Privileged: true });
  });

  it("makes Docker-safe names", () => {
    expect(dockerName("wf-hello-123")).toBe("wf-hello-123");
    expect(dockerName("--a b/c")).toBe("a-b-c");
    expect(dockerName("")).toBe("skiff");
  });

  it("fails start with SKF-DOCKER-001 when no engine answers", async () => {
    const executor = createDockerExecutor({ socketPath: "/nonexistent/docker.sock" });
    await expect(
      executor.start(stepRequest({ name: "x", container: { image: "busybox", command: ["true"] } })),
    ).rejects.toMatchObject({ code: "SKF-DOCKER-001" });
    await executor.cleanup();
  });

  it("throws SKF-EXEC-003 for resource templates and SKF-EXEC-007 for containerSet cycles", async () => {
    const executor = createDockerExecutor({ socketPath: "/nonexistent/docker.sock" });
    await expect(
      executor.start(stepRequest({ name: "r", resource: { action: "create", manifest: "{}" } })),
    ).rejects.toMatchObject({ code: "SKF-EXEC-003" });
    await expect(
      executor.start(
        stepRequest({
          name: "cs",
          containerSet: {
            containers: [
              { name: "a", image: "busybox", dependencies: ["b"] },
              { name: "b", image: "busybox", dependencies: ["a"] },
            ],
          },
        }),
      ),
    ).rejects.toMatchObject({ code: "SKF-EXEC-007" });
  });
});
