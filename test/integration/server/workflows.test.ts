import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Workflow } from "../../../runtime/spec/types.js";
import type { SkiffServer } from "../../../src/server/index.js";
import {
  argoClient,
  eventually,
  HAVE_SHARED,
  loadArgoApi,
  readFrames,
  SKIP_REASON,
  testServer,
  type ArgoApi,
  type ArgoClient,
} from "./harness.js";

if (!HAVE_SHARED) console.warn(`skipped: ${SKIP_REASON}`);

const container = (name: string, command: string[]) => ({ name, container: { image: "busybox", command } });

function workflow(generateName: string, templates: unknown[], extra: Record<string, unknown> = {}) {
  return {
    metadata: { generateName },
    spec: { entrypoint: (templates[0] as { name: string }).name, templates, ...extra },
  };
}

describe.skipIf(!HAVE_SHARED)("skiff server: Argo's workflow API", () => {
  let api: ArgoApi;
  let server: SkiffServer;
  let stop: () => Promise<void>;
  let client: ArgoClient;

  beforeAll(async () => {
    api = await loadArgoApi();
    ({ server, stop } = await testServer());
    client = argoClient(api, server.url);
  });
  afterAll(async () => {
    await stop?.();
    expect(api?.problems ?? []).toEqual([]);
  });

  const create = async (body: unknown): Promise<Workflow> => {
    const { data, error } = await client.POST("/api/v1/workflows/{namespace}", {
      params: { path: { namespace: "default" } },
      body: { workflow: body },
    });
    expect(error).toBeUndefined();
    return data as Workflow;
  };
  const get = async (name: string): Promise<Workflow> => {
    const { data } = await client.GET("/api/v1/workflows/{namespace}/{name}", {
      params: { path: { namespace: "default", name } },
    });
    return data as Workflow;
  };
  const completed = (name: string) =>
    eventually(async () => {
      const wf = await get(name);
      return ["Succeeded", "Failed", "Error"].includes(wf?.status?.phase ?? "") ? wf : undefined;
    });
  const phaseOf = (name: string, phase: string) =>
    eventually(async () => ((await get(name))?.status?.phase === phase ? true : undefined));

  it("creates a workflow that runs to Succeeded, and serves its logs, list and fields", async () => {
    const created = await create(workflow("hello-", [container("main", ["echo", "hello from the api"])]));
    const name = created.metadata.name!;
    expect(created.metadata.uid).toBeTruthy();
    const done = await completed(name);
    expect(done.status?.phase).toBe("Succeeded");
    expect(done.metadata.labels?.["workflows.argoproj.io/completed"]).toBe("true");

    const logs = await client.GET("/api/v1/workflows/{namespace}/{name}/log", {
      params: { path: { namespace: "default", name }, query: { "logOptions.container": "main" } },
      parseAs: "stream",
    });
    const frames = await readFrames(
      api,
      "/api/v1/workflows/{namespace}/{name}/log",
      logs.response,
      () => false,
    );
    expect(frames.map((f) => (f.result as { content: string }).content)).toEqual(["hello from the api"]);
    expect((frames[0]!.result as { podName: string }).podName).toBe(name);

    const list = await client.GET("/api/v1/workflows/{namespace}", {
      params: {
        path: { namespace: "default" },
        query: {
          "listOptions.labelSelector": "workflows.argoproj.io/phase in (Succeeded,Failed)",
          "listOptions.fieldSelector": `metadata.name=${name}`,
          fields: "metadata,items.metadata.name,items.status.phase",
        },
      },
    });
    expect(list.data).toEqual({
      metadata: {},
      items: [{ metadata: { name }, status: { phase: "Succeeded" } }],
    });

    const one = await client.GET("/api/v1/workflows/{namespace}/{name}", {
      params: { path: { namespace: "default", name }, query: { fields: "status.phase" } },
    });
    expect(one.data).toEqual({ status: { phase: "Succeeded" } });
    const latest = await get("@latest");
    expect(latest.metadata.name).toBe(name);
  });

  it("pages lists with limit and continue, newest first", async () => {
    const names: string[] = [];
    for (let i = 0; i < 3; i++) {
      const wf = await create(workflow("page-", [container("main", ["true"])]));
      names.push(wf.metadata.name!);
      await completed(wf.metadata.name!);
    }
    const page = (cont?: string) =>
      client.GET("/api/v1/workflows/{namespace}", {
        params: {
          path: { namespace: "default" },
          query: {
            "listOptions.limit": "2",
            "listOptions.fieldSelector": "metadata.name=page-",
            nameFilter: "Prefix",
            ...(cont ? { "listOptions.continue": cont } : {}),
          },
        },
      });
    const first = await page();
    expect(first.data.items).toHaveLength(2);
    expect(first.data.metadata.continue).toBe("2");
    const second = await page(first.data.metadata.continue);
    expect(second.data.items).toHaveLength(1);
    expect(second.data.metadata.continue).toBeUndefined();
    const seen = [...first.data.items, ...second.data.items].map((w: Workflow) => w.metadata.name);
    expect(new Set(seen)).toEqual(new Set(names));
    const bad = await page("x");
    expect(bad.response.status).toBe(400);
    expect(bad.error.message).toContain("listOptions.continue must be int");
  });

  it("streams watch events as newline-delimited JSON and as server-sent events", async () => {
    for (const accept of ["application/json", "text/event-stream"]) {
      const watch = await client.GET("/api/v1/workflow-events/{namespace}", {
        params: {
          path: { namespace: "default" },
          query: {
            "listOptions.fieldSelector": "metadata.name=watched",
            fields: "result.type,result.object.metadata.name,result.object.status.phase",
          },
        },
        headers: { Accept: accept },
        parseAs: "stream",
      });
      expect(watch.response.headers.get("content-type")).toBe(accept);
      const reading = readFrames(
        api,
        "/api/v1/workflow-events/{namespace}",
        watch.response,
        (f) => ((f.result as { object?: Workflow }).object?.status?.phase ?? "") === "Succeeded",
      );
      const wf = workflow("", [container("main", ["true"])]);
      await create({ ...wf, metadata: { name: "watched" } });
      const frames = await reading;
      expect((frames[0]!.result as { type: string }).type).toBe("ADDED");
      expect(frames.at(-1)!.result).toEqual({
        type: "MODIFIED",
        object: { metadata: { name: "watched" }, status: { phase: "Succeeded" } },
      });
      await client.DELETE("/api/v1/workflows/{namespace}/{name}", {
        params: { path: { namespace: "default", name: "watched" } },
      });
    }
  });

  it("answers Argo's errors: 409 on a duplicate name, 400 on an invalid workflow, 404, lint's 500, submit's 404", async () => {
    const wf = {
      metadata: { name: "twice" },
      spec: { entrypoint: "main", templates: [container("main", ["true"])] },
    };
    await create(wf);
    const again = await client.POST("/api/v1/workflows/{namespace}", {
      params: { path: { namespace: "default" } },
      body: { workflow: wf },
    });
    expect(again.response.status).toBe(409);
    expect(again.error.code).toBe(6);
    expect(again.error.message).toContain("already exists");

    const invalid = await client.POST("/api/v1/workflows/{namespace}", {
      params: { path: { namespace: "default" } },
      body: {
        workflow: {
          metadata: { name: "bad" },
          spec: { entrypoint: "nope", templates: [container("main", ["true"])] },
        },
      },
    });
    expect(invalid.response.status).toBe(400);
    expect(invalid.error.code).toBe(3);
    expect(invalid.error.message).toMatch(/SKF-SPEC-\d+/);

    const missing = await client.GET("/api/v1/workflows/{namespace}/{name}", {
      params: { path: { namespace: "default", name: "none" } },
    });
    expect(missing.response.status).toBe(404);
    expect(missing.error).toEqual({ code: 5, message: 'workflows.argoproj.io "none" not found' });

    const lint = await client.POST("/api/v1/workflows/{namespace}/lint", {
      params: { path: { namespace: "default" } },
      body: { workflow: { metadata: { name: "bad" }, spec: { entrypoint: "nope", templates: [] } } },
    });
    expect(lint.response.status).toBe(500);
    const lintOk = await client.POST("/api/v1/workflows/{namespace}/lint", {
      params: { path: { namespace: "default" } },
      body: { workflow: wf },
    });
    expect(lintOk.response.status).toBe(200);

    const submit = await client.POST("/api/v1/workflows/{namespace}/submit", {
      params: { path: { namespace: "default" } },
      body: { resourceKind: "WorkflowTemplate", resourceName: "t" },
    });
    // No WorkflowTemplate t in the registry.
    expect(submit.response.status).toBe(404);
    expect(submit.error.message).toMatch(/SKF-REG-003/);
    const badKind = await client.POST("/api/v1/workflows/{namespace}/submit", {
      params: { path: { namespace: "default" } },
      body: { resourceKind: "Pod", resourceName: "t" },
    });
    expect(badKind.response.status).toBe(400);
    expect(badKind.error.message).toBe("Resource kind 'Pod' is not supported for submitting");
  });

  it("checks with serverDryRun without storing, and refuses bodies over 2 MB with 413", async () => {
    const dry = await client.POST("/api/v1/workflows/{namespace}", {
      params: { path: { namespace: "default" } },
      body: {
        workflow: {
          metadata: { name: "dry" },
          spec: { entrypoint: "main", templates: [container("main", ["true"])] },
        },
        serverDryRun: true,
      },
    });
    expect(dry.data.metadata.name).toBe("dry");
    expect(
      (
        await client.GET("/api/v1/workflows/{namespace}/{name}", {
          params: { path: { namespace: "default", name: "dry" } },
        })
      ).response.status,
    ).toBe(404);

    const big = "x".repeat(2 * 1024 * 1024 + 10);
    const res = await fetch(`${server.url}/api/v1/workflows/default`, {
      method: "POST",
      body: JSON.stringify({ workflow: { metadata: { name: "big", annotations: { big } }, spec: {} } }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { code: number }).code).toBe(8);
  });

  it("suspends, resumes, stops and terminates a running workflow, and refuses to suspend a completed one", async () => {
    const gate = await create(
      workflow("gate-", [
        {
          name: "main",
          steps: [[{ name: "approve", template: "approve" }], [{ name: "after", template: "after" }]],
        },
        { name: "approve", suspend: {} },
        container("after", ["echo", "approved"]),
      ]),
    );
    const name = gate.metadata.name!;
    await eventually(async () => {
      const wf = await get(name);
      return Object.values(wf.status?.nodes ?? {}).some((n) => n.type === "Suspend" && n.phase === "Running")
        ? true
        : undefined;
    });
    const resumed = await client.PUT("/api/v1/workflows/{namespace}/{name}/resume", {
      params: { path: { namespace: "default", name } },
      body: { nodeFieldSelector: "displayName=approve" },
    });
    expect(resumed.response.status).toBe(200);
    expect((await completed(name)).status?.phase).toBe("Succeeded");
    const late = await client.PUT("/api/v1/workflows/{namespace}/{name}/suspend", {
      params: { path: { namespace: "default", name } },
      body: {},
    });
    expect(late.response.status).toBe(400);
    expect(late.error.message).toBe("cannot suspend completed workflows");
    const lateStop = await client.PUT("/api/v1/workflows/{namespace}/{name}/terminate", {
      params: { path: { namespace: "default", name } },
      body: {},
    });
    expect(lateStop.response.status).toBe(500);

    const long = await create(workflow("long-", [container("main", ["sleep", "60"])]));
    await phaseOf(long.metadata.name!, "Running");
    const suspended = await client.PUT("/api/v1/workflows/{namespace}/{name}/suspend", {
      params: { path: { namespace: "default", name: long.metadata.name! } },
      body: {},
    });
    expect(suspended.response.status).toBe(200);
    const terminated = await client.PUT("/api/v1/workflows/{namespace}/{name}/terminate", {
      params: { path: { namespace: "default", name: long.metadata.name! } },
      body: {},
    });
    expect(terminated.response.status).toBe(200);
    const end = await completed(long.metadata.name!);
    expect(end.status?.phase).toBe("Failed");
    expect(end.status?.message).toContain("Terminate");
  });

  it("retries a failed workflow and resubmits it as a new one", async () => {
    const failing = await create(workflow("fail-", [container("main", ["sh", "-c", "echo try; exit 3"])]));
    const name = failing.metadata.name!;
    expect((await completed(name)).status?.phase).toBe("Failed");
    const retried = await client.PUT("/api/v1/workflows/{namespace}/{name}/retry", {
      params: { path: { namespace: "default", name } },
      body: {},
    });
    expect(retried.response.status).toBe(200);
    await eventually(async () => {
      const wf = await get(name);
      return wf.status?.phase === "Failed" &&
        wf.metadata.resourceVersion !== retried.data.metadata.resourceVersion
        ? true
        : undefined;
    });
    const resubmitted = await client.PUT("/api/v1/workflows/{namespace}/{name}/resubmit", {
      params: { path: { namespace: "default", name } },
      body: {},
    });
    expect(resubmitted.response.status).toBe(200);
    const other = resubmitted.data.metadata.name as string;
    expect(other).not.toBe(name);
    expect(resubmitted.data.metadata.labels["workflows.argoproj.io/resubmitted-from-workflow"]).toBe(name);
    expect((await completed(other)).status?.phase).toBe("Failed");
    const succeeded = await create(workflow("ok-", [container("main", ["true"])]));
    await completed(succeeded.metadata.name!);
    const refused = await client.PUT("/api/v1/workflows/{namespace}/{name}/retry", {
      params: { path: { namespace: "default", name: succeeded.metadata.name! } },
      body: {},
    });
    expect(refused.response.status).toBe(400);
  });

  it("deletes a workflow and keeps it in the archive, which lists, gets and deletes it", async () => {
    const wf = await create(workflow("arch-", [container("main", ["true"])]));
    const name = wf.metadata.name!;
    const done = await completed(name);
    const deleted = await client.DELETE("/api/v1/workflows/{namespace}/{name}", {
      params: { path: { namespace: "default", name } },
    });
    expect(deleted.data).toEqual({});
    const gone = await client.DELETE("/api/v1/workflows/{namespace}/{name}", {
      params: { path: { namespace: "default", name } },
    });
    expect(gone.response.status).toBe(404);
    // A deleted workflow is still found through the archive (as Argo's get falls back to it).
    expect((await get(name)).metadata.uid).toBe(done.metadata.uid);
    const archived = await client.GET("/api/v1/archived-workflows", {
      params: { query: { namespace: "default", namePrefix: "arch-" } },
    });
    expect(archived.data.items.map((w: Workflow) => w.metadata.uid)).toContain(done.metadata.uid);
    const one = await client.GET("/api/v1/archived-workflows/{uid}", {
      params: { path: { uid: done.metadata.uid! } },
    });
    expect(one.data.metadata.name).toBe(name);
    await client.DELETE("/api/v1/archived-workflows/{uid}", {
      params: { path: { uid: done.metadata.uid! } },
    });
    const after = await client.GET("/api/v1/archived-workflows/{uid}", {
      params: { path: { uid: done.metadata.uid! } },
    });
    expect(after.response.status).toBe(404);
    const empty = await client.GET("/api/v1/archived-workflows", {
      params: { query: { namePrefix: "none-" } },
    });
    expect(empty.data.items).toEqual([]);
  });

  it("serves info, version and userinfo, and Argo's metrics with the workflows' custom metrics", async () => {
    const info = await client.GET("/api/v1/info", {});
    expect(info.response.status).toBe(200);
    const version = await client.GET("/api/v1/version", {});
    expect(version.response.headers.get("grpc-metadata-argo-version")).toBeTruthy();
    expect(version.data.compiler).toBe("node");
    expect((await client.GET("/api/v1/userinfo", {})).response.status).toBe(200);

    const wf = await create(
      workflow("metered-", [container("main", ["true"])], {
        metrics: {
          prometheus: [
            {
              name: "api_runs",
              help: "Runs through the API",
              labels: [{ key: "how", value: "rest" }],
              counter: { value: "1" },
            },
          ],
        },
      }),
    );
    await completed(wf.metadata.name!);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toContain('argo_workflows_api_runs{how="rest"} 1');
    expect(text).toMatch(/argo_workflows_total_count\{phase="Succeeded",namespace="default"\} \d+/);
    expect(text).toContain('argo_workflows_queue_depth_gauge{queue_name="workflow_queue"}');
    expect(text).toContain("argo_workflows_operation_duration_seconds_bucket");
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
  });
});
