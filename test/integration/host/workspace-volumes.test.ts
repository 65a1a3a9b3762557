import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHostExecutor } from "../../../runtime/executors/host/index.js";
import type { Template } from "../../../runtime/spec/types.js";
import { BWRAP_AVAILABLE, runStep, SANDBOX_MODES, setup, stepRequest } from "./helpers.js";

describe.each(SANDBOX_MODES)("host executor workspace (sandbox %s)", (sandbox) => {
  let env: Awaited<ReturnType<typeof setup>>;
  let ws: string;
  beforeAll(async () => {
    env = await setup(sandbox);
    ws = path.join(env.dir, "checkout");
    await mkdir(ws, { recursive: true });
    await writeFile(path.join(ws, "README"), "from-checkout\n");
  });
  afterAll(() => env.dispose());

  it("starts a container without workingDir in the workspace and exports SKIFF_WORKSPACE", async () => {
    const { result } = await env.run(
      {
        name: "w",
        container: {
          image: "alpine",
          command: ["sh", "-c", 'pwd; echo "$SKIFF_WORKSPACE"; cat README; echo made > relative.txt'],
        },
      },
      { workspace: ws, captureResult: true },
    );
    expect(result.phase).toBe("Succeeded");
    expect(result.outputs.result).toBe(`${ws}\n${ws}\nfrom-checkout`);
    expect(await readFile(path.join(ws, "relative.txt"), "utf8")).toBe("made\n");
  });

  it("keeps an explicit workingDir", async () => {
    const { result } = await env.run(
      { name: "w", container: { image: "alpine", command: ["pwd"], workingDir: "/usr" } },
      { workspace: ws, captureResult: true },
    );
    expect(result.outputs.result).toBe("/usr");
  });

  it("starts in / without a workspace, and sets no SKIFF_WORKSPACE", async () => {
    const { result } = await env.run(
      { name: "w", container: { image: "alpine", command: ["sh", "-c", 'pwd; echo "[$SKIFF_WORKSPACE]"'] } },
      { captureResult: true },
    );
    expect(result.outputs.result).toBe("/\n[]");
  });
});

const claimVolume = (name: string, claimName: string) => ({ name, persistentVolumeClaim: { claimName } });
const mount = (name: string, mountPath: string, extra: Record<string, unknown> = {}) => ({
  name,
  mountPath,
  ...extra,
});

