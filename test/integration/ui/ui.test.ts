// The web UI in headless Chromium (Debian's package, driven by playwright-core) against Argo's REST API:
// log in, submit from a template, follow the run live, open a failed node's logs, retry, download an
// artifact, and click every action, asserting the request the API received.
import { readFileSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  launchChromium,
  seed,
  startBackend,
  startUiServer,
  type RecordedRequest,
  type UiBackend,
  type UiServer,
} from "./harness.js";

const NS = "default";
/** Polls with room for a loaded machine (vitest's default is one second). */
const poll = <T>(fn: () => T | Promise<T>, timeout = 30_000) => expect.poll(fn, { timeout, interval: 100 });
const browserOrReason = await launchChromium();
const skipReason = typeof browserOrReason === "string" ? browserOrReason : undefined;
if (skipReason) console.warn(`Skipping the UI browser tests: ${skipReason}`);

describe.skipIf(skipReason !== undefined)("web UI in Chromium", { timeout: 120_000 }, () => {
  let browser: Browser;
  let backend: UiBackend;
  let server: UiServer;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    browser = browserOrReason as Browser;
    const started = await startBackend();
    if (typeof started === "string") throw new Error(started);
    backend = started;
    await seed(backend, NS);
    server = await startUiServer(backend);
    context = await browser.newContext({ acceptDownloads: true });
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.stop();
    await backend?.stop();
  });

  const requests = (method: string, path: string | RegExp): RecordedRequest[] =>
    server.received.filter(
      (r) => r.method === method && (typeof path === "string" ? r.path === path : path.test(r.path)),
    );

  const waitForRequest = async (method: string, path: string | RegExp): Promise<RecordedRequest> => {
    await poll(() => requests(method, path).length).toBeGreaterThan(0);
    return requests(method, path).at(-1) as RecordedRequest;
  };

  /** Submits the hello template from its page and returns the new workflow's name. */
  const submitHello = async (exitCode: "0" | "1"): Promise<string> => {
    await page.goto(`${server.url}/workflow-templates/${NS}/hello`);
    await page.getByRole("combobox", { name: "exit-code" }).selectOption(exitCode);
    await page.getByRole("button", { name: "Submit", exact: true }).click();
    await page.waitForURL(new RegExp(`/workflows/${NS}/hello-`));
    return decodeURIComponent(new URL(page.url()).pathname.split("/").at(-1) as string);
  };

  it("asks for a token and shows nothing while the API answers 401", async () => {
    await page.goto(`${server.url}/workflows/${NS}`);
    await poll(() => page.getByRole("heading", { name: "Log in" }).count()).toBe(1);
    expect(await page.getByRole("table").count()).toBe(0);
    expect(await page.getByRole("navigation").count()).toBe(0);
    await page.getByLabel("Token").fill(`Bearer ${backend.token}`);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Workflows" }).waitFor();
    const list = await waitForRequest("GET", `/api/v1/workflows/${NS}`);
    expect(list.query.get("fields")).toContain("items.status.phase");
  });

  it("submits from a template with the parameter form and follows the run live to Succeeded", async () => {
    const name = await submitHello("0");
    const submit = await waitForRequest("POST", `/api/v1/workflows/${NS}/submit`);
    expect(submit.body).toMatchObject({
      resourceKind: "WorkflowTemplate",
      resourceName: "hello",
      submitOptions: { parameters: ["exit-code=0", "greeting=hello"], entryPoint: "main" },
    });
    // The graph turns green without a reload: phases arrive over the workflow-events stream.
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    const seen = new Set<string | null>();
    await expect
      .poll(
        async () => {
          const phase = await page.getByTestId("workflow-phase").textContent();
          seen.add(phase);
          return phase;
        },
        { timeout: 40_000, interval: 50 },
      )
      .toBe("Succeeded");
    expect([...seen]).toContain("Running");
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(
      true,
    );
    await poll(() => page.locator('g.gnode[data-phase="Succeeded"]').count()).toBe(6);
    expect(
      requests("GET", `/api/v1/workflow-events/${NS}`).some((r) =>
        r.query.get("listOptions.fieldSelector")?.includes(`metadata.name=${name}`),
      ),
    ).toBe(true);
    expect(await page.locator('g.gnode[data-phase="Running"]').count()).toBe(0);
  });

  it("downloads and previews an artifact through Argo's artifact-files route", async () => {
    await page.getByRole("button", { name: /^build: Pod Succeeded/ }).click();
    await page.getByRole("tab", { name: "Inputs/Outputs" }).click();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.locator(".artifacts li", { hasText: "report" }).getByRole("link", { name: "Download" }).click(),
    ]);
    expect(readFileSync((await download.path()) as string, "utf8")).toContain("building hello");
    const got = await waitForRequest(
      "GET",
      /^\/artifact-files\/default\/workflows\/hello-[^/]+\/[^/]+\/outputs\/report$/,
    );
    expect(got.path).toMatch(/outputs\/report$/);
    await page
      .locator(".artifacts li", { hasText: "report" })
      .getByRole("button", { name: "Preview" })
      .click();
    await poll(() => page.getByLabel("Preview of report").textContent()).toContain("build ok");
    await page
      .locator(".artifacts li", { hasText: "chart" })
      .getByRole("button", { name: "Preview" })
      .click();
    await page.getByRole("img", { name: "Preview of chart" }).waitFor();
  });

  it("opens a failed node's logs with colours, search and download, then retries the workflow", async () => {
    const name = await submitHello("1");
    await expect
      .poll(() => page.getByTestId("workflow-phase").textContent(), { timeout: 40_000 })
      .toBe("Failed");
    await page.getByRole("button", { name: /^test\(0:a\): Pod Failed/ }).click();
    await poll(() => page.locator(".kv").textContent()).toContain("Error (exit code 1)");
    await page.getByRole("tab", { name: "Logs" }).click();
    await page.locator(".logline", { hasText: "testing a" }).waitFor();
    const red = page.locator(".logline .ansi-fg-1");
    expect(await red.first().textContent()).toBe("FAIL");
    const log = await waitForRequest("GET", `/api/v1/workflows/${NS}/${name}/log`);
    expect(log.query.get("podName")).toMatch(new RegExp(`^${name}-test-\\d+$`));
    expect(log.query.get("logOptions.container")).toBe("main");
    await page.getByRole("searchbox", { name: "Search logs" }).fill("testing");
    await poll(() => page.locator(".logline").count()).toBe(1);
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download" }).click(),
    ]);
    expect(readFileSync((await download.path()) as string, "utf8")).toContain("FAIL when exit code is 1");

    await page.getByRole("button", { name: "Retry" }).click();
    const retry = await waitForRequest("PUT", `/api/v1/workflows/${NS}/${name}/retry`);
    expect(retry.body).toMatchObject({ name, namespace: NS });
    await expect
      .poll(() => page.getByTestId("workflow-phase").textContent(), { timeout: 40_000 })
      .toBe("Failed");
  });

  it("suspends, resumes, stops, terminates, resubmits and deletes, confirming the destructive ones", async () => {
    const start = async (): Promise<string> => {
      await page.goto(`${server.url}/workflow-templates/${NS}/slow`);
      await page.getByRole("button", { name: "Submit", exact: true }).click();
      await page.waitForURL(new RegExp(`/workflows/${NS}/slow-`));
      await poll(() => page.getByTestId("workflow-phase").textContent()).toBe("Running");
      return decodeURIComponent(new URL(page.url()).pathname.split("/").at(-1) as string);
    };
    const action = (label: string) =>
      page
        .getByRole("toolbar", { name: "Workflow actions" })
        .getByRole("button", { name: label, exact: true });

    let name = await start();
    await action("Suspend").click();
    await waitForRequest("PUT", `/api/v1/workflows/${NS}/${name}/suspend`);
    await action("Resume").click();
    await waitForRequest("PUT", `/api/v1/workflows/${NS}/${name}/resume`);

    // Cancelling the confirmation sends nothing.
    await action("Stop").click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Cancel" }).click();
    expect(requests("PUT", `/api/v1/workflows/${NS}/${name}/stop`)).toHaveLength(0);
    await action("Stop").click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Stop" }).click();
    await waitForRequest("PUT", `/api/v1/workflows/${NS}/${name}/stop`);

    name = await start();
    await action("Terminate").click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Terminate" }).click();
    expect((await waitForRequest("PUT", `/api/v1/workflows/${NS}/${name}/terminate`)).body).toMatchObject({
      name,
    });
    await poll(() => page.getByTestId("workflow-phase").textContent()).toBe("Failed");

    await action("Resubmit").click();
    await waitForRequest("PUT", `/api/v1/workflows/${NS}/${name}/resubmit`);
    await page.waitForURL((url) => !url.pathname.endsWith(`/${name}`));
    const resubmitted = decodeURIComponent(new URL(page.url()).pathname.split("/").at(-1) as string);
    expect(resubmitted).toMatch(/^slow-/);

    await poll(() => page.getByRole("heading", { level: 1 }).textContent()).toContain(resubmitted);
    await action("Terminate").click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Terminate" }).click();
    await waitForRequest("PUT", `/api/v1/workflows/${NS}/${resubmitted}/terminate`);
    await poll(() => page.getByTestId("workflow-phase").textContent()).toBe("Failed");
    await action("Delete").click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Delete" }).click();
    await waitForRequest("DELETE", `/api/v1/workflows/${NS}/${resubmitted}`);
    await page.waitForURL(new RegExp(`/workflows/${NS}$`));
  });

  it("lists workflows newest first with live counts and filters by phase and name", async () => {
    await page.goto(`${server.url}/workflows/${NS}`);
    await page.locator("tbody tr").first().waitFor();
    const names = await page
      .locator("tbody tr")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-workflow")));
    expect(names.length).toBeGreaterThanOrEqual(4);
    expect(names[0]).toMatch(/^slow-/);
    const failedCount = Number(await page.locator('[data-phase-count="Failed"]').textContent());
    expect(failedCount).toBeGreaterThanOrEqual(2);
    await page.getByRole("checkbox", { name: /Failed/ }).check();
    await poll(() => page.locator("tbody tr").count()).toBe(failedCount);
    const filtered = requests("GET", `/api/v1/workflows/${NS}`).at(-1) as RecordedRequest;
    expect(filtered.query.get("listOptions.labelSelector")).toBe("workflows.argoproj.io/phase in (Failed)");
    await page.getByRole("checkbox", { name: /Failed/ }).uncheck();
    await page.getByRole("searchbox", { name: "Name" }).fill("hello");
    await poll(() => requests("GET", `/api/v1/workflows/${NS}`).at(-1)?.query.get("nameFilter")).toBe(
      "Contains",
    );
    await poll(async () =>
      (
        await page.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-workflow")))
      ).every((n) => n?.startsWith("hello-")),
    ).toBe(true);

    // A new run shows up without a reload, and the counts follow.
    const before = Number(await page.locator('[data-phase-count="Running"]').textContent());
    const res = await fetch(`${backend.url}/api/v1/workflows/${NS}/submit`, {
      method: "POST",
      headers: { Authorization: `Bearer ${backend.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        namespace: NS,
        resourceKind: "WorkflowTemplate",
        resourceName: "hello",
        submitOptions: { parameters: ["exit-code=0"] },
      }),
    });
    const created = (await res.json()) as { metadata: { name: string } };
    await page.locator(`tr[data-workflow="${created.metadata.name}"]`).waitFor();
    expect(Number(await page.locator('[data-phase-count="Running"]').textContent())).toBeGreaterThanOrEqual(
      before,
    );
  });

  it("shows cron workflows with their next runs, and suspends and resumes one", async () => {
    await page.goto(`${server.url}/cron-workflows/${NS}`);
    await page.getByRole("link", { name: "nightly" }).click();
    await page.getByRole("heading", { name: "nightly" }).waitFor();
    expect(await page.locator(".next-runs li").count()).toBe(5);
    await page.getByRole("button", { name: "Suspend" }).click();
    await waitForRequest("PUT", `/api/v1/cron-workflows/${NS}/nightly/suspend`);
    await page.getByRole("button", { name: "Resume" }).click();
    await waitForRequest("PUT", `/api/v1/cron-workflows/${NS}/nightly/resume`);
    await page.getByRole("button", { name: "Submit", exact: true }).click();
    const submit = await waitForRequest("POST", `/api/v1/workflows/${NS}/submit`);
    expect(submit.body).toMatchObject({ resourceKind: "CronWorkflow", resourceName: "nightly" });
    await page.waitForURL(new RegExp(`/workflows/${NS}/nightly-`));
  });

  it("lists cluster workflow templates and submits one", async () => {
    await page.goto(`${server.url}/cluster-workflow-templates`);
    await page.getByRole("link", { name: "cluster-hello" }).click();
    await page.getByRole("button", { name: "Submit", exact: true }).click();
    const submit = await waitForRequest("POST", `/api/v1/workflows/${NS}/submit`);
    expect(submit.body).toMatchObject({
      resourceKind: "ClusterWorkflowTemplate",
      resourceName: "cluster-hello",
    });
    await expect
      .poll(() => page.getByTestId("workflow-phase").textContent(), { timeout: 40_000 })
      .toBe("Succeeded");
  });

  it("opens an archived workflow and retries and deletes it through the archive's routes", async () => {
    const res = await fetch(
      `${backend.url}/api/v1/workflows/${NS}?listOptions.labelSelector=workflows.argoproj.io/workflow-template%3Dhello`,
      {
        headers: { Authorization: `Bearer ${backend.token}` },
      },
    );
    const finished = ((await res.json()) as { items: any[] }).items.find((w) => w.status.phase === "Failed");
    await backend.archive({
      ...structuredClone(finished),
      metadata: { ...finished.metadata, uid: "archived-uid-1" },
    });
    await page.goto(`${server.url}/archived-workflows/${NS}`);
    await page.getByRole("link", { name: finished.metadata.name }).click();
    await page.waitForURL(/\/archived-workflows\/default\/archived-uid-1$/);
    await waitForRequest("GET", "/api/v1/archived-workflows/archived-uid-1");
    await page.getByRole("button", { name: "Retry" }).click();
    await waitForRequest("PUT", "/api/v1/archived-workflows/archived-uid-1/retry");
    await page.waitForURL(new RegExp(`/workflows/${NS}/`));
    await page.goto(`${server.url}/archived-workflows/${NS}/archived-uid-1`);
    await page.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Delete" }).click();
    await waitForRequest("DELETE", "/api/v1/archived-workflows/archived-uid-1");
  });

  it("is usable from the keyboard and switches between light and dark themes", async () => {
    await page.goto(`${server.url}/workflows/${NS}`);
    await page.getByRole("combobox", { name: "Theme" }).selectOption("dark");
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe("rgb(13, 17, 23)");
    await page.getByRole("combobox", { name: "Theme" }).selectOption("light");
    // Open a workflow and select nodes with the keyboard only.
    await page.locator("tbody tr a").first().focus();
    await page.keyboard.press("Enter");
    await page.locator("g.gnode").first().waitFor();
    await page.locator("g.gnode").first().focus();
    await page.keyboard.press("Enter");
    await poll(() => new URL(page.url()).searchParams.get("nodeId")).toBeTruthy();
    await page.getByRole("tab", { name: "Node list" }).click();
    await page.getByRole("list", { name: /Nodes/ }).focus();
    const first = new URL(page.url()).searchParams.get("nodeId");
    await page.keyboard.press("ArrowDown");
    await poll(() => new URL(page.url()).searchParams.get("nodeId")).not.toBe(first);
  });

  it("answered and asked only what Argo's swagger describes", () => {
    expect(backend.violations()).toEqual([]);
  });
});
