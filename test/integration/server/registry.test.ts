import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CronWorkflow, Workflow, WorkflowTemplate } from "../../../runtime/spec/types.js";
import type { SkiffServer } from "../../../src/server/index.js";
import { cli, cliSuite } from "../durable/helpers.js";
import {
  argoClient,
  eventually,
  HAVE_SHARED,
  loadArgoApi,
  SKIP_REASON,
  testConfig,
  testServer,
  type ArgoApi,
  type ArgoClient,
} from "./harness.js";

/*
 * The registry over Argo's API: templates and CronWorkflows created through the generated client (every
 * body and answer checked against Argo's swagger), workflows submitted from them run by the server (host
 * executor), and the CLI bundle in another process using what the server stored.
 */

if (!HAVE_SHARED) console.warn(`skipped: ${SKIP_REASON}`);

const NS = { namespace: "default" };
const greet = {
  metadata: { name: "greet" },
  spec: {
    entrypoint: "say",
    arguments: { parameters: [{ name: "message", value: "hello" }] },
    templates: [
      {
        name: "say",
        inputs: { parameters: [{ name: "message" }] },
        script: {
          image: "busybox",
          command: ["sh"],
          source: 'echo "{{inputs.parameters.message}}" >> said.txt',
        },
      },
    ],
  },
};
const nightly = {
  metadata: { name: "nightly" },
  spec: {
    // Never due while the test runs: the scheduler must leave it alone.
    schedules: ["0 0 1 1 *"],
    workflowSpec: { workflowTemplateRef: { name: "greet" } },
  },
};

const suite = cliSuite();