describe.skipIf(!BWRAP_AVAILABLE)("host executor volumes (bwrap)", () => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    env = await setup("bwrap");
  });
  afterAll(() => env.dispose());

  const sh = (script: string, volumeMounts: Record<string, unknown>[]): Template => ({
    name: "v",
    container: { image: "alpine", command: ["sh", "-c", script], volumeMounts },
  });

  it("shares a workflow's claim between its steps, and keeps it apart from another workflow's", async () => {
    const volumes = [claimVolume("workdir", "wf-workdir")];
    const w = await env.run(sh("echo hello world > /mnt/vol/hello.txt", [mount("workdir", "/mnt/vol")]), {
      volumes,
    });
    expect(w.result.phase).toBe("Succeeded");
    const r = await env.run(sh("cat /mnt/vol/hello.txt", [mount("workdir", "/mnt/vol")]), {
      volumes,
      captureResult: true,
    });
    expect(r.result.outputs.result).toBe("hello world");
    const other = await env.run(sh("ls /mnt/vol | wc -l", [mount("workdir", "/mnt/vol")]), {
      volumes,
      workflowUid: "another-uid",
      captureResult: true,
    });
    expect(other.result.outputs.result?.trim()).toBe("0");
  });

  it("keeps an existing claim in <workDir>/../volumes/<claim> across executors", async () => {
    const volumes = [claimVolume("workdir", "my-existing-volume")];
    const append = sh("echo line >> /mnt/vol/accesslog", [mount("workdir", "/mnt/vol")]);
    expect((await env.run(append, { volumes })).result.phase).toBe("Succeeded");
    const second = createHostExecutor({ sandbox: "bwrap", workDir: path.join(env.dir, "work") });
    try {
      const r = await runStep(
        second,
        stepRequest(append, { volumes, workflowName: "other", workflowUid: "u2" }),
      );
      expect(r.result.phase).toBe("Succeeded");
    } finally {
      await second.cleanup();
    }
    const log = await readFile(path.join(env.dir, "volumes", "my-existing-volume", "accesslog"), "utf8");
    expect(log).toBe("line\nline\n");
  });

  it("gives each step a fresh emptyDir, mounted as /proc/mounts shows", async () => {
    const volumes = [{ name: "scratch", emptyDir: {} }];
    const m = [mount("scratch", "/mnt/vol")];
    const first = await env.run(sh("grep -q ' /mnt/vol ' /proc/mounts && touch /mnt/vol/mine", m), {
      volumes,
    });
    expect(first.result.phase).toBe("Succeeded");
    const second = await env.run(sh("ls -A /mnt/vol | wc -l", m), { volumes, captureResult: true });
    expect(second.result.outputs.result?.trim()).toBe("0");
  });

  it("binds a hostPath volume, honours readOnly and subPath", async () => {
    const host = path.join(env.dir, "host-folder");
    await mkdir(path.join(host, "sub"), { recursive: true });
    await writeFile(path.join(host, "sub", "in.txt"), "from-host");
    const volumes = [{ name: "h", hostPath: { path: host } }];
    const rw = await env.run(sh("cat /data/sub/in.txt > /data/out.txt", [mount("h", "/data")]), { volumes });
    expect(rw.result.phase).toBe("Succeeded");
    expect(await readFile(path.join(host, "out.txt"), "utf8")).toBe("from-host");
    const ro = await env.run(
      sh("cat /only/in.txt; touch /only/x 2>/dev/null && echo writable || echo read-only", [
        mount("h", "/only", { subPath: "sub", readOnly: true }),
      ]),
      { volumes, captureResult: true },
    );
    expect(ro.result.outputs.result).toBe("from-hostread-only");
    expect(existsSync(path.join(host, "sub", "x"))).toBe(false);
  });

  it("lets the template's volume of a name win over the workflow's", async () => {
    const host = path.join(env.dir, "winner");
    await mkdir(host, { recursive: true });
    const volumes = [
      { name: "v", emptyDir: {} },
      { name: "v", hostPath: { path: host } },
    ];
    await env.run(sh("touch /v/won", [mount("v", "/v")]), { volumes });
    expect(existsSync(path.join(host, "won"))).toBe(true);
  });

  it("makes configMap and secret volumes from the manifests, read-only, with items and modes", async () => {
    const configMaps = new Map([
      [
        "settings",
        {
          apiVersion: "v1" as const,
          kind: "ConfigMap" as const,
          metadata: { name: "settings" },
          data: { "app.conf": "level=debug\n", other: "x" },
          binaryData: { "blob.bin": Buffer.from([1, 2, 3]).toString("base64") },
        },
      ],
    ]);
    const secrets = new Map([
      [
        "creds",
        {
          apiVersion: "v1" as const,
          kind: "Secret" as const,
          metadata: { name: "creds" },
          data: { password: Buffer.from("s3cret").toString("base64") },
          stringData: { user: "admin" },
        },
      ],
    ]);
    const volumes = [
      { name: "cfg", configMap: { name: "settings" } },
      {
        name: "sec",
        secret: { secretName: "creds", items: [{ key: "password", path: "pw/file", mode: 0o400 }] },
      },
    ];
    const script =
      "cat /etc/app/app.conf; wc -c < /etc/app/blob.bin; cat /run/sec/pw/file; echo;" +
      " stat -c %a /run/sec/pw/file; ls /run/sec; touch /etc/app/new 2>/dev/null || echo read-only";
    const r = await env.run(sh(script, [mount("cfg", "/etc/app"), mount("sec", "/run/sec")]), {
      volumes,
      configMaps,
      secrets,
      captureResult: true,
    });
    expect(r.result.phase).toBe("Succeeded");
    expect(r.result.outputs.result?.split("\n").map((l) => l.trim())).toEqual([
      "level=debug",
      "3",
      "s3cret",
      "400",
      "pw",
      "read-only",
    ]);
  });
});

describe("host executor volumes that cannot be provided", () => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    env = await setup("none");
  });
  afterAll(() => env.dispose());
  const t: Template = {
    name: "v",
    container: { image: "alpine", command: ["true"], volumeMounts: [mount("v", "/etc/app")] },
  };

  it("throws SKF-EXEC-009 from start when a configMap volume has no manifests to come from", async () => {
    const req = stepRequest(t, { volumes: [{ name: "v", configMap: { name: "settings" } }] });
    await expect(env.executor.start(req)).rejects.toMatchObject({ code: "SKF-EXEC-009" });
    const missing = stepRequest(t, {
      volumes: [{ name: "v", secret: { secretName: "nope" } }],
      secrets: new Map(),
    });
    await expect(env.executor.start(missing)).rejects.toThrow(/Secret 'nope', which was not loaded/);
  });

  it("skips an optional configMap that was not loaded", async () => {
    const req = stepRequest(t, {
      volumes: [{ name: "v", configMap: { name: "settings", optional: true } }],
      configMaps: new Map(),
    });
    const h = await env.executor.start(req);
    expect((await env.executor.wait(h)).phase).toBe("Succeeded");
  });

  it("throws SKF-EXEC-010 for volume types the host cannot provide", async () => {
    const req = stepRequest(t, { volumes: [{ name: "v", nfs: { server: "x", path: "/" } }] });
    await expect(env.executor.start(req)).rejects.toMatchObject({ code: "SKF-EXEC-010" });
  });
});
