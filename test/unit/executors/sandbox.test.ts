import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createBwrapLayout, createHostLayout } from "../../../runtime/executors/host/sandbox.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "skiff-layout-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("bwrap layout", () => {
  it("maps /tmp, volumes and new paths into the step folder and leaves host files read-only", () => {
    const layout = createBwrapLayout({
      stepDir: dir,
      binds: [{ mountPath: "/workspace", hostPath: path.join(dir, "volumes", "ws") }],
      namedPaths: [
        { path: "/out/result.txt", replace: false },
        { path: "/etc/skiff-input", replace: true },
      ],
    });
    expect(layout.sandboxed).toBe(true);
    expect(layout.hostPath("/tmp/a.txt")).toBe(path.join(dir, "tmp", "a.txt"));
    expect(layout.hostPath("/var/tmp/b")).toBe(path.join(dir, "var-tmp", "b"));
    expect(layout.hostPath("/workspace/x")).toBe(path.join(dir, "volumes", "ws", "x"));
    expect(layout.hostPath("/out/result.txt")).toBe(path.join(dir, "fs", "out", "result.txt"));
    expect(layout.hostPath("/etc/skiff-input")).toBe(path.join(dir, "fs", "etc", "skiff-input"));
    expect(layout.hostPath("/etc/hostname")).toBe("/etc/hostname");
    expect(layout.hostPath("/usr/bin/env")).toBe("/usr/bin/env");
    expect(layout.isPrivate("/etc/hostname")).toBe(false);
    expect(layout.isPrivate("/tmp/x")).toBe(true);
    const args = layout.args.join(" ");
    expect(args).toContain(`--bind ${path.join(dir, "fs")} /`);
    expect(args).toContain(`--bind ${path.join(dir, "fs", "etc")} /etc`);
    expect(args).toContain("--ro-bind /usr /usr");
    expect(args).toContain(`--bind ${path.join(dir, "tmp")} /tmp`);
    expect(args).not.toContain("--ro-bind /tmp /tmp");
    expect(args).not.toContain("--ro-bind /etc /etc");
    expect(existsSync(path.join(dir, "tmp"))).toBe(true);
  });

  it("binds the workspace read-write at its own path", () => {
    const ws = path.join(dir, "ws");
    const layout = createBwrapLayout({
      stepDir: path.join(dir, "step"),
      workspace: ws,
      binds: [],
      namedPaths: [],
    });
    expect(layout.hostPath(`${ws}/f`)).toBe(`${ws}/f`);
    expect(layout.isPrivate(`${ws}/f`)).toBe(false);
    const args = layout.args;
    const i = args.lastIndexOf(ws);
    expect(args[i - 2]).toBe("--bind");
  });
});

describe("host layout", () => {
  it("uses host paths as they are", () => {
    const layout = createHostLayout({ binds: [{ mountPath: "/argo/staging", hostPath: "/x/staging" }] });
    expect(layout.sandboxed).toBe(false);
    expect(layout.args).toEqual([]);
    expect(layout.hostPath("/tmp/out.txt")).toBe("/tmp/out.txt");
    expect(layout.hostPath("/argo/staging/script")).toBe("/x/staging/script");
  });
});
