import { createHmac } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Workflow } from "../../../runtime/spec/types.js";
import { loadConfig } from "../../../src/config/index.js";
import { manifestOf, TemplateRegistry } from "../../../src/run/registry.js";
import { openRunStore } from "../../../src/run/store.js";
import { selectForEvent } from "../../../src/run/select.js";
import { BINDING_LABEL, loadBindings } from "../../../src/server/events.js";
import { gitHubContext } from "../../../src/server/webhooks.js";
import { eventually, ROOT, testConfig, testServer } from "./harness.js";

/*
 * The server's event doors end to end: Argo's events endpoint over WorkflowEventBindings, and the signed
 * GitHub webhook selecting pipelines from a checkout. Runs go through the host executor as every server
 * test's do.
 */

const WRITE = "events-write-token";
const SECRET = "it's a secret to everybody";

const binding = `apiVersion: argoproj.io/v1alpha1
kind: WorkflowEventBinding
metadata:
  name: on-release
spec:
  event:
    selector: payload.kind == "release" && discriminator == "ci" && metadata["x-origin"] == ["tests"]
  submit:
    workflowTemplateRef:
      name: greet
    arguments:
      parameters:
        - name: message
          valueFrom:
            event: payload.version
        - name: count
          valueFrom:
            event: payload.count + 1
`;

const pipeline = (name: string, on: string) => `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: ${name}
  annotations:
    skiff.dev/on-event: ${on}
spec:
  entrypoint: main
  templates:
    - name: main
      container:
        image: busybox
        command: [sh, -c, "echo {{workflow.parameters.git-sha}}"]
`;

