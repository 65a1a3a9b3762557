import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SkiffError } from "../../../runtime/errors/index.js";
import { createUiHandler } from "../../../src/ui/serve.js";

let dir: string;
let server: Server;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "skiff-ui-"));
  mkdirSync(join(dir, "ui-assets"));
  writeFileSync(join(dir, "index.html"), '<html><head><base href="/" /></head><body>ui</body></html>');
  writeFileSync(join(dir, "ui-assets", "app.js"), "console.log(1)");
  writeFileSync(join(dir, "secret.txt"), "no");
  const ui = createUiHandler({ assetsDir: dir, basePath: "/argo" });
  server = createServer((req, res) => {
    if (!ui(req, res)) {
      res.writeHead(418);
      res.end("server");
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("createUiHandler", () => {
  it("answers Argo's UI routes with index.html carrying the base href", async () => {
    for (const path of [
      "/",
      "/workflows",
      "/workflows/argo/hello-abc",
      "/workflow-templates/argo/t",
      "/cluster-workflow-templates/c",
      "/cron-workflows/argo/c",
      "/archived-workflows/argo/uid",
      "/argo/workflows/argo",
    ]) {
      const res = await fetch(base + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/html");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(await res.text()).toContain('<base href="/argo/" />');
    }
  });

  it("serves the bundle and declines the API, artifacts and anything outside the bundle", async () => {
    const js = await fetch(`${base}/ui-assets/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toContain("javascript");
    for (const path of [
      "/api/v1/workflows/argo",
      "/artifact-files/a/b",
      "/ui-assets/../secret.txt",
      "/ui-assets/%2e%2e/secret.txt",
      "/metrics",
      "/ui-assets/missing.js",
    ]) {
      expect((await fetch(base + path)).status, path).toBe(418);
    }
    expect((await fetch(`${base}/workflows`, { method: "POST" })).status).toBe(418);
  });

  it("rejects a folder without a built UI and a malformed base path with coded errors", () => {
    const empty = mkdtempSync(join(tmpdir(), "skiff-ui-empty-"));
    try {
      expect(() => createUiHandler({ assetsDir: empty })).toThrowError(
        expect.objectContaining({ code: "SKF-UI-001", path: "assetsDir" }) as SkiffError,
      );
      expect(() => createUiHandler({ assetsDir: dir, basePath: "argo" })).toThrowError(
        expect.objectContaining({ code: "SKF-UI-002", path: "basePath" }) as SkiffError,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
