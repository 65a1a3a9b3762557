import { describe, expect, it } from "vitest";
import { humanizeDuration } from "../../../runtime/controller/index.js";
import { START, harness, run, start, until } from "./helpers.js";

const RETRY = (strategy: string) => `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: retry}
spec:
  entrypoint: t
  templates:
  - name: t
    retryStrategy: ${strategy}
    container: {image: x, args: ["{{retries}}"]}
`;

describe("retryStrategy", () => {
  it("makes limit+1 attempts named X(k) and fails with `No more retries left`", async () => {
    const h = harness();
    h.exec.script("t", { exitCode: 1 });
    const { wf, n, exec } = await run(RETRY("{limit: 2}"), h);
    const root = n("retry");
    expect(root.type).toBe("Retry");
    expect(root.phase).toBe("Failed");
    expect(root.message).toBe("No more retries left");
    const attempts = [0, 1, 2].map((k) => n(`retry(${k})`));
    expect(root.children).toEqual(attempts.map((a) => a.id));
    expect(attempts[1]?.nodeFlag).toEqual({ retried: true });
    expect(attempts[1]?.displayName).toBe("retry(1)");
    expect(attempts.every((a) => a.type === "Pod" && a.phase === "Failed")).toBe(true);
    expect(exec.requests.map((r) => r.template.container?.args?.[0])).toEqual(["0", "1", "2"]);
    expect(wf.status?.phase).toBe("Failed");
    expect(wf.status?.message).toBe("No more retries left");
    expect(wf.status?.progress).toBe("0/3");
  });

  it("stops retrying after a success and copies its outputs", async () => {
    const h = harness();
    h.exec.script("t", (_r, call) => ({ exitCode: call < 1 ? 1 : 0, stdout: "ok" }));
    const { wf, n } = await run(RETRY("{limit: 5}"), h);
    expect(wf.status?.phase).toBe("Succeeded");
    expect(n("retry").phase).toBe("Succeeded");
    expect(n("retry").outputs?.exitCode).toBe("0");
    expect(n.has("retry(2)")).toBe(false);
  });

  it("OnError does not retry a Failed attempt", async () => {
    const h = harness();
    h.exec.script("t", { exitCode: 1 });
    const { n } = await run(RETRY("{limit: 3, retryPolicy: OnError}"), h);
    expect(n("retry").phase).toBe("Failed");
    expect(n("retry").message).toBe("main: Error (exit code 1)");
    expect(n.has("retry(1)")).toBe(false);
  });

  it("waits the backoff on the clock between attempts", async () => {
    const h = harness({ auto: false });
    h.exec.script("t", { exitCode: 1 });
    const wf = start(RETRY("{limit: 2, backoff: {duration: '10s', factor: 2}}"), h);
    await until(() => h.exec.requests.length === 1);
    h.clock.advance(0);
    await until(() => wf.snapshot().status?.nodes?.retry?.message === "Backoff for 10 seconds");
    h.clock.advance(9_999);
    await until(() => true, 20);
    expect(h.exec.requests).toHaveLength(1);
    h.clock.advance(1);
    await until(() => h.exec.requests.length === 2);
    h.clock.advance(0);
    await until(() => wf.snapshot().status?.nodes?.retry?.message === "Backoff for 20 seconds");
    h.clock.advance(20_000);
    await until(() => h.exec.requests.length === 3);
    h.clock.advance(0);
    const final = await wf.done;
    expect(final.status?.phase).toBe("Failed");
    expect(final.status?.finishedAt).toBe("2024-01-01T00:00:30Z");
  });

  it("fails with `retryStrategy.expression evaluated to false`", async () => {
    const h = harness();
    h.exec.script("t", { exitCode: 2 });
    const { n } = await run(RETRY(`{limit: 3, expression: "lastRetry.exitCode == '1'"}`), h);
    expect(n("retry").message).toBe("retryStrategy.expression evaluated to false");
    expect(n.has("retry(1)")).toBe(false);
  });

  it("applies the workflow-level retryStrategy to steps nodes too", async () => {
    const h = harness();
    h.exec.script("t", { exitCode: 1 });
    const { n } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wr}
spec:
  entrypoint: main
  retryStrategy: {limit: 1}
  templates:
  - name: main
    steps:
    - - {name: a, template: t}
  - name: t
    container: {image: x}
`,
      h,
    );
    expect(n("wr").type).toBe("Retry");
    expect(n("wr(0)").type).toBe("Steps");
    expect(n("wr(0)[0].a").type).toBe("Retry");
    expect(n("wr(0)[0].a(1)").phase).toBe("Failed");
    expect(n("wr(1)[0].a(1)").phase).toBe("Failed");
    expect(n("wr(0)[0].a(0)").boundaryID).toBe(n("wr(0)").id);
  });
});

describe("humanizeDuration", () => {
  it("formats like Argo's util/humanize", () => {
    expect(humanizeDuration(1000)).toBe("1 second");
    expect(humanizeDuration(59_000)).toBe("59 seconds");
    expect(humanizeDuration(90_000)).toBe("1 minute 30 seconds");
    expect(humanizeDuration(3600_000)).toBe("1 hour 0 minutes");
    expect(humanizeDuration(5400_000)).toBe("1 hour 30 minutes");
    expect(humanizeDuration(24 * 3600_000)).toBe("1 day 0 hours");
  });
});

describe("deadlines and timeouts", () => {
  it("workflow activeDeadlineSeconds fails running steps with `Step exceeded its deadline`", async () => {
    const h = harness();
    h.exec.script("slow", { duration: 60_000 });
    const { wf, n, exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: dl}
spec:
  entrypoint: main
  activeDeadlineSeconds: 10
  onExit: exit
  templates:
  - name: main
    steps:
    - - {name: slow, template: t}
    - - {name: never, template: t}
  - name: t
    container: {image: x}
  - name: exit
    container: {image: x}
`,
      h,
    );
    expect(n("dl[0].slow").phase).toBe("Failed");
    expect(n("dl[0].slow").message).toBe("Step exceeded its deadline");
    expect(n("dl[0].slow").finishedAt).toBe("2024-01-01T00:00:10Z");
    expect(n.has("dl[1]")).toBe(false);
    expect(n("dl.onExit").phase).toBe("Succeeded");
    expect(exec.kills).toEqual([{ nodeName: "dl[0].slow", reason: "Step exceeded its deadline" }]);
    expect(wf.status?.phase).toBe("Failed");
  });

  it("template activeDeadlineSeconds kills the pod with the kubelet message", async () => {
    const h = harness();
    h.exec.script("t", { duration: 60_000 });
    const { n } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: tdl}
spec:
  entrypoint: t
  templates:
  - name: t
    activeDeadlineSeconds: 5
    container: {image: x}
`,
      h,
    );
    expect(n("tdl").phase).toBe("Failed");
    expect(n("tdl").message).toBe("Pod was active on the node longer than the specified deadline");
    expect(n("tdl").finishedAt).toBe(new Date(START + 5000).toISOString().replace(".000", ""));
  });

  it("passes the deadline to the executor", async () => {
    const h = harness();
    const { exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: tmo}
spec:
  entrypoint: t
  templates:
  - name: t
    timeout: 30s
    container: {image: x}
`,
      h,
    );
    expect(exec.requests[0]?.deadline).toBe(START + 30_000);
  });
});

