// What the UI's browser tests run against: the bundle, mounted with createUiHandler in front of an API
// backend, exactly as the server mounts it. Every request that reaches the backend is recorded here, so the
// tests assert what the API received whichever backend answers.
//
// startBackend() is the one function to change to run these tests against the real `skiff server`
// instead of the API double.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { bundleUi } from "../../../src/ui/bundle.mjs";
import { createUiHandler } from "../../../src/ui/serve.js";
import { ArgoApiDouble } from "./argo-api-double.js";
import { SwaggerContract, SWAGGER_PATH } from "./swagger-contract.js";

export const CHROMIUM = process.env.SKIFF_CHROMIUM ?? "/usr/bin/chromium";
export const TOKEN = "ui-test-token";

/** The API the UI talks to in the tests. */
export interface UiBackend {
  /** Origin of Argo's REST API (`/api/v1/...`, `/artifact-files/...`). */
  url: string;
  /** The bearer token the backend requires. */
  token: string;
  /** Puts a finished workflow into the archive (the real server: run one with persistence on). */
  archive(workflow: Record<string, any>): Promise<void>;
  /** Problems found by checking traffic against Argo's swagger (the real server: none checked). */
  violations(): string[];
  stop(): Promise<void>;
}

/** Starts the API the tests use; returns undefined (with the reason) when its inputs are missing. */
export async function startBackend(): Promise<UiBackend | string> {
  const contract = SwaggerContract.load();
  if (!contract) return `Argo's swagger is not at ${SWAGGER_PATH} (the ../shared folder is absent)`;
  const double = await new ArgoApiDouble({ contract, token: TOKEN, tickMs: 300 }).start();
  return {
    url: double.url,
    token: TOKEN,
    archive: async (wf) => void double.archived.set(wf.metadata.uid, wf),
    violations: () => double.violations,
    stop: () => double.stop(),
  };
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: any;
}

/** The server as users reach it: the UI handler first, everything else proxied to the backend. */
export interface UiServer {
  url: string;
  received: RecordedRequest[];
  stop(): Promise<void>;
}

export async function startUiServer(backend: UiBackend): Promise<UiServer> {
  const assets = mkdtempSync(join(tmpdir(), "skiff-ui-bundle-"));
  await bundleUi(assets);
  const ui = createUiHandler({ assetsDir: assets });
  const received: RecordedRequest[] = [];
  const target = new URL(backend.url);
  const server: Server = createServer((req, res) => {
    if (ui(req, res)) return;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const url = new URL(req.url ?? "/", "http://x");
      let body: any;
      try {
        body = raw.length ? JSON.parse(raw.toString("utf8")) : undefined;
      } catch {
        body = raw.toString("utf8");
      }
      received.push({
        method: req.method ?? "GET",
        path: decodeURIComponent(url.pathname),
        query: url.searchParams,
        body,
      });
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, host: target.host },
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      res.on("close", () => upstream.destroy());
      upstream.end(raw);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(assets, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless; the reason as a string when it cannot start. */
export async function launchChromium(): Promise<Browser | string> {
  try {
    return await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu"],
    });
  } catch (e) {
    return `Chromium cannot start (${CHROMIUM}): ${String(e).split("\n")[0]}`;
  }
}

/** The manifests the tests and screenshots create through the API. */
export const HELLO_TEMPLATE = {
  apiVersion: "argoproj.io/v1alpha1",
  kind: "WorkflowTemplate",
  metadata: { name: "hello" },
  spec: {
    entrypoint: "main",
    arguments: {
      parameters: [
        { name: "exit-code", value: "0", enum: ["0", "1"], description: "exit code of the tests" },
        { name: "greeting", value: "hello" },
      ],
    },
    templates: [
      {
        name: "main",
        steps: [
          [{ name: "build", template: "build" }],
          [{ name: "test", template: "test", withItems: ["a", "b", "c"] }],
          [{ name: "publish", template: "build" }],
        ],
      },
      {
        name: "build",
        script: {
          image: "busybox",
          source: 'echo "building {{workflow.parameters.greeting}}"\necho -e "\\033[32mbuild ok\\033[0m"',
        },
        outputs: {
          artifacts: [
            { name: "report", path: "/tmp/report.txt" },
            { name: "chart", path: "/tmp/chart.png" },
          ],
        },
      },
      {
        name: "test",
        script: {
          image: "busybox",
          source:
            'echo "testing {{item}}"\necho -e "\\033[31mFAIL\\033[0m when exit code is 1"\nexit {{workflow.parameters.exit-code}}',
        },
      },
    ],
  },
};

export const SLOW_TEMPLATE = {
  apiVersion: "argoproj.io/v1alpha1",
  kind: "WorkflowTemplate",
  metadata: { name: "slow" },
  spec: {
    entrypoint: "main",
    templates: [
      { name: "main", steps: Array.from({ length: 60 }, (_, i) => [{ name: `s${i}`, template: "sleep" }]) },
      { name: "sleep", script: { image: "busybox", source: "echo tick" } },
    ],
  },
};

export const CLUSTER_TEMPLATE = {
  apiVersion: "argoproj.io/v1alpha1",
  kind: "ClusterWorkflowTemplate",
  metadata: { name: "cluster-hello" },
  spec: {
    entrypoint: "main",
    templates: [
      { name: "main", steps: [[{ name: "say", template: "say" }]] },
      { name: "say", script: { image: "busybox", source: "echo hi from the cluster" } },
    ],
  },
};

export const NIGHTLY_CRON = {
  apiVersion: "argoproj.io/v1alpha1",
  kind: "CronWorkflow",
  metadata: { name: "nightly" },
  spec: {
    schedules: ["0 3 * * *"],
    timezone: "UTC",
    workflowSpec: {
      entrypoint: "main",
      templates: [
        { name: "main", steps: [[{ name: "say", template: "say" }]] },
        { name: "say", script: { image: "busybox", source: "echo nightly" } },
      ],
    },
  },
};

/** Creates the templates and the cron workflow through Argo's API. */
export async function seed(backend: UiBackend, namespace: string): Promise<void> {
  const post = async (path: string, body: unknown): Promise<void> => {
    const res = await fetch(`${backend.url}${path}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${backend.token}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`seeding ${path}: ${res.status} ${await res.text()}`);
  };
  await post(`/api/v1/workflow-templates/${namespace}`, { namespace, template: HELLO_TEMPLATE });
  await post(`/api/v1/workflow-templates/${namespace}`, { namespace, template: SLOW_TEMPLATE });
  await post("/api/v1/cluster-workflow-templates", { template: CLUSTER_TEMPLATE });
  await post(`/api/v1/cron-workflows/${namespace}`, { namespace, cronWorkflow: NIGHTLY_CRON });
}
