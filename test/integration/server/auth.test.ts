import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/index.js";
import type { SkiffServer } from "../../../src/server/index.js";
import { startServer } from "../../../src/server/index.js";
import {
  argoClient,
  HAVE_SHARED,
  loadArgoApi,
  SKIP_REASON,
  testConfig,
  testServer,
  type ArgoApi,
} from "./harness.js";

if (!HAVE_SHARED) console.warn(`skipped: ${SKIP_REASON}`);

/** Every route that changes something, with a body its schema accepts. */
const WRITE_ROUTES: { method: "POST" | "PUT" | "DELETE"; path: string; body?: unknown }[] = [
  {
    method: "POST",
    path: "/api/v1/workflows/{namespace}",
    body: { workflow: { metadata: { name: "w" }, spec: {} } },
  },
  {
    method: "POST",
    path: "/api/v1/workflows/{namespace}/submit",
    body: { resourceKind: "WorkflowTemplate", resourceName: "t" },
  },
  { method: "DELETE", path: "/api/v1/workflows/{namespace}/{name}" },
  ...["retry", "resubmit", "suspend", "resume", "stop", "terminate", "set"].map((verb) => ({
    method: "PUT" as const,
    path: `/api/v1/workflows/{namespace}/{name}/${verb}`,
    body: {},
  })),
  { method: "DELETE", path: "/api/v1/archived-workflows/{uid}" },
  ...(["/api/v1/workflow-templates/{namespace}", "/api/v1/cluster-workflow-templates"] as const).flatMap(
    (base) => [
      { method: "POST" as const, path: base, body: { template: { metadata: { name: "t" }, spec: {} } } },
      {
        method: "PUT" as const,
        path: `${base}/{name}`,
        body: { template: { metadata: { name: "t" }, spec: {} } },
      },
      { method: "DELETE" as const, path: `${base}/{name}` },
    ],
  ),
  {
    method: "POST",
    path: "/api/v1/cron-workflows/{namespace}",
    body: { cronWorkflow: { metadata: { name: "c" }, spec: { schedules: [], workflowSpec: {} } } },
  },
  {
    method: "PUT",
    path: "/api/v1/cron-workflows/{namespace}/{name}",
    body: { cronWorkflow: { metadata: { name: "c" }, spec: { schedules: [], workflowSpec: {} } } },
  },
  { method: "DELETE", path: "/api/v1/cron-workflows/{namespace}/{name}" },
  ...["suspend", "resume"].map((verb) => ({
    method: "PUT" as const,
    path: `/api/v1/cron-workflows/{namespace}/{name}/${verb}`,
    body: {},
  })),
];