describe("stop and terminate", () => {
  const YAML = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: st}
spec:
  entrypoint: main
  onExit: exit
  templates:
  - name: main
    steps:
    - - {name: A, template: slow}
    - - {name: B, template: slow}
  - name: slow
    container: {image: x}
  - name: exit
    container: {image: x}
`;

  it("Stop fails running steps, runs the exit handler, and ends Failed", async () => {
    const h = harness({ auto: false });
    h.exec.script("A", { duration: 100_000 });
    const wf = start(YAML, h);
    await until(() => h.exec.requests.length === 1);
    wf.stop("Stop");
    await until(() => h.exec.requests.length === 2);
    h.clock.advance(0);
    const final = await wf.done;
    const nodes = Object.values(final.status?.nodes ?? {});
    const a = nodes.find((x) => x.name === "st[0].A");
    expect(a?.phase).toBe("Failed");
    expect(a?.message).toBe("workflow shutdown with strategy:  Stop");
    expect(nodes.some((x) => x.name === "st[1]")).toBe(false);
    expect(nodes.find((x) => x.name === "st.onExit")?.phase).toBe("Succeeded");
    expect(final.status?.phase).toBe("Failed");
    expect(final.status?.message).toBe("Stopped with strategy 'Stop'");
  });

  it("Terminate does not run the exit handler", async () => {
    const h = harness({ auto: false });
    h.exec.script("A", { duration: 100_000 });
    const wf = start(YAML, h);
    await until(() => h.exec.requests.length === 1);
    wf.stop("Terminate");
    const final = await wf.done;
    const nodes = Object.values(final.status?.nodes ?? {});
    expect(nodes.some((x) => x.name === "st.onExit")).toBe(false);
    expect(final.status?.message).toBe("Stopped with strategy 'Terminate'");
    expect(h.exec.requests).toHaveLength(1);
  });
});

describe("OnTransientError", () => {
  it("retries only attempts whose message looks transient", async () => {
    const h = harness();
    h.exec.script("t", (_r, call) =>
      call === 0 ? { phase: "Error", message: "dial tcp: connection refused", exitCode: 1 } : { exitCode: 1 },
    );
    const { n } = await run(RETRY("{limit: 5, retryPolicy: OnTransientError}"), h);
    expect(n.has("retry(1)")).toBe(true);
    expect(n.has("retry(2)")).toBe(false);
    expect(n("retry").message).toBe("main: Error (exit code 1)");
  });
});