describe("skiff server: events and webhooks", () => {
  let state: string;
  let url: string;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    state = mkdtempSync(join(tmpdir(), "skiff-events-test-"));
    const bindings = join(state, "bindings");
    const checkout = join(state, "checkout");
    mkdirSync(bindings);
    mkdirSync(join(checkout, ".skiff"), { recursive: true });
    writeFileSync(join(bindings, "release.yaml"), binding);
    writeFileSync(join(checkout, ".skiff", "build.yaml"), pipeline("build", "push"));
    writeFileSync(join(checkout, ".skiff", "review.yaml"), pipeline("review", "pull_request"));
    // The config as a user writes it: the server section's new fields go through the config's checks.
    const file = join(state, "skiff.yaml");
    writeFileSync(
      file,
      [
        "server:",
        "  tokens:",
        `    - token: ${WRITE}`,
        "      access: write",
        "  eventBindings: bindings",
        "  github:",
        `    webhookSecret: "${SECRET}"`,
        "    checkout: checkout",
        "  gitlab:",
        `    webhookSecret: "${SECRET}"`,
        "    checkout: checkout",
      ].join("\n"),
    );
    const config = { ...testConfig(state), server: (await loadConfig(file)).server! };

    const store = await openRunStore(config);
    await new TemplateRegistry(store).create([
      manifestOf({
        apiVersion: "argoproj.io/v1alpha1",
        kind: "WorkflowTemplate",
        metadata: { name: "greet", namespace: "default" },
        spec: {
          entrypoint: "main",
          arguments: { parameters: [{ name: "message" }, { name: "count" }] },
          templates: [
            {
              name: "main",
              container: {
                image: "busybox",
                command: ["sh", "-c", "echo {{workflow.parameters.message}} {{workflow.parameters.count}}"],
              },
            },
          ],
        },
      }),
    ]);
    await store.close();

    const started = await testServer({ state, config, authMode: "token" });
    url = started.server.url;
    stop = started.stop;
  });
  afterAll(async () => {
    await stop?.();
    rmSync(state, { recursive: true, force: true });
  });

  const workflows = async (): Promise<Workflow[]> => {
    const res = await fetch(`${url}/api/v1/workflows/default`, {
      headers: { Authorization: `Bearer ${WRITE}` },
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: Workflow[] | null }).items ?? [];
  };
  const succeeded = (name: string) =>
    eventually(async () => {
      const wf = (await workflows()).find((w) => w.metadata.name === name);
      return wf?.status?.phase === "Succeeded" ? wf : undefined;
    });
  const sendEvent = (discriminator: string, payload: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}/api/v1/events/default/${discriminator}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${WRITE}`, "Content-Type": "application/json", ...headers },
      body: JSON.stringify(payload),
    });
  const deliver = (event: string, body: string, signature: string | undefined) =>
    fetch(`${url}/api/v1/github/webhook`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        ...(signature ? { "X-Hub-Signature-256": signature } : {}),
      },
      body,
    });
  const sign = (body: string, secret = SECRET) =>
    `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

  it("an event a binding matches submits its WorkflowTemplate with parameters read from the payload", async () => {
    const res = await sendEvent(
      "ci",
      { kind: "release", version: "v1.2.3", count: 2 },
      { "X-Origin": "tests" },
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    const made = (await workflows()).filter((w) => w.metadata.labels?.[BINDING_LABEL] === "on-release");
    expect(made).toHaveLength(1);
    const wf = await succeeded(made[0]!.metadata.name!);
    expect(wf.metadata.name).toMatch(/^greet-/);
    expect(wf.spec.arguments?.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "message", value: "v1.2.3" }),
        expect.objectContaining({ name: "count", value: "3" }),
      ]),
    );
  });

  it("an event no binding matches starts nothing", async () => {
    const before = (await workflows()).length;
    for (const [d, payload] of [
      ["ci", { kind: "nightly", version: "x" }],
      ["other", { kind: "release", version: "x" }],
    ] as const) {
      const res = await sendEvent(d, payload, { "X-Origin": "tests" });
      expect(res.status).toBe(200);
    }
    expect(await sendEvent("ci", { kind: "release", version: "x" })).toHaveProperty("status", 200);
    expect((await workflows()).length).toBe(before);
  });

  it("the events endpoint needs a write token", async () => {
    const res = await fetch(`${url}/api/v1/events/default/ci`, { method: "POST", body: "{}" });
    expect(res.status).toBe(401);
  });

  it("lists the namespace's bindings", async () => {
    const res = await fetch(`${url}/api/v1/workflow-event-bindings/default`, {
      headers: { Authorization: `Bearer ${WRITE}` },
    });
    const body = (await res.json()) as { items: { metadata: { name: string } }[] };
    expect(body.items.map((b) => b.metadata.name)).toEqual(["on-release"]);
  });

  it("a signed push delivery runs the pipelines the push selects", async () => {
    const sha = "a".repeat(40);
    const body = JSON.stringify({
      ref: "refs/heads/main",
      after: sha,
      repository: { full_name: "skiff/demo" },
      sender: { login: "octocat" },
      head_commit: { message: "build it" },
      commits: [{ added: [], modified: ["src/a.ts"], removed: [] }],
    });
    const res = await deliver("push", body, sign(body));
    expect(res.status).toBe(200);
    const reply = (await res.json()) as { workflows: string[]; skipped: { pipeline: string }[] };
    expect(reply.workflows).toEqual(["default/build"]);
    expect(reply.skipped.map((s) => s.pipeline)).toEqual(["review"]);
    const wf = await succeeded("build");
    expect(wf.spec.arguments?.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: "git-sha", value: sha })]),
    );
  });

  it("a wrong or missing signature is 401 and runs nothing", async () => {
    const before = (await workflows()).length;
    const body = JSON.stringify({
      action: "opened",
      repository: { full_name: "skiff/demo" },
      pull_request: { number: 7, head: { sha: "b".repeat(40), ref: "feature" }, base: { ref: "main" } },
    });
    expect((await deliver("pull_request", body, sign(body, "not the secret"))).status).toBe(401);
    expect((await deliver("pull_request", body, undefined)).status).toBe(401);
    expect((await deliver("pull_request", body, sign(body.replace("7", "8")))).status).toBe(401);
    expect((await workflows()).length).toBe(before);
  });

  it("a binding file that is not valid answers Argo's 500, naming the file and line", async () => {
    const file = join(state, "bindings", "zz-broken.yaml");
    writeFileSync(file, binding.replace(/^metadata:\n {2}name: on-release\n/m, "metadata:\n  labels: {}\n"));
    try {
      const res = await sendEvent("ci", { kind: "release" });
      expect(res.status).toBe(500);
      const body = (await res.json()) as { message: string };
      expect(body.message).toContain("SKF-EVT-001");
      expect(body.message).toContain(`${file}:1`);
    } finally {
      rmSync(file);
    }
  });

  it("a GitLab merge request hook with the secret token runs the pipelines it selects; a wrong token is 401", async () => {
    const body = JSON.stringify({
      object_kind: "merge_request",
      user: { username: "tanuki" },
      project: { path_with_namespace: "skiff/demo" },
      object_attributes: {
        iid: 3,
        action: "open",
        source_branch: "feature",
        target_branch: "main",
        last_commit: { id: "d".repeat(40), message: "review me" },
      },
    });
    const hook = (token: string) =>
      fetch(`${url}/api/v1/gitlab/webhook`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "X-Gitlab-Event": "Merge Request Hook",
          "X-Gitlab-Token": token,
        },
        body,
      });
    const before = (await workflows()).length;
    expect((await hook("not the secret")).status).toBe(401);
    expect((await workflows()).length).toBe(before);
    const res = await hook(SECRET);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { workflows: string[] }).workflows).toEqual(["default/review"]);
    const wf = await succeeded("review");
    expect(wf.spec.arguments?.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: "git-sha", value: "d".repeat(40) })]),
    );
  });

  it("an oversized body is 413 on both doors", async () => {
    const big = JSON.stringify({ blob: "x".repeat(2 * 1024 * 1024 + 1) });
    expect((await sendEvent("ci", JSON.parse(big))).status).toBe(413);
    expect((await deliver("push", big, sign(big))).status).toBe(413);
  });
});

describe("server.github and server.eventBindings in the config", () => {
  it("refuses a github section without a secret, naming the line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "skiff-events-config-"));
    try {
      const file = join(dir, "skiff.yaml");
      writeFileSync(file, ["server:", "  tokens: []", "  github:", "    checkout: ."].join("\n"));
      await expect(loadConfig(file)).rejects.toMatchObject({
        code: "SKF-CFG-002",
        position: { file, line: 4 },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("examples/server-events", () => {
  it("its config loads, its binding is read, and its GitHub checkout selects a pipeline for a push", async () => {
    const dir = join(ROOT, "examples", "server-events");
    const config = await loadConfig(join(dir, "skiff.yaml"), { SKIFF_SERVER_TOKEN: "t" });
    const bindings = await loadBindings(config.server?.eventBindings, "default");
    expect(bindings.map((b) => b.metadata.name)).toEqual(["on-release"]);
    const github = config.server!.github!;
    const selection = await selectForEvent({
      context: gitHubContext("push", { ref: "refs/heads/main", after: "c".repeat(40) }),
      workspace: github.checkout,
      pipelines: github.pipelines,
    });
    expect(selection.rejected).toEqual([]);
    expect(selection.runnables.length).toBeGreaterThan(0);
  });
});