describe.skipIf(!HAVE_SHARED)("skiff server: WorkflowTemplates, CronWorkflows and submit", () => {
  let api: ArgoApi;
  let server: SkiffServer;
  let stop: () => Promise<void>;
  let client: ArgoClient;
  const trial = suite.trial();
  const said = () => readFileSync(join(trial.workspace, "said.txt"), "utf8");

  beforeAll(async () => {
    api = await loadArgoApi();
    mkdirSync(trial.workspace, { recursive: true });
    // The store of the CLI's trial: the CLI in another process shares it.
    ({ server, stop } = await testServer({
      state: trial.state,
      workspace: trial.workspace,
      config: testConfig(trial.state),
    }));
    client = argoClient(api, server.url);
  });
  afterAll(async () => {
    await stop?.();
    expect(api?.problems ?? []).toEqual([]);
  });

  const workflow = async (name: string) =>
    (
      await client.GET("/api/v1/workflows/{namespace}/{name}", {
        params: { path: { ...NS, name } },
      })
    ).data as Workflow | undefined;
  const succeeded = (name: string) =>
    eventually(async () => {
      const wf = await workflow(name);
      return ["Succeeded", "Failed", "Error"].includes(wf?.status?.phase ?? "") ? wf : undefined;
    }, 120_000);

  it("creates, gets, lists, lints and refuses WorkflowTemplates", async () => {
    const created = await client.POST("/api/v1/workflow-templates/{namespace}", {
      params: { path: NS },
      body: { template: greet },
    });
    expect(created.error).toBeUndefined();
    expect((created.data as WorkflowTemplate).metadata).toMatchObject({
      name: "greet",
      namespace: "default",
    });

    const again = await client.POST("/api/v1/workflow-templates/{namespace}", {
      params: { path: NS },
      body: { template: greet },
    });
    expect(again.response.status).toBe(409);
    expect(again.error.message).toMatch(/SKF-REG-001/);

    const got = await client.GET("/api/v1/workflow-templates/{namespace}/{name}", {
      params: { path: { ...NS, name: "greet" } },
    });
    expect((got.data as WorkflowTemplate).spec.entrypoint).toBe("say");
    const list = await client.GET("/api/v1/workflow-templates/{namespace}", { params: { path: NS } });
    expect((list.data as { items: WorkflowTemplate[] }).items.map((t) => t.metadata.name)).toEqual(["greet"]);

    const broken = structuredClone(greet);
    broken.metadata.name = "broken";
    broken.spec.entrypoint = "does-not-exist";
    for (const path of [
      "/api/v1/workflow-templates/{namespace}",
      "/api/v1/workflow-templates/{namespace}/lint",
    ]) {
      const bad = await client.POST(path, { params: { path: NS }, body: { template: broken } });
      expect(bad.response.status).toBe(400);
      expect(bad.error.message).toMatch(/SKF-REG-004 .*does-not-exist/);
    }
    const missing = await client.GET("/api/v1/workflow-templates/{namespace}/{name}", {
      params: { path: { ...NS, name: "broken" } },
    });
    expect(missing.response.status).toBe(404);
    expect(missing.error.message).toMatch(/SKF-REG-003/);

    const cluster = await client.POST("/api/v1/cluster-workflow-templates", {
      body: { template: { ...greet, metadata: { name: "shared" } } },
    });
    expect(cluster.error).toBeUndefined();
    const clusterList = await client.GET("/api/v1/cluster-workflow-templates", {});
    expect((clusterList.data as { items: unknown[] }).items).toHaveLength(1);
    const removed = await client.DELETE("/api/v1/cluster-workflow-templates/{name}", {
      params: { path: { name: "shared" } },
    });
    expect(removed.response.status).toBe(200);
  });

  it("submits from the WorkflowTemplate, runs a templateRef to it, and the CLI uses it too", async () => {
    const submitted = await client.POST("/api/v1/workflows/{namespace}/submit", {
      params: { path: NS },
      body: {
        resourceKind: "WorkflowTemplate",
        resourceName: "greet",
        submitOptions: { parameters: ["message=from-submit"], labels: "team=skiff" },
      },
    });
    expect(submitted.error).toBeUndefined();
    const wf = submitted.data as Workflow;
    expect(wf.metadata.name).toMatch(/^greet-/);
    expect(wf.metadata.labels).toMatchObject({
      "workflows.argoproj.io/workflow-template": "greet",
      team: "skiff",
    });
    expect((await succeeded(wf.metadata.name!)).status?.phase).toBe("Succeeded");

    const dry = await client.POST("/api/v1/workflows/{namespace}/submit", {
      params: { path: NS },
      body: { resourceKind: "wftmpl", resourceName: "greet", submitOptions: { serverDryRun: true } },
    });
    expect(dry.error).toBeUndefined();
    expect(await workflow((dry.data as Workflow).metadata.name!)).toBeUndefined();
    const unknown = await client.POST("/api/v1/workflows/{namespace}/submit", {
      params: { path: NS },
      body: { resourceKind: "WorkflowTemplate", resourceName: "nope" },
    });
    expect(unknown.response.status).toBe(404);

    const created = await client.POST("/api/v1/workflows/{namespace}", {
      params: { path: NS },
      body: {
        workflow: {
          metadata: { name: "uses-greet" },
          spec: {
            entrypoint: "main",
            templates: [
              {
                name: "main",
                steps: [
                  [
                    {
                      name: "call",
                      templateRef: { name: "greet", template: "say" },
                      arguments: { parameters: [{ name: "message", value: "from-ref" }] },
                    },
                  ],
                ],
              },
            ],
          },
        },
      },
    });
    expect(created.error).toBeUndefined();
    expect((await succeeded("uses-greet")).status?.phase).toBe("Succeeded");

    const run = await cli(suite.path, trial, [
      "submit",
      "--from",
      "workflowtemplate/greet",
      "-p",
      "message=from-cli",
      "--wait",
      "--sandbox",
      "none",
      "-o",
      "name",
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(said().split("\n").filter(Boolean).sort()).toEqual(["from-cli", "from-ref", "from-submit"]);
  }, 300_000);

  it("creates, lists, updates, suspends, resumes and deletes CronWorkflows", async () => {
    const path = { ...NS, name: "nightly" };
    const created = await client.POST("/api/v1/cron-workflows/{namespace}", {
      params: { path: NS },
      body: { cronWorkflow: nightly },
    });
    expect(created.error).toBeUndefined();
    const list = await client.GET("/api/v1/cron-workflows/{namespace}", { params: { path: NS } });
    expect((list.data as { items: CronWorkflow[] }).items.map((c) => c.metadata.name)).toEqual(["nightly"]);

    const suspended = await client.PUT("/api/v1/cron-workflows/{namespace}/{name}/suspend", {
      params: { path },
      body: path,
    });
    expect((suspended.data as CronWorkflow).spec.suspend).toBe(true);
    const resumed = await client.PUT("/api/v1/cron-workflows/{namespace}/{name}/resume", {
      params: { path },
      body: path,
    });
    expect((resumed.data as CronWorkflow).spec.suspend).toBe(false);

    const current = (await client.GET("/api/v1/cron-workflows/{namespace}/{name}", { params: { path } }))
      .data as CronWorkflow;
    const updated = await client.PUT("/api/v1/cron-workflows/{namespace}/{name}", {
      params: { path },
      body: { ...path, cronWorkflow: { ...current, spec: { ...current.spec, schedules: ["0 0 2 1 *"] } } },
    });
    expect(updated.error).toBeUndefined();
    expect((updated.data as CronWorkflow).spec.schedules).toEqual(["0 0 2 1 *"]);

    const bad = await client.POST("/api/v1/cron-workflows/{namespace}", {
      params: { path: NS },
      body: {
        cronWorkflow: {
          ...nightly,
          metadata: { name: "bad" },
          spec: { ...nightly.spec, schedules: ["nope"] },
        },
      },
    });
    expect(bad.response.status).toBe(400);
    expect(bad.error.message).toMatch(/SKF-REG-004/);

    const fromCron = await client.POST("/api/v1/workflows/{namespace}/submit", {
      params: { path: NS },
      body: { resourceKind: "cronwf", resourceName: "nightly", submitOptions: { serverDryRun: true } },
    });
    expect((fromCron.data as Workflow).metadata.labels).toMatchObject({
      "workflows.argoproj.io/cron-workflow": "nightly",
    });

    expect(
      (await client.DELETE("/api/v1/cron-workflows/{namespace}/{name}", { params: { path } })).response
        .status,
    ).toBe(200);
    const gone = await client.GET("/api/v1/cron-workflows/{namespace}/{name}", { params: { path } });
    expect(gone.response.status).toBe(404);
  });

  it("runs a CronWorkflow created over the API when it is due, with the server's own runner", async () => {
    const created = await client.POST("/api/v1/cron-workflows/{namespace}", {
      params: { path: NS },
      body: {
        cronWorkflow: {
          metadata: { name: "every-minute" },
          spec: {
            schedules: ["* * * * *"],
            workflowSpec: {
              workflowTemplateRef: { name: "greet" },
              arguments: { parameters: [{ name: "message", value: "from-cron" }] },
            },
          },
        },
      },
    });
    expect(created.error).toBeUndefined();
    // Due at the next minute.
    const run = await eventually(async () => {
      const list = await client.GET("/api/v1/workflows/{namespace}", {
        params: {
          path: NS,
          query: { "listOptions.labelSelector": "workflows.argoproj.io/cron-workflow=every-minute" },
        },
      });
      const wf = (list.data as { items: Workflow[] | null }).items?.[0];
      return wf?.status?.phase === "Succeeded" ? wf : undefined;
    }, 150_000);
    expect(run.metadata.name).toMatch(/^every-minute-\d+$/);
    expect(said()).toMatch(/^from-cron$/m);
    await client.DELETE("/api/v1/cron-workflows/{namespace}/{name}", {
      params: { path: { ...NS, name: "every-minute" } },
    });
  }, 200_000);
});