describe.skipIf(!HAVE_SHARED)("skiff server: authentication and TLS", () => {
  let api: ArgoApi;
  let server: SkiffServer;
  let stop: () => Promise<void>;
  const dir = mkdtempSync(join(tmpdir(), "skiff-server-auth-"));

  beforeAll(async () => {
    api = await loadArgoApi();
    writeFileSync(join(dir, "reader.token"), "read-secret\n");
    writeFileSync(
      join(dir, "skiff.yaml"),
      [
        "server:",
        "  tokens:",
        "    - tokenEnv: SKIFF_TEST_WRITE_TOKEN",
        "      access: write",
        "    - tokenFile: reader.token",
        "      access: read",
      ].join("\n"),
    );
    process.env.SKIFF_TEST_WRITE_TOKEN = "write-secret";
    const config = await loadConfig(join(dir, "skiff.yaml"));
    ({ server, stop } = await testServer({
      authMode: "token",
      config: { ...testConfig(join(dir, "state")), server: config.server! },
    }));
  });
  afterAll(async () => {
    await stop?.();
    delete process.env.SKIFF_TEST_WRITE_TOKEN;
    rmSync(dir, { recursive: true, force: true });
    expect(api?.problems ?? []).toEqual([]);
  });

  it("refuses every write route without a token (401) and with a read-only token (403)", async () => {
    const params = { path: { namespace: "default", name: "w", uid: "u" } };
    for (const [token, status, code] of [
      [undefined, 401, 16],
      ["wrong", 401, 16],
      ["read-secret", 403, 7],
    ] as const) {
      const client = argoClient(api, server.url, token);
      for (const route of WRITE_ROUTES) {
        const call = client[route.method] as (
          path: string,
          init: unknown,
        ) => Promise<{ response: Response; error: { code: number } }>;
        const res = await call(route.path, { params, ...(route.body ? { body: route.body } : {}) });
        expect(`${route.method} ${route.path} ${res.response.status}`).toBe(
          `${route.method} ${route.path} ${status}`,
        );
        expect(res.error.code).toBe(code);
        // Argo sends its version header on success only.
        expect(res.response.headers.get("grpc-metadata-argo-version")).toBeNull();
      }
    }
    const anonymous = await argoClient(api, server.url).GET("/api/v1/workflows/{namespace}", {
      params: { path: { namespace: "default" } },
    });
    expect(anonymous.response.status).toBe(401);
    expect(anonymous.error.message).toBe(
      "token not valid. see https://argo-workflows.readthedocs.io/en/latest/faq/",
    );
  });

  it("lets a read token read and a write token write; the UI's authorization cookie counts as a token", async () => {
    const reader = argoClient(api, server.url, "read-secret");
    expect(
      (await reader.GET("/api/v1/workflows/{namespace}", { params: { path: { namespace: "default" } } }))
        .response.status,
    ).toBe(200);
    const writer = argoClient(api, server.url, "write-secret");
    const created = await writer.POST("/api/v1/workflows/{namespace}", {
      params: { path: { namespace: "default" } },
      body: {
        workflow: {
          metadata: { name: "by-writer" },
          spec: {
            entrypoint: "main",
            templates: [{ name: "main", container: { image: "busybox", command: ["true"] } }],
          },
        },
      },
    });
    expect(created.response.status).toBe(200);
    const cookie = await fetch(`${server.url}/api/v1/workflows/default/by-writer`, {
      headers: { Cookie: `authorization=${encodeURIComponent("Bearer read-secret")}` },
    });
    expect(cookie.status).toBe(200);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(403);
    expect(
      (await fetch(`${server.url}/metrics`, { headers: { Authorization: "Bearer read-secret" } })).status,
    ).toBe(200);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it("refuses to start without tokens in token mode, and names a token that cannot be read", async () => {
    const state = join(dir, "other");
    await expect(startServer({ config: testConfig(state), port: 0 })).rejects.toMatchObject({
      code: "SKF-SRV-006",
    });
    await expect(
      startServer({
        config: {
          ...testConfig(state),
          server: { tokens: [{ tokenEnv: "SKIFF_TEST_UNSET_TOKEN", access: "read" }] },
        },
        port: 0,
      }),
    ).rejects.toMatchObject({
      code: "SKF-SRV-001",
      message: expect.stringContaining("SKIFF_TEST_UNSET_TOKEN"),
    });
    writeFileSync(join(dir, "bad.yaml"), "server:\n  tokens:\n    - token: x\n      access: admin\n");
    await expect(loadConfig(join(dir, "bad.yaml"))).rejects.toMatchObject({
      code: "SKF-CFG-002",
      position: { line: 4 },
    });
  });

  it("warns when --auth-mode server listens beyond the loopback address", async () => {
    const lines: string[] = [];
    const { stop: stopOpen } = await testServer({
      authMode: "server",
      host: "0.0.0.0",
      log: (l) => lines.push(l),
    });
    await stopOpen();
    expect(lines.join("\n")).toContain("warning: --auth-mode server on 0.0.0.0");
  });

  it("serves HTTPS with a given certificate", async () => {
    const key = join(dir, "tls.key");
    const cert = join(dir, "tls.crt");
    const subject = "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1";
    const newCert = `req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 ${subject}`;
    execFileSync("openssl", [...newCert.split(" "), "-keyout", key, "-out", cert], { stdio: "ignore" });
    const { server: tlsServer, stop: stopTls } = await testServer({ tlsCert: cert, tlsKey: key });
    try {
      expect(tlsServer.url).toMatch(/^https:\/\//);
      const body = await new Promise<string>((resolve, reject) => {
        const req = request(`${tlsServer.url}/api/v1/version`, { ca: readFileSync(cert) }, (res) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c.toString()));
          res.on("end", () => resolve(text));
        });
        req.on("error", reject);
        req.end();
      });
      expect(JSON.parse(body)).toMatchObject({ compiler: "node" });
      await expect(fetch(`${tlsServer.url.replace("https", "http")}/api/v1/version`)).rejects.toThrow();
    } finally {
      await stopTls();
    }
    await expect(testServer({ tlsCert: cert })).rejects.toMatchObject({ code: "SKF-SRV-003" });
  });
});
